//! The modal lexer: turns FLIN source into tokens, switching between code, markup,
//! `{…}` expressions inside markup, and texts with interpolation.
//!
//! A stack of [`Mode`]s says how the next bytes read. Code pushes `(`, `[`, `{`; a tag
//! start pushes a markup region that tracks its open elements and `{if}`/`{for}` blocks, so
//! the lexer knows when the region ends and code resumes; a text pushes a text mode whose
//! `{` pushes an interpolation. Every step consumes at least one byte or pops a mode that an
//! earlier step pushed while consuming bytes, so lexing always ends, and it works on `&str`
//! and moves by whole characters, so it never splits a UTF-8 sequence.
//!
//! How `<` is read: after a token that ends an operand (`a < b`, `fn first<T>`) it is a
//! comparison or a generic bracket, which the parser tells apart; elsewhere, followed by a
//! letter, `/` or `!--`, it opens markup.
//!
//! At the top level of a file (not inside any bracket), `{` at the start of a statement
//! and directly followed by a non-blank character opens markup (`{if editing}`,
//! `{children}`); `{` followed by a blank opens a block or record as in code.
//!
//! Newlines: inside `( )` and `[ ]` and after a token that continues a line (a binary
//! operator, `=`, `,`, `.`, `=>`, `->` …) they are dropped, as they are before a line
//! starting with `.`, `?.` or `|>` (language.md §1). Runs of newlines become one token.

use flin_diagnostics::{Diagnostic, FileId, Span};

use crate::currency;
use crate::token::{Token, TokenKind, keyword};

/// The tokens of one file, ending with [`TokenKind::Eof`], and the lexical errors found.
#[derive(Debug)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Lexes one file. Never fails: errors are reported and lexing goes on.
pub fn lex(text: &str, file: FileId) -> Lexed {
    let mut lexer = Lexer {
        src: text,
        bytes: text.as_bytes(),
        pos: 0,
        file,
        tokens: Vec::with_capacity(text.len() / 4 + 16),
        diagnostics: Vec::new(),
        modes: vec![Mode::Code],
    };
    lexer.run();
    Lexed {
        tokens: lexer.tokens,
        diagnostics: lexer.diagnostics,
    }
}

/// HTML elements that never have content or a closing tag.
pub fn is_void_element(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

/// Elements whose content is raw text: no tags, no `{…}` (web.md §2).
pub fn is_raw_text_element(name: &str) -> bool {
    name.eq_ignore_ascii_case("style") || name.eq_ignore_ascii_case("script")
}

/// Duration units after `<number>.` (language.md §2).
pub fn duration_unit(word: &str) -> Option<DurationUnit> {
    Some(match word {
        "second" | "seconds" => DurationUnit::Seconds,
        "minute" | "minutes" => DurationUnit::Minutes,
        "hour" | "hours" => DurationUnit::Hours,
        "day" | "days" => DurationUnit::Days,
        "week" | "weeks" => DurationUnit::Weeks,
        "month" | "months" => DurationUnit::Months,
        "year" | "years" => DurationUnit::Years,
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum DurationUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
    /// 30 days
    Months,
    /// 365 days
    Years,
}

impl DurationUnit {
    pub fn seconds(self) -> i64 {
        match self {
            DurationUnit::Seconds => 1,
            DurationUnit::Minutes => 60,
            DurationUnit::Hours => 3_600,
            DurationUnit::Days => 86_400,
            DurationUnit::Weeks => 7 * 86_400,
            DurationUnit::Months => 30 * 86_400,
            DurationUnit::Years => 365 * 86_400,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Quote {
    /// `"…"`: one line, interpolating
    Double,
    /// `'…'`: one line, no interpolation
    Single,
    /// `"""…"""`: several lines, interpolating
    Triple,
}

/// What a `{` in markup opens or closes, so the region knows its open blocks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BlockRole {
    Plain,
    OpenIf,
    OpenFor,
    CloseIf,
    CloseFor,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Open {
    /// An element, by the span of its name.
    Element(Span),
    If,
    For,
}

#[derive(Debug)]
enum Mode {
    /// The top level of the file.
    Code,
    /// `{ … }` in code: a block or a record; newlines end statements.
    Brace,
    Paren,
    Bracket,
    /// `{ … }` inside a text.
    Interp {
        single_line: bool,
    },
    Text {
        quote: Quote,
        start: u32,
    },
    /// A markup region: content between tags, with what is open in it.
    Markup {
        open: Vec<Open>,
    },
    /// Inside `<name …>` or `</name …>`.
    Tag {
        closing: bool,
        name: Span,
    },
    /// `{ … }` inside markup: an expression, statements, or a block tag.
    MarkupExpr {
        role: BlockRole,
    },
    /// The content of `<style>` or `<script>`, ended by the closing tag of that name.
    Raw {
        name: Span,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ModeKind {
    Code,
    Brace,
    Paren,
    Bracket,
    Interp,
    Text,
    Markup,
    Tag,
    MarkupExpr,
    Raw,
}

struct Lexer<'s> {
    src: &'s str,
    bytes: &'s [u8],
    pos: usize,
    file: FileId,
    tokens: Vec<Token>,
    diagnostics: Vec<Diagnostic>,
    modes: Vec<Mode>,
}

fn is_ident_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_'
}

fn is_ident_continue(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn is_name_continue(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

impl<'s> Lexer<'s> {
    fn run(&mut self) {
        if self.src.starts_with('\u{feff}') {
            self.pos = 3;
        }
        while self.pos < self.bytes.len() {
            match self.top() {
                ModeKind::Code
                | ModeKind::Brace
                | ModeKind::Paren
                | ModeKind::Bracket
                | ModeKind::Interp
                | ModeKind::MarkupExpr => self.code_step(),
                ModeKind::Text => self.text_step(),
                ModeKind::Markup => self.markup_step(),
                ModeKind::Tag => self.tag_step(),
                ModeKind::Raw => self.raw_step(),
            }
        }
        self.finish();
    }

    /// Reports what is still open at the end of the file that only the lexer can see.
    fn finish(&mut self) {
        let end = self.bytes.len() as u32;
        while let Some(mode) = self.modes.pop() {
            if let Mode::Text { quote, start } = mode {
                let (message, help) = match quote {
                    Quote::Triple => ("text is not closed", "add `\"\"\"` where the text ends"),
                    Quote::Double => ("text is not closed", "add `\"` where the text ends"),
                    Quote::Single => ("text is not closed", "add `'` where the text ends"),
                };
                let span = Span::new(start, start + if quote == Quote::Triple { 3 } else { 1 });
                self.error("E0101", span, message, "this text never ends", Some(help));
                self.push(TokenKind::StrEnd, end, end);
            }
        }
        self.push(TokenKind::Eof, end, end);
    }

    // ---- helpers ----

    fn top(&self) -> ModeKind {
        match self.modes.last() {
            None | Some(Mode::Code) => ModeKind::Code,
            Some(Mode::Brace) => ModeKind::Brace,
            Some(Mode::Paren) => ModeKind::Paren,
            Some(Mode::Bracket) => ModeKind::Bracket,
            Some(Mode::Interp { .. }) => ModeKind::Interp,
            Some(Mode::Text { .. }) => ModeKind::Text,
            Some(Mode::Markup { .. }) => ModeKind::Markup,
            Some(Mode::Tag { .. }) => ModeKind::Tag,
            Some(Mode::MarkupExpr { .. }) => ModeKind::MarkupExpr,
            Some(Mode::Raw { .. }) => ModeKind::Raw,
        }
    }

    fn byte(&self, at: usize) -> u8 {
        self.bytes.get(at).copied().unwrap_or(0)
    }

    fn cur(&self) -> u8 {
        self.byte(self.pos)
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.byte(self.pos + ahead)
    }

    fn push(&mut self, kind: TokenKind, start: u32, end: u32) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, end),
        });
    }

    /// Emits a token for the `len` bytes at the cursor and moves past them.
    fn emit(&mut self, kind: TokenKind, len: usize) {
        let start = self.pos as u32;
        self.pos += len;
        self.push(kind, start, self.pos as u32);
    }

    fn last_kind(&self) -> Option<TokenKind> {
        self.tokens.last().map(|token| token.kind)
    }

    fn error(
        &mut self,
        code: &'static str,
        span: Span,
        message: &str,
        label: &str,
        help: Option<&str>,
    ) {
        let mut diagnostic = Diagnostic::error(code, self.file, span, message).with_label(label);
        if let Some(help) = help {
            diagnostic = diagnostic.with_help(help);
        }
        self.diagnostics.push(diagnostic);
    }

    /// Length in bytes of the character at `at` (1 for ASCII and for invalid positions).
    fn char_len(&self, at: usize) -> usize {
        self.src
            .get(at..)
            .and_then(|rest| rest.chars().next())
            .map_or(1, char::len_utf8)
    }

    fn skip_while(&mut self, pred: impl Fn(u8) -> bool) {
        while self.pos < self.bytes.len() && pred(self.cur()) {
            self.pos += 1;
        }
    }

    /// Reports the character at the cursor as unexpected and skips it.
    fn unexpected_char(&mut self, context: &str) {
        let len = self.char_len(self.pos);
        let start = self.pos as u32;
        let text = self
            .src
            .get(self.pos..self.pos + len)
            .unwrap_or("?")
            .to_string();
        self.pos += len;
        let message = format!("unexpected character `{}`{context}", text.escape_debug());
        self.error(
            "E0100",
            Span::new(start, self.pos as u32),
            &message,
            "not valid here",
            None,
        );
    }

    // ---- code ----

    fn code_step(&mut self) {
        let byte = self.cur();
        match byte {
            b' ' | b'\t' | b'\r' | b'\x0c' => self.pos += 1,
            b'\n' => self.newline(),
            b'/' if self.peek(1) == b'/' => self.skip_while(|b| b != b'\n'),
            b'/' if self.peek(1) == b'*' => self.block_comment(),
            b'"' => {
                if self.peek(1) == b'"' && self.peek(2) == b'"' {
                    self.start_text(Quote::Triple, 3);
                } else {
                    self.start_text(Quote::Double, 1);
                }
            }
            b'\'' => self.start_text(Quote::Single, 1),
            b'0'..=b'9' => self.number(),
            _ if is_ident_start(byte) => self.ident(),
            b'{' => {
                if self.opens_root_markup() {
                    self.modes.push(Mode::Markup { open: Vec::new() });
                    self.markup_brace();
                } else {
                    self.emit(TokenKind::LBrace, 1);
                    self.modes.push(Mode::Brace);
                }
            }
            b'}' => self.close_brace(),
            b'(' => {
                self.emit(TokenKind::LParen, 1);
                self.modes.push(Mode::Paren);
            }
            b')' => self.close_group(TokenKind::RParen),
            b'[' => {
                self.emit(TokenKind::LBracket, 1);
                self.modes.push(Mode::Bracket);
            }
            b']' => self.close_group(TokenKind::RBracket),
            b'<' => {
                if self.opens_tag() {
                    if self.top() != ModeKind::Markup {
                        self.modes.push(Mode::Markup { open: Vec::new() });
                    }
                    self.markup_step();
                } else if self.peek(1) == b'=' {
                    self.emit(TokenKind::Le, 2);
                } else {
                    self.emit(TokenKind::Lt, 1);
                }
            }
            b'>' => self.op2(b'=', TokenKind::Ge, TokenKind::Gt),
            b'+' => match self.peek(1) {
                b'=' => self.emit(TokenKind::PlusEq, 2),
                b'+' => self.emit(TokenKind::PlusPlus, 2),
                _ => self.emit(TokenKind::Plus, 1),
            },
            b'-' => match self.peek(1) {
                b'=' => self.emit(TokenKind::MinusEq, 2),
                b'-' => self.emit(TokenKind::MinusMinus, 2),
                b'>' => self.emit(TokenKind::Arrow, 2),
                _ => self.emit(TokenKind::Minus, 1),
            },
            b'*' => self.op2(b'=', TokenKind::StarEq, TokenKind::Star),
            b'/' => self.op2(b'=', TokenKind::SlashEq, TokenKind::Slash),
            b'%' => self.emit(TokenKind::Percent, 1),
            b'=' => match self.peek(1) {
                b'=' => self.emit(TokenKind::EqEq, 2),
                b'>' => self.emit(TokenKind::FatArrow, 2),
                _ => self.emit(TokenKind::Eq, 1),
            },
            b'!' => self.op2(b'=', TokenKind::BangEq, TokenKind::Bang),
            b'&' if self.peek(1) == b'&' => self.emit(TokenKind::AmpAmp, 2),
            b'|' => match self.peek(1) {
                b'|' => self.emit(TokenKind::PipePipe, 2),
                b'>' => self.emit(TokenKind::PipeGt, 2),
                _ => self.emit(TokenKind::Pipe, 1),
            },
            b'?' => match self.peek(1) {
                b'?' => self.emit(TokenKind::QuestionQuestion, 2),
                b'.' => self.emit(TokenKind::QuestionDot, 2),
                _ => self.emit(TokenKind::Question, 1),
            },
            b'.' => {
                if self.peek(1) == b'.' {
                    if self.peek(2) == b'=' {
                        self.emit(TokenKind::DotDotEq, 3);
                    } else {
                        self.emit(TokenKind::DotDot, 2);
                    }
                } else {
                    self.emit(TokenKind::Dot, 1);
                }
            }
            b',' => self.emit(TokenKind::Comma, 1),
            b';' => self.emit(TokenKind::Semi, 1),
            b':' => self.emit(TokenKind::Colon, 1),
            b'@' => self.emit(TokenKind::At, 1),
            _ => self.unexpected_char(""),
        }
    }

    fn op2(&mut self, second: u8, double: TokenKind, single: TokenKind) {
        if self.peek(1) == second {
            self.emit(double, 2);
        } else {
            self.emit(single, 1);
        }
    }

    fn block_comment(&mut self) {
        let start = self.pos as u32;
        self.pos += 2;
        let mut depth = 1u32;
        while self.pos < self.bytes.len() {
            match (self.cur(), self.peek(1)) {
                (b'*', b'/') => {
                    self.pos += 2;
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                (b'/', b'*') => {
                    self.pos += 2;
                    depth += 1;
                }
                _ => self.pos += 1,
            }
        }
        self.error(
            "E0102",
            Span::new(start, start + 2),
            "block comment is not closed",
            "this comment never ends",
            Some("add `*/` where the comment ends"),
        );
    }

    fn newline(&mut self) {
        let start = self.pos as u32;
        self.pos += 1;
        let mut forced = false;
        match self.top() {
            ModeKind::Code | ModeKind::Brace | ModeKind::MarkupExpr => {}
            ModeKind::Paren | ModeKind::Bracket => {
                if !self.next_line_starts_statement() {
                    return;
                }
                // Recovery: a `(` or `[` left open. The parser reports it where it
                // expected the closer; the statement on the next line parses on its own.
                while matches!(self.top(), ModeKind::Paren | ModeKind::Bracket) {
                    self.modes.pop();
                }
                forced = true;
            }
            ModeKind::Interp => {
                if matches!(self.modes.last(), Some(Mode::Interp { single_line: true })) {
                    self.unclosed_line_text(start);
                    // The newline is seen again by the mode that encloses the text.
                    self.pos = start as usize;
                }
                return;
            }
            _ => return,
        }
        let significant = forced
            || match self.last_kind() {
                None => false,
                Some(kind) => {
                    !kind.continues_line()
                        && !matches!(
                            kind,
                            TokenKind::Newline
                                | TokenKind::Semi
                                | TokenKind::LBrace
                                | TokenKind::MarkupLBrace
                        )
                }
            };
        if significant && !self.next_line_continues() {
            self.push(TokenKind::Newline, start, start + 1);
        }
    }

    /// Whether the next non-blank, non-comment text starts with `.`, `?.` or `|>`.
    fn next_line_continues(&self) -> bool {
        let mut at = self.pos;
        loop {
            match (self.byte(at), self.byte(at + 1)) {
                (b' ' | b'\t' | b'\r' | b'\n', _) => at += 1,
                (b'/', b'/') => {
                    while at < self.bytes.len() && self.byte(at) != b'\n' {
                        at += 1;
                    }
                }
                (b'.', second) => return second != b'.',
                (b'?', b'.') | (b'|', b'>') => return true,
                _ => return false,
            }
        }
    }

    /// Whether the next line can only be a new statement: it starts with a keyword that
    /// never stands inside `( )` or `[ ]`, or with an assignment `name =`. Used to end
    /// brackets left open, so one missing `)` does not swallow the rest of the file.
    fn next_line_starts_statement(&self) -> bool {
        let mut at = self.pos;
        while matches!(self.byte(at), b' ' | b'\t' | b'\r') {
            at += 1;
        }
        let word_start = at;
        while is_ident_continue(self.byte(at)) {
            at += 1;
        }
        let word = self.src.get(word_start..at).unwrap_or("");
        let statement_keyword = matches!(
            word,
            "entity"
                | "enum"
                | "type"
                | "test"
                | "for"
                | "while"
                | "return"
                | "break"
                | "continue"
                | "save"
                | "delete"
                | "restore"
                | "destroy"
                | "transaction"
                | "assert"
        );
        if statement_keyword {
            return true;
        }
        if word == "fn" {
            // `fn name(` declares; `fn(` is a lambda, which may stand in brackets.
            return matches!(self.byte(at), b' ' | b'\t') && {
                let mut next = at;
                while matches!(self.byte(next), b' ' | b'\t') {
                    next += 1;
                }
                is_ident_start(self.byte(next))
            };
        }
        if word.is_empty() || !is_ident_start(self.byte(word_start)) {
            return false;
        }
        while matches!(self.byte(at), b' ' | b'\t') {
            at += 1;
        }
        let op = (self.byte(at), self.byte(at + 1));
        matches!(op, (b'=', next) if next != b'=' && next != b'>')
            || matches!(op, (b'+' | b'-' | b'*' | b'/', b'='))
    }

    /// A `{` at the start of a top-level statement, followed directly by a non-blank
    /// character, opens markup (`{if x}`, `{for …}`, `{children}`).
    fn opens_root_markup(&self) -> bool {
        self.top() == ModeKind::Code
            && matches!(
                self.last_kind(),
                None | Some(TokenKind::Newline) | Some(TokenKind::Semi)
            )
            && !matches!(self.peek(1), b' ' | b'\t' | b'\r' | b'\n' | b'}' | 0)
    }

    /// Whether a `<` at the cursor opens a tag rather than comparing.
    fn opens_tag(&self) -> bool {
        let next = self.peek(1);
        let shape = next.is_ascii_alphabetic()
            || (next == b'/' && self.peek(2).is_ascii_alphabetic())
            || (next == b'!' && self.peek(2) == b'-' && self.peek(3) == b'-');
        shape && !self.last_kind().is_some_and(TokenKind::ends_operand)
    }

    fn ident(&mut self) {
        let start = self.pos;
        self.pos += 1;
        self.skip_while(is_ident_continue);
        let after_dot = matches!(
            self.last_kind(),
            Some(TokenKind::Dot | TokenKind::QuestionDot)
        );
        let kind = match self.bytes.get(start..self.pos).and_then(keyword) {
            Some(kind) if !after_dot => kind,
            _ => TokenKind::Ident,
        };
        self.push(kind, start as u32, self.pos as u32);
    }

    fn number(&mut self) {
        let start = self.pos;
        let mut kind = TokenKind::Int;
        let radix_digit: Option<fn(u8) -> bool> = match (self.cur(), self.peek(1)) {
            (b'0', b'x' | b'X') => Some(|b: u8| b.is_ascii_hexdigit() || b == b'_'),
            (b'0', b'b' | b'B') => Some(|b: u8| b == b'0' || b == b'1' || b == b'_'),
            _ => None,
        };
        if let Some(digit) = radix_digit {
            self.pos += 2;
            let digits_start = self.pos;
            self.skip_while(digit);
            if self.pos == digits_start {
                self.error(
                    "E0106",
                    Span::new(start as u32, self.pos as u32),
                    "number literal has no digits",
                    "digits are missing after the prefix",
                    None,
                );
            }
        } else {
            self.skip_while(|b| b.is_ascii_digit() || b == b'_');
            let tuple_index = matches!(
                self.last_kind(),
                Some(TokenKind::Dot | TokenKind::QuestionDot)
            );
            if !tuple_index {
                if self.cur() == b'.' && self.peek(1).is_ascii_digit() {
                    kind = TokenKind::Number;
                    self.pos += 1;
                    self.skip_while(|b| b.is_ascii_digit() || b == b'_');
                }
                let exponent = matches!(self.cur(), b'e' | b'E')
                    && (self.peek(1).is_ascii_digit()
                        || (matches!(self.peek(1), b'+' | b'-') && self.peek(2).is_ascii_digit()));
                if exponent {
                    kind = TokenKind::Number;
                    self.pos += 2;
                    self.skip_while(|b| b.is_ascii_digit());
                }
            }
        }
        if is_ident_continue(self.cur()) {
            let junk_start = self.pos;
            self.skip_while(is_ident_continue);
            let junk = self.src.get(junk_start..self.pos).unwrap_or("").to_string();
            self.error(
                "E0106",
                Span::new(start as u32, self.pos as u32),
                &format!("invalid number literal: unexpected `{junk}` after the digits"),
                "not a number",
                None,
            );
        }
        // `30.seconds`: a duration literal.
        if self.cur() == b'.' && is_ident_start(self.peek(1)) {
            let word_start = self.pos + 1;
            let mut word_end = word_start;
            while is_ident_continue(self.byte(word_end)) {
                word_end += 1;
            }
            let word = self.src.get(word_start..word_end).unwrap_or("");
            if duration_unit(word).is_some() && self.byte(word_end) != b'(' {
                self.pos = word_end;
                self.push(TokenKind::Duration, start as u32, self.pos as u32);
                return;
            }
        }
        // `450 USD`: a money literal.
        let mut at = self.pos;
        while matches!(self.byte(at), b' ' | b'\t') {
            at += 1;
        }
        if at > self.pos
            && (0..3).all(|i| self.byte(at + i).is_ascii_uppercase())
            && !is_ident_continue(self.byte(at + 3))
            && self
                .src
                .get(at..at + 3)
                .and_then(currency::canonical)
                .is_some()
        {
            self.pos = at + 3;
            kind = TokenKind::Money;
        }
        self.push(kind, start as u32, self.pos as u32);
    }

    /// `}`: closes the nearest `{` of code, an interpolation or a markup expression.
    fn close_brace(&mut self) {
        let found = self.modes.iter().rposition(|mode| {
            matches!(
                mode,
                Mode::Brace | Mode::Interp { .. } | Mode::MarkupExpr { .. }
            )
        });
        let crossable = found.is_some_and(|idx| {
            self.modes.get(idx + 1..).is_some_and(|above| {
                above
                    .iter()
                    .all(|m| matches!(m, Mode::Paren | Mode::Bracket | Mode::Brace))
            })
        });
        let Some(idx) = found.filter(|_| crossable) else {
            // A stray `}`: the parser reports it.
            self.emit(TokenKind::RBrace, 1);
            return;
        };
        self.modes.truncate(idx + 1);
        match self.modes.pop() {
            Some(Mode::Interp { .. }) => self.emit(TokenKind::InterpEnd, 1),
            Some(Mode::MarkupExpr { role }) => {
                self.emit(TokenKind::MarkupRBrace, 1);
                self.after_markup_expr(role);
            }
            _ => self.emit(TokenKind::RBrace, 1),
        }
    }

    /// `)` or `]`: closes the nearest matching group inside the current code.
    fn close_group(&mut self, kind: TokenKind) {
        let found = self.modes.iter().rposition(|mode| match kind {
            TokenKind::RParen => matches!(mode, Mode::Paren),
            _ => matches!(mode, Mode::Bracket),
        });
        let crossable = found.is_some_and(|idx| {
            self.modes.get(idx + 1..).is_some_and(|above| {
                above
                    .iter()
                    .all(|m| matches!(m, Mode::Paren | Mode::Bracket | Mode::Brace))
            })
        });
        if let Some(idx) = found.filter(|_| crossable) {
            self.modes.truncate(idx);
        }
        self.emit(kind, 1);
    }

    // ---- texts ----

    fn start_text(&mut self, quote: Quote, len: usize) {
        let start = self.pos as u32;
        self.emit(TokenKind::StrStart, len);
        self.modes.push(Mode::Text { quote, start });
    }

    fn text_step(&mut self) {
        let Some(Mode::Text { quote, .. }) = self.modes.last() else {
            return;
        };
        let quote = *quote;
        let start = self.pos;
        loop {
            let byte = self.cur();
            if self.pos >= self.bytes.len() {
                self.flush_text(start);
                return;
            }
            match byte {
                b'\\' => {
                    self.pos += 1;
                    if self.cur() == b'u' && self.peek(1) == b'{' {
                        // `\u{…}`: its braces are not an interpolation.
                        self.pos += 2;
                        self.skip_while(|b| b.is_ascii_hexdigit());
                        if self.cur() == b'}' {
                            self.pos += 1;
                        }
                    } else if self.pos < self.bytes.len() && self.cur() != b'\n' {
                        self.pos += self.char_len(self.pos);
                    }
                }
                b'"' if quote == Quote::Double => {
                    self.flush_text(start);
                    self.emit(TokenKind::StrEnd, 1);
                    self.modes.pop();
                    return;
                }
                b'\'' if quote == Quote::Single => {
                    self.flush_text(start);
                    self.emit(TokenKind::StrEnd, 1);
                    self.modes.pop();
                    return;
                }
                b'"' if quote == Quote::Triple && self.peek(1) == b'"' && self.peek(2) == b'"' => {
                    self.flush_text(start);
                    self.emit(TokenKind::StrEnd, 3);
                    self.modes.pop();
                    return;
                }
                b'{' if quote != Quote::Single => {
                    self.flush_text(start);
                    self.emit(TokenKind::InterpStart, 1);
                    self.modes.push(Mode::Interp {
                        single_line: quote != Quote::Triple,
                    });
                    return;
                }
                b'\n' if quote != Quote::Triple => {
                    if self.closing_quote_on_next_line(quote) {
                        // `"hello⏎world"`: one text written over two lines. Report the
                        // line break once and read on to the closing quote, so the quote
                        // on the next line does not open a second, unclosed text.
                        let text_start = match self.modes.last() {
                            Some(Mode::Text { start, .. }) => *start,
                            _ => start as u32,
                        };
                        self.error(
                            "E0104",
                            Span::new(text_start, self.pos as u32),
                            "text is not closed on its line",
                            "this text goes on to the next line",
                            Some("write `\\n` for a line break, or use `\"\"\"…\"\"\"` for several lines"),
                        );
                        self.pos += 1;
                        continue;
                    }
                    self.flush_text(start);
                    self.unclosed_line_text(self.pos as u32);
                    return;
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Whether the line after the cursor (at a `\n`) holds an odd number of unescaped
    /// `quote` characters: then its first one most likely closes the current text.
    fn closing_quote_on_next_line(&self, quote: Quote) -> bool {
        let quote_byte = if quote == Quote::Single { b'\'' } else { b'"' };
        let mut at = self.pos + 1;
        let mut count = 0;
        while at < self.bytes.len() && self.byte(at) != b'\n' {
            match self.byte(at) {
                b'\\' => at += 1,
                byte if byte == quote_byte => count += 1,
                _ => {}
            }
            at += 1;
        }
        count % 2 == 1
    }

    fn flush_text(&mut self, start: usize) {
        if self.pos > start {
            self.push(TokenKind::StrText, start as u32, self.pos as u32);
        }
    }

    /// A one-line text (or an interpolation inside one) reached the end of its line.
    fn unclosed_line_text(&mut self, at: u32) {
        let text_idx = self
            .modes
            .iter()
            .rposition(|mode| matches!(mode, Mode::Text { .. }));
        let Some(idx) = text_idx else { return };
        let start = match self.modes.get(idx) {
            Some(Mode::Text { start, .. }) => *start,
            _ => at,
        };
        self.modes.truncate(idx);
        self.error(
            "E0104",
            Span::new(start, at),
            "text is not closed on its line",
            "this text reaches the end of the line",
            Some("close it with a quote, write `\\n` for a line break, or use `\"\"\"…\"\"\"` for several lines"),
        );
        self.push(TokenKind::StrEnd, at, at);
    }

    // ---- markup ----

    fn markup_step(&mut self) {
        let byte = self.cur();
        let next = self.peek(1);
        if byte == b'<' && next.is_ascii_alphabetic() {
            self.start_tag(false);
        } else if byte == b'<' && next == b'/' && self.peek(2).is_ascii_alphabetic() {
            self.start_tag(true);
        } else if byte == b'<' && next == b'!' && self.peek(2) == b'-' && self.peek(3) == b'-' {
            self.markup_comment();
        } else if byte == b'{' {
            self.markup_brace();
        } else {
            let start = self.pos;
            while self.pos < self.bytes.len() {
                let byte = self.cur();
                let next = self.peek(1);
                let tag = byte == b'<'
                    && (next.is_ascii_alphabetic()
                        || (next == b'/' && self.peek(2).is_ascii_alphabetic())
                        || next == b'!' && self.peek(2) == b'-' && self.peek(3) == b'-');
                if tag || byte == b'{' {
                    break;
                }
                self.pos += 1;
            }
            self.push(TokenKind::MarkupText, start as u32, self.pos as u32);
        }
    }

    fn markup_comment(&mut self) {
        let start = self.pos as u32;
        match self
            .src
            .get(self.pos + 4..)
            .and_then(|rest| rest.find("-->"))
        {
            Some(offset) => self.pos += 4 + offset + 3,
            None => {
                self.pos = self.bytes.len();
                self.error(
                    "E0102",
                    Span::new(start, start + 4),
                    "markup comment is not closed",
                    "this comment never ends",
                    Some("add `-->` where the comment ends"),
                );
            }
        }
        self.pop_finished_markup();
    }

    fn start_tag(&mut self, closing: bool) {
        let len = if closing { 2 } else { 1 };
        self.emit(
            if closing {
                TokenKind::CloseTagStart
            } else {
                TokenKind::TagStart
            },
            len,
        );
        let name_start = self.pos;
        self.pos += 1;
        self.skip_while(is_name_continue);
        let name = Span::new(name_start as u32, self.pos as u32);
        self.push(TokenKind::TagName, name.start, name.end);
        self.modes.push(Mode::Tag { closing, name });
    }

    fn markup_brace(&mut self) {
        let role = self.block_role();
        self.emit(TokenKind::MarkupLBrace, 1);
        self.modes.push(Mode::MarkupExpr { role });
    }

    /// Reads what follows a markup `{` to know whether it opens or closes a block.
    fn block_role(&self) -> BlockRole {
        let mut at = self.pos + 1;
        while matches!(self.byte(at), b' ' | b'\t') {
            at += 1;
        }
        let closing = self.byte(at) == b'/';
        if closing {
            at += 1;
        }
        let word_start = at;
        while is_ident_continue(self.byte(at)) {
            at += 1;
        }
        match (closing, self.src.get(word_start..at).unwrap_or("")) {
            (false, "if") => BlockRole::OpenIf,
            (false, "for") => BlockRole::OpenFor,
            (true, "if") => BlockRole::CloseIf,
            (true, "for") => BlockRole::CloseFor,
            _ => BlockRole::Plain,
        }
    }

    fn after_markup_expr(&mut self, role: BlockRole) {
        if let Some(Mode::Markup { open }) = self.modes.last_mut() {
            match role {
                BlockRole::Plain => {}
                BlockRole::OpenIf => open.push(Open::If),
                BlockRole::OpenFor => open.push(Open::For),
                BlockRole::CloseIf | BlockRole::CloseFor => {
                    let wanted = if role == BlockRole::CloseIf {
                        Open::If
                    } else {
                        Open::For
                    };
                    if let Some(idx) = open.iter().rposition(|o| *o == wanted) {
                        open.truncate(idx);
                    }
                }
            }
        }
        self.pop_finished_markup();
    }

    /// Leaves a markup region once nothing is open in it: code resumes.
    fn pop_finished_markup(&mut self) {
        if matches!(self.modes.last(), Some(Mode::Markup { open }) if open.is_empty()) {
            self.modes.pop();
        }
    }

    fn tag_step(&mut self) {
        let byte = self.cur();
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' => self.pos += 1,
            b'>' => {
                self.emit(TokenKind::TagEnd, 1);
                self.finish_tag(false);
            }
            b'/' if self.peek(1) == b'>' => {
                self.emit(TokenKind::TagSelfClose, 2);
                self.finish_tag(true);
            }
            _ if is_ident_start(byte) => {
                let start = self.pos;
                self.pos += 1;
                self.skip_while(is_name_continue);
                self.push(TokenKind::AttrName, start as u32, self.pos as u32);
            }
            b'0'..=b'9' => {
                let start = self.pos;
                self.skip_while(|b| b.is_ascii_digit());
                self.push(TokenKind::Int, start as u32, self.pos as u32);
            }
            b':' => self.emit(TokenKind::Colon, 1),
            b'.' => self.emit(TokenKind::Dot, 1),
            b'(' => self.emit(TokenKind::LParen, 1),
            b')' => self.emit(TokenKind::RParen, 1),
            b'=' => self.emit(TokenKind::Eq, 1),
            b'"' => self.start_text(Quote::Double, 1),
            b'\'' => self.start_text(Quote::Single, 1),
            b'{' => {
                self.emit(TokenKind::MarkupLBrace, 1);
                self.modes.push(Mode::MarkupExpr {
                    role: BlockRole::Plain,
                });
            }
            // A tag left without its `>`: end it here; the parser reports the missing `>`.
            b'<' => self.finish_tag(false),
            _ => self.unexpected_char(" in a tag"),
        }
    }

    fn finish_tag(&mut self, self_closing: bool) {
        let Some(Mode::Tag { closing, name }) = self.modes.pop() else {
            return;
        };
        let name_text = self.src.get(name.range()).unwrap_or("");
        let src = self.src;
        if let Some(Mode::Markup { open }) = self.modes.last_mut() {
            if closing {
                let matching = open.iter().rposition(|o| {
                    matches!(o, Open::Element(span) if src.get(span.range()) == Some(name_text))
                });
                if let Some(idx) = matching {
                    open.truncate(idx);
                }
            } else if !self_closing && !is_void_element(name_text) {
                open.push(Open::Element(name));
                if is_raw_text_element(name_text) {
                    self.modes.push(Mode::Raw { name });
                    return;
                }
            }
        }
        self.pop_finished_markup();
    }

    fn raw_step(&mut self) {
        let name = match self.modes.last() {
            Some(Mode::Raw { name }) => self.bytes.get(name.range()).unwrap_or(&[]),
            _ => &[],
        };
        let start = self.pos;
        let rest = self.bytes.get(start..).unwrap_or(&[]);
        let closes_here = |idx: usize| {
            rest.get(idx..idx + 2) == Some(b"</")
                && rest
                    .get(idx + 2..idx + 2 + name.len())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
                && !rest
                    .get(idx + 2 + name.len())
                    .copied()
                    .is_some_and(is_name_continue)
        };
        let end = (0..rest.len())
            .find(|idx| closes_here(*idx))
            .map_or(self.bytes.len(), |offset| start + offset);
        self.pos = end;
        if end > start {
            self.push(TokenKind::RawText, start as u32, end as u32);
        }
        self.modes.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        lex(text, FileId(0)).tokens.iter().map(|t| t.kind).collect()
    }

    #[test]
    fn comparison_versus_tag() {
        use TokenKind::*;
        assert_eq!(kinds("a < b"), vec![Ident, Lt, Ident, Eof]);
        assert_eq!(kinds("a <b"), vec![Ident, Lt, Ident, Eof]);
        assert_eq!(
            kinds("<b>x</b>"),
            vec![
                TagStart,
                TagName,
                TagEnd,
                MarkupText,
                CloseTagStart,
                TagName,
                TagEnd,
                Eof
            ]
        );
        assert_eq!(kinds("fn f<T>(x: T)")[..5], [Fn, Ident, Lt, Ident, Gt]);
    }

    #[test]
    fn newlines_follow_the_continuation_rules() {
        use TokenKind::*;
        assert_eq!(kinds("a\n\n b"), vec![Ident, Newline, Ident, Eof]);
        assert_eq!(kinds("a +\n b"), vec![Ident, Plus, Ident, Eof]);
        assert_eq!(kinds("a\n  .b"), vec![Ident, Dot, Ident, Eof]);
        assert_eq!(
            kinds("f(a\n, b)"),
            vec![Ident, LParen, Ident, Comma, Ident, RParen, Eof]
        );
    }

    #[test]
    fn interpolation_nests() {
        use TokenKind::*;
        assert_eq!(
            kinds(r#""a {"b {c}"} d""#),
            vec![
                StrStart,
                StrText,
                InterpStart,
                StrStart,
                StrText,
                InterpStart,
                Ident,
                InterpEnd,
                StrEnd,
                InterpEnd,
                StrText,
                StrEnd,
                Eof
            ]
        );
    }

    #[test]
    fn money_and_duration_are_single_tokens() {
        use TokenKind::*;
        assert_eq!(kinds("450 USD + 2.hours"), vec![Money, Plus, Duration, Eof]);
        assert_eq!(kinds("x.0.1"), vec![Ident, Dot, Int, Dot, Int, Eof]);
        assert_eq!(kinds("1..10"), vec![Int, DotDot, Int, Eof]);
    }

    #[test]
    fn root_markup_region_ends_when_everything_closes() {
        use TokenKind::*;
        assert_eq!(
            kinds("{if a}<br>{/if}\nx"),
            vec![
                MarkupLBrace,
                If,
                Ident,
                MarkupRBrace,
                TagStart,
                TagName,
                TagEnd,
                MarkupLBrace,
                Slash,
                If,
                MarkupRBrace,
                Newline,
                Ident,
                Eof
            ]
        );
    }

    #[test]
    fn style_content_is_raw() {
        use TokenKind::*;
        assert_eq!(
            kinds("<style>a { b: c }</style>"),
            vec![
                TagStart,
                TagName,
                TagEnd,
                RawText,
                CloseTagStart,
                TagName,
                TagEnd,
                Eof
            ]
        );
    }

    #[test]
    fn unterminated_text_is_reported_once() {
        let lexed = lex("x = \"abc\ny = 1", FileId(0));
        assert_eq!(lexed.diagnostics.len(), 1);
        assert_eq!(lexed.diagnostics[0].code, "E0104");
    }
}
