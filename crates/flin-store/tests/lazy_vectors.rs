//! A store on a file reads a semantic field's vectors into memory at its first semantic
//! search, not when it opens (performance.md §4 "Idle server"). What users see must not
//! change: rows saved before the store opened, after it opened and while the vectors
//! are being read are all found by meaning.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;

use flin_query::{Datum, EntityDef, FieldDef, FieldType, SearchMode};
use flin_store::{Durability, Location, SearchRequest, Store};

const WORDS: &[&str] = &[
    "river", "mountain", "garden", "winter", "harbor", "library", "engine", "forest", "island",
    "doctor", "music", "letter", "morning", "silver", "kitchen", "bridge",
];

fn note() -> EntityDef {
    EntityDef {
        name: "Note".into(),
        fields: vec![FieldDef::new("body", FieldType::SemanticText)],
    }
}

fn text(i: usize) -> String {
    format!(
        "{} {} {}",
        WORDS[i % WORDS.len()],
        WORDS[(i / 3) % WORDS.len()],
        WORDS[(i * 7) % WORDS.len()]
    )
}

fn save(store: &Store, i: usize) -> i64 {
    let unit = store.unit().unwrap();
    let row = unit
        .db()
        .unwrap()
        .save("Note", None, vec![Datum::Text(text(i).into())])
        .unwrap();
    unit.commit().unwrap();
    row.id
}

/// Every row semantic search finds (asked for more than there are: at most 1,000).
fn found(store: &Store, query: &str) -> HashSet<i64> {
    let unit = store.read_unit().unwrap();
    let hits = unit
        .db()
        .unwrap()
        .search(&SearchRequest {
            entity: "Note",
            field: "body",
            text: query,
            mode: SearchMode::Semantic,
            limit: 1_000,
            filter: None,
        })
        .unwrap();
    unit.commit().unwrap();
    hits.into_iter().map(|(id, _)| id).collect()
}

#[test]
fn rows_saved_before_during_and_after_the_first_semantic_search_are_all_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flin.db");
    let open = || {
        Arc::new(Store::open(Location::File(path.clone()), &[note()], Durability::Full).unwrap())
    };
    let mut saved = HashSet::new();
    {
        // Enough rows that reading their vectors takes a while.
        let store = open();
        let unit = store.unit().unwrap();
        for i in 0..800 {
            let db = unit.db().unwrap();
            saved.insert(
                db.save("Note", None, vec![Datum::Text(text(i).into())])
                    .unwrap()
                    .id,
            );
        }
        unit.commit().unwrap();
    }
    let store = open();
    // Saved after the store opened, before any semantic search.
    for i in 800..810 {
        saved.insert(save(&store, i));
    }
    // Saves go on while the first semantic search reads the vectors.
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || (810..960).map(|i| save(&store, i)).collect::<Vec<_>>())
    };
    std::thread::sleep(std::time::Duration::from_millis(5));
    let first = found(&store, "river garden");
    assert!(first.len() >= 810, "{} rows found", first.len());
    saved.extend(writer.join().unwrap());
    for i in 960..970 {
        saved.insert(save(&store, i));
    }
    assert_eq!(found(&store, "winter harbor"), saved);
    // The best hit for a row's own words is a row with those words (in some order).
    let unit = store.read_unit().unwrap();
    let hits = unit
        .db()
        .unwrap()
        .search(&SearchRequest {
            entity: "Note",
            field: "body",
            text: &text(965),
            mode: SearchMode::Semantic,
            limit: 1,
            filter: None,
        })
        .unwrap();
    let best = hits.first().map(|(id, _)| *id).unwrap();
    let row = unit.db().unwrap().get("Note", best).unwrap().unwrap();
    let words = |t: &str| {
        let mut w: Vec<String> = t.split(' ').map(str::to_string).collect();
        w.sort();
        w.dedup();
        w
    };
    let Datum::Text(best_text) = &row.fields[0] else {
        panic!("{:?}", row.fields)
    };
    assert_eq!(words(best_text), words(&text(965)));
}
