//! Text literals: decoding escapes and removing the indentation of `"""` texts
//! (language.md §2 and §14).

use std::ops::Range;

/// An escape that is not one of `\n \t \r \\ \" \' \{ \} \u{…}`, by its byte range in the
/// raw text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEscape {
    pub range: Range<usize>,
    pub reason: &'static str,
}

/// Decodes the escapes of one raw piece of a text (the part between quotes and
/// interpolations). Bad escapes are kept as written and reported.
pub fn cook(raw: &str) -> (String, Vec<BadEscape>) {
    if !raw.contains('\\') {
        return (raw.to_string(), Vec::new());
    }
    let mut out = String::with_capacity(raw.len());
    let mut errors = Vec::new();
    let mut chars = raw.char_indices().peekable();
    while let Some((idx, ch)) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        let Some((_, escaped)) = chars.next() else {
            errors.push(BadEscape {
                range: idx..idx + 1,
                reason: "a lone `\\` at the end of the text",
            });
            break;
        };
        match escaped {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            '{' => out.push('{'),
            '}' => out.push('}'),
            '0' => out.push('\0'),
            'u' => {
                let start = idx;
                if chars.peek().map(|(_, c)| *c) != Some('{') {
                    errors.push(BadEscape {
                        range: start..start + 2,
                        reason: "`\\u` needs a code point in braces, as `\\u{1F418}`",
                    });
                    continue;
                }
                chars.next();
                let mut digits = String::new();
                let mut end = start + 3;
                let mut closed = false;
                for (at, c) in chars.by_ref() {
                    end = at + c.len_utf8();
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    digits.push(c);
                }
                let decoded = u32::from_str_radix(&digits, 16)
                    .ok()
                    .and_then(char::from_u32);
                match decoded {
                    Some(c) if closed && !digits.is_empty() && digits.len() <= 6 => out.push(c),
                    _ => errors.push(BadEscape {
                        range: start..end,
                        reason: "`\\u{…}` needs 1 to 6 hexadecimal digits naming a Unicode scalar value",
                    }),
                }
            }
            other => {
                errors.push(BadEscape {
                    range: idx..idx + 1 + other.len_utf8(),
                    reason: "unknown escape",
                });
                out.push('\\');
                out.push(other);
            }
        }
    }
    (out, errors)
}

/// Removes the layout of a `"""` text whose raw pieces are given in order (an
/// interpolation stands between each two). The newline after the opening quotes and the
/// line holding the closing quotes are dropped; the common indentation of the remaining
/// non-blank lines and of the closing line is removed from every line.
///
/// Returns the new pieces, as many as given.
pub fn dedent(pieces: &[&str]) -> Vec<String> {
    let mut pieces: Vec<String> = pieces.iter().map(|piece| piece.to_string()).collect();
    if let Some(first) = pieces.first_mut() {
        let blank = first
            .bytes()
            .take_while(|b| *b == b' ' || *b == b'\t' || *b == b'\r')
            .count();
        if first.as_bytes().get(blank) == Some(&b'\n') {
            first.drain(..=blank);
        }
    }
    let mut closing_indent = None;
    if let Some(last) = pieces.last_mut() {
        if let Some(newline) = last.rfind('\n') {
            let tail = last.get(newline + 1..).unwrap_or("");
            if tail.bytes().all(|b| b == b' ' || b == b'\t') {
                closing_indent = Some(tail.len());
                let cut = if newline > 0 && last.as_bytes().get(newline - 1) == Some(&b'\r') {
                    newline - 1
                } else {
                    newline
                };
                last.truncate(cut);
            }
        }
    }
    // Line starts: (piece, byte offset). The first line begins the text.
    let mut starts = vec![(0usize, 0usize)];
    for (piece_idx, piece) in pieces.iter().enumerate() {
        for (byte_idx, byte) in piece.bytes().enumerate() {
            if byte == b'\n' {
                starts.push((piece_idx, byte_idx + 1));
            }
        }
    }
    let indent_at = |pieces: &[String], piece_idx: usize, byte_idx: usize| -> (usize, bool) {
        let piece = pieces.get(piece_idx).map_or("", String::as_str);
        let rest = piece.get(byte_idx..).unwrap_or("");
        let run = rest
            .bytes()
            .take_while(|b| *b == b' ' || *b == b'\t')
            .count();
        let after = rest.as_bytes().get(run).copied();
        let blank = match after {
            Some(b'\n') | Some(b'\r') => true,
            None => piece_idx + 1 == pieces.len(),
            Some(_) => false,
        };
        (run, blank)
    };
    let mut common = closing_indent;
    for (piece_idx, byte_idx) in &starts {
        let (run, blank) = indent_at(&pieces, *piece_idx, *byte_idx);
        if !blank {
            common = Some(common.map_or(run, |c| c.min(run)));
        }
    }
    let common = common.unwrap_or(0);
    if common == 0 {
        return pieces;
    }
    for (piece_idx, byte_idx) in starts.iter().rev() {
        let (run, _) = indent_at(&pieces, *piece_idx, *byte_idx);
        let cut = run.min(common);
        if let Some(piece) = pieces.get_mut(*piece_idx) {
            piece.drain(*byte_idx..*byte_idx + cut);
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode() {
        assert_eq!(cook(r"a\n\t\{x\}\u{1F418}\\").0, "a\n\t{x}\u{1F418}\\");
        assert_eq!(cook(r"\q").1.len(), 1);
        assert_eq!(cook(r"\u{110000}").1.len(), 1);
    }

    #[test]
    fn triple_text_loses_its_layout() {
        let out = dedent(&["\n    Dear ", ",\n      thanks.\n    "]);
        assert_eq!(out, vec!["Dear ".to_string(), ",\n  thanks.".to_string()]);
    }

    #[test]
    fn blank_lines_do_not_count_for_indentation() {
        let out = dedent(&["\n    a\n\n    b\n    "]);
        assert_eq!(out, vec!["a\n\nb".to_string()]);
    }
}
