//! Signed texts of live pages (web.md §9): the *view token* a page carries (its path,
//! which names its route and params, the logged-in user, the build and an expiry), and
//! the hidden field that names a form's `submit` handler for posts without JavaScript.
//! Both are HMAC-SHA256 (truncated to 128 bits) with a key derived from the app's
//! secret key, so a client can neither make the server run another page nor forge a
//! handler.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A view token lives this long (web.md §9: 10 minutes).
pub const TOKEN_LIFETIME_SECS: u64 = 600;

/// The signing key of live pages, apart from the session cookie's keys.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

/// What a view token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewToken {
    pub path: String,
    /// `["User", 3]` of the session that rendered the page, or null.
    pub user: serde_json::Value,
    /// The build the page was rendered by (`flin dev` bumps it on each rebuild).
    pub build: u64,
    /// Seconds since the Unix epoch.
    pub expires: u64,
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token this server signed.
    Forged,
    Expired,
}

impl Signer {
    pub fn new(secret: &cookie::Key) -> Signer {
        let key = keyed(secret.signing())
            .map(|mut mac| {
                mac.update(b"flin live pages");
                mac.finalize().into_bytes().to_vec()
            })
            .unwrap_or_default();
        Signer { key }
    }

    /// The first 128 bits of HMAC-SHA256 (a forgery needs 2^128 tries; every open page
    /// holds its forms' fields, so they are kept short).
    fn mac(&self, text: &[u8]) -> String {
        match keyed(&self.key) {
            Some(mut mac) => {
                mac.update(text);
                let full = mac.finalize().into_bytes();
                URL_SAFE_NO_PAD.encode(full.get(..16).unwrap_or(&full))
            }
            None => String::new(),
        }
    }

    /// `text.signature`.
    pub fn sign(&self, text: &str) -> String {
        format!("{text}.{}", self.mac(text.as_bytes()))
    }

    /// The text of `signed` when its signature is this server's.
    pub fn verify<'t>(&self, signed: &'t str) -> Option<&'t str> {
        let (text, signature) = signed.rsplit_once('.')?;
        let expected = self.mac(text.as_bytes());
        // Compared in constant time: the signature is a secret until it is right.
        let same = expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        same.then_some(text)
    }

    pub fn view_token(&self, token: &ViewToken) -> String {
        let payload = serde_json::json!({
            "p": token.path,
            "u": token.user,
            "b": token.build,
            "e": token.expires,
        });
        self.sign(&URL_SAFE_NO_PAD.encode(payload.to_string()))
    }

    pub fn read_view_token(&self, signed: &str, now: u64) -> Result<ViewToken, TokenError> {
        let text = self.verify(signed).ok_or(TokenError::Forged)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| TokenError::Forged)?;
        let payload: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|_| TokenError::Forged)?;
        let token = ViewToken {
            path: payload
                .get("p")
                .and_then(|p| p.as_str())
                .ok_or(TokenError::Forged)?
                .to_string(),
            user: payload.get("u").cloned().unwrap_or(serde_json::Value::Null),
            build: payload.get("b").and_then(|b| b.as_u64()).unwrap_or(0),
            expires: payload
                .get("e")
                .and_then(|e| e.as_u64())
                .ok_or(TokenError::Forged)?,
        };
        if token.expires < now {
            return Err(TokenError::Expired);
        }
        Ok(token)
    }

    /// The hidden field of a form whose `submit` handler is `handler`, on the page at
    /// `path`.
    pub fn form_field(&self, path: &str, handler: &str) -> String {
        let signed = self.sign(&format!("{path}\u{1}{handler}"));
        signed
            .strip_prefix(path)
            .and_then(|rest| rest.strip_prefix('\u{1}'))
            .unwrap_or("")
            .to_string()
    }

    /// The token of forms rendered for a session (`binding` names it; empty for no
    /// session): a post without `Origin` or `Referer` is believed with it.
    pub fn form_token(&self, binding: &str) -> String {
        self.mac(format!("csrf\u{1}{binding}").as_bytes())
    }

    /// Whether `token` is the form token of the session `binding` names.
    pub fn is_form_token(&self, binding: &str, token: &str) -> bool {
        let expected = self.form_token(binding);
        expected.len() == token.len()
            && expected
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// The handler a posted hidden field names, when it was made for `path`.
    pub fn read_form_field(&self, path: &str, field: &str) -> Option<String> {
        let signed = format!("{path}\u{1}{field}");
        let text = self.verify(&signed)?;
        text.strip_prefix(path)?
            .strip_prefix('\u{1}')
            .map(str::to_string)
    }
}

/// An HMAC keyed with `key` (HMAC takes keys of any length: `None` never happens).
fn keyed(key: &[u8]) -> Option<Hmac<Sha256>> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).ok()
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::new(&cookie::Key::derive_from(&[7u8; 64]))
    }

    #[test]
    fn a_token_reads_back_and_a_changed_one_does_not() {
        let token = ViewToken {
            path: "/books/3".into(),
            user: serde_json::json!(["User", 1]),
            build: 2,
            expires: 2_000_000_000,
        };
        let signed = signer().view_token(&token);
        assert_eq!(signer().read_view_token(&signed, 1), Ok(token.clone()));
        let mut forged = signed.clone();
        forged.replace_range(0..1, if signed.starts_with('A') { "B" } else { "A" });
        assert_eq!(
            signer().read_view_token(&forged, 1),
            Err(TokenError::Forged)
        );
        assert_eq!(
            signer().read_view_token(&signed, 3_000_000_000),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_form_field_names_its_handler_on_its_page_only() {
        let field = signer().form_field("/notes", "h1");
        assert_eq!(
            signer().read_form_field("/notes", &field),
            Some("h1".into())
        );
        assert_eq!(signer().read_form_field("/other", &field), None);
    }
}
