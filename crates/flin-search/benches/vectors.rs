//! The vector index (search.md §4 "Vector index"): rows of the search workload embedded
//! with the built-in model, scored exactly and through the graph (HNSW); recall@10 of
//! the graph against the exact scan, the graph's build rate, and the latency of both,
//! at 60k and 100k rows (`FLIN_BENCH_SIZES` picks others).
//!
//! `cargo bench -p flin-search --bench vectors` (bench/search/README.md).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use flin_search::VectorSet;
use flin_search::workload::{Lcg, prose, query, words};

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let sizes: Vec<usize> = std::env::var("FLIN_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![60_000, 100_000]);
    let model = flin_search::model::builtin().unwrap();
    let words = words();
    println!("| rows | chunks | graph build | exact P50 | graph P50 | recall@10 |");
    println!("|---|---|---|---|---|---|");
    for &n in &sizes {
        let mut random = Lcg(7);
        let rows: Vec<Vec<Vec<f32>>> = (0..n)
            .map(|_| model.chunk_vectors(&prose(&mut random, &words, 50, 200)))
            .collect();
        let mut exact = VectorSet::with_exact_limit(model.dims, usize::MAX);
        for (doc, chunks) in rows.iter().enumerate() {
            exact.set(doc as i64, chunks);
        }
        let began = Instant::now();
        let mut graph = VectorSet::with_exact_limit(model.dims, 0);
        for (doc, chunks) in rows.iter().enumerate() {
            graph.set(doc as i64, chunks);
        }
        let build = began.elapsed();
        let queries: Vec<Vec<f32>> = (0..300)
            .map(|_| model.embed(&query(&mut random, &words)))
            .collect();
        let (mut exact_times, mut graph_times, mut found) = (Vec::new(), Vec::new(), 0);
        for q in &queries {
            let t = Instant::now();
            let truth: HashSet<i64> = exact.nearest(q, 10, |_| true).iter().map(|h| h.0).collect();
            exact_times.push(t.elapsed());
            let t = Instant::now();
            let hits = graph.nearest(q, 10, |_| true);
            graph_times.push(t.elapsed());
            found += hits.iter().filter(|h| truth.contains(&h.0)).count();
        }
        println!(
            "| {n} | {} | {:.0} chunks/s | {:.2} ms | {:.2} ms | {:.3} |",
            exact.len(),
            exact.len() as f64 / build.as_secs_f64(),
            percentile(&exact_times, 0.5).as_secs_f64() * 1e3,
            percentile(&graph_times, 0.5).as_secs_f64() * 1e3,
            found as f64 / (10 * queries.len()) as f64
        );
    }
}
