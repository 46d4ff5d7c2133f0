//! The FLIN value: what a register holds (language.md §3).
//!
//! Layout: a one-byte tag and an eight-byte payload, 16 bytes in all (a test asserts
//! it; DESIGN.md: at most 16). Scalars live in the payload and never allocate: `none`,
//! `bool`, `int` (i64), `number` (f64), `money` (packed, see [`Money`]), `duration`
//! (microseconds) and `time` (microseconds since 1970-01-01T00:00:00Z, UTC). Everything
//! else is a reference-counted heap object behind one thin pointer:
//!
//! | variant | heap object | shared / mutable |
//! |---|---|---|
//! | `Text` | [`Str`] | shared, immutable |
//! | `List` | `RefCell<Vec<Value>>` | shared by reference, mutable |
//! | `Map` | `RefCell<IndexMap<Key, Value>>` (insertion order) | shared, mutable |
//! | `Record` | [`Record`]: shape (field names) + values | shared, mutable fields |
//! | `Tuple` | `Vec<Value>` | shared, immutable |
//! | `Enum` | [`EnumValue`]: enum, variant, payload | shared, immutable |
//! | `Func` | [`Closure`] | shared |
//! | `Json` | `serde_json::Value` | shared, immutable |
//! | `Error` | [`ErrorValue`]: message, kind, fields | shared, immutable |
//! | `Cell` | `RefCell<Value>`: a local captured by a closure | shared, mutable |
//! | `Query` | [`QueryValue`]: a query's shape and parameter values | shared, immutable |
//! | `Entity` | [`crate::entity::EntityObj`]: type, id and version, field values | shared, mutable fields |
//! | `Iter` | the state of a `for` loop (internal) | owned by the loop |
//!
//! Reference counting frees values as soon as the last reference goes; nothing is kept
//! across units of work.

use std::cell::RefCell;
use std::rc::Rc;

use flin_syntax::Symbol;
use indexmap::IndexMap;

use crate::program::Function;

// The tag is a whole word (`repr(u64)`) and every payload sits in the second word, so
// a value is written and read as two 8-byte words. With a one-byte tag, a value
// written tag-then-payload and then copied as 16 bytes stalls the CPU's store
// forwarding, and the dispatch loop copies values all the time.
#[derive(Debug)]
#[repr(u64)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Number(f64),
    Money(Money),
    /// Microseconds.
    Duration(i64),
    /// Microseconds since the Unix epoch, UTC.
    Time(i64),
    Text(Rc<Str>),
    List(Rc<RefCell<Vec<Value>>>),
    Map(Rc<RefCell<Entries>>),
    Record(Rc<Record>),
    Tuple(Rc<Vec<Value>>),
    Enum(Rc<EnumValue>),
    Func(Rc<Closure>),
    Json(Rc<serde_json::Value>),
    Error(Rc<ErrorValue>),
    /// A local variable captured by a closure and assigned after: both see one cell.
    Cell(Rc<RefCell<Value>>),
    /// A parameter the caller left out: the callee computes its default.
    Absent,
    /// The state of a `for` loop over a list, map, text or json array (internal).
    Iter(Rc<RefCell<crate::iter::IterState>>),
    /// A query not yet run (data.md §4: a query is a value).
    Query(Rc<QueryValue>),
    /// An entity instance (data.md): saved or not yet.
    Entity(Rc<crate::entity::EntityObj>),
}

impl Clone for Value {
    /// Written out (not derived) so it inlines where values are copied in the dispatch
    /// loop: a scalar is a copy, a heap value one reference count more.
    #[inline(always)]
    fn clone(&self) -> Value {
        match self {
            Value::None => Value::None,
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Int(*i),
            Value::Number(n) => Value::Number(*n),
            Value::Money(m) => Value::Money(*m),
            Value::Duration(d) => Value::Duration(*d),
            Value::Time(t) => Value::Time(*t),
            Value::Absent => Value::Absent,
            Value::Text(rc) => Value::Text(Rc::clone(rc)),
            Value::List(rc) => Value::List(Rc::clone(rc)),
            Value::Map(rc) => Value::Map(Rc::clone(rc)),
            Value::Record(rc) => Value::Record(Rc::clone(rc)),
            Value::Tuple(rc) => Value::Tuple(Rc::clone(rc)),
            Value::Enum(rc) => Value::Enum(Rc::clone(rc)),
            Value::Func(rc) => Value::Func(Rc::clone(rc)),
            Value::Json(rc) => Value::Json(Rc::clone(rc)),
            Value::Error(rc) => Value::Error(Rc::clone(rc)),
            Value::Cell(rc) => Value::Cell(Rc::clone(rc)),
            Value::Iter(rc) => Value::Iter(Rc::clone(rc)),
            Value::Query(rc) => Value::Query(Rc::clone(rc)),
            Value::Entity(rc) => Value::Entity(Rc::clone(rc)),
        }
    }
}

/// A query: its shape, shared by every run of the same chain, and the values of its
/// parameters, computed when the chain was evaluated.
///
/// Used as a list the first time, it runs and keeps its rows: from then on it is that
/// list (data.md §4: `fs = Fortune.all; fs.push(x)` makes `fs.length` one larger).
/// Steps added to it (`.where(…)`) make a new query that runs in the database.
#[derive(Debug)]
pub struct QueryValue {
    pub shape: std::sync::Arc<flin_query::QueryShape>,
    pub params: Vec<Value>,
    pub rows: std::cell::RefCell<Option<Value>>,
}

/// The entries of a map, in insertion order. Hashed with foldhash: several times
/// faster than SipHash on short keys, and seeded per process, so keys chosen by a
/// client cannot be made to collide.
pub type Entries = IndexMap<Key, Value, foldhash::fast::RandomState>;

/// An immutable text with its character count known to be its byte count when ASCII,
/// so indexing ASCII text is O(1), and its hash remembered once computed, so a text
/// used again and again as a map key is hashed once.
#[derive(Debug)]
pub struct Str {
    /// A `String`, not a `Box<str>`: a text held only by the variable being appended to
    /// grows in place (`s += piece` in a loop is linear, not quadratic).
    text: String,
    pub ascii: bool,
    /// The content hash, 0 until computed (and after the text changes).
    hash: std::cell::Cell<u64>,
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.text == other.text
    }
}

impl Eq for Str {}

impl Str {
    pub fn new(text: impl Into<String>) -> Str {
        let text = text.into();
        let ascii = text.is_ascii();
        Str {
            text,
            ascii,
            hash: std::cell::Cell::new(0),
        }
    }

    /// Appends `more`; only for a text no one else holds (`Rc::get_mut`).
    pub fn push_str(&mut self, more: &str) {
        self.ascii &= more.is_ascii();
        self.text.push_str(more);
        self.hash.set(0);
    }

    /// A hash of the content, seeded once per process (so clients cannot choose
    /// colliding keys), computed on first use.
    #[inline]
    pub fn content_hash(&self) -> u64 {
        let known = self.hash.get();
        if known != 0 {
            return known;
        }
        static SEED: std::sync::OnceLock<foldhash::fast::RandomState> = std::sync::OnceLock::new();
        let state = SEED.get_or_init(foldhash::fast::RandomState::default);
        let hash = std::hash::BuildHasher::hash_one(state, self.text.as_str()).max(1);
        self.hash.set(hash);
        hash
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Length in characters (language.md §3: text is indexed by character).
    pub fn char_len(&self) -> usize {
        if self.ascii {
            self.text.len()
        } else {
            self.text.chars().count()
        }
    }
}

/// Money: an amount in the currency's minor units and the currency, packed in one word
/// as `amount << 16 | currency`. Amounts up to ±2^47 minor units (±1.4e12 euros) fit;
/// arithmetic past that is an error of kind "arithmetic".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money(i64);

impl Money {
    pub const MAX_MINOR: i64 = (1 << 47) - 1;

    pub fn new(minor: i64, currency: u16) -> Option<Money> {
        if !(-Money::MAX_MINOR..=Money::MAX_MINOR).contains(&minor) {
            return None;
        }
        Some(Money((minor << 16) | i64::from(currency)))
    }

    pub fn minor(self) -> i64 {
        self.0 >> 16
    }

    pub fn currency(self) -> u16 {
        (self.0 & 0xffff) as u16
    }

    pub fn code(self) -> &'static str {
        flin_syntax::currency::at(self.currency()).map_or("???", |(code, _)| code)
    }

    pub fn digits(self) -> u8 {
        flin_syntax::currency::at(self.currency()).map_or(2, |(_, digits)| digits)
    }
}

/// A record: fixed fields in declaration order.
#[derive(Debug)]
pub struct Record {
    pub shape: Rc<[Symbol]>,
    pub values: RefCell<Vec<Value>>,
}

impl Record {
    /// The position of a field in the record's values.
    #[inline]
    pub fn index_of(&self, name: Symbol) -> Option<usize> {
        self.shape.iter().position(|field| *field == name)
    }

    #[inline]
    pub fn get(&self, name: Symbol) -> Option<Value> {
        let idx = self.shape.iter().position(|field| *field == name)?;
        self.values.borrow().get(idx).cloned()
    }

    /// Sets an existing field; gives the value back when the record has no such
    /// field (or is being read right now).
    #[inline]
    pub fn set(&self, name: Symbol, value: Value) -> Result<(), Value> {
        let Some(idx) = self.shape.iter().position(|field| *field == name) else {
            return Err(value);
        };
        let Ok(mut values) = self.values.try_borrow_mut() else {
            return Err(value);
        };
        match values.get_mut(idx) {
            Some(slot) => {
                *slot = value;
                Ok(())
            }
            None => Err(value),
        }
    }
}

#[derive(Debug)]
pub struct EnumValue {
    pub enum_name: Symbol,
    pub variant: Symbol,
    pub payload: Vec<Value>,
}

/// A function value: compiled code with the values it captured.
#[derive(Debug)]
pub struct Closure {
    pub function: Rc<Function>,
    pub captures: Vec<Value>,
}

/// A runtime error as a value (`Err(e)` of `try`, language.md §9).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorValue {
    pub kind: &'static str,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

/// A map key: the values that can be keys (language.md §3: texts, numbers, enum values,
/// and by extension bools, times and durations). Numbers compare by their bits.
#[derive(Clone, Debug)]
pub struct Key(pub Value);

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        match (&self.0, &other.0) {
            // Texts first: the common key, compared without the general equality.
            (Value::Text(a), Value::Text(b)) => Rc::ptr_eq(a, b) || a.as_str() == b.as_str(),
            (Value::Number(a), Value::Number(b)) => a.to_bits() == b.to_bits(),
            (a, b) => crate::ops::equal(a, b),
        }
    }
}

impl Eq for Key {}

/// A key looked up without being copied into a [`Key`] (hashes and compares the same).
pub struct KeyRef<'v>(pub &'v Value);

impl std::hash::Hash for KeyRef<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        hash_key(self.0, state);
    }
}

impl indexmap::Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        match (self.0, &key.0) {
            (Value::Text(a), Value::Text(b)) => Rc::ptr_eq(a, b) || a.as_str() == b.as_str(),
            (Value::Number(a), Value::Number(b)) => a.to_bits() == b.to_bits(),
            (a, b) => crate::ops::equal(a, b),
        }
    }
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        hash_key(&self.0, state);
    }
}

fn hash_key<H: std::hash::Hasher>(value: &Value, state: &mut H) {
    use std::hash::Hash;
    match value {
        Value::None => 0u8.hash(state),
        Value::Bool(b) => b.hash(state),
        Value::Int(i) => i.hash(state),
        Value::Number(n) => n.to_bits().hash(state),
        Value::Text(t) => state.write_u64(t.content_hash()),
        Value::Money(m) => m.hash(state),
        Value::Duration(d) | Value::Time(d) => d.hash(state),
        Value::Enum(e) => {
            e.enum_name.hash(state);
            e.variant.hash(state);
        }
        Value::Tuple(items) => {
            for item in items.iter() {
                hash_key(item, state);
            }
        }
        // Entities are equal by id (language.md §4).
        Value::Entity(entity) => {
            entity.ty.name.hash(state);
            entity.id().hash(state);
        }
        _ => 1u8.hash(state),
    }
}

impl Value {
    pub fn text(text: impl Into<String>) -> Value {
        Value::Text(Rc::new(Str::new(text)))
    }

    // Containers that can change are registered with the cycle collector (`cycles.rs`).

    pub fn list(items: Vec<Value>) -> Value {
        let value = Value::List(Rc::new(RefCell::new(items)));
        crate::cycles::register(&value);
        value
    }

    pub fn map(entries: Entries) -> Value {
        let value = Value::Map(Rc::new(RefCell::new(entries)));
        crate::cycles::register(&value);
        value
    }

    pub fn cell(inner: Value) -> Value {
        let value = Value::Cell(Rc::new(RefCell::new(inner)));
        crate::cycles::register(&value);
        value
    }

    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(items))
    }

    pub fn record(shape: Rc<[Symbol]>, values: Vec<Value>) -> Value {
        let value = Value::Record(Rc::new(Record {
            shape,
            values: RefCell::new(values),
        }));
        crate::cycles::register(&value);
        value
    }

    pub fn variant(enum_name: &str, variant: &str, payload: Vec<Value>) -> Value {
        Value::Enum(Rc::new(EnumValue {
            enum_name: Symbol::intern(enum_name),
            variant: Symbol::intern(variant),
            payload,
        }))
    }

    pub fn ok(value: Value) -> Value {
        Value::variant("Result", "Ok", vec![value])
    }

    pub fn err(error: ErrorValue) -> Value {
        Value::variant("Result", "Err", vec![Value::Error(Rc::new(error))])
    }

    /// The value a cell holds, or the value itself.
    pub fn read_cell(&self) -> Value {
        match self {
            Value::Cell(cell) => cell.borrow().clone(),
            other => other.clone(),
        }
    }

    /// The name of the value's type, for runtime error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None | Value::Absent => "none",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Number(_) => "number",
            Value::Money(_) => "money",
            Value::Duration(_) => "duration",
            Value::Time(_) => "time",
            Value::Text(_) => "text",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Record(_) => "record",
            Value::Tuple(_) => "tuple",
            Value::Enum(_) => "enum",
            Value::Func(_) => "function",
            Value::Json(_) => "json",
            Value::Error(_) => "Error",
            Value::Cell(_) => "cell",
            Value::Iter(_) => "iterator",
            Value::Query(_) => "query",
            Value::Entity(_) => "entity",
        }
    }

    /// Whether the value points to a heap object (dropping it does something).
    #[inline(always)]
    pub fn is_heap(&self) -> bool {
        !matches!(
            self,
            Value::None
                | Value::Absent
                | Value::Bool(_)
                | Value::Int(_)
                | Value::Number(_)
                | Value::Money(_)
                | Value::Duration(_)
                | Value::Time(_)
        )
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Value::None) || matches!(self, Value::Json(j) if j.is_null())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_at_most_16_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
    }

    #[test]
    fn money_packs_amount_and_currency() {
        let eur = flin_syntax::currency::index_of("EUR").unwrap_or(0);
        let money = Money::new(-125_050, eur);
        assert_eq!(money.map(Money::minor), Some(-125_050));
        assert_eq!(money.map(Money::code), Some("EUR"));
        assert!(Money::new(1 << 50, eur).is_none());
    }
}
