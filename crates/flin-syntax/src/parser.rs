//! The parser: tokens to a [`File`] tree, reporting every syntax error and recovering.
//!
//! Statements and markup are parsed by recursive descent, expressions by precedence
//! climbing over the table of language.md §4 (see [`infix`]). After an error the parser
//! skips to the end of the statement (a newline or `;` at the same nesting, or the `}`
//! that closes the enclosing block) and goes on, so one mistake gives one diagnostic.
//!
//! Nesting is bounded ([`MAX_DEPTH`]): a tree deeper than that is refused with a clear
//! error rather than risking the stack of the parser or of later passes.

use std::collections::HashMap;

use flin_diagnostics::{Diagnostic, FileId, Span};

use crate::ast::*;
use crate::lexer::{self, duration_unit};
use crate::text;
use crate::token::{Token, TokenKind as T};
use crate::{Symbol, currency};

mod markup;

/// How deeply expressions, blocks and markup may nest (counting each link of an
/// operator chain as one level).
pub const MAX_DEPTH: u32 = 256;

/// A parsed file and every diagnostic of lexing and parsing, sorted by position.
#[derive(Debug)]
pub struct Parsed {
    pub file: File,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses one file. Never fails and never panics: a broken file gives a partial tree
/// and diagnostics.
pub fn parse(text: &str, file: FileId) -> Parsed {
    let lexed = lexer::lex(text, file);
    let mut parser = Parser::new(text, lexed.tokens, file);
    parser.lexer_errors = lexed.diagnostics.iter().map(|d| d.span).collect();
    let stmts = parser.stmts_until(T::Eof, Ctx::TopLevel);
    let mut diagnostics = lexed.diagnostics;
    diagnostics.append(&mut parser.diagnostics);
    diagnostics.sort_by_key(Diagnostic::sort_key);
    Parsed {
        file: File {
            stmts,
            span: Span::new(0, text.len() as u32),
        },
        diagnostics,
    }
}

/// Where a statement stands: some constructs belong only at the top level of a file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ctx {
    TopLevel,
    Nested,
}

/// Binding powers of infix operators: `(left, right)`; higher binds tighter.
/// Levels 5, 6 and 7 of the table do not associate: chaining them is an error.
fn infix(kind: T) -> Option<(u8, u8)> {
    Some(match kind {
        T::PipeGt => (2, 3),
        T::Question => (4, 4),
        T::PipePipe | T::QuestionQuestion => (6, 7),
        T::AmpAmp => (8, 9),
        T::EqEq | T::BangEq | T::Is | T::In => (10, 11),
        T::Lt | T::Le | T::Gt | T::Ge => (12, 13),
        T::DotDot | T::DotDotEq => (14, 15),
        T::Plus | T::Minus => (16, 17),
        T::Star | T::Slash | T::Percent => (18, 19),
        _ => return None,
    })
}

const PREFIX_BP: u8 = 20;
/// Operands of `search … in` bind tighter than `in`.
const ABOVE_IN_BP: u8 = 12;
/// `try e` covers `||` and `??` and everything tighter.
const TRY_BP: u8 = 6;

fn binary_op(kind: T) -> Option<BinaryOp> {
    Some(match kind {
        T::PipeGt => BinaryOp::Pipe,
        T::PipePipe => BinaryOp::Or,
        T::QuestionQuestion => BinaryOp::Coalesce,
        T::AmpAmp => BinaryOp::And,
        T::EqEq => BinaryOp::Eq,
        T::BangEq => BinaryOp::NotEq,
        T::In => BinaryOp::In,
        T::Lt => BinaryOp::Lt,
        T::Le => BinaryOp::Le,
        T::Gt => BinaryOp::Gt,
        T::Ge => BinaryOp::Ge,
        T::Plus => BinaryOp::Add,
        T::Minus => BinaryOp::Sub,
        T::Star => BinaryOp::Mul,
        T::Slash => BinaryOp::Div,
        T::Percent => BinaryOp::Rem,
        _ => return None,
    })
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    file: FileId,
    diagnostics: Vec<Diagnostic>,
    depth: u32,
    /// Set once nesting went past [`MAX_DEPTH`]: the rest of the file is skipped.
    gave_up: bool,
    /// In the condition of `if`/`while`/`for`/`match`, `Name {` starts the block, not an
    /// entity literal (as in Rust).
    no_entity_literal: bool,
    /// Token index of the last error, so one bad token gives one diagnostic.
    last_error_at: Option<usize>,
    /// For each `(`, the index of its `)`: finds `(a, b) =>` lambdas without rescanning.
    paren_close: HashMap<usize, usize>,
    /// Whether the `{` at a token index opens a record (language.md §14), once decided.
    brace_is_record: HashMap<usize, bool>,
    /// Open markup elements and blocks, innermost last, to match closing tags.
    open_elements: Vec<Symbol>,
    open_blocks: Vec<markup::BlockKind>,
    /// Spans of the lexer's errors: a parser error just after one is its echo.
    lexer_errors: Vec<Span>,
    /// Parse steps left. Every loop of the parser consumes a token or ends, so this is
    /// never used up; it is the safety net that turns a bug of that kind into an error
    /// instead of a hang.
    fuel: u64,
}

#[derive(Clone, Copy)]
struct Checkpoint {
    pos: usize,
    n_diagnostics: usize,
    last_error_at: Option<usize>,
    gave_up: bool,
    depth: u32,
}

impl<'s> Parser<'s> {
    fn new(src: &'s str, tokens: Vec<Token>, file: FileId) -> Parser<'s> {
        let tokens_len = tokens.len();
        let mut paren_close = HashMap::new();
        let mut stack = Vec::new();
        for (idx, token) in tokens.iter().enumerate() {
            match token.kind {
                T::LParen => stack.push(idx),
                T::RParen => {
                    if let Some(open) = stack.pop() {
                        paren_close.insert(open, idx);
                    }
                }
                _ => {}
            }
        }
        Parser {
            src,
            tokens,
            pos: 0,
            file,
            diagnostics: Vec::new(),
            depth: 0,
            gave_up: false,
            no_entity_literal: false,
            last_error_at: None,
            paren_close,
            brace_is_record: HashMap::new(),
            open_elements: Vec::new(),
            open_blocks: Vec::new(),
            lexer_errors: Vec::new(),
            fuel: 64 * tokens_len as u64 + 10_000,
        }
    }

    // ------------------------------------------------------------ token access

    fn nth(&self, n: usize) -> T {
        self.tokens.get(self.pos + n).map_or(T::Eof, |t| t.kind)
    }

    fn peek(&self) -> T {
        self.nth(0)
    }

    fn nth_span(&self, n: usize) -> Span {
        match self.tokens.get(self.pos + n) {
            Some(token) => token.span,
            None => Span::empty(self.src.len() as u32),
        }
    }

    fn span(&self) -> Span {
        self.nth_span(0)
    }

    /// The end of the previous token: where "something is missing" points.
    fn prev_end(&self) -> u32 {
        self.pos
            .checked_sub(1)
            .and_then(|idx| self.tokens.get(idx))
            .map_or(0, |t| t.span.end)
    }

    /// The end of the last token consumed that is not a statement separator.
    fn content_end(&self) -> u32 {
        self.tokens
            .get(..self.pos)
            .and_then(|done| {
                done.iter()
                    .rev()
                    .find(|t| !matches!(t.kind, T::Newline | T::Semi))
            })
            .map_or(0, |t| t.span.end)
    }

    fn prev_span(&self) -> Span {
        self.pos
            .checked_sub(1)
            .and_then(|idx| self.tokens.get(idx))
            .map_or(Span::empty(0), |t| t.span)
    }

    fn bump(&mut self) -> Span {
        let span = self.span();
        if self.peek() != T::Eof {
            self.pos += 1;
        }
        span
    }

    fn eat(&mut self, kind: T) -> bool {
        if self.peek() == kind {
            self.bump();
            true
        } else {
            false
        }
    }

    fn text(&self, span: Span) -> &'s str {
        self.src.get(span.range()).unwrap_or("")
    }

    fn nth_text(&self, n: usize) -> &'s str {
        self.text(self.nth_span(n))
    }

    /// Whether the token `n` ahead is the soft keyword `word`.
    fn nth_is(&self, n: usize, word: &str) -> bool {
        self.nth(n) == T::Ident && self.nth_text(n) == word
    }

    fn at_soft(&self, word: &str) -> bool {
        self.nth_is(0, word)
    }

    fn skip_newlines(&mut self) {
        while self.peek() == T::Newline {
            self.pos += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), T::Newline | T::Semi | T::Comma) {
            self.pos += 1;
        }
    }

    /// Whether a line break stands between the previous token and the current one.
    /// Inside `( )` and `[ ]` the lexer drops newlines, yet they separate entries there
    /// as commas do (language.md §14).
    fn newline_before(&self) -> bool {
        let gap = Span::new(self.prev_end(), self.span().start);
        self.text(gap).contains('\n')
    }

    /// Eats the separator between two entries of a `( )` or `[ ]` list: a comma, or a
    /// line break before the next entry. `false` at the end of the list.
    fn list_separator(&mut self, closer: T) -> bool {
        if self.eat(T::Comma) {
            return true;
        }
        let ends_list = matches!(
            self.peek(),
            T::RParen
                | T::RBracket
                | T::RBrace
                | T::MarkupRBrace
                | T::InterpEnd
                | T::Newline
                | T::Semi
                | T::Eof
        );
        self.peek() != closer && !ends_list && self.newline_before()
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            pos: self.pos,
            n_diagnostics: self.diagnostics.len(),
            last_error_at: self.last_error_at,
            gave_up: self.gave_up,
            depth: self.depth,
        }
    }

    fn rewind(&mut self, checkpoint: Checkpoint) {
        self.pos = checkpoint.pos;
        self.diagnostics.truncate(checkpoint.n_diagnostics);
        self.last_error_at = checkpoint.last_error_at;
        self.gave_up = checkpoint.gave_up;
        self.depth = checkpoint.depth;
    }

    // ------------------------------------------------------------ errors

    fn push_error(&mut self, diagnostic: Diagnostic) {
        if self.gave_up {
            return;
        }
        self.last_error_at = Some(self.pos);
        self.diagnostics.push(diagnostic);
    }

    /// `expected {what}, found …` at the current token, once per token, and not when
    /// the lexer already reported a bad character or literal right before it.
    fn error_expected(&mut self, what: &str) {
        if self.last_error_at == Some(self.pos) || self.gave_up {
            return;
        }
        let gap = Span::new(self.prev_end(), self.span().end);
        if self
            .lexer_errors
            .iter()
            .any(|e| e.start >= gap.start && e.start <= gap.end)
        {
            return;
        }
        let found = self.peek();
        let (span, found_text) = match found {
            T::Newline | T::Eof => (Span::empty(self.prev_end()), found.describe().to_string()),
            T::Ident | T::TagName | T::AttrName => {
                (self.span(), format!("`{}`", self.text(self.span())))
            }
            _ if found.is_keyword() => (self.span(), found.describe().to_string()),
            _ => (self.span(), found.describe().to_string()),
        };
        let diagnostic = Diagnostic::error(
            "E0110",
            self.file,
            span,
            format!("expected {what}, found {found_text}"),
        )
        .with_label(format!("expected {what}"));
        self.push_error(diagnostic);
    }

    fn expect(&mut self, kind: T, what: &str) -> bool {
        if self.eat(kind) {
            true
        } else {
            self.error_expected(what);
            false
        }
    }

    fn error(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) {
        let diagnostic = Diagnostic::error(code, self.file, span, message).with_label(label);
        self.push_error(diagnostic);
    }

    fn error_help(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        let diagnostic = Diagnostic::error(code, self.file, span, message)
            .with_label(label)
            .with_help(help);
        self.push_error(diagnostic);
    }

    /// An opening delimiter that was never closed.
    fn unclosed(&mut self, open: Span, what: &str, closer: &str) {
        if self.gave_up {
            return;
        }
        let diagnostic =
            Diagnostic::error("E0111", self.file, open, format!("{what} is not closed"))
                .with_label(format!("this {what} is never closed"))
                .with_help(format!("add `{closer}` where it ends"));
        self.diagnostics.push(diagnostic);
        self.last_error_at = Some(self.pos);
    }

    /// Enters one level of nesting; `false` once the limit is passed (then the rest of
    /// the file is skipped).
    fn enter(&mut self) -> bool {
        self.fuel = self.fuel.saturating_sub(1);
        if self.fuel == 0 {
            if !self.gave_up {
                let span = self.span();
                self.error_help(
                    "E0199",
                    span,
                    "the parser stopped here without making progress",
                    "stopped here",
                    "this is a bug in FLIN: please report it with this file",
                );
                self.gave_up = true;
            }
            self.pos = self.tokens.len().saturating_sub(1);
            return false;
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            if !self.gave_up {
                let span = self.span();
                self.error_help(
                    "E0115",
                    span,
                    format!("this nests too deeply (more than {MAX_DEPTH} levels)"),
                    "too deep",
                    "split it into smaller expressions or functions",
                );
                self.gave_up = true;
            }
            self.pos = self.tokens.len().saturating_sub(1);
            return false;
        }
        true
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Skips to the end of the current statement: a newline or `;` at this nesting
    /// (consumed), or a closer of the enclosing block (left for it).
    fn recover_stmt(&mut self) {
        let mut nesting = 0u32;
        let start = self.pos;
        loop {
            if nesting == 0 && self.pos > start && self.at_hidden_line_start() {
                return;
            }
            match self.peek() {
                T::Eof => return,
                T::Newline | T::Semi if nesting == 0 => {
                    self.bump();
                    return;
                }
                T::RBrace | T::MarkupRBrace | T::RParen | T::RBracket if nesting == 0 => return,
                T::LBrace | T::LParen | T::LBracket | T::MarkupLBrace | T::InterpStart => {
                    nesting += 1;
                    self.bump();
                }
                T::RBrace | T::RParen | T::RBracket | T::MarkupRBrace | T::InterpEnd => {
                    nesting = nesting.saturating_sub(1);
                    self.bump();
                }
                _ => {
                    self.bump();
                }
            }
        }
    }

    /// Recovers to the end of the statement, stepping over at least one token so a loop
    /// that calls it always moves on.
    fn recover_or_step(&mut self) {
        let before = self.pos;
        self.recover_stmt();
        if self.pos == before {
            self.bump();
        }
    }

    fn name(&mut self, what: &str) -> Option<Name> {
        if self.peek() == T::Ident {
            let span = self.bump();
            Some(Name {
                sym: Symbol::intern(self.text(span)),
                span,
            })
        } else {
            self.error_expected(what);
            None
        }
    }

    /// A name where keywords are plain names too (record keys, named arguments).
    fn name_or_keyword(&mut self, what: &str) -> Option<Name> {
        if self.peek() == T::Ident || self.peek().is_keyword() {
            let span = self.bump();
            Some(Name {
                sym: Symbol::intern(self.text(span)),
                span,
            })
        } else {
            self.error_expected(what);
            None
        }
    }

    fn error_name(&self) -> Name {
        Name {
            sym: Symbol::intern(""),
            span: Span::empty(self.prev_end()),
        }
    }

    // ------------------------------------------------------------ statements

    /// Statements up to `end` (not consumed).
    fn stmts_until(&mut self, end: T, ctx: Ctx) -> Vec<Stmt> {
        let mut stmts = Vec::new();
        loop {
            while matches!(self.peek(), T::Newline | T::Semi) {
                self.bump();
            }
            let kind = self.peek();
            if kind == end || kind == T::Eof {
                break;
            }
            if end == T::RBrace && kind == T::MarkupRBrace
                || end == T::MarkupRBrace && kind == T::RBrace
            {
                break;
            }
            let before = self.pos;
            let stmt = self.stmt(ctx);
            stmts.push(stmt);
            if self.pos == before {
                // Nothing could start here: report it once and step over it.
                self.error_expected("a statement");
                self.bump();
            }
        }
        stmts
    }

    /// `{ stmts }`
    fn block(&mut self) -> Block {
        let open = self.span();
        if !self.eat(T::LBrace) {
            self.error_expected("`{`");
            return Block {
                stmts: Vec::new(),
                span: Span::empty(self.prev_end()),
            };
        }
        if !self.enter() {
            return Block {
                stmts: Vec::new(),
                span: open,
            };
        }
        let stmts = self.stmts_until(T::RBrace, Ctx::Nested);
        self.leave();
        let end = self.span();
        if !self.eat(T::RBrace) {
            self.unclosed(open, "`{`", "}");
        }
        Block {
            stmts,
            span: open.to(end),
        }
    }

    fn end_stmt(&mut self) {
        if matches!(self.peek(), T::RParen | T::RBracket) && !self.newline_before() {
            self.stray_closer();
        }
        match self.peek() {
            T::Newline | T::Semi => {
                self.bump();
            }
            T::RBrace | T::MarkupRBrace | T::Eof => {}
            _ => {
                self.error_expected("a new line or `;` after the statement");
                self.recover_stmt();
            }
        }
    }

    /// Whether the error recovery should treat the current token as the start of a new
    /// line: the lexer hides line breaks inside brackets, including ones left open.
    fn at_hidden_line_start(&self) -> bool {
        self.newline_before() && !matches!(self.peek(), T::RParen | T::RBracket | T::RBrace)
    }

    fn stmt(&mut self, ctx: Ctx) -> Stmt {
        let start = self.span();
        if !self.enter() {
            return Stmt {
                kind: StmtKind::Error,
                span: start,
            };
        }
        let kind = self.stmt_kind(ctx, start);
        self.leave();
        let end = self.content_end().max(start.start);
        Stmt {
            kind,
            span: Span::new(start.start, end),
        }
    }

    /// A `}`, `)` or `]` that closes nothing: reported and skipped.
    fn stray_closer(&mut self) {
        let span = self.bump();
        let what = self.text(span).to_string();
        self.error_help(
            "E0114",
            span,
            format!("unexpected `{what}`"),
            "nothing to close here",
            "remove it, or check the brackets before it",
        );
    }

    fn top_level_only(&mut self, ctx: Ctx, span: Span, what: &str) {
        if ctx != Ctx::TopLevel {
            self.error_help(
                "E0140",
                span,
                format!("{what} must stand at the top level of a file"),
                "not allowed inside a block",
                format!("move the {what} out of the enclosing block"),
            );
        }
    }

    fn stmt_kind(&mut self, ctx: Ctx, start: Span) -> StmtKind {
        let kind = match self.peek() {
            T::Fn if self.nth(1) == T::Ident => {
                self.top_level_only(ctx, start, "function declaration");
                return self.fn_decl();
            }
            T::Entity => {
                self.top_level_only(ctx, start, "entity declaration");
                return self.entity_decl();
            }
            T::Enum => {
                self.top_level_only(ctx, start, "enum declaration");
                return self.enum_decl();
            }
            T::Type => {
                self.top_level_only(ctx, start, "type declaration");
                self.bump();
                let name = self
                    .name("a type name")
                    .unwrap_or_else(|| self.error_name());
                self.expect(T::Eq, "`=`");
                let ty = self.ty();
                StmtKind::TypeAlias { name, ty }
            }
            T::Test => {
                self.top_level_only(ctx, start, "test block");
                self.bump();
                let name = self.text_expected("the test's name in quotes");
                let body = self.block();
                return StmtKind::Test { name, body };
            }
            T::If => return self.if_stmt(),
            T::For => return self.for_stmt(),
            T::While => {
                self.bump();
                let cond = self.cond_expr();
                let body = self.block();
                return StmtKind::While { cond, body };
            }
            T::Break => {
                self.bump();
                StmtKind::Break
            }
            T::Continue => {
                self.bump();
                StmtKind::Continue
            }
            T::Return => {
                self.bump();
                let value = if matches!(
                    self.peek(),
                    T::Newline | T::Semi | T::RBrace | T::MarkupRBrace | T::Eof
                ) {
                    None
                } else {
                    Some(self.expr())
                };
                StmtKind::Return(value)
            }
            T::Save | T::Delete | T::Restore | T::Destroy => {
                let op = match self.peek() {
                    T::Save => PersistOp::Save,
                    T::Delete => PersistOp::Delete,
                    T::Restore => PersistOp::Restore,
                    _ => PersistOp::Destroy,
                };
                self.bump();
                StmtKind::Persist {
                    op,
                    target: self.expr(),
                }
            }
            T::Transaction => {
                self.bump();
                return StmtKind::Transaction(self.block());
            }
            T::Assert => {
                self.bump();
                StmtKind::Assert(self.expr())
            }
            T::LBrace => {
                if self.brace_opens_record() {
                    return self.expr_stmt();
                }
                return StmtKind::Block(self.block());
            }
            T::TagStart | T::CloseTagStart | T::MarkupLBrace => {
                self.top_level_only(ctx, start, "markup");
                let node = self.markup_node();
                return match node {
                    Some(node) => StmtKind::Markup(node),
                    None => StmtKind::Error,
                };
            }
            T::MarkupText | T::RawText => {
                self.bump();
                return StmtKind::Error;
            }
            T::RBrace | T::RParen | T::RBracket | T::MarkupRBrace => {
                self.stray_closer();
                return StmtKind::Error;
            }
            T::Ident => match self.soft_stmt(ctx, start) {
                Some(kind) => return kind,
                None => return self.expr_stmt(),
            },
            _ => return self.expr_stmt(),
        };
        self.end_stmt();
        kind
    }

    /// Statements introduced by soft keywords; `None` when the name is an ordinary one.
    fn soft_stmt(&mut self, ctx: Ctx, start: Span) -> Option<StmtKind> {
        let word = self.nth_text(0);
        let next = self.nth(1);
        let kind = match (word, next) {
            ("route", T::Ident) => {
                self.top_level_only(ctx, start, "route block");
                self.bump();
                let method_span = self.bump();
                let method_text = self.text(method_span);
                let method = match Method::parse(method_text) {
                    Some(method) => method,
                    None => {
                        self.error_help(
                            "E0130",
                            method_span,
                            format!("unknown HTTP method `{method_text}`"),
                            "not a method",
                            "write one of GET, POST, PUT, PATCH, DELETE",
                        );
                        Method::Get
                    }
                };
                let body = self.block();
                return Some(StmtKind::Route {
                    method,
                    method_span,
                    body,
                });
            }
            ("validate", T::LBrace) => {
                self.bump();
                return Some(StmtKind::Validate(self.field_list("validate block")));
            }
            ("middleware", T::LBrace) => {
                self.top_level_only(ctx, start, "middleware block");
                self.bump();
                return Some(StmtKind::Middleware(self.block()));
            }
            ("guard", T::Ident) => {
                self.bump();
                let name = self
                    .name("a guard name")
                    .unwrap_or_else(|| self.error_name());
                let args = if self.peek() == T::LParen {
                    Some(self.call_args())
                } else {
                    None
                };
                StmtKind::Guard(Guard { name, args })
            }
            ("guard_definition", T::Ident) => {
                self.top_level_only(ctx, start, "guard definition");
                self.bump();
                let name = self
                    .name("a guard name")
                    .unwrap_or_else(|| self.error_name());
                let params = if self.peek() == T::LParen {
                    self.params()
                } else {
                    Vec::new()
                };
                let body = self.block();
                return Some(StmtKind::GuardDefinition { name, params, body });
            }
            ("layout", T::StrStart) => {
                self.top_level_only(ctx, start, "layout choice");
                self.bump();
                StmtKind::Layout(Some(self.text_lit()))
            }
            ("layout", T::None) => {
                self.top_level_only(ctx, start, "layout choice");
                self.bump();
                self.bump();
                StmtKind::Layout(None)
            }
            ("ws", T::LBrace) => {
                self.top_level_only(ctx, start, "ws block");
                self.bump();
                return Some(self.ws_block());
            }
            ("every", kind) if starts_operand(kind) => {
                self.top_level_only(ctx, start, "scheduled job");
                self.bump();
                let interval = self.cond_expr();
                let at = if self.at_soft("at") {
                    self.bump();
                    Some(self.text_expected("a time of day in quotes, as \"03:30\""))
                } else {
                    None
                };
                let body = self.block();
                return Some(StmtKind::Every { interval, at, body });
            }
            ("cron", T::StrStart) => {
                self.top_level_only(ctx, start, "scheduled job");
                self.bump();
                let schedule = self.text_lit();
                let body = self.block();
                return Some(StmtKind::Cron { schedule, body });
            }
            ("on_mount" | "on_unmount", T::LBrace) => {
                let event = if word == "on_mount" {
                    Lifecycle::Mount
                } else {
                    Lifecycle::Unmount
                };
                self.bump();
                return Some(StmtKind::Lifecycle {
                    event,
                    body: self.block(),
                });
            }
            (_, T::Colon) => {
                // `x: T = e`
                let name = self.name("a name")?;
                self.bump();
                let ty = self.ty();
                let target = Expr {
                    kind: ExprKind::Name(name),
                    span: name.span,
                };
                if !self.expect(T::Eq, "`=` and a value") {
                    self.recover_stmt();
                    return Some(StmtKind::Error);
                }
                let value = self.expr();
                StmtKind::Assign(Assign {
                    target,
                    ty: Some(ty),
                    op: AssignOp::Set,
                    value,
                })
            }
            _ => return None,
        };
        self.end_stmt();
        Some(kind)
    }

    /// An expression statement, possibly an assignment or `x++`.
    fn expr_stmt(&mut self) -> StmtKind {
        let expr = self.expr();
        let op = match self.peek() {
            T::Eq => Some(AssignOp::Set),
            T::PlusEq => Some(AssignOp::Add),
            T::MinusEq => Some(AssignOp::Sub),
            T::StarEq => Some(AssignOp::Mul),
            T::SlashEq => Some(AssignOp::Div),
            _ => None,
        };
        let kind = if let Some(op) = op {
            self.bump();
            self.check_assignable(&expr);
            let value = self.expr();
            StmtKind::Assign(Assign {
                target: expr,
                ty: None,
                op,
                value,
            })
        } else if matches!(self.peek(), T::PlusPlus | T::MinusMinus) {
            let op = if self.peek() == T::PlusPlus {
                StepOp::Increment
            } else {
                StepOp::Decrement
            };
            self.bump();
            self.check_assignable(&expr);
            StmtKind::Step { target: expr, op }
        } else {
            StmtKind::Expr(expr)
        };
        self.end_stmt();
        kind
    }

    fn check_assignable(&mut self, target: &Expr) {
        let ok = matches!(
            target.kind,
            ExprKind::Name(_)
                | ExprKind::Member {
                    optional: false,
                    ..
                }
                | ExprKind::Index { .. }
                | ExprKind::Error
        );
        if !ok {
            self.error_help(
                "E0113",
                target.span,
                "cannot assign to this expression",
                "not a variable, field or element",
                "assign to a name (`x = …`), a field (`a.b = …`) or an element (`xs[i] = …`)",
            );
        }
    }

    fn if_stmt(&mut self) -> StmtKind {
        let start = self.span();
        self.bump();
        let cond = self.cond_expr();
        if self.at_soft("then") {
            // `if c then a else b` used as a statement: an expression.
            let value = self.if_then_rest(start, cond);
            return self.finish_expr_stmt(value);
        }
        StmtKind::If(self.if_rest(cond))
    }

    fn finish_expr_stmt(&mut self, expr: Expr) -> StmtKind {
        let expr = self.expr_continue(expr, 0);
        self.end_stmt();
        StmtKind::Expr(expr)
    }

    /// After `if cond`: the block and any `else` branches.
    fn if_rest(&mut self, cond: Expr) -> If {
        let then_block = self.block();
        // `}` and `else` may stand on different lines.
        let checkpoint = self.checkpoint();
        self.skip_newlines();
        if self.peek() != T::Else {
            self.rewind(checkpoint);
            return If {
                cond,
                then_block,
                else_branch: None,
            };
        }
        self.bump();
        let else_branch = if self.peek() == T::If {
            let start = self.span();
            self.bump();
            if !self.enter() {
                return If {
                    cond,
                    then_block,
                    else_branch: None,
                };
            }
            let inner_cond = self.cond_expr();
            let inner = self.if_rest(inner_cond);
            self.leave();
            Some(Else::If(Box::new(inner), start.to(self.prev_span())))
        } else {
            Some(Else::Block(self.block()))
        };
        If {
            cond,
            then_block,
            else_branch,
        }
    }

    fn for_stmt(&mut self) -> StmtKind {
        self.bump();
        let item = self
            .name("a name for each item")
            .unwrap_or_else(|| self.error_name());
        let index = if self.eat(T::Comma) {
            self.name("a name for the index")
        } else {
            None
        };
        if !self.expect(T::In, "`in`") {
            self.recover_stmt();
            return StmtKind::Error;
        }
        let iter = self.cond_expr();
        let body = self.block();
        StmtKind::For(For {
            item,
            index,
            iter,
            body,
        })
    }

    /// A condition: an expression where `Name {` opens the block that follows.
    fn cond_expr(&mut self) -> Expr {
        let saved = self.no_entity_literal;
        self.no_entity_literal = true;
        let expr = self.expr();
        self.no_entity_literal = saved;
        expr
    }

    // ------------------------------------------------------------ declarations

    fn fn_decl(&mut self) -> StmtKind {
        self.bump();
        let name = self
            .name("a function name")
            .unwrap_or_else(|| self.error_name());
        let mut generics = Vec::new();
        if self.eat(T::Lt) {
            loop {
                if let Some(generic) = self.name("a type parameter") {
                    generics.push(generic);
                }
                if !self.eat(T::Comma) {
                    break;
                }
            }
            self.expect(T::Gt, "`>`");
        }
        let params = if self.peek() == T::LParen {
            self.params()
        } else {
            self.error_expected("`(` and the parameters");
            Vec::new()
        };
        let ret = if self.eat(T::Arrow) {
            Some(self.ty())
        } else {
            None
        };
        let body = self.block();
        StmtKind::Fn(FnDecl {
            name,
            generics,
            params,
            ret,
            body,
        })
    }

    /// `(a: T = default, b)`
    fn params(&mut self) -> Vec<Param> {
        let open = self.bump();
        let mut params = Vec::new();
        loop {
            if self.peek() == T::RParen || self.peek() == T::Eof {
                break;
            }
            let start = self.span();
            let Some(name) = self.name("a parameter name") else {
                break;
            };
            let ty = if self.eat(T::Colon) {
                Some(self.ty())
            } else {
                None
            };
            let default = if self.eat(T::Eq) {
                Some(self.expr())
            } else {
                None
            };
            params.push(Param {
                name,
                ty,
                default,
                span: start.to(self.prev_span()),
            });
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.close_list(open, T::RParen);
        params
    }

    /// Expects the closer of a list opened at `open`. At the end of a line or of the file
    /// the opener was left open: say so there. Otherwise something unexpected stands in
    /// the list: report it and skip to the closer.
    fn close_list(&mut self, open: Span, closer: T) {
        if self.eat(closer) {
            return;
        }
        let (opener, closer_text) = match closer {
            T::RParen => ("`(`", ")"),
            T::RBracket => ("`[`", "]"),
            _ => ("`{`", "}"),
        };
        if matches!(self.peek(), T::Eof | T::Newline) || self.newline_before() {
            if self.last_error_at != Some(self.pos) {
                self.unclosed(open, opener, closer_text);
            }
        } else {
            self.error_expected(&format!("`,` or `{closer_text}`"));
            self.skip_to_close(closer);
        }
    }

    /// Skips to and past `closer` (at this nesting), for recovery inside a list.
    fn skip_to_close(&mut self, closer: T) {
        let mut nesting = 0u32;
        loop {
            let kind = self.peek();
            if kind == T::Eof {
                return;
            }
            if nesting == 0 && kind == closer {
                self.bump();
                return;
            }
            if nesting == 0 && matches!(kind, T::RBrace | T::Newline) && closer != T::RBrace {
                return;
            }
            match kind {
                T::LParen | T::LBracket | T::LBrace => nesting += 1,
                T::RParen | T::RBracket | T::RBrace => nesting = nesting.saturating_sub(1),
                _ => {}
            }
            self.bump();
        }
    }

    fn entity_decl(&mut self) -> StmtKind {
        self.bump();
        let name = self
            .name("an entity name")
            .unwrap_or_else(|| self.error_name());
        if self.peek() != T::LBrace {
            self.error_expected("`{` and the entity's fields");
            self.recover_stmt();
            return StmtKind::Entity(EntityDecl {
                name,
                fields: Vec::new(),
            });
        }
        let fields = self.field_list("entity");
        StmtKind::Entity(EntityDecl { name, fields })
    }

    /// `{ name: Type @decorator… = default … }`, one field per line or `;`.
    fn field_list(&mut self, what: &str) -> Vec<Field> {
        let open = self.bump();
        let mut fields = Vec::new();
        loop {
            self.skip_separators();
            match self.peek() {
                T::RBrace => {
                    self.bump();
                    break;
                }
                T::Eof => {
                    self.unclosed(open, &format!("{what} `{{`"), "}");
                    break;
                }
                _ => {}
            }
            let before = self.pos;
            if let Some(field) = self.field() {
                fields.push(field);
            }
            match self.peek() {
                T::Newline | T::Semi | T::Comma | T::RBrace | T::Eof => {}
                _ => {
                    self.error_expected("a new line after the field");
                    self.recover_stmt();
                }
            }
            if self.pos == before {
                self.bump();
            }
        }
        fields
    }

    fn field(&mut self) -> Option<Field> {
        let start = self.span();
        let name = self.name_or_keyword("a field name")?;
        if !self.expect(T::Colon, "`:` and the field's type") {
            self.recover_stmt();
            return None;
        }
        let ty = self.ty();
        let decorators = self.decorators();
        let default = if self.eat(T::Eq) {
            Some(self.expr())
        } else {
            None
        };
        Some(Field {
            name,
            ty,
            decorators,
            default,
            span: start.to(self.prev_span()),
        })
    }

    fn decorators(&mut self) -> Vec<Decorator> {
        let mut decorators = Vec::new();
        while self.peek() == T::At {
            let start = self.bump();
            let Some(name) = self.name("a decorator name after `@`") else {
                break;
            };
            let args = if self.peek() == T::LParen {
                self.call_args().into_iter().map(|arg| arg.value).collect()
            } else {
                Vec::new()
            };
            decorators.push(Decorator {
                name,
                args,
                span: start.to(self.prev_span()),
            });
        }
        decorators
    }

    fn enum_decl(&mut self) -> StmtKind {
        self.bump();
        let name = self
            .name("an enum name")
            .unwrap_or_else(|| self.error_name());
        let open = self.span();
        if !self.eat(T::LBrace) {
            self.error_expected("`{` and the enum's variants");
            self.recover_stmt();
            return StmtKind::Enum(EnumDecl {
                name,
                variants: Vec::new(),
            });
        }
        let mut variants = Vec::new();
        loop {
            self.skip_separators();
            match self.peek() {
                T::RBrace => {
                    self.bump();
                    break;
                }
                T::Eof => {
                    self.unclosed(open, "enum `{`", "}");
                    break;
                }
                T::Ident => {
                    let start = self.span();
                    let Some(variant) = self.name("a variant name") else {
                        break;
                    };
                    let mut payload = Vec::new();
                    if self.eat(T::LParen) {
                        loop {
                            if self.peek() == T::RParen {
                                break;
                            }
                            payload.push(self.ty());
                            if !self.eat(T::Comma) {
                                break;
                            }
                        }
                        self.expect(T::RParen, "`)`");
                    }
                    variants.push(Variant {
                        name: variant,
                        payload,
                        span: start.to(self.prev_span()),
                    });
                }
                _ => {
                    self.error_expected("a variant name");
                    self.recover_or_step();
                }
            }
        }
        StmtKind::Enum(EnumDecl { name, variants })
    }

    fn ws_block(&mut self) -> StmtKind {
        let open = self.bump();
        let mut handlers = Vec::new();
        loop {
            self.skip_separators();
            match self.peek() {
                T::RBrace => {
                    self.bump();
                    break;
                }
                T::Eof => {
                    self.unclosed(open, "ws `{`", "}");
                    break;
                }
                _ if self.at_soft("on") => {
                    let start = self.bump();
                    let event = self
                        .name("an event name: connect, message or close")
                        .unwrap_or_else(|| self.error_name());
                    let param = if self.eat(T::LParen) {
                        let param = self.name("a name for the message");
                        self.expect(T::RParen, "`)`");
                        param
                    } else {
                        None
                    };
                    let body = self.block();
                    handlers.push(WsHandler {
                        event,
                        param,
                        body,
                        span: start.to(self.prev_span()),
                    });
                }
                _ => {
                    self.error_expected("`on connect`, `on message(msg)` or `on close`");
                    self.recover_or_step();
                }
            }
        }
        StmtKind::Ws(handlers)
    }

    // ------------------------------------------------------------ types

    fn ty(&mut self) -> Type {
        let start = self.span();
        if !self.enter() {
            return Type {
                kind: TypeKind::Error,
                span: start,
            };
        }
        let kind = match self.peek() {
            T::Ident if self.at_soft("semantic") && self.nth_is(1, "text") => {
                self.bump();
                self.bump();
                TypeKind::SemanticText
            }
            T::Ident => {
                let span = self.bump();
                let name = Name {
                    sym: Symbol::intern(self.text(span)),
                    span,
                };
                let mut args = Vec::new();
                if self.eat(T::Lt) {
                    loop {
                        args.push(self.ty());
                        if !self.eat(T::Comma) {
                            break;
                        }
                    }
                    self.expect(T::Gt, "`>`");
                }
                TypeKind::Named { name, args }
            }
            T::None => {
                let span = self.bump();
                TypeKind::Named {
                    name: Name {
                        sym: Symbol::intern("none"),
                        span,
                    },
                    args: Vec::new(),
                }
            }
            T::LBracket => {
                let open = self.bump();
                let first = self.ty();
                let kind = if self.eat(T::Colon) {
                    let value = self.ty();
                    TypeKind::Map(Box::new(first), Box::new(value))
                } else {
                    TypeKind::List(Box::new(first))
                };
                if !self.eat(T::RBracket) {
                    self.error_expected("`]`");
                    let _ = open;
                }
                kind
            }
            T::LBrace => {
                self.bump();
                let mut fields = Vec::new();
                loop {
                    self.skip_separators();
                    if matches!(self.peek(), T::RBrace | T::Eof) {
                        break;
                    }
                    let Some(name) = self.name_or_keyword("a field name") else {
                        break;
                    };
                    self.expect(T::Colon, "`:`");
                    fields.push((name, self.ty()));
                }
                self.expect(T::RBrace, "`}`");
                TypeKind::Record(fields)
            }
            T::LParen | T::Fn => {
                self.eat(T::Fn);
                let mut items = Vec::new();
                if self.expect(T::LParen, "`(`") {
                    loop {
                        if self.peek() == T::RParen || self.peek() == T::Eof {
                            break;
                        }
                        items.push(self.ty());
                        if !self.eat(T::Comma) {
                            break;
                        }
                    }
                    self.expect(T::RParen, "`)`");
                }
                if self.eat(T::Arrow) {
                    let ret = self.ty();
                    TypeKind::Function {
                        params: items,
                        ret: Box::new(ret),
                    }
                } else if items.len() == 1 {
                    match items.pop() {
                        Some(inner) => inner.kind,
                        None => TypeKind::Error,
                    }
                } else {
                    TypeKind::Tuple(items)
                }
            }
            _ => {
                self.error_expected("a type");
                TypeKind::Error
            }
        };
        let mut ty = Type {
            kind,
            span: start.to(self.prev_span()),
        };
        while self.peek() == T::Question {
            let end = self.bump();
            ty = Type {
                span: ty.span.to(end),
                kind: TypeKind::Optional(Box::new(ty)),
            };
        }
        self.leave();
        ty
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self) -> Expr {
        self.expr_bp(0)
    }

    fn error_expr(&self) -> Expr {
        Expr {
            kind: ExprKind::Error,
            span: Span::empty(self.prev_end()),
        }
    }

    fn expr_bp(&mut self, min_bp: u8) -> Expr {
        if !self.enter() {
            return self.error_expr();
        }
        let lhs = self.prefix();
        let expr = self.expr_continue(lhs, min_bp);
        self.leave();
        expr
    }

    /// The postfix and infix operators after an operand.
    fn expr_continue(&mut self, mut lhs: Expr, min_bp: u8) -> Expr {
        let entry_depth = self.depth;
        let mut last_level: Option<u8> = None;
        loop {
            lhs = self.postfix(lhs);
            let kind = self.peek();
            let Some((lbp, rbp)) = infix(kind) else { break };
            if lbp < min_bp {
                break;
            }
            if !self.enter() {
                break;
            }
            let op_span = self.bump();
            // `?` and `>` do not continue a line in the lexer (they end types); as
            // operators they do.
            if matches!(kind, T::Question | T::Gt) {
                self.skip_newlines();
            }
            if matches!(lbp, 10 | 12 | 14) {
                if last_level == Some(lbp) {
                    self.error_help(
                        "E0112",
                        op_span,
                        format!(
                            "`{}` cannot follow another operator of its level",
                            self.text(op_span)
                        ),
                        "chained here",
                        "add parentheses, or join the comparisons with `&&`",
                    );
                }
                last_level = Some(lbp);
            } else {
                last_level = None;
            }
            lhs = match kind {
                T::Question => {
                    let then_value = self.expr_bp(0);
                    self.skip_newlines_before(T::Colon);
                    self.expect(T::Colon, "`:` and the value when the condition is false");
                    let else_value = self.expr_bp(rbp);
                    let span = lhs.span.to(else_value.span);
                    Expr {
                        kind: ExprKind::Conditional {
                            cond: Box::new(lhs),
                            then_value: Box::new(then_value),
                            else_value: Box::new(else_value),
                        },
                        span,
                    }
                }
                T::Is => {
                    let ty = self.ty();
                    let span = lhs.span.to(ty.span);
                    Expr {
                        kind: ExprKind::Is {
                            value: Box::new(lhs),
                            ty,
                        },
                        span,
                    }
                }
                T::DotDot | T::DotDotEq => {
                    let end = self.expr_bp(rbp);
                    let span = lhs.span.to(end.span);
                    Expr {
                        kind: ExprKind::Range {
                            start: Box::new(lhs),
                            end: Box::new(end),
                            inclusive: kind == T::DotDotEq,
                        },
                        span,
                    }
                }
                _ => {
                    let rhs = self.expr_bp(rbp);
                    let span = lhs.span.to(rhs.span);
                    let op = binary_op(kind).unwrap_or(BinaryOp::Add);
                    Expr {
                        kind: ExprKind::Binary {
                            op,
                            lhs: Box::new(lhs),
                            rhs: Box::new(rhs),
                        },
                        span,
                    }
                }
            };
        }
        self.depth = entry_depth;
        lhs
    }

    /// Calls, members, indexes, slices and `@` after an operand.
    fn postfix(&mut self, mut expr: Expr) -> Expr {
        let entry_depth = self.depth;
        loop {
            let kind = self.peek();
            if !matches!(
                kind,
                T::LParen | T::Dot | T::QuestionDot | T::LBracket | T::At
            ) {
                break;
            }
            if !self.enter() {
                break;
            }
            expr = match kind {
                T::LParen => {
                    let args = self.call_args();
                    let span = expr.span.to(self.prev_span());
                    Expr {
                        kind: ExprKind::Call {
                            callee: Box::new(expr),
                            args,
                        },
                        span,
                    }
                }
                T::Dot | T::QuestionDot => {
                    self.bump();
                    let optional = kind == T::QuestionDot;
                    let member = if self.peek() == T::Int {
                        let span = self.bump();
                        match self.text(span).parse::<u32>() {
                            Ok(idx) => Member::Index(idx, span),
                            Err(_) => {
                                self.error(
                                    "E0105",
                                    span,
                                    "tuple index is too large",
                                    "not an index",
                                );
                                Member::Index(0, span)
                            }
                        }
                    } else if let Some(name) =
                        self.name_or_keyword("a field or method name after `.`")
                    {
                        Member::Named(name)
                    } else {
                        break;
                    };
                    let span = expr.span.to(self.prev_span());
                    Expr {
                        kind: ExprKind::Member {
                            object: Box::new(expr),
                            member,
                            optional,
                        },
                        span,
                    }
                }
                T::LBracket => self.index_or_slice(expr),
                _ => {
                    self.bump();
                    let at = self.expr_bp(PREFIX_BP);
                    let span = expr.span.to(at.span);
                    Expr {
                        kind: ExprKind::TimeTravel {
                            entity: Box::new(expr),
                            at: Box::new(at),
                        },
                        span,
                    }
                }
            };
        }
        self.depth = entry_depth;
        expr
    }

    fn index_or_slice(&mut self, object: Expr) -> Expr {
        let open = self.bump();
        let start = if self.peek() == T::Colon {
            None
        } else {
            Some(Box::new(self.expr()))
        };
        let kind = if self.eat(T::Colon) {
            let end = if self.peek() == T::RBracket {
                None
            } else {
                Some(Box::new(self.expr()))
            };
            ExprKind::Slice {
                object: Box::new(object),
                start,
                end,
            }
        } else {
            let index = start.unwrap_or_else(|| Box::new(self.error_expr()));
            ExprKind::Index {
                object: Box::new(object),
                index,
            }
        };
        self.close_list(open, T::RBracket);
        let span = match &kind {
            ExprKind::Slice { object, .. } | ExprKind::Index { object, .. } => {
                object.span.to(self.prev_span())
            }
            _ => open,
        };
        Expr { kind, span }
    }

    /// `(a, name: b)`
    /// `( … )` of a call: inside the parentheses an entity literal is unambiguous again
    /// (`match f(Book { … }) { … }`).
    fn call_args(&mut self) -> Vec<Arg> {
        let saved = self.no_entity_literal;
        self.no_entity_literal = false;
        let args = self.call_args_inner();
        self.no_entity_literal = saved;
        args
    }

    fn call_args_inner(&mut self) -> Vec<Arg> {
        let open = self.bump();
        let mut args = Vec::new();
        loop {
            if matches!(self.peek(), T::RParen | T::Eof) {
                break;
            }
            let name = if (self.peek() == T::Ident || self.peek().is_keyword())
                && self.nth(1) == T::Colon
            {
                let name = self.name_or_keyword("an argument name");
                self.bump();
                name
            } else {
                None
            };
            let before = self.pos;
            let value = self.expr();
            args.push(Arg { name, value });
            if self.pos == before || !self.list_separator(T::RParen) {
                break;
            }
        }
        self.close_list(open, T::RParen);
        args
    }

    fn prefix(&mut self) -> Expr {
        let start = self.span();
        let kind = match self.peek() {
            T::Int => {
                self.bump();
                ExprKind::Int(self.int_value(start, false))
            }
            T::Number => {
                self.bump();
                ExprKind::Number(self.number_value(start))
            }
            T::Money => {
                self.bump();
                self.money(start)
            }
            T::Duration => {
                self.bump();
                self.duration(start)
            }
            T::StrStart => ExprKind::Text(self.text_lit()),
            T::True => {
                self.bump();
                ExprKind::Bool(true)
            }
            T::False => {
                self.bump();
                ExprKind::Bool(false)
            }
            T::None => {
                self.bump();
                ExprKind::None
            }
            T::Ident => return self.ident_expr(),
            T::LParen => return self.paren_expr(),
            T::LBracket => self.list_or_map(),
            T::LBrace => self.record_or_map(),
            T::Minus => {
                self.bump();
                let postfix_follows = matches!(
                    self.nth(1),
                    T::Dot | T::QuestionDot | T::LParen | T::LBracket | T::At
                );
                if self.peek() == T::Int && !postfix_follows {
                    // `-9223372036854775808` fits even though its digits alone do not.
                    // Not when a postfix follows: `-2.abs` is `-(2.abs)`.
                    let span = self.bump();
                    ExprKind::Int(self.int_value(span, true))
                } else {
                    let operand = self.expr_bp(PREFIX_BP);
                    ExprKind::Unary {
                        op: UnaryOp::Neg,
                        operand: Box::new(operand),
                    }
                }
            }
            T::Bang => {
                self.bump();
                let operand = self.expr_bp(PREFIX_BP);
                ExprKind::Unary {
                    op: UnaryOp::Not,
                    operand: Box::new(operand),
                }
            }
            T::If => {
                self.bump();
                let cond = self.cond_expr();
                return self.if_then_rest(start, cond);
            }
            T::Match => return self.match_expr(),
            T::Try => {
                self.bump();
                let operand = self.expr_bp(TRY_BP);
                ExprKind::Try(Box::new(operand))
            }
            T::Fn => {
                self.bump();
                let params = if self.peek() == T::LParen {
                    self.params()
                } else {
                    self.error_expected("`(` and the parameters");
                    Vec::new()
                };
                let ret = if self.eat(T::Arrow) {
                    Some(self.ty())
                } else {
                    None
                };
                let body = self.block();
                let body = Expr {
                    span: body.span,
                    kind: ExprKind::Block(body),
                };
                ExprKind::Lambda(Box::new(Lambda { params, ret, body }))
            }
            T::TagStart | T::MarkupLBrace => {
                self.error_help(
                    "E0141",
                    start,
                    "markup cannot be used as a value",
                    "markup here",
                    "markup stands on its own at the top level of a page, component or layout",
                );
                // Parse it anyway so the rest of the file lines up.
                let _ = self.markup_node();
                ExprKind::Error
            }
            _ => {
                self.error_expected("an expression");
                if !matches!(
                    self.peek(),
                    T::Newline
                        | T::Semi
                        | T::RBrace
                        | T::RParen
                        | T::RBracket
                        | T::MarkupRBrace
                        | T::Comma
                        | T::Eof
                        | T::InterpEnd
                ) {
                    self.bump();
                }
                ExprKind::Error
            }
        };
        Expr {
            kind,
            span: start.to(self.prev_span()),
        }
    }

    fn int_value(&mut self, span: Span, negative: bool) -> i64 {
        let written = self.text(span);
        // Letters after the digits (`12px`) were reported by the lexer.
        let digits_end = written
            .char_indices()
            .skip(2)
            .find(|(_, c)| !c.is_ascii_hexdigit() && *c != '_')
            .map_or(written.len(), |(idx, _)| idx);
        let written = written.get(..digits_end).unwrap_or(written);
        let written = if written.starts_with("0x")
            || written.starts_with("0X")
            || written.starts_with("0b")
            || written.starts_with("0B")
        {
            written
        } else {
            let end = written
                .find(|c: char| !c.is_ascii_digit() && c != '_')
                .unwrap_or(written.len());
            written.get(..end).unwrap_or(written)
        };
        let text: String = written.chars().filter(|c| *c != '_').collect();
        let parsed = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))
        {
            u64::from_str_radix(hex, 16).ok()
        } else if let Some(bin) = text.strip_prefix("0b").or_else(|| text.strip_prefix("0B")) {
            u64::from_str_radix(bin, 2).ok()
        } else {
            text.parse::<u64>().ok()
        };
        let value = parsed.and_then(|magnitude| {
            if negative {
                0i64.checked_sub_unsigned(magnitude)
            } else {
                i64::try_from(magnitude).ok()
            }
        });
        match value {
            Some(value) => value,
            None => {
                if !text.is_empty() && text != "0x" && text != "0b" {
                    self.error_help(
                        "E0105",
                        span,
                        "integer literal does not fit in an int",
                        "larger than 64 bits",
                        "ints are 64-bit signed, from -9223372036854775808 to 9223372036854775807; write a number (`1e20`) for larger values",
                    );
                }
                0
            }
        }
    }

    fn number_value(&mut self, span: Span) -> f64 {
        let text: String = self.text(span).chars().filter(|c| *c != '_').collect();
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => value,
            _ => {
                self.error(
                    "E0105",
                    span,
                    "number literal does not fit in a number",
                    "too large for a 64-bit float",
                );
                0.0
            }
        }
    }

    /// `12.50 EUR` → amount in minor units.
    fn money(&mut self, span: Span) -> ExprKind {
        let text = self.text(span);
        let mut words = text.split_whitespace();
        let amount = words.next().unwrap_or("0");
        let code = words.next().unwrap_or("");
        let currency = currency::canonical(code).unwrap_or("XOF");
        let digits = currency::minor_digits(currency).unwrap_or(0) as usize;
        let amount_clean: String = amount.chars().filter(|c| *c != '_').collect();
        let (whole, frac) = amount_clean.split_once('.').unwrap_or((&amount_clean, ""));
        if frac.len() > digits {
            self.error_help(
                "E0105",
                span,
                format!(
                    "`{currency}` has {digits} decimal places, this amount has {}",
                    frac.len()
                ),
                "too precise",
                format!("round it to {digits} decimal places"),
            );
        }
        let mut frac_digits: String = frac.chars().take(digits).collect();
        while frac_digits.len() < digits {
            frac_digits.push('0');
        }
        let minor = format!("{whole}{frac_digits}").parse::<i64>().ok();
        let minor = match minor {
            Some(minor) if !amount_clean.contains(['e', 'E']) => minor,
            _ => {
                self.error(
                    "E0105",
                    span,
                    "money amount does not fit",
                    "write the amount as plain digits, at most 18 of them",
                );
                0
            }
        };
        ExprKind::Money {
            minor,
            currency: Symbol::intern(currency),
        }
    }

    /// `1.5.hours` → microseconds.
    fn duration(&mut self, span: Span) -> ExprKind {
        let text = self.text(span);
        let (amount, unit_word) = text.rsplit_once('.').unwrap_or((text, "seconds"));
        let unit = duration_unit(unit_word).unwrap_or(lexer::DurationUnit::Seconds);
        let amount_clean: String = amount.chars().filter(|c| *c != '_').collect();
        let micros_per_unit = unit.seconds() as f64 * 1e6;
        let micros = amount_clean
            .parse::<f64>()
            .ok()
            .map(|value| value * micros_per_unit);
        let micros = match micros {
            Some(value) if value.is_finite() && value.abs() < 9.2e18 => value.round() as i64,
            _ => {
                self.error("E0105", span, "duration literal does not fit", "too long");
                0
            }
        };
        ExprKind::Duration { micros, unit }
    }

    fn ident_expr(&mut self) -> Expr {
        let start = self.span();
        let word = self.nth_text(0);
        let next = self.nth(1);
        if next == T::FatArrow {
            let name = self
                .name("a parameter")
                .unwrap_or_else(|| self.error_name());
            let param = Param {
                name,
                ty: None,
                default: None,
                span: name.span,
            };
            return self.lambda_rest(start, vec![param]);
        }
        if word == "search" && (starts_operand(next) || self.parenthesised_search()) {
            return self.search_expr();
        }
        if word == "response" && next == T::LBrace {
            self.bump();
            let open = self.span();
            let fields = match self.record_or_map() {
                ExprKind::Record(fields) => fields,
                ExprKind::Error => Vec::new(),
                _ => {
                    self.error(
                        "E0110",
                        open,
                        "expected `response { status: …, body: … }`",
                        "fields by name",
                    );
                    Vec::new()
                }
            };
            return Expr {
                kind: ExprKind::Response(fields),
                span: start.to(self.prev_span()),
            };
        }
        let name = self.name("a name").unwrap_or_else(|| self.error_name());
        let entity_like = word.as_bytes().first().is_some_and(u8::is_ascii_uppercase);
        if entity_like && next == T::LBrace && !self.no_entity_literal && self.brace_starts_fields()
        {
            let fields = match self.record_or_map() {
                ExprKind::Record(fields) => fields,
                _ => Vec::new(),
            };
            return Expr {
                kind: ExprKind::EntityLit {
                    entity: name,
                    fields,
                },
                span: start.to(self.prev_span()),
            };
        }
        Expr {
            kind: ExprKind::Name(name),
            span: name.span,
        }
    }

    /// At `search (`: whether the brackets hold a search's text (`search (q ?? "") in
    /// Note by body`) rather than the arguments of a function named `search`: after the
    /// closing bracket come `in`, a name and `by`.
    fn parenthesised_search(&self) -> bool {
        if self.nth(1) != T::LParen {
            return false;
        }
        let mut depth = 0usize;
        let mut at = 1;
        loop {
            match self.nth(at) {
                T::LParen | T::LBracket | T::LBrace => depth += 1,
                T::RParen | T::RBracket | T::RBrace => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                T::Eof => return false,
                _ => {}
            }
            at += 1;
        }
        self.nth(at + 1) == T::In && self.nth(at + 2) == T::Ident && self.nth_is(at + 3, "by")
    }

    /// At `{`: whether it is followed by `}` or `name:` (entity literal shape).
    fn brace_starts_fields(&self) -> bool {
        let mut at = 1;
        while self.nth(at) == T::Newline {
            at += 1;
        }
        match self.nth(at) {
            T::RBrace => true,
            kind if kind == T::Ident || kind.is_keyword() => self.nth(at + 1) == T::Colon,
            _ => false,
        }
    }

    /// At `{` starting a statement (or a lambda or arm body): whether it opens a record
    /// or map literal rather than a block. It does when its first entry is `name: value`
    /// or `"key": value` followed by `,`, a newline or `}` (language.md §14).
    fn brace_opens_record(&mut self) -> bool {
        if let Some(known) = self.brace_is_record.get(&self.pos) {
            return *known;
        }
        let brace_at = self.pos;
        let mut at = 1;
        while self.nth(at) == T::Newline {
            at += 1;
        }
        let key = self.nth(at);
        let plausible = (key == T::Ident || key.is_keyword()) && self.nth(at + 1) == T::Colon
            || key == T::StrStart;
        let answer = plausible && {
            let checkpoint = self.checkpoint();
            self.bump();
            self.skip_newlines();
            let key_ok = if self.peek() == T::StrStart {
                self.text_lit();
                true
            } else {
                self.bump();
                true
            };
            let shaped = key_ok && self.eat(T::Colon) && {
                self.expr();
                matches!(self.peek(), T::Comma | T::Newline | T::RBrace)
            };
            self.rewind(checkpoint);
            shaped
        };
        self.brace_is_record.insert(brace_at, answer);
        answer
    }

    /// A `{` used as a value after `=>` or `->`: a record when shaped like one, else a block.
    fn brace_value(&mut self) -> Expr {
        if self.brace_opens_record() {
            let start = self.span();
            let kind = self.record_or_map();
            return Expr {
                kind,
                span: start.to(self.prev_span()),
            };
        }
        let block = self.block();
        Expr {
            span: block.span,
            kind: ExprKind::Block(block),
        }
    }

    fn lambda_rest(&mut self, start: Span, params: Vec<Param>) -> Expr {
        self.expect(T::FatArrow, "`=>`");
        let body = if self.peek() == T::LBrace {
            self.brace_value()
        } else {
            self.expr()
        };
        let span = start.to(body.span);
        Expr {
            kind: ExprKind::Lambda(Box::new(Lambda {
                params,
                ret: None,
                body,
            })),
            span,
        }
    }

    fn paren_expr(&mut self) -> Expr {
        let start = self.span();
        let is_lambda = self.paren_close.get(&self.pos).is_some_and(|close| {
            self.tokens
                .get(close + 1)
                .is_some_and(|t| t.kind == T::FatArrow)
        });
        if is_lambda {
            let params = self.params();
            return self.lambda_rest(start, params);
        }
        self.bump();
        if self.peek() == T::RParen {
            let end = self.bump();
            self.error_help(
                "E0110",
                start.to(end),
                "expected an expression, found `()`",
                "empty parentheses",
                "`()` only starts a lambda without parameters: `() => value`",
            );
            return Expr {
                kind: ExprKind::Error,
                span: start.to(end),
            };
        }
        let saved = self.no_entity_literal;
        self.no_entity_literal = false;
        let first = self.expr();
        let mut items = vec![first];
        let mut tuple = false;
        while self.list_separator(T::RParen) {
            tuple = true;
            if self.peek() == T::RParen {
                break;
            }
            let before = self.pos;
            items.push(self.expr());
            if self.pos == before {
                break;
            }
        }
        self.no_entity_literal = saved;
        self.close_list(start, T::RParen);
        let span = start.to(self.prev_span());
        if tuple {
            return Expr {
                kind: ExprKind::Tuple(items),
                span,
            };
        }
        match items.pop() {
            Some(inner) => Expr {
                kind: inner.kind,
                span,
            },
            None => Expr {
                kind: ExprKind::Error,
                span,
            },
        }
    }

    /// `[a, b]`, `[:]`, or `["k": v]` is not FLIN: maps use braces.
    fn list_or_map(&mut self) -> ExprKind {
        let open = self.bump();
        if self.peek() == T::Colon && self.nth(1) == T::RBracket {
            self.bump();
            self.bump();
            return ExprKind::Map(Vec::new());
        }
        let saved = self.no_entity_literal;
        self.no_entity_literal = false;
        let mut items = Vec::new();
        loop {
            if matches!(self.peek(), T::RBracket | T::Eof) {
                break;
            }
            let before = self.pos;
            items.push(self.expr());
            if self.pos == before || !self.list_separator(T::RBracket) {
                break;
            }
        }
        self.no_entity_literal = saved;
        self.close_list(open, T::RBracket);
        ExprKind::List(items)
    }

    /// `{ name: v, … }` (record), `{ "k": v, … }` (map), `{}` (empty record).
    fn record_or_map(&mut self) -> ExprKind {
        let open = self.bump();
        let saved = self.no_entity_literal;
        self.no_entity_literal = false;
        let mut record: Vec<(Name, Expr)> = Vec::new();
        let mut map: Vec<(Expr, Expr)> = Vec::new();
        loop {
            self.skip_separators();
            if matches!(self.peek(), T::RBrace | T::Eof) {
                break;
            }
            let before = self.pos;
            let is_field =
                (self.peek() == T::Ident || self.peek().is_keyword()) && self.nth(1) == T::Colon;
            if is_field {
                let Some(name) = self.name_or_keyword("a field name") else {
                    break;
                };
                self.bump();
                let value = self.expr();
                if !map.is_empty() {
                    self.mixed_literal(name.span);
                }
                record.push((name, value));
            } else {
                let key = self.expr();
                if !self.expect(T::Colon, "`:` after the key") {
                    self.skip_to_close(T::RBrace);
                    self.no_entity_literal = saved;
                    return ExprKind::Error;
                }
                let value = self.expr();
                if !record.is_empty() {
                    self.mixed_literal(key.span);
                }
                map.push((key, value));
            }
            if !matches!(self.peek(), T::Comma | T::Newline | T::RBrace) {
                self.error_expected("`,`, a new line or `}`");
                self.skip_to_close(T::RBrace);
                self.no_entity_literal = saved;
                return if map.is_empty() {
                    ExprKind::Record(record)
                } else {
                    ExprKind::Map(map)
                };
            }
            if self.pos == before {
                break;
            }
        }
        self.no_entity_literal = saved;
        if !self.eat(T::RBrace) {
            self.unclosed(open, "`{`", "}");
        }
        if map.is_empty() {
            ExprKind::Record(record)
        } else {
            ExprKind::Map(map)
        }
    }

    fn mixed_literal(&mut self, span: Span) {
        self.error_help(
            "E0116",
            span,
            "a literal cannot mix record fields and map keys",
            "this entry is of the other kind",
            "records use names (`{ name: \"Ada\" }`); maps use values as keys (`{ \"a\": 1 }`)",
        );
    }

    /// After `if cond`: `then a else b`.
    fn if_then_rest(&mut self, start: Span, cond: Expr) -> Expr {
        if !self.at_soft("then") {
            self.error_help(
                "E0110",
                self.span(),
                "expected `then` in an `if` expression",
                "expected `then`",
                "as a value, write `if c then a else b` or `c ? a : b`",
            );
            return Expr {
                kind: ExprKind::Error,
                span: start.to(self.prev_span()),
            };
        }
        self.bump();
        let then_value = self.expr_bp(4);
        self.skip_newlines_before(T::Else);
        let else_value = if self.expect(T::Else, "`else` and the other value") {
            self.expr_bp(4)
        } else {
            self.error_expr()
        };
        let span = start.to(else_value.span);
        Expr {
            kind: ExprKind::Conditional {
                cond: Box::new(cond),
                then_value: Box::new(then_value),
                else_value: Box::new(else_value),
            },
            span,
        }
    }

    fn skip_newlines_before(&mut self, kind: T) {
        let mut at = 0;
        while self.nth(at) == T::Newline {
            at += 1;
        }
        if at > 0 && self.nth(at) == kind {
            self.pos += at;
        }
    }

    fn match_expr(&mut self) -> Expr {
        let start = self.bump();
        let scrutinee = self.cond_expr();
        let open = self.span();
        if !self.eat(T::LBrace) {
            self.error_expected("`{` and the match arms");
            return Expr {
                kind: ExprKind::Match {
                    scrutinee: Box::new(scrutinee),
                    arms: Vec::new(),
                },
                span: start.to(self.prev_span()),
            };
        }
        let mut arms = Vec::new();
        loop {
            self.skip_separators();
            match self.peek() {
                T::RBrace => {
                    self.bump();
                    break;
                }
                T::Eof => {
                    self.unclosed(open, "match `{`", "}");
                    break;
                }
                _ => {}
            }
            let before = self.pos;
            let arm_start = self.span();
            let pattern = self.pattern();
            let guard = if self.eat(T::If) {
                Some(self.expr())
            } else {
                None
            };
            if !self.expect(T::Arrow, "`->` and the arm's value") {
                self.recover_stmt();
                if self.pos == before {
                    self.bump();
                }
                continue;
            }
            let body = if self.peek() == T::LBrace {
                self.brace_value()
            } else {
                self.expr()
            };
            arms.push(Arm {
                pattern,
                guard,
                body,
                span: arm_start.to(self.prev_span()),
            });
            if !matches!(
                self.peek(),
                T::Newline | T::Comma | T::Semi | T::RBrace | T::Eof
            ) {
                self.error_expected("a new line or `,` after the arm");
                self.recover_stmt();
            }
        }
        Expr {
            kind: ExprKind::Match {
                scrutinee: Box::new(scrutinee),
                arms,
            },
            span: start.to(self.prev_span()),
        }
    }

    fn search_expr(&mut self) -> Expr {
        let start = self.bump();
        let query = self.expr_bp(ABOVE_IN_BP);
        let mut search = Search {
            query,
            entity: self.error_name(),
            field: self.error_name(),
            mode: None,
            filter: None,
            limit: None,
        };
        if self.expect(T::In, "`in` and the entity to search") {
            if let Some(entity) = self.name("an entity name") {
                search.entity = entity;
            }
            if self.at_soft("by") {
                self.bump();
                if let Some(field) = self.name("a field name") {
                    search.field = field;
                }
            } else {
                self.error_expected("`by` and the field to search");
            }
        }
        loop {
            if self.at_soft("using") && search.mode.is_none() {
                self.bump();
                let span = self.span();
                let word = self.nth_text(0);
                search.mode = match word {
                    "keyword" => {
                        self.bump();
                        Some(SearchMode::Keyword(span))
                    }
                    "semantic" => {
                        self.bump();
                        Some(SearchMode::Semantic(span))
                    }
                    "hybrid" => {
                        self.bump();
                        let weights = if self.peek() == T::LParen {
                            let args = self.call_args();
                            let mut values = args.into_iter().map(|arg| arg.value);
                            match (values.next(), values.next(), values.next()) {
                                (Some(a), Some(b), None) => Some((a, b)),
                                _ => {
                                    self.error(
                                        "E0110",
                                        span.to(self.prev_span()),
                                        "`hybrid` takes two weights",
                                        "as `hybrid(0.3, 0.7)`",
                                    );
                                    None
                                }
                            }
                        } else {
                            None
                        };
                        Some(SearchMode::Hybrid {
                            weights,
                            span: span.to(self.prev_span()),
                        })
                    }
                    _ => {
                        self.error_expected("`keyword`, `semantic` or `hybrid`");
                        None
                    }
                };
            } else if self.at_soft("where") && search.filter.is_none() {
                self.bump();
                let open = self.span();
                if self.expect(T::LParen, "`(` around the condition") {
                    search.filter = Some(self.expr());
                    if !self.eat(T::RParen) {
                        if self.peek() == T::Eof {
                            self.unclosed(open, "`(`", ")");
                        } else {
                            self.error_expected("`)`");
                        }
                    }
                }
            } else if self.at_soft("limit") && search.limit.is_none() {
                self.bump();
                search.limit = Some(self.expr_bp(TRY_BP));
            } else {
                break;
            }
        }
        Expr {
            kind: ExprKind::Search(Box::new(search)),
            span: start.to(self.prev_span()),
        }
    }

    // ------------------------------------------------------------ texts

    /// A text literal where one is required.
    fn text_expected(&mut self, what: &str) -> Text {
        if self.peek() == T::StrStart {
            self.text_lit()
        } else {
            self.error_expected(what);
            Text {
                parts: Vec::new(),
                span: Span::empty(self.prev_end()),
            }
        }
    }

    fn text_lit(&mut self) -> Text {
        let start = self.bump();
        let triple = self.text(start) == "\"\"\"";
        let mut raws: Vec<(Span, &'s str)> = Vec::new();
        let mut pending: Option<(Span, &'s str)> = None;
        let mut interps: Vec<Expr> = Vec::new();
        let mut layout: Vec<Option<(Span, &'s str)>> = Vec::new();
        loop {
            match self.peek() {
                T::StrText => {
                    let span = self.bump();
                    pending = Some((span, self.text(span)));
                }
                T::InterpStart => {
                    let open = self.bump();
                    layout.push(pending.take());
                    let expr = if self.peek() == T::InterpEnd {
                        self.error(
                            "E0110",
                            open,
                            "empty interpolation",
                            "write an expression inside `{}`, or `\\{` for a brace",
                        );
                        self.error_expr()
                    } else {
                        self.expr()
                    };
                    interps.push(expr);
                    if !self.eat(T::InterpEnd) {
                        self.error_expected("`}` to end the interpolation");
                        while !matches!(self.peek(), T::InterpEnd | T::StrEnd | T::Eof) {
                            self.bump();
                        }
                        self.eat(T::InterpEnd);
                    }
                }
                T::StrEnd => {
                    self.bump();
                    break;
                }
                _ => break,
            }
        }
        layout.push(pending.take());
        for (span, raw) in layout.iter().flatten() {
            raws.push((*span, raw));
            for bad in text::cook(raw).1 {
                let at = span.start + bad.range.start as u32;
                let bad_span = Span::new(at, span.start + bad.range.end as u32);
                self.error_help(
                    "E0103",
                    bad_span,
                    format!(
                        "{}: `{}`",
                        bad.reason,
                        raw.get(bad.range.clone()).unwrap_or("")
                    ),
                    "not a valid escape",
                    "escapes are \\n \\t \\r \\\\ \\\" \\' \\{ \\} and \\u{…}",
                );
            }
        }
        let pieces: Vec<&str> = layout
            .iter()
            .map(|piece| piece.map_or("", |(_, raw)| raw))
            .collect();
        let pieces: Vec<String> = if triple {
            text::dedent(&pieces)
        } else {
            pieces.iter().map(|p| p.to_string()).collect()
        };
        let mut parts = Vec::with_capacity(pieces.len() + interps.len());
        let mut interps = interps.into_iter();
        for (idx, piece) in pieces.iter().enumerate() {
            if !piece.is_empty() {
                parts.push(TextPart::Str(text::cook(piece).0));
            }
            if idx + 1 < pieces.len() {
                if let Some(expr) = interps.next() {
                    parts.push(TextPart::Interp(expr));
                }
            }
        }
        Text {
            parts,
            span: start.to(self.prev_span()),
        }
    }

    // ------------------------------------------------------------ patterns

    fn pattern(&mut self) -> Pattern {
        let first = self.pattern_primary();
        if self.peek() != T::Pipe {
            return first;
        }
        let mut alternatives = vec![first];
        while self.eat(T::Pipe) {
            alternatives.push(self.pattern_primary());
        }
        let span = alternatives
            .first()
            .map_or(self.span(), |p| p.span)
            .to(self.prev_span());
        Pattern {
            kind: PatternKind::Or(alternatives),
            span,
        }
    }

    fn pattern_primary(&mut self) -> Pattern {
        let start = self.span();
        if !self.enter() {
            return Pattern {
                kind: PatternKind::Error,
                span: start,
            };
        }
        let kind = match self.peek() {
            T::Ident if self.nth_text(0) == "_" => {
                self.bump();
                PatternKind::Wildcard
            }
            T::Ident => {
                let word = self.nth_text(0);
                let upper = word.as_bytes().first().is_some_and(u8::is_ascii_uppercase);
                let name = self.name("a pattern").unwrap_or_else(|| self.error_name());
                if upper || self.peek() == T::LParen || self.peek() == T::Dot {
                    let mut path = vec![name];
                    while self.eat(T::Dot) {
                        match self.name("a variant name") {
                            Some(part) => path.push(part),
                            None => break,
                        }
                    }
                    let args = if self.eat(T::LParen) {
                        let mut args = Vec::new();
                        loop {
                            if matches!(self.peek(), T::RParen | T::Eof) {
                                break;
                            }
                            args.push(self.pattern());
                            if !self.eat(T::Comma) {
                                break;
                            }
                        }
                        self.expect(T::RParen, "`)`");
                        Some(args)
                    } else {
                        None
                    };
                    PatternKind::Variant { path, args }
                } else {
                    PatternKind::Binding(name)
                }
            }
            T::Int
            | T::Number
            | T::Money
            | T::Duration
            | T::StrStart
            | T::True
            | T::False
            | T::None
            | T::Minus => {
                let literal = self.pattern_literal();
                if matches!(self.peek(), T::DotDot | T::DotDotEq) {
                    let inclusive = self.peek() == T::DotDotEq;
                    self.bump();
                    let end = self.pattern_literal();
                    PatternKind::Range {
                        start: literal,
                        end,
                        inclusive,
                    }
                } else {
                    PatternKind::Literal(literal)
                }
            }
            T::LParen => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    if matches!(self.peek(), T::RParen | T::Eof) {
                        break;
                    }
                    items.push(self.pattern());
                    if !self.eat(T::Comma) {
                        break;
                    }
                }
                self.expect(T::RParen, "`)`");
                if items.len() == 1 {
                    items.pop().map_or(PatternKind::Error, |p| p.kind)
                } else {
                    PatternKind::Tuple(items)
                }
            }
            T::LBracket => {
                self.bump();
                let mut items = Vec::new();
                let mut rest = None;
                loop {
                    if matches!(self.peek(), T::RBracket | T::Eof) {
                        break;
                    }
                    if self.eat(T::DotDot) {
                        let name = if self.peek() == T::Ident {
                            self.name("a name for the rest")
                        } else {
                            None
                        };
                        rest = Some(name);
                    } else {
                        items.push(self.pattern());
                    }
                    if !self.eat(T::Comma) {
                        break;
                    }
                }
                self.expect(T::RBracket, "`]`");
                PatternKind::List { items, rest }
            }
            _ => {
                self.error_expected("a pattern");
                if !matches!(self.peek(), T::Arrow | T::Newline | T::RBrace | T::Eof) {
                    self.bump();
                }
                PatternKind::Error
            }
        };
        self.leave();
        Pattern {
            kind,
            span: start.to(self.prev_span()),
        }
    }

    fn pattern_literal(&mut self) -> Expr {
        let start = self.span();
        if self.peek() == T::Minus {
            self.bump();
            let kind = match self.peek() {
                T::Int => {
                    let span = self.bump();
                    ExprKind::Int(self.int_value(span, true))
                }
                T::Number => {
                    let span = self.bump();
                    ExprKind::Number(-self.number_value(span))
                }
                _ => {
                    self.error_expected("a number after `-`");
                    ExprKind::Error
                }
            };
            return Expr {
                kind,
                span: start.to(self.prev_span()),
            };
        }
        match self.peek() {
            T::Int
            | T::Number
            | T::Money
            | T::Duration
            | T::StrStart
            | T::True
            | T::False
            | T::None => self.prefix(),
            _ => {
                self.error_expected("a literal");
                self.error_expr()
            }
        }
    }
}

/// Whether a token after a soft keyword makes it a keyword (`search q in …`,
/// `every 1.hours`): a name or a literal. An operator, `(` or `=` after it means the
/// word is an ordinary name (`search - 1`, `every(3)`, `every = 2`).
fn starts_operand(kind: T) -> bool {
    matches!(
        kind,
        T::Int
            | T::Number
            | T::Money
            | T::Duration
            | T::Ident
            | T::StrStart
            | T::True
            | T::False
            | T::None
    )
}
