//! How entities map onto SQLite: table and column names, column types, and the
//! conversion of field values ([`Datum`]) to and from SQL values.
//!
//! Layout of entity `Book`:
//! - table `"Book"`: `id` (never reused: AUTOINCREMENT), `version`, `created_at`,
//!   `updated_at`, `deleted_at` (µs since the epoch), then one column per field; a money
//!   field is two (`price` in minor units, `price$cur`); `[Entity]` fields live in a join
//!   table `"Book$tags"` (owner, position, target); `[text]`/`[int]` are JSON text.
//! - table `"Book$history"`: every version of every row, the same columns plus
//!   `valid_from`/`valid_to`, with `[Entity]` fields as JSON arrays of ids.

use flin_query::{Datum, EntityDef, FieldDef, FieldType};
use rusqlite::types::{Value as Sql, ValueRef};

use crate::error::{Result, StoreError};

/// The automatic columns, first in every select, in this order.
pub const AUTO: [&str; 5] = ["id", "version", "created_at", "updated_at", "deleted_at"];

/// `"name"`, with quotes doubled.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn table(entity: &str) -> String {
    quote(entity)
}

pub fn history_table(entity: &str) -> String {
    quote(&format!("{entity}$history"))
}

pub fn join_table(entity: &str, field: &str) -> String {
    quote(&format!("{entity}${field}"))
}

pub fn currency_column(field: &str) -> String {
    quote(&format!("{field}$cur"))
}

/// The SQL type of a field's (first) column.
pub fn sql_type(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::Int
        | FieldType::Bool
        | FieldType::Time
        | FieldType::Duration
        | FieldType::Money
        | FieldType::Ref(_) => "INTEGER",
        FieldType::Number => "REAL",
        FieldType::Text
        | FieldType::SemanticText
        | FieldType::File
        | FieldType::Enum { .. }
        | FieldType::List(_)
        | FieldType::RefList(_) => "TEXT",
    }
}

/// How many columns a field takes in the main table (or, `history`, the history table).
pub fn width(field: &FieldDef, history: bool) -> usize {
    match field.ty {
        FieldType::Money => 2,
        FieldType::RefList(_) => usize::from(history),
        _ => 1,
    }
}

/// The column names a field takes in the main table (money: amount and currency).
pub fn field_columns(field: &FieldDef) -> Vec<String> {
    match field.ty {
        FieldType::Money => vec![quote(&field.name), currency_column(&field.name)],
        FieldType::RefList(_) => Vec::new(),
        _ => vec![quote(&field.name)],
    }
}

/// The column names a field takes in the history table.
pub fn history_columns(field: &FieldDef) -> Vec<String> {
    match field.ty {
        FieldType::RefList(_) => vec![quote(&field.name)],
        _ => field_columns(field),
    }
}

/// The SQL values of a field for its main-table columns.
pub fn to_sql(field: &FieldDef, value: &Datum) -> Result<Vec<Sql>> {
    Ok(match (&field.ty, value) {
        (FieldType::RefList(_), _) => Vec::new(),
        (FieldType::Money, Datum::None) => vec![Sql::Null, Sql::Null],
        (FieldType::Money, Datum::Money { minor, currency }) => {
            vec![Sql::Integer(*minor), Sql::Text(currency.to_string())]
        }
        (_, value) => vec![scalar(field, value)?],
    })
}

/// The SQL values of a field for its history columns.
pub fn to_history_sql(field: &FieldDef, value: &Datum) -> Result<Vec<Sql>> {
    match &field.ty {
        FieldType::RefList(_) => Ok(vec![Sql::Text(list_json(value)?)]),
        _ => to_sql(field, value),
    }
}

fn scalar(field: &FieldDef, value: &Datum) -> Result<Sql> {
    let wrong = || {
        StoreError::validation(
            &field.name,
            format!(
                "{} must be {}, not {}",
                field.name,
                a_or_an(&field.ty.describe()),
                describe(value)
            ),
        )
    };
    Ok(match (&field.ty, value) {
        (_, Datum::None) => Sql::Null,
        (FieldType::Text | FieldType::SemanticText | FieldType::File, Datum::Text(t)) => {
            Sql::Text(t.to_string())
        }
        (FieldType::Int, Datum::Int(i)) => Sql::Integer(*i),
        (FieldType::Number, Datum::Number(n)) => Sql::Real(*n),
        (FieldType::Number, Datum::Int(i)) => Sql::Real(*i as f64),
        (FieldType::Bool, Datum::Bool(b)) => Sql::Integer(i64::from(*b)),
        (FieldType::Time, Datum::Time(t)) => Sql::Integer(*t),
        (FieldType::Duration, Datum::Duration(d)) => Sql::Integer(*d),
        (FieldType::Enum { variants, name }, Datum::Enum(v) | Datum::Text(v)) => {
            if !variants.iter().any(|known| known.as_str() == &**v) {
                return Err(StoreError::validation(
                    &field.name,
                    format!("{} must be a variant of {name}, not `{v}`", field.name),
                ));
            }
            Sql::Text(v.to_string())
        }
        (FieldType::Ref(_), Datum::Ref(id) | Datum::Int(id)) => Sql::Integer(*id),
        (FieldType::List(_), Datum::List(_)) => Sql::Text(list_json(value)?),
        _ => return Err(wrong()),
    })
}

/// A parameter of a query as an SQL value (lists as JSON, for `IN json_each(?)`).
pub fn param(value: &Datum) -> Sql {
    match value {
        Datum::None => Sql::Null,
        Datum::Bool(b) => Sql::Integer(i64::from(*b)),
        Datum::Int(i) | Datum::Ref(i) | Datum::Time(i) | Datum::Duration(i) => Sql::Integer(*i),
        Datum::Money { minor, .. } => Sql::Integer(*minor),
        Datum::Number(n) => Sql::Real(*n),
        Datum::Text(t) | Datum::Enum(t) => Sql::Text(t.to_string()),
        Datum::List(_) => Sql::Text(list_json(value).unwrap_or_else(|_| "[]".into())),
    }
}

/// A list of scalars (or references) as a JSON array.
pub fn list_json(value: &Datum) -> Result<String> {
    let items = match value {
        Datum::List(items) => items.as_slice(),
        Datum::None => &[],
        other => {
            return Err(StoreError::Database(format!(
                "a list was expected, not {}",
                describe(other)
            )));
        }
    };
    let json: Vec<serde_json::Value> = items.iter().map(json_scalar).collect();
    Ok(serde_json::Value::Array(json).to_string())
}

fn json_scalar(value: &Datum) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Datum::None => J::Null,
        Datum::Bool(b) => J::from(i64::from(*b)),
        Datum::Int(i) | Datum::Ref(i) | Datum::Time(i) | Datum::Duration(i) => J::from(*i),
        Datum::Money { minor, .. } => J::from(*minor),
        Datum::Number(n) => J::from(*n),
        Datum::Text(t) | Datum::Enum(t) => J::from(t.as_ref()),
        Datum::List(items) => J::Array(items.iter().map(json_scalar).collect()),
    }
}

/// A field's value read back from its columns (`values` starts at the field's first
/// column). Returns the value and how many columns it took.
pub fn from_sql(ty: &FieldType, values: &[ValueRef<'_>]) -> (Datum, usize) {
    let first = values.first().copied().unwrap_or(ValueRef::Null);
    match ty {
        FieldType::Money => {
            let currency = values.get(1).copied().unwrap_or(ValueRef::Null);
            let datum = match (first, currency) {
                (ValueRef::Integer(minor), ValueRef::Text(code)) => Datum::Money {
                    minor,
                    currency: String::from_utf8_lossy(code).into(),
                },
                _ => Datum::None,
            };
            (datum, 2)
        }
        _ => (scalar_from_sql(ty, first), 1),
    }
}

fn scalar_from_sql(ty: &FieldType, value: ValueRef<'_>) -> Datum {
    match (ty, value) {
        (_, ValueRef::Null) => Datum::None,
        (FieldType::Int, ValueRef::Integer(i)) => Datum::Int(i),
        (FieldType::Number, ValueRef::Real(n)) => Datum::Number(n),
        (FieldType::Number, ValueRef::Integer(i)) => Datum::Number(i as f64),
        (FieldType::Bool, ValueRef::Integer(i)) => Datum::Bool(i != 0),
        (FieldType::Time, ValueRef::Integer(i)) => Datum::Time(i),
        (FieldType::Duration, ValueRef::Integer(i)) => Datum::Duration(i),
        (FieldType::Ref(_), ValueRef::Integer(i)) => Datum::Ref(i),
        (FieldType::Enum { .. }, ValueRef::Text(t)) => Datum::Enum(text_of(t)),
        (FieldType::List(inner), ValueRef::Text(t)) => list_from_json(inner, t),
        (FieldType::RefList(_), ValueRef::Text(t)) => {
            list_from_json(&FieldType::Ref(String::new()), t)
        }
        (_, ValueRef::Text(t)) => Datum::Text(text_of(t)),
        (_, ValueRef::Integer(i)) => Datum::Int(i),
        (_, ValueRef::Real(n)) => Datum::Number(n),
        (_, ValueRef::Blob(_)) => Datum::None,
    }
}

fn list_from_json(inner: &FieldType, text: &[u8]) -> Datum {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_slice::<serde_json::Value>(text)
    else {
        return Datum::List(Vec::new());
    };
    Datum::List(
        items
            .iter()
            .map(|item| match (inner, item) {
                (FieldType::Ref(_), serde_json::Value::Number(n)) => {
                    Datum::Ref(n.as_i64().unwrap_or(0))
                }
                (FieldType::Int, serde_json::Value::Number(n)) => {
                    Datum::Int(n.as_i64().unwrap_or(0))
                }
                (FieldType::Bool, serde_json::Value::Number(n)) => {
                    Datum::Bool(n.as_i64().unwrap_or(0) != 0)
                }
                (FieldType::Time, serde_json::Value::Number(n)) => {
                    Datum::Time(n.as_i64().unwrap_or(0))
                }
                (FieldType::Duration, serde_json::Value::Number(n)) => {
                    Datum::Duration(n.as_i64().unwrap_or(0))
                }
                (FieldType::Enum { .. }, serde_json::Value::String(s)) => {
                    Datum::Enum(s.as_str().into())
                }
                (_, serde_json::Value::Number(n)) => match n.as_i64() {
                    Some(i) => Datum::Int(i),
                    None => Datum::Number(n.as_f64().unwrap_or(0.0)),
                },
                (_, serde_json::Value::String(s)) => Datum::Text(s.as_str().into()),
                (_, serde_json::Value::Bool(b)) => Datum::Bool(*b),
                _ => Datum::None,
            })
            .collect(),
    )
}

/// A value's kind in an error message.
pub fn describe(value: &Datum) -> &'static str {
    match value {
        Datum::None => "none",
        Datum::Bool(_) => "a bool",
        Datum::Int(_) => "an int",
        Datum::Number(_) => "a number",
        Datum::Text(_) => "a text",
        Datum::Money { .. } => "money",
        Datum::Time(_) => "a time",
        Datum::Duration(_) => "a duration",
        Datum::Enum(_) => "an enum value",
        Datum::Ref(_) => "a reference",
        Datum::List(_) => "a list",
    }
}

pub fn a_or_an(word: &str) -> String {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {word}"),
        Some(c) if c.is_uppercase() => format!("a {word}"),
        _ => format!("a {word}"),
    }
}

/// The list of main-table columns of an entity, automatic ones first.
pub fn select_list(def: &EntityDef, alias: &str) -> String {
    let mut columns: Vec<String> = AUTO
        .iter()
        .map(|c| format!("{alias}.{}", quote(c)))
        .collect();
    for field in &def.fields {
        for column in field_columns(field) {
            columns.push(format!("{alias}.{column}"));
        }
    }
    columns.join(", ")
}

/// A text column's bytes as text (SQLite hands back what was stored: FLIN stores UTF-8,
/// another writer might not, and its bytes are then shown with replacement characters).
fn text_of(bytes: &[u8]) -> Box<str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.into(),
        Err(_) => String::from_utf8_lossy(bytes).into(),
    }
}
