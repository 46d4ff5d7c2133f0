//! Files in rows (services.md §2): a `file` field holds the file's parts as JSON text
//! (`{"name", "size", "type", "hash"}`); the bytes live elsewhere, content-addressed by
//! the hash. The store reads those parts to check `@types` and `@max_size`, and lists
//! every hash any version of any row refers to, so blobs nobody refers to can go.

use std::collections::HashSet;

use flin_query::FieldType;

use crate::columns::{field_columns, history_columns, history_table, table};
use crate::error::Result;
use crate::store::Store;

/// The parts of a stored file the rules look at.
pub struct StoredFile {
    pub size: i64,
    pub content_type: String,
}

/// The parts of a file column's text; `None` when the text is not a file.
pub fn parts(text: &str) -> Option<StoredFile> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    let object = json.as_object()?;
    let hash = object.get("hash")?.as_str()?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    object.get("name")?.as_str()?;
    Some(StoredFile {
        size: object.get("size")?.as_i64()?,
        content_type: object.get("type")?.as_str()?.to_string(),
    })
}

impl Store {
    /// Whether any entity has a `file` field (else no row can refer to a blob).
    pub fn has_files(&self) -> bool {
        self.entities()
            .iter()
            .any(|def| def.fields.iter().any(|f| f.ty == FieldType::File))
    }

    /// The hash of every file that any version of any row refers to (history
    /// included), as committed when this is called: one statement per file column.
    pub fn file_hashes(&self) -> Result<HashSet<String>> {
        let mut hashes = HashSet::new();
        if !self.has_files() {
            return Ok(hashes);
        }
        let unit = self.read_unit()?;
        self.read_file_hashes(&unit, &mut hashes)?;
        unit.rollback()?;
        Ok(hashes)
    }

    fn read_file_hashes(&self, unit: &crate::Unit<'_>, hashes: &mut HashSet<String>) -> Result<()> {
        let db = unit.db()?;
        for def in self.entities() {
            for field in def.fields.iter().filter(|f| f.ty == FieldType::File) {
                let main = field_columns(field)
                    .into_iter()
                    .map(|c| (table(&def.name), c));
                let history = history_columns(field)
                    .into_iter()
                    .map(|c| (history_table(&def.name), c));
                for (table, column) in main.chain(history) {
                    let sql = match db.engine() {
                        crate::engine::Engine::Sqlite => format!(
                            "SELECT DISTINCT json_extract({column}, '$.hash') FROM {table} \
                             WHERE {column} IS NOT NULL AND json_valid({column})"
                        ),
                        // Every value of a file column is a file's JSON (written by FLIN).
                        crate::engine::Engine::Postgres => format!(
                            "SELECT DISTINCT ({column}::json)->>'hash' FROM {table} \
                             WHERE {column} LIKE '{{%'"
                        ),
                    };
                    let rows =
                        db.conn
                            .query_map::<rusqlite::types::Value, _>(&sql, &[], |row| {
                                row.get::<Option<String>>(0)
                            })?;
                    for hash in rows.into_iter().flatten() {
                        hashes.insert(hash.to_ascii_lowercase());
                    }
                }
            }
        }
        Ok(())
    }
}
