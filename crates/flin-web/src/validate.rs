//! `validate { field: type @rules… }` (web.md §5): the request body read field by field
//! as the declared types (a form sends texts: `"300"` is the int 300 where an int is
//! declared), checked with the same rules as entity fields, and handed to the route as
//! the record `body`.

use flin_query::{Datum, EntityDef, FieldType};
use flin_vm::Value;
use flin_vm::value::{Entries, Key};
use serde_json::Value as J;

/// The fields of `body` as data to check, as the value the route sees, and the fields
/// whose JSON kind is not their type's (an array where a text is declared): a client's
/// mistake, never coerced.
pub fn body(fields: &EntityDef, body: &Value) -> (Vec<Datum>, Value, Vec<(String, String)>) {
    let object = match body {
        Value::Json(json) => json.as_object().cloned().unwrap_or_default(),
        // A multipart body: its texts and files (services.md §2).
        Value::Map(_) => match flin_vm::json::to_json_value(body) {
            J::Object(object) => object,
            _ => serde_json::Map::new(),
        },
        _ => serde_json::Map::new(),
    };
    let mut data = Vec::with_capacity(fields.fields.len());
    let mut entries = Entries::default();
    let mut mismatches = Vec::new();
    for field in &fields.fields {
        let given = object.get(&field.name).unwrap_or(&J::Null);
        let mut datum = match read(&field.ty, given) {
            Ok(datum) => datum,
            Err(expected) => {
                mismatches.push((
                    field.name.clone(),
                    format!("{} must be {expected}, not {}", field.name, kind_of(given)),
                ));
                Datum::None
            }
        };
        if datum == Datum::None {
            if let Some(default) = &field.default_value {
                datum = default.clone();
            }
        }
        entries.insert(
            Key(Value::text(field.name.as_str())),
            flin_runtime::from_datum(&field.ty, &datum),
        );
        data.push(datum);
    }
    (data, Value::map(entries), mismatches)
}

/// What a JSON value is, in the words of an error message.
fn kind_of(json: &J) -> &'static str {
    match json {
        J::Null => "null",
        J::Bool(_) => "a bool",
        J::Number(_) => "a number",
        J::String(_) => "a text",
        J::Array(_) => "a list",
        J::Object(_) => "an object",
    }
}

/// One field as its declared type. A form sends texts, so a text that reads as the type
/// is taken (`"300"` for an int); a text that does not is left as text for the rule
/// check to name. Another JSON kind than the type's is an error (what was expected).
fn read(ty: &FieldType, json: &J) -> Result<Datum, &'static str> {
    Ok(match (ty, json) {
        (_, J::Null) => Datum::None,
        (FieldType::Int, J::Number(n)) => Datum::Int(n.as_i64().ok_or("an int")?),
        (FieldType::Int, J::String(s)) if s.trim().is_empty() => Datum::None,
        (FieldType::Int, J::String(s)) => Datum::Int(s.trim().parse().map_err(|_| "an int")?),
        (FieldType::Int, _) => return Err("an int"),
        (FieldType::Number, J::Number(n)) => Datum::Number(n.as_f64().ok_or("a number")?),
        (FieldType::Number, J::String(s)) if s.trim().is_empty() => Datum::None,
        (FieldType::Number, J::String(s)) => Datum::Number(
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or("a number")?,
        ),
        (FieldType::Number, _) => return Err("a number"),
        (FieldType::Bool, J::Bool(b)) => Datum::Bool(*b),
        (FieldType::Bool, J::String(s)) => match s.as_str() {
            "true" | "on" | "1" | "yes" => Datum::Bool(true),
            "false" | "off" | "0" | "no" | "" => Datum::Bool(false),
            _ => return Err("a bool"),
        },
        (FieldType::Bool, _) => return Err("a bool"),
        (FieldType::Enum { .. }, J::String(s)) => Datum::Enum(s.as_str().into()),
        (FieldType::Enum { .. }, _) => return Err("one of its variants, as text"),
        (FieldType::List(inner), J::Array(items)) => Datum::List(
            items
                .iter()
                .map(|item| read(inner, item))
                .collect::<Result<_, _>>()?,
        ),
        (FieldType::List(_) | FieldType::RefList(_), _) => return Err("a list"),
        (FieldType::Text | FieldType::SemanticText, J::String(s)) => Datum::Text(s.as_str().into()),
        (FieldType::Text | FieldType::SemanticText, _) => return Err("a text"),
        // Times, durations, money and references are written as texts (or ids).
        (_, J::String(s)) => Datum::Text(s.as_str().into()),
        (FieldType::Ref(_), J::Number(n)) => Datum::Int(n.as_i64().ok_or("an id")?),
        // An uploaded file, as its parts (the store checks it is one).
        (FieldType::File, J::Object(_)) => Datum::Text(json.to_string().into()),
        (FieldType::File, _) => return Err("a file"),
        (_, _) => return Err("a text"),
    })
}
