//! `flin fmt` (cli.md §4): a file in the one style of the spec's examples, as far as this
//! formatter goes today: 4-space indentation by nesting (brackets, markup elements and
//! `{if}`/`{for}` blocks; a line starting with `.`, `?.` or `|>`, or following a line
//! that ends with an operator, continues it), the spacing of code lines (one space
//! around binary operators and after `,` and `:`, none inside `( )`/`[ ]`, `{ a: 1 }`
//! records), no trailing blanks, at most one blank line. Comments stay where they
//! stand; texts and `<style>`/`<script>` are never touched. The result must parse to the
//! same syntax tree as the original: if it does not, the file is left as it is.
//!
//! A tag's attributes stay on its line while the line fits in 100 columns; past that,
//! the line's first tag puts each attribute on a line of its own, one level in, and
//! its `>` or `/>` (with what follows) back on the tag's level.

use flin_diagnostics::FileId;

use crate::token::{Token, TokenKind as T};

/// Why a file is not formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotFormatted {
    /// It has syntax errors: fix them first.
    SyntaxErrors,
    /// The formatted text would not mean the same (a bug of the formatter).
    WouldChangeMeaning,
}

/// The file in the canonical layout (the same text when it already is).
pub fn format(text: &str) -> Result<String, NotFormatted> {
    let parsed = crate::parse(text, FileId(0));
    if parsed.has_errors() {
        return Err(NotFormatted::SyntaxErrors);
    }
    let lexed = crate::lexer::lex(text, FileId(0));
    let formatted = layout(text, &lexed.tokens);
    if formatted == text {
        return Ok(formatted);
    }
    let again = crate::parse(&formatted, FileId(0));
    if again.has_errors() || shape(&again.file) != shape(&parsed.file) {
        return Err(NotFormatted::WouldChangeMeaning);
    }
    Ok(formatted)
}

/// A syntax tree without its positions: two texts that mean the same have one shape.
fn shape(file: &crate::ast::File) -> String {
    let debug = format!("{:?}", file.stmts);
    // Spans print as `start..end`.
    let mut out = String::with_capacity(debug.len());
    let bytes = debug.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let digits = bytes.get(i..).map_or(0, |rest| {
            rest.iter().take_while(|b| b.is_ascii_digit()).count()
        });
        if digits > 0 && bytes.get(i + digits..i + digits + 2) == Some(b"..".as_slice()) {
            let second = bytes.get(i + digits + 2..).map_or(0, |rest| {
                rest.iter().take_while(|b| b.is_ascii_digit()).count()
            });
            if second > 0 {
                out.push('_');
                i += digits + 2 + second;
                continue;
            }
        }
        if let Some(c) = debug.get(i..).and_then(|rest| rest.chars().next()) {
            out.push(c);
            i += c.len_utf8();
        } else {
            i += 1;
        }
    }
    out
}

/// HTML elements without content or closing tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// What each token does to the nesting: +1 opens, -1 closes; and whether a line that
/// starts with it sits one level out (a closer, `{else}`, `{empty}`).
fn effects(text: &str, tokens: &[Token]) -> Vec<(i32, bool)> {
    let kind = |i: usize| tokens.get(i).map(|t| t.kind);
    let word = |i: usize| {
        tokens
            .get(i)
            .and_then(|t| text.get(t.span.start as usize..t.span.end as usize))
            .unwrap_or("")
    };
    let mut out = Vec::with_capacity(tokens.len());
    // The tag being read: `Some(name)` for an opening tag, `Some("/")` for a closing one.
    let mut open_tag: Option<String> = None;
    for (i, token) in tokens.iter().enumerate() {
        let effect = match token.kind {
            T::LParen | T::LBracket | T::LBrace => (1, false),
            T::RParen | T::RBracket | T::RBrace => (-1, true),
            // Attributes on lines of their own go one level in.
            T::TagStart => {
                open_tag = Some(word(i + 1).to_ascii_lowercase());
                (1, false)
            }
            T::TagEnd => match open_tag.take() {
                // `>` of an opening tag: its children stay one level in.
                Some(name) if name != "/" && !VOID.contains(&name.as_str()) => (0, true),
                Some(name) if name == "/" => (0, false),
                _ => (-1, true),
            },
            T::TagSelfClose => {
                open_tag = None;
                (-1, true)
            }
            T::CloseTagStart => {
                open_tag = Some("/".into());
                (-1, true)
            }
            // `{` in markup opens an expression (closed by its `}`); a block tag also
            // opens (`{if}`, `{for}`) or closes (`{/for}`) a level of its own.
            T::MarkupLBrace => match (kind(i + 1), word(i + 1)) {
                (Some(T::If | T::For), _) => (2, false),
                (Some(T::Slash), _) => (0, true),
                (Some(T::Else), _) | (Some(T::Ident), "empty") => (1, true),
                _ => (1, false),
            },
            T::MarkupRBrace => (-1, true),
            _ => (0, false),
        };
        out.push(effect);
    }
    out
}

fn layout(text: &str, tokens: &[Token]) -> String {
    let tokens: Vec<Token> = tokens
        .iter()
        .copied()
        .filter(|t| !matches!(t.kind, T::Eof | T::Newline))
        .collect();
    let effects = effects(text, &tokens);
    // Nesting before each token.
    let mut depth_before = Vec::with_capacity(tokens.len());
    let mut depth: i32 = 0;
    for (effect, _) in &effects {
        depth_before.push(depth);
        depth = (depth + effect).max(0);
    }
    let comments = block_comments(text, &tokens);
    let mut out = String::with_capacity(text.len() + 64);
    let mut next = 0usize;
    // The last token of the previous line of code: an operator there continues the
    // expression on this line.
    let mut last_kind: Option<T> = None;
    let mut blank_run = 0;
    let mut offset = 0usize;
    for line in text.split('\n') {
        let start = offset;
        let end = start + line.len();
        offset = end + 1;
        // Inside a token that spans lines (a multi-line text, `<style>`): as it is.
        let in_comment = comments
            .iter()
            .any(|(from, to)| *from < start && start < *to);
        let inside = in_comment
            || tokens.iter().any(|t| {
                (t.span.start as usize) < start
                    && start < t.span.end as usize
                    && !(t.kind == T::MarkupText
                        && text
                            .get(start..(t.span.end as usize).min(end))
                            .is_some_and(|s| s.trim().is_empty()))
            });
        while tokens
            .get(next)
            .is_some_and(|t| (t.span.end as usize) <= start && (t.span.start as usize) < start)
        {
            next += 1;
        }
        while tokens
            .get(next)
            .is_some_and(|t| (t.span.start as usize) < start)
        {
            next += 1;
        }
        if inside {
            out.push_str(line.trim_end_matches('\r'));
            out.push('\n');
            blank_run = 0;
            continue;
        }
        let content = line.trim();
        if content.is_empty() {
            blank_run += 1;
            continue;
        }
        // The first token that starts on this line (a line of only a comment has none:
        // it takes the nesting of what follows).
        let first = tokens
            .get(next)
            .filter(|t| (t.span.start as usize) < end.max(start + 1))
            .map(|_| next);
        let mut level = match first {
            Some(i) => {
                let base = depth_before.get(i).copied().unwrap_or(0);
                let outdent = effects.get(i).is_some_and(|(_, out)| *out);
                let continues = tokens
                    .get(i)
                    .is_some_and(|t| matches!(t.kind, T::Dot | T::QuestionDot | T::PipeGt))
                    && (t_starts_line(text, tokens.get(i)));
                let after_operator = last_kind.is_some_and(continues_expression);
                base - i32::from(outdent) + i32::from(continues || after_operator)
            }
            None => depth_before.get(next).copied().unwrap_or(depth),
        };
        level = level.max(0);
        // The last token that ends on this line.
        if let Some(last) = tokens
            .iter()
            .take_while(|t| (t.span.start as usize) <= end)
            .filter(|t| (t.span.end as usize) <= end + 1 && (t.span.start as usize) >= start)
            .last()
        {
            last_kind = Some(last.kind);
        }
        if blank_run > 0 && !out.is_empty() {
            out.push('\n');
        }
        blank_run = 0;
        let crosses_comment = comments.iter().any(|(from, to)| *from < end && start < *to);
        let line = first
            .filter(|_| !crosses_comment)
            .and_then(|i| spaced(text, &tokens, i, end))
            .unwrap_or_else(|| Spaced {
                line: content.to_string(),
                breaks: Vec::new(),
            });
        push_line(&mut out, level, &line);
        out.push('\n');
    }
    out
}

/// A line of code with the spec's spacing: one space around binary operators and
/// arrows, after `,` and `:`, none inside `( )` and `[ ]`, none around `.`, `..` and
/// after unary operators, `{ a: 1 }` records with inner spaces, a trailing `//`
/// comment kept one space after. `None` (the line kept as written, trimmed) for lines
/// with markup, or tokens that start before the line or end after it.
fn spaced(text: &str, tokens: &[Token], first: usize, end: usize) -> Option<Spaced> {
    let on_line: Vec<&Token> = tokens
        .iter()
        .skip(first)
        .take_while(|t| (t.span.start as usize) < end)
        .collect();
    if on_line.iter().any(|t| (t.span.end as usize) > end) {
        return None;
    }
    if on_line.iter().any(|t| {
        matches!(
            t.kind,
            T::TagStart | T::CloseTagStart | T::MarkupText | T::MarkupLBrace
        )
    }) {
        return spaced_markup(text, &on_line, end);
    }
    spaced_code(text, &on_line, end).map(|line| Spaced {
        line,
        breaks: Vec::new(),
    })
}

/// A line as formatted, and where its first tag may break when the line is too long:
/// before each attribute and before the tag's end (none: it does not break).
struct Spaced {
    line: String,
    breaks: Vec<usize>,
}

/// Lines longer than this break their first tag, one attribute per line.
const MAX_COLUMNS: usize = 100;

/// Writes a formatted line at `level`: as it is while it fits in [`MAX_COLUMNS`]; else
/// its first tag with each attribute on a line one level in and the tag's end (`>`,
/// `/>`, with what follows it) back at `level`.
fn push_line(out: &mut String, level: i32, spaced: &Spaced) {
    let indent = |out: &mut String, level: i32| {
        for _ in 0..level {
            out.push_str("    ");
        }
    };
    indent(out, level);
    let width = 4 * level.max(0) as usize + spaced.line.chars().count();
    if width <= MAX_COLUMNS || spaced.breaks.len() < 2 {
        out.push_str(&spaced.line);
        return;
    }
    let mut from = 0;
    for (n, &at) in spaced.breaks.iter().enumerate() {
        out.push_str(spaced.line.get(from..at).unwrap_or("").trim());
        out.push('\n');
        indent(
            out,
            if n + 1 == spaced.breaks.len() {
                level
            } else {
                level + 1
            },
        );
        from = at;
    }
    out.push_str(spaced.line.get(from..).unwrap_or("").trim());
}

/// A line of code (no markup) with the spec's spacing, or `None`.
fn spaced_code(text: &str, on_line: &[&Token], end: usize) -> Option<String> {
    if on_line.iter().any(|t| {
        (t.span.end as usize) > end
            || matches!(
                t.kind,
                T::TagStart
                    | T::CloseTagStart
                    | T::TagName
                    | T::AttrName
                    | T::TagEnd
                    | T::TagSelfClose
                    | T::MarkupText
                    | T::RawText
                    | T::MarkupLBrace
                    | T::MarkupRBrace
            )
    }) {
        return None;
    }
    let slice = |t: &Token| {
        text.get(t.span.start as usize..t.span.end as usize)
            .unwrap_or("")
    };
    let mut out = String::new();
    let mut previous: Option<&Token> = None;
    let mut in_text = 0usize;
    // Brackets opened on this line, innermost last.
    let mut open: Vec<T> = Vec::new();
    for (n, token) in on_line.iter().enumerate() {
        let token = *token;
        if let Some(prev) = previous {
            let gap = text
                .get(prev.span.end as usize..token.span.start as usize)
                .unwrap_or("");
            // Inside a text (its interpolations included) the bytes stay as written.
            let space = in_text == 0
                && space_between(
                    prev,
                    token,
                    on_line.get(n.wrapping_sub(2)).copied(),
                    gap,
                    open.last().copied(),
                );
            if in_text > 0 {
                out.push_str(gap);
            } else if space {
                out.push(' ');
            }
        }
        match token.kind {
            T::StrStart => in_text += 1,
            T::StrEnd => in_text = in_text.saturating_sub(1),
            T::LBrace | T::LParen | T::LBracket if in_text == 0 => open.push(token.kind),
            T::RBrace | T::RParen | T::RBracket if in_text == 0 => {
                open.pop();
            }
            _ => {}
        }
        out.push_str(slice(token));
        previous = Some(token);
    }
    // A comment after the code stays, one space after it.
    if let Some(last) = previous {
        let rest = text.get(last.span.end as usize..end).unwrap_or("").trim();
        if !rest.is_empty() {
            if !rest.starts_with("//") {
                return None;
            }
            out.push(' ');
            out.push_str(rest);
        }
    }
    Some(out)
}

/// A line of markup: inside a tag, one space before each attribute, none around `=`,
/// none before `>` and one before `/>`; attribute values (texts, `{…}`) and everything
/// outside tags (text, `{…}` blocks and expressions) as written. `None` (the line kept as
/// written, trimmed) when a tag goes on past the line or holds something unexpected.
fn spaced_markup(text: &str, on_line: &[&Token], end: usize) -> Option<Spaced> {
    let slice = |from: usize, to: usize| text.get(from..to).unwrap_or("");
    let mut out = String::new();
    let mut in_tag = false;
    // Where the line's first tag may break, when the line starts with it.
    let mut breaks = Vec::new();
    let mut first_tag = on_line.first().is_some_and(|t| t.kind == T::TagStart);
    let mut previous: Option<T> = None;
    let mut i = 0;
    let first = on_line.first()?;
    let mut at = first.span.start as usize;
    while let Some(token) = on_line.get(i).copied() {
        let (start, stop) = (token.span.start as usize, token.span.end as usize);
        if !in_tag {
            out.push_str(slice(at, stop));
            at = stop;
            if matches!(token.kind, T::TagStart | T::CloseTagStart) {
                in_tag = true;
            }
            previous = Some(token.kind);
            i += 1;
            continue;
        }
        match token.kind {
            T::TagName => out.push_str(slice(start, stop)),
            T::AttrName => {
                if matches!(
                    previous,
                    Some(T::TagName | T::AttrName | T::StrEnd | T::MarkupRBrace | T::RParen)
                ) {
                    if first_tag {
                        breaks.push(out.len());
                    }
                    out.push(' ');
                }
                out.push_str(slice(start, stop));
            }
            T::Dot | T::Colon | T::LParen | T::Int | T::RParen | T::Eq => {
                out.push_str(slice(start, stop));
            }
            T::TagEnd => {
                if first_tag {
                    breaks.push(out.len());
                    first_tag = false;
                }
                out.push('>');
                in_tag = false;
            }
            T::TagSelfClose => {
                if first_tag {
                    breaks.push(out.len());
                    first_tag = false;
                }
                out.push_str(" />");
                in_tag = false;
            }
            // A value: as written, to its end.
            T::StrStart | T::MarkupLBrace => {
                let (open, close) = match token.kind {
                    T::StrStart => (T::StrStart, T::StrEnd),
                    _ => (T::MarkupLBrace, T::MarkupRBrace),
                };
                let mut depth = 0;
                let mut j = i;
                loop {
                    let t = on_line.get(j)?;
                    if t.kind == open {
                        depth += 1;
                    } else if t.kind == close {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    j += 1;
                }
                let last = on_line.get(j)?;
                out.push_str(slice(start, last.span.end as usize));
                at = last.span.end as usize;
                previous = Some(close);
                i = j + 1;
                continue;
            }
            _ => return None,
        }
        at = stop;
        previous = Some(token.kind);
        i += 1;
    }
    if in_tag {
        return None;
    }
    // What follows the last token (a comment, text) stays as written.
    out.push_str(slice(at, end).trim_end());
    Some(Spaced { line: out, breaks })
}

/// Whether one space goes between two tokens of a line of code.
fn space_between(
    a: &Token,
    b: &Token,
    before_a: Option<&Token>,
    gap: &str,
    inner: Option<T>,
) -> bool {
    use T::*;
    let value_end = |k: T| {
        matches!(
            k,
            Ident
                | Int
                | Number
                | Money
                | Duration
                | RParen
                | RBracket
                | RBrace
                | StrEnd
                | True
                | False
                | None
        )
    };
    // Operators whose meaning the tokens alone do not tell (`<` of a generic type or a
    // comparison): as written.
    // Likewise `@`: a decorator (`@required`) or time travel (`b @ yesterday`).
    if matches!(a.kind, Lt | Gt | At) || matches!(b.kind, Lt | Gt | At) {
        return !gap.is_empty();
    }
    // `-x`, `!x`: a unary operator sticks to its operand.
    let unary = |op: &Token, before: Option<&Token>| {
        matches!(op.kind, Minus | Bang) && !before.is_some_and(|p| value_end(p.kind))
    };
    if unary(a, before_a) {
        return false;
    }
    // `?` ends a try (`x?`) or opens a conditional (`c ? a : b`), and `:` follows a name
    // (`x: int`) or separates a conditional's values: the space before them is kept as
    // written.
    if matches!(b.kind, Question | Colon) && !matches!(a.kind, LBrace) {
        return !gap.is_empty();
    }
    // `xs[2:5]`: a slice's colon, as written.
    if a.kind == Colon && inner == Some(LBracket) {
        return !gap.is_empty();
    }
    match (a.kind, b.kind) {
        (Comma | Semi | Colon, RParen | RBracket | RBrace) => false,
        (Comma | Semi | Colon, _) => true,
        (
            _,
            Comma | Semi | RParen | RBracket | Dot | QuestionDot | DotDot | DotDotEq | PlusPlus
            | MinusMinus,
        ) => false,
        (LParen | LBracket | Dot | QuestionDot | DotDot | DotDotEq, _) => false,
        // A name before `(`/`[` is a call or an index (`f(x)`, `xs[0]`), or a soft keyword
        // (`where (…)`): as written.
        (Ident, LParen | LBracket) => !gap.is_empty(),
        (RParen | RBracket | StrEnd | Int | Number, LParen | LBracket) => false,
        // `fn(x) { … }`, `fn name(…)`.
        (Fn, LParen) => false,
        (Fn, _) => true,
        (_, LParen) => true,
        (_, LBracket) => true,
        // Braces: `{ a: 1 }`, `{}`; `f {` has a space before.
        (LBrace, RBrace) => false,
        (LBrace, _) => true,
        (_, RBrace) => true,
        (_, LBrace) => true,
        (RBrace, _) => true,
        // Everything else in code: words and operators apart by one space.
        _ => true,
    }
}

/// Whether a line ending with this token goes on on the next line (a binary operator,
/// `=`, an arrow).
fn continues_expression(kind: T) -> bool {
    matches!(
        kind,
        T::Plus
            | T::Minus
            | T::Star
            | T::Slash
            | T::Percent
            | T::Eq
            | T::EqEq
            | T::BangEq
            | T::AmpAmp
            | T::PipePipe
            | T::QuestionQuestion
            | T::PlusEq
            | T::MinusEq
            | T::StarEq
            | T::SlashEq
            | T::PipeGt
    )
}

/// The byte ranges of `/* … */` comments (which the lexer skips): a `/*` outside every
/// token to the next `*/`.
fn block_comments(text: &str, tokens: &[Token]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text.get(from..).and_then(|rest| rest.find("/*")) {
        let at = from + at;
        let in_token = tokens
            .iter()
            .any(|t| (t.span.start as usize) <= at && at < t.span.end as usize);
        let line_comment = text
            .get(..at)
            .and_then(|before| before.rsplit('\n').next())
            .is_some_and(|line| line.contains("//"));
        if in_token || line_comment {
            from = at + 2;
            continue;
        }
        let end = text
            .get(at + 2..)
            .and_then(|rest| rest.find("*/"))
            .map_or(text.len(), |e| at + 2 + e + 2);
        out.push((at, end));
        from = end;
    }
    out
}

fn t_starts_line(text: &str, token: Option<&Token>) -> bool {
    token.is_some_and(|t| {
        let before = text.get(..t.span.start as usize).unwrap_or("");
        before
            .rsplit('\n')
            .next()
            .is_some_and(|s| s.trim().is_empty())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn indentation_follows_the_nesting() {
        let text = "fn f(x: int) -> int {\nif x > 1 {\n  return x\n    }\n\n\n\nx + 1\n}\n<ul>\n{for i in [1, 2]}\n<li>{i}</li>\n{empty}\n<li>none</li>\n{/for}\n</ul>\n";
        let formatted = format(text).unwrap();
        assert_eq!(
            formatted,
            "fn f(x: int) -> int {\n    if x > 1 {\n        return x\n    }\n\n    x + 1\n}\n<ul>\n    {for i in [1, 2]}\n        <li>{i}</li>\n    {empty}\n        <li>none</li>\n    {/for}\n</ul>\n"
        );
        assert_eq!(format(&formatted).unwrap(), formatted, "idempotent");
    }

    #[test]
    fn comments_and_multi_line_texts_stay() {
        let text =
            "// top\nx = \"\"\"\n  kept\n     as is\n\"\"\"\nfn g() {\n// inside\n    1\n}\n";
        let formatted = format(text).unwrap();
        assert_eq!(
            formatted,
            "// top\nx = \"\"\"\n  kept\n     as is\n\"\"\"\nfn g() {\n    // inside\n    1\n}\n"
        );
    }

    #[test]
    fn a_line_after_an_operator_continues_it() {
        let text = "x = 1 +\n2 +\n3\nname =\n\"Ada\"\n/* a\n   b */\ny = 2\n";
        assert_eq!(
            format(text).unwrap(),
            "x = 1 +\n    2 +\n    3\nname =\n    \"Ada\"\n/* a\n   b */\ny = 2\n"
        );
    }

    #[test]
    fn spacing_follows_the_spec() {
        let text = "x=1+2*-3\ny = f( a,b )[0]\nr = {a:1,b:[1,2]}\nz = !x&&y\nfor i in 0..n {\nprint( \"a {i}  b\" )// note\n}\nm: List<int> = []\n";
        let formatted = format(text).unwrap();
        assert_eq!(
            formatted,
            "x = 1 + 2 * -3\ny = f(a, b)[0]\nr = { a: 1, b: [1, 2] }\nz = !x && y\nfor i in 0..n {\n    print(\"a {i}  b\") // note\n}\nm: List<int> = []\n"
        );
        assert_eq!(format(&formatted).unwrap(), formatted);
    }

    #[test]
    fn tags_have_one_space_between_attributes() {
        let text = "<ul>\n<li   class=\"a  b\"   click={ x++ }  >hi  there</li>\n<input  bind={draft}/>\n<button class:on={x}  keydown.enter={go()}>Go</button>\n</ul>\n";
        let formatted = format(text).unwrap();
        assert_eq!(
            formatted,
            "<ul>\n    <li class=\"a  b\" click={ x++ }>hi  there</li>\n    <input bind={draft} />\n    <button class:on={x} keydown.enter={go()}>Go</button>\n</ul>\n"
        );
        assert_eq!(format(&formatted).unwrap(), formatted);
    }

    #[test]
    fn a_tag_past_100_columns_puts_each_attribute_on_its_own_line() {
        let long = "<div>\n<input type=\"text\" bind={title} placeholder=\"What needs doing, in a few words or more?\" class=\"wide\" required />\n<a href=\"/\">home</a>\n</div>\n";
        let formatted = format(long).unwrap();
        assert_eq!(
            formatted,
            "<div>\n    <input\n        type=\"text\"\n        bind={title}\n        placeholder=\"What needs doing, in a few words or more?\"\n        class=\"wide\"\n        required\n    />\n    <a href=\"/\">home</a>\n</div>\n"
        );
        assert_eq!(format(&formatted).unwrap(), formatted);
        // With children on the line, the `>` comes back to the tag's level.
        let with_text = format("<p class=\"a long class list for this paragraph of text\" id=\"a-paragraph-with-a-long-id\">Some words</p>\n").unwrap();
        assert_eq!(
            with_text,
            "<p\n    class=\"a long class list for this paragraph of text\"\n    id=\"a-paragraph-with-a-long-id\"\n>Some words</p>\n"
        );
        assert_eq!(format(&with_text).unwrap(), with_text);
        // A line that fits stays.
        let fits = "<a href=\"/\" class=\"x\">home</a>\n";
        assert_eq!(format(fits).unwrap(), fits);
    }

    #[test]
    fn a_file_with_errors_is_left_alone() {
        assert_eq!(format("fn (\n"), Err(NotFormatted::SyntaxErrors));
    }
}
