//! Opening a database and handing out units of work: one writer connection (a unit of
//! work that may write holds it from `BEGIN IMMEDIATE` to commit or rollback) and a
//! small pool of read-only connections (WAL lets them read the last committed state
//! while a writer works). Durability `full` syncs every commit to disk; `relaxed`
//! (`database.durability = "relaxed"`) syncs at checkpoints only: a power cut may lose
//! the last commits, never corrupt the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use flin_query::{EntityDef, QueryShape, Terminal};
use rusqlite::{Connection, OpenFlags};

use crate::db::Db;
use crate::engine::{Conn, PgConn};
use crate::error::{Result, StoreError};
use crate::schema::{self, Change, Schema};

/// How hard a commit works to survive a power cut.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` on every commit (`PRAGMA synchronous = FULL`).
    #[default]
    Full,
    /// Sync at WAL checkpoints only (`PRAGMA synchronous = NORMAL`).
    Relaxed,
}

impl Durability {
    pub fn parse(text: &str) -> Option<Durability> {
        match text {
            "full" => Some(Durability::Full),
            "relaxed" => Some(Durability::Relaxed),
            _ => None,
        }
    }
}

/// Where the data lives.
#[derive(Clone, Debug)]
pub enum Location {
    File(PathBuf),
    /// Nothing written to disk (`flin run --memory`, `flin test`).
    Memory,
    /// A PostgreSQL database shared by several servers (data.md §10): its URL, how
    /// many connections a server may hold, and a schema of its own if any (`flin test`
    /// gives each test one; made when missing).
    Postgres {
        url: String,
        pool: usize,
        schema: Option<String>,
    },
}

const READERS: usize = 4;

/// Rows written between two refreshes of the query planner's statistics.
const REFRESH_AFTER: u64 = 2_000;

/// An open FlinDB database with its schema applied.
pub struct Store {
    location: Location,
    writer: Mutex<Conn>,
    /// Idle read-only connections, each with the statistics generation it loaded.
    readers: Mutex<Vec<(Conn, u64)>>,
    /// Bumped when the planner's statistics change: a reader holding older ones is
    /// reopened (SQLite loads statistics when a connection reads the schema).
    stats_generation: AtomicU64,
    /// Indexes query shapes asked for, made when the writer is free; and those made.
    wanted: Mutex<Vec<crate::auto_index::WantedIndex>>,
    made: Mutex<std::collections::HashSet<String>>,
    /// Reader connections opened so far (at most READERS).
    opened_readers: std::sync::atomic::AtomicUsize,
    durability: Durability,
    pub(crate) schema: Schema,
    /// SQL text per query shape, built once (each connection caches the prepared
    /// statement for it).
    pub(crate) sql: Mutex<HashMap<QueryShape, HashMap<Terminal, Arc<str>>>>,
    /// SQL of entity operations (insert, update, get …), built once per entity or field:
    /// keyed by the operation and the address of its entity or field description, which
    /// stays put for the store's life.
    pub(crate) memo: Mutex<HashMap<(&'static str, usize), Arc<str>>>,
    clock: Mutex<i64>,
    statements: AtomicU64,
    /// Rows written by this store, and the count at which the planner's statistics are
    /// next refreshed (doubling each time, so the cost stays a small share of writing).
    written: AtomicU64,
    next_refresh: AtomicU64,
    changes: Vec<Change>,
    /// Tables the writer connection changed in the unit of work now running (kept by
    /// SQLite's update hook, so cascades and history count too).
    touched: Arc<Mutex<std::collections::HashSet<String>>>,
    /// Told the entity types each committed unit of work changed (live pages re-run
    /// what read them, web.md §9).
    on_commit: std::sync::RwLock<Option<CommitListener>>,
    /// Each searchable field's committed indexes, in memory (search.md §4).
    pub(crate) search: std::sync::RwLock<crate::search::Memory>,
    /// Held while a semantic field's vectors are read into memory (one at a time).
    vector_loads: Mutex<()>,
    /// Rows of searchable fields the writer's running unit changed.
    pending_docs: Mutex<std::collections::HashSet<(crate::search::FieldKey, i64)>>,
    /// Whether a worker makes a slow model's vectors in the background (else saves
    /// embed their rows), whether the running unit queued rows for it, and its wake-up.
    pub(crate) background: std::sync::atomic::AtomicBool,
    pub(crate) queued_now: std::sync::atomic::AtomicBool,
    pub(crate) wake: Arc<crate::embedding::Wake>,
    /// This server among those sharing a PostgreSQL database (its notifications are
    /// its own to ignore).
    pub(crate) server: String,
    /// Told the broadcasts of other servers (`bus.rs`).
    pub(crate) broadcasts: std::sync::RwLock<Option<crate::bus::BroadcastListener>>,
    /// On PostgreSQL: a connection outside units of work, for notifications and the
    /// shared request counts of `rate_limit`.
    notifier: Mutex<Option<PgConn>>,
}

/// Told the entity types a committed unit of work changed.
pub type CommitListener = Arc<dyn Fn(&[String]) + Send + Sync>;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .finish()
    }
}

fn configure(conn: &Connection, durability: Durability, file: bool) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    if file {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unavailable(format!(
                "the database cannot use write-ahead logging (journal mode is {mode})"
            )));
        }
    }
    let sync = match durability {
        Durability::Full => "FULL",
        Durability::Relaxed => "NORMAL",
    };
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = {sync}; PRAGMA cache_size = -{CACHE_KB};"
    ))?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(())
}

impl Store {
    /// Opens (creating when missing) the database at `location` and brings it to the
    /// declared entities (data.md §8).
    pub fn open(
        location: Location,
        entities: &[EntityDef],
        durability: Durability,
    ) -> Result<Store> {
        let file = match &location {
            Location::File(path) => Some(path.clone()),
            Location::Memory | Location::Postgres { .. } => None,
        };
        Store::open_at(location, entities, durability).map_err(|err| match (err, file) {
            // The message names the file it is about.
            (StoreError::Unavailable(message), Some(path)) => {
                StoreError::Unavailable(format!("{}: {message}", path.display()))
            }
            (err, _) => err,
        })
    }

    fn open_at(
        location: Location,
        entities: &[EntityDef],
        durability: Durability,
    ) -> Result<Store> {
        let touched: Arc<Mutex<std::collections::HashSet<String>>> = Arc::default();
        let (writer, file) = match &location {
            Location::File(path) => {
                if let Some(dir) = path.parent() {
                    if !dir.as_os_str().is_empty() && !dir.exists() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                        })?;
                        private(dir, 0o700);
                    }
                }
                let conn = Connection::open(path)?;
                // The data is the app's users': readable by its owner only (SQLite gives
                // the journal and WAL files the database file's permissions).
                private(path, 0o600);
                (Conn::Sqlite(conn), true)
            }
            Location::Memory => (Conn::Sqlite(Connection::open_in_memory()?), false),
            Location::Postgres { url, .. } => (
                Conn::Postgres(Box::new(PgConn::connect(
                    url,
                    schema_of(&location),
                    Some(touched.clone()),
                )?)),
                false,
            ),
        };
        if writer.engine() == crate::engine::Engine::Postgres {
            // FLIN's SQL needs PostgreSQL 14 or newer (data.md §10).
            let version: String =
                writer.query_row("SHOW server_version_num", rusqlite::params![], |r| r.get(0))?;
            if version.trim().parse::<u32>().unwrap_or(0) < 140_000 {
                return Err(StoreError::Unavailable(format!(
                    "PostgreSQL {version} is too old: FLIN needs PostgreSQL 14 or newer"
                )));
            }
        }
        if let Some(sqlite) = writer.sqlite() {
            configure(sqlite, durability, file)?;
            // Start-up reads whole tables once (the check below, the search indexes):
            // through a small page cache, so those pages never take the memory of the
            // 16 MB one that requests use (SQLite's freed cache is not given back to the
            // system). The usual size is set once start-up is done.
            sqlite.execute_batch("PRAGMA cache_size = -1000")?;
            // A damaged file fails here, before anything is written.
            let check: String = sqlite.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
            if check != "ok" {
                return Err(StoreError::Unavailable(format!(
                    "the database file is damaged ({check}): restore a backup with `flin db restore <file>`"
                )));
            }
        }
        let now = wall_clock();
        let mut changes = schema::apply(&writer, entities, now)?;
        // The search indexes follow the schema (made, rebuilt or dropped), then the
        // vectors of semantic fields are read into memory.
        let indexed = writer.write_transaction(|tx| crate::search::ensure(tx, entities))?;
        changes.extend(indexed.into_iter().map(|change| Change {
            at: now,
            entity: String::new(),
            change,
        }));
        // A database in memory (tests, scripts) has no second connection to read
        // vectors with later: it reads them now.
        let in_memory = matches!(location, Location::Memory);
        let search = crate::search::load(&writer, entities, |_| in_memory)?;
        // Statistics for the query planner (cheap: SQLite analyzes only what needs it).
        if file {
            writer.execute_batch("PRAGMA optimize = 0x10002")?;
        }
        if let Some(sqlite) = writer.sqlite() {
            sqlite.execute_batch(&format!("PRAGMA cache_size = -{CACHE_KB}"))?;
        }
        // Readers open when first needed (an idle app holds none), up to READERS.
        let readers = Vec::new();
        // SQLite tells which tables a statement changed; a PostgreSQL connection notes
        // them itself.
        if let Some(sqlite) = writer.sqlite() {
            let seen = touched.clone();
            sqlite.update_hook(Some(
                move |_: rusqlite::hooks::Action, _: &str, table: &str, _: i64| {
                    if let Ok(mut seen) = seen.lock() {
                        if !seen.contains(table) {
                            seen.insert(table.to_string());
                        }
                    }
                },
            ));
        }
        Ok(Store {
            touched,
            on_commit: std::sync::RwLock::new(None),
            location,
            writer: Mutex::new(writer),
            readers: Mutex::new(readers),
            stats_generation: AtomicU64::new(0),
            opened_readers: std::sync::atomic::AtomicUsize::new(0),
            wanted: Mutex::new(Vec::new()),
            made: Mutex::new(std::collections::HashSet::new()),
            durability,
            schema: Schema::new(entities.to_vec()),
            sql: Mutex::new(HashMap::new()),
            memo: Mutex::new(HashMap::new()),
            clock: Mutex::new(now),
            statements: AtomicU64::new(0),
            written: AtomicU64::new(0),
            next_refresh: AtomicU64::new(REFRESH_AFTER),
            changes,
            search: std::sync::RwLock::new(search),
            vector_loads: Mutex::new(()),
            pending_docs: Mutex::new(std::collections::HashSet::new()),
            background: std::sync::atomic::AtomicBool::new(false),
            queued_now: std::sync::atomic::AtomicBool::new(false),
            wake: Arc::default(),
            server: format!("{:x}-{:x}", std::process::id(), wall_clock()),
            broadcasts: std::sync::RwLock::new(None),
            notifier: Mutex::new(None),
        })
    }

    /// Runs `f` on the PostgreSQL connection kept outside units of work (each statement
    /// its own transaction), connecting first when needed.
    pub(crate) fn with_notifier<T>(&self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        let Location::Postgres { url, .. } = &self.location else {
            return Err(StoreError::Database(
                "internal: only a PostgreSQL database has a notifier".into(),
            ));
        };
        let mut slot = self
            .notifier
            .lock()
            .map_err(|_| StoreError::Database("the notifier connection was poisoned".into()))?;
        let conn = match slot.take() {
            Some(conn) if !conn.is_closed() => conn,
            _ => PgConn::connect(url, schema_of(&self.location), None)?,
        };
        let conn = Conn::Postgres(Box::new(conn));
        let result = f(&conn);
        if let Conn::Postgres(conn) = conn {
            *slot = Some(*conn);
        }
        result
    }

    /// Puts the index entries a commit left into the search memory.
    pub(crate) fn apply_delta(&self, delta: crate::search::Delta) {
        let Ok(mut memory) = self.search.write() else {
            return;
        };
        for (key, id, terms, vectors) in delta {
            if let Some(index) = memory.keyword.get_mut(&key) {
                match terms {
                    Some(terms) => index.set(id, terms),
                    None => index.remove(id),
                }
            }
            if let Some(chunks) = vectors {
                if let Some(set) = memory.vectors.get_mut(&key) {
                    set.set(id, &chunks);
                } else if let Some(written) = memory.loading.get_mut(&key) {
                    written.push((id, chunks));
                }
            }
        }
    }

    /// Reads a semantic field's committed vectors into memory, if they are not there
    /// yet (its first semantic search). They are read on a connection of their own, on
    /// a snapshot taken after commits began to be noted for the field, and what those
    /// commits wrote is put over it: nothing committed meanwhile is missed.
    pub(crate) fn ensure_vectors(&self, key: &crate::search::FieldKey) -> Result<()> {
        let loaded = |store: &Store| store.with_memory(|m| m.vectors.contains_key(key));
        if loaded(self) != Some(false) {
            return Ok(());
        }
        let _one_at_a_time = self
            .vector_loads
            .lock()
            .map_err(|_| StoreError::Database("the search memory was poisoned".into()))?;
        if loaded(self) != Some(false) {
            return Ok(());
        }
        let memory_lock = || StoreError::Database("the search memory was poisoned".into());
        self.search
            .write()
            .map_err(|_| memory_lock())?
            .loading
            .insert(key.clone(), Vec::new());
        let read = self.open_reader().and_then(|conn| {
            conn.begin_read()?;
            let set = crate::search::load_vectors(&conn, &key.0, &key.1);
            let _ = conn.execute_batch("ROLLBACK");
            set
        });
        let mut memory = self.search.write().map_err(|_| memory_lock())?;
        let written = memory.loading.remove(key).unwrap_or_default();
        let mut set = read?;
        for (id, chunks) in written {
            set.set(id, &chunks);
        }
        memory.vectors.insert(key.clone(), set);
        Ok(())
    }

    /// Reads every search index into memory again (another server's commits were
    /// missed, or too many to name).
    pub(crate) fn reload_search(&self) {
        let loaded = self.read_unit().and_then(|unit| {
            let loaded: std::collections::HashSet<crate::search::FieldKey> = self
                .with_memory(|m| m.vectors.keys().cloned().collect())
                .unwrap_or_default();
            let memory = crate::search::load(unit.conn()?, &self.schema.entities, |key| {
                loaded.contains(key)
            })?;
            unit.rollback()?;
            Ok(memory)
        });
        if let (Ok(loaded), Ok(mut memory)) = (loaded, self.search.write()) {
            // A first read of vectors under way goes on noting what commits write.
            let loading = std::mem::take(&mut memory.loading);
            *memory = loaded;
            memory.loading = loading;
        }
    }

    /// Tells the commit listener these entity types changed.
    pub(crate) fn tell_committed(&self, entities: &[String]) {
        let listener = self.on_commit.read().ok().and_then(|l| l.clone());
        if let Some(listener) = listener {
            listener(entities);
        }
    }

    /// Tells `listener` the entity types each committed unit of work changed.
    pub fn on_commit(&self, listener: CommitListener) {
        if let Ok(mut slot) = self.on_commit.write() {
            *slot = Some(listener);
        }
    }

    /// The entity types changed by the writer's running unit so far.
    fn touched_entities(&self) -> Vec<String> {
        let Ok(touched) = self.touched.lock() else {
            return Vec::new();
        };
        let mut names: Vec<String> = touched
            .iter()
            .filter(|table| !table.starts_with("_flin") && !table.starts_with("sqlite_"))
            .map(|table| table.split('$').next().unwrap_or(table).to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn forget_touched(&self) {
        if let Ok(mut touched) = self.touched.lock() {
            touched.clear();
        }
        if let Ok(mut pending) = self.pending_docs.lock() {
            pending.clear();
        }
    }

    /// Notes a row of a searchable field the writer's unit changed (the memory
    /// follows at commit).
    pub(crate) fn doc_written(&self, entity: &str, field: &str, id: i64) {
        if let Ok(mut pending) = self.pending_docs.lock() {
            pending.insert(((entity.to_string(), field.to_string()), id));
        }
    }

    /// The rows of a field the running writer unit changed.
    pub(crate) fn own_docs(&self, key: &crate::search::FieldKey) -> std::collections::HashSet<i64> {
        self.pending_docs
            .lock()
            .map(|pending| {
                pending
                    .iter()
                    .filter(|(k, _)| k == key)
                    .map(|(_, id)| *id)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Runs `f` on the committed search indexes (many searches at once).
    pub(crate) fn with_memory<T>(&self, f: impl FnOnce(&crate::search::Memory) -> T) -> Option<T> {
        let memory = self.search.read().ok()?;
        Some(f(&memory))
    }

    /// An in-memory database (nothing on disk).
    pub fn memory(entities: &[EntityDef]) -> Result<Store> {
        Store::open(Location::Memory, entities, Durability::Full)
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Whether other servers may share this database (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self.location, Location::Postgres { .. })
    }

    /// The schema changes applied when this store was opened.
    pub fn applied_changes(&self) -> &[Change] {
        &self.changes
    }

    pub fn entities(&self) -> &[EntityDef] {
        &self.schema.entities
    }

    /// How many SQL statements this store has run (for tests of batch loading).
    pub fn statements_run(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub(crate) fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn want_index(&self, index: crate::auto_index::WantedIndex) {
        let already = self
            .made
            .lock()
            .is_ok_and(|made| made.contains(&index.name));
        if already || matches!(self.location, Location::Memory) {
            return;
        }
        if let Ok(mut wanted) = self.wanted.lock() {
            if !wanted.contains(&index) {
                wanted.push(index);
            }
        }
    }

    /// Makes, now, the indexes the program's queries will want (their shapes, from the
    /// compiled code): the first request of a list page does not pay for its index.
    pub fn index_queries<'q>(&self, shapes: impl Iterator<Item = &'q flin_query::QueryShape>) {
        for shape in shapes {
            let Some(def) = self.entities().iter().find(|e| *e.name == *shape.entity) else {
                continue;
            };
            if let Some(index) = crate::auto_index::wanted(def, shape) {
                self.want_index(index);
            }
        }
        self.make_wanted_indexes();
    }

    /// Makes the wanted indexes, if the writer connection is free right now.
    fn make_wanted_indexes(&self) {
        let pending: Vec<_> = match self.wanted.lock() {
            Ok(mut wanted) if !wanted.is_empty() => std::mem::take(&mut *wanted),
            _ => return,
        };
        let Ok(conn) = self.writer.try_lock() else {
            // Busy: try again when the next unit ends.
            if let Ok(mut wanted) = self.wanted.lock() {
                wanted.extend(pending);
            }
            return;
        };
        for index in pending {
            if crate::auto_index::create(&conn, &index, self.now()).is_ok() {
                if let Ok(mut made) = self.made.lock() {
                    made.insert(index.name.clone());
                }
            }
        }
        drop(conn);
        // Readers load the new statistics.
        self.stats_generation.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_write(&self) {
        self.written.fetch_add(1, Ordering::Relaxed);
    }

    /// A timestamp (µs since the epoch) later than every one handed out before, so
    /// versions of a row never share an instant.
    pub(crate) fn now(&self) -> i64 {
        let wall = wall_clock();
        let Ok(mut last) = self.clock.lock() else {
            return wall;
        };
        let next = wall.max(*last + 1);
        *last = next;
        next
    }

    /// The writer connection, reconnected first if the database went away.
    fn writer(&self) -> Result<MutexGuard<'_, Conn>> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| StoreError::Database("the writer connection was poisoned".into()))?;
        if let (Conn::Postgres(pg), Location::Postgres { url, .. }) = (&*conn, &self.location) {
            if pg.is_closed() {
                *conn = Conn::Postgres(Box::new(PgConn::connect(
                    url,
                    schema_of(&self.location),
                    Some(self.touched.clone()),
                )?));
            }
        }
        Ok(conn)
    }

    /// A unit of work that may write: holds the writer connection until it ends.
    pub fn unit(&self) -> Result<Unit<'_>> {
        let conn = self.writer()?;
        conn.begin_write()?;
        self.forget_touched();
        Ok(Unit {
            store: self,
            conn: Some(ConnRef::Writer(conn)),
            savepoints: 0,
        })
    }

    /// A unit of work that only reads: sees the last committed state, never a writer's
    /// uncommitted changes. Without a reader pool (in memory) it waits for the writer.
    pub fn read_unit(&self) -> Result<Unit<'_>> {
        let mut reader = self.readers.lock().ok().and_then(|mut pool| pool.pop());
        // A PostgreSQL connection that lost the server is let go (and a new one made).
        if let Some((Conn::Postgres(pg), _)) = &reader {
            if pg.is_closed() {
                reader = None;
                self.opened_readers.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let limit = match &self.location {
            Location::Postgres { pool, .. } => pool.saturating_sub(1),
            _ => READERS,
        };
        let (mut reader, mut generation) = match reader {
            Some(idle) => idle,
            None if !matches!(self.location, Location::Memory)
                && self.opened_readers.load(Ordering::Relaxed) < limit =>
            {
                let conn = self.open_reader()?;
                self.opened_readers.fetch_add(1, Ordering::Relaxed);
                (conn, self.stats_generation.load(Ordering::Relaxed))
            }
            // All readers busy (or in memory): the unit waits for the writer.
            None => return self.unit(),
        };
        let current = self.stats_generation.load(Ordering::Relaxed);
        if generation < current {
            if let Location::File(_) = &self.location {
                reader = self.open_reader()?;
                generation = current;
            }
        }
        reader.begin_read()?;
        Ok(Unit {
            store: self,
            conn: Some(ConnRef::Reader(reader, generation)),
            savepoints: 0,
        })
    }

    fn open_reader(&self) -> Result<Conn> {
        match &self.location {
            Location::File(path) => Ok(Conn::Sqlite(open_reader(path, self.durability)?)),
            Location::Postgres { url, .. } => Ok(Conn::Postgres(Box::new(PgConn::connect(
                url,
                schema_of(&self.location),
                None,
            )?))),
            Location::Memory => Err(StoreError::Database(
                "internal: an in-memory database has no readers".into(),
            )),
        }
    }

    fn give_back(&self, reader: Conn, generation: u64) {
        if let Ok(mut pool) = self.readers.lock() {
            pool.push((reader, generation));
        }
    }

    /// Deletes the data of fields no longer declared (`flin db prune`).
    pub fn prune(&self) -> Result<Vec<Change>> {
        let conn = self.writer()?;
        schema::prune(&conn, &self.schema.entities, self.now())
    }

    /// A consistent copy of the database, taken while it is in use.
    pub fn backup(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(StoreError::Unavailable(format!(
                "{} already exists: choose a new file name",
                to.display()
            )));
        }
        let conn = self.writer()?;
        let Some(sqlite) = conn.sqlite() else {
            return Err(StoreError::Unavailable(
                "a PostgreSQL database is backed up with `flin db backup` (pg_dump)".into(),
            ));
        };
        sqlite.execute("VACUUM INTO ?1", [to.to_string_lossy()])?;
        Ok(())
    }
}

/// A consistent copy of the database file at `path` (which may be in use by a running
/// app: SQLite's `VACUUM INTO` reads one snapshot).
pub fn backup(path: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        return Err(StoreError::Unavailable(format!(
            "{} already exists: choose a new file name",
            to.display()
        )));
    }
    let conn = open_file(path)?;
    conn.execute("VACUUM INTO ?1", [to.to_string_lossy()])?;
    Ok(())
}

/// A database opened by the `flin db` tools and `flin jobs` to read what is stored.
pub struct Database(Conn);

impl Database {
    /// The stored entity definitions.
    pub fn stored_schema(&self) -> Result<Vec<EntityDef>> {
        schema::stored(&self.0)
    }

    /// The recorded schema changes, oldest first.
    pub fn schema_history(&self) -> Result<Vec<Change>> {
        schema::history(&self.0)
    }

    /// The latest runs of a job, newest first.
    pub fn job_runs(&self, job: &str, limit: usize) -> Result<Vec<crate::JobRun>> {
        crate::jobs::job_runs(&self.0, job, limit)
    }
}

/// Opens an existing database file read-only (the `flin db` tools).
pub fn open_existing(path: &Path) -> Result<Database> {
    Ok(Database(Conn::Sqlite(open_file(path)?)))
}

/// Connects to a PostgreSQL database to read what is stored (the `flin db` tools).
pub fn open_postgres(url: &str) -> Result<Database> {
    Ok(Database(Conn::Postgres(Box::new(PgConn::connect(
        url, None, None,
    )?))))
}

fn open_file(path: &Path) -> Result<Connection> {
    if !path.exists() {
        return Err(StoreError::Unavailable(format!(
            "there is no database at {} (run the app or script once to create it)",
            path.display()
        )));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Replaces the database at `path` with the backup `from`, after checking the backup.
pub fn restore(path: &Path, from: &Path) -> Result<()> {
    restore_with_progress(path, from, &mut |_, _| {})
}

/// [`restore`], telling `progress` the pages copied and the total.
pub fn restore_with_progress(
    path: &Path,
    from: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    let source = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", from.display())))?;
    let check: String = source
        .query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))
        .map_err(|_| {
            StoreError::Unavailable(format!("{} is not a FLIN database backup", from.display()))
        })?;
    if check != "ok" {
        return Err(StoreError::Unavailable(format!(
            "{} is damaged ({check}): it was not restored",
            from.display()
        )));
    }
    let source = Conn::Sqlite(source);
    let not_backup =
        || StoreError::Unavailable(format!("{} is not a FLIN database backup", from.display()));
    if !source.has_table("_flin_schema").map_err(|_| not_backup())? {
        return Err(not_backup());
    }
    schema::stored(&source).map_err(|_| not_backup())?;
    let Conn::Sqlite(source) = source else {
        return Err(not_backup());
    };
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            let _ = std::fs::create_dir_all(dir);
        }
    }
    let mut target = Connection::open(path)?;
    target.busy_timeout(std::time::Duration::from_secs(5))?;
    copy_pages(&source, &mut target, progress)
}

/// Copies every page of `source` into `target` (SQLite's online backup), telling
/// `progress` the pages done and the total as it goes.
fn copy_pages(
    source: &Connection,
    target: &mut Connection,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    use rusqlite::backup::StepResult;
    let backup = rusqlite::backup::Backup::new(source, target)?;
    loop {
        let step = backup.step(256)?;
        let p = backup.progress();
        let total = u64::try_from(p.pagecount).unwrap_or(0);
        let left = u64::try_from(p.remaining).unwrap_or(0);
        progress(total.saturating_sub(left), total);
        match step {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            // Another connection holds the source: try again shortly.
            _ => std::thread::sleep(std::time::Duration::from_millis(5)),
        }
    }
}

/// [`backup`] page by page, telling `progress` the pages copied and the total (for a
/// progress bar; the copy is consistent: a write meanwhile restarts it).
pub fn backup_with_progress(
    path: &Path,
    to: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    if to.exists() {
        return Err(StoreError::Unavailable(format!(
            "{} already exists: choose a new file name",
            to.display()
        )));
    }
    let source = open_file(path)?;
    let mut target = Connection::open(to)?;
    let result = copy_pages(&source, &mut target, progress);
    if result.is_err() {
        drop(target);
        let _ = std::fs::remove_file(to);
    }
    result
}

/// The schema of a PostgreSQL location, if it has its own.
pub(crate) fn schema_of(location: &Location) -> Option<&str> {
    match location {
        Location::Postgres {
            schema: Some(schema),
            ..
        } => Some(schema),
        _ => None,
    }
}

/// Drops a schema `flin test` gave a test, with everything in it.
pub fn drop_postgres_schema(url: &str, schema: &str) -> Result<()> {
    let conn = PgConn::connect(url, None, None)?;
    conn.batch(&format!(
        "DROP SCHEMA IF EXISTS {} CASCADE",
        crate::columns::quote(schema)
    ))
}

pub(crate) fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

enum ConnRef<'s> {
    Writer(MutexGuard<'s, Conn>),
    Reader(Conn, u64),
}

/// Restricts a file or folder to its owner (where the system has such modes).
#[cfg(unix)]
fn private(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn private(_path: &Path, _mode: u32) {}

/// Each connection's page cache, in KB: 16 MB keeps the indexes of a 100k-row table in
/// memory (SQLite grows it as pages are read, up to this).
const CACHE_KB: u32 = 16_000;

fn open_reader(path: &Path, durability: Durability) -> Result<Connection> {
    let reader = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&reader, durability, false)?;
    Ok(reader)
}

/// One unit of work: a transaction, ended by [`Unit::commit`] or (also when dropped)
/// rolled back. `transaction { }` blocks inside it are savepoints.
pub struct Unit<'s> {
    store: &'s Store,
    conn: Option<ConnRef<'s>>,
    savepoints: usize,
}

impl<'s> Unit<'s> {
    pub(crate) fn conn(&self) -> Result<&Conn> {
        match &self.conn {
            Some(ConnRef::Writer(guard)) => Ok(guard),
            Some(ConnRef::Reader(conn, _)) => Ok(conn),
            None => Err(StoreError::Database("the unit of work has ended".into())),
        }
    }

    /// The operations on entities, inside this unit.
    pub fn db(&self) -> Result<Db<'_>> {
        Ok(Db::new(self.conn()?, self.store))
    }

    pub fn store(&self) -> &'s Store {
        self.store
    }

    /// Starts a nested atomic block; returns its depth.
    pub fn savepoint(&mut self) -> Result<usize> {
        let depth = self.savepoints + 1;
        self.conn()?
            .execute::<rusqlite::types::Value>(&format!("SAVEPOINT flin_{depth}"), &[])?;
        self.savepoints = depth;
        Ok(depth)
    }

    /// Ends the innermost block, keeping its writes (in the unit).
    pub fn release(&mut self) -> Result<()> {
        if self.savepoints == 0 {
            return Ok(());
        }
        self.conn()?
            .execute::<rusqlite::types::Value>(&format!("RELEASE flin_{}", self.savepoints), &[])?;
        self.savepoints -= 1;
        Ok(())
    }

    /// Undoes every block deeper than `depth` (an error left them).
    pub fn rollback_to(&mut self, depth: usize) -> Result<()> {
        while self.savepoints > depth {
            let n = self.savepoints;
            self.conn()?
                .execute_batch(&format!("ROLLBACK TO flin_{n}; RELEASE flin_{n}"))?;
            self.savepoints -= 1;
        }
        Ok(())
    }

    pub fn depth(&self) -> usize {
        self.savepoints
    }

    /// The entity types this unit has changed so far (none for a reading unit).
    pub fn written(&self) -> Vec<String> {
        match &self.conn {
            Some(ConnRef::Writer(_)) => self.store.touched_entities(),
            _ => Vec::new(),
        }
    }

    /// Makes the unit's writes durable and visible.
    pub fn commit(mut self) -> Result<()> {
        self.commit_now()
    }

    /// Commits what the unit wrote so far and lets the database go, until
    /// [`Unit::resume`]: a test that calls its app's routes lets them run on the
    /// database between its own writes (language.md §10).
    pub fn pause(&mut self) -> Result<()> {
        if self.savepoints > 0 {
            return Err(StoreError::Database(
                "the app cannot be called inside a `transaction { }` block".into(),
            ));
        }
        self.commit_now()
    }

    /// Begins again (on the writer) after [`Unit::pause`].
    pub fn resume(&mut self) -> Result<()> {
        if self.conn.is_some() {
            return Ok(());
        }
        let conn = self.store.writer()?;
        conn.begin_write()?;
        self.store.forget_touched();
        self.conn = Some(ConnRef::Writer(conn));
        Ok(())
    }

    fn commit_now(&mut self) -> Result<()> {
        let written = self.written();
        // The index entries this unit leaves, read before it commits; they join the
        // store's memory once it has.
        let delta = self.search_delta();
        // Other servers on PostgreSQL hear of the commit (only once it is one).
        let notified = self.notify_others(&written);
        let result = notified.and_then(|()| self.conn().and_then(|c| c.execute_batch("COMMIT")));
        if result.is_err() {
            let _ = self.conn().map(|c| c.execute_batch("ROLLBACK"));
        } else {
            if let Ok(delta) = delta {
                self.store.apply_delta(delta);
            }
            let written = self.store.written.load(Ordering::Relaxed);
            if written >= self.store.next_refresh.load(Ordering::Relaxed) {
                // Fresh statistics let SQLite pick the index that serves a query's order
                // (measured: 2.3 ms → 0.27 ms for 100 of 10,000 rows). ANALYZE reads
                // every index (about 3 ms per 10,000 rows); doing it each time the store
                // has doubled its writes keeps that a small share of the writing.
                self.store
                    .next_refresh
                    .store(written.saturating_mul(2), Ordering::Relaxed);
                if let Ok(conn) = self.conn() {
                    if conn.execute_batch("ANALYZE").is_ok() {
                        self.store.stats_generation.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        // Forgotten while the writer is still this unit's.
        if matches!(self.conn, Some(ConnRef::Writer(_))) {
            self.store.forget_touched();
        }
        self.finish();
        if result.is_ok() && self.store.queued_now.swap(false, Ordering::Relaxed) {
            self.store.wake.notify();
        }
        if result.is_ok() && !written.is_empty() {
            let listener = self.store.on_commit.read().ok().and_then(|l| l.clone());
            if let Some(listener) = listener {
                listener(&written);
            }
        }
        result
    }

    /// On PostgreSQL, a unit that wrote notifies the other servers within its
    /// transaction (`bus.rs`).
    fn notify_others(&self, written: &[String]) -> Result<()> {
        let Some(ConnRef::Writer(conn)) = &self.conn else {
            return Ok(());
        };
        if conn.engine() != crate::engine::Engine::Postgres {
            return Ok(());
        }
        let docs: Vec<(crate::search::FieldKey, i64)> = self
            .store
            .pending_docs
            .lock()
            .map(|p| p.iter().cloned().collect())
            .unwrap_or_default();
        if written.is_empty() && docs.is_empty() {
            return Ok(());
        }
        let payload = crate::bus::commit_payload(&self.store.server, written, &docs);
        conn.execute(
            "SELECT pg_notify(?1, ?2)",
            rusqlite::params![crate::bus::channel(&self.store.location), payload],
        )?;
        Ok(())
    }

    /// The index entries of the rows this unit wrote, as they are now.
    fn search_delta(&self) -> Result<crate::search::Delta> {
        if !matches!(self.conn, Some(ConnRef::Writer(_))) {
            return Ok(Vec::new());
        }
        let written: Vec<(crate::search::FieldKey, i64)> = self
            .store
            .pending_docs
            .lock()
            .map(|p| p.iter().cloned().collect())
            .unwrap_or_default();
        if written.is_empty() {
            return Ok(Vec::new());
        }
        self.db()?.delta(&written)
    }

    /// Undoes every write of the unit.
    pub fn rollback(mut self) -> Result<()> {
        let result = self.conn().and_then(|c| c.execute_batch("ROLLBACK"));
        if matches!(self.conn, Some(ConnRef::Writer(_))) {
            self.store.forget_touched();
        }
        self.finish();
        result
    }

    fn finish(&mut self) {
        match self.conn.take() {
            Some(ConnRef::Reader(conn, generation)) => self.store.give_back(conn, generation),
            // The writer is free again once its guard is gone.
            Some(ConnRef::Writer(guard)) => drop(guard),
            None => return,
        }
        self.store.make_wanted_indexes();
    }
}

impl Drop for Unit<'_> {
    fn drop(&mut self) {
        if self.conn.is_some() {
            if let Ok(conn) = self.conn() {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                if matches!(self.conn, Some(ConnRef::Writer(_))) {
                    self.store.forget_touched();
                }
            }
            self.finish();
        }
    }
}
