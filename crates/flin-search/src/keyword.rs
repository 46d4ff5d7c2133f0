//! The keyword index of one field (search.md §4): for each stem, the rows holding it and
//! how often; for each row, its length in tokens and where each stem occurs (for
//! phrases). Scored with BM25 ([`crate::rank`]).
//!
//! The store keeps the committed index in memory (filled at start-up from its table,
//! where each row's [`DocTerms`] is one blob) and, for a unit of work that wrote rows,
//! a small index of those rows as the unit has them: a search sees the two together
//! ([`View`]), the committed entries of the unit's rows hidden. So a search sees its
//! own writes, and a write costs one blob, not one row per stem.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::query::Query;
use crate::rank::{self, FieldStats};

/// How many terms the last word of a query may stand for as a prefix.
const MAX_PREFIX_TERMS: usize = 64;

/// A row's text as the index holds it: its length in tokens and each stem with its
/// positions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocTerms {
    pub len: u32,
    pub terms: Vec<(String, Vec<u32>)>,
}

impl DocTerms {
    pub fn of(text: &str) -> DocTerms {
        let tokens = crate::tokens::tokens(text);
        let mut by_stem: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for token in &tokens {
            by_stem
                .entry(token.stem.clone())
                .or_default()
                .push(token.position);
        }
        DocTerms {
            len: u32::try_from(tokens.len()).unwrap_or(u32::MAX),
            terms: by_stem.into_iter().collect(),
        }
    }

    /// `u32 len, u32 terms`, then each stem as `u16 bytes, UTF-8, u32 count, positions`
    /// (little-endian).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.terms.len() * 16);
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&(self.terms.len() as u32).to_le_bytes());
        for (stem, positions) in &self.terms {
            let bytes = stem.as_bytes();
            out.extend_from_slice(&(bytes.len().min(u16::MAX as usize) as u16).to_le_bytes());
            out.extend_from_slice(
                bytes
                    .get(..bytes.len().min(u16::MAX as usize))
                    .unwrap_or(&[]),
            );
            out.extend_from_slice(&(positions.len() as u32).to_le_bytes());
            for p in positions {
                out.extend_from_slice(&p.to_le_bytes());
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<DocTerms> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Option<&[u8]> {
            let slice = bytes.get(at..at + n)?;
            at += n;
            Some(slice)
        };
        let u32_of = |b: &[u8]| -> Option<u32> { Some(u32::from_le_bytes(b.try_into().ok()?)) };
        let len = u32_of(take(4)?)?;
        let n = u32_of(take(4)?)? as usize;
        let mut terms = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            let stem_len = u16::from_le_bytes(take(2)?.try_into().ok()?) as usize;
            let stem = std::str::from_utf8(take(stem_len)?).ok()?.to_string();
            let count = u32_of(take(4)?)? as usize;
            let mut positions = Vec::with_capacity(count.min(4096));
            for _ in 0..count {
                positions.push(u32_of(take(4)?)?);
            }
            terms.push((stem, positions));
        }
        Some(DocTerms { len, terms })
    }
}

/// A row's place in the index.
struct Slot {
    doc: i64,
    len: u32,
    live: bool,
}

/// A field's keyword index: compact (8 bytes per distinct stem of a row). Positions are
/// not kept in memory: a phrase is checked against the row's stored [`DocTerms`].
#[derive(Default)]
pub struct KeywordIndex {
    /// Stem → its id.
    dictionary: BTreeMap<Box<str>, u32>,
    /// Per stem id: (slot, occurrences), some slots perhaps dead, in slot order (a
    /// row's slot is new with each save, and compaction keeps the order).
    postings: Vec<Vec<(u32, u32)>>,
    slots: Vec<Slot>,
    by_doc: HashMap<i64, u32>,
    total_len: u64,
    dead: usize,
}

impl KeywordIndex {
    pub fn new() -> KeywordIndex {
        KeywordIndex::default()
    }

    /// Rows indexed.
    pub fn rows(&self) -> usize {
        self.by_doc.len()
    }

    pub fn contains(&self, doc: i64) -> bool {
        self.by_doc.contains_key(&doc)
    }

    /// Sets a row's terms (a row without any is left out).
    pub fn set(&mut self, doc: i64, terms: DocTerms) {
        self.remove(doc);
        if terms.terms.is_empty() {
            return;
        }
        let Ok(slot) = u32::try_from(self.slots.len()) else {
            return;
        };
        for (stem, positions) in &terms.terms {
            let id = match self.dictionary.get(stem.as_str()) {
                Some(id) => *id,
                None => {
                    let id = self.postings.len() as u32;
                    self.dictionary.insert(stem.as_str().into(), id);
                    self.postings.push(Vec::new());
                    id
                }
            };
            if let Some(list) = self.postings.get_mut(id as usize) {
                list.push((slot, positions.len() as u32));
            }
        }
        self.slots.push(Slot {
            doc,
            len: terms.len,
            live: true,
        });
        self.by_doc.insert(doc, slot);
        self.total_len += u64::from(terms.len);
    }

    /// Takes a row out.
    pub fn remove(&mut self, doc: i64) {
        let Some(slot) = self.by_doc.remove(&doc) else {
            return;
        };
        let Some(entry) = self.slots.get_mut(slot as usize) else {
            return;
        };
        entry.live = false;
        self.total_len = self.total_len.saturating_sub(u64::from(entry.len));
        self.dead += 1;
        if self.dead > 1024 && self.dead > self.by_doc.len() {
            self.compact();
        }
    }

    /// Drops dead slots from the postings (after many removals).
    fn compact(&mut self) {
        let mut renumber = vec![u32::MAX; self.slots.len()];
        let mut slots = Vec::with_capacity(self.by_doc.len());
        for (old, slot) in std::mem::take(&mut self.slots).into_iter().enumerate() {
            if slot.live {
                if let Some(place) = renumber.get_mut(old) {
                    *place = slots.len() as u32;
                }
                slots.push(slot);
            }
        }
        for list in &mut self.postings {
            list.retain_mut(|(slot, _)| match renumber.get(*slot as usize) {
                Some(&new) if new != u32::MAX => {
                    *slot = new;
                    true
                }
                _ => false,
            });
        }
        self.by_doc = slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.doc, i as u32))
            .collect();
        self.slots = slots;
        self.dead = 0;
    }

    fn term(&self, stem: &str) -> Option<u32> {
        self.dictionary.get(stem).copied()
    }

    /// The live rows holding stem `id`: (row, occurrences, length).
    fn rows_of(&self, id: u32) -> impl Iterator<Item = (i64, u32, u32)> + '_ {
        self.postings
            .get(id as usize)
            .into_iter()
            .flatten()
            .filter_map(|&(slot, tf)| {
                let entry = self.slots.get(slot as usize)?;
                entry.live.then_some((entry.doc, tf, entry.len))
            })
    }

    fn holds(&self, doc: i64, stem: &str) -> bool {
        let (Some(&slot), Some(id)) = (self.by_doc.get(&doc), self.term(stem)) else {
            return false;
        };
        self.postings
            .get(id as usize)
            .is_some_and(|list| list.binary_search_by_key(&slot, |(s, _)| *s).is_ok())
    }
}

/// The committed index with a unit's own rows over it.
pub struct View<'a> {
    pub base: &'a KeywordIndex,
    /// The unit's rows as it has them now.
    pub own: &'a KeywordIndex,
    /// Rows whose committed entries the unit's replace (every row it wrote).
    pub hidden: &'a HashSet<i64>,
}

impl View<'_> {
    fn stats(&self) -> FieldStats {
        let mut docs = self.base.rows() as u64 + self.own.rows() as u64;
        let mut total = self.base.total_len + self.own.total_len;
        for doc in self.hidden {
            if let Some(entry) = self
                .base
                .by_doc
                .get(doc)
                .and_then(|s| self.base.slots.get(*s as usize))
            {
                docs -= 1;
                total = total.saturating_sub(u64::from(entry.len));
            }
        }
        FieldStats {
            docs,
            total_len: total,
        }
    }

    /// Each row holding `stem`, with its occurrences and length.
    fn postings(&self, stem: &str) -> Vec<(i64, u32, u32)> {
        let mut out = Vec::new();
        if let Some(id) = self.base.term(stem) {
            if self.hidden.is_empty() {
                out.extend(self.base.rows_of(id));
            } else {
                out.extend(
                    self.base
                        .rows_of(id)
                        .filter(|(doc, _, _)| !self.hidden.contains(doc)),
                );
            }
        }
        if let Some(id) = self.own.term(stem) {
            out.extend(self.own.rows_of(id));
        }
        out
    }

    /// The stems that begin with `prefix`, at most [`MAX_PREFIX_TERMS`].
    fn prefixed(&self, prefix: &str) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        for index in [self.base, self.own] {
            for (stem, _) in index
                .dictionary
                .range::<str, _>((
                    std::ops::Bound::Included(prefix),
                    std::ops::Bound::Unbounded,
                ))
                .take_while(|(stem, _)| stem.starts_with(prefix))
                .take(MAX_PREFIX_TERMS)
            {
                if !found.iter().any(|f| f.as_str() == &**stem) {
                    found.push(stem.to_string());
                }
            }
        }
        found.sort();
        found.truncate(MAX_PREFIX_TERMS);
        found
    }

    /// Whether a row (as this view has it) holds every stem of a phrase.
    fn holds_all(&self, doc: i64, phrase: &[String]) -> bool {
        let index = if self.own.contains(doc) {
            self.own
        } else if self.hidden.contains(&doc) {
            return false;
        } else {
            self.base
        };
        phrase.iter().all(|stem| index.holds(doc, stem))
    }

    /// The rows matching `query`, scored by BM25, best first, at most `limit`;
    /// rows for which `allowed` is false are left out. `terms_of` gives a row's stored
    /// terms with their positions (to check phrases).
    pub fn search(
        &self,
        query: &Query,
        limit: usize,
        allowed: impl Fn(i64) -> bool,
        terms_of: &dyn Fn(i64) -> Option<DocTerms>,
    ) -> Vec<(i64, f64)> {
        if query.is_empty() || limit == 0 {
            return Vec::new();
        }
        let stats = self.stats();
        if stats.docs == 0 {
            return Vec::new();
        }
        let avg = stats.avg_len();
        let mut lists: HashMap<&str, Vec<(i64, u32, u32)>> = HashMap::new();
        for stem in query.terms.iter().chain(query.phrases.iter().flatten()) {
            if !lists.contains_key(stem.as_str()) {
                lists.insert(stem.as_str(), self.postings(stem));
            }
        }
        let idf_of = |list: &[(i64, u32, u32)]| rank::idf(stats.docs, list.len() as u64);
        let mut scores: HashMap<i64, f64> = HashMap::new();
        let last = query.prefix.as_ref().map(|p| crate::tokens::stem(p));
        for stem in &query.terms {
            if Some(stem) == last.as_ref() {
                continue;
            }
            let Some(list) = lists.get(stem.as_str()) else {
                continue;
            };
            let idf = idf_of(list);
            for &(doc, tf, len) in list {
                if allowed(doc) {
                    *scores.entry(doc).or_default() += rank::bm25(idf, tf, len, avg);
                }
            }
        }
        // The last plain word: its own stem, or a stem it begins, whichever scores best.
        if let (Some(prefix), Some(stem)) = (&query.prefix, &last) {
            let mut best: HashMap<i64, f64> = HashMap::new();
            let mut candidates = self.prefixed(prefix);
            if !candidates.contains(stem) {
                candidates.push(stem.clone());
            }
            for term in candidates {
                let list = self.postings(&term);
                let idf = idf_of(&list);
                for &(doc, tf, len) in &list {
                    if allowed(doc) {
                        let s = rank::bm25(idf, tf, len, avg);
                        let slot = best.entry(doc).or_default();
                        if s > *slot {
                            *slot = s;
                        }
                    }
                }
            }
            for (doc, s) in best {
                *scores.entry(doc).or_default() += s;
            }
        }
        for phrase in &query.phrases {
            let Some(first) = phrase.first().and_then(|s| lists.get(s.as_str())) else {
                continue;
            };
            for &(doc, _, _) in first {
                // Rows holding every stem first (in memory), then their positions.
                if !allowed(doc) || !self.holds_all(doc, phrase) {
                    continue;
                }
                let Some(terms) = terms_of(doc) else {
                    continue;
                };
                if !has_phrase(&terms, phrase) {
                    continue;
                }
                let sum: f64 = phrase
                    .iter()
                    .filter_map(|stem| {
                        let list = lists.get(stem.as_str())?;
                        let (_, positions) = terms.terms.iter().find(|(s, _)| s == stem)?;
                        Some(rank::bm25(
                            idf_of(list),
                            positions.len() as u32,
                            terms.len,
                            avg,
                        ))
                    })
                    .sum();
                *scores.entry(doc).or_default() += sum;
            }
        }
        for stem in &query.excluded {
            for (doc, _, _) in self.postings(stem) {
                scores.remove(&doc);
            }
        }
        rank::top(scores, limit)
    }
}

/// Whether a row's terms hold the phrase's stems at consecutive positions.
fn has_phrase(terms: &DocTerms, phrase: &[String]) -> bool {
    let positions = |stem: &str| -> Option<&[u32]> {
        terms
            .terms
            .iter()
            .find(|(s, _)| s == stem)
            .map(|(_, p)| p.as_slice())
    };
    let Some(starts) = phrase.first().and_then(|s| positions(s)) else {
        return false;
    };
    let rest: Option<Vec<&[u32]>> = phrase.iter().skip(1).map(|s| positions(s)).collect();
    let Some(rest) = rest else {
        return false;
    };
    starts.iter().any(|&start| {
        rest.iter()
            .enumerate()
            .all(|(i, p)| p.binary_search(&(start + 1 + i as u32)).is_ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(texts: &[(i64, &str)]) -> KeywordIndex {
        let mut index = KeywordIndex::new();
        for (doc, text) in texts {
            index.set(*doc, DocTerms::of(text));
        }
        index
    }

    fn ids(hits: &[(i64, f64)]) -> Vec<i64> {
        hits.iter().map(|h| h.0).collect()
    }

    #[test]
    fn terms_round_trip_through_their_blob() {
        let terms = DocTerms::of("Red boots, red laces");
        assert_eq!(DocTerms::decode(&terms.encode()), Some(terms));
        assert_eq!(DocTerms::decode(b"\x01"), None);
    }

    #[test]
    fn own_rows_replace_committed_ones() {
        let base = index(&[(1, "red boots"), (2, "blue boots"), (3, "green hat")]);
        let own = index(&[(2, "blue hat"), (4, "red hat")]);
        let texts: HashMap<i64, &str> = [
            (1, "red boots"),
            (2, "blue hat"),
            (3, "green hat"),
            (4, "red hat"),
        ]
        .into();
        let terms_of = |doc: i64| texts.get(&doc).map(|t| DocTerms::of(t));
        let hidden: HashSet<i64> = [2, 4].into();
        let view = View {
            base: &base,
            own: &own,
            hidden: &hidden,
        };
        let q = crate::parse("boots");
        assert_eq!(ids(&view.search(&q, 10, |_| true, &terms_of)), [1]);
        let q = crate::parse("hat");
        let hits = view.search(&q, 10, |_| true, &terms_of);
        assert_eq!(hits.len(), 3);
        // N = 4 rows, df(hat) = 3: the same score a fresh index of those rows gives.
        let fresh = index(&[
            (1, "red boots"),
            (2, "blue hat"),
            (3, "green hat"),
            (4, "red hat"),
        ]);
        let none = HashSet::new();
        let empty = KeywordIndex::new();
        let alone = View {
            base: &fresh,
            own: &empty,
            hidden: &none,
        };
        assert_eq!(hits, alone.search(&q, 10, |_| true, &terms_of));
        let q = crate::parse("\"red hat\"");
        assert_eq!(ids(&view.search(&q, 10, |_| true, &terms_of)), [4]);
    }

    #[test]
    fn removing_rows_forgets_them_and_compacts() {
        let mut index = index(&[(1, "red boots"), (2, "red hat")]);
        index.remove(1);
        let boot = index.term("boot").unwrap_or(u32::MAX);
        assert_eq!(index.rows_of(boot).count(), 0);
        assert_eq!(index.rows(), 1);
        assert_eq!(index.total_len, 2);
        for doc in 10..3000 {
            index.set(doc, DocTerms::of("red apple"));
        }
        for doc in 10..2990 {
            index.remove(doc);
        }
        let red = index.term("red").unwrap_or(u32::MAX);
        assert_eq!(index.rows_of(red).count(), 11);
        assert!(index.slots.len() < 2000, "compacted: {}", index.slots.len());
        // A row saved again after compaction: phrases see its new words only.
        index.set(2995, DocTerms::of("green apple"));
        let texts: HashMap<i64, String> = (2990..3000)
            .map(|doc| {
                (
                    doc,
                    if doc == 2995 {
                        "green apple"
                    } else {
                        "red apple"
                    }
                    .to_string(),
                )
            })
            .chain([(2, "red hat".to_string())])
            .collect();
        let terms_of = |doc: i64| texts.get(&doc).map(|t| DocTerms::of(t));
        let none = HashSet::new();
        let empty = KeywordIndex::new();
        let view = View {
            base: &index,
            own: &empty,
            hidden: &none,
        };
        let red_apples = ids(&view.search(&crate::parse("\"red apple\""), 20, |_| true, &terms_of));
        let mut sorted = red_apples.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [2990, 2991, 2992, 2993, 2994, 2996, 2997, 2998, 2999]
        );
        assert_eq!(
            ids(&view.search(&crate::parse("\"green apple\""), 20, |_| true, &terms_of)),
            [2995]
        );
    }
}
