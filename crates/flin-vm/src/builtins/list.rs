//! List methods (language.md §12, §14). `push`, `pop`, `insert` and `remove_at` change
//! the list in place; the others return new values. Sorting is stable.

use std::cmp::Ordering;

use indexmap::IndexMap;

use super::{Builtin, arg, int_arg, list_arg, optional, text_arg};
use crate::error::RuntimeError;
use crate::ops;
use crate::value::{Key, Value};
use crate::vm::Vm;

macro_rules! b {
    ($name:literal, $min:literal, $max:literal, $f:expr) => {
        Builtin {
            owner: "list",
            name: $name,
            min: $min,
            max: $max,
            func: $f,
        }
    };
}

fn items(a: &[Value]) -> Result<Vec<Value>, RuntimeError> {
    Ok(list_arg(a, 0)?.borrow().clone())
}

pub fn builtins() -> Vec<Builtin> {
    vec![
        b!("length", 1, 1, |_, a| Ok(Value::Int(
            list_arg(a, 0)?.borrow().len() as i64
        ))),
        b!("push", 2, 2, |_, a| {
            list_arg(a, 0)?.borrow_mut().push(arg(a, 1).clone());
            Ok(Value::None)
        }),
        b!("pop", 1, 1, |_, a| Ok(optional(
            list_arg(a, 0)?.borrow_mut().pop()
        ))),
        b!("insert", 3, 3, |_, a| {
            let list = list_arg(a, 0)?;
            let at = int_arg(a, 1, "the position")?;
            let mut items = list.borrow_mut();
            if at < 0 || at as usize > items.len() {
                return Err(RuntimeError::index(format!(
                    "position {at} is out of range for a list of length {}",
                    items.len()
                )));
            }
            items.insert(at as usize, arg(a, 2).clone());
            Ok(Value::None)
        }),
        b!("remove_at", 2, 2, |_, a| {
            let list = list_arg(a, 0)?;
            let at = int_arg(a, 1, "the position")?;
            let mut items = list.borrow_mut();
            if at < 0 || at as usize >= items.len() {
                return Err(RuntimeError::index(format!(
                    "index {at} is out of range for a list of length {}",
                    items.len()
                )));
            }
            Ok(items.remove(at as usize))
        }),
        b!("map", 2, 2, |vm, a| {
            let f = arg(a, 1).clone();
            let mut out = Vec::new();
            for item in items(a)? {
                out.push(vm.call_value(&f, &[item])?);
            }
            Ok(Value::list(out))
        }),
        b!("where", 2, 2, |vm, a| {
            let f = arg(a, 1).clone();
            let mut out = Vec::new();
            for item in items(a)? {
                if ops::truthy(&vm.call_value(&f, std::slice::from_ref(&item))?) {
                    out.push(item);
                }
            }
            Ok(Value::list(out))
        }),
        b!("reduce", 3, 3, |vm, a| {
            let f = arg(a, 2).clone();
            let mut acc = arg(a, 1).clone();
            for item in items(a)? {
                acc = vm.call_value(&f, &[acc, item])?;
            }
            Ok(acc)
        }),
        b!("sum", 1, 1, |_, a| {
            let mut total = Value::Int(0);
            for (idx, item) in items(a)?.iter().enumerate() {
                total = if idx == 0 {
                    item.clone()
                } else {
                    ops::add(&total, item)?
                };
            }
            Ok(total)
        }),
        b!("min", 1, 1, |_, a| extreme(a, Ordering::Less)),
        b!("max", 1, 1, |_, a| extreme(a, Ordering::Greater)),
        b!("sort", 1, 1, |_, a| {
            let mut list = items(a)?;
            sort_values(&mut list, |x| Ok(x.clone()))?;
            Ok(Value::list(list))
        }),
        b!("sort_by", 2, 2, |vm, a| {
            let f = arg(a, 1).clone();
            let mut keyed = Vec::new();
            for item in items(a)? {
                keyed.push((vm.call_value(&f, std::slice::from_ref(&item))?, item));
            }
            let mut error = None;
            keyed.sort_by(|(x, _), (y, _)| match ops::compare(x, y) {
                Ok(order) => order,
                Err(err) => {
                    error.get_or_insert(err);
                    Ordering::Equal
                }
            });
            if let Some(err) = error {
                return Err(err);
            }
            Ok(Value::list(
                keyed.into_iter().map(|(_, item)| item).collect(),
            ))
        }),
        b!("reverse", 1, 1, |_, a| Ok(Value::list(
            items(a)?.into_iter().rev().collect()
        ))),
        b!("first", 1, 1, |_, a| Ok(optional(
            list_arg(a, 0)?.borrow().first().cloned()
        ))),
        b!("last", 1, 1, |_, a| Ok(optional(
            list_arg(a, 0)?.borrow().last().cloned()
        ))),
        b!("contains", 2, 2, |_, a| Ok(Value::Bool(
            list_arg(a, 0)?
                .borrow()
                .iter()
                .any(|x| ops::equal(x, arg(a, 1)))
        ))),
        b!("index_of", 2, 2, |_, a| Ok(optional(
            list_arg(a, 0)?
                .borrow()
                .iter()
                .position(|x| ops::equal(x, arg(a, 1)))
                .map(|i| Value::Int(i as i64))
        ))),
        b!("join", 2, 2, |_, a| {
            let separator = text_arg(a, 1, "the separator")?;
            let parts: Vec<String> = items(a)?.iter().map(crate::display::display).collect();
            Ok(Value::text(parts.join(separator.as_str())))
        }),
        b!("slice", 3, 3, |_, a| crate::access::slice(
            arg(a, 0),
            arg(a, 1),
            arg(a, 2)
        )),
        b!("take", 2, 2, |_, a| {
            let n = int_arg(a, 1, "the count")?.max(0) as usize;
            Ok(Value::list(items(a)?.into_iter().take(n).collect()))
        }),
        b!("skip", 2, 2, |_, a| {
            let n = int_arg(a, 1, "the count")?.max(0) as usize;
            Ok(Value::list(items(a)?.into_iter().skip(n).collect()))
        }),
        b!("flatten", 1, 1, |_, a| {
            let mut out = Vec::new();
            for item in items(a)? {
                match item {
                    Value::List(inner) => out.extend(inner.borrow().iter().cloned()),
                    other => out.push(other),
                }
            }
            Ok(Value::list(out))
        }),
        b!("unique", 1, 1, |_, a| {
            let mut seen = indexmap::IndexSet::new();
            for item in items(a)? {
                seen.insert(Key(item));
            }
            Ok(Value::list(seen.into_iter().map(|Key(v)| v).collect()))
        }),
        b!("group_by", 2, 2, |vm, a| {
            let f = arg(a, 1).clone();
            let mut groups: IndexMap<Key, Vec<Value>> = IndexMap::new();
            for item in items(a)? {
                let key = vm.call_value(&f, std::slice::from_ref(&item))?;
                groups.entry(Key(key)).or_default().push(item);
            }
            Ok(Value::map(
                groups
                    .into_iter()
                    .map(|(k, v)| (k, Value::list(v)))
                    .collect(),
            ))
        }),
        b!("count", 1, 2, |vm, a| {
            if a.len() == 1 {
                return Ok(Value::Int(list_arg(a, 0)?.borrow().len() as i64));
            }
            let f = arg(a, 1).clone();
            let mut n = 0;
            for item in items(a)? {
                if ops::truthy(&vm.call_value(&f, &[item])?) {
                    n += 1;
                }
            }
            Ok(Value::Int(n))
        }),
        b!("any", 2, 2, |vm, a| {
            let f = arg(a, 1).clone();
            for item in items(a)? {
                if ops::truthy(&vm.call_value(&f, &[item])?) {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }),
        b!("all", 2, 2, |vm, a| {
            let f = arg(a, 1).clone();
            for item in items(a)? {
                if !ops::truthy(&vm.call_value(&f, &[item])?) {
                    return Ok(Value::Bool(false));
                }
            }
            Ok(Value::Bool(true))
        }),
        b!("find", 2, 2, |vm, a| {
            let f = arg(a, 1).clone();
            for item in items(a)? {
                if ops::truthy(&vm.call_value(&f, std::slice::from_ref(&item))?) {
                    return Ok(item);
                }
            }
            Ok(Value::None)
        }),
        b!("zip", 2, 2, |_, a| {
            let other = list_arg(a, 1)?.borrow().clone();
            Ok(Value::list(
                items(a)?
                    .into_iter()
                    .zip(other)
                    .map(|(x, y)| Value::tuple(vec![x, y]))
                    .collect(),
            ))
        }),
        b!("enumerate", 1, 1, |_, a| Ok(Value::list(
            items(a)?
                .into_iter()
                .enumerate()
                .map(|(i, x)| Value::tuple(vec![Value::Int(i as i64), x]))
                .collect()
        ))),
        b!("is_empty", 1, 1, |_, a| Ok(Value::Bool(
            list_arg(a, 0)?.borrow().is_empty()
        ))),
    ]
}

fn extreme(a: &[Value], wanted: Ordering) -> Result<Value, RuntimeError> {
    let mut best: Option<Value> = None;
    for item in items(a)? {
        best = Some(match best {
            None => item,
            Some(current) => {
                if ops::compare(&item, &current)? == wanted {
                    item
                } else {
                    current
                }
            }
        });
    }
    Ok(optional(best))
}

/// A stable sort by keys; the first comparison error stops it.
fn sort_values(
    list: &mut [Value],
    _key: impl Fn(&Value) -> Result<Value, RuntimeError>,
) -> Result<(), RuntimeError> {
    let mut error = None;
    list.sort_by(|x, y| match ops::compare(x, y) {
        Ok(order) => order,
        Err(err) => {
            error.get_or_insert(err);
            Ordering::Equal
        }
    });
    match error {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

#[allow(dead_code)]
fn unused(_: &mut Vm<'_>) {}
