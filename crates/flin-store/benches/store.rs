//! The store's operations at 1k, 10k and 100k rows (performance.md §1, §2): single-row
//! saves (durability full and relaxed), rows per second inside one unit of work, find by
//! id, a 100-item ordered filtered list, history and time travel, and the memory of 100
//! loaded rows. Measured at the `Store` API level on a temporary database file.
//!
//! `cargo bench -p flin-store --bench store` prints a Markdown table (bench/db/README.md).
//! `FLIN_BENCH_SIZES=1000,10000` picks the sizes; `FLIN_BENCH_SECONDS` caps the time spent
//! sampling each operation (default 1.5 s).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use flin_query::{
    CmpOp, Cond, Datum, EntityDef, FieldDef, FieldType, Operand, OrderKey, QueryPlan, QueryShape,
    Terminal,
};
use flin_store::{At, Durability, Location, QueryResult, Row, Store};

const STATUSES: [&str; 4] = ["draft", "review", "published", "archived"];

/// `entity Book { title: text; pages: int @index; rating: number @index; status: text @index }`
fn book() -> EntityDef {
    let indexed = |name: &str, ty: FieldType| FieldDef {
        index: true,
        ..FieldDef::new(name, ty)
    };
    EntityDef {
        name: "Book".into(),
        fields: vec![
            FieldDef::new("title", FieldType::Text),
            indexed("pages", FieldType::Int),
            indexed("rating", FieldType::Number),
            indexed("status", FieldType::Text),
        ],
    }
}

/// A small linear congruential generator: the same data on every run, no crate needed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn fields(random: &mut Lcg, i: u64) -> Vec<Datum> {
    vec![
        Datum::Text(format!("Book number {i} about {}", random.below(1_000_000)).into()),
        Datum::Int(1 + random.below(1000) as i64),
        Datum::Number(random.below(1_000_000) as f64 / 1000.0),
        Datum::Text(STATUSES[random.below(4) as usize].into()),
    ]
}

/// A different page count (a save that changes nothing is a no-op, no new version).
fn next_pages(pages: &Datum) -> Datum {
    match pages {
        Datum::Int(p) => Datum::Int(p % 1000 + 1),
        _ => Datum::Int(1),
    }
}

/// Latencies of one operation.
struct Samples(Vec<Duration>);

impl Samples {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[index]
    }
}

/// How long to sample each operation.
static BUDGET: OnceLock<Duration> = OnceLock::new();

/// Runs `op` (after a warm-up) until `max` samples or the time budget is spent.
fn sample(max: usize, mut op: impl FnMut()) -> Samples {
    let budget = *BUDGET.get_or_init(|| Duration::from_millis(1500));
    for _ in 0..max.min(50) {
        op();
    }
    let began = Instant::now();
    let mut samples = Vec::with_capacity(max);
    while samples.len() < max && (samples.len() < 20 || began.elapsed() < budget) {
        let t = Instant::now();
        op();
        samples.push(t.elapsed());
    }
    Samples(samples)
}

fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2} M/s", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.1} k/s", per_second / 1e3)
    } else {
        format!("{per_second:.0} /s")
    }
}

struct Table(Vec<[String; 6]>);

impl Table {
    fn latency(&mut self, op: &str, rows: usize, samples: &Samples) {
        let p50 = samples.percentile(0.5);
        self.0.push([
            op.into(),
            rows.to_string(),
            fmt(p50),
            fmt(samples.percentile(0.99)),
            rate(1.0 / p50.as_secs_f64()),
            samples.0.len().to_string(),
        ]);
        eprintln!("{:?}", self.0.last().unwrap());
    }

    fn throughput(&mut self, op: &str, rows: usize, count: usize, took: Duration) {
        self.0.push([
            op.into(),
            rows.to_string(),
            "".into(),
            "".into(),
            rate(count as f64 / took.as_secs_f64()),
            format!("{count} in {}", fmt(took)),
        ]);
        eprintln!("{:?}", self.0.last().unwrap());
    }

    fn note(&mut self, op: &str, rows: usize, value: String) {
        self.0.push([
            op.into(),
            rows.to_string(),
            value,
            "".into(),
            "".into(),
            "".into(),
        ]);
        eprintln!("{:?}", self.0.last().unwrap());
    }

    fn print(&self) {
        println!("| operation | rows | P50 | P99 | throughput (1/P50) | samples |");
        println!("|---|---:|---:|---:|---:|---:|");
        for row in &self.0 {
            println!("| {} |", row.join(" | "));
        }
    }
}

/// Bytes held by a row: the struct, its field vector and what the fields own (the
/// allocator's own overhead is not counted).
fn row_bytes(row: &Row) -> usize {
    fn datum_heap(d: &Datum) -> usize {
        match d {
            Datum::Text(t) | Datum::Enum(t) => t.len(),
            Datum::Money { currency, .. } => currency.len(),
            Datum::List(items) => {
                items.capacity() * size_of::<Datum>() + items.iter().map(datum_heap).sum::<usize>()
            }
            _ => 0,
        }
    }
    row.fields.capacity() * size_of::<Datum>() + row.fields.iter().map(datum_heap).sum::<usize>()
}

/// `Book.where(status == s && pages > p).order(<order>, "desc").limit(100)`
fn list_plan(order: &str) -> QueryPlan {
    let mut shape = QueryShape::all("Book");
    let status = shape.param();
    let pages = shape.param();
    let limit = shape.param();
    shape.filter = vec![
        Cond::Compare(
            CmpOp::Eq,
            Operand::Field("status".into()),
            Operand::Param(status),
        ),
        Cond::Compare(
            CmpOp::Gt,
            Operand::Field("pages".into()),
            Operand::Param(pages),
        ),
    ];
    shape.order = vec![OrderKey {
        field: order.into(),
        descending: true,
    }];
    shape.limit = Some(limit);
    QueryPlan {
        shape: Arc::new(shape),
        params: vec![
            Datum::Text("published".into()),
            Datum::Int(100),
            Datum::Int(100),
        ],
    }
}

fn rows_of(result: QueryResult) -> Vec<Row> {
    match result {
        QueryResult::Rows(rows) => rows,
        other => panic!("expected rows, got {other:?}"),
    }
}

fn bench_size(table: &mut Table, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flin.db");
    let defs = [book()];
    let mut random = Lcg(n as u64);

    let store = Store::open(Location::File(path.clone()), &defs, Durability::Full).unwrap();

    // n rows in one unit of work (one commit, durability full).
    let began = Instant::now();
    let unit = store.unit().unwrap();
    {
        let db = unit.db().unwrap();
        for i in 0..n {
            db.save("Book", None, fields(&mut random, i as u64))
                .unwrap();
        }
    }
    unit.commit().unwrap();
    table.throughput("insert n rows in one unit (full)", n, n, began.elapsed());

    // History: the first tenth of the rows (at most 1,000) get two more versions each,
    // in one unit; the single-row updates below touch only the other rows.
    let versioned = (n / 10).min(1000);
    let began = Instant::now();
    let unit = store.unit().unwrap();
    let mut middle = Vec::with_capacity(versioned);
    {
        let db = unit.db().unwrap();
        for id in 1..=versioned as i64 {
            let mut row = db.get("Book", id).unwrap().unwrap();
            for round in 0..2 {
                row.fields[1] = next_pages(&row.fields[1]);
                row = db.save("Book", Some(id), row.fields.clone()).unwrap();
                if round == 0 {
                    middle.push(row.updated_at);
                }
            }
        }
    }
    unit.commit().unwrap();
    table.throughput(
        "update (new version) in one unit (full)",
        n,
        2 * versioned,
        began.elapsed(),
    );

    // Single-row saves, each its own unit of work and commit.
    let mut i = n as u64;
    let single_insert = |store: &Store, random: &mut Lcg, i: &mut u64| {
        let unit = store.unit().unwrap();
        unit.db()
            .unwrap()
            .save("Book", None, fields(random, *i))
            .unwrap();
        unit.commit().unwrap();
        *i += 1;
    };
    let samples = sample(2000, || single_insert(&store, &mut random, &mut i));
    table.latency("single-row insert, own unit (full)", n, &samples);

    let single_update = |store: &Store, random: &mut Lcg| {
        let id = 1 + (versioned + random.below((n - versioned) as u64) as usize) as i64;
        let unit = store.unit().unwrap();
        {
            let db = unit.db().unwrap();
            let mut row = db.get("Book", id).unwrap().unwrap();
            row.fields[1] = next_pages(&row.fields[1]);
            db.save("Book", Some(id), row.fields).unwrap();
        }
        unit.commit().unwrap();
    };
    let samples = sample(2000, || single_update(&store, &mut random));
    table.latency("single-row update, own unit (full)", n, &samples);

    // Reads: each in its own read unit (a request), as the runtime does.
    let samples = sample(20_000, || {
        let id = 1 + random.below(n as u64) as i64;
        let unit = store.read_unit().unwrap();
        let row = unit.db().unwrap().get("Book", id).unwrap();
        assert!(row.is_some());
        unit.commit().unwrap();
    });
    table.latency("find by id (read unit + get)", n, &samples);

    let samples = sample(20_000, || {
        let ids: Vec<i64> = (0..100)
            .map(|_| 1 + random.below(n as u64) as i64)
            .collect();
        let unit = store.read_unit().unwrap();
        let rows = unit.db().unwrap().get_many("Book", &ids).unwrap();
        assert!(!rows.is_empty());
        unit.commit().unwrap();
    });
    table.latency("get_many 100 ids (batch load)", n, &samples);

    let indexed = list_plan("rating");
    let mut loaded = Vec::new();
    let samples = sample(20_000, || {
        let unit = store.read_unit().unwrap();
        loaded = rows_of(unit.db().unwrap().query(&indexed, &Terminal::Rows).unwrap());
        assert_eq!(loaded.len(), 100, "{n}");
        unit.commit().unwrap();
    });
    table.latency(
        "list: where status & pages, order rating (indexed) desc, limit 100",
        n,
        &samples,
    );

    // The same list in plain SQL on a second connection (the statement the store builds,
    // every column read): what SQLite itself costs, to compare with the store's figure.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let samples = sample(20_000, || {
        let mut stmt = raw
            .prepare_cached(
                "SELECT t.\"id\", t.\"version\", t.\"created_at\", t.\"updated_at\", \
                 t.\"deleted_at\", t.\"title\", t.\"pages\", t.\"rating\", t.\"status\" \
                 FROM \"Book\" AS t WHERE t.\"deleted_at\" IS NULL AND t.\"status\" IS ?1 \
                 AND t.\"pages\" > ?2 ORDER BY t.\"rating\" DESC, t.\"id\" DESC \
                 LIMIT max(?3, 0)",
            )
            .unwrap();
        let mut count = 0;
        let mut rows = stmt
            .query(rusqlite::params!["published", 100, 100])
            .unwrap();
        while let Some(row) = rows.next().unwrap() {
            let _: (i64, String, i64, f64, String) = (
                row.get(0).unwrap(),
                row.get(5).unwrap(),
                row.get(6).unwrap(),
                row.get(7).unwrap(),
                row.get(8).unwrap(),
            );
            count += 1;
        }
        assert_eq!(count, 100);
    });
    table.latency(
        "  the same list in plain SQL (rusqlite, baseline)",
        n,
        &samples,
    );
    let plan: Vec<String> = raw
        .prepare(
            "EXPLAIN QUERY PLAN SELECT * FROM \"Book\" AS t WHERE t.\"deleted_at\" IS NULL \
             AND t.\"status\" IS ?1 AND t.\"pages\" > ?2 \
             ORDER BY t.\"rating\" DESC, t.\"id\" DESC LIMIT max(?3, 0)",
        )
        .unwrap()
        .query_map(rusqlite::params!["published", 100, 100], |r| r.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    eprintln!("query plan at {n} rows: {plan:?}");
    drop(raw);

    let unindexed = list_plan("title");
    let samples = sample(20_000, || {
        let unit = store.read_unit().unwrap();
        let rows = rows_of(
            unit.db()
                .unwrap()
                .query(&unindexed, &Terminal::Rows)
                .unwrap(),
        );
        assert!(!rows.is_empty());
        unit.commit().unwrap();
    });
    table.latency(
        "list: same, order title (not indexed) desc, limit 100",
        n,
        &samples,
    );

    let samples = sample(20_000, || {
        let id = 1 + random.below(versioned as u64) as i64;
        let unit = store.read_unit().unwrap();
        let rows = unit.db().unwrap().history("Book", id).unwrap();
        assert_eq!(rows.len(), 3);
        unit.commit().unwrap();
    });
    table.latency("history of a row (3 versions)", n, &samples);

    let samples = sample(20_000, || {
        let id = 1 + random.below(versioned as u64) as i64;
        let unit = store.read_unit().unwrap();
        let row = unit
            .db()
            .unwrap()
            .version_at("Book", id, At::Version(2))
            .unwrap();
        assert!(row.is_some());
        unit.commit().unwrap();
    });
    table.latency("time travel: e @ 2 (version)", n, &samples);

    let samples = sample(20_000, || {
        let index = random.below(versioned as u64) as usize;
        let unit = store.read_unit().unwrap();
        let row = unit
            .db()
            .unwrap()
            .version_at("Book", index as i64 + 1, At::Time(middle[index]))
            .unwrap();
        assert_eq!(row.map(|r| r.version), Some(2));
        unit.commit().unwrap();
    });
    table.latency("time travel: e @ instant", n, &samples);

    // Memory of the 100 rows of the list (the Vec<Row> a query hands back).
    let bytes = loaded.capacity() * size_of::<Row>() + loaded.iter().map(row_bytes).sum::<usize>();
    table.note(
        "memory of 100 loaded rows (Vec<Row>, deep)",
        n,
        format!(
            "{bytes} B = {:.3} MB ({} B/row)",
            bytes as f64 / 1e6,
            bytes / loaded.len().max(1)
        ),
    );

    drop(store);
    // The same single-row writes with durability relaxed (sync at checkpoints only).
    let store = Store::open(Location::File(path), &defs, Durability::Relaxed).unwrap();
    let samples = sample(5000, || single_insert(&store, &mut random, &mut i));
    table.latency("single-row insert, own unit (relaxed)", n, &samples);
    let samples = sample(5000, || single_update(&store, &mut random));
    table.latency("single-row update, own unit (relaxed)", n, &samples);
}

fn main() {
    // `cargo bench` passes `--bench`; without it (`cargo test --all-targets`) this is a
    // quick smoke run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = std::env::var("FLIN_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| {
            if quick {
                vec![1000]
            } else {
                vec![1000, 10_000, 100_000]
            }
        });
    let seconds = std::env::var("FLIN_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(if quick { 0.05 } else { 1.5 });
    let _ = BUDGET.set(Duration::from_secs_f64(seconds));
    let mut table = Table(Vec::new());
    for n in sizes {
        bench_size(&mut table, n);
    }
    println!(
        "size_of::<Row>() = {} B, size_of::<Datum>() = {} B",
        size_of::<Row>(),
        size_of::<Datum>()
    );
    table.print();
}
