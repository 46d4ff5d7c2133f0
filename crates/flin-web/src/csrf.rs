//! Cross-site request forgery (web.md §7 "Cross-site requests"): a request that
//! changes something (any method but GET, HEAD and OPTIONS) and carries the session
//! cookie is believed only when it comes from this site: an `Origin` of this site, or,
//! without `Origin`, a `Referer` of this site or the signed token that every form FLIN
//! renders carries. Anything else — `Origin: null`, another scheme, another host, no
//! sign at all — is refused with 403. Requests without the session cookie (API clients
//! with tokens or keys) are not concerned: a forged request cannot act as anyone.
//!
//! The scheme is not compared: behind a proxy that terminates HTTPS the server sees
//! plain HTTP while the browser says `https://`; the host, with its port, must match.

use crate::session::Session;
use crate::unit::{RequestData, Site};

/// The hidden form field that carries the token.
pub const FIELD: &str = "_flin_csrf";

/// Why the request is refused, if it is.
pub fn refusal(site: &Site, request: &RequestData, session: &Session) -> Option<String> {
    if matches!(request.method.as_str(), "GET" | "HEAD" | "OPTIONS") {
        return None;
    }
    if !request
        .cookies
        .iter()
        .any(|(name, _)| name == crate::session::COOKIE)
    {
        return None;
    }
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    };
    let host = header("host").unwrap_or("");
    let of_this_site = |url: &str| {
        let lower = url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        rest.is_some_and(|rest| {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && authority == host.to_ascii_lowercase()
        })
    };
    if let Some(origin) = header("origin") {
        if of_this_site(origin) {
            return None;
        }
        return Some(format!(
            "this request came from {origin}, not from this site: it is refused (cross-site requests cannot act for a signed-in user)"
        ));
    }
    if header("referer").is_some_and(of_this_site) {
        return None;
    }
    let token = crate::live::form::fields(request)
        .into_iter()
        .find(|(name, _)| name == FIELD)
        .map(|(_, value)| value);
    if token.is_some_and(|t| site.signer.is_form_token(&session.binding(), &t)) {
        return None;
    }
    Some(
        "this request does not show it came from this site (no Origin, no Referer of this site, no form token): it is refused"
            .to_string(),
    )
}
