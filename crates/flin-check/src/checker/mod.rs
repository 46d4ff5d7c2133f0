//! Checking one file: the context of inference (substitution, scopes, the current
//! function or handler), name resolution, and the order top-level code is checked in.
//!
//! Read [`Checker::check_file`] first. The other modules add `impl Checker` blocks:
//! `expr` (expressions), `call` (calls, members, methods), `stmt` (statements, blocks,
//! functions), `pattern` (match), `data` (entities, queries, search, time travel),
//! `markup` (views) and `web` (routes, guards, sockets, jobs).

mod call;
mod data;
mod expr;
pub(crate) mod markup;
mod pattern;
mod stmt;
mod web;

use std::collections::HashMap;

use flin_diagnostics::{FileId, Span};
use flin_syntax::Symbol;
use flin_syntax::ast::{self, StmtKind};
use flin_syntax::visit::{self, Visitor};

use crate::builtins::{BUILTINS, TIME_KEYWORDS, VARIADIC};
use crate::decls::Visible;
use crate::error::CheckError;
use crate::role::Role;
use crate::subst::{Mismatch, Subst};
use crate::ty::{Constraint, Scheme, Ty};

/// A variable in scope.
#[derive(Clone, Debug)]
pub(crate) struct Local {
    pub ty: Ty,
    /// Where it was declared, for notes that point back at it.
    #[allow(dead_code)]
    pub span: Span,
}

#[derive(Default, Debug)]
pub(crate) struct Scope {
    pub vars: HashMap<Symbol, Local>,
}

/// A function's type while its group is inferred (monomorphic), then its scheme.
#[derive(Clone, Debug)]
pub(crate) enum FnState {
    Mono(Ty),
    Poly(Scheme),
}

/// Where code runs: `return` is allowed in functions and handlers, not at the top
/// level of a script or page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameKind {
    TopLevel,
    Function,
    /// A route, an event handler, a test, a job run, a socket message.
    Handler,
}

/// What the code being checked runs inside.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub kind: FrameKind,
    /// The return type of the enclosing function, if any.
    pub ret: Option<Ty>,
    /// Types of `return` values seen, when the return type is inferred.
    pub returns: Vec<(Ty, Span)>,
    pub loops: u32,
}

pub(crate) struct Checker<'c, 'a> {
    pub decls: Visible<'c, 'a>,
    pub file: FileId,
    pub role: Role,
    pub subst: Subst,
    /// Generalization level: top-level functions are inferred one level down.
    pub level: u32,
    pub scopes: Vec<Scope>,
    /// Top-level variables of the file: visible to every function of it.
    pub top_vars: HashMap<Symbol, Local>,
    /// Functions of the file (or, for the project-wide pass, of `lib/`).
    pub fns: HashMap<Symbol, FnState>,
    /// Schemes of project-wide functions, when checking a file.
    pub global_fns: &'c HashMap<Symbol, Scheme>,
    /// Component and layout names of the project.
    pub components: &'c [Symbol],
    /// The props each component reads (`props.tone`), to check call sites.
    pub component_props: &'c HashMap<Symbol, Vec<Symbol>>,
    pub layouts: &'c [Symbol],
    /// The entity `current_user()` returns.
    pub auth_entity: Option<Symbol>,
    pub frame: Frame,
    /// Names given by the file's role and the block being checked (`params`, `body`,
    /// `event`, `props` …): found after variables and functions.
    pub context: HashMap<Symbol, Ty>,
    /// Generic parameters in scope (inside a generic function).
    pub generics: Vec<(Symbol, Ty)>,
    /// The generic parameters of each function of the file, as variables.
    pub fn_generics: HashMap<Symbol, Vec<(Symbol, Ty)>>,
    /// `guard auth` applies: `current_user()` is not optional.
    pub authed: bool,
    /// Checking an `every`/`cron` block: there is no request (services.md §4).
    pub in_job: bool,
    /// Errors, by the file they are in (the project-wide pass spans several files).
    pub errors: Vec<(FileId, CheckError)>,
    /// The file each function is declared in, for the project-wide pass.
    pub fn_files: HashMap<Symbol, FileId>,
    /// Whether to keep `expr_types` and `flows` (for the compiler; `flin check` does not).
    pub record: bool,
    /// The type of every expression checked, by file and span (resolved at the end).
    pub expr_types: Vec<(FileId, Span, Ty)>,
    /// Values flowing into a place of another type: `(file, span, actual, target)`.
    /// Where an int meets a number, or json a concrete type, the compiler converts.
    pub flows: Vec<(FileId, Span, Ty, Ty)>,
    /// Variables whose type must be known by the end of the file.
    pub pending: Vec<(Symbol, Span, Ty)>,
}

impl<'c, 'a> Checker<'c, 'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        decls: Visible<'c, 'a>,
        file: FileId,
        role: Role,
        global_fns: &'c HashMap<Symbol, Scheme>,
        components: &'c [Symbol],
        component_props: &'c HashMap<Symbol, Vec<Symbol>>,
        layouts: &'c [Symbol],
        auth_entity: Option<Symbol>,
    ) -> Checker<'c, 'a> {
        Checker {
            decls,
            file,
            role,
            subst: Subst::default(),
            level: 0,
            scopes: vec![Scope::default()],
            top_vars: HashMap::new(),
            fns: HashMap::new(),
            global_fns,
            components,
            component_props,
            layouts,
            auth_entity,
            frame: Frame {
                kind: FrameKind::TopLevel,
                ret: None,
                returns: Vec::new(),
                loops: 0,
            },
            context: HashMap::new(),
            generics: Vec::new(),
            fn_generics: HashMap::new(),
            authed: false,
            in_job: false,
            errors: Vec::new(),
            fn_files: HashMap::new(),
            record: false,
            expr_types: Vec::new(),
            flows: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Checks a whole file: its functions (in dependency order, generalized), then its
    /// top-level code in order, then that every variable's type is known.
    pub fn check_file(&mut self, file: &ast::File) {
        self.declare_top_vars(&file.stmts);
        self.init_context();
        let fns: Vec<&ast::FnDecl> = file
            .stmts
            .iter()
            .filter_map(|s| match &s.kind {
                StmtKind::Fn(decl)
                    if self
                        .decls
                        .local
                        .fns
                        .get(&decl.name.sym)
                        .is_some_and(|(_, d)| std::ptr::eq(*d, decl)) =>
                {
                    Some(decl)
                }
                _ => None,
            })
            .collect();
        // A guard at the top of a file covers its page, routes and functions, wherever
        // the line stands.
        self.authed = file.stmts.iter().any(|stmt| {
            matches!(&stmt.kind, StmtKind::Guard(guard) if matches!(guard.name.as_str(), "auth" | "role"))
        });
        let first_assignments = self.first_assignments(&file.stmts);
        let early = self.infer_items(&fns, &first_assignments);
        for (idx, stmt) in file.stmts.iter().enumerate() {
            if !early.contains(&idx) {
                self.top_stmt(stmt);
            }
        }
        self.finish();
    }

    /// Infers a set of top-level functions.
    pub fn infer_fn_group(&mut self, fns: &[&ast::FnDecl]) {
        self.infer_items(fns, &[]);
    }

    /// The first assignment of each file variable: `(statement index, statement)`.
    fn first_assignments<'s>(&self, stmts: &'s [ast::Stmt]) -> Vec<(usize, &'s ast::Stmt)> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for (idx, stmt) in stmts.iter().enumerate() {
            if let StmtKind::Assign(assign) = &stmt.kind {
                if let ast::ExprKind::Name(name) = &assign.target.kind {
                    if assign.op == ast::AssignOp::Set && !seen.contains(&name.sym) {
                        seen.push(name.sym);
                        out.push((idx, stmt));
                    }
                }
            }
        }
        out
    }

    /// Infers top-level functions and the first assignments of file variables in
    /// dependency order: strongly connected groups, each after the ones it uses, so a
    /// function that reads a page variable knows its type, and a variable set from a
    /// function knows the function's. Functions of a group are generalized once the
    /// group is done (let-polymorphism); variables stay monomorphic. Returns the indexes
    /// of the statements checked here, which the in-order pass skips.
    fn infer_items(&mut self, fns: &[&ast::FnDecl], vars: &[(usize, &ast::Stmt)]) -> Vec<usize> {
        let mut names: Vec<Symbol> = fns.iter().map(|f| f.name.sym).collect();
        names.extend(vars.iter().filter_map(|(_, stmt)| match &stmt.kind {
            StmtKind::Assign(assign) => match &assign.target.kind {
                ast::ExprKind::Name(name) => Some(name.sym),
                _ => None,
            },
            _ => None,
        }));
        // Each name's first place (a project has thousands: a linear search per
        // reference made checking quadratic in the project's size).
        let mut place: std::collections::HashMap<Symbol, usize> =
            std::collections::HashMap::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            place.entry(*name).or_insert(i);
        }
        let places = |refs: &NameRefs| -> Vec<usize> {
            refs.names
                .iter()
                .filter_map(|n| place.get(n).copied())
                .collect()
        };
        let mut edges: Vec<Vec<usize>> = fns
            .iter()
            .map(|f| {
                let mut refs = NameRefs::default();
                refs.visit_block(&f.body);
                for param in &f.params {
                    if let Some(default) = &param.default {
                        refs.visit_expr(default);
                    }
                }
                places(&refs)
            })
            .collect();
        for (_, stmt) in vars {
            let mut refs = NameRefs::default();
            if let StmtKind::Assign(assign) = &stmt.kind {
                refs.visit_expr(&assign.value);
            }
            edges.push(places(&refs));
        }
        let mut early = Vec::new();
        for group in strongly_connected(&edges) {
            self.level += 1;
            let mut monos = Vec::new();
            for idx in &group {
                let Some(decl) = fns.get(*idx) else { continue };
                let ty = self.fn_signature(decl);
                self.fns.insert(decl.name.sym, FnState::Mono(ty.clone()));
                monos.push((*idx, ty));
            }
            // Variables first: the functions of the group may read them.
            for idx in &group {
                let Some((stmt_idx, stmt)) = idx.checked_sub(fns.len()).and_then(|v| vars.get(v))
                else {
                    continue;
                };
                let level = std::mem::replace(&mut self.level, 0);
                self.top_stmt(stmt);
                self.level = level;
                early.push(*stmt_idx);
            }
            for (idx, ty) in &monos {
                if let Some(decl) = fns.get(*idx) {
                    self.check_fn_body(decl, ty);
                }
            }
            self.level -= 1;
            for (idx, ty) in monos {
                let Some(decl) = fns.get(idx) else { continue };
                let mut scheme = self.subst.generalize(&ty, self.level);
                scheme.param_names = decl.generics.iter().map(|g| g.sym).collect();
                self.fns.insert(decl.name.sym, FnState::Poly(scheme));
            }
        }
        early
    }

    /// Every top-level name assigned in the file is a file variable, typed by its
    /// assignments wherever they are (functions may read it).
    pub fn declare_top_vars(&mut self, stmts: &[ast::Stmt]) {
        for stmt in stmts {
            if let StmtKind::Assign(assign) = &stmt.kind {
                if let ast::ExprKind::Name(name) = &assign.target.kind {
                    if assign.op == ast::AssignOp::Set && !self.top_vars.contains_key(&name.sym) {
                        let ty = self.fresh();
                        self.top_vars.insert(
                            name.sym,
                            Local {
                                ty: ty.clone(),
                                span: name.span,
                            },
                        );
                        self.pending.push((name.sym, name.span, ty));
                    }
                }
            }
        }
    }

    /// Reports variables whose type nothing decided (after numeric defaulting).
    pub fn finish(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for (name, span, ty) in pending {
            let open = self.subst.default_numeric(&ty);
            let resolved = self.subst.resolve(&ty);
            let undecided = matches!(resolved, Ty::Var(_))
                || matches!(&resolved, Ty::List(inner) if matches!(**inner, Ty::Var(_)))
                || matches!(&resolved, Ty::Map(k, v) if matches!(**k, Ty::Var(_)) || matches!(**v, Ty::Var(_)));
            if open && undecided {
                self.error(CheckError::CannotInfer {
                    span,
                    what: format!("`{name}`"),
                });
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    pub fn fresh(&mut self) -> Ty {
        self.subst.fresh(Constraint::Any, self.level)
    }

    pub fn error(&mut self, error: CheckError) {
        self.errors.push((self.file, error));
    }

    pub fn resolve(&self, ty: &Ty) -> Ty {
        self.subst.resolve(ty)
    }

    pub fn shallow(&self, ty: &Ty) -> Ty {
        self.subst.shallow(ty)
    }

    /// Requires `actual` where `expected` is wanted; reports a mismatch at `span`.
    pub fn expect_ty(
        &mut self,
        expected: &Ty,
        actual: &Ty,
        span: Span,
        what: &'static str,
    ) -> bool {
        match self.subst.coerce(expected, actual) {
            Ok(()) => {
                self.note_flow(span, actual, expected);
                true
            }
            Err(mismatch) => {
                self.report_mismatch(expected, actual, span, what, mismatch);
                false
            }
        }
    }

    /// Remembers that the value at `span` (of type `actual`) is used as a `target`.
    pub fn note_flow(&mut self, span: Span, actual: &Ty, target: &Ty) {
        if self.record {
            self.flows
                .push((self.file, span, actual.clone(), target.clone()));
        }
    }

    /// The resolved types of the expressions checked, and the conversions the compiler
    /// must make (an int used as a number; json used as a concrete type).
    pub fn take_tables(&mut self) -> crate::Tables {
        let mut tables = crate::Tables::default();
        for (file, span, ty) in std::mem::take(&mut self.expr_types) {
            self.subst.default_numeric(&ty);
            tables
                .types
                .insert((file, span.start, span.end), self.subst.resolve(&ty));
        }
        for (file, span, actual, target) in std::mem::take(&mut self.flows) {
            let actual = self.subst.resolve(&actual);
            let target = self.subst.resolve(&target);
            let target = match target {
                Ty::Optional(inner) => *inner,
                other => other,
            };
            let converts = match (&actual, &target) {
                (Ty::Int, Ty::Number) | (Ty::Query(_), Ty::List(_)) => true,
                (Ty::Json, t) => !matches!(
                    t,
                    Ty::Json | Ty::Error | Ty::Var(_) | Ty::Param(_) | Ty::Never | Ty::None
                ),
                _ => false,
            };
            if converts {
                tables
                    .conversions
                    .insert((file, span.start, span.end), target);
            }
        }
        tables
    }

    pub fn report_mismatch(
        &mut self,
        expected: &Ty,
        actual: &Ty,
        span: Span,
        what: &'static str,
        mismatch: Mismatch,
    ) {
        let expected = self.resolve(expected);
        let found = self.resolve(actual);
        if expected.is_error() || found.is_error() {
            return;
        }
        match mismatch {
            Mismatch::Constraint(constraint) => {
                self.error(CheckError::NotAFamily {
                    span,
                    found,
                    wanted: constraint.describe(),
                });
            }
            _ => self.error(CheckError::Mismatch {
                span,
                expected,
                found,
                what,
            }),
        }
    }

    pub fn push_scope(&mut self) {
        self.scopes.push(Scope::default());
    }

    pub fn pop_scope(&mut self) {
        if self.scopes.len() > 1 {
            self.scopes.pop();
        }
    }

    /// Declares a variable in the innermost scope.
    pub fn bind(&mut self, name: Symbol, ty: Ty, span: Span) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.vars.insert(name, Local { ty, span });
        }
    }

    /// A variable visible here: innermost scope first, then the file's variables.
    pub fn lookup_var(&self, name: Symbol) -> Option<&Local> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.vars.get(&name))
            .or_else(|| self.top_vars.get(&name))
    }

    /// The scheme of a function visible by name: the file's, then the project's.
    pub fn fn_scheme(&self, name: Symbol) -> Option<Scheme> {
        match self.fns.get(&name) {
            Some(FnState::Mono(ty)) => return Some(Scheme::mono(ty.clone())),
            Some(FnState::Poly(scheme)) => return Some(scheme.clone()),
            None => {}
        }
        self.global_fns.get(&name).cloned()
    }

    /// Every value name visible here, for "did you mean".
    pub fn value_names(&self) -> Vec<Symbol> {
        let mut names: Vec<Symbol> = self
            .scopes
            .iter()
            .flat_map(|s| s.vars.keys().copied())
            .collect();
        names.extend(self.top_vars.keys().copied());
        names.extend(self.fns.keys().copied());
        names.extend(self.global_fns.keys().copied());
        names.extend(BUILTINS.function_names());
        names.extend(
            VARIADIC
                .iter()
                .chain(TIME_KEYWORDS)
                .map(|n| Symbol::intern(n)),
        );
        names.extend(self.decls.all_entities().map(|e| e.name));
        names.extend(self.decls.all_enums().map(|e| e.name));
        names
    }

    /// An enum variant that does not exist, with the variants that do.
    pub fn unknown_variant(&mut self, span: Span, variant: Symbol, owner: Symbol) {
        let info = self.decls.enum_info(owner);
        let candidates = info.map(|e| e.variant_names()).unwrap_or_default();
        let declared = info.map(|e| e.place);
        self.error(CheckError::UnknownVariant {
            span,
            variant,
            owner,
            candidates,
            declared,
        });
    }

    /// Lowers a written type in this file (generic parameters in scope included).
    pub fn lower_type(&mut self, ty: &ast::Type) -> Ty {
        let generics = self.generics.clone();
        self.lower_type_with(ty, &generics)
    }

    /// Lowers a written type where generic parameters are in scope.
    pub fn lower_type_with(&mut self, ty: &ast::Type, generics: &[(Symbol, Ty)]) -> Ty {
        let mut errors = Vec::new();
        let names = WithGenerics {
            inner: &self.decls,
            generics,
        };
        let lowered = crate::lower::lower(ty, &names, &mut errors);
        let file = self.file;
        self.errors.extend(errors.into_iter().map(|e| (file, e)));
        lowered
    }
}

struct WithGenerics<'n> {
    inner: &'n dyn crate::lower::TypeNames,
    generics: &'n [(Symbol, Ty)],
}

impl crate::lower::TypeNames for WithGenerics<'_> {
    fn lookup_type(&self, name: Symbol) -> Option<Ty> {
        self.generics
            .iter()
            .find(|(g, _)| *g == name)
            .map(|(_, ty)| ty.clone())
            .or_else(|| self.inner.lookup_type(name))
    }

    fn type_names(&self) -> Vec<Symbol> {
        let mut names = self.inner.type_names();
        names.extend(self.generics.iter().map(|(g, _)| *g));
        names
    }
}

/// Names mentioned in a function body, to order functions by dependency.
#[derive(Default)]
struct NameRefs {
    names: Vec<Symbol>,
}

impl Visitor for NameRefs {
    fn visit_expr(&mut self, expr: &ast::Expr) {
        if let ast::ExprKind::Name(name) = &expr.kind {
            self.names.push(name.sym);
        }
        visit::walk_expr(self, expr);
    }
}

/// Tarjan's algorithm: the strongly connected components of a graph given as adjacency
/// lists, each component after the ones it depends on.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'e> {
        edges: &'e [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(state: &mut State<'_>, node: usize) {
        let Some(slot) = state.index.get_mut(node) else {
            return;
        };
        *slot = Some(state.next);
        if let Some(low) = state.low.get_mut(node) {
            *low = state.next;
        }
        state.next += 1;
        state.stack.push(node);
        if let Some(flag) = state.on_stack.get_mut(node) {
            *flag = true;
        }
        let successors = state.edges.get(node).cloned().unwrap_or_default();
        for next in successors {
            match state.index.get(next).copied().flatten() {
                None => {
                    visit(state, next);
                    let next_low = state.low.get(next).copied().unwrap_or(usize::MAX);
                    if let Some(low) = state.low.get_mut(node) {
                        *low = (*low).min(next_low);
                    }
                }
                Some(next_index) if state.on_stack.get(next).copied().unwrap_or(false) => {
                    if let Some(low) = state.low.get_mut(node) {
                        *low = (*low).min(next_index);
                    }
                }
                Some(_) => {}
            }
        }
        if state.low.get(node) == state.index.get(node).copied().flatten().as_ref() {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                if let Some(flag) = state.on_stack.get_mut(member) {
                    *flag = false;
                }
                component.push(member);
                if member == node {
                    break;
                }
            }
            state.out.push(component);
        }
    }
    let n = edges.len();
    let mut state = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for node in 0..n {
        if state.index.get(node).copied().flatten().is_none() {
            visit(&mut state, node);
        }
    }
    state.out
}
