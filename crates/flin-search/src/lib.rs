//! Search (spec/search.md): the tokenizer, query parsing, BM25 scoring and rank fusion,
//! the embedding models (built in, or a folder) and the in-memory vector index.
//!
//! Invariant: search knows nothing of the VM, the database or HTTP; it takes texts
//! and query parameters and returns ranked ids with scores. The store keeps the
//! indexes in step with its rows and calls it inside its transactions.

pub mod bert;
pub mod embedder;
pub mod folder;
pub mod hnsw;
pub mod keyword;
pub mod model;
pub mod query;
pub mod rank;
pub mod tokens;
pub mod vectors;
pub mod wordpiece;
#[doc(hidden)]
pub mod workload;

pub use keyword::{DocTerms, KeywordIndex};
pub use query::{Query, parse};
pub use rank::{FieldStats, fuse, top};
pub use vectors::VectorSet;
