//! Interned names: one process-wide table, shared by the files parsed in parallel.
//!
//! A [`Symbol`] is a `u32` key: names compare and hash as integers, and each distinct
//! spelling is stored once. The table only grows; a development server that recompiles for
//! days still holds each distinct identifier once, which stays small.

use std::fmt;
use std::sync::LazyLock;

use lasso::{Spur, ThreadedRodeo};

static INTERNER: LazyLock<ThreadedRodeo> = LazyLock::new(ThreadedRodeo::new);

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(Spur);

impl Symbol {
    pub fn intern(text: &str) -> Symbol {
        Symbol(INTERNER.get_or_intern(text))
    }

    pub fn as_str(self) -> &'static str {
        INTERNER.resolve(&self.0)
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A symbol is written as its text (compiled bundles, `flin build`).
impl serde::Serialize for Symbol {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Symbol {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Symbol, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Symbol::intern(&text))
    }
}
