//! Recall@10 of the graph against exact search for several search widths, on the
//! vectors of the search workload: `cargo run --release -p flin-search --example
//! hnsw_probe -- 100000`.
// Indexing: slots are below `count`, each row `dims` long, as the loop above made them.
#![allow(clippy::indexing_slicing)]

use std::collections::HashSet;
use std::time::Instant;

use flin_search::hnsw::Hnsw;
use flin_search::workload::{Lcg, prose, query, words};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let model = match flin_search::model::builtin() {
        Ok(model) => model,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(1);
        }
    };
    let words = words();
    let mut random = Lcg(7);
    let mut data: Vec<f32> = Vec::new();
    let mut count = 0u32;
    for _ in 0..n {
        for chunk in model.chunk_vectors(&prose(&mut random, &words, 50, 200)) {
            data.extend_from_slice(&chunk);
            count += 1;
        }
    }
    let dims = model.dims;
    let vector = |s: u32| &data[s as usize * dims..(s as usize + 1) * dims];
    let began = Instant::now();
    let mut graph = Hnsw::new();
    for s in 0..count {
        graph.insert(s, &vector);
    }
    let build = began.elapsed();
    println!(
        "{count} chunks, graph built at {:.0} chunks/s",
        count as f64 / build.as_secs_f64()
    );
    let queries: Vec<Vec<f32>> = (0..300)
        .map(|_| model.embed(&query(&mut random, &words)))
        .collect();
    let truths: Vec<HashSet<u32>> = queries
        .iter()
        .map(|q| {
            let mut scored: Vec<(f32, u32)> = (0..count)
                .map(|s| (flin_search::vectors::dot(q, vector(s)), s))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            scored.iter().take(10).map(|x| x.1).collect()
        })
        .collect();
    for upper in [1, 8, 32] {
        for ef in [128, 256, 500, 1000] {
            let began = Instant::now();
            let mut found = 0;
            for (q, truth) in queries.iter().zip(&truths) {
                let hits = graph.search_wide(q, ef, upper, &vector);
                found += hits
                    .iter()
                    .take(10)
                    .filter(|h| truth.contains(&h.0))
                    .count();
            }
            let per = began.elapsed().as_secs_f64() * 1e3 / queries.len() as f64;
            println!(
                "upper {upper:>2} ef {ef:>4}: recall@10 {:.3}, {per:.2} ms/query",
                found as f64 / (10 * queries.len()) as f64
            );
        }
    }
}
