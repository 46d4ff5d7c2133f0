//! What a file with markup needs to be a live view (web.md §9): which of its top-level
//! variables are *live values* (their initializer reads the database, directly or
//! through the functions it calls; in a component, also its props) and what each reads
//! (file variables and entity types), so the server re-runs exactly those whose inputs
//! changed. Also: whether the markup has an event attribute or `bind`.

use std::collections::{HashMap, HashSet};

use flin_diagnostics::FileId;
use flin_syntax::Symbol;
use flin_syntax::ast::{self, AttrValue, Expr, ExprKind, Markup, MarkupKind};
use flin_syntax::visit::{self, Visitor};

/// The names an expression or a function body reads, as written.
#[derive(Clone, Debug, Default)]
pub struct Reads {
    /// Every plain name read (variables, entity types, context names …).
    pub names: HashSet<Symbol>,
    /// Functions called by name.
    pub calls: HashSet<Symbol>,
    /// Entity types searched (`search … in Note`).
    pub searched: HashSet<Symbol>,
}

impl Visitor for Reads {
    fn visit_expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Name(name) => {
                self.names.insert(name.sym);
            }
            ExprKind::Call { callee, .. } => {
                if let ExprKind::Name(name) = &callee.kind {
                    self.calls.insert(name.sym);
                }
            }
            ExprKind::Search(search) => {
                self.searched.insert(search.entity.sym);
            }
            _ => {}
        }
        visit::walk_expr(self, expr);
    }
}

pub fn reads_of_expr(expr: &Expr) -> Reads {
    let mut reads = Reads::default();
    reads.visit_expr(expr);
    reads
}

pub fn reads_of_block(block: &ast::Block) -> Reads {
    let mut reads = Reads::default();
    reads.visit_block(block);
    reads
}

/// What a live value reads, followed through the functions it calls.
#[derive(Debug, Default)]
pub struct LiveReads {
    /// Variables of the value's own file.
    pub globals: HashSet<Symbol>,
    pub entities: HashSet<Symbol>,
    /// `props` or `children`.
    pub props: bool,
}

/// Follows `reads` through the functions it calls (`function` resolves a call made in
/// a file; `bodies` has each function's own reads and file).
pub fn follow(
    reads: &Reads,
    file: FileId,
    file_globals: &HashSet<Symbol>,
    entities: &HashSet<Symbol>,
    function: &dyn Fn(FileId, Symbol) -> Option<u32>,
    bodies: &HashMap<u32, (FileId, Reads)>,
) -> LiveReads {
    let mut out = LiveReads::default();
    let mut seen: HashSet<u32> = HashSet::new();
    let mut todo: Vec<(FileId, &Reads)> = vec![(file, reads)];
    while let Some((at, reads)) = todo.pop() {
        for name in &reads.names {
            if entities.contains(name) {
                out.entities.insert(*name);
            } else if at == file && file_globals.contains(name) {
                out.globals.insert(*name);
            } else if matches!(name.as_str(), "props" | "children") && at == file {
                out.props = true;
            }
        }
        out.entities.extend(reads.searched.iter().copied());
        for call in &reads.calls {
            if let Some(id) = function(at, *call) {
                if seen.insert(id) {
                    if let Some((callee_file, callee_reads)) = bodies.get(&id) {
                        todo.push((*callee_file, callee_reads));
                    }
                }
            }
        }
    }
    out
}

/// Whether markup has an event attribute or `bind` (components' function props
/// count: they are handlers too).
pub fn interactive(stmts: &[ast::Stmt]) -> bool {
    fn in_markup(markup: &Markup) -> bool {
        match &markup.kind {
            MarkupKind::Element(element) => {
                element.attrs.iter().any(|attr| {
                    attr.namespace.is_none()
                        && matches!(attr.value, AttrValue::Code(_))
                        && (attr.name.as_str() == "bind"
                            || crate::markup::EVENTS.contains(&attr.name.as_str()))
                }) || element.children.iter().any(in_markup)
            }
            MarkupKind::If {
                branches,
                else_body,
            } => {
                branches.iter().any(|b| b.body.iter().any(in_markup))
                    || else_body.iter().flatten().any(in_markup)
            }
            MarkupKind::For(for_loop) => {
                for_loop.body.iter().any(in_markup)
                    || for_loop.empty.iter().flatten().any(in_markup)
            }
            _ => false,
        }
    }
    stmts.iter().any(|stmt| match &stmt.kind {
        ast::StmtKind::Markup(markup) => in_markup(markup),
        _ => false,
    })
}

/// How many times each name is assigned at the top level of a file (a live value is
/// assigned once: its initializer is its only definition).
pub fn top_level_assignments(stmts: &[ast::Stmt]) -> HashMap<Symbol, usize> {
    let mut counts = HashMap::new();
    for stmt in stmts {
        match &stmt.kind {
            ast::StmtKind::Assign(assign) => {
                if let ExprKind::Name(name) = &assign.target.kind {
                    *counts.entry(name.sym).or_insert(0) += 1;
                }
            }
            ast::StmtKind::Step { target, .. } => {
                if let ExprKind::Name(name) = &target.kind {
                    *counts.entry(name.sym).or_insert(0) += 1;
                }
            }
            _ => {}
        }
    }
    counts
}
