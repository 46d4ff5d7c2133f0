//! FlinDB: entities on SQLite (and later PostgreSQL): schema from entity declarations and
//! its evolution, saves with full history, soft and hard deletes, query plans compiled to
//! prepared SQL, time travel, and keyword indexes kept in the same transaction
//! (spec/data.md).
//!
//! Not built yet: this crate is the place for issue "FlinDB".
//!
//! Invariant: the store knows nothing of the VM's value layout or of FLIN syntax. It
//! sees plain data at its boundary (entity descriptions, rows of typed values, query
//! plans), so the VM and the database can change independently.
