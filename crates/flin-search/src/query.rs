//! Search queries (search.md §4 "Queries never fail"): any text is a valid query.
//! Words are combined with OR; `"two words"` matches that phrase; `-word` excludes the
//! rows that contain it; the last plain word also matches as a prefix (search as you
//! type). Every other character is plain text: a stray quote, an operator, an emoji
//! or 10 KB of text parse like any other text.

use crate::tokens;

/// How many words of a query count (the rest of a very long query is ignored).
const MAX_WORDS: usize = 64;

/// A parsed query: stems, as the index holds them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Plain words, each once, in order.
    pub terms: Vec<String>,
    /// The last plain word, folded: it also matches the terms it begins.
    pub prefix: Option<String>,
    /// Phrases of two words or more.
    pub phrases: Vec<Vec<String>>,
    /// Words whose rows are left out.
    pub excluded: Vec<String>,
}

impl Query {
    /// No word to look for: the search returns nothing.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.phrases.is_empty() && self.prefix.is_none()
    }

    /// Every stem the query looks up (terms and phrase words), each once.
    pub fn looked_up(&self) -> Vec<String> {
        let mut all: Vec<String> = self.terms.clone();
        for word in self.phrases.iter().flatten() {
            if !all.contains(word) {
                all.push(word.clone());
            }
        }
        all
    }
}

/// Parses a query; never fails.
pub fn parse(text: &str) -> Query {
    let mut query = Query::default();
    let mut plain = String::new();
    // Whether the last thing read was plain text (then its last word is the prefix).
    let mut last_plain = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '"' {
            if let Some(close) = chars.iter().skip(i + 1).position(|&d| d == '"') {
                let inside: String = chars.iter().skip(i + 1).take(close).collect();
                let words: Vec<String> = tokens::words(&inside).map(|w| tokens::stem(&w)).collect();
                match words.len() {
                    0 => {}
                    1 => plain_term(&mut query, words.into_iter().next()),
                    _ => query.phrases.push(words),
                }
                i += close + 2;
                plain.push(' ');
                last_plain = false;
                continue;
            }
            // A quote that is never closed is plain text.
            plain.push(' ');
            i += 1;
            continue;
        }
        let starts_word = i == 0 || chars.get(i - 1).is_some_and(|p| p.is_whitespace());
        if c == '-' && starts_word && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric()) {
            let word: String = chars
                .iter()
                .skip(i + 1)
                .take_while(|d| d.is_alphanumeric())
                .collect();
            let n = word.chars().count();
            for folded in tokens::words(&word) {
                let stem = tokens::stem(&folded);
                if !query.excluded.contains(&stem) {
                    query.excluded.push(stem);
                }
            }
            plain.push(' ');
            i += n + 1;
            last_plain = false;
            continue;
        }
        plain.push(c);
        if c.is_alphanumeric() {
            last_plain = true;
        }
        i += 1;
    }
    let words: Vec<String> = tokens::words(&plain).take(MAX_WORDS).collect();
    if last_plain {
        query.prefix = words.last().cloned();
    }
    for word in words {
        plain_term(&mut query, Some(tokens::stem(&word)));
    }
    query
}

fn plain_term(query: &mut Query, stem: Option<String>) {
    if let Some(stem) = stem {
        if !query.terms.contains(&stem) && !query.excluded.contains(&stem) {
            query.terms.push(stem);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn words_phrases_and_exclusions() {
        let q = parse(r#"waterproof "hiking boots" -leather wat"#);
        assert_eq!(q.terms, s(&["waterproof", "wat"]));
        assert_eq!(q.phrases, vec![s(&["hike", "boot"])]);
        assert_eq!(q.excluded, s(&["leather"]));
        assert_eq!(q.prefix.as_deref(), Some("wat"));
    }

    #[test]
    fn any_text_is_a_query() {
        for text in [
            "\"",
            "\"unclosed phrase",
            "a - b -- -",
            "C++ && || ! ( ) * : ^ ~",
            "🙂🙂 emoji",
            "-",
            "\"\"",
        ] {
            let _ = parse(text);
        }
        assert!(parse("").is_empty());
        assert!(parse("!!! ...").is_empty());
        assert!(parse("-only").is_empty());
        assert_eq!(parse("\"unclosed phrase").terms, s(&["unclos", "phrase"]));
        assert_eq!(parse("a-b").terms, s(&["a", "b"]));
        let long = "word ".repeat(2_000);
        assert_eq!(parse(&long).terms, s(&["word"]));
    }

    #[test]
    fn the_prefix_is_the_last_plain_word() {
        assert_eq!(parse("water bo").prefix.as_deref(), Some("bo"));
        assert_eq!(parse("water \"red boots\"").prefix, None);
        assert_eq!(parse("water -bo").prefix, None);
        assert_eq!(parse("Café").prefix.as_deref(), Some("cafe"));
    }
}
