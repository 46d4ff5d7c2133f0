//! What can go wrong in the store, in words a FLIN program's author can act on.

use std::fmt;

/// A failed store operation. Nothing it tried to write stays (each operation runs in
/// its own savepoint).
#[derive(Clone, Debug, PartialEq)]
pub enum StoreError {
    /// Values that break a field's rules (data.md §1): each failing field with its message.
    Validation(Vec<(String, String)>),
    /// A rule across rows: `@on_delete(restrict)`, a reference to a row that does not
    /// exist, a row that was destroyed.
    Constraint(String),
    /// The declared entities cannot be applied to the stored data (data.md §8).
    Schema(String),
    /// The database file cannot be used: locked by another process, read-only, damaged.
    Unavailable(String),
    /// Anything else SQLite reports.
    Database(String),
}

impl StoreError {
    /// The `kind` of the FLIN error this becomes (language.md §9).
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::Validation(_) => "validation",
            StoreError::Constraint(_) => "constraint",
            StoreError::Schema(_) => "schema",
            StoreError::Unavailable(_) | StoreError::Database(_) => "database",
        }
    }

    pub fn validation(field: &str, message: String) -> StoreError {
        StoreError::Validation(vec![(field.to_string(), message)])
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Validation(fields) => {
                let messages: Vec<&str> = fields.iter().map(|(_, m)| m.as_str()).collect();
                f.write_str(&messages.join(", "))
            }
            StoreError::Constraint(m)
            | StoreError::Schema(m)
            | StoreError::Unavailable(m)
            | StoreError::Database(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        if let rusqlite::Error::SqliteFailure(failure, _) = &error {
            match failure.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    return StoreError::Unavailable(
                        "the database is locked by another process (is another `flin` running on it?)"
                            .into(),
                    );
                }
                ErrorCode::ReadOnly => return StoreError::Unavailable(READ_ONLY.into()),
                ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => {
                    return StoreError::Unavailable(
                        "the database file is damaged or is not a FLIN database: restore a backup with `flin db restore <file>`"
                            .into(),
                    );
                }
                ErrorCode::DiskFull => {
                    return StoreError::Unavailable("the disk is full".into());
                }
                ErrorCode::CannotOpen => {
                    return StoreError::Unavailable(format!(
                        "the database file cannot be opened: {error}"
                    ));
                }
                _ => {}
            }
        }
        StoreError::Database(error.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The message of a write refused because the connection or the file is read-only (a
/// unit of work on a reader connection that tried to write is retried on the writer).
pub const READ_ONLY: &str = "the database file is read-only: check its permissions";
