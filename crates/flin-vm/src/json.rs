//! JSON (language.md §14): parsing keeps key order and tells ints from numbers; `to_json`
//! writes records in declaration order and maps in insertion order; a json value
//! converts to a concrete type where one is expected, or fails naming the path.

use std::rc::Rc;

use crate::display::display;
use crate::error::RuntimeError;
use crate::opcode::TypeTest;
use crate::value::{Key, Value};

pub fn parse(text: &str) -> Result<Value, RuntimeError> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|json| Value::Json(Rc::new(json)))
        .map_err(|err| RuntimeError::new("parse", format!("invalid JSON: {err}")))
}

/// A FLIN value as JSON.
pub fn to_json_value(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::None | Value::Absent | Value::Iter(_) | Value::Query(_) => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Number(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
        Value::Text(t) => J::String(t.as_str().to_string()),
        Value::Money(m) => {
            let mut amount = String::new();
            crate::display::write_money(&mut amount, *m, false);
            let amount = amount
                .rsplit_once(' ')
                .map_or(amount.clone(), |(a, _)| a.to_string());
            serde_json::json!({ "amount": amount, "currency": m.code() })
        }
        Value::Duration(_) | Value::Time(_) | Value::Func(_) => J::String(display(value)),
        Value::List(items) => J::Array(items.borrow().iter().map(to_json_value).collect()),
        Value::Tuple(items) => J::Array(items.iter().map(to_json_value).collect()),
        Value::Map(entries) => {
            let mut object = serde_json::Map::new();
            for (Key(key), value) in entries.borrow().iter() {
                let key = match key {
                    Value::Text(t) => t.as_str().to_string(),
                    other => display(other),
                };
                object.insert(key, to_json_value(value));
            }
            J::Object(object)
        }
        Value::Entity(entity) => crate::entity::to_json(entity),
        Value::Record(_) if crate::file::parts(value).is_some() => {
            crate::file::to_json(value).unwrap_or(J::Null)
        }
        Value::Record(record) => {
            let mut object = serde_json::Map::new();
            for (name, value) in record.shape.iter().zip(record.values.borrow().iter()) {
                object.insert(name.as_str().to_string(), to_json_value(value));
            }
            J::Object(object)
        }
        Value::Enum(e) if e.enum_name.as_str() == "Result" => {
            let mut object = serde_json::Map::new();
            object.insert(
                e.variant.as_str().to_lowercase(),
                e.payload.first().map_or(J::Null, to_json_value),
            );
            J::Object(object)
        }
        Value::Enum(e) if e.payload.is_empty() => J::String(e.variant.as_str().to_string()),
        Value::Enum(e) => {
            serde_json::json!({ "variant": e.variant.as_str(), "values": e.payload.iter().map(to_json_value).collect::<Vec<_>>() })
        }
        Value::Json(json) => json.as_ref().clone(),
        Value::Error(error) => serde_json::json!({ "error": error.message, "kind": error.kind }),
        Value::Cell(cell) => to_json_value(&cell.borrow()),
    }
}

/// `to_json(v)` and `to_json(v, pretty: true)` (two-space indent, `": "`).
pub fn to_json(value: &Value, pretty: bool) -> String {
    let json = to_json_value(value);
    if pretty {
        serde_json::to_string_pretty(&json).unwrap_or_default()
    } else {
        json.to_string()
    }
}

/// Converts a json value to the type `target` (where a concrete type is expected).
pub fn convert(value: &Value, target: &TypeTest, path: &str) -> Result<Value, RuntimeError> {
    let json = match value {
        Value::Json(json) => json.clone(),
        Value::Cell(cell) => return convert(&cell.borrow(), target, path),
        other => return Ok(other.clone()),
    };
    let mismatch = |expected: &str| {
        let got = match json.as_ref() {
            serde_json::Value::Null => "none",
            serde_json::Value::Bool(_) => "bool",
            serde_json::Value::Number(n) if n.is_i64() => "int",
            serde_json::Value::Number(_) => "number",
            serde_json::Value::String(_) => "text",
            serde_json::Value::Array(_) => "list",
            serde_json::Value::Object(_) => "object",
        };
        RuntimeError::type_error(format!("{path}: expected {expected}, got {got}"))
    };
    use serde_json::Value as J;
    Ok(match (target, json.as_ref()) {
        (TypeTest::Json | TypeTest::Any, _) => value.clone(),
        (TypeTest::Optional(_), J::Null) => Value::None,
        (TypeTest::Optional(inner), _) => convert(value, inner, path)?,
        (TypeTest::Int, J::Number(n)) => Value::Int(n.as_i64().ok_or_else(|| mismatch("int"))?),
        (TypeTest::Number, J::Number(n)) => {
            Value::Number(n.as_f64().ok_or_else(|| mismatch("number"))?)
        }
        (TypeTest::Text, J::String(s)) => Value::text(s.as_str()),
        (TypeTest::Bool, J::Bool(b)) => Value::Bool(*b),
        (TypeTest::None, J::Null) => Value::None,
        (TypeTest::List(item), J::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (idx, child) in items.iter().enumerate() {
                out.push(convert(
                    &Value::Json(Rc::new(child.clone())),
                    item,
                    &format!("{path}[{idx}]"),
                )?);
            }
            Value::list(out)
        }
        (TypeTest::Map(item), J::Object(fields)) => {
            let mut out = crate::value::Entries::default();
            for (key, child) in fields {
                out.insert(
                    Key(Value::text(key.as_str())),
                    convert(
                        &Value::Json(Rc::new(child.clone())),
                        item,
                        &format!("{path}.{key}"),
                    )?,
                );
            }
            Value::map(out)
        }
        (TypeTest::Record(fields), J::Object(object)) => {
            let mut values = Vec::with_capacity(fields.len());
            for (name, ty) in fields {
                let child = object.get(name.as_str()).cloned().unwrap_or(J::Null);
                values.push(convert(
                    &Value::Json(Rc::new(child)),
                    ty,
                    &format!("{path}.{name}"),
                )?);
            }
            Value::record(
                fields.iter().map(|(n, _)| *n).collect::<Vec<_>>().into(),
                values,
            )
        }
        (TypeTest::Time, J::String(s)) => {
            crate::builtins::time::parse_time(s).ok_or_else(|| mismatch("time"))?
        }
        (TypeTest::Int, _) => return Err(mismatch("int")),
        (TypeTest::Number, _) => return Err(mismatch("number")),
        (TypeTest::Text, _) => return Err(mismatch("text")),
        (TypeTest::Bool, _) => return Err(mismatch("bool")),
        (TypeTest::Time, _) => return Err(mismatch("time")),
        (TypeTest::List(_), _) => return Err(mismatch("a list")),
        (TypeTest::Map(_) | TypeTest::Record(_), _) => return Err(mismatch("an object")),
        (TypeTest::None, _) => return Err(mismatch("none")),
        (TypeTest::Duration | TypeTest::Money | TypeTest::Enum(_), _) => {
            return Err(mismatch("a value of that type"));
        }
        (TypeTest::File, _) => return Err(mismatch("a file")),
    })
}

/// `value is T`.
pub fn is_type(value: &Value, test: &TypeTest) -> bool {
    use serde_json::Value as J;
    match (test, value) {
        (TypeTest::Any, _) => true,
        (TypeTest::Optional(inner), v) => v.is_none() || is_type(v, inner),
        (_, Value::Cell(cell)) => is_type(&cell.borrow(), test),
        (TypeTest::Json, Value::Json(_)) => true,
        (TypeTest::Int, Value::Json(j)) => matches!(j.as_ref(), J::Number(n) if n.is_i64()),
        (TypeTest::Number, Value::Json(j)) => matches!(j.as_ref(), J::Number(_)),
        (TypeTest::Text, Value::Json(j)) => matches!(j.as_ref(), J::String(_)),
        (TypeTest::Bool, Value::Json(j)) => matches!(j.as_ref(), J::Bool(_)),
        (TypeTest::None, v) => v.is_none(),
        (TypeTest::List(_), Value::Json(j)) => matches!(j.as_ref(), J::Array(_)),
        (TypeTest::Map(_) | TypeTest::Record(_), Value::Json(j)) => {
            matches!(j.as_ref(), J::Object(_))
        }
        (TypeTest::Int, Value::Int(_)) => true,
        (TypeTest::Number, Value::Number(_) | Value::Int(_)) => true,
        (TypeTest::Text, Value::Text(_)) => true,
        (TypeTest::Bool, Value::Bool(_)) => true,
        (TypeTest::Time, Value::Time(_)) => true,
        (TypeTest::Duration, Value::Duration(_)) => true,
        (TypeTest::Money, Value::Money(_)) => true,
        (TypeTest::List(_), Value::List(_)) => true,
        (TypeTest::Map(_), Value::Map(_)) => true,
        (TypeTest::File, value) => crate::file::parts(value).is_some(),
        (TypeTest::Record(_), Value::Record(_)) => true,
        (TypeTest::Enum(name), Value::Enum(e)) => e.enum_name == *name || e.variant == *name,
        // `x is Note`: an entity value of that type.
        (TypeTest::Enum(name), Value::Entity(e)) => e.ty.name == *name,
        _ => false,
    }
}
