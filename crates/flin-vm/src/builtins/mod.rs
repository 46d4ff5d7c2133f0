//! The standard library (language.md §12, §14): native functions by owner (the type of
//! their first argument for methods, `""` for free functions), name and arity.
//!
//! The compiler resolves a call to a [`find`] index when it knows the receiver's type;
//! otherwise [`call_method`] looks the method up by the runtime type of the receiver.
//! One file per group: text, list, map, number, time (with durations and money), misc
//! (conversions, JSON, crypto, environment, errors).

mod list;
mod map;
mod misc;
mod number;
mod services;
mod text;
pub mod time;

use flin_syntax::Symbol;

use crate::error::RuntimeError;
use crate::value::Value;
use crate::vm::Vm;

pub type BuiltinFn = fn(&mut Vm<'_>, &[Value]) -> Result<Value, RuntimeError>;

pub struct Builtin {
    /// "text", "list", "map", "int", "number", "time", "duration", "money", or "" for a
    /// free function.
    pub owner: &'static str,
    pub name: &'static str,
    /// Arguments taken, the receiver included.
    pub min: u8,
    pub max: u8,
    pub func: BuiltinFn,
}

fn table() -> &'static [Builtin] {
    static TABLE: std::sync::OnceLock<Vec<Builtin>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut all = Vec::new();
        all.extend(text::builtins());
        all.extend(list::builtins());
        all.extend(map::builtins());
        all.extend(number::builtins());
        all.extend(time::builtins());
        all.extend(misc::builtins());
        all.extend(services::builtins());
        all
    })
}

/// The index of a built-in for a call with `n_args` values (the receiver included).
pub fn find(owner: &str, name: &str, n_args: usize) -> Option<u16> {
    table()
        .iter()
        .position(|b| {
            b.owner == owner
                && b.name == name
                && (b.min as usize..=b.max as usize).contains(&n_args)
        })
        .map(|idx| idx as u16)
}

pub fn has_method(owner: &str, name: &str) -> bool {
    table().iter().any(|b| b.owner == owner && b.name == name)
}

pub fn name_of(index: u16) -> &'static str {
    table().get(index as usize).map_or("?", |b| b.name)
}

pub fn call(vm: &mut Vm<'_>, index: u16, args: &[Value]) -> Result<Value, RuntimeError> {
    match table().get(index as usize) {
        Some(builtin) => (builtin.func)(vm, args),
        None => Err(RuntimeError::runtime(format!(
            "internal: no built-in {index}"
        ))),
    }
}

/// The owner name of a value's type, for methods found at run time.
pub fn owner_of(value: &Value) -> &'static str {
    match value {
        Value::Text(_) => "text",
        Value::List(_) | Value::Tuple(_) => "list",
        Value::Map(_) => "map",
        Value::Int(_) => "int",
        Value::Number(_) => "number",
        Value::Time(_) => "time",
        Value::Duration(_) => "duration",
        Value::Money(_) => "money",
        _ => "",
    }
}

/// A method found by the runtime type of `args[0]`; json values act as the value they
/// hold (a json array as a list, a json string as a text).
pub fn call_method(vm: &mut Vm<'_>, name: Symbol, args: &[Value]) -> Result<Value, RuntimeError> {
    let Some(receiver) = args.first() else {
        return Err(RuntimeError::runtime("internal: method without receiver"));
    };
    let receiver = match receiver {
        Value::Json(json) => match json.as_ref() {
            serde_json::Value::Array(items) => Value::list(
                items
                    .iter()
                    .map(|item| Value::Json(std::rc::Rc::new(item.clone())))
                    .collect(),
            ),
            other => crate::ops::json_to_scalar(other).unwrap_or_else(|| receiver.clone()),
        },
        Value::Cell(cell) => cell.borrow().clone(),
        other => other.clone(),
    };
    if receiver.is_none() {
        return Err(RuntimeError::none(format!(
            "cannot call `.{name}` on `none`"
        )));
    }
    let owner = owner_of(&receiver);
    let Some(index) = find(owner, name.as_str(), args.len()) else {
        // `props.onPress()`: a function held by a map or record is called (web.md §3).
        if let Some(callee) = function_field(&receiver, name) {
            return vm.call_value(&callee, args.get(1..).unwrap_or(&[]));
        }
        return Err(RuntimeError::type_error(format!(
            "{} has no method `{name}` taking {} argument(s)",
            receiver.type_name(),
            args.len() - 1
        )));
    };
    let mut owned: Vec<Value> = args.to_vec();
    if let Some(first) = owned.first_mut() {
        *first = receiver;
    }
    call(vm, index, &owned)
}

/// The function a map or record holds under `name`, if it holds one there.
fn function_field(receiver: &Value, name: Symbol) -> Option<Value> {
    let field = match receiver {
        Value::Map(entries) => entries
            .borrow()
            .get(&crate::value::Key(Value::text(name.as_str())))
            .cloned(),
        Value::Record(record) => record.get(name),
        _ => None,
    }?;
    matches!(field, Value::Func(_)).then_some(field)
}

// ---- helpers shared by the groups

pub(crate) fn arg(args: &[Value], idx: usize) -> &Value {
    args.get(idx).unwrap_or(&Value::None)
}

pub(crate) fn int_arg(args: &[Value], idx: usize, what: &str) -> Result<i64, RuntimeError> {
    match arg(args, idx).read_cell() {
        Value::Int(i) => Ok(i),
        Value::Json(json) => json
            .as_i64()
            .ok_or_else(|| RuntimeError::type_error(format!("{what} must be an int"))),
        Value::None => Err(RuntimeError::none(format!(
            "{what} is none: a value is needed"
        ))),
        other => Err(RuntimeError::type_error(format!(
            "{what} must be an int, not {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn num_arg(args: &[Value], idx: usize, what: &str) -> Result<f64, RuntimeError> {
    match arg(args, idx).read_cell() {
        Value::Int(i) => Ok(i as f64),
        Value::Number(n) => Ok(n),
        Value::Json(json) => json
            .as_f64()
            .ok_or_else(|| RuntimeError::type_error(format!("{what} must be a number"))),
        Value::None => Err(RuntimeError::none(format!(
            "{what} is none: a value is needed"
        ))),
        other => Err(RuntimeError::type_error(format!(
            "{what} must be a number, not {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn text_arg(
    args: &[Value],
    idx: usize,
    what: &str,
) -> Result<std::rc::Rc<crate::value::Str>, RuntimeError> {
    match arg(args, idx).read_cell() {
        Value::Text(t) => Ok(t),
        Value::Json(json) => match json.as_str() {
            Some(s) => Ok(std::rc::Rc::new(crate::value::Str::new(s))),
            None => Err(RuntimeError::type_error(format!("{what} must be a text"))),
        },
        Value::None => Err(RuntimeError::none(format!(
            "{what} is none: a value is needed"
        ))),
        other => Err(RuntimeError::type_error(format!(
            "{what} must be a text, not {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn list_arg(
    args: &[Value],
    idx: usize,
) -> Result<std::rc::Rc<std::cell::RefCell<Vec<Value>>>, RuntimeError> {
    match arg(args, idx).read_cell() {
        Value::List(items) => Ok(items),
        Value::Tuple(items) => Ok(std::rc::Rc::new(std::cell::RefCell::new(
            items.as_ref().clone(),
        ))),
        Value::Json(json) => match json.as_ref() {
            serde_json::Value::Array(items) => Ok(std::rc::Rc::new(std::cell::RefCell::new(
                items
                    .iter()
                    .map(|item| Value::Json(std::rc::Rc::new(item.clone())))
                    .collect(),
            ))),
            _ => Err(RuntimeError::type_error("a list is needed")),
        },
        Value::None => Err(RuntimeError::none("a list is needed, found none")),
        other => Err(RuntimeError::type_error(format!(
            "a list is needed, not {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn optional(value: Option<Value>) -> Value {
    value.unwrap_or(Value::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_of_the_prelude_has_an_implementation() {
        let names = [
            ("text", "slug", 1),
            ("text", "pad_start", 3),
            ("list", "sort_by", 2),
            ("list", "count", 1),
            ("list", "count", 2),
            ("map", "merge", 2),
            ("number", "round", 1),
            ("number", "round", 2),
            ("time", "weekday", 1),
            ("money", "format", 1),
            ("", "to_json", 2),
            ("", "parse_time", 1),
        ];
        for (owner, name, n) in names {
            assert!(find(owner, name, n).is_some(), "{owner}.{name}/{n}");
        }
    }
}
