//! Search quality (performance.md §4 "Search quality"): nDCG@10 of FLIN's keyword,
//! semantic and hybrid search over the judged queries of a public test collection,
//! beside SQLite FTS5 with the porter tokenizer ranking the same documents, and again
//! over queries reworded so that they share no word stem with their relevant
//! documents (bench/search/quality/README.md).
//!
//! It reads `bench/search/quality/data/<name>.json` (documents, queries, graded
//! judgements) and `<name>-reworded.json` when there is one, both written by
//! `bench/search/quality/prepare.py`; loads the documents into a temporary store as
//! `entity Doc { text: semantic text }` and into an FTS5 table; runs every query
//! with limit 10; prints Markdown tables.
//!
//! `cargo run --release -p flin-store --example search_quality [-- --subset N]
//! [--collection NAME] [--data DIR]`. `--subset N` keeps the first N judged queries,
//! every document judged for them and a fixed sample of the others (up to ten times
//! as many): what CI runs. The figures depend on nothing but the data, so a run
//! prints the same ones every time (the timings aside).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flin_query::{Datum, EntityDef, FieldDef, FieldType, SearchMode};
use flin_store::{Durability, Location, SearchRequest, Store};
use serde_json::Value;

/// nDCG cut-off and the number of results asked of every system.
const K: usize = 10;
/// Rows per unit of work while loading (a commit per thousand rows, as an app would
/// import them).
const UNIT_ROWS: usize = 1_000;

/// Documents, queries and judgements, as prepare.py writes them.
struct Collection {
    name: String,
    source: String,
    docs: Vec<(String, String)>,
    queries: Vec<(String, String)>,
    /// Query id → document id → grade (0 = judged not relevant).
    qrels: HashMap<String, HashMap<String, i64>>,
}

/// Reworded queries: the same judgements under other words.
struct QuerySet {
    source: String,
    queries: Vec<(String, String)>,
    qrels: HashMap<String, HashMap<String, i64>>,
}

fn text_of(value: &Value, key: &str) -> String {
    value
        .get(key)
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

fn pairs(value: &Value, key: &str) -> Vec<(String, String)> {
    value
        .get(key)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("the data has no `{key}` list"))
        .iter()
        .map(|item| (text_of(item, "id"), text_of(item, "text")))
        .collect()
}

fn qrels(value: &Value) -> HashMap<String, HashMap<String, i64>> {
    let mut out = HashMap::new();
    for (query, docs) in value
        .get("qrels")
        .and_then(Value::as_object)
        .expect("the data has no `qrels` object")
    {
        let grades = docs
            .as_object()
            .expect("each query's judgements are an object")
            .iter()
            .map(|(doc, grade)| (doc.clone(), grade.as_i64().expect("grades are integers")))
            .collect();
        out.insert(query.clone(), grades);
    }
    out
}

fn read_json(path: &Path) -> Value {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn load_collection(path: &Path) -> Collection {
    let value = read_json(path);
    Collection {
        name: text_of(&value, "name"),
        source: text_of(&value, "source"),
        docs: pairs(&value, "docs"),
        queries: pairs(&value, "queries"),
        qrels: qrels(&value),
    }
}

fn load_queries(path: &Path) -> QuerySet {
    let value = read_json(path);
    QuerySet {
        source: text_of(&value, "source"),
        queries: pairs(&value, "queries"),
        qrels: qrels(&value),
    }
}

/// A query counts when it has at least one relevant document (a grade above 0):
/// without one its ideal DCG is 0 and nDCG is undefined.
fn judged(
    queries: &[(String, String)],
    qrels: &HashMap<String, HashMap<String, i64>>,
) -> Vec<(String, String)> {
    queries
        .iter()
        .filter(|(id, _)| qrels.get(id).is_some_and(|g| g.values().any(|&r| r > 0)))
        .cloned()
        .collect()
}

/// FNV-1a: a sample that is the same on every machine and every run.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The first `n` judged queries, every document judged for them, and the others
/// with the lowest hash up to ten times as many as those.
fn subset(collection: &mut Collection, n: usize) {
    let kept: Vec<(String, String)> = judged(&collection.queries, &collection.qrels)
        .into_iter()
        .take(n)
        .collect();
    let mut needed: HashSet<String> = HashSet::new();
    for (id, _) in &kept {
        if let Some(grades) = collection.qrels.get(id) {
            needed.extend(grades.keys().cloned());
        }
    }
    let mut others: Vec<&(String, String)> = collection
        .docs
        .iter()
        .filter(|(id, _)| !needed.contains(id))
        .collect();
    others.sort_by_key(|(id, _)| (fnv(id), id.clone()));
    let extra: HashSet<String> = others
        .iter()
        .take(needed.len() * 10)
        .map(|(id, _)| id.clone())
        .collect();
    collection
        .docs
        .retain(|(id, _)| needed.contains(id) || extra.contains(id));
    let ids: HashSet<&String> = kept.iter().map(|(id, _)| id).collect();
    collection.qrels.retain(|id, _| ids.contains(id));
    collection.queries = kept;
}

/// nDCG@K with gains 2^grade − 1 and a log2(rank + 1) discount; the ideal ranking is
/// every judged document by grade.
fn ndcg(ranked: &[String], grades: &HashMap<String, i64>) -> f64 {
    let gain = |g: i64| {
        if g > 0 {
            (2f64).powi(g as i32) - 1.0
        } else {
            0.0
        }
    };
    let discount = |rank: usize| (rank as f64 + 2.0).log2();
    let dcg: f64 = ranked
        .iter()
        .take(K)
        .enumerate()
        .map(|(rank, doc)| gain(grades.get(doc).copied().unwrap_or(0)) / discount(rank))
        .sum();
    let mut ideal: Vec<i64> = grades.values().copied().filter(|&g| g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(K)
        .enumerate()
        .map(|(rank, &g)| gain(g) / discount(rank))
        .sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// One ranked system: a name and how it ranks a query's text.
trait Ranker {
    fn rank(&self, text: &str) -> Result<Vec<String>, String>;
}

struct Flin<'a> {
    store: &'a Store,
    ids: &'a HashMap<i64, String>,
    mode: SearchMode,
}

impl Ranker for Flin<'_> {
    fn rank(&self, text: &str) -> Result<Vec<String>, String> {
        let unit = self.store.read_unit().map_err(|e| e.to_string())?;
        let hits = unit
            .db()
            .map_err(|e| e.to_string())?
            .search(&SearchRequest {
                entity: "Doc",
                field: "text",
                text,
                mode: self.mode,
                limit: K,
                filter: None,
            })
            .map_err(|e| e.to_string());
        unit.rollback().map_err(|e| e.to_string())?;
        Ok(hits?
            .into_iter()
            .map(|(id, _)| self.ids.get(&id).cloned().unwrap_or_default())
            .collect())
    }
}

struct Fts5<'a> {
    conn: &'a rusqlite::Connection,
    ids: &'a [String],
}

/// The query as FTS5 takes it: each word of the text (split as unicode61 splits,
/// on anything but letters and digits) quoted, joined with OR. Quoting makes every
/// operator and keyword (AND, NOT, NEAR, `*`, `:`…) a plain word.
fn fts5_query(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(" OR ")
}

impl Ranker for Fts5<'_> {
    fn rank(&self, text: &str) -> Result<Vec<String>, String> {
        let query = fts5_query(text);
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY bm25(t), rowid LIMIT ?2")
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map(rusqlite::params![query, K as i64], |r| r.get::<_, i64>(0))
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for row in rows {
            let rowid = row.map_err(|e| e.to_string())?;
            out.push(self.ids[rowid as usize - 1].clone());
        }
        Ok(out)
    }
}

/// A system's figures over one query set.
struct Score {
    mean: f64,
    queries: usize,
    empty: usize,
    errors: Vec<String>,
    elapsed: Duration,
}

fn evaluate(
    ranker: &dyn Ranker,
    queries: &[(String, String)],
    qrels: &HashMap<String, HashMap<String, i64>>,
) -> Score {
    let began = Instant::now();
    let (mut sum, mut empty, mut errors) = (0.0, 0, Vec::new());
    let empty_grades = HashMap::new();
    for (id, text) in queries {
        match ranker.rank(text) {
            Ok(ranked) => {
                if ranked.is_empty() {
                    empty += 1;
                }
                sum += ndcg(&ranked, qrels.get(id).unwrap_or(&empty_grades));
            }
            Err(e) => errors.push(format!("query {id}: {e}")),
        }
    }
    Score {
        mean: if queries.is_empty() {
            0.0
        } else {
            sum / queries.len() as f64
        },
        queries: queries.len(),
        empty,
        errors,
        elapsed: began.elapsed(),
    }
}

struct Args {
    data: PathBuf,
    collection: Option<String>,
    subset: Option<usize>,
}

fn args() -> Args {
    let mut args = Args {
        data: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/search/quality/data"),
        collection: None,
        subset: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--subset" => {
                args.subset = Some(value().parse().expect("--subset takes a number of queries"))
            }
            "--collection" => args.collection = Some(value()),
            "--data" => args.data = PathBuf::from(value()),
            other => {
                panic!("unknown argument {other} (use --subset N, --collection NAME, --data DIR)")
            }
        }
    }
    args
}

/// The collection file: the one named, or the only `<name>.json` in the directory.
fn collection_path(args: &Args) -> PathBuf {
    if let Some(name) = &args.collection {
        return args.data.join(format!("{name}.json"));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(&args.data)
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "json")
                        && !p
                            .file_stem()
                            .is_some_and(|s| s.to_string_lossy().ends_with("-reworded"))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    match found.len() {
        1 => found.remove(0),
        0 => {
            eprintln!(
                "no collection in {}: make one with `python3 bench/search/quality/prepare.py` \
                 (bench/search/quality/README.md)",
                args.data.display()
            );
            std::process::exit(2);
        }
        _ => {
            eprintln!(
                "several collections in {}: choose one with --collection NAME",
                args.data.display()
            );
            std::process::exit(2);
        }
    }
}

fn fts5_compiled(conn: &rusqlite::Connection) -> bool {
    conn.query_row("SELECT sqlite_compileoption_used('ENABLE_FTS5')", [], |r| {
        r.get::<_, i64>(0)
    })
    .is_ok_and(|v| v == 1)
}

fn main() {
    let args = args();
    let path = collection_path(&args);
    let mut collection = load_collection(&path);
    let reworded_path = path.with_file_name(format!("{}-reworded.json", collection.name));
    let mut reworded = reworded_path.exists().then(|| load_queries(&reworded_path));
    if let Some(n) = args.subset {
        subset(&mut collection, n);
        if let Some(set) = &mut reworded {
            let kept: HashSet<&String> = collection.qrels.keys().collect();
            set.queries.retain(|(id, _)| kept.contains(id));
        }
    }
    let main_queries = judged(&collection.queries, &collection.qrels);
    let reworded_queries = reworded
        .as_ref()
        .map(|set| judged(&set.queries, &set.qrels))
        .unwrap_or_default();

    let dir = tempfile::tempdir().expect("a temporary directory");
    let def = EntityDef {
        name: "Doc".into(),
        fields: vec![FieldDef::new("text", FieldType::SemanticText)],
    };
    let store = Store::open(
        Location::File(dir.path().join("quality.db")),
        std::slice::from_ref(&def),
        Durability::Relaxed,
    )
    .expect("the store opens");
    let began = Instant::now();
    let mut ids: HashMap<i64, String> = HashMap::with_capacity(collection.docs.len());
    for chunk in collection.docs.chunks(UNIT_ROWS) {
        let unit = store.unit().expect("a unit of work");
        let db = unit.db().expect("the unit's database");
        for (id, text) in chunk {
            let row = db
                .save("Doc", None, vec![Datum::Text(text.as_str().into())])
                .unwrap_or_else(|e| panic!("saving document {id}: {e}"));
            ids.insert(row.id, id.clone());
        }
        unit.commit().expect("the unit commits");
    }
    let flin_indexing = began.elapsed();

    let conn = rusqlite::Connection::open(dir.path().join("fts5.db")).expect("an SQLite file");
    let fts5 = fts5_compiled(&conn);
    let mut fts5_indexing = Duration::ZERO;
    let fts5_ids: Vec<String> = collection.docs.iter().map(|(id, _)| id.clone()).collect();
    if fts5 {
        let began = Instant::now();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter unicode61 remove_diacritics 2');
             BEGIN;",
        )
        .expect("the FTS5 table");
        {
            let mut insert = conn
                .prepare("INSERT INTO t (rowid, text) VALUES (?1, ?2)")
                .expect("the insert");
            for (n, (_, text)) in collection.docs.iter().enumerate() {
                insert
                    .execute(rusqlite::params![n as i64 + 1, text])
                    .expect("an FTS5 row");
            }
        }
        conn.execute_batch("COMMIT;").expect("the FTS5 commit");
        fts5_indexing = began.elapsed();
    }

    let flin = |mode| Flin {
        store: &store,
        ids: &ids,
        mode,
    };
    let mut systems: Vec<(&str, Box<dyn Ranker + '_>)> = Vec::new();
    if fts5 {
        systems.push((
            "FTS5-porter",
            Box::new(Fts5 {
                conn: &conn,
                ids: &fts5_ids,
            }),
        ));
    }
    systems.push(("FLIN keyword", Box::new(flin(SearchMode::Keyword))));
    systems.push(("FLIN semantic", Box::new(flin(SearchMode::Semantic))));
    systems.push(("FLIN hybrid 0.7/0.3", Box::new(flin(SearchMode::Default))));
    systems.push((
        "FLIN hybrid 0.4/0.6",
        Box::new(flin(SearchMode::Hybrid(0.4, 0.6))),
    ));
    let empty_qrels = HashMap::new();
    let reworded_qrels = reworded.as_ref().map_or(&empty_qrels, |s| &s.qrels);
    let results: Vec<(&str, Score, Option<Score>)> = systems
        .iter()
        .map(|(name, ranker)| {
            let main = evaluate(ranker.as_ref(), &main_queries, &collection.qrels);
            let other = reworded
                .is_some()
                .then(|| evaluate(ranker.as_ref(), &reworded_queries, reworded_qrels));
            (*name, main, other)
        })
        .collect();

    println!("## {} (nDCG@{K})", collection.name);
    println!();
    println!("Source: {}", collection.source);
    if let Some(set) = &reworded {
        println!("Reworded queries: {}", set.source);
    }
    println!(
        "{}{} documents, {} judged queries, {} reworded queries",
        args.subset
            .map(|n| format!("Subset (--subset {n}): "))
            .unwrap_or_default(),
        collection.docs.len(),
        main_queries.len(),
        reworded_queries.len()
    );
    println!();
    println!(
        "| system | nDCG@{K} ({} queries) | nDCG@{K} reworded ({} queries) |",
        main_queries.len(),
        reworded_queries.len()
    );
    println!("|---|---|---|");
    for (name, main, other) in &results {
        println!(
            "| {name} | {:.4} | {} |",
            main.mean,
            other
                .as_ref()
                .map_or("–".to_string(), |s| format!("{:.4}", s.mean))
        );
    }
    if !fts5 {
        println!();
        println!("FTS5 is not compiled into this SQLite: no FTS5-porter row.");
    }
    println!();
    println!(
        "Indexing: FLIN {} documents (keyword + semantic, units of {UNIT_ROWS}) in {:.2} s; \
         FTS5 {}.",
        collection.docs.len(),
        flin_indexing.as_secs_f64(),
        if fts5 {
            format!("in {:.2} s", fts5_indexing.as_secs_f64())
        } else {
            "not run".into()
        }
    );
    println!();
    println!("| system | time for all queries | queries with no result | errors |");
    println!("|---|---|---|---|");
    for (name, main, other) in &results {
        let elapsed = main.elapsed + other.as_ref().map_or(Duration::ZERO, |s| s.elapsed);
        let queries = main.queries + other.as_ref().map_or(0, |s| s.queries);
        let empty = main.empty + other.as_ref().map_or(0, |s| s.empty);
        let errors = main.errors.len() + other.as_ref().map_or(0, |s| s.errors.len());
        println!(
            "| {name} | {:.2} s ({queries} queries) | {empty} | {errors} |",
            elapsed.as_secs_f64()
        );
    }
    for (name, main, other) in &results {
        for error in main
            .errors
            .iter()
            .chain(other.iter().flat_map(|s| s.errors.iter()))
            .take(5)
        {
            println!("{name}: {error}");
        }
    }

    let score = |wanted: &str, reworded: bool| {
        results
            .iter()
            .find(|(n, _, _)| *n == wanted)
            .and_then(|(_, main, other)| {
                if reworded {
                    other.as_ref().map(|s| s.mean)
                } else {
                    Some(main.mean)
                }
            })
    };
    let verdict = |holds: Option<bool>| match holds {
        Some(true) => "holds",
        Some(false) => "does not hold",
        None => "not measured",
    };
    let keyword = score("FLIN keyword", false);
    let hybrid = score("FLIN hybrid 0.7/0.3", false);
    let baseline = score("FTS5-porter", false);
    let keyword_r = score("FLIN keyword", true);
    let hybrid_r = score("FLIN hybrid 0.7/0.3", true);
    println!();
    println!("Targets (performance.md §4):");
    println!(
        "- keyword ≥ FTS5-porter: {}",
        verdict(keyword.zip(baseline).map(|(k, b)| k >= b))
    );
    println!(
        "- hybrid 0.7/0.3 > keyword: {}",
        verdict(hybrid.zip(keyword).map(|(h, k)| h > k))
    );
    println!(
        "- reworded: hybrid 0.7/0.3 > keyword: {}",
        verdict(hybrid_r.zip(keyword_r).map(|(h, k)| h > k))
    );
}
