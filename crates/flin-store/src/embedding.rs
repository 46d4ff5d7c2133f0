//! Background embedding (search.md §4 "Other models"): a transformer takes
//! milliseconds per chunk, so with one a save commits at once — its row is
//! keyword-searchable immediately — and queues the row in `_flin_embed_queue`. A worker
//! makes the queued rows' vectors outside any unit of work, then stores them in a
//! short unit of its own, so live values see them as any commit.
//!
//! A row saved again while its vectors were being made is queued again (a new `seq`):
//! the worker stores vectors only for the queue entry it read, so stale text never
//! wins. A queued row that is deleted or destroyed leaves the queue with it.
//!
//! Servers run the worker on a thread of its own ([`embed_in_background`]); `flin run`
//! and `flin test` embed inside each save and drain what start-up queued before the
//! program runs ([`Store::embed_pending`]), so a script sees its own vectors.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rusqlite::{Connection, params};

use crate::columns::{quote, table};
use crate::error::Result;
use crate::search::{Embedding, put_vectors};
use crate::store::Store;

pub(crate) const QUEUE: &str = "CREATE TABLE IF NOT EXISTS \"_flin_embed_queue\" (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, entity TEXT NOT NULL, field TEXT NOT NULL,
    doc INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS \"_flin_embed_queue_doc\" ON \"_flin_embed_queue\" (entity, field, doc);";

/// Rows embedded per unit of work the worker commits.
const BATCH: usize = 16;

/// Queues a row whose vectors are to be made.
pub(crate) fn queue(conn: &Connection, entity: &str, field: &str, doc: i64) -> Result<()> {
    unqueue(conn, entity, field, doc)?;
    conn.prepare_cached(
        "INSERT INTO \"_flin_embed_queue\" (entity, field, doc) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![entity, field, doc])?;
    Ok(())
}

/// Takes a row out of the queue (deleted, destroyed, or saved again).
pub(crate) fn unqueue(conn: &Connection, entity: &str, field: &str, doc: i64) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM \"_flin_embed_queue\" WHERE entity = ?1 AND field = ?2 AND doc = ?3",
    )?
    .execute(params![entity, field, doc])?;
    Ok(())
}

/// Takes a whole field out of the queue (its index is dropped or rebuilt).
pub(crate) fn forget_field(conn: &Connection, entity: &str, field: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM \"_flin_embed_queue\" WHERE entity = ?1 AND field = ?2",
        params![entity, field],
    )?;
    Ok(())
}

/// A queued row and its text as it was read.
struct Pending {
    seq: i64,
    entity: String,
    field: String,
    doc: i64,
    text: Option<String>,
}

/// Wakes the worker when a commit queued rows.
#[derive(Default)]
pub(crate) struct Wake {
    queued: Mutex<bool>,
    signal: Condvar,
}

impl Wake {
    pub(crate) fn notify(&self) {
        if let Ok(mut queued) = self.queued.lock() {
            *queued = true;
            self.signal.notify_one();
        }
    }

    /// Waits until rows are queued, or `timeout`.
    fn wait(&self, timeout: Duration) {
        let Ok(queued) = self.queued.lock() else {
            return;
        };
        if let Ok((mut queued, _)) = self.signal.wait_timeout_while(queued, timeout, |q| !*q) {
            *queued = false;
        }
    }
}

/// Runs the worker that embeds queued rows, on a thread of its own, while the store
/// lives. Nothing to do with a static model.
pub fn embed_in_background(store: &Arc<Store>) {
    if flin_search::embedder::active_is_fast() || !store.has_semantic_fields() {
        return;
    }
    store.background.store(true, Ordering::Relaxed);
    let weak = Arc::downgrade(store);
    let spawned = std::thread::Builder::new()
        .name("flin-embed".into())
        .spawn(move || {
            let mut done = 0u64;
            loop {
                let Some(store) = weak.upgrade() else {
                    return;
                };
                match store.embed_batch() {
                    Ok(0) => {
                        if done > 0 {
                            crate::progress::report("embedding rows", done, done);
                            done = 0;
                        }
                        let wake = store.wake.clone();
                        drop(store);
                        wake.wait(Duration::from_secs(5));
                    }
                    Ok(n) => {
                        done += n as u64;
                        let left = store.queued().unwrap_or(0);
                        crate::progress::report("embedding rows", done, done + left);
                    }
                    Err(_) => {
                        drop(store);
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            }
        });
    if spawned.is_err() {
        // No thread: saves embed their rows themselves.
        store.background.store(false, Ordering::Relaxed);
    }
}

impl Store {
    /// How the running save makes a semantic row's vectors.
    pub(crate) fn embedding(&self) -> Embedding {
        if self.background.load(Ordering::Relaxed) && !flin_search::embedder::active_is_fast() {
            self.queued_now.store(true, Ordering::Relaxed);
            Embedding::Later
        } else {
            Embedding::Now
        }
    }

    fn has_semantic_fields(&self) -> bool {
        self.entities()
            .iter()
            .any(|def| def.fields.iter().any(crate::search::semantic))
    }

    /// How many rows wait for their vectors.
    pub fn queued(&self) -> Result<u64> {
        let unit = self.read_unit()?;
        let n: i64 =
            unit.conn()?
                .query_row("SELECT count(*) FROM \"_flin_embed_queue\"", [], |r| {
                    r.get(0)
                })?;
        unit.commit()?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Makes the vectors of every queued row, here and now (`flin run`, `flin test`).
    pub fn embed_pending(&self) -> Result<()> {
        let total = self.queued()?;
        let mut done = 0;
        while done < total {
            let n = self.embed_batch()?;
            if n == 0 {
                break;
            }
            done += n as u64;
            crate::progress::report("embedding rows", done.min(total), total);
        }
        Ok(())
    }

    /// Embeds up to [`BATCH`] queued rows; how many it took from the queue.
    fn embed_batch(&self) -> Result<usize> {
        let mut batch = self.read_batch()?;
        if batch.is_empty() {
            return Ok(0);
        }
        // The slow part, holding no connection.
        let model =
            flin_search::embedder::active().map_err(crate::error::StoreError::Unavailable)?;
        let vectors: Vec<Vec<Vec<f32>>> = batch
            .iter()
            .map(|p| {
                p.text
                    .as_deref()
                    .map(|t| model.chunk_vectors(t))
                    .unwrap_or_default()
            })
            .collect();
        let unit = self.unit()?;
        {
            let conn = unit.conn()?;
            for (pending, chunks) in batch.iter_mut().zip(&vectors) {
                // Only the entry read: a row saved since is queued again.
                let taken = conn
                    .prepare_cached("DELETE FROM \"_flin_embed_queue\" WHERE seq = ?1")?
                    .execute([pending.seq])?;
                if taken == 0 || pending.text.is_none() {
                    continue;
                }
                crate::search::delete_vectors(conn, &pending.entity, &pending.field, pending.doc)?;
                put_vectors(conn, &pending.entity, &pending.field, pending.doc, chunks)?;
                self.doc_written(&pending.entity, &pending.field, pending.doc);
            }
        }
        unit.commit()?;
        Ok(batch.len())
    }

    /// The oldest queued rows with their texts (none for a row gone since).
    fn read_batch(&self) -> Result<Vec<Pending>> {
        let unit = self.read_unit()?;
        let conn = unit.conn()?;
        let mut batch: Vec<Pending> = {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, entity, field, doc FROM \"_flin_embed_queue\" ORDER BY seq LIMIT ?1",
            )?;
            let rows = stmt.query_map([BATCH as i64], |r| {
                Ok(Pending {
                    seq: r.get(0)?,
                    entity: r.get(1)?,
                    field: r.get(2)?,
                    doc: r.get(3)?,
                    text: None,
                })
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for pending in &mut batch {
            pending.text = conn
                .prepare_cached(&format!(
                    "SELECT {} FROM {} WHERE \"id\" = ?1 AND \"deleted_at\" IS NULL",
                    quote(&pending.field),
                    table(&pending.entity)
                ))?
                .query_row([pending.doc], |r| r.get::<_, Option<String>>(0))
                .ok()
                .flatten();
        }
        unit.commit()?;
        Ok(batch)
    }
}
