//! FLIN's front end: source text to tokens to a syntax tree, with every syntax error.
//!
//! Read [`lexer`] first (the modes that let code and markup share a file), then
//! [`parser`] (a recursive-descent parser with Pratt expressions) and [`ast`].
//! [`parse`] is the entry point: it always returns a tree plus the list of diagnostics,
//! never a `Result` — broken input is normal input for a front end.
//!
//! Invariant: this crate knows nothing of types, the VM, the database or HTTP. It turns
//! text into a tree; meaning is given by `flin-check`. It does no I/O: callers hand it
//! text, so it can run on any thread and in the fuzzer.

pub mod ast;
pub mod currency;
pub mod format;
pub mod lexer;
mod parser;
pub mod span_check;
pub mod symbol;
pub mod text;
pub mod token;
pub mod units;
pub mod visit;

pub use parser::{Parsed, parse};
pub use symbol::Symbol;
