//! "Did you mean …?": the closest name in scope to a misspelt one.
//!
//! As Gleam does: a case-insensitive match wins; otherwise the nearest name by edit
//! distance, when the distance is at most a third of the name's length.

use flin_syntax::Symbol;

pub fn did_you_mean(name: &str, candidates: &[Symbol]) -> Option<&'static str> {
    if let Some(same) = candidates
        .iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(name) && c.as_str() != name)
    {
        return Some(same.as_str());
    }
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .iter()
        .filter(|c| c.as_str() != name)
        .map(|c| (edit_distance(name, c.as_str()), c.as_str()))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

/// Edit distance over characters where swapping two neighbours counts as one edit
/// (optimal string alignment): `titel` is one edit from `title`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut table = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        if let Some(cell) = table.get_mut(at(i, 0)) {
            *cell = i;
        }
    }
    for j in 0..=b.len() {
        if let Some(cell) = table.get_mut(at(0, j)) {
            *cell = j;
        }
    }
    let get = |table: &[usize], i: usize, j: usize| {
        table.get(at(i, j)).copied().unwrap_or(usize::MAX / 2)
    };
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let (ca, cb) = (a.get(i - 1), b.get(j - 1));
            let cost = usize::from(ca != cb);
            let mut best = (get(&table, i - 1, j) + 1)
                .min(get(&table, i, j - 1) + 1)
                .min(get(&table, i - 1, j - 1) + cost);
            if i > 1 && j > 1 && ca == b.get(j - 2) && a.get(i - 2) == cb {
                best = best.min(get(&table, i - 2, j - 2) + 1);
            }
            if let Some(cell) = table.get_mut(at(i, j)) {
                *cell = best;
            }
        }
    }
    get(&table, a.len(), b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names: Vec<Symbol> = ["title", "pages", "author"]
            .iter()
            .map(|n| Symbol::intern(n))
            .collect();
        assert_eq!(did_you_mean("titel", &names), Some("title"));
        assert_eq!(did_you_mean("Pages", &names), Some("pages"));
        assert_eq!(did_you_mean("zzz", &names), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("titel", "title"), 1);
    }
}
