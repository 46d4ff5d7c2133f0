//! Crash safety (data.md §7, §9): a script run is one unit of work, durable once it has
//! answered and atomic whatever happens. A writer script is started again and again and
//! killed with SIGKILL at a random instant; after every kill the database file must be
//! sound (`PRAGMA integrity_check`), every run that finished must be there in full (its
//! rows and their history), and no run may be half there.
//!
//! `FLIN_CRASH_ITERATIONS` sets the number of runs (default 50), `FLIN_CRASH_SEED` the
//! random seed (printed, to replay a failure), `FLIN_BIN` the `flin` binary (default the
//! one cargo built for this test, e.g. `FLIN_BIN=target/release/flin`).

// Helpers fail the test by panicking, as assertions do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

/// Items saved by one run.
const N: i64 = 20;

/// Saves `N` items tagged with the run's batch number; every even one is saved twice (two
/// versions of history). Prints each id once its item is final.
const WRITER: &str = r#"entity Item {
    batch: int
    seq: int
    note: text
}

batch = to_int(env("FLIN_BATCH") ?? "") ?? -1
for i in 0..20 {
    it = Item { batch: batch, seq: i, note: "batch {batch} item {i}" }
    save it
    if i % 2 == 0 {
        it.note = "batch {batch} item {i} updated"
        save it
    }
    print(it.id)
}
"#;

/// A small linear congruential generator (Knuth's MMIX constants): no crate needed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// Uniform in `0..=bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % (bound + 1)
    }
}

fn flin_bin() -> String {
    std::env::var("FLIN_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_flin").to_string())
}

fn start(dir: &Path, batch: u64) -> std::process::Child {
    Command::new(flin_bin())
        .arg("run")
        .arg("writer.flin")
        .current_dir(dir)
        .env("FLIN_BATCH", batch.to_string())
        .env("NO_COLOR", "1")
        .env_remove("FLIN_DATABASE_DURABILITY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", flin_bin()))
}

/// The ids a finished run printed, in order.
fn printed_ids(stdout: &[u8], batch: u64) -> Vec<i64> {
    let text = String::from_utf8_lossy(stdout);
    let ids: Vec<i64> = text
        .lines()
        .map(|line| {
            line.trim()
                .parse()
                .unwrap_or_else(|_| panic!("batch {batch} printed `{line}`, not an id"))
        })
        .collect();
    assert_eq!(ids.len(), N as usize, "batch {batch} printed {text:?}");
    ids
}

/// What the database must hold: each finished run's batch and ids.
#[derive(Default)]
struct Expected {
    acknowledged: BTreeMap<u64, Vec<i64>>,
    started: BTreeSet<u64>,
}

/// Checks the database as a crash left it (a read-only connection, so the WAL is left
/// for the next run of `flin` to recover).
fn check(db: &Path, expected: &Expected, context: &str) {
    if !db.exists() {
        assert!(
            expected.acknowledged.is_empty(),
            "{context}: the database file is gone"
        );
        return;
    }
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|err| panic!("{context}: cannot open the database: {err}"));
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|err| panic!("{context}: integrity_check failed to run: {err}"));
    assert_eq!(integrity, ["ok"], "{context}: integrity_check");

    let has_table: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'Item$history'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if !has_table {
        // Killed before the schema was applied: nothing may have been acknowledged.
        assert!(
            expected.acknowledged.is_empty(),
            "{context}: the Item tables are gone"
        );
        return;
    }

    // Batches are atomic: every batch present is complete, in rows and in history.
    let mut stmt = conn
        .prepare("SELECT \"batch\", count(*) FROM \"Item\" GROUP BY \"batch\"")
        .unwrap();
    let batches: BTreeMap<u64, i64> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (batch, count) in &batches {
        assert!(
            expected.started.contains(batch),
            "{context}: batch {batch} was never started"
        );
        assert_eq!(
            *count, N,
            "{context}: batch {batch} is half there ({count} of {N} rows)"
        );
    }
    let mut stmt = conn
        .prepare("SELECT \"batch\", count(*) FROM \"Item$history\" GROUP BY \"batch\"")
        .unwrap();
    let versions: BTreeMap<u64, i64> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        versions.keys().collect::<Vec<_>>(),
        batches.keys().collect::<Vec<_>>(),
        "{context}: the history holds other batches than the rows"
    );
    for (batch, count) in &versions {
        assert_eq!(
            *count,
            N + N / 2,
            "{context}: batch {batch} has {count} versions in its history"
        );
    }

    // Every acknowledged id is there with its full history.
    let mut row = conn
        .prepare("SELECT \"version\", \"batch\", \"seq\", \"note\" FROM \"Item\" WHERE \"id\" = ?1")
        .unwrap();
    let mut history = conn
        .prepare(
            "SELECT \"version\", \"valid_from\", \"valid_to\", \"note\" FROM \"Item$history\" \
             WHERE \"id\" = ?1 ORDER BY \"version\"",
        )
        .unwrap();
    for (batch, ids) in &expected.acknowledged {
        for (seq, id) in ids.iter().enumerate() {
            let seq = seq as i64;
            let found: Option<(i64, u64, i64, String)> = row
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .ok();
            let Some((version, got_batch, got_seq, note)) = found else {
                panic!("{context}: Item#{id} of acknowledged batch {batch} is missing");
            };
            assert_eq!((got_batch, got_seq), (*batch, seq), "{context}: Item#{id}");
            let updated = seq % 2 == 0;
            let final_note = if updated {
                format!("batch {batch} item {seq} updated")
            } else {
                format!("batch {batch} item {seq}")
            };
            assert_eq!(note, final_note, "{context}: Item#{id}");
            assert_eq!(version, if updated { 2 } else { 1 }, "{context}: Item#{id}");
            let versions: Vec<(i64, i64, Option<i64>, String)> = history
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let numbers: Vec<i64> = versions.iter().map(|v| v.0).collect();
            let want: Vec<i64> = if updated { vec![1, 2] } else { vec![1] };
            assert_eq!(numbers, want, "{context}: versions of Item#{id}");
            let last = versions.last().unwrap();
            assert_eq!(
                last.2, None,
                "{context}: the current version of Item#{id} has ended"
            );
            assert_eq!(last.3, final_note, "{context}: Item#{id}");
            if updated {
                let (first, second) = (&versions[0], &versions[1]);
                assert_eq!(
                    first.2,
                    Some(second.1),
                    "{context}: version 1 of Item#{id} must end where version 2 starts"
                );
                assert_eq!(first.3, format!("batch {batch} item {seq}"), "{context}");
            }
        }
    }
}

/// Whether a killed run's batch made it (it was killed after its commit).
fn batch_present(db: &Path, batch: u64) -> bool {
    let Ok(conn) = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return false;
    };
    conn.query_row(
        "SELECT count(*) > 0 FROM \"Item\" WHERE \"batch\" = ?1",
        [batch],
        |r| r.get(0),
    )
    .unwrap_or(false)
}

#[test]
fn killed_runs_leave_a_sound_database() {
    let iterations: u64 = std::env::var("FLIN_CRASH_ITERATIONS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("FLIN_CRASH_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!(
        "crash test: {iterations} runs, FLIN_CRASH_SEED={seed}, flin = {}",
        flin_bin()
    );
    let mut random = Lcg(seed);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("writer.flin"), WRITER).unwrap();
    let db = dir.path().join(".flindb").join("flin.db");
    let mut expected = Expected::default();
    let mut batch = 0u64;

    // A run to completion (the first creates the database).
    let finish = |dir: &Path, expected: &mut Expected, batch: u64| -> Duration {
        expected.started.insert(batch);
        let began = Instant::now();
        let output = start(dir, batch).wait_with_output().unwrap();
        let took = began.elapsed();
        assert!(
            output.status.success(),
            "batch {batch} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        expected
            .acknowledged
            .insert(batch, printed_ids(&output.stdout, batch));
        took
    };
    batch += 1;
    finish(dir.path(), &mut expected, batch);
    check(&db, &expected, "after the first run");
    // Three more (the schema is in place) tell how long a run takes.
    let mut typical = Duration::ZERO;
    for _ in 0..3 {
        batch += 1;
        typical = typical.max(finish(dir.path(), &mut expected, batch));
        check(&db, &expected, "after a calibration run");
    }
    // Kill anywhere from before the process starts its work to just after it ends. Run
    // times vary, so the window adapts: wider after a kill, narrower after a run that
    // finished first, settling where about 70% of the runs are killed.
    let mut window = (typical.as_micros() as u64).saturating_mul(11) / 10;

    let began = Instant::now();
    let (mut killed, mut finished, mut killed_after_commit) = (0u32, 0u32, 0u32);
    for iteration in 0..iterations {
        batch += 1;
        expected.started.insert(batch);
        let delay = Duration::from_micros(random.below(window));
        let mut child = start(dir.path(), batch);
        std::thread::sleep(delay);
        let was_killed = match child.try_wait().unwrap() {
            Some(_) => false,
            None => {
                // SIGKILL: no destructor, no rollback, no flush runs in the child.
                child.kill().unwrap();
                true
            }
        };
        let output = child.wait_with_output().unwrap();
        window = if was_killed {
            window.saturating_mul(51) / 50 + 1
        } else {
            window.saturating_mul(19) / 20
        };
        if was_killed {
            killed += 1;
            if batch_present(&db, batch) {
                killed_after_commit += 1;
            }
        } else {
            assert!(
                output.status.success(),
                "batch {batch} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            finished += 1;
            expected
                .acknowledged
                .insert(batch, printed_ids(&output.stdout, batch));
        }
        let context = format!(
            "run {iteration} (batch {batch}, {} after {delay:?}, seed {seed})",
            if was_killed { "killed" } else { "finished" }
        );
        check(&db, &expected, &context);
    }

    // The database still works after all those kills.
    batch += 1;
    finish(dir.path(), &mut expected, batch);
    check(&db, &expected, "after the last run");
    eprintln!(
        "crash test: {iterations} runs in {:?} ({killed} killed, {killed_after_commit} of them \
         after their commit; {finished} finished; kill window now {window} µs); {} batches \
         acknowledged, all intact",
        began.elapsed(),
        expected.acknowledged.len()
    );
}
