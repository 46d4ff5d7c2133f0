//! JSON at the edge of the web (web.md §5): the request body as a value (JSON, or an
//! urlencoded form as an object of texts), and a route's result as a response: the JSON
//! of values and entities (fields but `@hidden`, references as `{ "id": n }`, times as
//! RFC 3339, money as `{ "amount": "12.50", "currency": "EUR" }`), `none` as 204, and
//! `response { status, body, headers }`.

use std::rc::Rc;

use flin_vm::Value;
use serde_json::Value as J;

use crate::unit::{RequestData, ResponseData};

/// `body` in a route: decoded by content type.
pub fn request_body(request: &RequestData) -> Value {
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
                Some(body) => ResponseData::json(status, &to_json(&body)),
            };
            if let Some(headers) = field("headers") {
                if let J::Object(map) = to_json(&headers) {
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
        other => ResponseData::json(200, &to_json(other)),
    }
}

/// The JSON of a value as the web shows it.
pub fn to_json(value: &Value) -> J {
    match value {
        Value::Entity(entity) => {
            let meta = entity.meta.get();
            let mut object = serde_json::Map::new();
            object.insert("id".into(), meta.id.map_or(J::Null, J::from));
            let values = entity.values.borrow();
            let expanded = entity.expanded.get();
            for (index, (field, value)) in
                entity.ty.def.fields.iter().zip(values.iter()).enumerate()
            {
                if field.hidden {
                    continue;
                }
                let json = match (value, field.ty.target()) {
                    // `.with(author)` on the query: the referenced entity in full.
                    (Value::Entity(_), _) if index < 64 && expanded & (1 << index) != 0 => {
                        to_json(value)
                    }
                    (Value::Entity(other), _) => reference(other.id()),
                    (Value::Int(id), Some(_)) => reference(Some(*id)),
                    (other, _) => to_json(other),
                };
                object.insert(field.name.clone(), json);
            }
            object.insert("version".into(), J::from(meta.version));
            object.insert("created_at".into(), to_json(&Value::Time(meta.created_at)));
            object.insert("updated_at".into(), to_json(&Value::Time(meta.updated_at)));
            J::Object(object)
        }
        Value::Money(money) => {
            let shown = flin_vm::display::display(value);
            let amount = shown.split(' ').next().unwrap_or("0").to_string();
            serde_json::json!({ "amount": amount, "currency": money.code() })
        }
        Value::List(items) => J::Array(items.borrow().iter().map(to_json).collect()),
        Value::Record(record) => {
            let mut object = serde_json::Map::new();
            for (name, value) in record.shape.iter().zip(record.values.borrow().iter()) {
                object.insert(name.as_str().to_string(), to_json(value));
            }
            J::Object(object)
        }
        Value::Map(entries) => {
            let mut object = serde_json::Map::new();
            for (key, value) in entries.borrow().iter() {
                let key = match &key.0 {
                    Value::Text(t) => t.as_str().to_string(),
                    other => flin_vm::display::display(other),
                };
                object.insert(key, to_json(value));
            }
            J::Object(object)
        }
        Value::Query(_) => J::Null,
        Value::Cell(cell) => to_json(&cell.borrow()),
        other => flin_vm::json::to_json_value(other),
    }
}

fn reference(id: Option<i64>) -> J {
    serde_json::json!({ "id": id })
}
