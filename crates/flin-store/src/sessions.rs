//! FLIN's own table of web sessions (web.md §7 "Sessions live on the server"): one row
//! per session, keyed by a digest of its id (the id itself is only ever in the
//! browser's cookie), with its data as JSON, when it began and when it was last used.
//! Every server of an app sees the same rows.

use rusqlite::params;

use crate::Result;
use crate::store::Store;

/// One session as stored. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRow {
    pub data: String,
    /// When it began (a login begins a new one).
    pub created: i64,
    /// When a request last used it.
    pub seen: i64,
}

pub(crate) const TABLE: &str = "CREATE TABLE IF NOT EXISTS \"_flin_sessions\" (
    key TEXT PRIMARY KEY, data TEXT NOT NULL, created INTEGER NOT NULL, seen INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS \"_flin_sessions_seen\" ON \"_flin_sessions\" (seen);";

impl Store {
    /// The session stored under `key`, if any.
    pub fn session(&self, key: &str) -> Result<Option<SessionRow>> {
        let unit = self.read_unit()?;
        let row = unit.conn()?.query_opt(
            "SELECT data, created, seen FROM \"_flin_sessions\" WHERE key = ?1",
            &[key],
            |r| {
                Ok(SessionRow {
                    data: r.get(0)?,
                    created: r.get(1)?,
                    seen: r.get(2)?,
                })
            },
        )?;
        unit.rollback()?;
        Ok(row)
    }

    /// Stores the session under `key` (made or replaced).
    pub fn put_session(&self, key: &str, row: &SessionRow) -> Result<()> {
        self.write_sessions(|conn| {
            conn.execute(
                "INSERT INTO \"_flin_sessions\" (key, data, created, seen) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key) DO UPDATE SET data = ?2, created = ?3, seen = ?4",
                params![key, row.data, row.created, row.seen],
            )?;
            Ok(())
        })
    }

    /// Notes that a request used the session at `seen`.
    pub fn touch_session(&self, key: &str, seen: i64) -> Result<()> {
        self.write_sessions(|conn| {
            conn.execute(
                "UPDATE \"_flin_sessions\" SET seen = ?2 WHERE key = ?1",
                params![key, seen],
            )?;
            Ok(())
        })
    }

    /// Ends the session: a copy of its cookie is anonymous from now on.
    pub fn end_session(&self, key: &str) -> Result<()> {
        self.write_sessions(|conn| {
            conn.execute("DELETE FROM \"_flin_sessions\" WHERE key = ?1", &[key])?;
            Ok(())
        })
    }

    /// Deletes the sessions last used before `idle_before` or begun before
    /// `begun_before`; returns how many.
    pub fn sweep_sessions(&self, idle_before: i64, begun_before: i64) -> Result<usize> {
        let mut swept = 0;
        self.write_sessions(|conn| {
            swept = conn.execute(
                "DELETE FROM \"_flin_sessions\" WHERE seen < ?1 OR created < ?2",
                params![idle_before, begun_before],
            )?;
            Ok(())
        })?;
        Ok(swept)
    }

    /// How many sessions are stored.
    pub fn session_count(&self) -> Result<i64> {
        let unit = self.read_unit()?;
        let n =
            unit.conn()?
                .query_row("SELECT count(*) FROM \"_flin_sessions\"", params![], |r| {
                    r.get(0)
                })?;
        unit.rollback()?;
        Ok(n)
    }

    /// One statement on the writer, committed on its own.
    fn write_sessions(&self, work: impl FnOnce(&crate::engine::Conn) -> Result<()>) -> Result<()> {
        let unit = self.unit()?;
        match work(unit.conn()?) {
            Ok(()) => unit.commit(),
            Err(err) => {
                let _ = unit.rollback();
                Err(err)
            }
        }
    }
}
