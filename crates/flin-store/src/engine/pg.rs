//! One PostgreSQL connection (data.md §10): statements translated from the store's
//! SQLite dialect and prepared once, values converted to and from the types the server
//! infers, errors in the same words as SQLite's, and the tables a writer changes noted
//! for the commit listeners (SQLite's update hook does that on the other engine).
//!
//! Each round trip to the server costs two thread wake-ups, more than a short query
//! itself, so a unit's `BEGIN` (and a writer's lock) is not sent alone: it waits for the
//! unit's first statement and goes with it, pipelined (`tokio-postgres` on a runtime of
//! the connection's own, driven only while a call waits). A unit that runs nothing
//! sends nothing.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use rusqlite::types::Value as Sql;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Statement};

use super::translate;
use crate::error::{READ_ONLY, Result, StoreError};

/// The key of the advisory lock a unit of work that writes holds until it ends: the
/// writes of every server go one at a time, as on one SQLite file.
const WRITE_LOCK: i64 = 0x464c_494e; // "FLIN"

/// How many prepared statements a connection keeps.
const CACHED: usize = 512;

type Boxed = Box<dyn Error + Sync + Send>;

/// A prepared statement and the table it writes, if it does.
type Prepared = (Statement, Option<Arc<str>>);

pub(crate) struct PgConn {
    /// Runs the connection's I/O while a call waits on it (nothing in between).
    runtime: Runtime,
    client: Client,
    /// `BEGIN …` to send with the next statement.
    pending: RefCell<Option<String>>,
    /// Whether the open transaction only reads (its end need not be waited for).
    read_only: Cell<bool>,
    /// Per statement (in the store's dialect): prepared, and the table it writes.
    statements: RefCell<HashMap<String, Prepared>>,
    in_transaction: Cell<bool>,
    /// Where a writer notes the tables it changed.
    touched: Option<Arc<Mutex<HashSet<String>>>>,
}

impl PgConn {
    /// Connects to the database at `url`, in `schema` (made when missing) if given.
    pub fn connect(
        url: &str,
        schema: Option<&str>,
        touched: Option<Arc<Mutex<HashSet<String>>>>,
    ) -> Result<PgConn> {
        let runtime = Runtime(Some(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| StoreError::Unavailable(format!("no runtime for PostgreSQL: {e}")))?,
        ));
        let refused = |e: tokio_postgres::Error| {
            StoreError::Unavailable(format!(
                "cannot connect to PostgreSQL at {}: {}",
                redact(url),
                cause(&e)
            ))
        };
        if url.contains("sslmode=verify-") {
            return Err(StoreError::Unavailable(format!(
                "{}: sslmode=verify-ca and verify-full are not supported by this version of FLIN: use sslmode=require (encrypted; the server's certificate is not checked) or keep the database on a private network",
                redact(url)
            )));
        }
        let config: tokio_postgres::Config = url.parse().map_err(refused)?;
        // TLS as the URL's `sslmode` asks (`prefer` when it says nothing; with `disable`
        // the connector is not used).
        let tls = super::tls::connector().map_err(StoreError::Unavailable)?;
        let (client, connection) = runtime.block_on(config.connect(tls))?.map_err(refused)?;
        runtime.spawn(async move {
            let _ = connection.await;
        });
        if let Some(schema) = schema {
            let name = crate::columns::quote(schema);
            runtime
                .block_on(client.batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS {name}; SET search_path TO {name}"
                )))?
                .map_err(error)?;
        }
        Ok(PgConn {
            runtime,
            client,
            pending: RefCell::new(None),
            read_only: Cell::new(false),
            statements: RefCell::new(HashMap::new()),
            in_transaction: Cell::new(false),
            touched,
        })
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    pub fn in_transaction(&self) -> bool {
        self.in_transaction.get() || self.pending.borrow().is_some()
    }

    /// Runs `work` on the server, after the pending `BEGIN` if there is one, in the
    /// same round trip.
    fn run<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        let Some(begin) = self.pending.borrow_mut().take() else {
            return self.runtime.block_on(work)?.map_err(error);
        };
        let (begun, result) = self.runtime.block_on(futures_util::future::join(
            self.client.batch_execute(&begin),
            work,
        ))?;
        // A `BEGIN` that failed leaves no transaction (and the work failed with it).
        begun.map_err(error)?;
        self.in_transaction.set(true);
        result.map_err(error)
    }

    pub fn batch(&self, sql: &str) -> Result<()> {
        // The statement's first words (transaction control is the same in both dialects
        // and goes as it is: no translation on every unit's way in and out).
        let head: String = sql
            .trim_start()
            .chars()
            .take(40)
            .collect::<String>()
            .to_ascii_uppercase();
        let control = ["BEGIN", "COMMIT", "ROLLBACK"]
            .iter()
            .any(|word| head.starts_with(word));
        let ends = head.starts_with("COMMIT")
            || (head.starts_with("ROLLBACK") && !head.starts_with("ROLLBACK TO"));
        if head.starts_with("BEGIN") {
            self.read_only.set(head.contains("READ ONLY"));
            *self.pending.borrow_mut() = Some(sql.to_string());
            return Ok(());
        }
        // A unit that ran nothing has nothing to end.
        if ends && self.pending.borrow_mut().take().is_some() {
            return Ok(());
        }
        if ends && self.read_only.get() && self.in_transaction.get() {
            // A reading unit's end changes nothing and cannot fail in a way that
            // matters: it is sent, and its answer read with the next request's.
            self.in_transaction.set(false);
            self.read_only.set(false);
            return self.send_only("ROLLBACK");
        }
        let result = if control {
            self.run(self.client.batch_execute(sql))
        } else {
            self.run(self.client.batch_execute(&translate::to_postgres(sql)))
        };
        if ends {
            self.in_transaction.set(false);
        }
        result
    }

    /// Sends `sql` without waiting for its answer.
    fn send_only(&self, sql: &str) -> Result<()> {
        use futures_util::FutureExt;
        // The first poll queues the request; the connection's task writes it while
        // this waits for nothing but one turn of the runtime.
        let _ = self.client.batch_execute(sql).now_or_never();
        self.runtime.block_on(tokio::task::yield_now())
    }

    /// Begins a unit that may write: with the database-wide write lock, both sent with
    /// the unit's first statement.
    pub fn begin_write(&self) -> Result<()> {
        self.read_only.set(false);
        *self.pending.borrow_mut() =
            Some(format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"));
        Ok(())
    }

    fn prepared(&self, sql: &str) -> Result<Prepared> {
        if let Some(found) = self.statements.borrow().get(sql) {
            return Ok(found.clone());
        }
        let statement = self
            .runtime
            .block_on(self.client.prepare(&translate::to_postgres(sql)))?
            .map_err(error)?;
        let entry = (statement, written_table(sql).map(Arc::from));
        let mut statements = self.statements.borrow_mut();
        if statements.len() >= CACHED {
            statements.clear();
        }
        statements.insert(sql.to_string(), entry.clone());
        Ok(entry)
    }

    pub fn execute(&self, sql: &str, values: &[Sql]) -> Result<usize> {
        let (statement, table) = self.prepared(sql)?;
        let params = params(&statement, values);
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let changed = self.run(self.client.execute(&statement, &refs))?;
        if changed > 0 {
            self.note_written(table);
        }
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    pub fn query(&self, sql: &str, values: &[Sql]) -> Result<Vec<Vec<Sql>>> {
        let (statement, table) = self.prepared(sql)?;
        let params = params(&statement, values);
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let rows = self.run(self.client.query(&statement, &refs))?;
        if !rows.is_empty() {
            // `INSERT … RETURNING`.
            self.note_written(table);
        }
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        row.try_get::<_, PgValue>(i).map(|v| v.0).map_err(|e| {
                            StoreError::Database(format!("column {i} cannot be read: {e}"))
                        })
                    })
                    .collect()
            })
            .collect()
    }

    fn note_written(&self, table: Option<Arc<str>>) {
        if let (Some(touched), Some(table)) = (&self.touched, table) {
            if let Ok(mut touched) = touched.lock() {
                if !touched.contains(&*table) {
                    touched.insert(table.to_string());
                }
            }
        }
    }
}

/// A connection's runtime. Dropped without waiting: a store may be let go on a thread
/// of the server's own runtime, where waiting is not allowed.
struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    /// Runs `future` to its end (the runtime is there until the connection is dropped).
    fn block_on<F: std::future::Future>(&self, future: F) -> Result<F::Output> {
        match &self.0 {
            Some(runtime) => Ok(runtime.block_on(future)),
            None => Err(StoreError::Unavailable(
                "the database connection is closed".into(),
            )),
        }
    }

    fn spawn<F>(&self, future: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        if let Some(runtime) = &self.0 {
            runtime.spawn(future);
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The table an `INSERT`, `UPDATE` or `DELETE` writes.
fn written_table(sql: &str) -> Option<String> {
    let mut words = sql.split_whitespace();
    let first = words.next()?.to_ascii_uppercase();
    let name = match first.as_str() {
        "INSERT" | "DELETE" => {
            let mut rest = words
                .skip_while(|w| !w.eq_ignore_ascii_case("INTO") && !w.eq_ignore_ascii_case("FROM"));
            rest.next()?;
            rest.next()?
        }
        "UPDATE" => words.next()?,
        _ => return None,
    };
    let name = name.split('(').next().unwrap_or(name);
    Some(name.trim_matches('"').replace("\"\"", "\""))
}

/// The parameters of a statement, each converted to the type the server inferred.
fn params<'v>(statement: &Statement, values: &'v [Sql]) -> Vec<PgParam<'v>> {
    statement
        .params()
        .iter()
        .enumerate()
        .map(|(i, _)| PgParam(values.get(i).unwrap_or(&Sql::Null)))
        .collect()
}

/// A connection URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = url.get(scheme + 3..at).unwrap_or_default();
            let user = user.split(':').next().unwrap_or_default();
            format!(
                "{}{}@{}",
                url.get(..scheme + 3).unwrap_or_default(),
                user,
                url.get(at + 1..).unwrap_or_default()
            )
        }
        _ => url.to_string(),
    }
}

fn cause(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => db.message().to_string(),
        None => match error.source() {
            Some(source) => source.to_string(),
            None => error.to_string(),
        },
    }
}

/// A PostgreSQL error in the words the store uses for SQLite's.
fn error(error: tokio_postgres::Error) -> StoreError {
    let Some(db) = error.as_db_error() else {
        return StoreError::Unavailable(format!(
            "the database connection failed: {}",
            cause(&error)
        ));
    };
    match db.code().code() {
        // unique_violation: the index is named `Entity$unique$field`.
        "23505" => {
            if let Some((entity, field)) = db.constraint().and_then(|c| c.split_once("$unique$")) {
                return StoreError::Database(format!("UNIQUE constraint failed: {entity}.{field}"));
            }
            StoreError::Database(format!("UNIQUE constraint failed: {}", db.message()))
        }
        "23503" => StoreError::Database("FOREIGN KEY constraint failed".into()),
        "25006" => StoreError::Unavailable(READ_ONLY.into()),
        // Connection and server shutdown classes.
        code if code.starts_with("08") || code.starts_with("57P") => {
            StoreError::Unavailable(format!("the database connection failed: {}", db.message()))
        }
        _ => StoreError::Database(db.message().to_string()),
    }
}

/// A store value bound to a parameter of whatever type the server inferred for it.
#[derive(Debug)]
struct PgParam<'v>(&'v Sql);

impl ToSql for PgParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Boxed> {
        let wrong = || -> Boxed {
            format!("a {:?} value cannot be bound to a {ty} parameter", self.0).into()
        };
        match self.0 {
            Sql::Null => Ok(IsNull::Yes),
            Sql::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::NUMERIC => numeric(&i.to_string(), out),
                _ if <&str as ToSql>::accepts(ty) => i.to_string().as_str().to_sql(ty, out),
                _ => Err(wrong()),
            },
            Sql::Real(n) => match *ty {
                Type::FLOAT8 => n.to_sql(ty, out),
                Type::FLOAT4 => (*n as f32).to_sql(ty, out),
                // An integral number where the server expects an int (a FLIN number
                // compared with an int column).
                Type::INT8 if n.fract() == 0.0 && n.abs() < 9.2e18 => (*n as i64).to_sql(ty, out),
                Type::NUMERIC => numeric(&n.to_string(), out),
                _ if <&str as ToSql>::accepts(ty) => n.to_string().as_str().to_sql(ty, out),
                _ => Err(wrong()),
            },
            Sql::Text(t) => match *ty {
                Type::INT8 => t.parse::<i64>()?.to_sql(ty, out),
                Type::FLOAT8 => t.parse::<f64>()?.to_sql(ty, out),
                Type::BYTEA => t.as_bytes().to_sql(ty, out),
                _ => t.as_str().to_sql(ty, out),
            },
            Sql::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(wrong()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A NUMERIC parameter from its decimal text, in PostgreSQL's binary form.
fn numeric(text: &str, out: &mut BytesMut) -> Result<IsNull, Boxed> {
    use bytes::BufMut;
    let negative = text.starts_with('-');
    let digits = text.trim_start_matches('-');
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a decimal number").into());
    }
    // Groups of four digits around the decimal point.
    let lead = (4 - whole.len() % 4) % 4;
    let whole = format!("{}{whole}", "0".repeat(lead));
    let trail = (4 - fraction.len() % 4) % 4;
    let fraction_padded = format!("{fraction}{}", "0".repeat(trail));
    let mut groups: Vec<i16> = Vec::new();
    for chunk in whole
        .as_bytes()
        .chunks(4)
        .chain(fraction_padded.as_bytes().chunks(4))
    {
        let text = std::str::from_utf8(chunk)?;
        groups.push(text.parse()?);
    }
    let weight = i16::try_from(whole.len() / 4)? - 1;
    out.put_i16(i16::try_from(groups.len())?);
    out.put_i16(weight);
    out.put_u16(if negative { 0x4000 } else { 0 });
    out.put_u16(u16::try_from(fraction.len())?);
    for group in groups {
        out.put_i16(group);
    }
    Ok(IsNull::No)
}

/// A column value of any type the store reads, as a store value.
struct PgValue(Sql);

impl<'a> FromSql<'a> for PgValue {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Boxed> {
        Ok(PgValue(match *ty {
            Type::INT8 => Sql::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Sql::Integer(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => Sql::Integer(i64::from(i16::from_sql(ty, raw)?)),
            Type::OID => Sql::Integer(i64::from(u32::from_sql(ty, raw)?)),
            Type::BOOL => Sql::Integer(i64::from(bool::from_sql(ty, raw)?)),
            Type::FLOAT8 => Sql::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Sql::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::NUMERIC => decode_numeric(raw)?,
            Type::BYTEA => Sql::Blob(raw.to_vec()),
            Type::JSONB => {
                Sql::Text(String::from_utf8_lossy(raw.get(1..).unwrap_or_default()).into())
            }
            _ => Sql::Text(String::from_utf8(raw.to_vec())?),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Boxed> {
        Ok(PgValue(Sql::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A NUMERIC (what `sum` and `avg` of ints give): an int when it has no fraction and
/// fits, a number otherwise.
fn decode_numeric(raw: &[u8]) -> Result<Sql, Boxed> {
    let word = |i: usize| -> Result<u16, Boxed> {
        let bytes = raw
            .get(i * 2..i * 2 + 2)
            .ok_or("a NUMERIC value is cut short")?;
        Ok(u16::from_be_bytes(<[u8; 2]>::try_from(bytes)?))
    };
    let count = usize::from(word(0)?);
    let weight = i32::from(word(1)? as i16);
    let sign = word(2)?;
    let scale = word(3)?;
    if sign == 0xC000 {
        return Ok(Sql::Real(f64::NAN));
    }
    let mut digits = Vec::with_capacity(count);
    for i in 0..count {
        digits.push(i64::from(word(4 + i)?));
    }
    let negative = sign == 0x4000;
    if scale == 0 {
        let mut value: i128 = 0;
        for digit in &digits {
            value = value * 10_000 + i128::from(*digit);
        }
        // Groups after the last stored one are zeros.
        let shown = i32::try_from(count).unwrap_or(0);
        for _ in 0..(weight + 1 - shown).max(0) {
            value *= 10_000;
        }
        let value = if negative { -value } else { value };
        if let Ok(int) = i64::try_from(value) {
            return Ok(Sql::Integer(int));
        }
        return Ok(Sql::Real(value as f64));
    }
    let mut value = 0.0f64;
    for (i, digit) in digits.iter().enumerate() {
        let power = weight - i32::try_from(i).unwrap_or(0);
        value += (*digit as f64) * 10_000f64.powi(power);
    }
    Ok(Sql::Real(if negative { -value } else { value }))
}

#[cfg(test)]
mod tests {
    // Test code only (never in the binary): a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn numeric_round_trip() {
        for (text, expected) in [
            ("12345678", Sql::Integer(12_345_678)),
            ("-7", Sql::Integer(-7)),
            ("0", Sql::Integer(0)),
            ("100000000", Sql::Integer(100_000_000)),
            ("2.5", Sql::Real(2.5)),
            ("-1234.0625", Sql::Real(-1234.0625)),
        ] {
            let mut out = BytesMut::new();
            numeric(text, &mut out).unwrap();
            assert_eq!(decode_numeric(&out).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn written_tables_and_redacted_urls() {
        assert_eq!(
            written_table("INSERT INTO \"Book\"(\"a\") VALUES (?1)").as_deref(),
            Some("Book")
        );
        assert_eq!(
            written_table("UPDATE \"Book$history\" SET x = 1").as_deref(),
            Some("Book$history")
        );
        assert_eq!(
            written_table("DELETE FROM \"_flin_sessions\" WHERE k = ?1").as_deref(),
            Some("_flin_sessions")
        );
        assert_eq!(written_table("SELECT 1"), None);
        assert_eq!(
            redact("postgres://u:secret@db:5432/x"),
            "postgres://u@db:5432/x"
        );
    }
}
