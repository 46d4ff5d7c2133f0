//! The search indexes of entities (search.md): kept in the database beside the rows,
//! in step with every save, delete, restore and destroy, inside the same transaction —
//! a search sees the committed rows and its own unit's writes, never a rolled-back one.
//!
//! For each field marked `@search` or `semantic text` of entity `E`:
//! - `"E$terms$f"`: one posting per (stem, row): how often the stem occurs, the row's
//!   length in tokens and the positions (for phrases); an index by row to take a row
//!   out. Soft-deleted rows are not in it.
//! - a row of `_flin_search`: how many rows the index holds and their total length
//!   (BM25's N and average length), the index's version and, for a semantic field, the
//!   model its vectors come from.
//! - `"E$vectors$f"` (semantic fields): each chunk's vector, little-endian f32. The
//!   store holds them in memory too ([`flin_search::VectorSet`]), filled at start-up
//!   and updated by each commit.
//!
//! A field that gains or loses its index, an index made by another version of the
//! tokenizer, or vectors of another model are rebuilt when the store opens.

use std::collections::{HashMap, HashSet};

use flin_query::{Datum, EntityDef, FieldDef, FieldType, QueryPlan, SearchMode};
use flin_search::rank::{self, FieldStats};
use flin_search::{Query, VectorSet};
use rusqlite::{Connection, OptionalExtension, params};

use crate::columns::{quote, table};
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::row::Row;

/// Each looked-up stem's postings: row → (tf, row length, positions).
type Postings = HashMap<String, HashMap<i64, (u32, u32, Vec<u8>)>>;

/// A term's postings without positions: row → (tf, row length).
type PrefixPostings = HashMap<i64, (u32, u32)>;

/// Bumped when the tokenizer or the index's layout changes: indexes are rebuilt.
const INDEX_VERSION: i64 = 1;

/// Terms a prefix may stand for (the most a search-as-you-type word costs).
const MAX_PREFIX_TERMS: usize = 64;

pub(crate) const META: &str = "CREATE TABLE IF NOT EXISTS \"_flin_search\" (
    entity TEXT NOT NULL, field TEXT NOT NULL, docs INTEGER NOT NULL,
    total_len INTEGER NOT NULL, version INTEGER NOT NULL, model TEXT,
    PRIMARY KEY (entity, field)) WITHOUT ROWID;";

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

fn embedder() -> Result<&'static flin_search::model::Model> {
    flin_search::model::builtin().map_err(StoreError::Unavailable)
}

/// Brings every index to the declared entities (at start-up, in the schema's
/// transaction): creates and fills the missing ones, rebuilds the stale ones, drops
/// the ones no field asks for.
pub(crate) fn ensure(conn: &Connection, declared: &[EntityDef]) -> Result<Vec<String>> {
    conn.execute_batch(META)?;
    let mut stored: HashMap<(String, String), (i64, Option<String>)> = HashMap::new();
    {
        let mut stmt =
            conn.prepare("SELECT entity, field, version, model FROM \"_flin_search\"")?;
        let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))?;
        for row in rows {
            let (key, value) = row?;
            stored.insert(key, value);
        }
    }
    let mut done = Vec::new();
    let mut wanted = HashSet::new();
    for def in declared {
        for field in def.fields.iter().filter(|f| indexed(f)) {
            let key = (def.name.clone(), field.name.clone());
            wanted.insert(key.clone());
            let model = if semantic(field) {
                Some(embedder()?.id.clone())
            } else {
                None
            };
            let fresh = stored.get(&key).is_some_and(|(version, stored_model)| {
                *version == INDEX_VERSION && *stored_model == model
            });
            if !fresh {
                let rows = rebuild(conn, def, field, model.as_deref())?;
                done.push(format!(
                    "indexed {}.{} for search ({rows} rows)",
                    def.name, field.name
                ));
            }
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

fn drop_index(conn: &Connection, entity: &str, field: &str) -> Result<()> {
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {};",
        terms_table(entity, field),
        vectors_table(entity, field)
    ))?;
    conn.execute(
        "DELETE FROM \"_flin_search\" WHERE entity = ?1 AND field = ?2",
        params![entity, field],
    )?;
    Ok(())
}

/// Makes a field's index anew from its rows; returns how many rows it holds.
fn rebuild(
    conn: &Connection,
    def: &EntityDef,
    field: &FieldDef,
    model: Option<&str>,
) -> Result<u64> {
    drop_index(conn, &def.name, &field.name)?;
    let terms = terms_table(&def.name, &field.name);
    conn.execute_batch(&format!(
        "CREATE TABLE {terms} (term TEXT NOT NULL, doc INTEGER NOT NULL, tf INTEGER NOT NULL,
             len INTEGER NOT NULL, pos BLOB NOT NULL, PRIMARY KEY (term, doc)) WITHOUT ROWID;
         CREATE INDEX {} ON {terms}(doc);",
        quote(&format!("{}$terms${}$doc", def.name, field.name))
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
    let mut rows: Vec<(i64, String)> = Vec::new();
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT \"id\", {} FROM {} WHERE \"deleted_at\" IS NULL AND {} IS NOT NULL",
            quote(&field.name),
            table(&def.name),
            quote(&field.name)
        ))?;
        let found = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        for row in found {
            rows.push(row?);
        }
    }
    for (id, text) in &rows {
        add_text(conn, &def.name, field, *id, text)?;
    }
    Ok(rows.len() as u64)
}

/// Puts a row's text into a field's index (postings, statistics, vectors).
fn add_text(conn: &Connection, entity: &str, field: &FieldDef, id: i64, text: &str) -> Result<()> {
    let tokens = flin_search::tokens::tokens(text);
    if !tokens.is_empty() {
        let len = i64::try_from(tokens.len()).unwrap_or(i64::MAX);
        let mut by_term: HashMap<&str, Vec<u32>> = HashMap::new();
        for token in &tokens {
            by_term
                .entry(token.stem.as_str())
                .or_default()
                .push(token.position);
        }
        let mut insert = conn.prepare_cached(&format!(
            "INSERT INTO {} (term, doc, tf, len, pos) VALUES (?1, ?2, ?3, ?4, ?5)",
            terms_table(entity, &field.name)
        ))?;
        for (term, positions) in &by_term {
            let bytes: Vec<u8> = positions.iter().flat_map(|p| p.to_le_bytes()).collect();
            insert.execute(params![term, id, positions.len() as i64, len, bytes])?;
        }
        conn.prepare_cached(
            "UPDATE \"_flin_search\" SET docs = docs + 1, total_len = total_len + ?3
             WHERE entity = ?1 AND field = ?2",
        )?
        .execute(params![entity, field.name, len])?;
    }
    if semantic(field) {
        let chunks = embedder()?.chunk_vectors(text);
        let mut insert = conn.prepare_cached(&format!(
            "INSERT INTO {} (doc, chunk, vec) VALUES (?1, ?2, ?3)",
            vectors_table(entity, &field.name)
        ))?;
        for (n, vector) in chunks.iter().enumerate() {
            let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
            insert.execute(params![id, n as i64, bytes])?;
        }
    }
    Ok(())
}

/// Takes a row out of a field's index.
fn remove_doc(conn: &Connection, entity: &str, field: &FieldDef, id: i64) -> Result<()> {
    let terms = terms_table(entity, &field.name);
    let len: Option<i64> = conn
        .prepare_cached(&format!("SELECT len FROM {terms} WHERE doc = ?1 LIMIT 1"))?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if let Some(len) = len {
        conn.prepare_cached(&format!("DELETE FROM {terms} WHERE doc = ?1"))?
            .execute([id])?;
        conn.prepare_cached(
            "UPDATE \"_flin_search\" SET docs = docs - 1, total_len = total_len - ?3
             WHERE entity = ?1 AND field = ?2",
        )?
        .execute(params![entity, field.name, len])?;
    }
    if semantic(field) {
        conn.prepare_cached(&format!(
            "DELETE FROM {} WHERE doc = ?1",
            vectors_table(entity, &field.name)
        ))?
        .execute([id])?;
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

/// Every field's vectors, as the database holds them (at start-up).
pub(crate) fn load_vectors(
    conn: &Connection,
    declared: &[EntityDef],
) -> Result<HashMap<(String, String), VectorSet>> {
    let mut sets = HashMap::new();
    for def in declared {
        for field in def.fields.iter().filter(|f| semantic(f)) {
            let dims = embedder()?.dims;
            let mut set = VectorSet::new(dims);
            let mut stmt = conn.prepare(&format!(
                "SELECT doc, vec FROM {} ORDER BY doc, chunk",
                vectors_table(&def.name, &field.name)
            ))?;
            let mut rows = stmt.query([])?;
            let mut current: Option<(i64, Vec<Vec<f32>>)> = None;
            while let Some(row) = rows.next()? {
                let doc: i64 = row.get(0)?;
                let vector = vector_of(&row.get::<_, Vec<u8>>(1)?);
                match &mut current {
                    Some((d, chunks)) if *d == doc => chunks.push(vector),
                    _ => {
                        if let Some((d, chunks)) = current.take() {
                            set.set(d, &chunks);
                        }
                        current = Some((doc, vec![vector]));
                    }
                }
            }
            if let Some((d, chunks)) = current {
                set.set(d, &chunks);
            }
            sets.insert((def.name.clone(), field.name.clone()), set);
        }
    }
    Ok(sets)
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
            if before.is_some() {
                remove_doc(self.conn, &def.name, field, row.id)?;
            }
            if let Some(text) = now {
                add_text(self.conn, &def.name, field, row.id, text)?;
            }
            if semantic(field) {
                self.store.vectors_written(&def.name, &field.name, row.id);
            }
        }
        Ok(())
    }

    /// Takes a destroyed row out of every index of its entity.
    pub(crate) fn unindex_row(&self, def: &EntityDef, id: i64) -> Result<()> {
        for field in def.fields.iter().filter(|f| indexed(f)) {
            remove_doc(self.conn, &def.name, field, id)?;
            if semantic(field) {
                self.store.vectors_written(&def.name, &field.name, id);
            }
        }
        Ok(())
    }

    /// The chunks a row has now in this unit (for the store's memory, at commit).
    pub(crate) fn stored_vectors(
        &self,
        entity: &str,
        field: &str,
        id: i64,
    ) -> Result<Vec<Vec<f32>>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT vec FROM {} WHERE doc = ?1 ORDER BY chunk",
            vectors_table(entity, field)
        ))?;
        let rows = stmt.query_map([id], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(vector_of(&row?));
        }
        Ok(out)
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
        match mode {
            SearchMode::Semantic => {
                self.semantic(def, field, request.text, &query, limit, candidates.as_ref())
            }
            SearchMode::Hybrid(kw, sem) => {
                let depth = rank::fusion_depth(limit);
                let keyword = self.keyword(def, field, &query, depth, candidates.as_ref())?;
                let semantic =
                    self.semantic(def, field, request.text, &query, depth, candidates.as_ref())?;
                Ok(rank::fuse(&keyword, &semantic, (kw, sem), limit))
            }
            _ => self.keyword(def, field, &query, limit, candidates.as_ref()),
        }
    }

    /// BM25 over the field's postings.
    fn keyword(
        &self,
        def: &EntityDef,
        field: &FieldDef,
        query: &Query,
        limit: usize,
        candidates: Option<&HashSet<i64>>,
    ) -> Result<Vec<(i64, f64)>> {
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let stats = self.field_stats(&def.name, &field.name)?;
        if stats.docs == 0 {
            return Ok(Vec::new());
        }
        let avg = stats.avg_len();
        let terms = terms_table(&def.name, &field.name);
        let allowed = |doc: i64| candidates.is_none_or(|c| c.contains(&doc));
        // Each looked-up stem's postings: doc → (tf, len, positions).
        let mut postings: Postings = HashMap::new();
        {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT doc, tf, len, pos FROM {terms} WHERE term = ?1"
            ))?;
            for term in query.looked_up() {
                let mut found = HashMap::new();
                let mut rows = stmt.query([term.as_str()])?;
                while let Some(row) = rows.next()? {
                    let doc: i64 = row.get(0)?;
                    let tf: i64 = row.get(1)?;
                    let len: i64 = row.get(2)?;
                    let pos: Vec<u8> = row.get(3)?;
                    found.insert(doc, (tf as u32, len as u32, pos));
                }
                postings.insert(term, found);
            }
        }
        let score_of = |term: &str, doc: i64| -> f64 {
            let Some(list) = postings.get(term) else {
                return 0.0;
            };
            let Some((tf, len, _)) = list.get(&doc) else {
                return 0.0;
            };
            rank::bm25(rank::idf(stats.docs, list.len() as u64), *tf, *len, avg)
        };
        let mut scores: HashMap<i64, f64> = HashMap::new();
        // The last plain word: its own stem, or a term it begins, whichever scores best.
        let last = query.prefix.as_ref().map(|p| flin_search::tokens::stem(p));
        for term in &query.terms {
            if Some(term) == last.as_ref() {
                continue;
            }
            if let Some(list) = postings.get(term) {
                for &doc in list.keys() {
                    if allowed(doc) {
                        *scores.entry(doc).or_default() += score_of(term, doc);
                    }
                }
            }
        }
        if let (Some(prefix), Some(stem)) = (&query.prefix, &last) {
            let mut best: HashMap<i64, f64> = HashMap::new();
            if let Some(list) = postings.get(stem) {
                for &doc in list.keys() {
                    if allowed(doc) {
                        best.insert(doc, score_of(stem, doc));
                    }
                }
            }
            for (term, list) in self.prefixed(&terms, prefix)? {
                if &term == stem {
                    continue;
                }
                let idf = rank::idf(stats.docs, list.len() as u64);
                for (doc, (tf, len)) in list {
                    if allowed(doc) {
                        let score = rank::bm25(idf, tf, len, avg);
                        let slot = best.entry(doc).or_default();
                        if score > *slot {
                            *slot = score;
                        }
                    }
                }
            }
            for (doc, score) in best {
                *scores.entry(doc).or_default() += score;
            }
        }
        for phrase in &query.phrases {
            let Some(first) = phrase.first().and_then(|t| postings.get(t)) else {
                continue;
            };
            for &doc in first.keys() {
                if !allowed(doc) || !has_phrase(&postings, phrase, doc) {
                    continue;
                }
                let sum: f64 = phrase.iter().map(|term| score_of(term, doc)).sum();
                *scores.entry(doc).or_default() += sum;
            }
        }
        if !query.excluded.is_empty() {
            let mut stmt = self
                .conn
                .prepare_cached(&format!("SELECT doc FROM {terms} WHERE term = ?1"))?;
            for term in &query.excluded {
                let docs = stmt.query_map([term.as_str()], |r| r.get::<_, i64>(0))?;
                for doc in docs {
                    scores.remove(&doc?);
                }
            }
        }
        Ok(rank::top(scores, limit))
    }

    /// The terms beginning with `prefix` (at most [`MAX_PREFIX_TERMS`]) and their
    /// postings: doc → (tf, len).
    fn prefixed(
        &self,
        terms: &str,
        prefix: &str,
    ) -> Result<Vec<(String, PrefixPostings)>> {
        let mut upper = prefix.to_string();
        upper.push(char::MAX);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT term, doc, tf, len FROM {terms} WHERE term >= ?1 AND term < ?2 ORDER BY term"
        ))?;
        let mut rows = stmt.query(params![prefix, upper])?;
        let mut out: Vec<(String, PrefixPostings)> = Vec::new();
        while let Some(row) = rows.next()? {
            let term: String = row.get(0)?;
            if out.last().is_none_or(|(t, _)| *t != term) {
                if out.len() == MAX_PREFIX_TERMS {
                    break;
                }
                out.push((term.clone(), HashMap::new()));
            }
            if let Some((_, list)) = out.last_mut() {
                let (doc, tf, len): (i64, i64, i64) = (row.get(1)?, row.get(2)?, row.get(3)?);
                list.insert(doc, (tf as u32, len as u32));
            }
        }
        Ok(out)
    }

    /// Cosine similarity of the query's vector and each row's best chunk.
    fn semantic(
        &self,
        def: &EntityDef,
        field: &FieldDef,
        text: &str,
        query: &Query,
        limit: usize,
        candidates: Option<&HashSet<i64>>,
    ) -> Result<Vec<(i64, f64)>> {
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let vector = embedder()?.embed(text);
        if vector.iter().all(|x| *x == 0.0) {
            return Ok(Vec::new());
        }
        // The committed vectors, but for the rows this unit wrote (read here).
        let own = self.store.own_vector_docs(&def.name, &field.name);
        let mut mine = VectorSet::new(vector.len());
        for &doc in &own {
            mine.set(doc, &self.stored_vectors(&def.name, &field.name, doc)?);
        }
        let keep = |doc: i64| candidates.is_none_or(|c| c.contains(&doc));
        let committed = self.store.with_vectors(&def.name, &field.name, |set| {
            set.nearest(&vector, limit, |doc| keep(doc) && !own.contains(&doc))
        });
        let mut all = committed.unwrap_or_default();
        all.extend(mine.nearest(&vector, limit, keep));
        rank::sort(&mut all);
        all.truncate(limit);
        Ok(all)
    }

    fn field_stats(&self, entity: &str, field: &str) -> Result<FieldStats> {
        let stats = self
            .conn
            .prepare_cached(
                "SELECT docs, total_len FROM \"_flin_search\" WHERE entity = ?1 AND field = ?2",
            )?
            .query_row(params![entity, field], |r| {
                Ok(FieldStats {
                    docs: r.get::<_, i64>(0)?.max(0) as u64,
                    total_len: r.get::<_, i64>(1)?.max(0) as u64,
                })
            })
            .optional()?;
        Ok(stats.unwrap_or(FieldStats {
            docs: 0,
            total_len: 0,
        }))
    }
}

/// Whether `doc` holds the phrase's stems at consecutive positions.
fn has_phrase(
    postings: &Postings,
    phrase: &[String],
    doc: i64,
) -> bool {
    let positions = |term: &str| -> Option<Vec<u32>> {
        let (_, _, bytes) = postings.get(term)?.get(&doc)?;
        Some(
            bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
                .collect(),
        )
    };
    let Some(starts) = phrase.first().and_then(|t| positions(t)) else {
        return false;
    };
    let rest: Option<Vec<HashSet<u32>>> = phrase
        .iter()
        .skip(1)
        .map(|t| positions(t).map(|p| p.into_iter().collect()))
        .collect();
    let Some(rest) = rest else {
        return false;
    };
    starts.iter().any(|&start| {
        rest.iter()
            .enumerate()
            .all(|(i, set)| set.contains(&(start + 1 + i as u32)))
    })
}
