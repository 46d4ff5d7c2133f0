//! Which local variables a closure captures (language.md §3: closures capture by
//! reference). A captured variable lives in a cell shared by the function that declares
//! it and every closure that uses it; the others stay plain registers.
//!
//! The walk follows the same scoping as code generation: a name first assigned in a
//! block is local to it; a name found in an enclosing function is a capture; file
//! variables are never captured (functions read them directly).

use std::collections::{HashMap, HashSet};

use flin_syntax::Symbol;
use flin_syntax::ast::{
    self, AssignOp, Block, Else, Expr, ExprKind, MarkupKind, Pattern, PatternKind, Stmt, StmtKind,
    TextPart,
};

/// A declaration, by the start and end of the name that declares it.
pub type DeclKey = (u32, u32);

#[derive(Default)]
struct Level {
    blocks: Vec<HashMap<Symbol, DeclKey>>,
}

pub struct CaptureAnalysis<'g> {
    globals: &'g HashSet<Symbol>,
    levels: Vec<Level>,
    pub captured: HashSet<DeclKey>,
    /// At the top level of a file, assignments to file variables are not declarations.
    top_level: bool,
}

impl<'g> CaptureAnalysis<'g> {
    pub fn new(globals: &'g HashSet<Symbol>, top_level: bool) -> CaptureAnalysis<'g> {
        CaptureAnalysis {
            globals,
            levels: vec![Level {
                blocks: vec![HashMap::new()],
            }],
            captured: HashSet::new(),
            top_level,
        }
    }

    pub fn params(&mut self, params: &[ast::Param]) {
        for param in params {
            self.declare(&param.name);
        }
    }

    fn declare(&mut self, name: &ast::Name) {
        if let Some(block) = self.levels.last_mut().and_then(|l| l.blocks.last_mut()) {
            block.insert(name.sym, (name.span.start, name.span.end));
        }
    }

    /// Resolves a use: marks the declaration captured when it is in an outer function.
    fn use_name(&mut self, name: Symbol) -> bool {
        let depth = self.levels.len();
        for (level_idx, level) in self.levels.iter().enumerate().rev() {
            for block in level.blocks.iter().rev() {
                if let Some(key) = block.get(&name) {
                    if level_idx + 1 < depth {
                        self.captured.insert(*key);
                    }
                    return true;
                }
            }
        }
        false
    }

    fn push_block(&mut self) {
        if let Some(level) = self.levels.last_mut() {
            level.blocks.push(HashMap::new());
        }
    }

    fn pop_block(&mut self) {
        if let Some(level) = self.levels.last_mut() {
            level.blocks.pop();
        }
    }

    pub fn block(&mut self, block: &Block) {
        self.push_block();
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        self.pop_block();
    }

    pub fn stmts(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            self.stmt(stmt);
        }
    }

    fn is_global_here(&self, name: Symbol) -> bool {
        self.globals.contains(&name) && (self.top_level || !self.levels.is_empty())
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Assign(assign) => {
                self.expr(&assign.value);
                match &assign.target.kind {
                    ExprKind::Name(name) if assign.ty.is_some() => self.declare(name),
                    ExprKind::Name(name) if assign.op == AssignOp::Set => {
                        if !self.use_name(name.sym) && !self.is_global_here(name.sym) {
                            self.declare(name);
                        }
                    }
                    _ => self.expr(&assign.target),
                }
            }
            StmtKind::Expr(expr) | StmtKind::Assert(expr) => self.expr(expr),
            StmtKind::Step { target, .. } => self.expr(target),
            StmtKind::If(branch) => self.if_stmt(branch),
            StmtKind::For(for_loop) => {
                self.expr(&for_loop.iter);
                self.push_block();
                self.declare(&for_loop.item);
                if let Some(index) = &for_loop.index {
                    self.declare(index);
                }
                self.block(&for_loop.body);
                self.pop_block();
            }
            StmtKind::While { cond, body } => {
                self.expr(cond);
                self.block(body);
            }
            StmtKind::Return(Some(value)) => self.expr(value),
            StmtKind::Persist { target, .. } => self.expr(target),
            StmtKind::Transaction(block)
            | StmtKind::Block(block)
            | StmtKind::Lifecycle { body: block, .. } => self.block(block),
            StmtKind::Test { body, .. }
            | StmtKind::Route { body, .. }
            | StmtKind::Middleware(body) => {
                self.levels.push(Level {
                    blocks: vec![HashMap::new()],
                });
                self.block(body);
                self.levels.pop();
            }
            StmtKind::Markup(markup) => self.markup(markup),
            _ => {}
        }
    }

    fn if_stmt(&mut self, branch: &ast::If) {
        self.expr(&branch.cond);
        self.block(&branch.then_block);
        match &branch.else_branch {
            Some(Else::If(inner, _)) => self.if_stmt(inner),
            Some(Else::Block(block)) => self.block(block),
            None => {}
        }
    }

    /// The uses in one expression (a live value's initializer).
    pub fn expr_only(&mut self, expr: &Expr) {
        self.expr(expr);
    }

    fn markup(&mut self, markup: &ast::Markup) {
        match &markup.kind {
            MarkupKind::Expr(expr) => self.expr(expr),
            MarkupKind::Element(element) => {
                for attr in &element.attrs {
                    match &attr.value {
                        ast::AttrValue::Present => {}
                        ast::AttrValue::Text(text) => {
                            for part in &text.parts {
                                if let TextPart::Interp(inner) = part {
                                    self.expr(inner);
                                }
                            }
                        }
                        // A handler (or a `bind` setter) is a closure of its own.
                        ast::AttrValue::Code(block) => {
                            self.levels.push(Level {
                                blocks: vec![HashMap::new()],
                            });
                            self.block(block);
                            self.levels.pop();
                        }
                    }
                }
                for child in &element.children {
                    self.markup(child);
                }
            }
            MarkupKind::If {
                branches,
                else_body,
            } => {
                for branch in branches {
                    self.expr(&branch.cond);
                    self.push_block();
                    branch.body.iter().for_each(|m| self.markup(m));
                    self.pop_block();
                }
                if let Some(body) = else_body {
                    self.push_block();
                    body.iter().for_each(|m| self.markup(m));
                    self.pop_block();
                }
            }
            MarkupKind::For(for_loop) => {
                self.expr(&for_loop.iter);
                self.push_block();
                self.declare(&for_loop.item);
                if let Some(index) = &for_loop.index {
                    self.declare(index);
                }
                if let Some(key) = &for_loop.key {
                    self.expr(key);
                }
                for_loop.body.iter().for_each(|m| self.markup(m));
                self.pop_block();
                if let Some(empty) = &for_loop.empty {
                    empty.iter().for_each(|m| self.markup(m));
                }
            }
            MarkupKind::Text(_) | MarkupKind::Raw(_) => {}
        }
    }

    pub fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Name(name) => {
                self.use_name(name.sym);
            }
            ExprKind::Lambda(lambda) => {
                self.levels.push(Level {
                    blocks: vec![HashMap::new()],
                });
                self.params(&lambda.params);
                for param in &lambda.params {
                    if let Some(default) = &param.default {
                        self.expr(default);
                    }
                }
                self.expr(&lambda.body);
                self.levels.pop();
            }
            ExprKind::Block(block) => self.block(block),
            ExprKind::Match { scrutinee, arms } => {
                self.expr(scrutinee);
                for arm in arms {
                    self.push_block();
                    self.pattern(&arm.pattern);
                    if let Some(guard) = &arm.guard {
                        self.expr(guard);
                    }
                    self.expr(&arm.body);
                    self.pop_block();
                }
            }
            ExprKind::Text(text) => {
                for part in &text.parts {
                    if let TextPart::Interp(inner) = part {
                        self.expr(inner);
                    }
                }
            }
            _ => {
                for child in children(expr) {
                    self.expr(child);
                }
            }
        }
    }

    fn pattern(&mut self, pattern: &Pattern) {
        match &pattern.kind {
            PatternKind::Binding(name) => self.declare(name),
            PatternKind::Variant {
                args: Some(args), ..
            } => args.iter().for_each(|p| self.pattern(p)),
            PatternKind::Tuple(items) | PatternKind::Or(items) => {
                items.iter().for_each(|p| self.pattern(p))
            }
            PatternKind::List { items, rest } => {
                items.iter().for_each(|p| self.pattern(p));
                if let Some(Some(name)) = rest {
                    self.declare(name);
                }
            }
            _ => {}
        }
    }
}

/// The direct sub-expressions of an expression, in source order.
pub fn children(expr: &Expr) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = Vec::new();
    match &expr.kind {
        ExprKind::List(items) | ExprKind::Tuple(items) => out.extend(items),
        ExprKind::Map(entries) => {
            for (key, value) in entries {
                out.push(key);
                out.push(value);
            }
        }
        ExprKind::Record(fields)
        | ExprKind::Response(fields)
        | ExprKind::EntityLit { fields, .. } => out.extend(fields.iter().map(|(_, v)| v)),
        ExprKind::Unary { operand, .. } | ExprKind::Try(operand) => out.push(operand),
        ExprKind::Binary { lhs, rhs, .. } => {
            out.push(lhs);
            out.push(rhs);
        }
        ExprKind::Conditional {
            cond,
            then_value,
            else_value,
        } => {
            out.push(cond);
            out.push(then_value);
            out.push(else_value);
        }
        ExprKind::Is { value, .. } => out.push(value),
        ExprKind::Range { start, end, .. } => {
            out.push(start);
            out.push(end);
        }
        ExprKind::Call { callee, args } => {
            out.push(callee);
            out.extend(args.iter().map(|a| &a.value));
        }
        ExprKind::Member { object, .. } => out.push(object),
        ExprKind::Index { object, index } => {
            out.push(object);
            out.push(index);
        }
        ExprKind::Slice { object, start, end } => {
            out.push(object);
            out.extend(start.iter().map(|b| b.as_ref()));
            out.extend(end.iter().map(|b| b.as_ref()));
        }
        ExprKind::TimeTravel { entity, at } => {
            out.push(entity);
            out.push(at);
        }
        ExprKind::Search(search) => {
            out.push(&search.query);
            out.extend(search.filter.iter());
            out.extend(search.limit.iter());
        }
        ExprKind::Text(text) => {
            for part in &text.parts {
                if let TextPart::Interp(inner) = part {
                    out.push(inner);
                }
            }
        }
        ExprKind::Match { scrutinee, .. } => out.push(scrutinee),
        _ => {}
    }
    out
}
