//! The search indexes of entities (search.md): kept in the database beside the rows,
//! in step with every save, delete, restore and destroy, inside the same transaction —
//! a search sees the committed rows and its own unit's writes, never a rolled-back one.
//!
//! For each field marked `@search` or `semantic text` of entity `E`:
//! - `"E$terms$f"`: each live row's [`DocTerms`] (its length and each stem with its
//!   positions) as one blob: a save writes one row, not one per stem.
//! - `"E$vectors$f"` (semantic fields): each chunk's vector, little-endian f32.
//! - a row of `_flin_search`: the index's version and the model of its vectors.
//!
//! The store holds the committed indexes in memory ([`KeywordIndex`],
//! [`VectorSet`]), read from these tables at start-up and updated by each commit with
//! the rows it wrote. A search in a unit that wrote rows of the field reads those rows'
//! entries from its own transaction and puts them over the committed ones.
//!
//! A field that gains or loses its index, an index made by another version of the
//! tokenizer, or vectors of another model are rebuilt when the store opens.

use std::collections::{HashMap, HashSet};

use flin_query::{Datum, EntityDef, FieldDef, FieldType, QueryPlan, SearchMode};
use flin_search::keyword::View;
use flin_search::rank;
use flin_search::{DocTerms, KeywordIndex, VectorSet};
use rusqlite::params;

use crate::columns::{quote, table};
use crate::db::Db;
use crate::engine::Conn;
use crate::error::{Result, StoreError};
use crate::row::Row;

/// Bumped when the tokenizer or the index's layout changes: indexes are rebuilt.
const INDEX_VERSION: i64 = 2;

pub(crate) const META: &str = "CREATE TABLE IF NOT EXISTS \"_flin_search\" (
    entity TEXT NOT NULL, field TEXT NOT NULL, docs INTEGER NOT NULL,
    total_len INTEGER NOT NULL, version INTEGER NOT NULL, model TEXT,
    PRIMARY KEY (entity, field)) WITHOUT ROWID;";

/// A field: (entity, field).
pub(crate) type FieldKey = (String, String);

/// The committed indexes of every searchable field, in memory.
#[derive(Default)]
pub(crate) struct Memory {
    pub keyword: HashMap<FieldKey, KeywordIndex>,
    pub vectors: HashMap<FieldKey, VectorSet>,
    /// Fields being re-embedded with a new model: their vectors are still the built-in
    /// model's, so queries embed with it until the new vectors replace them.
    pub reembedding: HashSet<FieldKey>,
    /// Semantic fields whose vectors are being read into memory (at their first
    /// semantic search): what commits write meanwhile, put over what is read.
    pub loading: HashMap<FieldKey, Vec<(i64, Chunks)>>,
}

/// A row's vectors, one per chunk of its text.
pub(crate) type Chunks = Vec<Vec<f32>>;

/// What a commit changes in memory: each written row's terms and chunks as the unit
/// left them (none: the row is out).
pub(crate) type Delta = Vec<(FieldKey, i64, Option<DocTerms>, Option<Vec<Vec<f32>>>)>;

/// A search to run.
#[derive(Clone, Debug)]
pub struct SearchRequest<'a> {
    pub entity: &'a str,
    pub field: &'a str,
    pub text: &'a str,
    pub mode: SearchMode,
    pub limit: usize,
    /// `where (…)`: the candidate rows, as a query.
    pub filter: Option<&'a QueryPlan>,
}

/// Whether a field has a keyword index.
pub fn indexed(field: &FieldDef) -> bool {
    matches!(field.ty, FieldType::Text | FieldType::SemanticText)
        && (field.search || field.ty == FieldType::SemanticText)
}

/// Whether a field has vectors.
pub fn semantic(field: &FieldDef) -> bool {
    field.ty == FieldType::SemanticText
}

fn terms_table(entity: &str, field: &str) -> String {
    quote(&format!("{entity}$terms${field}"))
}

fn vectors_table(entity: &str, field: &str) -> String {
    quote(&format!("{entity}$vectors${field}"))
}

/// The vectors a re-embedding makes, which replace the field's when complete.
pub(crate) fn next_vectors_table(entity: &str, field: &str) -> String {
    quote(&format!("{entity}$vectors${field}$next"))
}

/// Where a row's vectors go.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Vectors {
    /// The field's vectors, searched now.
    Current,
    /// The re-embedding's, searched once complete.
    Next,
}

impl Vectors {
    pub(crate) fn table(self, entity: &str, field: &str) -> String {
        match self {
            Vectors::Current => vectors_table(entity, field),
            Vectors::Next => next_vectors_table(entity, field),
        }
    }
}

fn embedder() -> Result<flin_search::embedder::Embedder> {
    flin_search::embedder::active().map_err(StoreError::Unavailable)
}

/// How a row's vectors are made.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Embedding {
    /// Inside the save (a static model takes microseconds).
    Now,
    /// By the background worker ([`crate::embedding`]): the row is queued.
    Later,
    /// The field is being re-embedded: the built-in model's vectors now (they are the
    /// ones searched), the new model's by the worker.
    Reembedding,
}

/// Brings every index to the declared entities (at start-up): creates and fills the
/// missing ones, rebuilds the stale ones, drops the ones no field asks for.
pub(crate) fn ensure(conn: &Conn, declared: &[EntityDef]) -> Result<Vec<String>> {
    conn.execute_batch(META)?;
    conn.execute_batch(crate::embedding::QUEUE)?;
    let reembedding = crate::embedding::reembeddings(conn)?;
    let mut stored: HashMap<FieldKey, (i64, Option<String>)> = HashMap::new();
    conn.each(
        "SELECT entity, field, version, model FROM \"_flin_search\"",
        params![],
        |r| {
            stored.insert((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?));
            Ok(())
        },
    )?;
    let mut done = Vec::new();
    let mut wanted = HashSet::new();
    for def in declared {
        for field in def.fields.iter().filter(|f| indexed(f)) {
            let key = (def.name.clone(), field.name.clone());
            wanted.insert(key.clone());
            let model = semantic(field).then(flin_search::embedder::active_id);
            let (version, stored_model) = stored.get(&key).cloned().unwrap_or((0, None));
            let under_way = reembedding.get(&key);
            if version == INDEX_VERSION && stored_model == model {
                // A re-embedding to a model no longer chosen stops.
                if under_way.is_some() {
                    crate::embedding::cancel_reembedding(conn, &def.name, &field.name)?;
                }
                continue;
            }
            let builtin_vectors = stored_model.as_deref() == Some(flin_search::model::BUILTIN_ID);
            if let (true, true, Some(model)) =
                (version == INDEX_VERSION, builtin_vectors, model.as_deref())
            {
                // The built-in model's vectors keep answering (queries embed with it)
                // while the new model's are made in the background.
                if under_way.map(String::as_str) != Some(model) {
                    let rows = crate::embedding::start_reembedding(conn, def, field, model)?;
                    done.push(format!(
                        "re-embedding {}.{} with {model} in the background ({rows} rows); searches use the built-in model's vectors until it is done",
                        def.name, field.name
                    ));
                }
                continue;
            }
            if under_way.is_some() {
                crate::embedding::cancel_reembedding(conn, &def.name, &field.name)?;
            }
            let rows = rebuild(conn, def, field, model.as_deref())?;
            done.push(format!(
                "indexed {}.{} for search ({rows} rows)",
                def.name, field.name
            ));
        }
    }
    for (entity, field) in stored.keys() {
        if !wanted.contains(&(entity.clone(), field.clone())) {
            drop_index(conn, entity, field)?;
            done.push(format!("dropped the search index of {entity}.{field}"));
        }
    }
    Ok(done)
}

fn drop_index(conn: &Conn, entity: &str, field: &str) -> Result<()> {
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {};",
        terms_table(entity, field),
        vectors_table(entity, field)
    ))?;
    conn.execute(
        "DELETE FROM \"_flin_search\" WHERE entity = ?1 AND field = ?2",
        params![entity, field],
    )?;
    crate::embedding::forget_field(conn, entity, field)?;
    crate::embedding::cancel_reembedding(conn, entity, field)?;
    Ok(())
}

/// Makes a field's index anew from its rows; returns how many rows it holds.
fn rebuild(conn: &Conn, def: &EntityDef, field: &FieldDef, model: Option<&str>) -> Result<u64> {
    drop_index(conn, &def.name, &field.name)?;
    conn.execute_batch(&format!(
        "CREATE TABLE {} (doc INTEGER PRIMARY KEY, terms BLOB NOT NULL);",
        terms_table(&def.name, &field.name)
    ))?;
    if semantic(field) {
        conn.execute_batch(&format!(
            "CREATE TABLE {} (doc INTEGER NOT NULL, chunk INTEGER NOT NULL, vec BLOB NOT NULL,
                 PRIMARY KEY (doc, chunk)) WITHOUT ROWID;",
            vectors_table(&def.name, &field.name)
        ))?;
    }
    conn.execute(
        "INSERT INTO \"_flin_search\" (entity, field, docs, total_len, version, model)
         VALUES (?1, ?2, 0, 0, ?3, ?4)",
        params![def.name, field.name, INDEX_VERSION, model],
    )?;
    let rows: Vec<(i64, String)> = conn.query_map(
        &format!(
            "SELECT \"id\", {} FROM {} WHERE \"deleted_at\" IS NULL AND {} IS NOT NULL",
            quote(&field.name),
            table(&def.name),
            quote(&field.name)
        ),
        params![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let what = format!("indexing {}.{}", def.name, field.name);
    let total = rows.len() as u64;
    // A slow model's vectors are made in the background; the keyword index now.
    let embedding = if flin_search::embedder::active_is_fast() {
        Embedding::Now
    } else {
        Embedding::Later
    };
    for (n, (id, text)) in rows.iter().enumerate() {
        if n % 64 == 0 {
            crate::progress::report(&what, n as u64, total);
        }
        add_text(conn, &def.name, field, *id, text, embedding)?;
    }
    crate::progress::report(&what, total, total);
    Ok(total)
}

/// Puts a row's text into a field's index tables.
fn add_text(
    conn: &Conn,
    entity: &str,
    field: &FieldDef,
    id: i64,
    text: &str,
    embedding: Embedding,
) -> Result<()> {
    let terms = DocTerms::of(text);
    if !terms.terms.is_empty() {
        conn.execute(
            &format!(
                "INSERT INTO {} (doc, terms) VALUES (?1, ?2)",
                terms_table(entity, &field.name)
            ),
            params![id, terms.encode()],
        )?;
    }
    if semantic(field) {
        match embedding {
            Embedding::Now => {
                let chunks = embedder()?.chunk_vectors(text);
                put_vectors(conn, entity, &field.name, id, &chunks, Vectors::Current)?;
            }
            Embedding::Later => {
                crate::embedding::queue(conn, entity, &field.name, id, Vectors::Current)?
            }
            Embedding::Reembedding => {
                let builtin = flin_search::embedder::builtin().map_err(StoreError::Unavailable)?;
                let chunks = builtin.chunk_vectors(text);
                put_vectors(conn, entity, &field.name, id, &chunks, Vectors::Current)?;
                crate::embedding::queue(conn, entity, &field.name, id, Vectors::Next)?;
            }
        }
    }
    Ok(())
}

/// Stores a row's chunk vectors.
pub(crate) fn put_vectors(
    conn: &Conn,
    entity: &str,
    field: &str,
    id: i64,
    chunks: &[Vec<f32>],
    into: Vectors,
) -> Result<()> {
    let insert = format!(
        "INSERT INTO {} (doc, chunk, vec) VALUES (?1, ?2, ?3)",
        into.table(entity, field)
    );
    for (n, vector) in chunks.iter().enumerate() {
        let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
        conn.execute(&insert, params![id, n as i64, bytes])?;
    }
    Ok(())
}

/// Deletes a row's chunk vectors.
pub(crate) fn delete_vectors(
    conn: &Conn,
    entity: &str,
    field: &str,
    id: i64,
    from: Vectors,
) -> Result<()> {
    conn.execute(
        &format!("DELETE FROM {} WHERE doc = ?1", from.table(entity, field)),
        &[id],
    )?;
    Ok(())
}

/// Takes a row out of a field's index tables (and out of the re-embedding's vectors
/// when `reembedding`).
fn remove_doc(
    conn: &Conn,
    entity: &str,
    field: &FieldDef,
    id: i64,
    reembedding: bool,
) -> Result<()> {
    conn.execute(
        &format!(
            "DELETE FROM {} WHERE doc = ?1",
            terms_table(entity, &field.name)
        ),
        &[id],
    )?;
    if semantic(field) {
        delete_vectors(conn, entity, &field.name, id, Vectors::Current)?;
        if reembedding {
            delete_vectors(conn, entity, &field.name, id, Vectors::Next)?;
        }
        crate::embedding::unqueue(conn, entity, &field.name, id)?;
    }
    Ok(())
}

/// The text a row holds in a field, when the row is live.
fn live_text(row: &Row, index: usize) -> Option<&str> {
    if row.deleted_at.is_some() {
        return None;
    }
    match row.fields.get(index) {
        Some(Datum::Text(text)) => Some(&**text),
        _ => None,
    }
}

/// Reads a vector stored as little-endian f32.
fn vector_of(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
        .collect()
}

/// Every searchable field's committed keyword index, read from its tables (at
/// start-up), and the vectors of the semantic fields `vectors` names. The others' are
/// read at their first semantic search (`Store::ensure_vectors`): an app that has not
/// searched by meaning yet holds none (performance.md §4 "Idle server").
pub(crate) fn load(
    conn: &Conn,
    declared: &[EntityDef],
    vectors: impl Fn(&FieldKey) -> bool,
) -> Result<Memory> {
    let mut memory = Memory {
        reembedding: crate::embedding::reembeddings(conn)?.into_keys().collect(),
        ..Memory::default()
    };
    for def in declared {
        for field in def.fields.iter().filter(|f| indexed(f)) {
            let key = (def.name.clone(), field.name.clone());
            let mut index = KeywordIndex::new();
            conn.each(
                &format!(
                    "SELECT doc, terms FROM {}",
                    terms_table(&def.name, &field.name)
                ),
                params![],
                |row| {
                    let doc: i64 = row.get(0)?;
                    if let Some(terms) = DocTerms::decode(&row.get::<Vec<u8>>(1)?) {
                        index.set(doc, terms);
                    }
                    Ok(())
                },
            )?;
            memory.keyword.insert(key.clone(), index);
            if semantic(field) && vectors(&key) {
                memory
                    .vectors
                    .insert(key, load_vectors(conn, &def.name, &field.name)?);
            }
        }
    }
    Ok(memory)
}

pub(crate) fn load_vectors(conn: &Conn, entity: &str, field: &str) -> Result<VectorSet> {
    let mut set: Option<VectorSet> = None;
    let mut current: Option<(i64, Vec<Vec<f32>>)> = None;
    conn.each(
        &format!(
            "SELECT doc, vec FROM {} ORDER BY doc, chunk",
            vectors_table(entity, field)
        ),
        params![],
        |row| {
            let doc: i64 = row.get(0)?;
            let vector = vector_of(&row.get::<Vec<u8>>(1)?);
            let set = set.get_or_insert_with(|| VectorSet::new(vector.len()));
            match &mut current {
                Some((d, chunks)) if *d == doc => chunks.push(vector),
                _ => {
                    if let Some((d, chunks)) = current.take() {
                        set.set(d, &chunks);
                    }
                    current = Some((doc, vec![vector]));
                }
            }
            Ok(())
        },
    )?;
    // No vector yet: the set takes the dimensions of the first one it is given.
    let mut set = set.unwrap_or_else(|| VectorSet::new(0));
    if let Some((d, chunks)) = current {
        set.set(d, &chunks);
    }
    Ok(set)
}

impl Db<'_> {
    /// Keeps a field's indexes in step with a row just written (`before`: the row as
    /// it was, none for a new one).
    pub(crate) fn index_row(&self, def: &EntityDef, row: &Row, before: Option<&Row>) -> Result<()> {
        for (index, field) in def.fields.iter().enumerate() {
            if !indexed(field) {
                continue;
            }
            let now = live_text(row, index);
            let was = before.and_then(|b| live_text(b, index));
            if before.is_some() && now == was {
                continue;
            }
            let embedding = self.store.embedding_for(def, field);
            if before.is_some() {
                let reembedding = embedding == Embedding::Reembedding;
                remove_doc(self.conn, &def.name, field, row.id, reembedding)?;
            }
            if let Some(text) = now {
                add_text(self.conn, &def.name, field, row.id, text, embedding)?;
                if embedding != Embedding::Now {
                    self.store.queued_rows();
                }
            }
            self.store.doc_written(&def.name, &field.name, row.id);
        }
        Ok(())
    }

    /// Takes a destroyed row out of every index of its entity.
    pub(crate) fn unindex_row(&self, def: &EntityDef, id: i64) -> Result<()> {
        for field in def.fields.iter().filter(|f| indexed(f)) {
            let reembedding = self.store.embedding_for(def, field) == Embedding::Reembedding;
            remove_doc(self.conn, &def.name, field, id, reembedding)?;
            self.store.doc_written(&def.name, &field.name, id);
        }
        Ok(())
    }

    /// A row's terms in a field's index as this unit has them.
    fn stored_terms(&self, entity: &str, field: &str, id: i64) -> Result<Option<DocTerms>> {
        let blob: Option<Vec<u8>> = self.conn.query_opt(
            &format!(
                "SELECT terms FROM {} WHERE doc = ?1",
                terms_table(entity, field)
            ),
            &[id],
            |r| r.get(0),
        )?;
        Ok(blob.and_then(|b| DocTerms::decode(&b)))
    }

    /// A row's chunks as this unit has them.
    fn stored_vectors(&self, entity: &str, field: &str, id: i64) -> Result<Vec<Vec<f32>>> {
        self.conn.query_map(
            &format!(
                "SELECT vec FROM {} WHERE doc = ?1 ORDER BY chunk",
                vectors_table(entity, field)
            ),
            &[id],
            |r| Ok(vector_of(&r.get::<Vec<u8>>(0)?)),
        )
    }

    /// What the rows this unit wrote leave in memory once it commits.
    pub(crate) fn delta(&self, written: &[(FieldKey, i64)]) -> Result<Delta> {
        let mut delta = Vec::with_capacity(written.len());
        for ((entity, field), id) in written {
            let semantic = self
                .entity(entity)
                .ok()
                .and_then(|def| def.field(field))
                .is_some_and(semantic);
            let terms = self.stored_terms(entity, field, *id)?;
            let vectors = if semantic {
                Some(self.stored_vectors(entity, field, *id)?)
            } else {
                None
            };
            delta.push(((entity.clone(), field.clone()), *id, terms, vectors));
        }
        Ok(delta)
    }

    /// Runs a search: row ids with their scores, best first (search.md §2, §4).
    pub fn search(&self, request: &SearchRequest<'_>) -> Result<Vec<(i64, f64)>> {
        let def = self.entity(request.entity)?;
        let Some(field) = def.field(request.field).filter(|f| indexed(f)) else {
            return Err(StoreError::Database(format!(
                "{}.{} is not searchable: mark it `@search` or make it `semantic text`",
                request.entity, request.field
            )));
        };
        let limit = request.limit.min(rank::MAX_LIMIT);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let candidates = match request.filter {
            Some(plan) if !plan.shape.filter.is_empty() => Some(self.filter_ids(plan)?),
            _ => None,
        };
        let mode = match request.mode {
            SearchMode::Default if semantic(field) => {
                SearchMode::Hybrid(rank::DEFAULT_WEIGHTS.0, rank::DEFAULT_WEIGHTS.1)
            }
            SearchMode::Default => SearchMode::Keyword,
            other => other,
        };
        if !semantic(field) && mode != SearchMode::Keyword {
            return Err(StoreError::Database(format!(
                "{}.{} has no semantic index: make it `semantic text`, or search it `using keyword`",
                request.entity, request.field
            )));
        }
        let query = flin_search::parse(request.text);
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let key = (def.name.clone(), field.name.clone());
        let candidates = candidates.as_ref();
        match mode {
            SearchMode::Semantic => self.semantic(&key, request.text, limit, candidates),
            SearchMode::Hybrid(kw, sem) => {
                let depth = rank::fusion_depth(limit);
                let keyword = self.keyword(&key, &query, depth, candidates)?;
                let semantic = self.semantic(&key, request.text, depth, candidates)?;
                Ok(rank::fuse(&keyword, &semantic, (kw, sem), limit))
            }
            _ => self.keyword(&key, &query, limit, candidates),
        }
    }

    /// BM25 over the committed index, this unit's rows over it.
    fn keyword(
        &self,
        key: &FieldKey,
        query: &flin_search::Query,
        limit: usize,
        candidates: Option<&HashSet<i64>>,
    ) -> Result<Vec<(i64, f64)>> {
        let hidden = self.store.own_docs(key);
        let mut own = KeywordIndex::new();
        for &doc in &hidden {
            if let Some(terms) = self.stored_terms(&key.0, &key.1, doc)? {
                own.set(doc, terms);
            }
        }
        let allowed = |doc: i64| candidates.is_none_or(|c| c.contains(&doc));
        // Phrases are checked against the rows' stored positions.
        let terms_of = |doc: i64| self.stored_terms(&key.0, &key.1, doc).ok().flatten();
        let hits = self.store.with_memory(|memory| {
            let empty = KeywordIndex::new();
            let base = memory.keyword.get(key).unwrap_or(&empty);
            View {
                base,
                own: &own,
                hidden: &hidden,
            }
            .search(query, limit, allowed, &terms_of)
        });
        Ok(hits.unwrap_or_default())
    }

    /// Cosine similarity of the query's vector and each row's best chunk.
    fn semantic(
        &self,
        key: &FieldKey,
        text: &str,
        limit: usize,
        candidates: Option<&HashSet<i64>>,
    ) -> Result<Vec<(i64, f64)>> {
        // A field being re-embedded is still searched with the built-in model's vectors.
        let reembedding = self
            .store
            .with_memory(|m| m.reembedding.contains(key))
            .unwrap_or(false);
        let model = if reembedding {
            flin_search::embedder::builtin().map_err(StoreError::Unavailable)?
        } else {
            embedder()?
        };
        let vector = model.embed(text);
        if vector.iter().all(|x| *x == 0.0) {
            return Ok(Vec::new());
        }
        let own = self.store.own_docs(key);
        let mut mine = VectorSet::new(vector.len());
        for &doc in &own {
            mine.set(doc, &self.stored_vectors(&key.0, &key.1, doc)?);
        }
        let keep = |doc: i64| candidates.is_none_or(|c| c.contains(&doc));
        self.store.ensure_vectors(key)?;
        let committed = self.store.with_memory(|memory| {
            memory
                .vectors
                .get(key)
                .map(|set| set.nearest(&vector, limit, |doc| keep(doc) && !own.contains(&doc)))
        });
        let mut all = committed.flatten().unwrap_or_default();
        all.extend(mine.nearest(&vector, limit, keep));
        rank::sort(&mut all);
        all.truncate(limit);
        Ok(all)
    }
}
