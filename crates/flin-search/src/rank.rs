//! Scores and rankings (search.md §4 "Scores", "Fusion depth"): BM25 with k1 = 1.2,
//! b = 0.75 and IDF `ln(1 + (N − n + 0.5) / (n + 0.5))`; reciprocal rank fusion of a
//! keyword and a semantic ranking, each cut to its best `max(100, 4 × limit)` rows,
//! a row scoring `weight / (60 + rank)` in each ranking that has it; ties to the lower
//! id.

use std::collections::HashMap;

pub const K1: f64 = 1.2;
pub const B: f64 = 0.75;
/// The rank constant of reciprocal rank fusion.
pub const RRF_K: f64 = 60.0;
/// The default weights of hybrid search: keyword, semantic.
pub const DEFAULT_WEIGHTS: (f64, f64) = (0.7, 0.3);
/// The most rows a search returns.
pub const MAX_LIMIT: usize = 1_000;

/// The statistics of one field's index that BM25 needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FieldStats {
    /// Rows indexed (N).
    pub docs: u64,
    /// Their lengths in tokens, summed.
    pub total_len: u64,
}

impl FieldStats {
    pub fn avg_len(&self) -> f64 {
        if self.docs == 0 {
            0.0
        } else {
            self.total_len as f64 / self.docs as f64
        }
    }
}

/// The IDF of a term found in `df` of `docs` rows.
pub fn idf(docs: u64, df: u64) -> f64 {
    let (n_docs, n) = (docs as f64, df as f64);
    (1.0 + (n_docs - n + 0.5) / (n + 0.5)).ln()
}

/// One term's BM25 contribution to a row: `tf` occurrences in a row of `len` tokens.
pub fn bm25(idf: f64, tf: u32, len: u32, avg_len: f64) -> f64 {
    let tf = f64::from(tf);
    let norm = if avg_len > 0.0 {
        1.0 - B + B * f64::from(len) / avg_len
    } else {
        1.0
    };
    idf * tf * (K1 + 1.0) / (tf + K1 * norm)
}

/// The rows of `scores`, best first (ties to the lower id), at most `limit`.
pub fn top(scores: HashMap<i64, f64>, limit: usize) -> Vec<(i64, f64)> {
    let mut ranked: Vec<(i64, f64)> = scores.into_iter().collect();
    sort(&mut ranked);
    ranked.truncate(limit);
    ranked
}

/// Best first; ties to the lower id.
pub fn sort(ranked: &mut [(i64, f64)]) {
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}

/// How many rows each ranking contributes to a fusion for `limit` results.
pub fn fusion_depth(limit: usize) -> usize {
    (4 * limit).max(100)
}

/// Reciprocal rank fusion of two rankings (each best first, already cut to the fusion
/// depth): `weights.0 / (60 + rank)` from the keyword ranking and `weights.1 / (60 +
/// rank)` from the semantic one, rank from 1.
pub fn fuse(
    keyword: &[(i64, f64)],
    semantic: &[(i64, f64)],
    weights: (f64, f64),
    limit: usize,
) -> Vec<(i64, f64)> {
    let mut scores: HashMap<i64, f64> = HashMap::new();
    for (ranking, weight) in [(keyword, weights.0), (semantic, weights.1)] {
        for (rank, (id, _)) in ranking.iter().enumerate() {
            *scores.entry(*id).or_default() += weight / (RRF_K + (rank + 1) as f64);
        }
    }
    top(scores, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bm25_follows_the_formula() {
        // N = 4, n = 1: ln(1 + 3.5 / 1.5).
        let idf = idf(4, 1);
        assert!((idf - (1.0f64 + 3.5 / 1.5).ln()).abs() < 1e-12);
        // tf 2 in a row of 10 tokens, average 5: idf · 2 · 2.2 / (2 + 1.2 · (0.25 + 1.5)).
        let score = bm25(idf, 2, 10, 5.0);
        let expected = idf * 2.0 * 2.2 / (2.0 + 1.2 * (0.25 + 0.75 * 2.0));
        assert!((score - expected).abs() < 1e-12);
    }

    #[test]
    fn fusion_sums_weighted_reciprocal_ranks_and_breaks_ties_by_id() {
        let keyword = [(5, 9.0), (3, 8.0)];
        let semantic = [(3, 0.9), (7, 0.8)];
        let fused = fuse(&keyword, &semantic, (0.7, 0.3), 10);
        assert_eq!(fused[0].0, 3);
        assert!((fused[0].1 - (0.7 / 62.0 + 0.3 / 61.0)).abs() < 1e-12);
        assert_eq!(fused[1], (5, 0.7 / 61.0));
        assert_eq!(fused[2], (7, 0.3 / 62.0));
        let tied = top(HashMap::from([(9, 1.0), (2, 1.0), (4, 2.0)]), 10);
        assert_eq!(tied.iter().map(|r| r.0).collect::<Vec<_>>(), [4, 2, 9]);
        assert_eq!(fusion_depth(10), 100);
        assert_eq!(fusion_depth(50), 200);
    }
}
