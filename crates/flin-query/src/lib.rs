//! Query plans: what a `where/order/limit` chain asks of the database (data.md §4), as
//! plain data shared by the compiler that builds them, the VM that carries them and the
//! store that runs them.
//!
//! A [`QueryShape`] is everything about a query but its values: the entity, the
//! conditions over fields, the order, where `limit` and `offset` come from, which rows
//! (live, soft-deleted, both). Every value a condition compares with is a numbered
//! parameter, computed before the query runs, so one shape serves every call and the
//! store prepares its SQL once per shape. A [`QueryPlan`] is a shape with its parameter
//! values ([`Datum`]); a [`Terminal`] says what to bring back (the rows, a count, a sum…).
//!
//! [`EntityDef`] describes an entity's fields, types and rules the same way for all three.
//!
//! Invariant: this crate knows nothing of FLIN syntax, of the VM's value layout or of
//! SQL. Names are plain text; values are [`Datum`].

mod datum;
mod explain;
mod schema;
mod shape;

pub use datum::Datum;
pub use schema::{EntityDef, FieldDef, FieldType, OnDelete, Rule};
pub use shape::{
    ArithOp, CmpOp, Cond, Deleted, Operand, OrderKey, Param, QueryPlan, QueryShape, SearchMode,
    Terminal, TextMatch,
};
