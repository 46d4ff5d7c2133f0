//! The store on PostgreSQL (data.md §10), where SQLite's behaviour is not already
//! checked by the conformance suite running on both engines: two servers' stores on one
//! database (the second's search memory and commit listener follow the first's
//! commits), schema changes that PostgreSQL's typed columns must follow, and unique
//! fields refusing a duplicate with SQLite's message.
//!
//! Needs FLIN_TEST_POSTGRES_URL (`tools/pg/start`; `.ci/run` sets it); each test uses a
//! schema of its own, dropped after.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flin_query::{Datum, EntityDef, FieldDef, FieldType, SearchMode};
use flin_store::{Durability, Location, SearchRequest, Store, StoreError};

struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(test: &str) -> Option<Schema> {
        let Ok(url) = std::env::var("FLIN_TEST_POSTGRES_URL") else {
            eprintln!("skipped: FLIN_TEST_POSTGRES_URL is not set (tools/pg/start makes a server)");
            return None;
        };
        let name = format!("store_{test}_{}", std::process::id());
        flin_store::drop_postgres_schema(&url, &name).unwrap();
        Some(Schema { url, name })
    }

    fn open(&self, entities: &[EntityDef]) -> Result<Store, StoreError> {
        Store::open(
            Location::Postgres {
                url: self.url.clone(),
                pool: 4,
                schema: Some(self.name.clone()),
            },
            entities,
            Durability::Full,
        )
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = flin_store::drop_postgres_schema(&self.url, &self.name);
    }
}

/// A searchable field with vectors too (`semantic text`, the built-in model).
fn doc() -> EntityDef {
    EntityDef {
        name: "Doc".into(),
        fields: vec![FieldDef::new("body", FieldType::SemanticText)],
    }
}

fn save(store: &Store, entity: &str, fields: Vec<Datum>) -> Result<i64, StoreError> {
    let unit = store.unit()?;
    let row = unit.db()?.save(entity, None, fields)?;
    unit.commit()?;
    Ok(row.id)
}

/// The ids and scores of a search of `Doc.body`, best first.
fn hits(store: &Store, text: &str, mode: SearchMode) -> Vec<(i64, f64)> {
    let unit = store.read_unit().unwrap();
    let hits = unit
        .db()
        .unwrap()
        .search(&SearchRequest {
            entity: "Doc",
            field: "body",
            text,
            mode,
            limit: 20,
            filter: None,
        })
        .unwrap();
    unit.rollback().unwrap();
    hits
}

fn search(store: &Store, text: &str) -> Vec<i64> {
    hits(store, text, SearchMode::Keyword)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

#[test]
fn a_second_server_follows_the_first_ones_commits() {
    let Some(schema) = Schema::new("follow") else {
        return;
    };
    let a = Arc::new(schema.open(&[doc()]).unwrap());
    let b = Arc::new(schema.open(&[doc()]).unwrap());
    let told: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = told.clone();
    b.on_commit(Arc::new(move |entities: &[String]| {
        seen.lock().unwrap().extend(entities.iter().cloned());
    }));
    flin_store::listen(&a);
    flin_store::listen(&b);
    // The listeners connect; then A writes.
    std::thread::sleep(Duration::from_millis(300));
    let id = save(&a, "Doc", vec![Datum::Text("red boots for rain".into())]).unwrap();
    let started = Instant::now();
    while search(&b, "boots") != vec![id] {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B's search memory did not follow A's commit"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(told.lock().unwrap().contains(&"Doc".to_string()));
    // Its vector index followed too.
    let semantic = hits(&b, "boots for rain", SearchMode::Semantic);
    assert_eq!(
        semantic.first().map(|(id, _)| *id),
        Some(id),
        "{semantic:?}"
    );
    // Ids continue across servers, as on one SQLite file.
    let next = save(&b, "Doc", vec![Datum::Text("blue coat".into())]).unwrap();
    assert_eq!(next, id + 1);
    // A rolled-back insert gives its id back.
    let unit = a.unit().unwrap();
    unit.db()
        .unwrap()
        .save("Doc", None, vec![Datum::Text("never".into())])
        .unwrap();
    unit.rollback().unwrap();
    assert_eq!(
        save(&a, "Doc", vec![Datum::Text("green hat".into())]).unwrap(),
        next + 1
    );
}

#[test]
fn typed_columns_follow_schema_changes() {
    let Some(schema) = Schema::new("evolve") else {
        return;
    };
    let item = |ty: FieldType| EntityDef {
        name: "Item".into(),
        fields: vec![FieldDef::new("size", ty)],
    };
    let store = schema.open(&[item(FieldType::Int)]).unwrap();
    save(&store, "Item", vec![Datum::Int(3)]).unwrap();
    drop(store);
    // An int field becomes a number: its values stay and fractions fit now.
    let store = schema.open(&[item(FieldType::Number)]).unwrap();
    save(&store, "Item", vec![Datum::Number(2.5)]).unwrap();
    let unit = store.read_unit().unwrap();
    let rows: Vec<Datum> = [1, 2]
        .iter()
        .map(|id| unit.db().unwrap().get("Item", *id).unwrap().unwrap().fields[0].clone())
        .collect();
    assert_eq!(rows, vec![Datum::Number(3.0), Datum::Number(2.5)]);
    unit.rollback().unwrap();
    drop(store);
    // A change that would lose data is refused with SQLite's message.
    let Err(err) = schema.open(&[item(FieldType::Text)]) else {
        panic!("a number field with data cannot become text");
    };
    assert!(
        err.to_string()
            .contains("which would lose the data of 2 rows"),
        "{err}"
    );
}

#[test]
fn a_unique_field_refuses_a_duplicate_as_on_sqlite() {
    let Some(schema) = Schema::new("unique") else {
        return;
    };
    let mut email = FieldDef::new("email", FieldType::Text);
    email.unique = true;
    let user = EntityDef {
        name: "User".into(),
        fields: vec![email],
    };
    let store = schema.open(&[user]).unwrap();
    save(&store, "User", vec![Datum::Text("a@example.com".into())]).unwrap();
    let err = save(&store, "User", vec![Datum::Text("a@example.com".into())]).unwrap_err();
    assert_eq!(
        err,
        StoreError::Validation(vec![("email".into(), "email is already taken".into())])
    );
    // The unit goes on after the refused save (its savepoint was rolled back).
    let unit = store.unit().unwrap();
    let db = unit.db().unwrap();
    assert!(
        db.save("User", None, vec![Datum::Text("a@example.com".into())])
            .is_err()
    );
    db.save("User", None, vec![Datum::Text("b@example.com".into())])
        .unwrap();
    unit.commit().unwrap();
}

#[test]
fn search_gives_the_same_results_on_both_engines() {
    let Some(schema) = Schema::new("search") else {
        return;
    };
    let note = EntityDef {
        name: "Doc".into(),
        fields: vec![FieldDef::new("body", FieldType::SemanticText)],
    };
    let sqlite = Store::memory(std::slice::from_ref(&note)).unwrap();
    let postgres = schema.open(std::slice::from_ref(&note)).unwrap();
    let words = [
        "rain", "boots", "coat", "garden", "tomato", "river", "bridge", "winter", "summer",
        "train", "ticket", "coffee", "morning", "letter", "mountain", "snow", "umbrella",
    ];
    for store in [&sqlite, &postgres] {
        let unit = store.unit().unwrap();
        let db = unit.db().unwrap();
        for n in 0..300usize {
            let text: Vec<&str> = (0..6)
                .map(|k| words[(n * 7 + k * k * 3 + n / 5) % words.len()])
                .collect();
            db.save("Doc", None, vec![Datum::Text(text.join(" ").into())])
                .unwrap();
        }
        // Some rows change and some go, as an app's do.
        for id in (1..300).step_by(17) {
            db.save(
                "Doc",
                Some(id),
                vec![Datum::Text("snow on the mountain bridge".into())],
            )
            .unwrap();
        }
        for id in (5..300).step_by(23) {
            db.delete("Doc", id).unwrap();
        }
        unit.commit().unwrap();
    }
    for text in [
        "rain boots",
        "snow mountain",
        "coffee in the morning",
        "a letter by train",
    ] {
        for mode in [
            SearchMode::Keyword,
            SearchMode::Semantic,
            SearchMode::Default,
        ] {
            let (a, b) = (hits(&sqlite, text, mode), hits(&postgres, text, mode));
            assert!(!a.is_empty(), "{text} {mode:?}");
            assert_eq!(a, b, "{text} {mode:?}");
        }
    }
}

/// `sslmode=require` in the URL: every connection of the store is encrypted (when the
/// server offers TLS, as `.ci/run`'s does: `FLIN_PG_SSL=on tools/pg/start`).
#[test]
fn sslmode_require_encrypts_every_connection() {
    let Some(schema) = Schema::new("tls") else {
        return;
    };
    let mut admin = postgres::Client::connect(&schema.url, postgres::NoTls).unwrap();
    let offered: String = admin.query_one("SHOW ssl", &[]).unwrap().get(0);
    if offered != "on" {
        eprintln!("skipped: the test server does not offer TLS (FLIN_PG_SSL=on tools/pg/start)");
        return;
    }
    let separator = if schema.url.contains('?') { '&' } else { '?' };
    let store = Store::open(
        Location::Postgres {
            url: format!(
                "{}{separator}sslmode=require&application_name=flin_tls_test",
                schema.url
            ),
            pool: 4,
            schema: Some(schema.name.clone()),
        },
        &[doc()],
        Durability::Full,
    )
    .unwrap();
    save(&store, "Doc", vec![Datum::Text("secret boots".into())]).unwrap();
    assert_eq!(search(&store, "boots").len(), 1);
    let (all, encrypted): (i64, i64) = {
        let row = admin
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a
                 JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'flin_tls_test'",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(all >= 2, "the writer and a reader: {all}");
    assert_eq!(encrypted, all);
}

/// A certificate check FLIN cannot make is refused up front, saying so (no server needed).
#[test]
fn sslmode_verify_full_is_refused_with_a_reason() {
    let err = Store::open(
        Location::Postgres {
            url: "postgres://app:secret@db.example:5432/app?sslmode=verify-full".into(),
            pool: 4,
            schema: None,
        },
        &[doc()],
        Durability::Full,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("verify-full are not supported"), "{err}");
    assert!(!err.contains("secret"), "the password is not shown: {err}");
}
