//! Printing diagnostics: rustc-style text for people, JSON lines for editors.

use std::ops::Range;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, termcolor};

use crate::{Diagnostic, FileId, Severity, Sources};

/// Whether human output may use terminal colours.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Color {
    Never,
    Always,
}

/// Renders diagnostics as rustc does:
///
/// ```text
/// error[E0302]: unknown field `titel` on entity `Book`
///   --> app/books/[id].flin:4:11
///   |
/// 4 | <h1>{book.titel}</h1>
///   |           ^^^^^ not a field of Book
///   |
///   = help: did you mean `title`?
/// ```
pub fn render_human(sources: &Sources, diagnostics: &[Diagnostic], color: Color) -> String {
    let config = term::Config {
        chars: term::Chars::ascii(),
        ..term::Config::default()
    };
    let mut out = String::new();
    for diagnostic in diagnostics {
        let cs_diagnostic = to_codespan(diagnostic);
        let mut buffer: Vec<u8> = Vec::new();
        let result = match color {
            Color::Always => {
                let mut writer = termcolor::Ansi::new(&mut buffer);
                term::emit(&mut writer, &config, sources, &cs_diagnostic)
            }
            Color::Never => {
                let mut writer = termcolor::NoColor::new(&mut buffer);
                term::emit(&mut writer, &config, sources, &cs_diagnostic)
            }
        };
        match result {
            Ok(()) => out.push_str(&shorten_long_lines(&String::from_utf8_lossy(&buffer))),
            // A span that no longer fits its file is a bug in the reporter, not in the
            // user's program: still say what is wrong, without the excerpt.
            Err(_) => {
                out.push_str(&format!(
                    "{}[{}]: {}\n",
                    diagnostic.severity.as_str(),
                    diagnostic.code,
                    diagnostic.message
                ));
            }
        }
    }
    out
}

/// Renders one JSON object per line (cli.md §4): `severity`, `code`, `message`,
/// `file`, `line`, `column`, `end_line`, `end_column` (1-based, columns in
/// characters), `labels` (`[{file, line, column, end_line, end_column, message}]`: the
/// primary span's words first, then the other spans), `help` (or null), `notes`.
pub fn render_json(sources: &Sources, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let position =
            |file: FileId, offset: u32| sources.get(file).map(|source| source.line_col(offset));
        let span_json = |file: FileId, span: crate::Span, message: &str| {
            let start = position(file, span.start);
            let end = position(file, span.end);
            serde_json::json!({
                "file": sources.get(file).map(|s| s.path.as_str()).unwrap_or(""),
                "line": start.map(|p| p.line),
                "column": start.map(|p| p.column),
                "end_line": end.map(|p| p.line),
                "end_column": end.map(|p| p.column),
                "message": message,
            })
        };
        let start = position(diagnostic.file, diagnostic.span.start);
        let end = position(diagnostic.file, diagnostic.span.end);
        let path = sources
            .get(diagnostic.file)
            .map(|s| s.path.as_str())
            .unwrap_or("");
        let mut labels = Vec::new();
        if !diagnostic.label.is_empty() {
            labels.push(span_json(
                diagnostic.file,
                diagnostic.span,
                &diagnostic.label,
            ));
        }
        labels.extend(
            diagnostic
                .secondary
                .iter()
                .map(|label| span_json(label.file, label.span, &label.message)),
        );
        let value = serde_json::json!({
            "severity": diagnostic.severity.as_str(),
            "code": diagnostic.code,
            "message": diagnostic.message,
            "file": path,
            "line": start.map(|p| p.line),
            "column": start.map(|p| p.column),
            "end_line": end.map(|p| p.line),
            "end_column": end.map(|p| p.column),
            "labels": labels,
            "help": diagnostic.help,
            "notes": Vec::<String>::new(),
        });
        out.push_str(&value.to_string());
        out.push('\n');
    }
    out
}

/// Source lines longer than this print only around their marks.
const MAX_LINE: usize = 160;

/// How much of a long line shows on each side of its marks.
const CONTEXT: usize = 60;

/// A rendered diagnostic with its long source lines cut to the part around the marks
/// under them (`…` where something was left out): a 7 MB line of data shows as a few
/// dozen characters.
fn shorten_long_lines(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut index = 0;
    while index < lines.len() {
        let line = lines.get(index).copied().unwrap_or("");
        let chars: Vec<char> = line.chars().collect();
        if chars.len() <= MAX_LINE {
            out.push(line.to_string());
            index += 1;
            continue;
        }
        // The gutter (`12 | `) stays; the rest is cut.
        let gutter = line
            .find(" | ")
            .map_or(0, |at| line[..at].chars().count() + 3);
        let marks = lines.get(index + 1).copied().filter(|next| {
            next.get(..gutter.min(next.len()))
                .is_some_and(|g| g.trim_end().ends_with('|'))
                && next.chars().skip(gutter).any(|c| c == '^' || c == '-')
        });
        let (from, to) = match marks {
            Some(next) => {
                let mark_chars: Vec<char> = next.chars().collect();
                let first = (gutter..mark_chars.len())
                    .find(|i| matches!(mark_chars.get(*i), Some('^' | '-')))
                    .unwrap_or(gutter);
                let last = (gutter..mark_chars.len())
                    .rev()
                    .find(|i| matches!(mark_chars.get(*i), Some('^' | '-')))
                    .unwrap_or(first);
                (
                    first.saturating_sub(CONTEXT).max(gutter),
                    (last + CONTEXT).min(chars.len()),
                )
            }
            None => (gutter, (gutter + MAX_LINE).min(chars.len())),
        };
        let cut = |all: &[char]| -> String {
            let mut piece: String = all.iter().take(gutter).collect();
            if from > gutter {
                piece.push('…');
            }
            piece.extend(all.iter().skip(from).take(to.saturating_sub(from)));
            if to < all.len() {
                piece.push('…');
            }
            piece
        };
        out.push(cut(&chars));
        if let Some(next) = marks {
            let mark_chars: Vec<char> = next.chars().collect();
            let mut piece: String = mark_chars.iter().take(gutter).collect();
            if from > gutter {
                piece.push(' ');
            }
            piece.extend(mark_chars.iter().skip(from));
            // The label after the marks may be long too.
            let piece: String = piece
                .chars()
                .take(gutter + 2 * CONTEXT + MAX_LINE)
                .collect();
            out.push(piece);
            index += 2;
        } else {
            index += 1;
        }
    }
    out.join("\n")
}

fn to_codespan(diagnostic: &Diagnostic) -> cs::Diagnostic<FileId> {
    let base = match diagnostic.severity {
        Severity::Error => cs::Diagnostic::error(),
        Severity::Warning => cs::Diagnostic::warning(),
    };
    let mut labels = vec![
        cs::Label::primary(diagnostic.file, diagnostic.span.range())
            .with_message(diagnostic.label.clone()),
    ];
    for label in &diagnostic.secondary {
        labels.push(
            cs::Label::secondary(label.file, label.span.range())
                .with_message(label.message.clone()),
        );
    }
    let notes = diagnostic
        .help
        .iter()
        .map(|help| format!("help: {help}"))
        .collect();
    base.with_code(diagnostic.code)
        .with_message(diagnostic.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

impl<'a> Files<'a> for Sources {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.get(id)
            .map(|file| file.path.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.get(id)
            .map(|file| file.text.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        let file = self.get(id).ok_or(FilesError::FileMissing)?;
        let starts = file.line_starts();
        Ok(match starts.binary_search(&(byte_index as u32)) {
            Ok(idx) => idx,
            Err(idx) => idx.saturating_sub(1),
        })
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, FilesError> {
        let file = self.get(id).ok_or(FilesError::FileMissing)?;
        let starts = file.line_starts();
        let start = *starts.get(line_index).ok_or(FilesError::LineTooLarge {
            given: line_index,
            max: starts.len().saturating_sub(1),
        })? as usize;
        let end = starts
            .get(line_index + 1)
            .map_or(file.text.len(), |next| *next as usize);
        Ok(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Span;

    #[test]
    fn human_output_matches_the_cli_spec_shape() {
        let mut sources = Sources::new();
        let file = sources.add(
            "app/books/[id].flin",
            "x = 1\ny = 2\nz = 3\n<h1>{book.titel}</h1>\n",
        );
        let diagnostic = Diagnostic::error(
            "E0302",
            file,
            Span::new(28, 33),
            "unknown field `titel` on entity `Book`",
        )
        .with_label("not a field of Book")
        .with_help("did you mean `title`?");
        let text = render_human(&sources, &[diagnostic], Color::Never);
        assert_eq!(
            text,
            "error[E0302]: unknown field `titel` on entity `Book`\n  --> app/books/[id].flin:4:11\n  |\n4 | <h1>{book.titel}</h1>\n  |           ^^^^^ not a field of Book\n  |\n  = help: did you mean `title`?\n\n"
        );
    }

    #[test]
    fn json_lines_carry_line_and_character_column() {
        let mut sources = Sources::new();
        let file = sources.add("a.flin", "é = \"x\n");
        let diagnostic = Diagnostic::error(
            "E0104",
            file,
            Span::new(5, 7),
            "text is not closed on its line",
        );
        let text = render_json(&sources, &[diagnostic]);
        let value: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_default();
        assert_eq!(value["line"], 1);
        assert_eq!(value["column"], 5);
        assert_eq!(value["code"], "E0104");
    }
}
