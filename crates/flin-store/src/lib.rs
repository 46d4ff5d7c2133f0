//! FlinDB: entities on SQLite (and later PostgreSQL): schema from entity declarations and
//! its evolution, saves with full history, soft and hard deletes, query plans compiled to
//! prepared SQL, time travel, and units of work as transactions (spec/data.md).
//!
//! Invariant: the store knows nothing of the VM's value layout or of FLIN syntax. It
//! sees plain data at its boundary (entity descriptions, rows of [`flin_query::Datum`],
//! query plans), so the VM and the database can change independently.

mod auto_index;
mod bus;
mod columns;
mod db;
mod embedding;
mod engine;
mod error;
mod files;
mod jobs;
pub mod progress;
mod query;
mod row;
mod schema;
mod search;
mod sessions;
mod store;
mod validate;

pub use db::Db;
pub use error::{READ_ONLY, Result, StoreError};
pub use row::{At, QueryResult, Row};
pub use schema::Change;
/// Every rule of data.md §1 that `values` break (one message per field), without writing
/// anything: `validate { }` blocks of routes use it too.
pub fn check_rules(
    def: &flin_query::EntityDef,
    values: &[flin_query::Datum],
) -> Vec<(String, String)> {
    validate::check(def, values)
}

pub use bus::{BroadcastListener, listen};
pub use embedding::embed_in_background;
pub use engine::redact as redact_url;
pub use jobs::JobRun;
pub use search::SearchRequest;
pub use sessions::SessionRow;
pub use store::{
    Database, Durability, Location, Store, Unit, backup, backup_with_progress,
    drop_postgres_schema, open_existing, open_postgres, restore, restore_with_progress,
};
