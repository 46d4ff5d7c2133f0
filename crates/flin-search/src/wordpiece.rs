//! The WordPiece tokenizer of BERT-family models (uncased): clean the text, put spaces
//! around CJK characters, lower-case and strip accents, split on whitespace and
//! punctuation, then cut each word into the longest pieces of the vocabulary from the
//! left (`##` marks a piece inside a word); a word that cannot be cut is `[UNK]`.
//! The built-in model uses it with the vocabulary of all-MiniLM-L6-v2.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A word longer than this (in characters) is `[UNK]`.
const MAX_WORD_CHARS: usize = 100;

pub struct WordPiece {
    ids: HashMap<String, u32>,
    unk: u32,
    /// Uncased models lower-case and strip accents; cased ones keep both.
    uncased: bool,
}

impl WordPiece {
    /// A tokenizer of `vocab` (tokens in id order); `None` without `[UNK]`.
    pub fn new(vocab: &[String]) -> Option<WordPiece> {
        let ids: HashMap<String, u32> = vocab
            .iter()
            .enumerate()
            .map(|(id, token)| (token.clone(), u32::try_from(id).unwrap_or(u32::MAX)))
            .collect();
        let unk = *ids.get("[UNK]")?;
        Some(WordPiece {
            ids,
            unk,
            uncased: true,
        })
    }

    /// A tokenizer of a `token → id` vocabulary, as `tokenizer.json` holds it.
    pub fn from_map(ids: HashMap<String, u32>, unk: &str, uncased: bool) -> Option<WordPiece> {
        let unk = *ids.get(unk)?;
        Some(WordPiece { ids, unk, uncased })
    }

    /// The id of the unknown token.
    pub fn unk(&self) -> u32 {
        self.unk
    }

    /// How many tokens the vocabulary holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id of a token of the vocabulary (`[CLS]`, `[SEP]` …).
    pub fn id_of(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    /// The token ids of `text` (no special tokens added).
    pub fn ids(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        for word in pre_tokenize(&normalize(text, self.uncased)) {
            self.word_pieces(&word, &mut out);
        }
        out
    }

    fn word_pieces(&self, word: &str, out: &mut Vec<u32>) {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut candidate = String::new();
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while start < end {
                candidate.clear();
                if start > 0 {
                    candidate.push_str("##");
                }
                candidate.extend(chars.get(start..end).unwrap_or(&[]));
                if let Some(id) = self.ids.get(candidate.as_str()) {
                    found = Some(*id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    pieces.push(id);
                    start = end;
                }
                None => {
                    out.push(self.unk);
                    return;
                }
            }
        }
        out.extend(pieces);
    }
}

/// BERT's normalizer: control characters dropped, whitespace made spaces, spaces
/// around CJK ideographs, and for uncased models lower case, accents stripped.
fn normalize(text: &str, uncased: bool) -> String {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || (is_control(c)) {
            continue;
        }
        if c.is_whitespace() {
            cleaned.push(' ');
        } else if is_cjk(c) {
            cleaned.push(' ');
            cleaned.push(c);
            cleaned.push(' ');
        } else {
            cleaned.push(c);
        }
    }
    if !uncased {
        return cleaned;
    }
    let lower = cleaned.to_lowercase();
    lower.nfd().filter(|c| !is_combining_mark(*c)).collect()
}

/// Words and punctuation marks, each punctuation mark a word of its own.
fn pre_tokenize(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
        } else if is_punctuation(c) {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            words.push(c.to_string());
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn is_control(c: char) -> bool {
    if c == '\t' || c == '\n' || c == '\r' {
        return false;
    }
    c.is_control()
}

/// ASCII symbols count as punctuation (as BERT's tokenizer has it), and Unicode
/// punctuation.
fn is_punctuation(c: char) -> bool {
    let code = u32::from(c);
    if (33..=47).contains(&code)
        || (58..=64).contains(&code)
        || (91..=96).contains(&code)
        || (123..=126).contains(&code)
    {
        return true;
    }
    // Unicode general category P*: the ranges of common punctuation blocks.
    matches!(code,
        0x00A1 | 0x00A7 | 0x00AB | 0x00B6 | 0x00B7 | 0x00BB | 0x00BF
        | 0x2010..=0x2027 | 0x2030..=0x205E | 0x3001..=0x3003 | 0x3008..=0x3011
        | 0x3014..=0x301F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40
        | 0xFF5B..=0xFF65)
}

fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokenizer() -> WordPiece {
        let vocab: Vec<String> = [
            "[PAD]", "[UNK]", "water", "##proof", "boot", "##s", "!", "cafe", "the",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        WordPiece::new(&vocab).unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn words_are_cut_into_the_longest_pieces() {
        let t = tokenizer();
        assert_eq!(t.ids("Waterproof BOOTS!"), [2, 3, 4, 5, 6]);
        assert_eq!(t.ids("Café"), [7]);
        assert_eq!(t.ids("the zebra"), [8, 1]);
        assert_eq!(t.ids("   "), Vec::<u32>::new());
    }
}
