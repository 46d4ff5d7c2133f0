//! The database engines under FlinDB (data.md §9): SQLite, and PostgreSQL for several
//! servers on one database. The store writes its SQL once, in SQLite's dialect with
//! numbered parameters (`?1`); a PostgreSQL connection translates each statement once
//! (`translate.rs`) and caches it prepared. Where the dialects differ in meaning rather
//! than spelling (lists of ids, scalar `max`, `NOT` over a condition), the SQL builders
//! ask [`Conn::engine`] and write each engine's form.
//!
//! Values cross this boundary as SQLite values ([`Sql`]): the PostgreSQL side converts
//! them to and from the types the server infers, so the rest of the store sees one kind
//! of row.

mod pg;
mod tls;
mod translate;

use rusqlite::ToSql;
use rusqlite::types::{FromSql, Value as Sql, ValueRef};

use crate::error::{Result, StoreError};

pub(crate) use pg::PgConn;
pub use pg::redact;
pub(crate) use tls::connector as tls_connector;

/// Which engine a connection talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// One connection to the database, of either engine.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgConn>),
}

/// One row of a result, read by column position.
pub(crate) enum RowRef<'a, 'r> {
    Sqlite(&'a rusqlite::Row<'r>),
    Postgres(&'a [Sql]),
}

impl RowRef<'_, '_> {
    pub fn get_ref(&self, i: usize) -> Result<ValueRef<'_>> {
        match self {
            RowRef::Sqlite(row) => Ok(row.get_ref(i)?),
            RowRef::Postgres(values) => values.get(i).map(ValueRef::from).ok_or_else(|| {
                StoreError::Database(format!("internal: the result has no column {i}"))
            }),
        }
    }

    pub fn get<T: FromSql>(&self, i: usize) -> Result<T> {
        match self {
            RowRef::Sqlite(row) => Ok(row.get(i)?),
            RowRef::Postgres(_) => T::column_result(self.get_ref(i)?)
                .map_err(|e| StoreError::Database(format!("column {i} cannot be read: {e}"))),
        }
    }
}

impl Conn {
    pub fn engine(&self) -> Engine {
        match self {
            Conn::Sqlite(_) => Engine::Sqlite,
            Conn::Postgres(_) => Engine::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (backups, pragmas, hooks).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Sqlite(conn) => Some(conn),
            Conn::Postgres(_) => None,
        }
    }

    /// Runs statements without parameters or results (schema changes, transactions).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Conn::Postgres(conn) => conn.batch(sql),
        }
    }

    /// Runs one statement (prepared once per connection); returns the rows it changed.
    pub fn execute<P: ToSql>(&self, sql: &str, params: &[P]) -> Result<usize> {
        match self {
            Conn::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                bind(&mut stmt, params)?;
                Ok(stmt.raw_execute()?)
            }
            Conn::Postgres(conn) => conn.execute(sql, &values(params)?),
        }
    }

    /// Calls `f` on every row of a query.
    pub fn each<P: ToSql>(
        &self,
        sql: &str,
        params: &[P],
        mut f: impl FnMut(&RowRef<'_, '_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Conn::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                bind(&mut stmt, params)?;
                let mut rows = stmt.raw_query();
                while let Some(row) = rows.next()? {
                    f(&RowRef::Sqlite(row))?;
                }
                Ok(())
            }
            Conn::Postgres(conn) => {
                for row in conn.query(sql, &values(params)?)? {
                    f(&RowRef::Postgres(&row))?;
                }
                Ok(())
            }
        }
    }

    /// The rows of a query, each made by `f`.
    pub fn query_map<P: ToSql, T>(
        &self,
        sql: &str,
        params: &[P],
        mut f: impl FnMut(&RowRef<'_, '_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.each(sql, params, |row| {
            out.push(f(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query, if there is one.
    pub fn query_opt<P: ToSql, T>(
        &self,
        sql: &str,
        params: &[P],
        f: impl FnOnce(&RowRef<'_, '_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.each(sql, params, |row| {
            if let Some(f) = f.take() {
                out = Some(f(row)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query, which must have one (`count(*)` and the like).
    pub fn query_row<P: ToSql, T>(
        &self,
        sql: &str,
        params: &[P],
        f: impl FnOnce(&RowRef<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, params, f)?
            .ok_or_else(|| StoreError::Database("the query returned no row".into()))
    }

    /// Inserts a row and returns its new `id` (the statement ends with `RETURNING`).
    pub fn insert_returning<P: ToSql>(&self, sql: &str, params: &[P]) -> Result<Option<i64>> {
        self.query_opt(sql, params, |row| row.get::<i64>(0))
    }

    /// Starts a transaction that may write. On PostgreSQL it first takes the
    /// database-wide write lock, so units of work that write run one at a time across
    /// every server, as they do on one SQLite file.
    pub fn begin_write(&self) -> Result<()> {
        match self {
            Conn::Sqlite(conn) => Ok(conn.execute_batch("BEGIN IMMEDIATE")?),
            Conn::Postgres(conn) => conn.begin_write(),
        }
    }

    /// Starts a transaction that only reads, on one snapshot.
    pub fn begin_read(&self) -> Result<()> {
        match self {
            Conn::Sqlite(conn) => Ok(conn.execute_batch("BEGIN")?),
            Conn::Postgres(conn) => conn.batch("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
        }
    }

    /// Whether no transaction is open.
    pub fn is_autocommit(&self) -> bool {
        match self {
            Conn::Sqlite(conn) => conn.is_autocommit(),
            Conn::Postgres(conn) => !conn.in_transaction(),
        }
    }

    /// Runs `f` in a write transaction: committed when it returns `Ok`, rolled back
    /// otherwise.
    pub fn write_transaction<T>(&self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        self.begin_write()?;
        match f(self) {
            Ok(value) => {
                self.execute_batch("COMMIT")?;
                Ok(value)
            }
            Err(error) => {
                let _ = self.execute_batch("ROLLBACK");
                Err(error)
            }
        }
    }

    /// Whether a table exists.
    pub fn has_table(&self, name: &str) -> Result<bool> {
        let sql = match self.engine() {
            Engine::Sqlite => {
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1"
            }
            Engine::Postgres => {
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?1"
            }
        };
        Ok(self.query_row(sql, &[name], |r| r.get::<i64>(0))? > 0)
    }

    /// The column names of a table, in order.
    pub fn columns(&self, table: &str) -> Result<Vec<String>> {
        let sql = match self.engine() {
            Engine::Sqlite => "SELECT name FROM pragma_table_info(?1)",
            Engine::Postgres => {
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position"
            }
        };
        self.query_map(sql, &[table], |r| r.get::<String>(0))
    }
}

fn bind<P: ToSql>(stmt: &mut rusqlite::CachedStatement<'_>, params: &[P]) -> Result<()> {
    let count = stmt.parameter_count();
    for (i, value) in params.iter().enumerate().take(count) {
        stmt.raw_bind_parameter(i + 1, value)?;
    }
    Ok(())
}

/// Parameters as owned SQL values (for PostgreSQL).
fn values<P: ToSql>(params: &[P]) -> Result<Vec<Sql>> {
    use rusqlite::types::ToSqlOutput;
    params
        .iter()
        .map(|p| {
            Ok(match p.to_sql()? {
                ToSqlOutput::Borrowed(value) => Sql::from(value),
                ToSqlOutput::Owned(value) => value,
                _ => {
                    return Err(StoreError::Database(
                        "internal: a parameter PostgreSQL cannot take".into(),
                    ));
                }
            })
        })
        .collect()
}

/// `(SELECT …)` of the ids in a JSON array parameter, for `"id" IN …`.
pub(crate) fn id_list(engine: Engine, param: &str) -> String {
    match engine {
        Engine::Sqlite => format!("(SELECT value FROM json_each({param}))"),
        Engine::Postgres => {
            format!("(SELECT value::bigint FROM json_array_elements_text({param}::json) AS value)")
        }
    }
}
