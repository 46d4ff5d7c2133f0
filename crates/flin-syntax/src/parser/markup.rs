//! Markup: elements, attributes, text, `{expr}`, and `{if}`/`{for}` blocks (web.md §2).
//!
//! The parser keeps the stack of open elements and blocks so a closing tag or block tag
//! that belongs to an outer element ends the inner ones with a precise "not closed"
//! error, while one that belongs to nothing is reported as stray and skipped.

use super::*;
use crate::lexer::{is_raw_text_element, is_void_element};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum BlockKind {
    If,
    For,
}

/// The block tags that continue or end a block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Delimiter {
    Else,
    ElseIf,
    Empty,
    CloseIf,
    CloseFor,
}

impl Delimiter {
    fn block(self) -> BlockKind {
        match self {
            Delimiter::Else | Delimiter::ElseIf | Delimiter::CloseIf => BlockKind::If,
            Delimiter::Empty | Delimiter::CloseFor => BlockKind::For,
        }
    }

    fn written(self) -> &'static str {
        match self {
            Delimiter::Else => "{else}",
            Delimiter::ElseIf => "{else if …}",
            Delimiter::Empty => "{empty}",
            Delimiter::CloseIf => "{/if}",
            Delimiter::CloseFor => "{/for}",
        }
    }
}

impl Parser<'_> {
    /// One markup node at the cursor, or `None` (after reporting) when there is none.
    pub(super) fn markup_node(&mut self) -> Option<Markup> {
        match self.peek() {
            T::TagStart => Some(self.element()),
            T::MarkupLBrace => self.markup_brace(),
            T::MarkupText => {
                let span = self.bump();
                Some(Markup {
                    kind: MarkupKind::Text(self.text(span).to_string()),
                    span,
                })
            }
            T::RawText => {
                let span = self.bump();
                Some(Markup {
                    kind: MarkupKind::Raw(self.text(span).to_string()),
                    span,
                })
            }
            T::CloseTagStart => {
                self.stray_close_tag();
                None
            }
            _ => None,
        }
    }

    fn element(&mut self) -> Markup {
        let open = self.bump();
        let name_span = if self.peek() == T::TagName {
            self.bump()
        } else {
            Span::empty(open.end)
        };
        let name_text = self.text(name_span);
        let name = Name {
            sym: Symbol::intern(name_text),
            span: name_span,
        };
        let is_component = name_text
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_uppercase);
        let mut element = Element {
            name,
            is_component,
            attrs: Vec::new(),
            children: Vec::new(),
            self_closing: false,
        };
        if !self.enter() {
            return Markup {
                kind: MarkupKind::Element(element),
                span: open,
            };
        }
        loop {
            match self.peek() {
                T::AttrName => {
                    let attr = self.attribute();
                    element.attrs.push(attr);
                }
                T::TagEnd | T::TagSelfClose | T::Eof => break,
                // The lexer ended a tag that had no `>` at the next `<`.
                T::TagStart | T::CloseTagStart | T::MarkupText => break,
                _ => {
                    self.error_expected("an attribute, `>` or `/>`");
                    self.skip_tag_junk();
                }
            }
        }
        let opened = open.to(name_span);
        match self.peek() {
            T::TagSelfClose => {
                self.bump();
                element.self_closing = true;
            }
            T::TagEnd => {
                self.bump();
                if is_void_element(name_text) {
                    element.self_closing = true;
                }
            }
            _ => {
                self.error_help(
                    "E0121",
                    opened,
                    format!("tag `<{name_text}` is not ended with `>`"),
                    "this tag has no `>`",
                    "add `>` (or `/>` for an element without content) after the attributes",
                );
                if is_void_element(name_text) || self.peek() == T::Eof {
                    element.self_closing = true;
                }
            }
        }
        if !element.self_closing {
            if is_raw_text_element(name_text) {
                if self.peek() == T::RawText {
                    let span = self.bump();
                    element.children.push(Markup {
                        kind: MarkupKind::Raw(self.text(span).to_string()),
                        span,
                    });
                }
            } else {
                self.open_elements.push(name.sym);
                element.children = self.markup_children();
                self.open_elements.pop();
            }
            let closes_here = self.peek() == T::CloseTagStart
                && self.nth(1) == T::TagName
                && self.nth_text(1) == name_text;
            if closes_here {
                self.bump();
                self.bump();
                self.expect(T::TagEnd, "`>`");
            } else if !self.gave_up {
                let diagnostic = Diagnostic::error("E0120", self.file, opened, format!("element `<{name_text}>` is not closed"))
                    .with_label("opened here")
                    .with_help(format!("add `</{name_text}>` where its content ends, or write `<{name_text} />` if it has none"));
                self.diagnostics.push(diagnostic);
            }
        }
        self.leave();
        Markup {
            kind: MarkupKind::Element(element),
            span: open.to(self.prev_span()),
        }
    }

    /// Steps over something that cannot stand inside a tag.
    fn skip_tag_junk(&mut self) {
        match self.peek() {
            T::MarkupLBrace => {
                self.bump();
                let mut nesting = 0u32;
                loop {
                    match self.peek() {
                        T::Eof => return,
                        T::MarkupRBrace if nesting == 0 => {
                            self.bump();
                            return;
                        }
                        T::MarkupLBrace => nesting += 1,
                        T::MarkupRBrace => nesting = nesting.saturating_sub(1),
                        _ => {}
                    }
                    self.bump();
                }
            }
            T::StrStart => {
                self.text_lit();
            }
            _ => {
                self.bump();
            }
        }
    }

    fn attribute(&mut self) -> Attribute {
        let start = self.span();
        let first = self.attr_name();
        let (namespace, name) = if self.peek() == T::Colon && self.nth(1) == T::AttrName {
            self.bump();
            (Some(first), self.attr_name())
        } else {
            (None, first)
        };
        let mut modifiers = Vec::new();
        while self.peek() == T::Dot {
            let mod_start = self.bump();
            if self.peek() != T::AttrName {
                self.error_expected("a modifier name after `.`");
                break;
            }
            let mod_name = self.attr_name();
            let mut arg = None;
            if self.eat(T::LParen) {
                if self.peek() == T::Int {
                    let span = self.bump();
                    arg = Some(self.int_value(span, false));
                } else {
                    self.error_expected("a number");
                }
                self.expect(T::RParen, "`)`");
            }
            modifiers.push(Modifier {
                name: mod_name,
                arg,
                span: mod_start.to(self.prev_span()),
            });
        }
        let value = if self.eat(T::Eq) {
            match self.peek() {
                T::StrStart => AttrValue::Text(self.text_lit()),
                T::MarkupLBrace => {
                    let open = self.bump();
                    let stmts = self.stmts_until(T::MarkupRBrace, Ctx::Nested);
                    if !self.eat(T::MarkupRBrace) {
                        self.unclosed(open, "`{`", "}");
                    }
                    AttrValue::Code(Block {
                        stmts,
                        span: open.to(self.prev_span()),
                    })
                }
                T::AttrName | T::Int => {
                    let span = self.bump();
                    AttrValue::Text(Text {
                        parts: vec![TextPart::Str(self.text(span).to_string())],
                        span,
                    })
                }
                _ => {
                    self.error_expected("a value in quotes or in `{…}`");
                    AttrValue::Present
                }
            }
        } else {
            AttrValue::Present
        };
        Attribute {
            namespace,
            name,
            modifiers,
            value,
            span: start.to(self.prev_span()),
        }
    }

    fn attr_name(&mut self) -> Name {
        let span = self.bump();
        Name {
            sym: Symbol::intern(self.text(span)),
            span,
        }
    }

    /// Markup nodes up to a closing tag or block tag that belongs to an open element or
    /// block, or the end of the markup.
    fn markup_children(&mut self) -> Vec<Markup> {
        let mut children = Vec::new();
        loop {
            match self.peek() {
                T::MarkupText if self.is_layout_whitespace() => {
                    self.bump();
                }
                T::MarkupText | T::RawText | T::TagStart => {
                    if let Some(node) = self.markup_node() {
                        children.push(node);
                    }
                }
                T::MarkupLBrace => match self.delimiter() {
                    Some(delimiter) if self.open_blocks.contains(&delimiter.block()) => break,
                    Some(delimiter) => self.stray_delimiter(delimiter),
                    None => {
                        if let Some(node) = self.markup_brace() {
                            children.push(node);
                        }
                    }
                },
                T::CloseTagStart => {
                    let closes = self.nth(1) == T::TagName && {
                        let sym = Symbol::intern(self.nth_text(1));
                        self.open_elements.contains(&sym)
                    };
                    if closes {
                        break;
                    }
                    self.stray_close_tag();
                }
                _ => break,
            }
            if self.gave_up {
                break;
            }
        }
        children
    }

    /// Text that is only blanks and holds a line break is the layout of the source, not
    /// content: it is dropped (as JSX does). Blanks within a line are kept.
    fn is_layout_whitespace(&self) -> bool {
        let text = self.nth_text(0);
        text.contains('\n') && text.bytes().all(|b| b.is_ascii_whitespace())
    }

    fn stray_close_tag(&mut self) {
        let start = self.bump();
        let name = if self.peek() == T::TagName {
            let span = self.bump();
            self.text(span).to_string()
        } else {
            String::new()
        };
        self.eat(T::TagEnd);
        let span = start.to(self.prev_span());
        self.error_help(
            "E0122",
            span,
            format!("closing tag `</{name}>` has no open element"),
            "nothing to close",
            format!("remove it, or open `<{name}>` before it"),
        );
    }

    fn delimiter(&self) -> Option<Delimiter> {
        if self.peek() != T::MarkupLBrace {
            return None;
        }
        match (self.nth(1), self.nth(2)) {
            (T::Else, T::If) => Some(Delimiter::ElseIf),
            (T::Else, _) => Some(Delimiter::Else),
            (T::Ident, T::MarkupRBrace) if self.nth_text(1) == "empty" => Some(Delimiter::Empty),
            (T::Slash, T::If) => Some(Delimiter::CloseIf),
            (T::Slash, T::For) => Some(Delimiter::CloseFor),
            _ => None,
        }
    }

    /// Consumes a block tag such as `{else}` or `{/for}` (not `{else if …}`).
    fn consume_delimiter(&mut self) {
        self.bump();
        while !matches!(
            self.peek(),
            T::MarkupRBrace | T::Eof | T::MarkupText | T::TagStart
        ) {
            self.bump();
        }
        self.expect(T::MarkupRBrace, "`}`");
    }

    fn stray_delimiter(&mut self, delimiter: Delimiter) {
        let start = self.span();
        self.consume_delimiter();
        let opener = match delimiter.block() {
            BlockKind::If => "{if …}",
            BlockKind::For => "{for …}",
        };
        self.error_help(
            "E0123",
            start.to(self.prev_span()),
            format!("`{}` has no open `{opener}`", delimiter.written()),
            "nothing to continue or close",
            format!("remove it, or open the block with `{opener}` before it"),
        );
    }

    /// `{expr}`, `{if …}` or `{for …}` in markup.
    fn markup_brace(&mut self) -> Option<Markup> {
        if let Some(delimiter) = self.delimiter() {
            self.stray_delimiter(delimiter);
            return None;
        }
        if matches!(self.nth(1), T::If | T::For) {
            let start = self.span();
            if !self.enter() {
                return Some(Markup {
                    kind: MarkupKind::Expr(self.error_expr()),
                    span: start,
                });
            }
            let block = if self.nth(1) == T::If {
                self.markup_if()
            } else {
                self.markup_for()
            };
            self.leave();
            return Some(block);
        }
        let open = self.bump();
        let mut stmts = self.stmts_until(T::MarkupRBrace, Ctx::Nested);
        if !self.eat(T::MarkupRBrace) {
            self.unclosed(open, "`{`", "}");
        }
        let span = open.to(self.prev_span());
        let expr = match (stmts.pop(), stmts.is_empty()) {
            (
                Some(Stmt {
                    kind: StmtKind::Expr(expr),
                    ..
                }),
                true,
            ) => expr,
            (None, _) => {
                self.error_help(
                    "E0124",
                    span,
                    "empty `{}` in markup",
                    "nothing inside",
                    "put an expression inside, as `{name}`",
                );
                Expr {
                    kind: ExprKind::Error,
                    span,
                }
            }
            _ => {
                self.error_help(
                    "E0124",
                    span,
                    "markup content takes one expression",
                    "statements here",
                    "statements run from event attributes (`click={…}`); here write one value, as `{count}`",
                );
                Expr {
                    kind: ExprKind::Error,
                    span,
                }
            }
        };
        Some(Markup {
            kind: MarkupKind::Expr(expr),
            span,
        })
    }

    fn markup_if(&mut self) -> Markup {
        let open = self.bump();
        self.bump();
        let cond = self.markup_block_head_expr();
        let head = open.to(self.prev_span());
        let mut branches = Vec::new();
        let mut else_body: Option<Vec<Markup>> = None;
        self.open_blocks.push(BlockKind::If);
        let body = self.markup_children();
        branches.push(MarkupBranch { cond, body });
        loop {
            match self.delimiter() {
                Some(Delimiter::ElseIf) => {
                    let start = self.bump();
                    self.bump();
                    self.bump();
                    let cond = self.markup_block_head_expr();
                    if else_body.is_some() {
                        self.error(
                            "E0123",
                            start.to(self.prev_span()),
                            "`{else if …}` after `{else}`",
                            "the `{else}` branch must come last",
                        );
                    }
                    let body = self.markup_children();
                    branches.push(MarkupBranch { cond, body });
                }
                Some(Delimiter::Else) => {
                    let start = self.span();
                    self.consume_delimiter();
                    if else_body.is_some() {
                        self.error(
                            "E0123",
                            start.to(self.prev_span()),
                            "a second `{else}` in one `{if}`",
                            "one `{else}` per block",
                        );
                    }
                    let body = self.markup_children();
                    else_body = Some(body);
                }
                Some(Delimiter::CloseIf) => {
                    self.consume_delimiter();
                    break;
                }
                _ => {
                    self.unclosed_block(head, "{if}", "{/if}");
                    break;
                }
            }
            if self.gave_up {
                break;
            }
        }
        self.open_blocks.pop();
        Markup {
            kind: MarkupKind::If {
                branches,
                else_body,
            },
            span: open.to(self.prev_span()),
        }
    }

    fn markup_for(&mut self) -> Markup {
        let open = self.bump();
        self.bump();
        let item = self
            .name("a name for each item")
            .unwrap_or_else(|| self.error_name());
        let index = if self.eat(T::Comma) {
            self.name("a name for the index")
        } else {
            None
        };
        let mut iter = self.error_expr();
        let mut key = None;
        if self.expect(T::In, "`in`") {
            iter = self.expr();
            if self.at_soft("key") {
                self.bump();
                key = Some(self.expr());
            }
        }
        if !self.eat(T::MarkupRBrace) {
            self.error_expected("`}` to end the `{for …}` tag");
            while !matches!(
                self.peek(),
                T::MarkupRBrace | T::Eof | T::MarkupText | T::TagStart
            ) {
                self.bump();
            }
            self.eat(T::MarkupRBrace);
        }
        let head = open.to(self.prev_span());
        self.open_blocks.push(BlockKind::For);
        let body = self.markup_children();
        let mut empty = None;
        loop {
            match self.delimiter() {
                Some(Delimiter::Empty) => {
                    let start = self.span();
                    self.consume_delimiter();
                    if empty.is_some() {
                        self.error(
                            "E0123",
                            start.to(self.prev_span()),
                            "a second `{empty}` in one `{for}`",
                            "one `{empty}` per block",
                        );
                    }
                    empty = Some(self.markup_children());
                }
                Some(Delimiter::CloseFor) => {
                    self.consume_delimiter();
                    break;
                }
                _ => {
                    self.unclosed_block(head, "{for}", "{/for}");
                    break;
                }
            }
            if self.gave_up {
                break;
            }
        }
        self.open_blocks.pop();
        let for_block = MarkupFor {
            item,
            index,
            iter,
            key,
            body,
            empty,
        };
        Markup {
            kind: MarkupKind::For(Box::new(for_block)),
            span: open.to(self.prev_span()),
        }
    }

    /// The condition of `{if c}` or `{else if c}`, then its `}`.
    fn markup_block_head_expr(&mut self) -> Expr {
        let expr = self.expr();
        if !self.eat(T::MarkupRBrace) {
            self.error_expected("`}` to end the block tag");
            while !matches!(
                self.peek(),
                T::MarkupRBrace | T::Eof | T::MarkupText | T::TagStart
            ) {
                self.bump();
            }
            self.eat(T::MarkupRBrace);
        }
        expr
    }

    fn unclosed_block(&mut self, head: Span, what: &str, closer: &str) {
        if self.gave_up {
            return;
        }
        let diagnostic = Diagnostic::error(
            "E0125",
            self.file,
            head,
            format!("`{what}` block is not closed"),
        )
        .with_label(format!("this `{what}` is never closed"))
        .with_help(format!("add `{closer}` where the block ends"));
        self.diagnostics.push(diagnostic);
    }
}
