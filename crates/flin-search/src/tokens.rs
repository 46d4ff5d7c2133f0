//! Tokens (search.md §4 "Tokens"): text is split into words by Unicode rules — runs of
//! letters and digits; everything else separates — case-folded, with diacritics removed
//! (`Café` = `cafe`), and stemmed in English (`boots` = `boot`). Index and query use the
//! same tokenizer, so a query word matches the words of a text that fold and stem
//! alike.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Words longer than this are cut (a 10 KB "word" costs no more than a long one).
const MAX_WORD: usize = 64;

/// A word of a text: its folded form (for prefix matching), its stem (what the index
/// holds) and its position among the text's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub folded: String,
    pub stem: String,
    pub position: u32,
}

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// The words of `text`, folded: lower case, without diacritics.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(fold)
        .filter(|w| !w.is_empty())
}

/// A word case-folded and without diacritics (`Café` → `cafe`, `Straße` → `strasse`).
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    if word.is_ascii() {
        out.extend(word.chars().take(MAX_WORD).map(|c| c.to_ascii_lowercase()));
        return out;
    }
    for c in word.nfkd().filter(|c| !is_combining_mark(*c)) {
        if out.len() >= MAX_WORD {
            break;
        }
        // `ß` lower-cases to itself; its full case fold is `ss`.
        if c == 'ß' || c == 'ẞ' {
            out.push_str("ss");
            continue;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The stem of a folded word (English, Porter).
pub fn stem(folded: &str) -> String {
    stemmer().stem(folded).into_owned()
}

/// Every token of `text`, in order.
pub fn tokens(text: &str) -> Vec<Token> {
    words(text)
        .enumerate()
        .map(|(position, folded)| Token {
            stem: stem(&folded),
            folded,
            position: u32::try_from(position).unwrap_or(u32::MAX),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(text: &str) -> Vec<String> {
        tokens(text).into_iter().map(|t| t.stem).collect()
    }

    #[test]
    fn words_fold_case_and_accents_and_stem() {
        assert_eq!(stems("Waterproof BOOTS!"), ["waterproof", "boot"]);
        assert_eq!(stems("Café crème"), ["cafe", "creme"]);
        assert_eq!(stems("Straße"), ["strass"]);
        assert_eq!(stems("running, runs & ran"), ["run", "run", "ran"]);
        assert_eq!(
            stems("e-mail: a.b@c.de 42x"),
            ["e", "mail", "a", "b", "c", "de", "42x"]
        );
        assert_eq!(stems("日本語 テキスト"), ["日本語", "テキスト"]);
        assert!(stems("!!! ... --- 🙂").is_empty());
    }

    #[test]
    fn positions_count_words() {
        let t = tokens("the quick, brown fox");
        assert_eq!(
            t.iter().map(|t| t.position).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert_eq!(t[2].folded, "brown");
    }

    #[test]
    fn a_huge_word_is_cut() {
        let long = "a".repeat(10_000);
        assert_eq!(tokens(&long)[0].folded.len(), MAX_WORD);
    }
}
