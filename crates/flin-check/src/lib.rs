//! Checking a FLIN program (language.md §3, §11; data.md; web.md): loading a project,
//! parsing its files in parallel, resolving names project-wide, inferring types, and
//! reporting every static error the spec names, before anything runs.
//!
//! The order: parse every file (rayon); collect the declarations of `entities/` and
//! `lib/` into the project-wide table and resolve their types; infer the project-wide
//! functions (one pass, in dependency order); then check each file on its own, in
//! parallel, with its own declarations beside the project's. A file with syntax errors is
//! not type-checked, so one typo does not cascade.
//!
//! Read [`check`] first, then `checker/mod.rs`.
//!
//! Invariant: this crate knows nothing of bytecode, the VM, the database or HTTP. It
//! answers "is this program well-formed, and what type has each name"; later phases
//! trust its answer.

mod builtins;
mod checker;
mod decls;
mod error;
mod lower;
mod project;
mod role;
mod subst;
pub mod suggest;
mod ty;

use std::collections::HashMap;
use std::sync::OnceLock;

use flin_diagnostics::{Diagnostic, FileId};
use flin_syntax::Symbol;
use flin_syntax::ast;
use rayon::prelude::*;

pub use checker::markup::EVENTS;
pub use error::CheckError;
pub use project::{LoadError, Project, load};
pub use role::Role;
pub use ty::Ty;

use checker::Checker;
use decls::{DeclTable, FileDecls, Visible};
use ty::Scheme;

/// The parsed files of a project, every diagnostic found, and what the checker learnt
/// for the compiler.
#[derive(Debug)]
pub struct Checked {
    pub files: Vec<(FileId, ast::File)>,
    pub diagnostics: Vec<Diagnostic>,
    pub tables: Tables,
}

/// Key of an expression: its file and span.
pub type ExprKey = (FileId, u32, u32);

/// What the compiler needs from the checker.
#[derive(Debug, Default)]
pub struct Tables {
    /// The type of each expression.
    pub types: HashMap<ExprKey, Ty>,
    /// Where a value converts to another type: an int to a number, json to a concrete
    /// type (the target type).
    pub conversions: HashMap<ExprKey, Ty>,
}

impl Tables {
    fn merge(&mut self, other: Tables) {
        self.types.extend(other.types);
        self.conversions.extend(other.conversions);
    }
}

impl Checked {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
}

/// Parses and checks every file of the project.
pub fn check(project: &Project) -> Checked {
    check_with(project, false)
}

/// Parses and checks every file, keeping the expression types and conversions the
/// compiler needs ([`Checked::tables`]).
pub fn check_for_compile(project: &Project) -> Checked {
    check_with(project, true)
}

fn check_with(project: &Project, record: bool) -> Checked {
    let sources: Vec<_> = project.sources.iter().collect();
    let run = || {
        let parsed: Vec<(FileId, flin_syntax::Parsed)> = sources
            .par_iter()
            .map(|source| (source.id, flin_syntax::parse(&source.text, source.id)))
            .collect();
        let single_file = project.single_file;
        let roles: Vec<Role> = sources
            .iter()
            .map(|source| Role::of(&source.path, single_file))
            .collect();
        let mut diagnostics = project.diagnostics.clone();
        for (_, file) in &parsed {
            diagnostics.extend(file.diagnostics.iter().cloned());
        }
        let checkable: Vec<bool> = parsed.iter().map(|(_, p)| !p.has_errors()).collect();
        let (mut type_diagnostics, tables) = check_parsed(&parsed, &roles, &checkable, record);
        diagnostics.append(&mut type_diagnostics);
        diagnostics.sort_by_key(Diagnostic::sort_key);
        let files = parsed.into_iter().map(|(id, p)| (id, p.file)).collect();
        Checked {
            files,
            diagnostics,
            tables,
        }
    };
    match pool() {
        Some(pool) => pool.install(run),
        None => run(),
    }
}

fn check_parsed(
    parsed: &[(FileId, flin_syntax::Parsed)],
    roles: &[Role],
    checkable: &[bool],
    record: bool,
) -> (Vec<Diagnostic>, Tables) {
    let mut tables = Tables::default();
    let mut errors: Vec<(FileId, CheckError)> = Vec::new();
    // Project-wide declarations: entities/ and lib/.
    let global_files: Vec<FileDecls> = parsed
        .iter()
        .zip(roles)
        .filter(|(_, role)| role.is_project_wide())
        .map(|((id, p), _)| FileDecls {
            file: *id,
            stmts: &p.file.stmts,
        })
        .collect();
    let mut global = DeclTable::default();
    decls::register(&mut global, &global_files, None, &mut errors);
    let empty = DeclTable::default();
    let resolved = decls::resolve(
        &global_files,
        &Visible {
            local: &empty,
            global: &global,
        },
        &mut errors,
    );
    resolved.install(&mut global);

    let components: Vec<Symbol> = roles
        .iter()
        .filter_map(|r| {
            if let Role::Component(name) = r {
                Some(*name)
            } else {
                None
            }
        })
        .collect();
    let component_props: HashMap<Symbol, Vec<Symbol>> = parsed
        .iter()
        .zip(roles)
        .filter_map(|((_, p), role)| match role {
            Role::Component(name) => Some((*name, props_read(&p.file))),
            _ => None,
        })
        .collect();
    let layouts: Vec<Symbol> = roles
        .iter()
        .filter_map(|r| {
            if let Role::Layout(name) = r {
                Some(*name)
            } else {
                None
            }
        })
        .collect();
    let auth_entity = global.entities.get(&Symbol::intern("User")).map(|e| e.name);

    // Project-wide functions, inferred together so any file can use their schemes.
    let no_fns = HashMap::new();
    let global_fns: HashMap<Symbol, Scheme> = {
        let mut checker = Checker::new(
            Visible {
                local: &empty,
                global: &global,
            },
            FileId(0),
            Role::Lib,
            &no_fns,
            &components,
            &component_props,
            &layouts,
            auth_entity,
        );
        for file in &global_files {
            checker.declare_top_vars(file.stmts);
            checker.record = record;
        }
        let mut fns: Vec<&ast::FnDecl> = global.fns.values().map(|(_, decl)| *decl).collect();
        fns.sort_by_key(|decl| {
            (
                global.fns.get(&decl.name.sym).map(|(f, _)| *f),
                decl.name.span.start,
            )
        });
        checker.fn_files = global
            .fns
            .iter()
            .map(|(name, (file, _))| (*name, *file))
            .collect();
        checker.infer_fn_group(&fns);
        errors.append(&mut checker.errors);
        tables.merge(checker.take_tables());
        checker
            .fns
            .into_iter()
            .map(|(name, state)| match state {
                checker::FnState::Poly(scheme) => (name, scheme),
                checker::FnState::Mono(ty) => (name, Scheme::mono(ty)),
            })
            .collect()
    };

    let per_file: Vec<(Vec<Diagnostic>, Tables)> = parsed
        .par_iter()
        .zip(roles.par_iter())
        .zip(checkable.par_iter())
        .map(|(((id, p), role), checkable)| {
            let mut file_errors: Vec<(FileId, CheckError)> = Vec::new();
            let local_files = [FileDecls {
                file: *id,
                stmts: &p.file.stmts,
            }];
            let mut local = DeclTable::default();
            if !role.is_project_wide() {
                decls::register(&mut local, &local_files, Some(&global), &mut file_errors);
                let resolved = decls::resolve(
                    &local_files,
                    &Visible {
                        local: &local,
                        global: &global,
                    },
                    &mut file_errors,
                );
                resolved.install(&mut local);
            }
            let local_auth =
                auth_entity.or_else(|| local.entities.get(&Symbol::intern("User")).map(|e| e.name));
            let mut diagnostics: Vec<Diagnostic> = file_errors
                .into_iter()
                .map(|(file, e)| e.into_diagnostic(file))
                .collect();
            let mut file_tables = Tables::default();
            if *checkable {
                let mut checker = Checker::new(
                    Visible {
                        local: &local,
                        global: &global,
                    },
                    *id,
                    role.clone(),
                    &global_fns,
                    &components,
                    &component_props,
                    &layouts,
                    local_auth,
                );
                checker.record = record;
                checker.check_file(&p.file);
                file_tables = checker.take_tables();
                diagnostics.extend(
                    checker
                        .errors
                        .into_iter()
                        .map(|(file, e)| e.into_diagnostic(file)),
                );
            }
            (diagnostics, file_tables)
        })
        .collect();
    let mut diagnostics: Vec<Diagnostic> = errors
        .into_iter()
        .map(|(file, e)| e.into_diagnostic(file))
        .collect();
    for (file_diagnostics, file_tables) in per_file {
        diagnostics.extend(file_diagnostics);
        tables.merge(file_tables);
    }
    (diagnostics, tables)
}

/// The props a component reads: every `props.NAME` in it.
fn props_read(file: &ast::File) -> Vec<Symbol> {
    use flin_syntax::visit::{self, Visitor};
    struct Props(Vec<Symbol>);
    impl Visitor for Props {
        fn visit_expr(&mut self, expr: &ast::Expr) {
            if let ast::ExprKind::Member {
                object,
                member: ast::Member::Named(name),
                ..
            } = &expr.kind
            {
                if matches!(&object.kind, ast::ExprKind::Name(n) if n.as_str() == "props")
                    && !self.0.contains(&name.sym)
                {
                    self.0.push(name.sym);
                }
            }
            visit::walk_expr(self, expr);
        }
    }
    let mut props = Props(Vec::new());
    visit::walk_file(&mut props, file);
    props.0
}

/// The compile pool: rayon's threads with a stack deep enough for the parser's nesting
/// limit in debug builds too.
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(32 * 1024 * 1024)
            .thread_name(|idx| format!("flin-compile-{idx}"))
            .build()
            .ok()
    })
    .as_ref()
}
