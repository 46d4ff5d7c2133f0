//! Sessions (web.md §7): a map and the logged-in user, kept in one cookie that is
//! encrypted and authenticated (AES-256-GCM, the `cookie` crate's private jar), so a
//! client can neither read nor change it. The key comes from `FLIN_SECRET_KEY` or is
//! generated once into `.flindb/secret`.

use std::path::Path;

use cookie::{Cookie, CookieJar, Key, SameSite};
use serde_json::Value as J;

pub const COOKIE: &str = "flin_session";

/// The key sessions are sealed with.
pub fn key(root: &Path, memory: bool) -> Result<Key, String> {
    if let Ok(secret) = std::env::var("FLIN_SECRET_KEY") {
        if secret.len() < 32 {
            return Err("FLIN_SECRET_KEY must be at least 32 characters".into());
        }
        return Ok(Key::derive_from(secret.as_bytes()));
    }
    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for the session key: {e}"))?;
    if memory {
        return Ok(Key::derive_from(&bytes));
    }
    let path = root.join(".flindb").join("secret");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if text.trim().len() >= 64 {
            return Ok(Key::derive_from(text.trim().as_bytes()));
        }
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            }
        }
    }
    write_private(&path, &hex).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(Key::derive_from(hex.as_bytes()))
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// A session as the request brought it: `{"user": ["User", 3] | null, "data": {…}}`.
pub fn open(key: &Key, cookies: &[(String, String)]) -> J {
    let mut jar = CookieJar::new();
    for (name, value) in cookies {
        if name == COOKIE {
            jar.add_original(Cookie::new(name.clone(), value.clone()));
        }
    }
    jar.private(key)
        .get(COOKIE)
        .and_then(|c| serde_json::from_str(c.value()).ok())
        .unwrap_or_else(empty)
}

/// The logged-in user of a session: entity name and id.
pub fn user_of(session: &J) -> Option<(String, i64)> {
    let user = session.get("user")?;
    Some((user.get(0)?.as_str()?.to_string(), user.get(1)?.as_i64()?))
}

pub fn empty() -> J {
    serde_json::json!({ "user": null, "data": {} })
}

/// The `Set-Cookie` value that stores `session` (or clears it when empty).
pub fn seal(key: &Key, session: &J, secure: bool) -> String {
    let mut jar = CookieJar::new();
    let is_empty = session.get("user").is_none_or(J::is_null)
        && session
            .get("data")
            .and_then(J::as_object)
            .is_none_or(serde_json::Map::is_empty);
    let mut cookie = Cookie::new(
        COOKIE,
        if is_empty {
            String::new()
        } else {
            session.to_string()
        },
    );
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie.set_secure(secure);
    if is_empty {
        cookie.make_removal();
        return cookie.to_string();
    }
    jar.private_mut(key).add(cookie);
    jar.get(COOKIE).map(|c| c.to_string()).unwrap_or_default()
}
