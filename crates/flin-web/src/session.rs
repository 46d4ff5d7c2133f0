//! Sessions (web.md §7 precise rules): they live on the server. The browser's cookie
//! holds only a random id (256 bits, encrypted and authenticated with the app's key,
//! AES-256-GCM by the `cookie` crate's private jar); the session's data — the
//! logged-in user and the `session` map — is a row of FLIN's own table in the app's
//! database, keyed by a digest of the id. So `logout()` ends a session everywhere,
//! `login()` issues a new id, sessions expire after `session.idle` without a request
//! and `session.max_age` after they began, and expired rows are swept.
//!
//! The key comes from `FLIN_SECRET_KEY` or is generated once into `.flindb/secret`.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use cookie::{Cookie, CookieJar, Key, SameSite};
use flin_runtime::{Durability, Location, Store};
use flin_store::SessionRow;
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

/// `[session]` of flin.toml.
#[derive(Clone, Debug)]
pub struct SessionSettings {
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// … and this long after it began, whatever happens.
    pub max_age: Duration,
    /// `session.secure = true`: the cookie is always `Secure` (else only over HTTPS).
    pub always_secure: bool,
}

impl Default for SessionSettings {
    fn default() -> SessionSettings {
        SessionSettings {
            idle: Duration::from_secs(7 * 24 * 3600),
            max_age: Duration::from_secs(30 * 24 * 3600),
            always_secure: false,
        }
    }
}

/// The database sessions are kept in: the app's, or, for an app without entities, one
/// opened at the same place the first time a session is stored or read.
pub enum SessionStore {
    App(Arc<Store>),
    Own(Location, OnceLock<Option<Arc<Store>>>),
}

impl SessionStore {
    fn get(&self) -> Option<&Arc<Store>> {
        match self {
            SessionStore::App(store) => Some(store),
            SessionStore::Own(location, opened) => opened
                .get_or_init(
                    || match Store::open(location.clone(), &[], Durability::Full) {
                        Ok(store) => Some(Arc::new(store)),
                        Err(err) => {
                            crate::logs::line(
                                false,
                                "error",
                                &format!("sessions cannot be kept: {err}"),
                                None,
                            );
                            None
                        }
                    },
                )
                .as_ref(),
        }
    }
}

impl SessionStore {
    /// The app's database for FLIN's own tables (sessions, job runs): the entities'
    /// database, or one of its own for an app without entities.
    pub fn database(&self) -> Option<&Arc<Store>> {
        self.get()
    }

    /// The database if it is open already (a sweep need not open one).
    fn opened(&self) -> Option<&Arc<Store>> {
        match self {
            SessionStore::App(store) => Some(store),
            SessionStore::Own(_, opened) => opened.get().and_then(Option::as_ref),
        }
    }
}

/// Every session of an app.
pub struct Sessions {
    key: Key,
    store: Arc<SessionStore>,
    pub settings: SessionSettings,
}

/// A request's session: what it began with, and where it is kept.
#[derive(Clone, Debug)]
pub struct Session {
    /// The id in the browser's cookie, when it names a session that is alive.
    id: Option<String>,
    /// The request brought a session cookie (one naming no live session is cleared).
    had_cookie: bool,
    /// `{"user": ["User", 3] | null, "data": {…}}`.
    pub data: J,
    created: i64,
    seen: i64,
}

impl Session {
    /// What names the session to the signer of form tokens (a digest of its id; empty
    /// for none), so a form token works for its own session only.
    pub fn binding(&self) -> String {
        self.id.as_deref().map(digest).unwrap_or_default()
    }

    /// No session (a request without a cookie).
    pub fn anonymous() -> Session {
        Session {
            id: None,
            had_cookie: false,
            data: empty(),
            created: 0,
            seen: 0,
        }
    }
}

impl Sessions {
    pub fn new(key: Key, store: Arc<SessionStore>, settings: SessionSettings) -> Sessions {
        Sessions {
            key,
            store,
            settings,
        }
    }

    /// The session a request's cookies name (anonymous when none is alive).
    pub fn open(&self, cookies: &[(String, String)]) -> Session {
        let mut jar = CookieJar::new();
        let mut had_cookie = false;
        for (name, value) in cookies {
            if name == COOKIE {
                had_cookie = true;
                jar.add_original(Cookie::new(name.clone(), value.clone()));
            }
        }
        let anonymous = Session {
            had_cookie,
            ..Session::anonymous()
        };
        let Some(id) = jar
            .private(&self.key)
            .get(COOKIE)
            .map(|c| c.value().to_string())
        else {
            return anonymous;
        };
        let Some(store) = self.store.get() else {
            return anonymous;
        };
        let row = match store.session(&digest(&id)) {
            Ok(Some(row)) => row,
            Ok(None) => return anonymous,
            Err(err) => {
                crate::logs::line(
                    false,
                    "error",
                    &format!("a session could not be read: {err}"),
                    None,
                );
                return anonymous;
            }
        };
        let now = now();
        if self.expired(&row, now) {
            return anonymous;
        }
        Session {
            id: Some(id),
            had_cookie,
            data: serde_json::from_str(&row.data).unwrap_or_else(|_| empty()),
            created: row.created,
            seen: row.seen,
        }
    }

    /// Reads `session` again (a live view between events): a logout elsewhere, or
    /// expiry, leaves it anonymous.
    pub fn refresh(&self, session: &mut Session) {
        let Some(id) = &session.id else {
            return;
        };
        let row = self
            .store
            .get()
            .and_then(|store| store.session(&digest(id)).ok().flatten());
        match row {
            Some(row) if !self.expired(&row, now()) => {
                session.data = serde_json::from_str(&row.data).unwrap_or_else(|_| empty());
                session.created = row.created;
                session.seen = row.seen;
            }
            _ => {
                *session = Session {
                    had_cookie: true,
                    ..Session::anonymous()
                }
            }
        }
    }

    fn expired(&self, row: &SessionRow, now: i64) -> bool {
        now - row.seen > secs(self.settings.idle) || now - row.created > secs(self.settings.max_age)
    }

    /// Stores what the request made of its session (`out`), and says what the browser's
    /// cookie becomes (`None`: it stays). `session` becomes the session as it is now.
    /// A login begins a new session under a new id (no fixation); a logout, or a
    /// session left empty, ends it.
    pub fn close(&self, session: &mut Session, out: &J, secure: bool) -> Option<String> {
        let now = now();
        let user_before = user_of(&session.data);
        let user_after = user_of(out);
        let logged_in = user_after.is_some() && user_after != user_before;
        if *out == session.data && !logged_in {
            // Unchanged: note the use now and then (not on every request: a session
            // row written per page view would serialize the app on its writer).
            if let (Some(id), Some(store)) = (&session.id, self.store.get()) {
                if now - session.seen >= self.touch_every() {
                    if let Err(err) = store.touch_session(&digest(id), now) {
                        log_failure(&err);
                    }
                    session.seen = now;
                }
                return None;
            }
            // A cookie naming no live session is cleared.
            if session.had_cookie && session.id.is_none() {
                session.had_cookie = false;
                return Some(self.removal(secure));
            }
            return None;
        }
        let store = self.store.get()?;
        // A new user, or no one: the old session ends (its cookie copies with it).
        if logged_in || (user_before.is_some() && user_after.is_none()) || is_empty(out) {
            if let Some(id) = session.id.take() {
                if let Err(err) = store.end_session(&digest(&id)) {
                    log_failure(&err);
                }
            }
        }
        if is_empty(out) {
            session.data = empty();
            let had = std::mem::replace(&mut session.had_cookie, false);
            return had.then(|| self.removal(secure));
        }
        let fresh = session.id.is_none();
        let id = match &session.id {
            Some(id) => id.clone(),
            None => match new_id() {
                Some(id) => id,
                None => {
                    crate::logs::line(false, "error", "no randomness for a session id", None);
                    return None;
                }
            },
        };
        if fresh {
            session.created = now;
        }
        let row = SessionRow {
            data: out.to_string(),
            created: session.created,
            seen: now,
        };
        if let Err(err) = store.put_session(&digest(&id), &row) {
            log_failure(&err);
            return None;
        }
        session.data = out.clone();
        session.seen = now;
        session.had_cookie = true;
        session.id = Some(id.clone());
        fresh.then(|| self.cookie(&id, secure))
    }

    /// Deletes every expired session; returns how many.
    pub fn sweep(&self) -> usize {
        let Some(store) = self.store.opened() else {
            return 0;
        };
        let now = now();
        let idle_before = now - secs(self.settings.idle);
        let begun_before = now - secs(self.settings.max_age);
        store
            .sweep_sessions(idle_before, begun_before)
            .unwrap_or_else(|err| {
                log_failure(&err);
                0
            })
    }

    /// How often a session's last use is written: each minute, or more often when
    /// sessions expire sooner.
    fn touch_every(&self) -> i64 {
        (secs(self.settings.idle) / 4).clamp(0, 60)
    }

    /// How often expired sessions are swept.
    pub fn sweep_every(&self) -> Duration {
        (self.settings.idle / 4).clamp(Duration::from_secs(1), Duration::from_secs(600))
    }

    fn cookie(&self, id: &str, secure: bool) -> String {
        let mut cookie = Cookie::new(COOKIE, id.to_string());
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.set_secure(secure || self.settings.always_secure);
        cookie.set_max_age(cookie::time::Duration::seconds(secs(self.settings.max_age)));
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(cookie);
        jar.get(COOKIE).map(|c| c.to_string()).unwrap_or_default()
    }

    fn removal(&self, secure: bool) -> String {
        let mut cookie = Cookie::new(COOKIE, "");
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.set_secure(secure || self.settings.always_secure);
        cookie.make_removal();
        cookie.to_string()
    }
}

/// The logged-in user of a session: entity name and id.
pub fn user_of(session: &J) -> Option<(String, i64)> {
    let user = session.get("user")?;
    Some((user.get(0)?.as_str()?.to_string(), user.get(1)?.as_i64()?))
}

pub fn empty() -> J {
    serde_json::json!({ "user": null, "data": {} })
}

fn is_empty(session: &J) -> bool {
    session.get("user").is_none_or(J::is_null)
        && session
            .get("data")
            .and_then(J::as_object)
            .is_none_or(serde_json::Map::is_empty)
}

/// A new session id: 256 random bits, in hex.
fn new_id() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What the table keys a session by: a reader of the database cannot act as its users.
fn digest(id: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn log_failure(err: &flin_store::StoreError) {
    crate::logs::line(
        false,
        "error",
        &format!("a session could not be stored: {err}"),
        None,
    );
}

#[cfg(test)]
mod tests {
    // Tests only: an unwrap that fails is the test failing.
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_sweep_deletes_the_sessions_past_idle_or_max_age_only() {
        let store = Arc::new(Store::memory(&[]).unwrap());
        let sessions = Sessions::new(
            Key::derive_from(&[7u8; 64]),
            Arc::new(SessionStore::App(store.clone())),
            SessionSettings {
                idle: Duration::from_secs(3600),
                max_age: Duration::from_secs(86_400),
                always_secure: false,
            },
        );
        let now = now();
        let row = |created: i64, seen: i64| SessionRow {
            data: "{}".into(),
            created,
            seen,
        };
        store
            .put_session("idle", &row(now - 100, now - 7200))
            .unwrap();
        store.put_session("old", &row(now - 90_000, now)).unwrap();
        store.put_session("fresh", &row(now - 10, now)).unwrap();
        assert_eq!(sessions.sweep(), 2);
        assert_eq!(store.session_count().unwrap(), 1);
        assert!(store.session("fresh").unwrap().is_some());
    }
}
