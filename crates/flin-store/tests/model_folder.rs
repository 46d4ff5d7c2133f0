//! An app whose `search.model` is a transformer folder (search.md §4 "Other models"):
//! a save commits at once and is keyword-searchable immediately; its vectors are made
//! in the background within seconds; a row saved again gets vectors of its new text;
//! changing the model re-embeds every row, the built-in model's vectors answering
//! until the new ones are complete. Uses the tiny BERT of flin-search's tests.
//! One test: the model is the process's.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flin_query::{Datum, EntityDef, FieldDef, FieldType, SearchMode};
use flin_store::{Durability, Location, SearchRequest, Store};

fn tiny_bert() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../flin-search/tests/models/tiny-bert")
}

fn note() -> EntityDef {
    EntityDef {
        name: "Note".into(),
        fields: vec![FieldDef::new("body", FieldType::SemanticText)],
    }
}

fn search(store: &Store, text: &str, mode: SearchMode) -> Vec<i64> {
    let unit = store.read_unit().unwrap();
    let hits = unit
        .db()
        .unwrap()
        .search(&SearchRequest {
            entity: "Note",
            field: "body",
            text,
            mode,
            limit: 10,
            filter: None,
        })
        .unwrap();
    unit.commit().unwrap();
    hits.into_iter().map(|(id, _)| id).collect()
}

/// Waits (up to 10 s) until `check` holds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what}: not within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn model_of(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        "SELECT model FROM \"_flin_search\" WHERE entity = 'Note'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_transformer_embeds_in_the_background_and_a_model_change_re_embeds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flin.db");
    flin_search::embedder::configure(Some(&tiny_bert())).unwrap();
    let model = flin_search::embedder::active().unwrap();
    assert!(model.id().starts_with("bert:"));
    let open =
        || Store::open(Location::File(path.clone()), &[note()], Durability::Relaxed).unwrap();
    let store = Arc::new(open());
    flin_store::embed_in_background(&store);
    let texts = [
        "waterproof hiking boots",
        "a quiet cafe in paris",
        "the train travels fast",
    ];
    let unit = store.unit().unwrap();
    for text in texts {
        unit.db()
            .unwrap()
            .save("Note", None, vec![Datum::Text(text.into())])
            .unwrap();
    }
    unit.commit().unwrap();
    // Keyword search at once; semantic once the worker has made the vectors.
    assert_eq!(search(&store, "boots", SearchMode::Keyword), [1]);
    eventually("the vectors of three rows", || {
        search(&store, "boots", SearchMode::Semantic).len() == 3
    });
    // Each text is nearest to itself.
    for (n, text) in texts.iter().enumerate() {
        assert_eq!(
            search(&store, text, SearchMode::Semantic)[0],
            n as i64 + 1,
            "{text}"
        );
    }
    // A row saved again gets the vectors of its new text.
    let unit = store.unit().unwrap();
    unit.db()
        .unwrap()
        .save(
            "Note",
            Some(1),
            vec![Datum::Text("music and dance at night".into())],
        )
        .unwrap();
    unit.commit().unwrap();
    eventually("the new text's vectors", || {
        search(&store, "music and dance at night", SearchMode::Semantic).first() == Some(&1)
    });
    // A deleted row leaves the semantic index.
    let unit = store.unit().unwrap();
    unit.db().unwrap().delete("Note", 2).unwrap();
    unit.commit().unwrap();
    assert!(!search(&store, "a quiet cafe in paris", SearchMode::Semantic).contains(&2));
    assert_eq!(store.queued().unwrap(), 0);
    drop(store);

    // Back to the built-in model: its vectors are made again, at start-up (it is fast).
    flin_search::embedder::configure(None).unwrap();
    let store = open();
    assert_eq!(model_of(&path), flin_search::model::BUILTIN_ID);
    assert_eq!(search(&store, "train", SearchMode::Semantic)[0], 3);
    drop(store);

    // To the transformer again, with no background worker (as `flin run` opens it):
    // the built-in model's vectors keep answering while the new ones are made.
    flin_search::embedder::configure(Some(&tiny_bert())).unwrap();
    let store = open();
    assert_eq!(model_of(&path), flin_search::model::BUILTIN_ID);
    assert_eq!(store.queued().unwrap(), 2);
    assert_eq!(
        search(&store, "the train travels fast", SearchMode::Semantic)[0],
        3
    );
    assert_eq!(search(&store, "train", SearchMode::Keyword), [3]);
    // A row saved meanwhile is searchable at once (with the built-in model), and
    // queued for the new one.
    let unit = store.unit().unwrap();
    unit.db()
        .unwrap()
        .save(
            "Note",
            None,
            vec![Datum::Text("a cold winter night".into())],
        )
        .unwrap();
    unit.commit().unwrap();
    assert_eq!(
        search(&store, "a cold winter night", SearchMode::Semantic)[0],
        4
    );
    assert_eq!(store.queued().unwrap(), 3);
    store.embed_pending().unwrap();
    assert_eq!(store.queued().unwrap(), 0);
    // Complete: the new model's vectors and queries.
    assert_eq!(model_of(&path), model.id());
    let vectors: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM \"Note$vectors$body\"", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(vectors, 3);
    assert_eq!(
        search(&store, "the train travels fast", SearchMode::Semantic)[0],
        3
    );
    assert_eq!(
        search(&store, "a cold winter night", SearchMode::Semantic)[0],
        4
    );
    // Without a worker, a save embeds its row itself.
    let unit = store.unit().unwrap();
    unit.db()
        .unwrap()
        .save(
            "Note",
            None,
            vec![Datum::Text("music and books in the library".into())],
        )
        .unwrap();
    unit.commit().unwrap();
    assert_eq!(
        search(
            &store,
            "music and books in the library",
            SearchMode::Semantic
        )[0],
        5
    );
    drop(store);

    // With a server's worker, the re-embedding happens in the background.
    flin_search::embedder::configure(None).unwrap();
    drop(Store::open(Location::File(path.clone()), &[note()], Durability::Relaxed).unwrap());
    flin_search::embedder::configure(Some(&tiny_bert())).unwrap();
    let store = Arc::new(open());
    assert_eq!(model_of(&path), flin_search::model::BUILTIN_ID);
    assert!(!search(&store, "train", SearchMode::Semantic).is_empty());
    flin_store::embed_in_background(&store);
    eventually("the re-embedding to finish", || {
        model_of(&path) == model.id()
    });
    assert_eq!(store.queued().unwrap(), 0);
    assert_eq!(
        search(&store, "the train travels fast", SearchMode::Semantic)[0],
        3
    );
}
