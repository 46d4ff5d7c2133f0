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

use std::collections::{HashMap, HashSet};

use flin_query::{EntityDef, FieldDef};
use flin_search::VectorSet;
use rusqlite::params;

use crate::columns::{quote, table};
use crate::engine::Conn;
use crate::error::Result;
use crate::search::{
    Embedding, FieldKey, Vectors, delete_vectors, load_vectors, next_vectors_table, put_vectors,
};
use crate::store::Store;

/// The rows waiting for vectors (`next`: for the re-embedding's table), and the fields
/// being re-embedded with the model they are re-embedded with.
pub(crate) const QUEUE: &str = "CREATE TABLE IF NOT EXISTS \"_flin_embed_queue\" (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, entity TEXT NOT NULL, field TEXT NOT NULL,
    doc INTEGER NOT NULL, next INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX IF NOT EXISTS \"_flin_embed_queue_doc\" ON \"_flin_embed_queue\" (entity, field, doc);
    CREATE TABLE IF NOT EXISTS \"_flin_reembed\" (entity TEXT NOT NULL, field TEXT NOT NULL,
    model TEXT NOT NULL, PRIMARY KEY (entity, field)) WITHOUT ROWID;";

/// Rows embedded per unit of work the worker commits.
const BATCH: usize = 16;

/// Queues a row whose vectors are to be made `into` a table.
pub(crate) fn queue(conn: &Conn, entity: &str, field: &str, doc: i64, into: Vectors) -> Result<()> {
    let next = i64::from(into == Vectors::Next);
    conn.execute(
        "DELETE FROM \"_flin_embed_queue\" WHERE entity = ?1 AND field = ?2 AND doc = ?3 AND next = ?4",
        params![entity, field, doc, next],
    )?;
    conn.execute(
        "INSERT INTO \"_flin_embed_queue\" (entity, field, doc, next) VALUES (?1, ?2, ?3, ?4)",
        params![entity, field, doc, next],
    )?;
    Ok(())
}

/// The fields being re-embedded, with the model each is re-embedded with.
pub(crate) fn reembeddings(conn: &Conn) -> Result<HashMap<FieldKey, String>> {
    let rows = conn.query_map(
        "SELECT entity, field, model FROM \"_flin_reembed\"",
        params![],
        |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)),
    )?;
    Ok(rows.into_iter().collect())
}

/// Begins re-embedding a field whose vectors are the built-in model's with `model`:
/// every live row is queued for the new table; how many.
pub(crate) fn start_reembedding(
    conn: &Conn,
    def: &EntityDef,
    field: &FieldDef,
    model: &str,
) -> Result<u64> {
    cancel_reembedding(conn, &def.name, &field.name)?;
    conn.execute_batch(&format!(
        "CREATE TABLE {} (doc INTEGER NOT NULL, chunk INTEGER NOT NULL, vec BLOB NOT NULL,
             PRIMARY KEY (doc, chunk)) WITHOUT ROWID;",
        next_vectors_table(&def.name, &field.name)
    ))?;
    conn.execute(
        "INSERT INTO \"_flin_reembed\" (entity, field, model) VALUES (?1, ?2, ?3)",
        params![def.name, field.name, model],
    )?;
    let rows = conn.execute(
        &format!(
            "INSERT INTO \"_flin_embed_queue\" (entity, field, doc, next)
             SELECT ?1, ?2, \"id\", 1 FROM {} WHERE \"deleted_at\" IS NULL AND {} IS NOT NULL
             ORDER BY \"id\"",
            table(&def.name),
            quote(&field.name)
        ),
        params![def.name, field.name],
    )?;
    Ok(rows as u64)
}

/// Stops a field's re-embedding: its new vectors so far are dropped.
pub(crate) fn cancel_reembedding(conn: &Conn, entity: &str, field: &str) -> Result<()> {
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {};",
        next_vectors_table(entity, field)
    ))?;
    conn.execute(
        "DELETE FROM \"_flin_embed_queue\" WHERE entity = ?1 AND field = ?2 AND next = 1",
        params![entity, field],
    )?;
    conn.execute(
        "DELETE FROM \"_flin_reembed\" WHERE entity = ?1 AND field = ?2",
        params![entity, field],
    )?;
    Ok(())
}

/// Ends a re-embedding whose rows are all done: the new vectors replace the field's,
/// and the field's model is the new one. The vectors, read back for memory.
fn finish_reembedding(conn: &Conn, entity: &str, field: &str) -> Result<VectorSet> {
    conn.execute_batch(&format!(
        "DROP TABLE {current}; ALTER TABLE {next} RENAME TO {current};",
        current = Vectors::Current.table(entity, field),
        next = next_vectors_table(entity, field),
    ))?;
    conn.execute(
        "UPDATE \"_flin_search\" SET model = (SELECT model FROM \"_flin_reembed\"
             WHERE entity = ?1 AND field = ?2) WHERE entity = ?1 AND field = ?2",
        params![entity, field],
    )?;
    conn.execute(
        "DELETE FROM \"_flin_reembed\" WHERE entity = ?1 AND field = ?2",
        params![entity, field],
    )?;
    load_vectors(conn, entity, field)
}

/// Takes a row out of the queue (deleted, destroyed, or saved again).
pub(crate) fn unqueue(conn: &Conn, entity: &str, field: &str, doc: i64) -> Result<()> {
    conn.execute(
        "DELETE FROM \"_flin_embed_queue\" WHERE entity = ?1 AND field = ?2 AND doc = ?3",
        params![entity, field, doc],
    )?;
    Ok(())
}

/// Takes a whole field out of the queue (its index is dropped or rebuilt).
pub(crate) fn forget_field(conn: &Conn, entity: &str, field: &str) -> Result<()> {
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
    into: Vectors,
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
    let reembedding = store
        .with_memory(|m| !m.reembedding.is_empty())
        .unwrap_or(false);
    if (flin_search::embedder::active_is_fast() && !reembedding) || !store.has_semantic_fields() {
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
    /// How the running save makes the vectors of a row's semantic field (`Now` for a
    /// field without vectors).
    pub(crate) fn embedding_for(&self, def: &EntityDef, field: &FieldDef) -> Embedding {
        if !crate::search::semantic(field) {
            return Embedding::Now;
        }
        let reembedding = self
            .with_memory(|m| {
                !m.reembedding.is_empty()
                    && m.reembedding
                        .iter()
                        .any(|(e, f)| *e == def.name && *f == field.name)
            })
            .unwrap_or(false);
        if reembedding {
            Embedding::Reembedding
        } else if self.background.load(Ordering::Relaxed)
            && !flin_search::embedder::active_is_fast()
        {
            Embedding::Later
        } else {
            Embedding::Now
        }
    }

    /// The running unit queued rows: the worker is woken once it commits.
    pub(crate) fn queued_rows(&self) {
        self.queued_now.store(true, Ordering::Relaxed);
    }

    fn has_semantic_fields(&self) -> bool {
        self.entities()
            .iter()
            .any(|def| def.fields.iter().any(crate::search::semantic))
    }

    /// How many rows wait for their vectors.
    pub fn queued(&self) -> Result<u64> {
        let unit = self.read_unit()?;
        let n: i64 = unit.conn()?.query_row(
            "SELECT count(*) FROM \"_flin_embed_queue\"",
            params![],
            |r| r.get(0),
        )?;
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
        let mut finished: Vec<(FieldKey, VectorSet)> = Vec::new();
        {
            let conn = unit.conn()?;
            let mut reembedded: HashSet<FieldKey> = HashSet::new();
            for (pending, chunks) in batch.iter_mut().zip(&vectors) {
                // Only the entry read: a row saved since is queued again.
                let taken = conn.execute(
                    "DELETE FROM \"_flin_embed_queue\" WHERE seq = ?1",
                    &[pending.seq],
                )?;
                if pending.into == Vectors::Next {
                    reembedded.insert((pending.entity.clone(), pending.field.clone()));
                }
                if taken == 0 || pending.text.is_none() {
                    continue;
                }
                let (entity, field, doc) = (&pending.entity, &pending.field, pending.doc);
                delete_vectors(conn, entity, field, doc, pending.into)?;
                put_vectors(conn, entity, field, doc, chunks, pending.into)?;
                // The searched vectors change with this commit; a re-embedding's when
                // it is complete.
                if pending.into == Vectors::Current {
                    self.doc_written(entity, field, doc);
                }
            }
            for (entity, field) in reembedded {
                let left: i64 = conn.query_row(
                    "SELECT count(*) FROM \"_flin_embed_queue\" WHERE entity = ?1 AND field = ?2 AND next = 1",
                    params![entity, field],
                    |r| r.get(0),
                )?;
                if left == 0 {
                    let vectors = finish_reembedding(conn, &entity, &field)?;
                    finished.push(((entity, field), vectors));
                }
            }
        }
        unit.commit()?;
        // The new vectors and the model that makes queries for them, at once.
        if !finished.is_empty() {
            if let Ok(mut memory) = self.search.write() {
                for (key, vectors) in finished {
                    memory.reembedding.remove(&key);
                    memory.vectors.insert(key, vectors);
                }
            }
        }
        Ok(batch.len())
    }

    /// The oldest queued rows with their texts (none for a row gone since).
    fn read_batch(&self) -> Result<Vec<Pending>> {
        let unit = self.read_unit()?;
        let conn = unit.conn()?;
        let mut batch: Vec<Pending> = {
            conn.query_map(
                "SELECT seq, entity, field, doc, next FROM \"_flin_embed_queue\" ORDER BY seq LIMIT ?1",
                &[BATCH as i64], |r| {
                Ok(Pending {
                    seq: r.get(0)?,
                    entity: r.get(1)?,
                    field: r.get(2)?,
                    doc: r.get(3)?,
                    into: if r.get::<i64>(4)? == 1 {
                        Vectors::Next
                    } else {
                        Vectors::Current
                    },
                    text: None,
                })
            })?
        };
        for pending in &mut batch {
            pending.text = conn
                .query_opt(
                    &format!(
                        "SELECT {} FROM {} WHERE \"id\" = ?1 AND \"deleted_at\" IS NULL",
                        quote(&pending.field),
                        table(&pending.entity)
                    ),
                    &[pending.doc],
                    |r| r.get::<Option<String>>(0),
                )
                .ok()
                .flatten()
                .flatten();
        }
        unit.commit()?;
        Ok(batch)
    }
}
