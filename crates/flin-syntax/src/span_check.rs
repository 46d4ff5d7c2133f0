//! The span invariant every tree must hold: each node's span lies inside the file and
//! inside its parent's span, and the statements of a block and the children of an
//! element come in source order. Tests and the fuzzer check it on every tree.

use flin_diagnostics::Span;

use crate::ast::*;
use crate::visit::{self, Visitor};

/// Describes every broken span of `file` (empty when the tree is sound). Containment is
/// only checked when `strict` (trees of files without syntax errors): recovery may place
/// an empty error node just before the construct it stands for.
pub fn span_problems(file: &File, text_len: u32, strict: bool) -> Vec<String> {
    let mut checker = SpanChecker {
        parents: vec![Span::new(0, text_len)],
        text_len,
        strict,
        problems: Vec::new(),
    };
    visit::walk_file(&mut checker, file);
    checker.check_order(file.stmts.iter().map(|s| s.span), "file statements");
    checker.problems
}

struct SpanChecker {
    parents: Vec<Span>,
    text_len: u32,
    strict: bool,
    problems: Vec<String>,
}

impl SpanChecker {
    fn enter(&mut self, what: &str, span: Span) {
        if span.start > span.end || span.end > self.text_len {
            self.problems.push(format!(
                "{what} {span:?} is outside the file (length {})",
                self.text_len
            ));
        }
        if self.strict {
            if let Some(parent) = self.parents.last() {
                if span.start < parent.start || span.end > parent.end {
                    self.problems
                        .push(format!("{what} {span:?} is outside its parent {parent:?}"));
                }
            }
        }
        self.parents.push(span);
    }

    fn leave(&mut self) {
        self.parents.pop();
    }

    fn check_order(&mut self, spans: impl Iterator<Item = Span>, what: &str) {
        let mut last_end = 0;
        for span in spans {
            if span.start < last_end && self.strict {
                self.problems
                    .push(format!("{what} out of order at {span:?}"));
            }
            last_end = span.end;
        }
    }
}

impl Visitor for SpanChecker {
    fn visit_stmt(&mut self, stmt: &Stmt) {
        self.enter("statement", stmt.span);
        visit::walk_stmt(self, stmt);
        self.leave();
    }

    fn visit_expr(&mut self, expr: &Expr) {
        self.enter("expression", expr.span);
        visit::walk_expr(self, expr);
        self.leave();
    }

    fn visit_type(&mut self, ty: &Type) {
        self.enter("type", ty.span);
        visit::walk_type(self, ty);
        self.leave();
    }

    fn visit_pattern(&mut self, pattern: &Pattern) {
        self.enter("pattern", pattern.span);
        visit::walk_pattern(self, pattern);
        self.leave();
    }

    fn visit_markup(&mut self, markup: &Markup) {
        self.enter("markup", markup.span);
        if let MarkupKind::Element(element) = &markup.kind {
            self.check_order(element.children.iter().map(|c| c.span), "element children");
        }
        visit::walk_markup(self, markup);
        self.leave();
    }

    fn visit_block(&mut self, block: &Block) {
        self.enter("block", block.span);
        self.check_order(block.stmts.iter().map(|s| s.span), "block statements");
        visit::walk_block(self, block);
        self.leave();
    }

    fn visit_name(&mut self, name: &Name) {
        self.enter("name", name.span);
        self.leave();
    }
}
