//! Compiling one file (a module): its top-level code, functions, tests and the lambdas
//! inside them. Names resolve as the checker resolved them: locals of the running
//! function, then locals of enclosing functions (captures), then the file's variables,
//! then functions of the file and of the project, then the standard library.

#![allow(clippy::indexing_slicing)] // `stack[level]`: levels below `stack.len()`, checked first.

use std::collections::{HashMap, HashSet};

use flin_check::{ExprKey, Tables, Ty};
use flin_diagnostics::{Diagnostic, FileId, Span};
use flin_syntax::Symbol;
use flin_syntax::ast::{self, Expr, Param};
use flin_vm::{CaptureFrom, Constant, FunctionCode, Op};

use crate::captures::{CaptureAnalysis, DeclKey};
use crate::func::{FnBuilder, Slot};

/// Marks a function constant that refers to a function of this module (a lambda, a
/// test, the top-level code) by its position in the module; linking rebases it.
pub const LOCAL_FUNCTION: u32 = 1 << 31;

/// What every module may refer to: the program's functions, file variables and enums,
/// and what the checker learnt.
pub struct Ctx<'a> {
    pub tables: &'a Tables,
    /// Functions of `lib/` and `entities/`, visible everywhere.
    pub global_fns: HashMap<Symbol, u32>,
    /// Functions of one file, visible in it.
    pub file_fns: HashMap<(FileId, Symbol), u32>,
    /// Parameter names and whether each has a default, by function id.
    pub fn_params: HashMap<u32, Vec<(Symbol, bool)>>,
    pub globals: HashMap<(FileId, Symbol), u32>,
    pub file_globals: HashMap<FileId, HashSet<Symbol>>,
    /// Enums: their variants with payload sizes.
    pub enums: HashMap<Symbol, Vec<(Symbol, u16)>>,
    /// Entities: their fields, for query conditions.
    pub entities: HashMap<Symbol, crate::query::EntityFields>,
    /// Entities: their index in the program and their fields' defaults.
    pub entity_types: HashMap<Symbol, crate::entity::EntityInfo>,
    /// What each function reads, with its file (for live values, `view.rs`).
    pub fn_reads: HashMap<u32, (FileId, crate::view::Reads)>,
}

impl Ctx<'_> {
    pub fn function(&self, file: FileId, name: Symbol) -> Option<u32> {
        self.file_fns
            .get(&(file, name))
            .or_else(|| self.global_fns.get(&name))
            .copied()
    }

    /// The enum that owns an unqualified variant name, when exactly one does.
    pub fn variant_owner(&self, variant: Symbol) -> Option<(Symbol, u16)> {
        let mut found = self.enums.iter().filter_map(|(enum_name, variants)| {
            variants
                .iter()
                .find(|(v, _)| *v == variant)
                .map(|(_, arity)| (*enum_name, *arity))
        });
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }
}

pub struct ModuleCompiler<'a> {
    pub ctx: &'a Ctx<'a>,
    pub file: FileId,
    pub src: &'a str,
    /// Functions being built, innermost last.
    pub stack: Vec<FnBuilder>,
    /// Functions of this module other than top-level `fn`s, by local index.
    pub extras: Vec<FunctionCode>,
    pub captured: HashSet<DeclKey>,
    pub errors: Vec<Diagnostic>,
    /// Compiling the file's top-level code: annotated assignments at its top declare
    /// file variables.
    pub is_main: bool,
    /// A register the next loop body sets to true on each iteration (`{empty}` of a
    /// markup `{for}` tests it).
    pub loop_flag: Option<u16>,
    /// The key of a markup `{for}` whose next loop body marks each iteration as an
    /// item (`Some(None)`: by position).
    pub item_mark: Option<Option<Expr>>,
    /// Inside a bound `<select>`: the register with the bound value as text, which its
    /// options compare with.
    pub select_value: Option<u16>,
    /// Inside a `style` attribute: values are CSS text (`Some(true)`: the whole
    /// attribute, declarations allowed).
    pub css_values: Option<bool>,
    /// `data-s-…`: the attribute every element of this file carries when its `<style>`
    /// is scoped.
    pub style_scope: Option<String>,
}

impl<'a> ModuleCompiler<'a> {
    pub fn new(ctx: &'a Ctx<'a>, file: FileId, src: &'a str) -> ModuleCompiler<'a> {
        ModuleCompiler {
            ctx,
            file,
            src,
            stack: Vec::new(),
            extras: Vec::new(),
            captured: HashSet::new(),
            errors: Vec::new(),
            is_main: false,
            loop_flag: None,
            item_mark: None,
            select_value: None,
            css_values: None,
            style_scope: None,
        }
    }

    /// The function being built.
    pub fn b(&mut self) -> &mut FnBuilder {
        if self.stack.is_empty() {
            self.stack
                .push(FnBuilder::new(None, self.file, Span::empty(0)));
        }
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    pub fn emit(&mut self, op: Op) -> usize {
        self.b().emit(op)
    }

    pub fn constant(&mut self, constant: Constant) -> u32 {
        self.b().constant(constant)
    }

    pub fn key(&self, span: Span) -> ExprKey {
        (self.file, span.start, span.end)
    }

    /// The checker's type of an expression.
    pub fn ty(&self, expr: &Expr) -> Option<&'a Ty> {
        self.ctx.tables.types.get(&self.key(expr.span))
    }

    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(
            Diagnostic::error("E0901", self.file, span, message)
                .with_label("cannot be compiled yet"),
        );
    }

    pub fn globals_of_file(&self) -> HashSet<Symbol> {
        self.ctx
            .file_globals
            .get(&self.file)
            .cloned()
            .unwrap_or_default()
    }

    // ---------------------------------------------------------------- names

    /// Where a variable named `name` lives, seen from the running function.
    pub fn resolve_var(&mut self, name: Symbol) -> Option<Slot> {
        let depth = self.stack.len();
        if depth == 0 {
            return None;
        }
        if let Some(slot) = self.stack[depth - 1].find_local(name) {
            return Some(slot);
        }
        if let Some(idx) = self.stack[depth - 1]
            .captures
            .iter()
            .position(|(n, _)| *n == name)
        {
            return Some(Slot::Capture(idx as u32));
        }
        // An enclosing function's local: capture it through every function between.
        let owner = (0..depth - 1)
            .rev()
            .find(|level| self.stack[*level].find_local(name).is_some());
        if let Some(owner) = owner {
            let mut from = match self.stack[owner].find_local(name) {
                Some(Slot::Reg(r) | Slot::Cell(r)) => CaptureFrom::Register(r),
                Some(Slot::Capture(c)) => CaptureFrom::Capture(c),
                Some(Slot::Global(g)) => return Some(Slot::Global(g)),
                None => return None,
            };
            let mut slot = None;
            for level in owner + 1..depth {
                let builder = &mut self.stack[level];
                let idx = match builder.captures.iter().position(|(n, _)| *n == name) {
                    Some(idx) => idx,
                    None => {
                        builder.captures.push((name, from));
                        builder.captures.len() - 1
                    }
                };
                from = CaptureFrom::Capture(idx as u32);
                slot = Some(Slot::Capture(idx as u32));
            }
            return slot;
        }
        // A capture an enclosing closure already has.
        for level in (0..depth - 1).rev() {
            if self.stack[level].captures.iter().any(|(n, _)| *n == name) {
                let mut idx = self.stack[level]
                    .captures
                    .iter()
                    .position(|(n, _)| *n == name)
                    .unwrap_or(0);
                for inner in level + 1..depth {
                    let builder = &mut self.stack[inner];
                    idx = match builder.captures.iter().position(|(n, _)| *n == name) {
                        Some(existing) => existing,
                        None => {
                            builder
                                .captures
                                .push((name, CaptureFrom::Capture(idx as u32)));
                            builder.captures.len() - 1
                        }
                    };
                }
                return Some(Slot::Capture(idx as u32));
            }
        }
        self.ctx
            .globals
            .get(&(self.file, name))
            .map(|g| Slot::Global(*g))
    }

    /// Reads a variable into `dst`.
    pub fn read_slot(&mut self, slot: Slot, dst: u16) {
        match slot {
            Slot::Reg(r) => {
                if r != dst {
                    self.emit(Op::Move { a: dst, b: r });
                }
            }
            Slot::Cell(r) => {
                self.emit(Op::GetCell { a: dst, b: r });
            }
            Slot::Capture(c) => {
                self.emit(Op::GetCapture { a: dst, k: c });
            }
            Slot::Global(g) => {
                self.emit(Op::GetGlobal { a: dst, k: g });
            }
        }
    }

    /// Writes `src` into a variable.
    pub fn write_slot(&mut self, slot: Slot, src: u16) {
        match slot {
            Slot::Reg(r) => {
                if r != src {
                    self.emit(Op::Move { a: r, b: src });
                }
            }
            Slot::Cell(r) => {
                self.emit(Op::SetCell { a: r, b: src });
            }
            Slot::Capture(c) => {
                self.emit(Op::SetCapture { a: src, k: c });
            }
            Slot::Global(g) => {
                self.emit(Op::SetGlobal { a: src, k: g });
            }
        }
    }

    /// Declares a new local of the running function whose value is in `reg`: a cell when
    /// a closure captures it.
    pub fn declare_local(&mut self, name: &ast::Name, reg: u16) {
        let captured = self.captured.contains(&(name.span.start, name.span.end));
        let slot = if captured {
            self.emit(Op::NewCell { a: reg, b: reg });
            Slot::Cell(reg)
        } else {
            Slot::Reg(reg)
        };
        self.b().declare(name.sym, slot);
    }

    // ---------------------------------------------------------------- functions

    /// Compiles a function body (a `fn`, a lambda, a handler) into its own code.
    pub fn function(
        &mut self,
        name: Option<Symbol>,
        params: &[Param],
        body: FnBody<'_>,
        span: Span,
    ) -> FunctionCode {
        let mut builder = FnBuilder::new(name, self.file, span);
        builder.arity = params.len() as u16;
        builder.param_names = params.iter().map(|p| p.name.sym).collect();
        self.stack.push(builder);
        let first = self.b().temps(params.len() as u16);
        for (idx, param) in params.iter().enumerate() {
            let reg = first + idx as u16;
            if let Some(default) = &param.default {
                let skip = self.emit(Op::JumpIfGiven { a: reg, target: 0 });
                self.expr_to(default, reg);
                self.b().patch(skip);
            }
            self.declare_local(&param.name, reg);
        }
        let result = self.b().temp();
        match body {
            FnBody::Block(block) => self.block_value(block, result),
            FnBody::Expr(expr) => self.expr_to(expr, result),
        }
        self.emit(Op::Return { a: result });
        let builder = self
            .stack
            .pop()
            .unwrap_or_else(|| FnBuilder::new(None, self.file, span));
        if builder.overflow {
            self.error(span, "this function needs more than 65,535 registers");
        }
        if builder.too_long {
            self.error(
                span,
                "this function is longer than 65,535 instructions: split it into smaller ones",
            );
        }
        builder.finish()
    }

    /// Adds a finished function to the module and returns the constant that names it.
    pub fn add_extra(&mut self, code: FunctionCode) -> u32 {
        self.extras.push(code);
        LOCAL_FUNCTION | (self.extras.len() as u32 - 1)
    }

    /// A lambda value: compiles its body and makes the closure in `dst`.
    pub fn lambda(&mut self, lambda: &ast::Lambda, span: Span, dst: u16) {
        let body = match &lambda.body.kind {
            ast::ExprKind::Block(block) => FnBody::Block(block),
            _ => FnBody::Expr(&lambda.body),
        };
        let code = self.function(None, &lambda.params, body, span);
        let id = self.add_extra(code);
        let k = self.constant(Constant::Function(id));
        self.emit(Op::Closure { a: dst, k });
    }

    /// Compiles a top-level `fn` (its id is known to every module).
    pub fn top_function(&mut self, decl: &ast::FnDecl) -> FunctionCode {
        let globals = self.globals_of_file();
        let mut analysis = CaptureAnalysis::new(&globals, false);
        analysis.params(&decl.params);
        analysis.block(&decl.body);
        self.captured = analysis.captured;
        self.function(
            Some(decl.name.sym),
            &decl.params,
            FnBody::Block(&decl.body),
            decl.name.span,
        )
    }
}

/// What a function's body is.
pub enum FnBody<'b> {
    Block(&'b ast::Block),
    Expr(&'b Expr),
}
