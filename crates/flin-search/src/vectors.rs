//! The in-memory vector index of one field (search.md §4 "Vector index"): every chunk's
//! vector, scored exactly against a query (a dot product: vectors have unit length);
//! a row's score is its best chunk's. The store keeps one per semantic field, filled
//! from the database at start-up and kept in step with each commit.

use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug, Default)]
pub struct VectorSet {
    dims: usize,
    /// The row of each chunk.
    docs: Vec<i64>,
    /// The chunks' vectors, one after another.
    data: Vec<f32>,
    /// Where each row's chunks are.
    by_doc: HashMap<i64, Vec<usize>>,
}

impl VectorSet {
    pub fn new(dims: usize) -> VectorSet {
        VectorSet {
            dims,
            ..VectorSet::default()
        }
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Chunks held.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Rows held.
    pub fn rows(&self) -> usize {
        self.by_doc.len()
    }

    /// Sets a row's chunks (none: the row is left out).
    pub fn set(&mut self, doc: i64, chunks: &[Vec<f32>]) {
        self.remove(doc);
        for chunk in chunks {
            if chunk.len() != self.dims {
                continue;
            }
            let at = self.docs.len();
            self.docs.push(doc);
            self.data.extend_from_slice(chunk);
            self.by_doc.entry(doc).or_default().push(at);
        }
    }

    /// Takes a row out.
    pub fn remove(&mut self, doc: i64) {
        let Some(mut places) = self.by_doc.remove(&doc) else {
            return;
        };
        // From the last place down, so a swap never moves a chunk still to remove.
        places.sort_unstable_by(|a, b| b.cmp(a));
        for at in places {
            let Some(last) = self.docs.len().checked_sub(1) else {
                return;
            };
            if at != last {
                let Some(&moved) = self.docs.get(last) else {
                    return;
                };
                self.docs.swap(at, last);
                let dims = self.dims;
                self.data
                    .copy_within(last * dims..(last + 1) * dims, at * dims);
                if let Some(list) = self.by_doc.get_mut(&moved) {
                    for place in list.iter_mut() {
                        if *place == last {
                            *place = at;
                        }
                    }
                }
            }
            self.docs.pop();
            self.data.truncate(last * self.dims);
        }
    }

    /// The `k` rows nearest `query` (by their best chunk), best first, ties to the
    /// lower id; rows for which `keep` is false are left out.
    pub fn nearest(&self, query: &[f32], k: usize, keep: impl Fn(i64) -> bool) -> Vec<(i64, f64)> {
        if query.len() != self.dims || k == 0 {
            return Vec::new();
        }
        let mut scored: Vec<(f32, i64)> = Vec::with_capacity(self.docs.len());
        for (chunk, &doc) in self.data.chunks_exact(self.dims).zip(&self.docs) {
            if !keep(doc) {
                continue;
            }
            scored.push((dot(chunk, query), doc));
        }
        // Rows of several chunks appear several times: take enough for k rows.
        let extra = self.docs.len() - self.by_doc.len();
        let wanted = (k + extra).min(scored.len());
        let order = |a: &(f32, i64), b: &(f32, i64)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if wanted < scored.len() {
            scored.select_nth_unstable_by(wanted, order);
            scored.truncate(wanted);
        }
        scored.sort_unstable_by(order);
        let mut seen = HashSet::new();
        scored
            .into_iter()
            .filter(|(_, doc)| seen.insert(*doc))
            .take(k)
            .map(|(score, doc)| (doc, f64::from(score)))
            .collect()
    }
}

/// Scales a vector to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The cosine of two vectors (0 when either is zero or their sizes differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// The dot product, in eight lanes (vectorized by the compiler).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (a8, a_rest) = a.split_at(a.len() / 8 * 8);
    let (b8, b_rest) = b.split_at(a8.len().min(b.len()));
    for (x, y) in a8.chunks_exact(8).zip(b8.chunks_exact(8)) {
        for ((lane, xi), yi) in lanes.iter_mut().zip(x).zip(y) {
            *lane += xi * yi;
        }
    }
    let mut sum: f32 = lanes.iter().sum();
    for (x, y) in a_rest.iter().zip(b_rest) {
        sum += x * y;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        normalize(&mut v);
        v
    }

    #[test]
    fn nearest_rows_by_their_best_chunk() {
        let mut set = VectorSet::new(2);
        set.set(1, &[unit(&[1.0, 0.0])]);
        set.set(2, &[unit(&[0.0, 1.0]), unit(&[0.9, 0.1])]);
        set.set(3, &[unit(&[0.5, 0.5])]);
        let q = unit(&[1.0, 0.0]);
        let hits = set.nearest(&q, 10, |_| true);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(set.nearest(&q, 1, |_| true).len(), 1);
        assert_eq!(set.nearest(&q, 10, |d| d != 1)[0].0, 2);
        set.remove(2);
        assert_eq!(set.len(), 2);
        assert_eq!(
            set.nearest(&q, 10, |_| true)
                .iter()
                .map(|h| h.0)
                .collect::<Vec<_>>(),
            [1, 3]
        );
        set.set(3, &[]);
        assert_eq!(set.rows(), 1);
        // Ties to the lower id.
        set.set(9, &[unit(&[1.0, 0.0])]);
        set.set(4, &[unit(&[1.0, 0.0])]);
        let ids: Vec<i64> = set.nearest(&q, 3, |_| true).iter().map(|h| h.0).collect();
        assert_eq!(ids, [1, 4, 9]);
    }
}
