//! Statements, blocks and functions: declaration or reassignment (language.md §5), `if`
//! with the narrowing its condition implies, loops, returns, the value of a block (its
//! last expression), and function signatures and bodies.

use flin_diagnostics::Span;
use flin_syntax::Symbol;
use flin_syntax::ast::{self, AssignOp, Block, Else, ExprKind, If, Stmt, StmtKind};

use super::{Checker, Frame, FrameKind};
use crate::error::CheckError;
use crate::ty::{Constraint, FnTy, ParamTy, Ty};

impl Checker<'_, '_> {
    /// A statement at the top level of a file.
    pub fn top_stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Fn(_) | StmtKind::Enum(_) | StmtKind::TypeAlias { .. } => {}
            StmtKind::Entity(decl) => self.check_entity_decl(decl),
            StmtKind::Test { body, .. } => {
                self.handler_block(body, FrameKind::Handler);
            }
            StmtKind::Route { body, .. } => self.route(body),
            StmtKind::Middleware(block) => self.middleware(block),
            StmtKind::GuardDefinition { params, body, .. } => self.guard_definition(params, body),
            StmtKind::Layout(choice) => self.layout_choice(choice.as_ref(), stmt.span),
            StmtKind::Ws(handlers) => self.ws(handlers),
            StmtKind::Every { interval, at, body } => self.every(interval, at.as_ref(), body),
            StmtKind::Cron { schedule, body } => self.cron(schedule, body),
            StmtKind::Lifecycle { body, .. } => {
                self.handler_block(body, FrameKind::Handler);
            }
            StmtKind::Markup(markup) => self.markup(markup),
            _ => {
                self.stmt(stmt);
            }
        }
    }

    /// Checks a statement and gives its value (the value of an expression statement, or
    /// of an `if` with both branches); `none` for the others.
    pub fn stmt(&mut self, stmt: &Stmt) -> Ty {
        match &stmt.kind {
            StmtKind::Expr(expr) => self.infer(expr),
            StmtKind::Assign(assign) => {
                self.assign(assign);
                Ty::None
            }
            StmtKind::Step { target, .. } => {
                let ty = self.assign_target(target);
                if self.subst.constrain(&ty, Constraint::Numeric).is_err() {
                    let found = self.resolve(&ty);
                    if !found.is_error() {
                        self.error(CheckError::NotAFamily {
                            span: target.span,
                            found,
                            wanted: Constraint::Numeric.describe(),
                        });
                    }
                }
                Ty::None
            }
            StmtKind::If(branch) => self.if_stmt(branch).0,
            StmtKind::For(for_loop) => {
                let iter_ty = self.infer(&for_loop.iter);
                let item_ty = self.element_of(&iter_ty, for_loop.iter.span);
                self.push_scope();
                self.bind(for_loop.item.sym, item_ty, for_loop.item.span);
                if let Some(index) = &for_loop.index {
                    self.bind(index.sym, Ty::Int, index.span);
                }
                self.frame.loops += 1;
                self.block_value(&for_loop.body);
                self.frame.loops -= 1;
                self.pop_scope();
                Ty::None
            }
            StmtKind::While { cond, body } => {
                let narrowing = self.condition(cond);
                self.frame.loops += 1;
                self.with_narrowed(&narrowing.when_true, |c| c.block_value(body));
                self.frame.loops -= 1;
                Ty::None
            }
            StmtKind::Break | StmtKind::Continue => {
                if self.frame.loops == 0 {
                    let word = if matches!(stmt.kind, StmtKind::Break) {
                        "break"
                    } else {
                        "continue"
                    };
                    self.error(CheckError::BreakOutsideLoop {
                        span: stmt.span,
                        word,
                    });
                }
                Ty::Never
            }
            StmtKind::Return(value) => {
                self.return_stmt(value.as_ref(), stmt.span);
                Ty::Never
            }
            StmtKind::Persist { op, target } => {
                self.persist(*op, target);
                Ty::None
            }
            StmtKind::Transaction(block) | StmtKind::Block(block) => {
                self.block_value(block);
                Ty::None
            }
            StmtKind::Assert(cond) => {
                self.condition(cond);
                Ty::None
            }
            StmtKind::Validate(fields) => {
                self.validate(fields);
                Ty::None
            }
            StmtKind::Guard(guard) => {
                self.guard(guard);
                Ty::None
            }
            StmtKind::Lifecycle { body, .. } => {
                self.block_value(body);
                Ty::None
            }
            StmtKind::Markup(markup) => {
                self.markup(markup);
                Ty::None
            }
            // Declarations and blocks out of place were reported by the parser.
            _ => Ty::None,
        }
    }

    /// The element type of what a `for` loops over.
    pub fn element_of(&mut self, iter_ty: &Ty, span: Span) -> Ty {
        match self.shallow(iter_ty) {
            Ty::List(item) => *item,
            Ty::Query(entity) => Ty::Entity(entity),
            Ty::Map(key, _) => *key,
            Ty::Text => Ty::Text,
            Ty::Json => Ty::Json,
            Ty::Error | Ty::Never => Ty::Error,
            Ty::Var(_) => {
                let item = self.fresh();
                let _ = self.subst.unify(iter_ty, &Ty::list(item.clone()));
                item
            }
            Ty::Optional(_) => {
                self.error(CheckError::MaybeNone {
                    span,
                    what: "the value looped over".into(),
                    ty: self.resolve(iter_ty),
                });
                Ty::Error
            }
            other => {
                self.error(CheckError::NotIterable {
                    span,
                    ty: self.resolve(&other),
                });
                Ty::Error
            }
        }
    }

    fn return_stmt(&mut self, value: Option<&ast::Expr>, span: Span) {
        if self.frame.kind == FrameKind::TopLevel {
            self.error(CheckError::ReturnOutsideFunction { span });
            if let Some(value) = value {
                self.infer(value);
            }
            return;
        }
        let ty = match value {
            Some(value) => match self.frame.ret.clone() {
                Some(ret) => self.check_expr(value, &ret, "the returned value"),
                None => self.infer(value),
            },
            None => {
                if let Some(ret) = self.frame.ret.clone() {
                    self.expect_ty(&ret, &Ty::None, span, "the returned value");
                }
                Ty::None
            }
        };
        self.frame.returns.push((ty, span));
    }

    /// `if` / `else if` / `else`. Gives the statement's value and, when the `then`
    /// branch always leaves (`if !x { return }`), what holds after it.
    pub fn if_stmt(&mut self, branch: &If) -> (Ty, Vec<(Symbol, Ty, Span)>) {
        let narrowing = self.condition(&branch.cond);
        let then_ty =
            self.with_narrowed(&narrowing.when_true, |c| c.block_value(&branch.then_block));
        let Some(else_branch) = &branch.else_branch else {
            let after = if diverges(&branch.then_block) {
                narrowing.when_false
            } else {
                Vec::new()
            };
            return (Ty::None, after);
        };
        let else_ty = self.with_narrowed(&narrowing.when_false, |c| match else_branch {
            Else::If(inner, _) => c.if_stmt(inner).0,
            Else::Block(block) => c.block_value(block),
        });
        let value = self.subst.join(&then_ty, &else_ty).unwrap_or(Ty::None);
        (value, Vec::new())
    }

    /// Checks a block in a scope of its own; its value is its last statement's.
    pub fn block_value(&mut self, block: &Block) -> Ty {
        self.push_scope();
        let mut value = Ty::None;
        for stmt in &block.stmts {
            value = match &stmt.kind {
                StmtKind::If(branch) => {
                    let (value, after) = self.if_stmt(branch);
                    for (name, ty, span) in after {
                        self.bind(name, ty, span);
                    }
                    value
                }
                _ => self.stmt(stmt),
            };
        }
        self.pop_scope();
        value
    }

    /// A block that runs as a handler: a route, an event, a test, a job run.
    pub fn handler_block(&mut self, block: &Block, kind: FrameKind) -> Ty {
        let saved = std::mem::replace(
            &mut self.frame,
            Frame {
                kind,
                ret: None,
                returns: Vec::new(),
                loops: 0,
            },
        );
        let saved_authed = self.authed;
        let ty = self.block_value(block);
        self.frame = saved;
        self.authed = saved_authed;
        ty
    }

    fn assign(&mut self, assign: &ast::Assign) {
        if let ExprKind::Name(name) = &assign.target.kind {
            if assign.op == AssignOp::Set {
                self.assign_name(name, assign.ty.as_ref(), &assign.value);
                return;
            }
        }
        let target_ty = self.assign_target(&assign.target);
        // The compiler picks typed instructions for `x += 1` and in-place appends for
        // `s += piece` from the target's type.
        if self.record {
            self.expr_types
                .push((self.file, assign.target.span, target_ty.clone()));
        }
        match assign.op {
            // A reference field takes an entity or its id (data.md §6).
            AssignOp::Set if matches!(assign.target.kind, ExprKind::Member { .. }) => {
                self.field_value(&assign.value, &target_ty);
            }
            AssignOp::Set => {
                self.check_expr(&assign.value, &target_ty, "the assigned value");
            }
            op => {
                let value_ty = self.infer(&assign.value);
                let binary = match op {
                    AssignOp::Add => ast::BinaryOp::Add,
                    AssignOp::Sub => ast::BinaryOp::Sub,
                    AssignOp::Mul => ast::BinaryOp::Mul,
                    _ => ast::BinaryOp::Div,
                };
                match self.arithmetic(binary, &target_ty, &value_ty) {
                    Some(result) => {
                        self.expect_ty(&target_ty, &result, assign.value.span, "the updated value");
                    }
                    None => {
                        let left = self.resolve(&target_ty);
                        let right = self.resolve(&value_ty);
                        if !left.is_error() && !right.is_error() {
                            self.error(CheckError::OperatorTypes {
                                span: assign.value.span,
                                op: binary.as_str(),
                                left,
                                right,
                            });
                        }
                    }
                }
            }
        }
    }

    /// `x = e` declares `x` the first time in a scope and reassigns it after; `x: T = e`
    /// declares it with a type.
    fn assign_name(&mut self, name: &ast::Name, annotation: Option<&ast::Type>, value: &ast::Expr) {
        let existing = self.lookup_var(name.sym).map(|local| local.ty.clone());
        match (annotation, existing) {
            (Some(written), existing) => {
                let declared = self.lower_type(written);
                self.check_expr(value, &declared, "the assigned value");
                match existing {
                    Some(existing)
                        if self.scopes.len() <= 2 && self.top_vars.contains_key(&name.sym) =>
                    {
                        let _ = self.subst.unify(&existing, &declared);
                    }
                    _ => self.bind(name.sym, declared, name.span),
                }
            }
            (None, Some(existing)) => {
                self.check_expr(value, &existing, "the assigned value");
            }
            (None, None) => {
                let ty = self.infer(value);
                self.bind(name.sym, ty.clone(), name.span);
                if self.level == 0 {
                    self.pending.push((name.sym, name.span, ty));
                }
            }
        }
    }

    /// The type of something assigned to: a variable, a field or an element.
    pub fn assign_target(&mut self, target: &ast::Expr) -> Ty {
        match &target.kind {
            ExprKind::Name(name) => match self.lookup_var(name.sym) {
                Some(local) => local.ty.clone(),
                None => {
                    let candidates = self.value_names();
                    self.error(CheckError::UnknownName {
                        span: name.span,
                        name: name.sym,
                        candidates,
                    });
                    Ty::Error
                }
            },
            ExprKind::Member {
                object,
                member: ast::Member::Named(field),
                ..
            } => {
                let object_ty = self.infer(object);
                if matches!(self.shallow(&object_ty), Ty::Entity(_))
                    && crate::decls::AUTO_FIELDS.contains(&field.as_str())
                {
                    self.error(CheckError::AutoFieldSet {
                        span: field.span,
                        field: field.sym,
                    });
                    return Ty::Error;
                }
                if !has_fields(&self.shallow(&object_ty)) {
                    self.error(CheckError::NotAssignable {
                        span: field.span,
                        what: "a property of a value that has no fields",
                    });
                    return Ty::Error;
                }
                self.member_of(&object_ty, *field, false, object.span)
            }
            ExprKind::Index { .. } | ExprKind::Member { .. } => self.infer(target),
            _ => {
                self.error(CheckError::NotAssignable {
                    span: target.span,
                    what: "this expression",
                });
                Ty::Error
            }
        }
    }

    // ---------------------------------------------------------------- functions

    /// A function's type from its declaration: written types, or fresh variables.
    pub fn fn_signature(&mut self, decl: &ast::FnDecl) -> Ty {
        let generics: Vec<(Symbol, Ty)> = decl
            .generics
            .iter()
            .map(|g| (g.sym, self.fresh()))
            .collect();
        self.fn_generics.insert(decl.name.sym, generics.clone());
        let params = decl
            .params
            .iter()
            .map(|param| ParamTy {
                name: Some(param.name.sym),
                ty: match &param.ty {
                    Some(written) => self.lower_type_with(written, &generics),
                    None => self.fresh(),
                },
                has_default: param.default.is_some(),
            })
            .collect();
        let ret = match &decl.ret {
            Some(written) => self.lower_type_with(written, &generics),
            None => self.fresh(),
        };
        Ty::Fn(Box::new(FnTy { params, ret }))
    }

    /// Checks a function's body against its signature.
    pub fn check_fn_body(&mut self, decl: &ast::FnDecl, ty: &Ty) {
        let Ty::Fn(func) = self.shallow(ty) else {
            return;
        };
        let saved_file = self.file;
        if let Some(file) = self.fn_files.get(&decl.name.sym) {
            self.file = *file;
        }
        let generics = self
            .fn_generics
            .get(&decl.name.sym)
            .cloned()
            .unwrap_or_default();
        let saved_generics = std::mem::replace(&mut self.generics, generics.clone());
        // A function sees its parameters, the file's variables and the context names
        // (`params`, `session` …), not the locals of the code around its declaration.
        let saved_scopes = std::mem::replace(&mut self.scopes, vec![super::Scope::default()]);
        for (param, param_ty) in decl.params.iter().zip(&func.params) {
            if let Some(default) = &param.default {
                self.check_expr(default, &param_ty.ty, "the default value");
            }
            self.bind(param.name.sym, param_ty.ty.clone(), param.name.span);
        }
        let declared = decl.ret.is_some();
        let saved_frame = std::mem::replace(
            &mut self.frame,
            Frame {
                kind: FrameKind::Function,
                ret: declared.then(|| func.ret.clone()),
                returns: Vec::new(),
                loops: 0,
            },
        );
        let body_ty = self.block_value(&decl.body);
        let returns = std::mem::replace(&mut self.frame, saved_frame).returns;
        let falls_through = !diverges(&decl.body);
        let tail_is_value = matches!(
            decl.body.stmts.last().map(|s| &s.kind),
            Some(StmtKind::Expr(_) | StmtKind::If(_))
        );
        if declared {
            if falls_through && tail_is_value {
                let tail_span = decl.body.stmts.last().map_or(decl.body.span, |s| s.span);
                self.expect_ty(&func.ret, &body_ty, tail_span, "the function's value");
            } else if falls_through && !returns.is_empty() {
                let end = Span::empty(decl.body.span.end.saturating_sub(1));
                self.expect_ty(&func.ret, &Ty::None, end, "the function's value at its end");
            }
        } else {
            let mut ret: Option<Ty> = None;
            for (ty, span) in returns {
                ret = Some(match ret {
                    None => ty,
                    Some(so_far) => self.join_branches(&so_far, &ty, span),
                });
            }
            if falls_through {
                let tail = if tail_is_value { body_ty } else { Ty::None };
                let tail_span = decl.body.stmts.last().map_or(decl.body.span, |s| s.span);
                ret = Some(match ret {
                    None => tail,
                    Some(so_far) => self.join_branches(&so_far, &tail, tail_span),
                });
            }
            let ret = ret.unwrap_or(Ty::Never);
            if let Err(mismatch) = self.subst.coerce(&func.ret, &ret) {
                self.report_mismatch(
                    &func.ret,
                    &ret,
                    decl.name.span,
                    "the function's value",
                    mismatch,
                );
            }
        }
        self.scopes = saved_scopes;
        self.generics = saved_generics;
        self.file = saved_file;
        for (generic, var) in &generics {
            let resolved = self.resolve(var);
            if !matches!(resolved, Ty::Var(_) | Ty::Error) {
                if let Some(name) = decl.generics.iter().find(|g| g.sym == *generic) {
                    self.error(CheckError::GenericUsedAsConcrete {
                        span: name.span,
                        param: *generic,
                        ty: resolved,
                    });
                }
            }
        }
    }
}

/// Whether `.name = …` can set a field of a value of this type.
pub fn has_fields(ty: &Ty) -> bool {
    matches!(
        ty,
        Ty::Entity(_)
            | Ty::Record(_)
            | Ty::Map(..)
            | Ty::Json
            | Ty::Error
            | Ty::Var(_)
            | Ty::Optional(_)
    )
}

/// Whether a block always leaves before its end: it ends with `return`, `break`,
/// `continue`, a call that never returns, or an `if` whose branches all leave.
pub fn diverges(block: &Block) -> bool {
    match block.stmts.last().map(|s| &s.kind) {
        Some(StmtKind::Return(_) | StmtKind::Break | StmtKind::Continue) => true,
        Some(StmtKind::Expr(expr)) => never_returns(expr),
        Some(StmtKind::If(branch)) => if_diverges(branch),
        _ => false,
    }
}

fn if_diverges(branch: &If) -> bool {
    diverges(&branch.then_block)
        && match &branch.else_branch {
            Some(Else::Block(block)) => diverges(block),
            Some(Else::If(inner, _)) => if_diverges(inner),
            None => false,
        }
}

fn never_returns(expr: &ast::Expr) -> bool {
    match &expr.kind {
        ExprKind::Call { callee, .. } => {
            matches!(&callee.kind, ExprKind::Name(n) if matches!(n.as_str(), "fail" | "error" | "not_found" | "redirect"))
        }
        _ => false,
    }
}
