//! Compiling a checked FLIN program to bytecode (DESIGN.md): one module per file,
//! compiled in parallel, then linked into one [`ProgramCode`] that the VM runs.
//!
//! Read [`compile`] first, then `compiler.rs` (names, functions), `expr.rs`, `stmt.rs`
//! and `pattern.rs`. `captures.rs` finds the locals closures capture; `func.rs` builds one
//! function's code.
//!
//! Every top-level function gets its id before any file is compiled, so modules can call
//! each other's functions directly; lambdas, tests and each file's top-level code are
//! numbered within their module and rebased when linking.
//!
//! Invariant: the compiler knows nothing of how the VM executes, of SQL or of HTTP. It
//! emits the instructions `flin-vm` defines and trusts the checker: it compiles only
//! programs without errors.

mod captures;
mod compiler;
mod entity;
mod expr;
mod func;
mod markup;
mod pattern;
mod query;
mod scoped_css;
mod stmt;
mod view;

use std::collections::{HashMap, HashSet};

use flin_check::{Checked, Project, Role};
use flin_diagnostics::{Diagnostic, FileId, Span};
use flin_syntax::Symbol;
use flin_syntax::ast::{self, StmtKind};
use flin_vm::{Constant, FunctionCode, Op, ProgramCode, TestCode};
use rayon::prelude::*;

use captures::CaptureAnalysis;
use compiler::{Ctx, FnBody, LOCAL_FUNCTION, ModuleCompiler};
use func::FnBuilder;

/// One compiled file.
struct Module {
    file: FileId,
    /// Top-level functions, by their program id.
    functions: Vec<(u32, FunctionCode)>,
    /// Lambdas, tests and the top-level code, by their index in the module.
    extras: Vec<FunctionCode>,
    main: u32,
    tests: Vec<(String, u32, Span)>,
    routes: Vec<(String, u32, Span)>,
    /// `every`/`cron` blocks: (schedule with local function ids, job function, span).
    jobs: Vec<(flin_vm::Schedule, u32, Span)>,
    /// The `ws` block's handlers: connect, message, close (local ids).
    socket: Option<[Option<u32>; 3]>,
    /// Whether the file's top-level code renders markup.
    renders: bool,
    /// `layout "x"` / `layout none`.
    layout: Option<Option<String>>,
    /// The `middleware { }` block.
    middleware: Option<u32>,
    /// A file with markup: how a view renders it.
    view: Option<ModuleView>,
    errors: Vec<Diagnostic>,
}

/// A file with markup, its function indices local to the module.
struct ModuleView {
    render: u32,
    globals: Vec<u32>,
    live: Vec<flin_vm::program::LiveValueCode>,
    on_mount: Vec<u32>,
    on_unmount: Vec<u32>,
    interactive: bool,
}

/// Compiles a checked program. The checker must have found no error.
pub fn compile(project: &Project, checked: &Checked) -> Result<ProgramCode, Vec<Diagnostic>> {
    let roles: HashMap<FileId, Role> = project
        .sources
        .iter()
        .map(|s| (s.id, Role::of(&s.path, project.single_file)))
        .collect();
    let mut global_fns = HashMap::new();
    let mut file_fns = HashMap::new();
    let mut fn_params = HashMap::new();
    let mut fn_order: Vec<(FileId, &ast::FnDecl)> = Vec::new();
    // Entities, and a function per field default (compiled in the declaring file).
    let entity_decls = entity::collect(checked.files.iter().map(|(f, t)| (*f, t)));
    let default_decls: Vec<(FileId, Symbol, usize, ast::FnDecl)> = entity_decls
        .iter()
        .flat_map(|(file, decl)| {
            decl.fields.iter().enumerate().filter_map(|(idx, field)| {
                let default = field.default.as_ref()?;
                Some((
                    *file,
                    decl.name.sym,
                    idx,
                    entity::default_fn(decl.name.sym, field, default),
                ))
            })
        })
        .collect();
    // `guard_definition name(params) { }`: a function named `guard name`.
    let guard_decls: Vec<(FileId, ast::FnDecl)> = checked
        .files
        .iter()
        .flat_map(|(file, tree)| {
            tree.stmts.iter().filter_map(move |stmt| match &stmt.kind {
                StmtKind::GuardDefinition { name, params, body } => Some((
                    *file,
                    ast::FnDecl {
                        name: ast::Name {
                            sym: Symbol::intern(&format!("guard {}", name.as_str())),
                            span: name.span,
                        },
                        generics: Vec::new(),
                        params: params.clone(),
                        ret: None,
                        body: body.clone(),
                    },
                )),
                _ => None,
            })
        })
        .collect();
    for (file, decl) in &guard_decls {
        let id = fn_order.len() as u32;
        let project_wide = roles.get(file).is_some_and(Role::is_project_wide);
        if project_wide {
            global_fns.insert(decl.name.sym, id);
        } else {
            file_fns.insert((*file, decl.name.sym), id);
        }
        fn_params.insert(
            id,
            decl.params
                .iter()
                .map(|p| (p.name.sym, p.default.is_some()))
                .collect(),
        );
        fn_order.push((*file, decl));
    }
    let mut default_ids: HashMap<(Symbol, usize), u32> = HashMap::new();
    for (file, entity_name, idx, decl) in &default_decls {
        let id = fn_order.len() as u32;
        fn_params.insert(id, Vec::new());
        default_ids.insert((*entity_name, *idx), id);
        fn_order.push((*file, decl));
    }
    let mut globals = HashMap::new();
    let mut global_names = Vec::new();
    let mut file_globals: HashMap<FileId, HashSet<Symbol>> = HashMap::new();
    let mut enums = HashMap::new();
    let mut entities = HashMap::new();
    for (file, tree) in &checked.files {
        let project_wide = roles.get(file).is_some_and(Role::is_project_wide);
        for stmt in &tree.stmts {
            match &stmt.kind {
                StmtKind::Fn(decl) => {
                    let id = fn_order.len() as u32;
                    let fresh = if project_wide {
                        global_fns.insert(decl.name.sym, id).is_none()
                    } else {
                        file_fns.insert((*file, decl.name.sym), id).is_none()
                    };
                    if fresh {
                        fn_params.insert(
                            id,
                            decl.params
                                .iter()
                                .map(|p| (p.name.sym, p.default.is_some()))
                                .collect(),
                        );
                        fn_order.push((*file, decl));
                    }
                }
                StmtKind::Enum(decl) => {
                    enums.insert(
                        decl.name.sym,
                        decl.variants
                            .iter()
                            .map(|v| (v.name.sym, v.payload.len() as u16))
                            .collect::<Vec<_>>(),
                    );
                }
                StmtKind::Entity(decl) => {
                    let mut fields = query::EntityFields::default();
                    for field in &decl.fields {
                        fields.fields.insert(field.name.sym);
                        if is_list_type(&field.ty) {
                            fields.lists.insert(field.name.sym);
                        }
                    }
                    entities.insert(decl.name.sym, fields);
                }
                StmtKind::Assign(assign) => {
                    if let ast::ExprKind::Name(name) = &assign.target.kind {
                        if assign.op == ast::AssignOp::Set
                            && !globals.contains_key(&(*file, name.sym))
                        {
                            globals.insert((*file, name.sym), global_names.len() as u32);
                            global_names.push((*file, name.sym));
                            file_globals.entry(*file).or_default().insert(name.sym);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let entity_names: HashSet<Symbol> = entity_decls.iter().map(|(_, d)| d.name.sym).collect();
    let mut entity_defs = Vec::new();
    let mut entity_types = HashMap::new();
    for (_, decl) in &entity_decls {
        if entity_types.contains_key(&decl.name.sym) {
            continue;
        }
        let info = entity::EntityInfo {
            index: entity_defs.len() as u32,
            fields: decl
                .fields
                .iter()
                .enumerate()
                .map(|(idx, field)| entity::FieldInfo {
                    name: field.name.sym,
                    default_fn: default_ids.get(&(decl.name.sym, idx)).copied(),
                    list: is_list_type(&field.ty),
                })
                .collect(),
        };
        entity_defs.push(entity::entity_def(decl, &enums, &entity_names));
        entity_types.insert(decl.name.sym, info);
    }
    let fn_reads = fn_order
        .iter()
        .enumerate()
        .map(|(id, (file, decl))| (id as u32, (*file, view::reads_of_block(&decl.body))))
        .collect();
    let ctx = Ctx {
        fn_reads,
        entity_types,
        tables: &checked.tables,
        global_fns,
        file_fns,
        fn_params,
        globals,
        file_globals,
        enums,
        entities,
    };
    let n_top = fn_order.len();
    let sources: HashMap<FileId, &str> = project
        .sources
        .iter()
        .map(|s| (s.id, s.text.as_str()))
        .collect();
    let paths: HashMap<FileId, &str> = project
        .sources
        .iter()
        .map(|s| (s.id, s.path.as_str()))
        .collect();

    let modules: Vec<Module> = checked
        .files
        .par_iter()
        .map(|(file, tree)| {
            let src = sources.get(file).copied().unwrap_or("");
            // A file with a `<style>` (not `global`) scopes its CSS to its elements.
            let scope = has_scoped_style(&tree.stmts)
                .then(|| scoped_css::scope_attribute(paths.get(file).copied().unwrap_or("")));
            let is_component = matches!(roles.get(file), Some(Role::Component(_)));
            compile_module(&ctx, *file, tree, src, &fn_order, scope, is_component)
        })
        .collect();

    // Link: top-level functions first (by id), then each module's own functions.
    let mut functions: Vec<Option<FunctionCode>> = vec![None; n_top];
    let mut entries = Vec::new();
    let mut tests = Vec::new();
    let mut routes = Vec::new();
    let mut jobs = Vec::new();
    let mut sockets = Vec::new();
    let mut renders = Vec::new();
    let mut layouts = Vec::new();
    let mut middleware = Vec::new();
    let mut views = Vec::new();
    let mut errors = Vec::new();
    let mut rest: Vec<FunctionCode> = Vec::new();
    for module in modules {
        let offset = (n_top + rest.len()) as u32;
        let rebase = |code: &mut FunctionCode| {
            for constant in &mut code.constants {
                if let Constant::Function(id) = constant {
                    if *id & LOCAL_FUNCTION != 0 {
                        *id = offset + (*id & !LOCAL_FUNCTION);
                    }
                }
            }
        };
        for (id, mut code) in module.functions {
            rebase(&mut code);
            if let Some(slot) = functions.get_mut(id as usize) {
                *slot = Some(code);
            }
        }
        entries.push((module.file, offset + module.main));
        for (method, local, span) in module.routes {
            routes.push(flin_vm::RouteCode {
                file: module.file,
                method,
                function: offset + local,
                span,
            });
        }
        for (position, (schedule, local, span)) in module.jobs.into_iter().enumerate() {
            let path = project
                .sources
                .get(module.file)
                .map_or_else(String::new, |s| s.path.clone());
            jobs.push(flin_vm::JobCode {
                name: format!("{path}:{}", position + 1),
                file: module.file,
                position: position as u32 + 1,
                schedule: match schedule {
                    flin_vm::Schedule::Every { interval, at } => flin_vm::Schedule::Every {
                        interval: offset + interval,
                        at,
                    },
                    cron => cron,
                },
                function: offset + local,
                span,
            });
        }
        if let Some([connect, message, close]) = module.socket {
            sockets.push(flin_vm::SocketCode {
                file: module.file,
                connect: connect.map(|f| offset + f),
                message: message.map(|f| offset + f),
                close: close.map(|f| offset + f),
            });
        }
        if module.renders {
            renders.push(module.file);
        }
        if let Some(choice) = module.layout {
            layouts.push((module.file, choice));
        }
        if let Some(local) = module.middleware {
            middleware.push((module.file, offset + local));
        }
        if let Some(view) = module.view {
            views.push(flin_vm::program::ViewCode {
                file: module.file,
                main: offset + module.main,
                render: offset + view.render,
                globals: view.globals,
                live: view
                    .live
                    .into_iter()
                    .map(|mut live| {
                        live.function += offset;
                        live
                    })
                    .collect(),
                on_mount: view.on_mount.iter().map(|f| offset + f).collect(),
                on_unmount: view.on_unmount.iter().map(|f| offset + f).collect(),
                interactive: view.interactive,
            });
        }
        for (name, local, span) in module.tests {
            tests.push(TestCode {
                name,
                function: offset + local,
                file: module.file,
                span,
            });
        }
        for mut code in module.extras {
            rebase(&mut code);
            rest.push(code);
        }
        errors.extend(module.errors);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let components: Vec<(String, u32)> = views
        .iter()
        .enumerate()
        .filter_map(|(idx, view)| match roles.get(&view.file) {
            Some(Role::Component(name)) => Some((name.as_str().to_string(), idx as u32)),
            _ => None,
        })
        .collect();
    let mut all: Vec<FunctionCode> = functions
        .into_iter()
        .enumerate()
        .map(|(id, code)| {
            code.unwrap_or_else(|| {
                FnBuilder::new(
                    fn_order.get(id).map(|(_, d)| d.name.sym),
                    FileId(0),
                    Span::empty(0),
                )
                .finish()
            })
        })
        .collect();
    all.extend(rest);
    let program = ProgramCode {
        functions: all,
        globals: global_names,
        entries,
        tests,
        entities: entity_defs,
        routes,
        renders,
        layouts,
        middleware,
        components,
        views,
        jobs,
        sockets,
    };
    if let Err(err) = flin_vm::verify::verify(&program) {
        return Err(vec![Diagnostic::error(
            "E0902",
            FileId(0),
            Span::empty(0),
            format!(
                "internal compiler error: function {} at {}: {}",
                err.function, err.pc, err.problem
            ),
        )]);
    }
    Ok(program)
}

fn compile_module(
    ctx: &Ctx<'_>,
    file: FileId,
    tree: &ast::File,
    src: &str,
    fn_order: &[(FileId, &ast::FnDecl)],
    scope: Option<String>,
    is_component: bool,
) -> Module {
    let mut compiler = ModuleCompiler::new(ctx, file, src);
    compiler.style_scope = scope;
    let mut functions = Vec::new();
    for (id, (fn_file, decl)) in fn_order.iter().enumerate() {
        if *fn_file == file {
            let code = compiler.top_function(decl);
            functions.push((id as u32, code));
        }
    }
    let mut tests = Vec::new();
    for stmt in &tree.stmts {
        if let StmtKind::Test { name, body } = &stmt.kind {
            let globals = compiler.globals_of_file();
            let mut analysis = CaptureAnalysis::new(&globals, false);
            analysis.block(body);
            compiler.captured = analysis.captured;
            let label = format!("test \"{}\"", name.as_plain().unwrap_or_default());
            let code = compiler.function(
                Some(Symbol::intern(&label)),
                &[],
                FnBody::Block(body),
                stmt.span,
            );
            let local = compiler.add_extra(code) & !LOCAL_FUNCTION;
            tests.push((name.as_plain().unwrap_or_default(), local, stmt.span));
        }
    }
    let mut routes = Vec::new();
    for stmt in &tree.stmts {
        if let StmtKind::Route { method, body, .. } = &stmt.kind {
            let globals = compiler.globals_of_file();
            let mut analysis = CaptureAnalysis::new(&globals, false);
            analysis.block(body);
            compiler.captured = analysis.captured;
            let method = method.as_str().to_string();
            let code = compiler.function(
                Some(Symbol::intern(&format!("route {method}"))),
                &[],
                FnBody::Block(body),
                stmt.span,
            );
            let local = compiler.add_extra(code) & !LOCAL_FUNCTION;
            routes.push((method, local, stmt.span));
        }
    }
    let mut jobs = Vec::new();
    for stmt in &tree.stmts {
        let (label, body) = match &stmt.kind {
            StmtKind::Every { body, .. } => ("every", body),
            StmtKind::Cron { body, .. } => ("cron", body),
            _ => continue,
        };
        let globals = compiler.globals_of_file();
        let mut analysis = CaptureAnalysis::new(&globals, false);
        analysis.block(body);
        compiler.captured = analysis.captured;
        let code = compiler.function(
            Some(Symbol::intern(&format!("job ({label})"))),
            &[],
            FnBody::Block(body),
            stmt.span,
        );
        let function = compiler.add_extra(code) & !LOCAL_FUNCTION;
        let schedule = match &stmt.kind {
            StmtKind::Every { interval, at, .. } => {
                let mut analysis = CaptureAnalysis::new(&globals, false);
                analysis.expr(interval);
                compiler.captured = analysis.captured;
                let code = compiler.function(
                    Some(Symbol::intern("job interval")),
                    &[],
                    FnBody::Expr(interval),
                    interval.span,
                );
                flin_vm::Schedule::Every {
                    interval: compiler.add_extra(code) & !LOCAL_FUNCTION,
                    at: at.as_ref().and_then(|t| t.as_plain()),
                }
            }
            StmtKind::Cron { schedule, .. } => {
                flin_vm::Schedule::Cron(schedule.as_plain().unwrap_or_default())
            }
            _ => continue,
        };
        jobs.push((schedule, function, stmt.span));
    }
    let mut socket = None;
    for stmt in &tree.stmts {
        let StmtKind::Ws(handlers) = &stmt.kind else {
            continue;
        };
        let mut found = [None; 3];
        for handler in handlers {
            let slot = match handler.event.as_str() {
                "connect" => 0,
                "message" => 1,
                _ => 2,
            };
            let globals = compiler.globals_of_file();
            let mut analysis = CaptureAnalysis::new(&globals, false);
            analysis.block(&handler.body);
            compiler.captured = analysis.captured;
            let params: Vec<ast::Param> = handler
                .param
                .iter()
                .map(|name| ast::Param {
                    name: *name,
                    ty: None,
                    default: None,
                    span: name.span,
                })
                .collect();
            let code = compiler.function(
                Some(Symbol::intern(&format!("on {}", handler.event.as_str()))),
                &params,
                FnBody::Block(&handler.body),
                handler.span,
            );
            if let Some(place) = found.get_mut(slot) {
                *place = Some(compiler.add_extra(code) & !LOCAL_FUNCTION);
            }
        }
        socket = Some(found);
    }
    let mut middleware = None;
    for stmt in &tree.stmts {
        if let StmtKind::Middleware(body) = &stmt.kind {
            let globals = compiler.globals_of_file();
            let mut analysis = CaptureAnalysis::new(&globals, false);
            analysis.block(body);
            compiler.captured = analysis.captured;
            let code = compiler.function(
                Some(Symbol::intern("middleware")),
                &[],
                FnBody::Block(body),
                stmt.span,
            );
            middleware = Some(compiler.add_extra(code) & !LOCAL_FUNCTION);
        }
    }
    let renders = tree
        .stmts
        .iter()
        .any(|stmt| matches!(stmt.kind, StmtKind::Markup(_)));
    let layout = tree.stmts.iter().find_map(|stmt| match &stmt.kind {
        StmtKind::Layout(name) => Some(name.as_ref().and_then(|t| t.as_plain())),
        _ => None,
    });
    let view = renders.then(|| compile_view(&mut compiler, tree, is_component));
    // The file's top-level code (its markup renders apart, after it: web.md §2).
    let globals = compiler.globals_of_file();
    let mut analysis = CaptureAnalysis::new(&globals, true);
    analysis.stmts(&tree.stmts);
    compiler.captured = analysis.captured;
    compiler.is_main = true;
    compiler.stack.push(FnBuilder::new(None, file, tree.span));
    let result = compiler.b().temp();
    for stmt in &tree.stmts {
        if !matches!(stmt.kind, StmtKind::Markup(_)) {
            compiler.stmt(stmt, None);
        }
    }
    compiler.emit(Op::LoadNone { a: result });
    compiler.emit(Op::Return { a: result });
    compiler.is_main = false;
    let main_code = match compiler.stack.pop() {
        Some(builder) => builder.finish(),
        None => FnBuilder::new(None, file, tree.span).finish(),
    };
    let main = compiler.add_extra(main_code) & !LOCAL_FUNCTION;
    Module {
        file,
        functions,
        extras: compiler.extras,
        main,
        tests,
        routes,
        jobs,
        socket,
        renders,
        layout,
        middleware,
        view,
        errors: compiler.errors,
    }
}

/// The parts of a file with markup that a view runs apart from its top-level code: the
/// markup as a `render` function, each live value's initializer as a function of its
/// own, and the `on_mount`/`on_unmount` blocks.
fn compile_view(
    compiler: &mut ModuleCompiler<'_>,
    tree: &ast::File,
    is_component: bool,
) -> ModuleView {
    let ctx = compiler.ctx;
    let file = compiler.file;
    let globals = compiler.globals_of_file();
    // The markup, in order.
    let mut analysis = CaptureAnalysis::new(&globals, true);
    for stmt in &tree.stmts {
        if matches!(stmt.kind, StmtKind::Markup(_)) {
            analysis.stmts(std::slice::from_ref(stmt));
        }
    }
    compiler.captured = analysis.captured;
    compiler.stack.push(FnBuilder::new(
        Some(Symbol::intern("render")),
        file,
        tree.span,
    ));
    let result = compiler.b().temp();
    for stmt in &tree.stmts {
        if let StmtKind::Markup(markup) = &stmt.kind {
            compiler.markup(markup);
        }
    }
    compiler.emit(Op::LoadNone { a: result });
    compiler.emit(Op::Return { a: result });
    let render_code = match compiler.stack.pop() {
        Some(builder) => builder.finish(),
        None => FnBuilder::new(None, file, tree.span).finish(),
    };
    let render = compiler.add_extra(render_code) & !LOCAL_FUNCTION;
    // Live values.
    let entity_names: HashSet<Symbol> = ctx.entity_types.keys().copied().collect();
    let assigned = view::top_level_assignments(&tree.stmts);
    let mut declared = HashSet::new();
    let mut live = Vec::new();
    for stmt in &tree.stmts {
        let StmtKind::Assign(assign) = &stmt.kind else {
            continue;
        };
        let ast::ExprKind::Name(name) = &assign.target.kind else {
            continue;
        };
        if assign.op != ast::AssignOp::Set
            || !declared.insert(name.sym)
            || assigned.get(&name.sym).copied().unwrap_or(0) != 1
        {
            continue;
        }
        let Some(global) = ctx.globals.get(&(file, name.sym)).copied() else {
            continue;
        };
        let direct = view::reads_of_expr(&assign.value);
        let function = |at: FileId, callee: Symbol| ctx.function(at, callee);
        let reads = view::follow(
            &direct,
            file,
            &globals,
            &entity_names,
            &function,
            &ctx.fn_reads,
        );
        if reads.entities.is_empty() && !(is_component && reads.props) {
            continue;
        }
        let mut analysis = CaptureAnalysis::new(&globals, false);
        analysis.expr_only(&assign.value);
        compiler.captured = analysis.captured;
        let code = compiler.function(
            Some(name.sym),
            &[],
            FnBody::Expr(&assign.value),
            assign.value.span,
        );
        let function = compiler.add_extra(code) & !LOCAL_FUNCTION;
        let mut read_globals: Vec<u32> = reads
            .globals
            .iter()
            .filter(|g| **g != name.sym)
            .filter_map(|g| ctx.globals.get(&(file, *g)).copied())
            .collect();
        read_globals.sort_unstable();
        let mut entities: Vec<String> = reads
            .entities
            .iter()
            .map(|e| e.as_str().to_string())
            .collect();
        entities.sort();
        live.push(flin_vm::program::LiveValueCode {
            global,
            function,
            reads: read_globals,
            entities,
            props: reads.props,
        });
    }
    // `on_mount { }` / `on_unmount { }`.
    let mut on_mount = Vec::new();
    let mut on_unmount = Vec::new();
    for stmt in &tree.stmts {
        let StmtKind::Lifecycle { event, body } = &stmt.kind else {
            continue;
        };
        let mut analysis = CaptureAnalysis::new(&globals, false);
        analysis.block(body);
        compiler.captured = analysis.captured;
        let label = match event {
            ast::Lifecycle::Mount => "on_mount",
            ast::Lifecycle::Unmount => "on_unmount",
        };
        let code = compiler.function(
            Some(Symbol::intern(label)),
            &[],
            FnBody::Block(body),
            stmt.span,
        );
        let function = compiler.add_extra(code) & !LOCAL_FUNCTION;
        match event {
            ast::Lifecycle::Mount => on_mount.push(function),
            ast::Lifecycle::Unmount => on_unmount.push(function),
        }
    }
    let mut file_globals: Vec<u32> = ctx
        .globals
        .iter()
        .filter(|((f, _), _)| *f == file)
        .map(|(_, g)| *g)
        .collect();
    file_globals.sort_unstable();
    ModuleView {
        render,
        globals: file_globals,
        live,
        on_mount,
        on_unmount,
        interactive: view::interactive(&tree.stmts),
    }
}

/// `[T]` or `[T]?`: a field queried with `.contains` as a list.
/// Whether the file's markup holds a `<style>` without `global`.
fn has_scoped_style(stmts: &[ast::Stmt]) -> bool {
    fn in_markup(markup: &ast::Markup) -> bool {
        match &markup.kind {
            ast::MarkupKind::Element(element) => {
                (element.name.as_str() == "style"
                    && !element.attrs.iter().any(|a| a.name.as_str() == "global"))
                    || element.children.iter().any(in_markup)
            }
            ast::MarkupKind::If {
                branches,
                else_body,
            } => {
                branches.iter().any(|b| b.body.iter().any(in_markup))
                    || else_body.iter().flatten().any(in_markup)
            }
            ast::MarkupKind::For(for_loop) => {
                for_loop.body.iter().any(in_markup)
                    || for_loop.empty.iter().flatten().any(in_markup)
            }
            _ => false,
        }
    }
    stmts.iter().any(|stmt| match &stmt.kind {
        StmtKind::Markup(markup) => in_markup(markup),
        _ => false,
    })
}

fn is_list_type(ty: &ast::Type) -> bool {
    match &ty.kind {
        ast::TypeKind::List(_) => true,
        ast::TypeKind::Optional(inner) => is_list_type(inner),
        _ => false,
    }
}
