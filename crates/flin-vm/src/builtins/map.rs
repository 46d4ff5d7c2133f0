//! Map methods (language.md §12, §14): insertion-ordered; setting an existing key keeps
//! its position; `merge` keeps the left's order and appends the right's new keys.

use std::cell::RefCell;
use std::rc::Rc;

use super::{Builtin, arg, optional};
use crate::error::RuntimeError;
use crate::value::{Key, Value};

macro_rules! b {
    ($name:literal, $min:literal, $max:literal, $f:expr) => {
        Builtin {
            owner: "map",
            name: $name,
            min: $min,
            max: $max,
            func: $f,
        }
    };
}

fn map_arg(a: &[Value], idx: usize) -> Result<Rc<RefCell<crate::value::Entries>>, RuntimeError> {
    match arg(a, idx).read_cell() {
        Value::Map(entries) => Ok(entries),
        Value::None => Err(RuntimeError::none("a map is needed, found none")),
        other => Err(RuntimeError::type_error(format!(
            "a map is needed, not {}",
            other.type_name()
        ))),
    }
}

pub fn builtins() -> Vec<Builtin> {
    vec![
        b!("length", 1, 1, |_, a| Ok(Value::Int(
            map_arg(a, 0)?.borrow().len() as i64
        ))),
        b!("keys", 1, 1, |_, a| Ok(Value::list(
            map_arg(a, 0)?
                .borrow()
                .keys()
                .map(|Key(k)| k.clone())
                .collect()
        ))),
        b!("values", 1, 1, |_, a| Ok(Value::list(
            map_arg(a, 0)?.borrow().values().cloned().collect()
        ))),
        b!("entries", 1, 1, |_, a| Ok(Value::list(
            map_arg(a, 0)?
                .borrow()
                .iter()
                .map(|(Key(k), v)| Value::tuple(vec![k.clone(), v.clone()]))
                .collect()
        ))),
        b!("has", 2, 2, |_, a| Ok(Value::Bool(
            map_arg(a, 0)?
                .borrow()
                .contains_key(&Key(arg(a, 1).read_cell()))
        ))),
        b!("get", 2, 2, |_, a| Ok(optional(
            map_arg(a, 0)?
                .borrow()
                .get(&Key(arg(a, 1).read_cell()))
                .cloned()
        ))),
        b!("set", 3, 3, |_, a| {
            map_arg(a, 0)?
                .borrow_mut()
                .insert(Key(arg(a, 1).read_cell()), arg(a, 2).clone());
            Ok(Value::None)
        }),
        b!("remove", 2, 2, |_, a| Ok(optional(
            map_arg(a, 0)?
                .borrow_mut()
                .shift_remove(&Key(arg(a, 1).read_cell()))
        ))),
        b!("merge", 2, 2, |_, a| {
            let mut merged = map_arg(a, 0)?.borrow().clone();
            for (key, value) in map_arg(a, 1)?.borrow().iter() {
                merged.insert(key.clone(), value.clone());
            }
            Ok(Value::map(merged))
        }),
        b!("is_empty", 1, 1, |_, a| Ok(Value::Bool(
            map_arg(a, 0)?.borrow().is_empty()
        ))),
    ]
}
