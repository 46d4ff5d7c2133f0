//! Verifies compiled functions before they run: every register an instruction names is
//! inside the function's register window, every constant and jump target exists, and
//! constants have the kind their instruction expects. The interpreter relies on this to
//! index registers directly.
//!
//! Also proven: **`pc` stays inside the code** — a function has at least one
//! instruction, its last one never falls through (`Return` or `Jump`), and every jump or
//! `try` handler target is the index of an instruction (`< len`), so the next instruction
//! after any that falls through exists, and so does every target. (A bounds-check-free
//! fetch on this contract was measured under STYLE.md rule 14 and gained nothing on
//! `fib`, and lost 4 % on `loop`: the fetch stays checked.)

use crate::opcode::{Constant, Op};
use crate::program::{FunctionCode, ProgramCode};

/// Why a function is malformed (a compiler bug, never a user's mistake).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    pub function: usize,
    pub pc: usize,
    pub problem: String,
}

pub fn verify(program: &ProgramCode) -> Result<(), VerifyError> {
    for (idx, function) in program.functions.iter().enumerate() {
        verify_function(program, function).map_err(|(pc, problem)| VerifyError {
            function: idx,
            pc,
            problem,
        })?;
    }
    verify_views(program)
}

/// Every function and variable a view names exists: the VM indexes them directly when
/// it renders a component.
fn verify_views(program: &ProgramCode) -> Result<(), VerifyError> {
    let n_functions = program.functions.len();
    let n_globals = program.globals.len();
    let bad = |problem: String| VerifyError {
        function: 0,
        pc: 0,
        problem,
    };
    for view in &program.views {
        let functions = [view.main, view.render]
            .into_iter()
            .chain(view.on_mount.iter().copied())
            .chain(view.on_unmount.iter().copied())
            .chain(view.live.iter().map(|l| l.function));
        for function in functions {
            if function as usize >= n_functions {
                return Err(bad(format!("a view names function {function}")));
            }
        }
        let globals = view
            .globals
            .iter()
            .chain(view.live.iter().map(|l| &l.global))
            .chain(view.live.iter().flat_map(|l| &l.reads));
        for global in globals {
            if *global as usize >= n_globals {
                return Err(bad(format!("a view names variable {global}")));
            }
        }
    }
    for (name, view) in &program.components {
        if *view as usize >= program.views.len() {
            return Err(bad(format!("component {name} names view {view}")));
        }
    }
    Ok(())
}

fn verify_function(program: &ProgramCode, f: &FunctionCode) -> Result<(), (usize, String)> {
    let n = f.n_registers as usize;
    let len = f.code.len();
    if f.spans.len() != len {
        return Err((0, "one span per instruction is needed".into()));
    }
    if (f.arity as usize) > n {
        return Err((0, "more parameters than registers".into()));
    }
    let constant = |k: u32| f.constants.get(k as usize);
    match f.code.last() {
        Some(Op::Return { .. } | Op::Jump { .. }) => {}
        Some(_) => {
            return Err((
                len.saturating_sub(1),
                "the last instruction falls through past the end".into(),
            ));
        }
        None => return Err((0, "a function without instructions".into())),
    }
    for (pc, op) in f.code.iter().enumerate() {
        let regs = |range: &[(u16, usize)]| -> Result<(), (usize, String)> {
            for (start, count) in range {
                if *start as usize + count > n {
                    return Err((
                        pc,
                        format!("register {} (+{count}) outside the {n} registers", start),
                    ));
                }
            }
            Ok(())
        };
        let target = |t: u32| {
            if (t as usize) < len {
                Ok(())
            } else {
                Err((pc, format!("jump to {t} past the last instruction ({len})")))
            }
        };
        let kind = |k: u32, ok: fn(&Constant) -> bool| match constant(k) {
            Some(c) if ok(c) => Ok(()),
            Some(c) => Err((pc, format!("constant {k} has the wrong kind: {c:?}"))),
            None => Err((pc, format!("constant {k} does not exist"))),
        };
        // A handler's target is where an error of its `try` resumes.
        if let Op::TryStart { target: t, .. } = *op {
            target(t)?;
        }
        match *op {
            Op::LoadNone { a }
            | Op::LoadAbsent { a }
            | Op::LoadBool { a, .. }
            | Op::LoadInt { a, .. }
            | Op::TryStart { a, target: _ }
            | Op::Fail { a } => regs(&[(a, 1)])?,
            Op::LoadConst { a, k } => {
                regs(&[(a, 1)])?;
                kind(k, |c| {
                    matches!(
                        c,
                        Constant::Int(_)
                            | Constant::Number(_)
                            | Constant::Text(_)
                            | Constant::Money { .. }
                            | Constant::Duration(_)
                    )
                })?;
            }
            Op::Move { a, b }
            | Op::NewCell { a, b }
            | Op::GetCell { a, b }
            | Op::SetCell { a, b }
            | Op::Neg { a, b }
            | Op::Not { a, b }
            | Op::ToText { a, b }
            | Op::ToNumber { a, b }
            | Op::AddIntImm { a, b, .. }
            | Op::MulIntImm { a, b, .. }
            | Op::LtIntImm { a, b, .. }
            | Op::LeIntImm { a, b, .. }
            | Op::GtIntImm { a, b, .. }
            | Op::GeIntImm { a, b, .. }
            | Op::EqIntImm { a, b, .. }
            | Op::NotEqIntImm { a, b, .. }
            | Op::GetPayload { a, b, .. }
            | Op::LenIs { a, b, .. }
            | Op::ListFrom { a, b, .. }
            | Op::IterStart { a, b }
            | Op::ListPush { a, b }
            | Op::Length { a, b } => regs(&[(a, 1), (b, 1)])?,
            Op::FromJson { a, k } | Op::Is { a, k } => {
                regs(&[(a, 1)])?;
                kind(k, |c| matches!(c, Constant::Type(_)))?;
            }
            Op::IsVariant { a, k } => {
                regs(&[(a, 1)])?;
                kind(k, |c| matches!(c, Constant::Variant { .. }))?;
            }
            Op::GetGlobal { a, k } | Op::SetGlobal { a, k } => {
                regs(&[(a, 1)])?;
                if k as usize >= program.globals.len() {
                    return Err((pc, format!("global {k} does not exist")));
                }
            }
            Op::GetCapture { a, .. } | Op::SetCapture { a, .. } => regs(&[(a, 1)])?,
            Op::AddInt { a, b, c }
            | Op::SubInt { a, b, c }
            | Op::MulInt { a, b, c }
            | Op::DivInt { a, b, c }
            | Op::RemInt { a, b, c }
            | Op::AddNum { a, b, c }
            | Op::SubNum { a, b, c }
            | Op::MulNum { a, b, c }
            | Op::DivNum { a, b, c }
            | Op::Add { a, b, c }
            | Op::Sub { a, b, c }
            | Op::Mul { a, b, c }
            | Op::Div { a, b, c }
            | Op::Rem { a, b, c }
            | Op::Concat { a, b, c }
            | Op::Eq { a, b, c }
            | Op::NotEq { a, b, c }
            | Op::Lt { a, b, c }
            | Op::Le { a, b, c }
            | Op::LtInt { a, b, c }
            | Op::LeInt { a, b, c }
            | Op::In { a, b, c }
            | Op::MapGet { a, b, c }
            | Op::MapSet { a, b, c }
            | Op::GetIndex { a, b, c }
            | Op::SetIndex { a, b, c } => regs(&[(a, 1), (b, 1), (c, 1)])?,
            Op::JoinText { a, b, c } | Op::NewList { a, b, c } | Op::NewTuple { a, b, c } => {
                regs(&[(a, 1), (b, c as usize)])?
            }
            Op::NewMap { a, b, c } => regs(&[(a, 1), (b, 2 * c as usize)])?,
            Op::DivIntImm { a, b, value } | Op::RemIntImm { a, b, value } => {
                if value == 0 {
                    return Err((pc, "a constant divisor of 0".into()));
                }
                regs(&[(a, 1), (b, 1)])?;
            }
            Op::Jump { target: t } => target(t)?,
            Op::JumpUnlessLtInt { a, b, target: t }
            | Op::JumpUnlessLeInt { a, b, target: t }
            | Op::JumpUnlessEq { a, b, target: t }
            | Op::JumpUnlessNotEq { a, b, target: t } => {
                regs(&[(a, 1), (b, 1)])?;
                target(u32::from(t))?;
            }
            Op::JumpUnlessLtIntImm { a, target: t, .. }
            | Op::JumpUnlessLeIntImm { a, target: t, .. }
            | Op::JumpUnlessGtIntImm { a, target: t, .. }
            | Op::JumpUnlessGeIntImm { a, target: t, .. }
            | Op::JumpUnlessEqIntImm { a, target: t, .. }
            | Op::JumpUnlessNotEqIntImm { a, target: t, .. } => {
                regs(&[(a, 1)])?;
                target(u32::from(t))?;
            }
            Op::JumpIf { a, target: t }
            | Op::JumpIfNot { a, target: t }
            | Op::JumpIfNone { a, target: t }
            | Op::JumpIfSome { a, target: t }
            | Op::JumpIfGiven { a, target: t } => {
                regs(&[(a, 1)])?;
                target(t)?;
            }
            Op::JumpIfNotLtInt { a, target: t } | Op::ForLoopInt { a, target: t } => {
                regs(&[(a, 2)])?;
                target(t)?;
            }
            Op::IterNext { a, b } => {
                regs(&[(a, 1), (b, 1)])?;
                // It skips that Jump while items come: the loop body follows it.
                if pc + 2 >= len || !matches!(f.code.get(pc + 1), Some(Op::Jump { .. })) {
                    return Err((
                        pc,
                        "IterNext must be followed by the Jump out of its loop, then the loop"
                            .into(),
                    ));
                }
            }
            Op::Call { a, n: count } | Op::CallBuiltin { a, n: count, .. } => {
                regs(&[(a, count as usize + 1)])?
            }
            Op::Print { a, n: count } => regs(&[(a, count as usize)])?,
            Op::CallFn { a, k } => {
                let Some(Constant::Function(index)) = constant(k) else {
                    return Err((pc, "CallFn needs a function constant".into()));
                };
                let arity = program
                    .functions
                    .get(*index as usize)
                    .map(|f| f.arity)
                    .ok_or((pc, format!("function {index} does not exist")))?;
                regs(&[(a, arity as usize + 1)])?;
            }
            Op::CallMethod { a, k } => {
                let Some(Constant::Method { n_args, .. }) = constant(k) else {
                    return Err((pc, "CallMethod needs a method constant".into()));
                };
                regs(&[(a, *n_args as usize + 1)])?;
            }
            Op::Closure { a, k } => {
                regs(&[(a, 1)])?;
                let Some(Constant::Function(index)) = constant(k) else {
                    return Err((pc, "Closure needs a function constant".into()));
                };
                let closure = program
                    .functions
                    .get(*index as usize)
                    .ok_or((pc, format!("function {index} does not exist")))?;
                for capture in &closure.captures {
                    if let crate::program::CaptureFrom::Register(r) = capture {
                        regs(&[(*r, 1)])?;
                    }
                }
            }
            Op::Return { a } | Op::Unwrap { a, .. } => regs(&[(a, 1)])?,
            Op::Assert { a, k } => {
                let width = match constant(k) {
                    Some(Constant::Assertion { values: true, .. }) => 3,
                    _ => 1,
                };
                regs(&[(a, width)])?;
            }
            Op::QueryNew { a, k } | Op::QueryThen { a, k } => {
                let Some(Constant::Query(shape)) = constant(k) else {
                    return Err((pc, "a query instruction needs a query constant".into()));
                };
                regs(&[(a, shape.n_params as usize + 1)])?;
            }
            Op::QueryRun { a, k } => {
                if !matches!(constant(k), Some(Constant::Terminal(_))) {
                    return Err((pc, "QueryRun needs a terminal constant".into()));
                }
                regs(&[(a, 1)])?;
            }
            Op::GetFieldOf { a, b, k } | Op::SetFieldTo { a, b, k } => {
                if !matches!(constant(u32::from(k)), Some(Constant::Name(_))) {
                    return Err((pc, "a field instruction needs a name constant".into()));
                }
                regs(&[(a, 1), (b, 1)])?;
            }
            Op::NewEntity { a, k } => {
                let Some(Constant::Entity(index)) = constant(k) else {
                    return Err((pc, "NewEntity needs an entity constant".into()));
                };
                let Some(def) = program.entities.get(*index as usize) else {
                    return Err((pc, "NewEntity names an unknown entity".into()));
                };
                regs(&[(a, def.fields.len() + 1)])?;
            }
            Op::EntityHistory { a, k } => {
                if !matches!(constant(k), Some(Constant::Entity(_))) {
                    return Err((pc, "EntityHistory needs an entity constant".into()));
                }
                regs(&[(a, 1)])?;
            }
            Op::Persist { a, op } => {
                if crate::host::PersistOp::from_u8(op).is_none() {
                    return Err((pc, "Persist with an unknown operation".into()));
                }
                regs(&[(a, 1)])?;
            }
            Op::TimeTravel { a, b } => regs(&[(a, 1), (b, 1)])?,
            Op::TxBegin | Op::TxEnd => {}
            Op::Emit { k } => {
                if !matches!(constant(k), Some(Constant::Text(_))) {
                    return Err((pc, "Emit needs a text constant".into()));
                }
            }
            Op::EmitValue { a } | Op::EmitRaw { a } => regs(&[(a, 1)])?,
            Op::CaptureBegin => {}
            Op::CaptureEnd { a } => regs(&[(a, 1)])?,
            Op::RenderComponent { a, k } => {
                if !matches!(constant(k), Some(Constant::Name(_))) {
                    return Err((pc, "RenderComponent needs a name constant".into()));
                }
                regs(&[(a, 2)])?;
            }
            Op::Mark { a, kind } => {
                if crate::host::Mark::from_u8(kind).is_none() {
                    return Err((pc, format!("unknown mark {kind}")));
                }
                if a != crate::opcode::NO_REG {
                    regs(&[(a, 1)])?;
                }
            }
            Op::EmitHandler { a, k } | Op::EmitBind { a, k } => {
                if !matches!(constant(k), Some(Constant::Text(_))) {
                    return Err((pc, "EmitHandler and EmitBind need a text constant".into()));
                }
                regs(&[(a, 1)])?;
            }
            Op::EmitHead { a } => regs(&[(a, 1)])?,
            Op::ValidateBody { k } => {
                if !matches!(constant(k), Some(Constant::Validate(_))) {
                    return Err((pc, "ValidateBody needs a validate constant".into()));
                }
            }
            Op::LoadContext { a, k } => {
                if !matches!(constant(k), Some(Constant::Name(_))) {
                    return Err((pc, "LoadContext needs a name constant".into()));
                }
                regs(&[(a, 1)])?;
            }
            Op::NewRecord { a, k } => {
                let Some(Constant::Shape(shape)) = constant(k) else {
                    return Err((pc, "NewRecord needs a shape constant".into()));
                };
                regs(&[(a, shape.len() + 1)])?;
            }
            Op::NewVariant { a, k } => {
                let Some(Constant::Variant { arity, .. }) = constant(k) else {
                    return Err((pc, "NewVariant needs a variant constant".into()));
                };
                regs(&[(a, *arity as usize + 1)])?;
            }
            Op::GetField { a, k } => {
                regs(&[(a, 1)])?;
                kind(k, |c| matches!(c, Constant::Name(_)))?;
            }
            Op::SetField { a, k } => {
                regs(&[(a, 2)])?;
                kind(k, |c| matches!(c, Constant::Name(_)))?;
            }
            Op::Slice { a } => regs(&[(a, 3)])?,
            Op::TryEnd => {}
            Op::FailWith { k } => kind(k, |c| matches!(c, Constant::Error { .. }))?,
        }
    }
    Ok(())
}
