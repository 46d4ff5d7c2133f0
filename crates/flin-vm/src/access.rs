//! Reading and writing parts of values: `x[i]`, `x.name`, `x[a:b]`, and their
//! assignments. Indexes count from 0; a negative or too large index is an error of kind
//! "index" (language.md §14); a missing map key or json field reads as `none`.

use std::rc::Rc;

use flin_syntax::Symbol;

use crate::error::RuntimeError;
use crate::value::{Key, Value};
use crate::vm::Vm;

fn position(index: &Value, len: usize, what: &str) -> Result<usize, RuntimeError> {
    let i = match index {
        Value::Int(i) => *i,
        Value::Cell(cell) => return position(&cell.borrow(), len, what),
        Value::Json(json) => json
            .as_i64()
            .ok_or_else(|| RuntimeError::type_error("an index must be an int"))?,
        Value::None => return Err(RuntimeError::none("the index is none: a value is needed")),
        other => {
            return Err(RuntimeError::type_error(format!(
                "an index must be an int, not {}",
                other.type_name()
            )));
        }
    };
    if i < 0 || i as usize >= len {
        return Err(RuntimeError::index(format!(
            "index {i} is out of range for a {what} of length {len}"
        )));
    }
    Ok(i as usize)
}

pub fn get_index(object: &Value, index: &Value) -> Result<Value, RuntimeError> {
    match object {
        Value::List(items) => {
            let items = items.borrow();
            let at = position(index, items.len(), "list")?;
            Ok(items.get(at).cloned().unwrap_or(Value::None))
        }
        Value::Tuple(items) => {
            let at = position(index, items.len(), "tuple")?;
            Ok(items.get(at).cloned().unwrap_or(Value::None))
        }
        Value::Text(text) => {
            let len = text.char_len();
            let at = position(index, len, "text")?;
            let ch = if text.ascii {
                text.as_str().get(at..at + 1).map(str::to_string)
            } else {
                text.as_str().chars().nth(at).map(String::from)
            };
            Ok(ch.map_or(Value::None, Value::text))
        }
        Value::Map(entries) => Ok(entries
            .borrow()
            .get(&Key(index.read_cell()))
            .cloned()
            .unwrap_or(Value::None)),
        Value::Json(json) => Ok(json_child(json, index)),
        Value::Cell(cell) => get_index(&cell.borrow(), index),
        Value::None => Err(RuntimeError::none("cannot index `none`: a value is needed")),
        other => Err(RuntimeError::type_error(format!(
            "cannot index {}",
            other.type_name()
        ))),
    }
}

fn json_child(json: &serde_json::Value, index: &Value) -> Value {
    let child = match (json, index) {
        (serde_json::Value::Array(items), Value::Int(i)) if *i >= 0 => items.get(*i as usize),
        (serde_json::Value::Object(fields), Value::Text(key)) => fields.get(key.as_str()),
        _ => None,
    };
    match child {
        None | Some(serde_json::Value::Null) => Value::None,
        Some(child) => Value::Json(Rc::new(child.clone())),
    }
}

pub fn set_index(object: &Value, index: &Value, value: Value) -> Result<(), RuntimeError> {
    match object {
        Value::List(items) => {
            let mut items = items.borrow_mut();
            let at = position(index, items.len(), "list")?;
            if let Some(slot) = items.get_mut(at) {
                *slot = value;
            }
            Ok(())
        }
        Value::Map(entries) => {
            entries.borrow_mut().insert(Key(index.read_cell()), value);
            Ok(())
        }
        Value::Cell(cell) => set_index(&cell.borrow(), index, value),
        Value::None => Err(RuntimeError::none("cannot assign into `none`")),
        other => Err(RuntimeError::type_error(format!(
            "cannot assign into {}",
            other.type_name()
        ))),
    }
}

/// `object.name`: a record field, a map key, a json field, an error's parts, or a
/// method that takes no argument written as a property.
pub fn get_field(vm: &mut Vm<'_>, object: &Value, name: Symbol) -> Result<Value, RuntimeError> {
    match object {
        Value::Entity(entity) => crate::entity::get_field(vm, entity, name),
        Value::Record(record) => record
            .get(name)
            .ok_or_else(|| RuntimeError::type_error(format!("the record has no field `{name}`"))),
        Value::Map(entries) => {
            let key = Key(Value::text(name.as_str()));
            if let Some(value) = entries.borrow().get(&key) {
                return Ok(value.clone());
            }
            if crate::builtins::has_method("map", name.as_str()) {
                return crate::builtins::call_method(vm, name, std::slice::from_ref(object));
            }
            Ok(Value::None)
        }
        Value::Json(json) => Ok(json_child(json, &Value::text(name.as_str()))),
        Value::Error(error) => Ok(match name.as_str() {
            "message" => Value::text(error.message.as_str()),
            "kind" => Value::text(error.kind),
            "fields" => {
                let entries = error
                    .fields
                    .iter()
                    .map(|(k, v)| (Key(Value::text(k.as_str())), Value::text(v.as_str())))
                    .collect();
                Value::map(entries)
            }
            other => {
                return Err(RuntimeError::type_error(format!(
                    "an error has no field `{other}`"
                )));
            }
        }),
        Value::Cell(cell) => {
            let inner = cell.borrow().clone();
            get_field(vm, &inner, name)
        }
        Value::None => Err(RuntimeError::none(format!(
            "cannot read `.{name}` of `none`"
        ))),
        other => crate::builtins::call_method(vm, name, std::slice::from_ref(other)),
    }
}

pub fn set_field(object: &Value, name: Symbol, value: Value) -> Result<(), RuntimeError> {
    match object {
        Value::Entity(entity) => crate::entity::set_field(entity, name, value),
        Value::Record(record) => {
            let idx = record
                .shape
                .iter()
                .position(|field| *field == name)
                .ok_or_else(|| {
                    RuntimeError::type_error(format!("the record has no field `{name}`"))
                })?;
            if let Some(slot) = record.values.borrow_mut().get_mut(idx) {
                *slot = value;
            }
            Ok(())
        }
        Value::Map(entries) => {
            entries
                .borrow_mut()
                .insert(Key(Value::text(name.as_str())), value);
            Ok(())
        }
        Value::Cell(cell) => set_field(&cell.borrow(), name, value),
        Value::None => Err(RuntimeError::none(format!(
            "cannot set `.{name}` of `none`"
        ))),
        other => Err(RuntimeError::type_error(format!(
            "cannot set a field of {}",
            other.type_name()
        ))),
    }
}

fn bound(value: &Value, default: usize, len: usize, what: &str) -> Result<usize, RuntimeError> {
    match value {
        Value::None | Value::Absent => Ok(default),
        Value::Int(i) if *i >= 0 && *i as usize <= len => Ok(*i as usize),
        Value::Int(i) => Err(RuntimeError::index(format!(
            "slice bound {i} is out of range for a {what} of length {len}"
        ))),
        Value::Cell(cell) => bound(&cell.borrow(), default, len, what),
        other => Err(RuntimeError::type_error(format!(
            "a slice bound must be an int, not {}",
            other.type_name()
        ))),
    }
}

/// `object[start:end]` and `.slice(start, end)`: the part from `start` up to (not
/// including) `end`, counting characters in texts.
pub fn slice(object: &Value, start: &Value, end: &Value) -> Result<Value, RuntimeError> {
    match object {
        Value::List(items) => {
            let items = items.borrow();
            let from = bound(start, 0, items.len(), "list")?;
            let to = bound(end, items.len(), items.len(), "list")?;
            Ok(Value::list(
                items
                    .get(from..to.max(from))
                    .map(<[Value]>::to_vec)
                    .unwrap_or_default(),
            ))
        }
        Value::Text(text) => {
            let len = text.char_len();
            let from = bound(start, 0, len, "text")?;
            let to = bound(end, len, len, "text")?;
            let part: String = text
                .as_str()
                .chars()
                .skip(from)
                .take(to.saturating_sub(from))
                .collect();
            Ok(Value::text(part))
        }
        Value::Cell(cell) => slice(&cell.borrow(), start, end),
        Value::None => Err(RuntimeError::none("cannot slice `none`")),
        other => Err(RuntimeError::type_error(format!(
            "cannot slice {}",
            other.type_name()
        ))),
    }
}
