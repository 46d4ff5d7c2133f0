//! JSON at the edge of the web (web.md §5): the request body as a value (JSON, or an
//! urlencoded form as an object of texts), and a route's result as a response: the
//! language's JSON of the value (`flin_vm::json`: entities, money, times as web.md asks),
//! `none` as 204, and `response { status, body, headers }`.

use std::rc::Rc;

use flin_vm::Value;
use flin_vm::json::to_json_value;
use serde_json::Value as J;

use crate::unit::{RequestData, ResponseData};

/// `body` in a route: decoded by content type.
pub fn request_body(request: &RequestData) -> Value {
    if let Some(uploads) = &request.uploads {
        return uploads.body();
    }
    if request.body.is_empty() {
        return Value::None;
    }
    let content_type = request
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let text = String::from_utf8_lossy(&request.body);
        let mut object = serde_json::Map::new();
        for (key, value) in form_pairs(&text) {
            object.insert(key, J::String(value));
        }
        return Value::Json(Rc::new(J::Object(object)));
    }
    match serde_json::from_slice::<J>(&request.body) {
        Ok(json) => Value::Json(Rc::new(json)),
        Err(_) => Value::text(String::from_utf8_lossy(&request.body).into_owned()),
    }
}

/// `a=1&b=two+words` as decoded pairs.
pub fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                crate::routes::decode(&k.replace('+', " ")),
                crate::routes::decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// The response a route's last value makes.
pub fn response_of(value: &Value) -> ResponseData {
    if let Value::Record(record) = value {
        if record
            .shape
            .first()
            .is_some_and(|f| f.as_str() == "$response")
        {
            let field = |name: &str| {
                record
                    .shape
                    .iter()
                    .position(|f| f.as_str() == name)
                    .and_then(|i| record.values.borrow().get(i).cloned())
            };
            let status = match field("status") {
                Some(Value::Int(s)) => u16::try_from(s).ok().filter(|s| (100..600).contains(s)),
                _ => None,
            }
            .unwrap_or(200);
            let mut response = match field("body") {
                None | Some(Value::None) => ResponseData {
                    status,
                    headers: Vec::new(),
                    body: Vec::new(),
                },
                Some(Value::Text(text)) => ResponseData {
                    status,
                    headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
                    body: text.as_str().as_bytes().to_vec(),
                },
                Some(body) => ResponseData::json(status, &to_json_value(&body)),
            };
            if let Some(headers) = field("headers") {
                if let J::Object(map) = to_json_value(&headers) {
                    for (k, v) in map {
                        let v = match v {
                            J::String(s) => s,
                            other => other.to_string(),
                        };
                        response.headers.push((k.to_ascii_lowercase(), v));
                    }
                }
            }
            return response;
        }
    }
    match value {
        Value::None => ResponseData {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        },
        other => ResponseData::json(200, &to_json_value(other)),
    }
}
