//! The memory one unit of work may hold (`server.request_memory`, cli.md §2): past
//! it, the unit fails with a runtime error (a server answers 503, its writes are
//! rolled back) instead of the process running out of memory.
//!
//! The VM counts what its values allocate as it makes them (lists, maps, texts,
//! records, what built-ins return) — an increment and a comparison. When the count
//! passes the limit, it measures what the unit really holds: every value reachable
//! from its registers, globals and arguments, each shared value once. Garbage is not
//! reachable, so a loop that makes and drops values never fails; a unit that keeps
//! them does. After a measurement the count restarts from what is held, so the walk
//! happens once per `limit - held` bytes allocated.
//!
//! Built-ins whose result size comes from an argument (`repeat`, `range`, `pad_start`)
//! charge that size before they allocate, so one call cannot take the memory first.

use std::collections::HashSet;
use std::rc::Rc;

use crate::value::{Key, Value};

/// The size of a value slot, as a list or a record holds one.
pub const SLOT: usize = std::mem::size_of::<Value>();

/// What making `value` allocated, about: its own storage and, for a list or map, the
/// texts it holds (a `split` makes them). Shared values are counted where they were
/// made; over-counting only brings the next measurement sooner.
pub fn made(value: &Value) -> usize {
    match value {
        Value::Text(text) => text.as_str().len() + 32,
        Value::List(items) => items.try_borrow().map_or(0, |items| {
            items.len() * SLOT + items.iter().map(text_size).sum::<usize>() + 48
        }),
        Value::Map(entries) => entries.try_borrow().map_or(0, |entries| {
            entries.len() * (3 * SLOT)
                + entries
                    .iter()
                    .map(|(Key(k), v)| text_size(k) + text_size(v))
                    .sum::<usize>()
                + 64
        }),
        Value::Record(record) => record
            .values
            .try_borrow()
            .map_or(0, |v| v.len() * SLOT + 48),
        Value::Tuple(items) => items.len() * SLOT + 32,
        Value::Json(json) => json_size(json),
        _ => 0,
    }
}

/// An item of a list or map made with it: a text, or an entity a query read.
fn text_size(value: &Value) -> usize {
    match value {
        Value::Text(text) => text.as_str().len() + 32,
        Value::Entity(entity) => entity
            .values
            .try_borrow()
            .map_or(96, |v| v.len() * (SLOT + 16) + 96),
        _ => 0,
    }
}

/// The bytes held by the values reachable from `roots`, each counted once; the walk
/// stops as soon as the total passes `stop`.
pub fn held<'v>(roots: impl Iterator<Item = &'v Value>, stop: usize) -> usize {
    let mut seen: HashSet<usize> = HashSet::new();
    let mut todo: Vec<Value> = roots.filter(|v| is_heap(v)).cloned().collect();
    let mut total = todo.len() * SLOT;
    while let Some(value) = todo.pop() {
        if let Some(address) = address(&value) {
            if !seen.insert(address) {
                continue;
            }
        }
        total = total.saturating_add(own_size(&value, &mut todo));
        if total > stop {
            return total;
        }
    }
    total
}

fn is_heap(value: &Value) -> bool {
    address(value).is_some()
}

fn address(value: &Value) -> Option<usize> {
    Some(match value {
        Value::Text(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::List(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Map(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Record(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Tuple(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Enum(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Func(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Json(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Cell(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Iter(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Query(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Entity(rc) => Rc::as_ptr(rc) as *const () as usize,
        _ => return None,
    })
}

/// A value's own storage; what it holds goes on `todo`.
fn own_size(value: &Value, todo: &mut Vec<Value>) -> usize {
    let mut push = |items: &mut dyn Iterator<Item = &Value>| {
        todo.extend(items.filter(|v| is_heap(v)).cloned());
    };
    match value {
        Value::Text(text) => text.as_str().len() + 32,
        Value::List(items) => match items.try_borrow() {
            Ok(items) => {
                push(&mut items.iter());
                items.capacity() * SLOT + 48
            }
            Err(_) => 48,
        },
        Value::Map(entries) => match entries.try_borrow() {
            Ok(entries) => {
                push(&mut entries.iter().flat_map(|(Key(k), v)| [k, v]));
                entries.capacity() * (3 * SLOT) + 64
            }
            Err(_) => 64,
        },
        Value::Record(record) => match record.values.try_borrow() {
            Ok(values) => {
                push(&mut values.iter());
                values.len() * SLOT + 48
            }
            Err(_) => 48,
        },
        Value::Tuple(items) => {
            push(&mut items.iter());
            items.len() * SLOT + 32
        }
        Value::Enum(e) => {
            push(&mut e.payload.iter());
            e.payload.len() * SLOT + 48
        }
        Value::Func(closure) => {
            push(&mut closure.captures.iter());
            closure.captures.len() * SLOT + 48
        }
        Value::Cell(cell) => {
            if let Ok(inner) = cell.try_borrow() {
                push(&mut std::iter::once(&*inner));
            }
            SLOT + 16
        }
        Value::Iter(state) => {
            if let Ok(state) = state.try_borrow() {
                let mut held = Vec::new();
                state.held(&mut held);
                push(&mut held.iter());
            }
            64
        }
        Value::Query(query) => {
            push(&mut query.params.iter());
            256
        }
        Value::Entity(entity) => match entity.values.try_borrow() {
            Ok(values) => {
                push(&mut values.iter());
                values.len() * SLOT + 96
            }
            Err(_) => 96,
        },
        Value::Json(json) => json_size(json),
        _ => 0,
    }
}

/// About what a parsed JSON value takes.
fn json_size(json: &serde_json::Value) -> usize {
    match json {
        serde_json::Value::String(s) => s.len() + 32,
        serde_json::Value::Array(items) => 32 + items.iter().map(json_size).sum::<usize>(),
        serde_json::Value::Object(map) => {
            48 + map
                .iter()
                .map(|(k, v)| k.len() + 32 + json_size(v))
                .sum::<usize>()
        }
        _ => 32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_values_count_once_and_the_walk_stops_early() {
        let text = Value::text("x".repeat(1000));
        let list = Value::list(vec![text.clone(), text.clone(), text]);
        let once = held(std::iter::once(&list), usize::MAX);
        assert!((1000..2000).contains(&once), "{once}");
        let twice = held([list.clone(), list.clone()].iter(), usize::MAX);
        assert!(twice < once + 100, "{twice} vs {once}");
    }
}
