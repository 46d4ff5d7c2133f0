//! `validate { field: type @rules… }` (web.md §5): the request body read field by field
//! as the declared types (a form sends texts: `"300"` is the int 300 where an int is
//! declared), checked with the same rules as entity fields, and handed to the route as
//! the record `body`.

use flin_query::{Datum, EntityDef, FieldType};
use flin_vm::Value;
use flin_vm::value::{Entries, Key};
use serde_json::Value as J;

/// The fields of `body` as data to check, and as the value the route sees.
pub fn body(fields: &EntityDef, body: &Value) -> (Vec<Datum>, Value) {
    let object = match body {
        Value::Json(json) => json.as_object().cloned().unwrap_or_default(),
        _ => serde_json::Map::new(),
    };
    let mut data = Vec::with_capacity(fields.fields.len());
    let mut entries = Entries::default();
    for field in &fields.fields {
        let given = object.get(&field.name).unwrap_or(&J::Null);
        let mut datum = read(&field.ty, given);
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
    (data, Value::map(entries))
}

/// One field as its declared type where the text allows it (else as given, so the rule
/// check names the mismatch).
fn read(ty: &FieldType, json: &J) -> Datum {
    match (ty, json) {
        (_, J::Null) => Datum::None,
        (FieldType::Int, J::Number(n)) => n
            .as_i64()
            .map_or(Datum::Number(n.as_f64().unwrap_or(0.0)), Datum::Int),
        (FieldType::Int, J::String(s)) if s.trim().is_empty() => Datum::None,
        (FieldType::Int, J::String(s)) => s
            .trim()
            .parse()
            .map_or_else(|_| Datum::Text(s.as_str().into()), Datum::Int),
        (FieldType::Number, J::Number(n)) => Datum::Number(n.as_f64().unwrap_or(0.0)),
        (FieldType::Number, J::String(s)) if s.trim().is_empty() => Datum::None,
        (FieldType::Number, J::String(s)) => s
            .trim()
            .parse()
            .map_or_else(|_| Datum::Text(s.as_str().into()), Datum::Number),
        (FieldType::Bool, J::Bool(b)) => Datum::Bool(*b),
        (FieldType::Bool, J::String(s)) => match s.as_str() {
            "true" | "on" | "1" | "yes" => Datum::Bool(true),
            "false" | "off" | "0" | "no" | "" => Datum::Bool(false),
            other => Datum::Text(other.into()),
        },
        (FieldType::Enum { .. }, J::String(s)) => Datum::Enum(s.as_str().into()),
        (FieldType::List(inner), J::Array(items)) => {
            Datum::List(items.iter().map(|i| read(inner, i)).collect())
        }
        (_, J::String(s)) => Datum::Text(s.as_str().into()),
        (_, J::Number(n)) => n
            .as_i64()
            .map_or(Datum::Number(n.as_f64().unwrap_or(0.0)), Datum::Int),
        (_, J::Bool(b)) => Datum::Bool(*b),
        (_, other) => Datum::Text(other.to_string().into()),
    }
}
