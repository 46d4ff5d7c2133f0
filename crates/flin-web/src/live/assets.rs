//! The client runtime, `client.js`, built into the binary and served at
//! `/_flin/live.js` by the async side (never a VM worker). Pages name it with its
//! content hash (`?v=…`), so browsers may keep it for good.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

use crate::unit::ResponseData;

pub const CLIENT_JS: &str = include_str!("client.js");

/// The first 16 hex digits of the script's SHA-256.
static HASH: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(CLIENT_JS.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
});

/// Where pages load the runtime from.
pub fn script_url() -> String {
    format!("/_flin/live.js?v={}", *HASH)
}

/// `GET /_flin/live.js[?v=hash]`.
pub fn script(query: Option<&str>, if_none_match: Option<&str>) -> ResponseData {
    let etag = format!("\"{}\"", *HASH);
    let current = query.is_some_and(|q| q.split('&').any(|p| p == format!("v={}", *HASH)));
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut headers = vec![
        (
            "content-type".to_string(),
            "text/javascript; charset=utf-8".to_string(),
        ),
        ("etag".to_string(), etag.clone()),
        ("cache-control".to_string(), cache.to_string()),
    ];
    if if_none_match == Some(etag.as_str()) {
        headers.retain(|(k, _)| k != "content-type");
        return ResponseData {
            status: 304,
            headers,
            body: Vec::new(),
        };
    }
    ResponseData {
        status: 200,
        headers,
        body: CLIENT_JS.as_bytes().to_vec(),
    }
}
