//! Random programs for the verifier and the VM (STYLE.md rule 14; `fuzz/fuzz_targets/
//! vm.rs` and `tests/random_bytecode.rs`): functions of arbitrary instructions over a
//! palette of constants of every kind. Whatever the verifier accepts must run without
//! a panic — to its end, to a runtime error, or to its step, depth or memory limit.

use arbitrary::{Arbitrary, Unstructured};
use flin_diagnostics::{FileId, Span};
use flin_syntax::Symbol;

use crate::host::CaptureHost;
use crate::opcode::{Constant, Op, TypeTest};
use crate::program::{CaptureFrom, FunctionCode, Program, ProgramCode};
use crate::vm::{Limits, Vm};

/// A program of one to three functions of up to 48 instructions each.
pub fn program(u: &mut Unstructured<'_>) -> arbitrary::Result<ProgramCode> {
    let n_functions = u.int_in_range(1..=3)?;
    let constants = palette(n_functions as u32);
    let n_constants = constants.len() as u32;
    // First the functions' shapes, each instruction a placeholder that loads `none`.
    let mut functions = Vec::new();
    for index in 0..n_functions {
        let n_ops = u.int_in_range(1..=48)?;
        let arity = if index == 0 {
            0
        } else {
            u.int_in_range(0..=2)?
        };
        let n_registers = u.int_in_range(arity.max(1)..=24)?;
        let captures = match u.int_in_range(0..=2)? {
            0 => Vec::new(),
            n => (0..n).map(|i| CaptureFrom::Register(i as u16)).collect(),
        };
        functions.push(FunctionCode {
            name: None,
            file: FileId(0),
            span: Span::empty(0),
            arity,
            param_names: Vec::new(),
            n_registers,
            spans: vec![Span::empty(0); n_ops],
            code: vec![Op::LoadNone { a: 0 }; n_ops],
            constants: constants.clone(),
            captures,
            handler: false,
        });
    }
    let mut code = ProgramCode {
        functions,
        globals: vec![
            (FileId(0), Symbol::intern("g0")),
            (FileId(0), Symbol::intern("g1")),
        ],
        entries: vec![(FileId(0), 0)],
        tests: Vec::new(),
        entities: Vec::new(),
        routes: Vec::new(),
        renders: Vec::new(),
        layouts: Vec::new(),
        middleware: Vec::new(),
        components: Vec::new(),
        views: Vec::new(),
        jobs: Vec::new(),
        sockets: Vec::new(),
    };
    // Then each instruction: drawn at random with its operands mostly in range, kept
    // when the program still verifies (a few draws each), so most programs get
    // through and the interpreter meets every instruction. Now and then one is kept
    // as drawn, unverified: the verifier's refusals are exercised too.
    for f in 0..code.functions.len() {
        let (n_ops, n_registers) = match code.functions.get(f) {
            Some(function) => (function.code.len(), function.n_registers),
            None => continue,
        };
        for pc in 0..n_ops {
            for _ in 0..8 {
                let drawn = Op::arbitrary(u)?;
                let raw = u.ratio(1, 200)?;
                let op = if raw {
                    drawn
                } else {
                    in_range(drawn, n_registers, n_constants, n_ops as u32)
                };
                let Some(slot) = code.functions.get_mut(f).and_then(|c| c.code.get_mut(pc)) else {
                    continue;
                };
                let before = std::mem::replace(slot, op);
                if raw || crate::verify::verify(&code).is_ok() {
                    break;
                }
                if let Some(slot) = code.functions.get_mut(f).and_then(|c| c.code.get_mut(pc)) {
                    *slot = before;
                }
            }
        }
    }
    Ok(code)
}

/// An instruction with its operands brought into the function's range: registers
/// below `registers`, constants below `constants`, jumps inside `len`, counts small.
fn in_range(op: Op, registers: u16, constants: u32, len: u32) -> Op {
    let reg = |r: u16| {
        if r == crate::opcode::NO_REG {
            r
        } else {
            r % registers
        }
    };
    let konst = |k: u32| k % constants;
    let jump = |t: u32| t % len;
    match op {
        Op::LoadNone { a } => Op::LoadNone { a: reg(a) },
        Op::LoadAbsent { a } => Op::LoadAbsent { a: reg(a) },
        Op::LoadBool { a, value } => Op::LoadBool { a: reg(a), value },
        Op::LoadInt { a, value } => Op::LoadInt { a: reg(a), value },
        Op::LoadConst { a, k } => Op::LoadConst {
            a: reg(a),
            k: konst(k),
        },
        Op::Move { a, b } => Op::Move {
            a: reg(a),
            b: reg(b),
        },
        Op::GetGlobal { a, k } => Op::GetGlobal {
            a: reg(a),
            k: konst(k),
        },
        Op::SetGlobal { a, k } => Op::SetGlobal {
            a: reg(a),
            k: konst(k),
        },
        Op::GetCapture { a, k } => Op::GetCapture {
            a: reg(a),
            k: konst(k),
        },
        Op::SetCapture { a, k } => Op::SetCapture {
            a: reg(a),
            k: konst(k),
        },
        Op::NewCell { a, b } => Op::NewCell {
            a: reg(a),
            b: reg(b),
        },
        Op::GetCell { a, b } => Op::GetCell {
            a: reg(a),
            b: reg(b),
        },
        Op::SetCell { a, b } => Op::SetCell {
            a: reg(a),
            b: reg(b),
        },
        Op::AddInt { a, b, c } => Op::AddInt {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::SubInt { a, b, c } => Op::SubInt {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::MulInt { a, b, c } => Op::MulInt {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::DivInt { a, b, c } => Op::DivInt {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::RemInt { a, b, c } => Op::RemInt {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::AddNum { a, b, c } => Op::AddNum {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::SubNum { a, b, c } => Op::SubNum {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::MulNum { a, b, c } => Op::MulNum {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::DivNum { a, b, c } => Op::DivNum {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::Add { a, b, c } => Op::Add {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::Sub { a, b, c } => Op::Sub {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::Mul { a, b, c } => Op::Mul {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::Div { a, b, c } => Op::Div {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::Rem { a, b, c } => Op::Rem {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::AddIntImm { a, b, value } => Op::AddIntImm {
            a: reg(a),
            b: reg(b),
            value,
        },
        Op::MulIntImm { a, b, value } => Op::MulIntImm {
            a: reg(a),
            b: reg(b),
            value,
        },
        Op::DivIntImm { a, b, value } => Op::DivIntImm {
            a: reg(a),
            b: reg(b),
            value,
        },
        Op::RemIntImm { a, b, value } => Op::RemIntImm {
            a: reg(a),
            b: reg(b),
            value,
        },
        Op::Neg { a, b } => Op::Neg {
            a: reg(a),
            b: reg(b),
        },
        Op::Not { a, b } => Op::Not {
            a: reg(a),
            b: reg(b),
        },
        Op::Concat { a, b, c } => Op::Concat {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::JoinText { a, b, c } => Op::JoinText {
            a: reg(a),
            b: reg(b),
            c: c % 8,
        },
        Op::ToText { a, b } => Op::ToText {
            a: reg(a),
            b: reg(b),
        },
        Op::ToNumber { a, b } => Op::ToNumber {
            a: reg(a),
            b: reg(b),
        },
        Op::FromJson { a, k } => Op::FromJson {
            a: reg(a),
            k: konst(k),
        },
        Op::Eq { a, b, c } => Op::Eq {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::NotEq { a, b, c } => Op::NotEq {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::Lt { a, b, c } => Op::Lt {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::Le { a, b, c } => Op::Le {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::LtInt { a, b, c } => Op::LtInt {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::LeInt { a, b, c } => Op::LeInt {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::LtIntImm { a, b, value } => Op::LtIntImm {
            a: reg(a),
            b: reg(b),
            value,
        },
        Op::LeIntImm { a, b, value } => Op::LeIntImm {
            a: reg(a),
            b: reg(b),
            value,
        },
        Op::GtIntImm { a, b, value } => Op::GtIntImm {
            a: reg(a),
            b: reg(b),
            value,
        },
        Op::GeIntImm { a, b, value } => Op::GeIntImm {
            a: reg(a),
            b: reg(b),
            value,
        },
        Op::EqIntImm { a, b, value } => Op::EqIntImm {
            a: reg(a),
            b: reg(b),
            value,
        },
        Op::NotEqIntImm { a, b, value } => Op::NotEqIntImm {
            a: reg(a),
            b: reg(b),
            value,
        },
        Op::In { a, b, c } => Op::In {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::Is { a, k } => Op::Is {
            a: reg(a),
            k: konst(k),
        },
        Op::Jump { target } => Op::Jump {
            target: jump(target),
        },
        Op::JumpIf { a, target } => Op::JumpIf {
            a: reg(a),
            target: jump(target),
        },
        Op::JumpIfNot { a, target } => Op::JumpIfNot {
            a: reg(a),
            target: jump(target),
        },
        Op::JumpIfNone { a, target } => Op::JumpIfNone {
            a: reg(a),
            target: jump(target),
        },
        Op::JumpIfSome { a, target } => Op::JumpIfSome {
            a: reg(a),
            target: jump(target),
        },
        Op::JumpIfNotLtInt { a, target } => Op::JumpIfNotLtInt {
            a: reg(a),
            target: jump(target),
        },
        Op::ForLoopInt { a, target } => Op::ForLoopInt {
            a: reg(a),
            target: jump(target),
        },
        Op::JumpUnlessLtInt { a, b, target } => Op::JumpUnlessLtInt {
            a: reg(a),
            b: reg(b),
            target: jump(target as u32) as u16,
        },
        Op::JumpUnlessLeInt { a, b, target } => Op::JumpUnlessLeInt {
            a: reg(a),
            b: reg(b),
            target: jump(target as u32) as u16,
        },
        Op::JumpUnlessEq { a, b, target } => Op::JumpUnlessEq {
            a: reg(a),
            b: reg(b),
            target: jump(target as u32) as u16,
        },
        Op::JumpUnlessNotEq { a, b, target } => Op::JumpUnlessNotEq {
            a: reg(a),
            b: reg(b),
            target: jump(target as u32) as u16,
        },
        Op::JumpUnlessLtIntImm { a, value, target } => Op::JumpUnlessLtIntImm {
            a: reg(a),
            value,
            target: jump(target as u32) as u16,
        },
        Op::JumpUnlessLeIntImm { a, value, target } => Op::JumpUnlessLeIntImm {
            a: reg(a),
            value,
            target: jump(target as u32) as u16,
        },
        Op::JumpUnlessGtIntImm { a, value, target } => Op::JumpUnlessGtIntImm {
            a: reg(a),
            value,
            target: jump(target as u32) as u16,
        },
        Op::JumpUnlessGeIntImm { a, value, target } => Op::JumpUnlessGeIntImm {
            a: reg(a),
            value,
            target: jump(target as u32) as u16,
        },
        Op::JumpUnlessEqIntImm { a, value, target } => Op::JumpUnlessEqIntImm {
            a: reg(a),
            value,
            target: jump(target as u32) as u16,
        },
        Op::JumpUnlessNotEqIntImm { a, value, target } => Op::JumpUnlessNotEqIntImm {
            a: reg(a),
            value,
            target: jump(target as u32) as u16,
        },
        Op::JumpIfGiven { a, target } => Op::JumpIfGiven {
            a: reg(a),
            target: jump(target),
        },
        Op::Call { a, n } => Op::Call {
            a: reg(a),
            n: n % 8,
        },
        Op::CallFn { a, k } => Op::CallFn {
            a: reg(a),
            k: konst(k),
        },
        Op::CallBuiltin { a, b, n } => Op::CallBuiltin {
            a: reg(a),
            b: b % 8,
            n: n % 8,
        },
        Op::CallMethod { a, k } => Op::CallMethod {
            a: reg(a),
            k: konst(k),
        },
        Op::Print { a, n } => Op::Print {
            a: reg(a),
            n: n % 8,
        },
        Op::Return { a } => Op::Return { a: reg(a) },
        Op::Closure { a, k } => Op::Closure {
            a: reg(a),
            k: konst(k),
        },
        Op::NewList { a, b, c } => Op::NewList {
            a: reg(a),
            b: reg(b),
            c: c % 8,
        },
        Op::NewMap { a, b, c } => Op::NewMap {
            a: reg(a),
            b: reg(b),
            c: c % 8,
        },
        Op::NewTuple { a, b, c } => Op::NewTuple {
            a: reg(a),
            b: reg(b),
            c: c % 8,
        },
        Op::NewRecord { a, k } => Op::NewRecord {
            a: reg(a),
            k: konst(k),
        },
        Op::NewVariant { a, k } => Op::NewVariant {
            a: reg(a),
            k: konst(k),
        },
        Op::GetIndex { a, b, c } => Op::GetIndex {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::MapGet { a, b, c } => Op::MapGet {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::MapSet { a, b, c } => Op::MapSet {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::ListPush { a, b } => Op::ListPush {
            a: reg(a),
            b: reg(b),
        },
        Op::Length { a, b } => Op::Length {
            a: reg(a),
            b: reg(b),
        },
        Op::SetIndex { a, b, c } => Op::SetIndex {
            a: reg(a),
            b: reg(b),
            c: reg(c),
        },
        Op::GetField { a, k } => Op::GetField {
            a: reg(a),
            k: konst(k),
        },
        Op::SetField { a, k } => Op::SetField {
            a: reg(a),
            k: konst(k),
        },
        Op::GetFieldOf { a, b, k } => Op::GetFieldOf {
            a: reg(a),
            b: reg(b),
            k: k % 8,
        },
        Op::SetFieldTo { a, b, k } => Op::SetFieldTo {
            a: reg(a),
            b: reg(b),
            k: k % 8,
        },
        Op::Slice { a } => Op::Slice { a: reg(a) },
        Op::GetPayload { a, b, c } => Op::GetPayload {
            a: reg(a),
            b: reg(b),
            c: c % 8,
        },
        Op::IsVariant { a, k } => Op::IsVariant {
            a: reg(a),
            k: konst(k),
        },
        Op::LenIs { a, b, c } => Op::LenIs {
            a: reg(a),
            b: reg(b),
            c: c % 8,
        },
        Op::ListFrom { a, b, c } => Op::ListFrom {
            a: reg(a),
            b: reg(b),
            c: c % 8,
        },
        Op::IterStart { a, b } => Op::IterStart {
            a: reg(a),
            b: reg(b),
        },
        Op::IterNext { a, b } => Op::IterNext {
            a: reg(a),
            b: reg(b),
        },
        Op::TryStart { a, target } => Op::TryStart {
            a: reg(a),
            target: jump(target),
        },
        Op::TryEnd => Op::TryEnd,
        Op::Fail { a } => Op::Fail { a: reg(a) },
        Op::FailWith { k } => Op::FailWith { k: konst(k) },
        Op::Assert { a, k } => Op::Assert {
            a: reg(a),
            k: konst(k),
        },
        Op::Unwrap { a, k } => Op::Unwrap {
            a: reg(a),
            k: konst(k),
        },
        Op::QueryNew { a, k } => Op::QueryNew {
            a: reg(a),
            k: konst(k),
        },
        Op::QueryThen { a, k } => Op::QueryThen {
            a: reg(a),
            k: konst(k),
        },
        Op::QueryRun { a, k } => Op::QueryRun {
            a: reg(a),
            k: konst(k),
        },
        Op::NewEntity { a, k } => Op::NewEntity {
            a: reg(a),
            k: konst(k),
        },
        Op::Persist { a, op } => Op::Persist {
            a: reg(a),
            op: op % 8,
        },
        Op::TimeTravel { a, b } => Op::TimeTravel {
            a: reg(a),
            b: reg(b),
        },
        Op::EntityHistory { a, k } => Op::EntityHistory {
            a: reg(a),
            k: konst(k),
        },
        Op::TxBegin => Op::TxBegin,
        Op::Emit { k } => Op::Emit { k: konst(k) },
        Op::EmitValue { a } => Op::EmitValue { a: reg(a) },
        Op::EmitRaw { a } => Op::EmitRaw { a: reg(a) },
        Op::LoadContext { a, k } => Op::LoadContext {
            a: reg(a),
            k: konst(k),
        },
        Op::CaptureBegin => Op::CaptureBegin,
        Op::CaptureEnd { a } => Op::CaptureEnd { a: reg(a) },
        Op::RenderComponent { a, k } => Op::RenderComponent {
            a: reg(a),
            k: konst(k),
        },
        Op::Mark { a, kind } => Op::Mark {
            a: reg(a),
            kind: kind % 8,
        },
        Op::EmitHandler { a, k } => Op::EmitHandler {
            a: reg(a),
            k: konst(k),
        },
        Op::EmitBind { a, k } => Op::EmitBind {
            a: reg(a),
            k: konst(k),
        },
        Op::EmitHead { a } => Op::EmitHead { a: reg(a) },
        Op::ValidateBody { k } => Op::ValidateBody { k: konst(k) },
        Op::TxEnd => Op::TxEnd,
    }
}

/// One constant of each kind instructions take, so a random index often names the
/// kind its instruction wants (and the verifier's kind checks are exercised too).
fn palette(n_functions: u32) -> Vec<Constant> {
    let name = Symbol::intern;
    vec![
        Constant::Int(7),
        Constant::Number(2.5),
        Constant::Text("fuzz".into()),
        Constant::Money {
            minor: 150,
            currency: 0,
        },
        Constant::Duration(1_000),
        Constant::Name(name("length")),
        Constant::Method {
            name: name("push"),
            n_args: 2,
        },
        Constant::Shape(vec![name("a"), name("b")]),
        Constant::Variant {
            enum_name: name("Option"),
            variant: name("Some"),
            arity: 1,
        },
        Constant::Function(n_functions.saturating_sub(1)),
        Constant::Type(TypeTest::Int),
        Constant::Error {
            kind: "runtime",
            message: "fuzz".into(),
            status: Some(400),
        },
        Constant::Assertion {
            text: "fuzz".into(),
            values: true,
        },
        Constant::Function(0),
        Constant::Name(name("upper")),
        Constant::Text("{\"a\": [1, 2]}".into()),
    ]
}

/// Verifies `code` and, when the verifier accepts it, runs its first function with
/// small limits. Returns whether it ran. Panics only on a bug.
pub fn verify_and_run(code: ProgramCode) -> bool {
    if crate::verify::verify(&code).is_err() {
        return false;
    }
    let program = std::rc::Rc::new(Program::load(std::sync::Arc::new(code)));
    let mut host = CaptureHost::default();
    let mut vm = Vm::new(program, &mut host);
    vm.limits = Limits {
        max_depth: 200,
        max_steps: 20_000,
        time_limit: Some(std::time::Duration::from_millis(200)),
        max_memory: Some(16 * 1024 * 1024),
    };
    vm.start_unit();
    let _ = vm.run_function(0, &[]);
    true
}
