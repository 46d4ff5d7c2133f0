//! Static files from `public/` (web.md §8): served at `/` when no page or route claims
//! the path, with `Cache-Control`, an ETag from size and modification time (304 for a
//! client that has it), ranges and precompressed `.gz` files (tower-http's `ServeDir`,
//! which also refuses paths that leave the folder).

use std::path::Path;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;

/// The file for `request`, or `None` when `public/` has none.
pub async fn serve(public: Option<&Path>, request: Request<Body>) -> Option<Response> {
    if let Some(public) = public {
        if matches!(*request.method(), Method::GET | Method::HEAD) {
            use tower::ServiceExt;
            let if_none_match = request.headers().get("if-none-match").cloned();
            let service = ServeDir::new(public).precompressed_gzip();
            let Ok(response) = service.oneshot(request).await;
            if response.status() != StatusCode::NOT_FOUND {
                let mut response = response.map(Body::new);
                // An ETag from the file's size and modification time: a client that has
                // it gets 304 and no body.
                let tag = |name: &str| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                if let (Some(modified), Some(length)) =
                    (tag("last-modified"), tag("content-length"))
                {
                    use std::hash::{Hash, Hasher};
                    let mut hasher = std::collections::hash_map::DefaultHasher::new();
                    modified.hash(&mut hasher);
                    let etag = format!("\"{:x}-{length}\"", hasher.finish());
                    if if_none_match.as_ref().and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
                        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
                        if let Ok(value) = HeaderValue::from_str(&etag) {
                            not_modified.headers_mut().insert("etag", value);
                        }
                        return Some(not_modified);
                    }
                    if let Ok(value) = HeaderValue::from_str(&etag) {
                        response.headers_mut().insert("etag", value);
                    }
                }
                response.headers_mut().insert(
                    "cache-control",
                    HeaderValue::from_static("public, max-age=3600"),
                );
                return Some(response);
            }
        }
    }
    None
}
