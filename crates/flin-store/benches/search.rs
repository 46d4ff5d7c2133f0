//! Search speed (performance.md §1, §4 "Full-text / hybrid search"): rows of 50–200
//! words of English-like prose, queries of 2–4 words, limit 10; keyword, semantic and
//! hybrid latency at 1k and 10k rows (100k with `FLIN_BENCH_SIZES`), index build
//! rates, what indexing adds to a one-row save, and the memory before and after the
//! first semantic search (the built-in model is read then). Measured at the store's
//! API on a temporary database file, durability relaxed (the fsync of a commit is the
//! same with or without an index, and would drown the difference).
//!
//! `cargo bench -p flin-store --bench search` prints a Markdown table
//! (bench/search/README.md).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::{Duration, Instant};

use flin_query::{Datum, EntityDef, FieldDef, FieldType, QueryPlan, QueryShape, SearchMode};
use flin_search::workload::{Lcg, prose, query, words};
use flin_store::{Durability, Location, SearchRequest, Store};

fn entity(name: &str, ty: FieldType, search: bool) -> EntityDef {
    EntityDef {
        name: name.into(),
        fields: vec![FieldDef {
            search,
            ..FieldDef::new("body", ty)
        }],
    }
}

fn entities() -> Vec<EntityDef> {
    vec![
        entity("Plain", FieldType::Text, false),
        entity("Doc", FieldType::Text, true),
        entity("Page", FieldType::SemanticText, false),
    ]
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

fn resident_kb() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0)
        * 4
}

fn search(store: &Store, entity: &str, text: &str, mode: SearchMode) -> usize {
    let unit = store.read_unit().unwrap();
    let plan = QueryPlan {
        shape: std::sync::Arc::new(QueryShape::all(entity)),
        params: Vec::new(),
    };
    let hits = unit
        .db()
        .unwrap()
        .search(&SearchRequest {
            entity,
            field: "body",
            text,
            mode,
            limit: 10,
            filter: Some(&plan),
        })
        .unwrap();
    unit.rollback().unwrap();
    hits.len()
}

fn main() {
    if let Ok(path) = std::env::var("FLIN_BENCH_RSS") {
        memory(&path);
        return;
    }
    let sizes: Vec<usize> = std::env::var("FLIN_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000]);
    let words = words();
    println!("| rows | operation | P50 | P99 | samples |");
    println!("|---|---|---|---|---|");
    let mut rss_db = None;
    for &n in &sizes {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("search.db");
        let store = Store::open(
            Location::File(path.clone()),
            &entities(),
            Durability::Relaxed,
        )
        .unwrap();
        let mut random = Lcg(42);
        // Index build: rows per second, in units of 1,000 rows.
        for entity in ["Doc", "Page"] {
            let began = Instant::now();
            let mut left = n;
            while left > 0 {
                let unit = store.unit().unwrap();
                let db = unit.db().unwrap();
                for _ in 0..left.min(1000) {
                    let text = prose(&mut random, &words, 50, 200);
                    db.save(entity, None, vec![Datum::Text(text.into())])
                        .unwrap();
                }
                unit.commit().unwrap();
                left = left.saturating_sub(1000);
            }
            let rate = n as f64 / began.elapsed().as_secs_f64();
            println!(
                "| {n} | build {} index | {rate:.0} rows/s | | |",
                if entity == "Doc" {
                    "keyword"
                } else {
                    "keyword + semantic"
                }
            );
        }
        for (label, entity, mode) in [
            ("keyword search", "Doc", SearchMode::Keyword),
            ("semantic search", "Page", SearchMode::Semantic),
            ("hybrid search", "Page", SearchMode::Default),
        ] {
            let queries: Vec<String> = (0..500).map(|_| query(&mut random, &words)).collect();
            for q in queries.iter().take(50) {
                search(&store, entity, q, mode);
            }
            let mut samples = Vec::new();
            for q in &queries {
                let t = Instant::now();
                search(&store, entity, q, mode);
                samples.push(t.elapsed());
            }
            println!(
                "| {n} | {label} | {} | {} | {} |",
                fmt(percentile(&samples, 0.5)),
                fmt(percentile(&samples, 0.99)),
                samples.len()
            );
        }
        // What an index adds to saving one row of 200 words (a unit of its own).
        for (label, entity) in [
            ("save 200 words, no index", "Plain"),
            ("save 200 words, @search", "Doc"),
            ("save 200 words, semantic text", "Page"),
        ] {
            let mut samples = Vec::new();
            for _ in 0..300 {
                let text = prose(&mut random, &words, 200, 200);
                let t = Instant::now();
                let unit = store.unit().unwrap();
                unit.db()
                    .unwrap()
                    .save(entity, None, vec![Datum::Text(text.into())])
                    .unwrap();
                unit.commit().unwrap();
                samples.push(t.elapsed());
            }
            println!(
                "| {n} | {label} | {} | {} | {} |",
                fmt(percentile(&samples, 0.5)),
                fmt(percentile(&samples, 0.99)),
                samples.len()
            );
        }
        drop(store);
        if n == *sizes.iter().max().unwrap_or(&n) {
            let kept = dir.keep();
            rss_db = Some(kept.join("search.db"));
        }
    }
    // Memory, in a fresh process: open (vectors read), a keyword search, then the
    // first semantic search (the model is read).
    if let Some(path) = rss_db {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("FLIN_BENCH_RSS", &path)
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}

fn memory(path: &str) {
    let before = resident_kb();
    let store = Store::open(
        Location::File(path.into()),
        &entities(),
        Durability::Relaxed,
    )
    .unwrap();
    let opened = resident_kb();
    search(&store, "Doc", "water house", SearchMode::Keyword);
    let keyword = resident_kb();
    search(&store, "Page", "water house", SearchMode::Semantic);
    let semantic = resident_kb();
    println!();
    println!(
        "RSS: {before} KB before opening, {opened} KB opened (vectors in memory), {keyword} KB after a keyword search, {semantic} KB after the first semantic search (+{} KB: the model)",
        semantic.saturating_sub(keyword)
    );
}
