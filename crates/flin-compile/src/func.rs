//! Building one function's code: instructions with their spans, constants interned by
//! value (a hash map, so no linear scan and no limit but `u32`), registers allocated
//! stack-like (locals below, temporaries above), and jumps patched once their target
//! is known.

use std::collections::HashMap;

use flin_diagnostics::{FileId, Span};
use flin_syntax::Symbol;
use flin_vm::{CaptureFrom, Constant, FunctionCode, Op};

/// A constant's identity for interning: floats by their bits.
#[derive(Clone, PartialEq, Eq, Hash)]
enum ConstKey {
    Int(i64),
    Number(u64),
    Text(Box<str>),
    Money(i64, u16),
    Duration(i64),
    Name(Symbol),
    Method(Symbol, u16),
    Shape(Vec<Symbol>),
    Variant(Symbol, Symbol, u16),
    Function(u32),
    Other(u32),
}

/// Where a variable lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A register of this function.
    Reg(u16),
    /// A register holding a cell (a local captured by a closure).
    Cell(u16),
    /// A capture of this closure.
    Capture(u32),
    /// A file variable.
    Global(u32),
}

pub struct Local {
    pub name: Symbol,
    pub slot: Slot,
}

/// A block's locals and the first free register when it began.
pub struct BlockScope {
    pub locals: Vec<Local>,
    pub free_at_start: u16,
}

pub struct LoopLabels {
    pub breaks: Vec<usize>,
    pub continues: Vec<usize>,
    /// Transaction blocks open where the loop starts (`break` closes the deeper ones).
    pub transactions: u16,
}

pub struct FnBuilder {
    pub name: Option<Symbol>,
    pub file: FileId,
    pub decl_span: Span,
    pub arity: u16,
    pub param_names: Vec<Symbol>,
    pub code: Vec<Op>,
    pub spans: Vec<Span>,
    pub constants: Vec<Constant>,
    const_index: HashMap<ConstKey, u32>,
    pub free: u16,
    pub max_registers: u16,
    pub scopes: Vec<BlockScope>,
    /// Captured variables: the name, where the enclosing function keeps it.
    pub captures: Vec<(Symbol, CaptureFrom)>,
    pub loops: Vec<LoopLabels>,
    /// `transaction { }` blocks open at this point of the code: `return`, `break` and
    /// `continue` leaving them end them first.
    pub transactions: u16,
    pub span: Span,
    /// Set when the function needs more than 65,535 registers.
    pub overflow: bool,
    /// A compare-and-branch got a target past 65,535 (the function is too long).
    pub too_long: bool,
}

impl FnBuilder {
    pub fn new(name: Option<Symbol>, file: FileId, decl_span: Span) -> FnBuilder {
        FnBuilder {
            name,
            file,
            decl_span,
            arity: 0,
            param_names: Vec::new(),
            code: Vec::new(),
            spans: Vec::new(),
            constants: Vec::new(),
            const_index: HashMap::new(),
            free: 0,
            max_registers: 0,
            scopes: vec![BlockScope {
                locals: Vec::new(),
                free_at_start: 0,
            }],
            captures: Vec::new(),
            loops: Vec::new(),
            transactions: 0,
            span: decl_span,
            overflow: false,
            too_long: false,
        }
    }

    pub fn emit(&mut self, op: Op) -> usize {
        self.code.push(op);
        self.spans.push(self.span);
        self.code.len() - 1
    }

    pub fn here(&self) -> u32 {
        self.code.len() as u32
    }

    /// Points the jump at `at` to the current position.
    pub fn patch(&mut self, at: usize) {
        let here = self.here();
        self.patch_to(at, here);
    }

    pub fn patch_to(&mut self, at: usize, target: u32) {
        if let Some(
            Op::Jump { target: t }
            | Op::JumpIf { target: t, .. }
            | Op::JumpIfNot { target: t, .. }
            | Op::JumpIfNone { target: t, .. }
            | Op::JumpIfSome { target: t, .. }
            | Op::JumpIfNotLtInt { target: t, .. }
            | Op::JumpIfGiven { target: t, .. }
            | Op::TryStart { target: t, .. },
        ) = self.code.get_mut(at)
        {
            *t = target;
            return;
        }
        // Compare-and-branch instructions hold a 16-bit target.
        if let Some(
            Op::JumpUnlessLtInt { target: t, .. }
            | Op::JumpUnlessLeInt { target: t, .. }
            | Op::JumpUnlessEq { target: t, .. }
            | Op::JumpUnlessNotEq { target: t, .. }
            | Op::JumpUnlessLtIntImm { target: t, .. }
            | Op::JumpUnlessLeIntImm { target: t, .. }
            | Op::JumpUnlessGtIntImm { target: t, .. }
            | Op::JumpUnlessGeIntImm { target: t, .. }
            | Op::JumpUnlessEqIntImm { target: t, .. }
            | Op::JumpUnlessNotEqIntImm { target: t, .. },
        ) = self.code.get_mut(at)
        {
            match u16::try_from(target) {
                Ok(target) => *t = target,
                Err(_) => self.too_long = true,
            }
        }
    }

    /// The base register of a call whose result goes to `dst`, with `n` argument
    /// registers above it: `dst` itself when nothing is in use above it (so the result
    /// needs no move), else fresh registers. Only for calls that write the base with
    /// their result alone (the callee is not computed into it).
    pub fn call_base(&mut self, dst: u16, n: u16) -> u16 {
        if dst.checked_add(1) == Some(self.free) {
            self.temps(n);
            dst
        } else {
            self.temps(n + 1)
        }
    }

    /// Removes the last instruction when it is `op` (a jump to the end of the code
    /// still lands on whatever comes next).
    pub fn drop_last_if(&mut self, op: Op) {
        if self.code.last() == Some(&op) {
            self.code.pop();
            self.spans.pop();
        }
    }

    /// Whether `reg` holds a variable (parameter or local) rather than a temporary.
    pub fn is_variable(&self, reg: u16) -> bool {
        reg < self.arity
            || self.scopes.iter().any(|scope| {
                scope
                    .locals
                    .iter()
                    .any(|local| matches!(local.slot, Slot::Reg(r) | Slot::Cell(r) if r == reg))
            })
    }

    /// A fresh register above everything in use.
    pub fn temp(&mut self) -> u16 {
        self.temps(1)
    }

    /// `n` consecutive fresh registers; returns the first.
    pub fn temps(&mut self, n: u16) -> u16 {
        let first = self.free;
        match self.free.checked_add(n) {
            Some(next) => self.free = next,
            None => {
                self.overflow = true;
                self.free = u16::MAX;
            }
        }
        self.max_registers = self.max_registers.max(self.free);
        first
    }

    pub fn constant(&mut self, constant: Constant) -> u32 {
        let key = match &constant {
            Constant::Int(i) => ConstKey::Int(*i),
            Constant::Number(n) => ConstKey::Number(n.to_bits()),
            Constant::Text(t) => ConstKey::Text(t.clone()),
            Constant::Money { minor, currency } => ConstKey::Money(*minor, *currency),
            Constant::Duration(d) => ConstKey::Duration(*d),
            Constant::Name(n) => ConstKey::Name(*n),
            Constant::Method { name, n_args } => ConstKey::Method(*name, *n_args),
            Constant::Shape(shape) => ConstKey::Shape(shape.clone()),
            Constant::Variant {
                enum_name,
                variant,
                arity,
            } => ConstKey::Variant(*enum_name, *variant, *arity),
            Constant::Function(f) => ConstKey::Function(*f),
            _ => ConstKey::Other(self.constants.len() as u32),
        };
        if let Some(idx) = self.const_index.get(&key) {
            return *idx;
        }
        let idx = self.constants.len() as u32;
        self.constants.push(constant);
        self.const_index.insert(key, idx);
        idx
    }

    pub fn push_scope(&mut self) {
        self.scopes.push(BlockScope {
            locals: Vec::new(),
            free_at_start: self.free,
        });
    }

    pub fn pop_scope(&mut self) {
        if self.scopes.len() > 1 {
            if let Some(scope) = self.scopes.pop() {
                self.free = scope.free_at_start;
            }
        }
    }

    pub fn declare(&mut self, name: Symbol, slot: Slot) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.locals.push(Local { name, slot });
        }
    }

    /// A local of this function, innermost first.
    pub fn find_local(&self, name: Symbol) -> Option<Slot> {
        self.scopes.iter().rev().find_map(|scope| {
            scope
                .locals
                .iter()
                .rev()
                .find(|l| l.name == name)
                .map(|l| l.slot)
        })
    }

    pub fn finish(self) -> FunctionCode {
        FunctionCode {
            name: self.name,
            file: self.file,
            span: self.decl_span,
            arity: self.arity,
            param_names: self.param_names,
            n_registers: self.max_registers.max(self.arity).max(1),
            code: self.code,
            spans: self.spans,
            constants: self.constants,
            captures: self.captures.into_iter().map(|(_, from)| from).collect(),
            handler: false,
        }
    }
}
