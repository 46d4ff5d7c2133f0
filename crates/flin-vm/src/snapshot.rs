//! Copies and fingerprints of values, for live views (web.md §9). A view's state is
//! copied before an event runs, so a handler that fails leaves the state as it was
//! (in-place changes included); values are fingerprinted to tell whether a variable
//! changed, whether a component's props changed, and to name a handler by what it
//! captured.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use crate::value::{Entries, Value};

/// Deep copies that keep sharing: a value reachable twice (or through a cycle) is
/// copied once, so the copy has the same shape as the original.
#[derive(Default)]
pub struct Copier {
    seen: HashMap<usize, Value>,
}

impl Copier {
    pub fn new() -> Copier {
        Copier::default()
    }

    /// A copy of `value` in which every mutable part (lists, maps, records, entities,
    /// cells) is new; immutable parts (texts, closures, queries …) are shared.
    pub fn copy(&mut self, value: &Value) -> Value {
        match value {
            Value::List(list) => {
                let key = Rc::as_ptr(list) as usize;
                if let Some(done) = self.seen.get(&key) {
                    return done.clone();
                }
                let copy = Value::list(Vec::new());
                self.seen.insert(key, copy.clone());
                let items: Vec<Value> = list.borrow().iter().map(|v| self.copy(v)).collect();
                if let Value::List(target) = &copy {
                    *target.borrow_mut() = items;
                }
                copy
            }
            Value::Map(map) => {
                let key = Rc::as_ptr(map) as usize;
                if let Some(done) = self.seen.get(&key) {
                    return done.clone();
                }
                let copy = Value::map(Entries::default());
                self.seen.insert(key, copy.clone());
                let entries: Entries = map
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), self.copy(v)))
                    .collect();
                if let Value::Map(target) = &copy {
                    *target.borrow_mut() = entries;
                }
                copy
            }
            Value::Record(record) => {
                let key = Rc::as_ptr(record) as usize;
                if let Some(done) = self.seen.get(&key) {
                    return done.clone();
                }
                let copy = Value::record(record.shape.clone(), Vec::new());
                self.seen.insert(key, copy.clone());
                let values: Vec<Value> = record
                    .values
                    .borrow()
                    .iter()
                    .map(|v| self.copy(v))
                    .collect();
                if let Value::Record(target) = &copy {
                    *target.values.borrow_mut() = values;
                }
                copy
            }
            Value::Entity(entity) => {
                let key = Rc::as_ptr(entity) as usize;
                if let Some(done) = self.seen.get(&key) {
                    return done.clone();
                }
                let copy =
                    crate::entity::new_entity(entity.ty.clone(), entity.meta.get(), Vec::new());
                self.seen.insert(key, copy.clone());
                let values: Vec<Value> = entity
                    .values
                    .borrow()
                    .iter()
                    .map(|v| self.copy(v))
                    .collect();
                if let Value::Entity(target) = &copy {
                    *target.values.borrow_mut() = values;
                    target.expanded.set(entity.expanded.get());
                    target.dirty.set(entity.dirty.get());
                }
                copy
            }
            Value::Cell(cell) => {
                let key = Rc::as_ptr(cell) as usize;
                if let Some(done) = self.seen.get(&key) {
                    return done.clone();
                }
                let copy = Value::cell(Value::None);
                self.seen.insert(key, copy.clone());
                let inner = self.copy(&cell.borrow());
                if let Value::Cell(target) = &copy {
                    *target.borrow_mut() = inner;
                }
                copy
            }
            // A query that kept its rows (used as a list) is copied with them.
            Value::Query(query) if query.rows.borrow().is_some() => {
                let rows = query.rows.borrow().as_ref().map(|rows| self.copy(rows));
                Value::Query(Rc::new(crate::value::QueryValue {
                    shape: query.shape.clone(),
                    params: query.params.clone(),
                    rows: std::cell::RefCell::new(rows),
                }))
            }
            Value::Tuple(items) => Value::tuple(items.iter().map(|v| self.copy(v)).collect()),
            Value::Enum(variant) if !variant.payload.is_empty() => {
                Value::Enum(Rc::new(crate::value::EnumValue {
                    enum_name: variant.enum_name,
                    variant: variant.variant,
                    payload: variant.payload.iter().map(|v| self.copy(v)).collect(),
                }))
            }
            other => other.clone(),
        }
    }
}

/// What a fingerprint looks at in an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fingerprint {
    /// Everything the value shows: an entity's fields and version too. Two values with
    /// the same content fingerprint render the same.
    Content,
    /// Identity: a saved entity is its type and id, whatever its fields hold now. A
    /// handler that captured `n` keeps its name while `n` is edited.
    Identity,
}

/// Deeper than this, a value counts by where it is in memory (bounded work on deep or
/// cyclic values).
const MAX_DEPTH: usize = 6;

/// A fingerprint of a value: equal values give equal fingerprints (within a process).
pub fn fingerprint(value: &Value, mode: Fingerprint) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    feed(value, mode, 0, &mut hasher);
    hasher.finish()
}

fn feed(value: &Value, mode: Fingerprint, depth: usize, h: &mut std::hash::DefaultHasher) {
    let tag = std::mem::discriminant(value);
    tag.hash(h);
    if depth > MAX_DEPTH && value.is_heap() {
        address(value).hash(h);
        return;
    }
    match value {
        Value::None | Value::Absent => {}
        Value::Bool(b) => b.hash(h),
        Value::Int(i) => i.hash(h),
        Value::Number(n) => n.to_bits().hash(h),
        Value::Money(m) => {
            m.minor().hash(h);
            m.currency().hash(h);
        }
        Value::Duration(d) | Value::Time(d) => d.hash(h),
        Value::Text(text) => text.as_str().hash(h),
        Value::List(items) => {
            let items = items.borrow();
            items.len().hash(h);
            for item in items.iter() {
                feed(item, mode, depth + 1, h);
            }
        }
        Value::Tuple(items) => {
            for item in items.iter() {
                feed(item, mode, depth + 1, h);
            }
        }
        Value::Map(entries) => {
            let entries = entries.borrow();
            entries.len().hash(h);
            for (key, item) in entries.iter() {
                feed(&key.0, mode, depth + 1, h);
                feed(item, mode, depth + 1, h);
            }
        }
        Value::Record(record) => {
            for (name, item) in record.shape.iter().zip(record.values.borrow().iter()) {
                name.as_str().hash(h);
                feed(item, mode, depth + 1, h);
            }
        }
        Value::Enum(variant) => {
            variant.enum_name.as_str().hash(h);
            variant.variant.as_str().hash(h);
            for item in &variant.payload {
                feed(item, mode, depth + 1, h);
            }
        }
        Value::Entity(entity) => {
            entity.ty.def.name.hash(h);
            let meta = entity.meta.get();
            match (mode, meta.id) {
                (Fingerprint::Identity, Some(id)) => id.hash(h),
                (Fingerprint::Identity, None) => address(value).hash(h),
                (Fingerprint::Content, id) => {
                    id.hash(h);
                    meta.version.hash(h);
                    meta.deleted_at.hash(h);
                    for item in entity.values.borrow().iter() {
                        match item {
                            // A reference counts by what it refers to.
                            Value::Entity(other) => other.id().hash(h),
                            other => feed(other, mode, depth + 1, h),
                        }
                    }
                }
            }
        }
        Value::Func(closure) => {
            closure.function.index.hash(h);
            for item in &closure.captures {
                feed(item, mode, depth + 1, h);
            }
        }
        Value::Cell(cell) => feed(&cell.borrow(), mode, depth + 1, h),
        Value::Json(json) => json.to_string().hash(h),
        Value::Error(error) => {
            error.kind.hash(h);
            error.message.hash(h);
        }
        Value::Query(_) | Value::Iter(_) => address(value).hash(h),
    }
}

/// Where a heap value lives (0 for scalars).
fn address(value: &Value) -> usize {
    match value {
        Value::Text(rc) => Rc::as_ptr(rc) as usize,
        Value::List(rc) => Rc::as_ptr(rc) as *const u8 as usize,
        Value::Map(rc) => Rc::as_ptr(rc) as *const u8 as usize,
        Value::Record(rc) => Rc::as_ptr(rc) as usize,
        Value::Tuple(rc) => Rc::as_ptr(rc) as *const u8 as usize,
        Value::Enum(rc) => Rc::as_ptr(rc) as usize,
        Value::Func(rc) => Rc::as_ptr(rc) as usize,
        Value::Json(rc) => Rc::as_ptr(rc) as usize,
        Value::Error(rc) => Rc::as_ptr(rc) as usize,
        Value::Cell(rc) => Rc::as_ptr(rc) as *const u8 as usize,
        Value::Iter(rc) => Rc::as_ptr(rc) as *const u8 as usize,
        Value::Query(rc) => Rc::as_ptr(rc) as usize,
        Value::Entity(rc) => Rc::as_ptr(rc) as usize,
        _ => 0,
    }
}

/// Whether a value holds an entity with unsaved changes (directly, or as an item of a
/// list): a live value holding one is an edit in progress (web.md §9).
pub fn holds_unsaved_entity(value: &Value) -> bool {
    match value {
        Value::Entity(entity) => entity.dirty.get(),
        Value::List(items) => items.borrow().iter().any(|item| match item {
            Value::Entity(entity) => entity.dirty.get(),
            _ => false,
        }),
        Value::Cell(cell) => holds_unsaved_entity(&cell.borrow()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_shares_nothing_mutable_and_keeps_sharing() {
        let inner = Value::list(vec![Value::Int(1)]);
        let outer = Value::list(vec![inner.clone(), inner.clone()]);
        let copy = Copier::new().copy(&outer);
        if let Value::List(items) = &inner {
            items.borrow_mut().push(Value::Int(2));
        }
        assert_eq!(crate::display::display(&copy), "[[1], [1]]");
        let Value::List(items) = &copy else {
            unreachable!()
        };
        let items = items.borrow();
        let (Some(Value::List(a)), Some(Value::List(b))) = (items.first(), items.get(1)) else {
            unreachable!()
        };
        assert!(Rc::ptr_eq(a, b));
    }

    #[test]
    fn fingerprints_follow_content() {
        let a = Value::list(vec![Value::text("x"), Value::Int(2)]);
        let b = Value::list(vec![Value::text("x"), Value::Int(2)]);
        let c = Value::list(vec![Value::text("x"), Value::Int(3)]);
        assert_eq!(
            fingerprint(&a, Fingerprint::Content),
            fingerprint(&b, Fingerprint::Content)
        );
        assert_ne!(
            fingerprint(&a, Fingerprint::Content),
            fingerprint(&c, Fingerprint::Content)
        );
    }
}
