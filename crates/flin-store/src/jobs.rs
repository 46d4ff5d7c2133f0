//! FLIN's own table of job runs (services.md §1, §4): one row per due run of a job,
//! keyed by (job, due time). A server claims a due run by inserting its row: the key
//! lets exactly one insert win, so when several servers share a database each due run
//! happens once. The row then gets the run's duration, outcome and error; the last
//! 1,000 runs of each job are kept.

use rusqlite::params;

use crate::engine::Conn;

use crate::Result;
use crate::store::Store;

/// Runs kept per job.
pub const KEPT: i64 = 1_000;

pub(crate) const TABLE: &str = "CREATE TABLE IF NOT EXISTS \"_flin_job_runs\" (
    id INTEGER PRIMARY KEY, job TEXT NOT NULL, due INTEGER NOT NULL, started INTEGER NOT NULL,
    micros INTEGER, outcome TEXT NOT NULL, error TEXT, UNIQUE (job, due)
);";

/// One run of a job as recorded. Times are microseconds since the Unix epoch (UTC).
#[derive(Clone, Debug, PartialEq)]
pub struct JobRun {
    pub job: String,
    pub due: i64,
    pub started: i64,
    /// How long it ran (none while it runs).
    pub micros: Option<i64>,
    /// `running`, `ok`, `failed`, `skipped` (the run before was still going) or
    /// `interrupted` (the server stopped during it).
    pub outcome: String,
    /// The error, with its FLIN line, when it failed.
    pub error: Option<String>,
}

impl Store {
    /// Claims the run of `job` due at `due`: its id, or none when it was claimed
    /// already (by another server).
    pub fn claim_job_run(&self, job: &str, due: i64, started: i64) -> Result<Option<i64>> {
        self.write_runs(|conn| {
            conn.insert_returning(
                "INSERT INTO \"_flin_job_runs\" (job, due, started, outcome)
                 VALUES (?1, ?2, ?3, 'running') ON CONFLICT (job, due) DO NOTHING RETURNING id",
                params![job, due, started],
            )
        })
    }

    /// Records a run that did not start because the one before was still going.
    pub fn skip_job_run(&self, job: &str, due: i64, now: i64) -> Result<()> {
        self.write_runs(|conn| {
            conn.execute(
                "INSERT INTO \"_flin_job_runs\" (job, due, started, micros, outcome)
                 VALUES (?1, ?2, ?3, 0, 'skipped') ON CONFLICT (job, due) DO NOTHING",
                params![job, due, now],
            )?;
            Ok(())
        })
    }

    /// Records how a claimed run ended, and forgets the job's runs past the last 1,000.
    pub fn finish_job_run(
        &self,
        id: i64,
        micros: i64,
        outcome: &str,
        error: Option<&str>,
    ) -> Result<()> {
        self.write_runs(|conn| {
            conn.execute(
                "UPDATE \"_flin_job_runs\" SET micros = ?2, outcome = ?3, error = ?4 WHERE id = ?1",
                params![id, micros, outcome, error],
            )?;
            conn.execute(
                "DELETE FROM \"_flin_job_runs\" WHERE job = (SELECT job FROM \"_flin_job_runs\" WHERE id = ?1)
                 AND id <= (SELECT id FROM \"_flin_job_runs\" WHERE job = (SELECT job FROM \"_flin_job_runs\" WHERE id = ?1)
                            ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                params![id, KEPT],
            )?;
            Ok(())
        })
    }

    /// Runs left `running` by a server that stopped: they are `interrupted`.
    ///
    /// On PostgreSQL other servers may be running theirs: only runs started over an
    /// hour ago (past any sensible `jobs.timeout`) are taken for interrupted.
    pub fn interrupt_job_runs(&self) -> Result<usize> {
        let before = match self.location() {
            crate::Location::Postgres { .. } => crate::store::wall_clock() - 3_600_000_000,
            _ => i64::MAX,
        };
        let mut n = 0;
        self.write_runs(|conn| {
            n = conn.execute(
                "UPDATE \"_flin_job_runs\" SET outcome = 'interrupted' WHERE outcome = 'running' AND started < ?1",
                params![before],
            )?;
            Ok(())
        })?;
        Ok(n)
    }

    /// When a job's schedule starts counting from (services.md §1: one interval after
    /// the server starts). Servers sharing PostgreSQL share it, so their due times agree
    /// and each due run is claimed once: the first server's `start` stands while runs
    /// are recorded since `stale_before` (the job has been running somewhere); else this
    /// server's. On SQLite, `start`.
    pub fn job_anchor(&self, job: &str, start: i64, stale_before: i64) -> Result<i64> {
        if !matches!(self.location(), crate::Location::Postgres { .. }) {
            return Ok(start);
        }
        self.write_runs(|conn| {
            conn.execute(
                "INSERT INTO \"_flin_job_anchors\" (job, start) VALUES (?1, ?2)
                 ON CONFLICT (job) DO UPDATE SET start = excluded.start
                 WHERE \"_flin_job_anchors\".start < ?3
                   AND NOT EXISTS (SELECT 1 FROM \"_flin_job_runs\" WHERE job = ?1 AND due >= ?3)",
                params![job, start, stale_before],
            )?;
            conn.query_row(
                "SELECT start FROM \"_flin_job_anchors\" WHERE job = ?1",
                params![job],
                |r| r.get::<i64>(0),
            )
        })
    }

    /// The last `limit` runs of `job`, the latest first.
    pub fn job_runs(&self, job: &str, limit: usize) -> Result<Vec<JobRun>> {
        let unit = self.read_unit()?;
        let runs = job_runs(unit.conn()?, job, limit);
        unit.rollback()?;
        runs
    }

    fn write_runs<T>(&self, work: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        let unit = self.unit()?;
        match work(unit.conn()?) {
            Ok(value) => unit.commit().map(|()| value),
            Err(err) => {
                let _ = unit.rollback();
                Err(err)
            }
        }
    }
}

/// The last `limit` runs of `job` in the database `conn` (`flin jobs` reads them while
/// the server runs), the latest first. A database without the table has none.
pub(crate) fn job_runs(conn: &Conn, job: &str, limit: usize) -> Result<Vec<JobRun>> {
    if !conn.has_table("_flin_job_runs")? {
        return Ok(Vec::new());
    }
    conn.query_map(
        "SELECT job, due, started, micros, outcome, error FROM \"_flin_job_runs\"
         WHERE job = ?1 ORDER BY due DESC, id DESC LIMIT ?2",
        params![job, limit as i64],
        |r| {
            Ok(JobRun {
                job: r.get(0)?,
                due: r.get(1)?,
                started: r.get(2)?,
                micros: r.get(3)?,
                outcome: r.get(4)?,
                error: r.get(5)?,
            })
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_due_run_is_claimed_once_and_the_last_thousand_are_kept() {
        let store = Store::memory(&[]).unwrap();
        let first = store.claim_job_run("jobs/a.flin:1", 100, 101).unwrap();
        assert!(first.is_some());
        assert_eq!(
            store.claim_job_run("jobs/a.flin:1", 100, 102).unwrap(),
            None
        );
        store
            .finish_job_run(first.unwrap(), 5, "failed", Some("boom at jobs/a.flin:2"))
            .unwrap();
        let runs = store.job_runs("jobs/a.flin:1", 10).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].outcome, "failed");
        assert_eq!(runs[0].error.as_deref(), Some("boom at jobs/a.flin:2"));
        for due in 200..(200 + KEPT + 5) {
            let id = store
                .claim_job_run("jobs/a.flin:1", due, due)
                .unwrap()
                .unwrap();
            store.finish_job_run(id, 1, "ok", None).unwrap();
        }
        let runs = store.job_runs("jobs/a.flin:1", 5_000).unwrap();
        assert_eq!(runs.len() as i64, KEPT);
        assert_eq!(runs[0].due, 200 + KEPT + 4);
        // Another job's runs are its own.
        assert!(store.job_runs("jobs/b.flin:1", 10).unwrap().is_empty());
    }

    #[test]
    fn runs_left_running_are_interrupted() {
        let store = Store::memory(&[]).unwrap();
        store.claim_job_run("j", 1, 1).unwrap();
        assert_eq!(store.interrupt_job_runs().unwrap(), 1);
        assert_eq!(store.job_runs("j", 1).unwrap()[0].outcome, "interrupted");
    }
}
