//! Search: the built-in embedding model, the vector index and the fusion of keyword
//! (BM25) and semantic rankings (spec/search.md).
//!
//! Not built yet.
//!
//! Invariant: search knows nothing of the VM or of HTTP; it takes texts and query
//! parameters and returns ranked ids with scores.
