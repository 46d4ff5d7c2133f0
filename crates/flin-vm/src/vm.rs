//! The interpreter: one dispatch loop over [`Op`], the register stack, call frames,
//! `try` handlers, and the limits that keep a unit of work from running away (call
//! depth, a step budget, a time limit).
//!
//! Registers of all frames live in one `Vec<Value>`; a frame is a window of it. The loop
//! keeps the running frame's code, constants, base and pc in locals and writes them back
//! around calls. Every fallible step yields a [`RuntimeError`] that [`Vm::fail`] turns
//! into a jump to the innermost `try` of this run, or returns with the FLIN stack.
//!
//! Register indexing: every function is verified when loaded (`verify.rs`), and a frame's
//! window is sized to its register count when it is pushed, so `stack[base + r]` is in
//! bounds by construction.
#![allow(clippy::indexing_slicing)]

use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::builtins;
use crate::error::{RuntimeError, TraceEntry};
use crate::frames::CallStack;
use crate::host::Host;
use crate::iter::IterState;
use crate::opcode::{Constant, Op};
use crate::ops;
use crate::program::{CaptureFrom, Program};
use crate::value::{Closure, EnumValue, Key, Value};
use flin_syntax::Symbol;

/// What one unit of work may use (language.md §6, §9).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Nested calls allowed (the spec asks for at least 10,000).
    pub max_depth: usize,
    /// Backward jumps and calls allowed.
    pub max_steps: u64,
    pub time_limit: Option<Duration>,
    /// Bytes the unit's values may hold ([`crate::memory`]).
    pub max_memory: Option<usize>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 20_000,
            max_steps: 2_000_000_000,
            time_limit: None,
            max_memory: None,
        }
    }
}

struct Handler {
    /// The number of frames when the handler was set: it belongs to the top one.
    depth: usize,
    /// How many transaction blocks were open: an error caught here undoes deeper ones.
    tx_depth: usize,
    slot: usize,
    target: usize,
}

pub struct Vm<'h> {
    pub program: Rc<Program>,
    stack: Vec<Value>,
    frames: CallStack,
    /// File variables; `Absent` until first assigned.
    pub globals: Vec<Value>,
    handlers: Vec<Handler>,
    pub host: &'h mut dyn Host,
    pub limits: Limits,
    steps: u64,
    started: Instant,
    /// The arguments of the built-in being called (reused between calls).
    args: Vec<Value>,
    /// Bytes allocated by the unit's values since its last measurement.
    charged: usize,
    /// A value's display form and its escaped HTML, as markup emits it (reused).
    shown: String,
    escaped: String,
}

impl<'h> Vm<'h> {
    pub fn new(program: Rc<Program>, host: &'h mut dyn Host) -> Vm<'h> {
        let n_globals = program.code.globals.len();
        Vm {
            program,
            stack: Vec::with_capacity(1024),
            frames: CallStack::with_capacity(64),
            globals: vec![Value::Absent; n_globals],
            handlers: Vec::new(),
            host,
            limits: Limits::default(),
            steps: 0,
            started: Instant::now(),
            args: Vec::with_capacity(8),
            charged: 0,
            shown: String::new(),
            escaped: String::new(),
        }
    }

    /// Starts the clock of a unit of work.
    pub fn start_unit(&mut self) {
        self.steps = 0;
        self.started = Instant::now();
        self.charged = 0;
    }

    /// Counts `bytes` the unit is about to hold (or has just made); past
    /// `limits.max_memory`, measures what it holds and fails when that, with
    /// `bytes`, is over ([`crate::memory`]). Built-ins call it before a large
    /// allocation whose size an argument chose.
    pub fn charge(&mut self, bytes: usize) -> Result<(), RuntimeError> {
        self.charged = self.charged.saturating_add(bytes);
        match self.limits.max_memory {
            Some(limit) if self.charged > limit => self.measure(bytes),
            _ => Ok(()),
        }
    }

    #[cold]
    #[inline(never)]
    fn measure(&mut self, bytes: usize) -> Result<(), RuntimeError> {
        let Some(limit) = self.limits.max_memory else {
            return Ok(());
        };
        let roots = self.stack.iter().chain(&self.globals).chain(&self.args);
        let needed = crate::memory::held(roots, limit).saturating_add(bytes);
        if needed > limit {
            self.charged = 0;
            return Err(RuntimeError::memory(limit));
        }
        self.charged = needed;
        Ok(())
    }

    /// Runs a function of the program with arguments.
    pub fn run_function(&mut self, index: u32, args: &[Value]) -> Result<Value, RuntimeError> {
        self.invoke(index, None, args)
    }

    /// Renders one component instance (web.md §3): a new instance runs the component's
    /// code, a kept one (a live view's) gets its state back and recomputes what it
    /// derives from changed props; then its markup renders. The component file's
    /// variables are the instance's own while it renders: the outer values (another
    /// instance of the same component around this one) come back after.
    fn render_component(
        &mut self,
        view: u32,
        name: &str,
        site: crate::host::Site,
        props: Value,
        children: Value,
    ) -> Result<(), RuntimeError> {
        let code = self.program.code.clone();
        let Some(view) = code.views.get(view as usize) else {
            return Err(RuntimeError::runtime(format!(
                "internal: component `{name}` has no view"
            )));
        };
        let kept = self.host.component_begin(name, site, props, children);
        let outer = self.take_globals(&view.globals);
        let result = self.instance_render(view, kept);
        let state = self.take_globals(&view.globals);
        self.put_globals(&view.globals, outer);
        self.host.component_end(state);
        result
    }

    fn instance_render(
        &mut self,
        view: &crate::program::ViewCode,
        kept: Option<crate::host::KeptInstance>,
    ) -> Result<(), RuntimeError> {
        match kept {
            None => {
                self.run_function(view.main, &[])?;
            }
            Some(kept) => {
                self.put_globals(&view.globals, kept.state);
                if kept.props_changed {
                    for live in view.live.iter().filter(|l| l.props) {
                        let value = self.run_function(live.function, &[])?;
                        if let Some(slot) = self.globals.get_mut(live.global as usize) {
                            *slot = value;
                        }
                    }
                }
            }
        }
        self.run_function(view.render, &[])?;
        Ok(())
    }

    /// Takes the values of some file variables out (leaving them unassigned).
    pub fn take_globals(&mut self, globals: &[u32]) -> Vec<Value> {
        globals
            .iter()
            .map(|g| {
                self.globals
                    .get_mut(*g as usize)
                    .map_or(Value::Absent, |slot| std::mem::replace(slot, Value::Absent))
            })
            .collect()
    }

    /// Puts values back into file variables (as [`Vm::take_globals`] gave them).
    pub fn put_globals(&mut self, globals: &[u32], values: Vec<Value>) {
        for (g, value) in globals.iter().zip(values) {
            if let Some(slot) = self.globals.get_mut(*g as usize) {
                *slot = value;
            }
        }
    }

    /// Calls a function value (used by built-ins such as `map` and `sort_by`).
    pub fn call_value(&mut self, callee: &Value, args: &[Value]) -> Result<Value, RuntimeError> {
        match callee {
            Value::Func(closure) => {
                self.invoke(closure.function.index, Some(closure.clone()), args)
            }
            Value::Cell(cell) => {
                let inner = cell.borrow().clone();
                self.call_value(&inner, args)
            }
            other => Err(RuntimeError::type_error(format!(
                "{} is not a function",
                other.type_name()
            ))),
        }
    }

    fn invoke(
        &mut self,
        function: u32,
        closure: Option<Rc<Closure>>,
        args: &[Value],
    ) -> Result<Value, RuntimeError> {
        let slot = self.stack.len();
        self.stack.push(Value::None);
        self.stack.extend(args.iter().cloned());
        let entry_depth = self.frames.len();
        let mut stack = std::mem::take(&mut self.stack);
        let pushed = self.push_frame(&mut stack, function, closure, slot + 1, args.len(), slot);
        self.stack = stack;
        let result = match pushed {
            Ok(()) => self.run(entry_depth),
            Err(err) => Err(err),
        };
        let value = std::mem::replace(&mut self.stack[slot], Value::None);
        self.stack.truncate(slot);
        self.frames.truncate(entry_depth);
        self.handlers.retain(|h| h.depth <= entry_depth);
        result.map(|()| value)
    }

    #[inline]
    fn push_frame(
        &mut self,
        stack: &mut Vec<Value>,
        function: u32,
        closure: Option<Rc<Closure>>,
        base: usize,
        n_args: usize,
        ret: usize,
    ) -> Result<(), RuntimeError> {
        if self.frames.len() >= self.limits.max_depth {
            return Err(RuntimeError::limit(format!(
                "too many nested calls (more than {})",
                self.limits.max_depth
            )));
        }
        let Some(code) = self.program.functions.get(function as usize) else {
            return Err(RuntimeError::runtime(format!(
                "internal: no function {function}"
            )));
        };
        let arity = code.arity as usize;
        let needed = base + (code.n_registers as usize).max(arity);
        if stack.len() < needed {
            stack.resize(needed, Value::None);
        }
        // Parameters the caller left out take their defaults in the callee.
        for slot in &mut stack[base + n_args.min(arity)..base + arity] {
            *slot = Value::Absent;
        }
        // The compiler writes every register before reading it (the test suite passes
        // with them poisoned), so a scalar left by an earlier frame may stay; a heap
        // value is let go now rather than when its register is next written.
        for slot in &mut stack[base + arity..needed] {
            if slot.is_heap() {
                *slot = Value::None;
            }
        }
        self.frames.push(function as usize, closure, base, ret);
        self.count_step()
    }

    /// Counts a step (a backward jump or a call); every 4,096 steps, checks the limits.
    #[inline(always)]
    fn count_step(&mut self) -> Result<(), RuntimeError> {
        self.steps += 1;
        if self.steps & 0xfff == 0 {
            return self.check_limits();
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn check_limits(&mut self) -> Result<(), RuntimeError> {
        if self.steps >= self.limits.max_steps {
            return Err(RuntimeError::timeout(format!(
                "step budget exhausted ({} steps)",
                self.limits.max_steps
            )));
        }
        if crate::cycles::wanted() {
            crate::cycles::collect_young();
        }
        if let Some(limit) = self.limits.time_limit {
            if self.started.elapsed() > limit {
                return Err(RuntimeError::timeout(format!(
                    "time limit exceeded ({} ms)",
                    limit.as_millis()
                )));
            }
        }
        Ok(())
    }

    /// The FLIN stack, innermost first.
    fn trace(&self) -> Vec<TraceEntry> {
        self.frames
            .iter()
            .rev()
            .filter_map(|frame| {
                let code = self.program.functions.get(frame.function)?.code();
                let span = code
                    .spans
                    .get(frame.pc.saturating_sub(1))
                    .copied()
                    .unwrap_or(code.span);
                Some(TraceEntry {
                    function: code.name,
                    file: code.file,
                    span,
                })
            })
            .collect()
    }

    /// Handles an error of the running frame: jumps to the innermost `try` of this run,
    /// or gives the error back with its stack.
    fn fail(&mut self, mut err: RuntimeError, entry_depth: usize) -> Result<(), RuntimeError> {
        match self.handlers.last() {
            // Out of time, steps or memory, the unit ends: no `try` can catch it (a
            // loop around one would run on forever).
            Some(_) if err.ends_unit() => {
                if err.trace.is_empty() {
                    err.trace = self.trace();
                }
                Err(err)
            }
            Some(handler) if handler.depth > entry_depth && handler.depth <= self.frames.len() => {
                let handler = match self.handlers.pop() {
                    Some(handler) => handler,
                    None => return Err(err),
                };
                self.frames.truncate(handler.depth);
                self.host.rollback_to(handler.tx_depth)?;
                let value = Value::err(err.to_value());
                self.stack[handler.slot] = value;
                if let Some(frame) = self.frames.last_mut() {
                    frame.pc = handler.target;
                }
                // A caught error goes back in the code: a step, like a backward jump.
                self.count_step()
            }
            _ => {
                // Only an error that leaves this run needs its stack: a caught one is a
                // value, and `try` in a loop should not pay for a trace each time.
                if err.trace.is_empty() {
                    err.trace = self.trace();
                }
                Err(err)
            }
        }
    }

    /// Runs until the frames drop back to `entry_depth`.
    fn run(&mut self, entry_depth: usize) -> Result<(), RuntimeError> {
        loop {
            match self.step_frames(entry_depth) {
                Ok(()) => return Ok(()),
                Err(err) => self.fail(err, entry_depth)?,
            }
        }
    }

    /// Runs the dispatch loop with the register stack held apart from `self`, so the
    /// loop keeps its address in a register (every instruction reads registers). Code
    /// that may call back into the VM gets it back for the time of the call.
    fn step_frames(&mut self, entry_depth: usize) -> Result<(), RuntimeError> {
        let mut stack = std::mem::take(&mut self.stack);
        let result = self.dispatch(&mut stack, entry_depth);
        self.stack = stack;
        result
    }

    /// The dispatch loop proper; returns on the entry frame's return or on an error.
    fn dispatch(&mut self, stack: &mut Vec<Value>, entry_depth: usize) -> Result<(), RuntimeError> {
        // The program outlives this loop; its functions are borrowed from a local handle
        // so calls and returns switch functions without touching reference counts.
        let program = self.program.clone();
        let Some(frame) = self.frames.last() else {
            return Ok(());
        };
        let Some(mut function) = program.functions.get(frame.function) else {
            return Err(RuntimeError::runtime("internal: no such function"));
        };
        // The running function's instructions, kept as a slice in the loop's locals.
        let mut ops: &[Op] = &function.ops;
        let mut base = frame.base;
        let mut pc = frame.pc;
        // The running frame's registers as a slice, taken again whenever the frame
        // changes or the stack may have grown (a call, code lent the stack).
        let Some(mut regs) = stack.get_mut(base..) else {
            return Err(RuntimeError::runtime("internal: a frame beyond the stack"));
        };

        macro_rules! r {
            ($reg:expr) => {
                regs[$reg as usize]
            };
        }
        // Saves pc before anything that may fail or call, so errors point at the
        // instruction and frames resume where they left off.
        macro_rules! save_pc {
            () => {
                if let Some(frame) = self.frames.last_mut() {
                    frame.pc = pc;
                }
            };
        }
        macro_rules! window {
            () => {
                regs = match stack.get_mut(base..) {
                    Some(regs) => regs,
                    None => return Err(RuntimeError::runtime("internal: a frame beyond the stack")),
                }
            };
        }
        // Counts bytes the unit's values now hold ([`crate::memory`]): an add and a
        // compare; past the limit, a measurement (with the stack lent back).
        macro_rules! charge {
            ($bytes:expr) => {{
                let bytes: usize = $bytes;
                self.charged = self.charged.saturating_add(bytes);
                if let Some(limit) = self.limits.max_memory {
                    if self.charged > limit {
                        save_pc!();
                        lend!(self.measure(bytes))?;
                    }
                }
            }};
        }
        // Lends the stack back to `self` while `$e` runs (it may call FLIN functions).
        macro_rules! lend {
            ($e:expr) => {{
                std::mem::swap(&mut self.stack, stack);
                let result = $e;
                std::mem::swap(&mut self.stack, stack);
                window!();
                result
            }};
        }
        macro_rules! reload {
            () => {{
                let Some(frame) = self.frames.last() else {
                    return Ok(());
                };
                let Some(next) = program.functions.get(frame.function) else {
                    return Err(RuntimeError::runtime("internal: no such function"));
                };
                function = next;
                ops = &function.ops;
                base = frame.base;
                pc = frame.pc;
                window!();
            }};
        }
        macro_rules! int_op {
            ($a:expr, $b:expr, $c:expr, $method:ident, $generic:path, $sym:literal) => {{
                match (&r!($b), &r!($c)) {
                    (Value::Int(x), Value::Int(y)) => match x.$method(*y) {
                        Some(v) => set_int(&mut r!($a), v),
                        None => {
                            save_pc!();
                            return Err(RuntimeError::arithmetic(concat!(
                                "integer overflow in `",
                                $sym,
                                "`"
                            )));
                        }
                    },
                    (x, y) => {
                        save_pc!();
                        let value = $generic(x, y)?;
                        set(&mut r!($a), value);
                    }
                }
            }};
        }
        // `/` and `%` on ints: a zero divisor is an error; MIN / -1 overflows.
        macro_rules! div_op {
            ($a:expr, $b:expr, $c:expr, $method:ident, $generic:path) => {{
                match (&r!($b), &r!($c)) {
                    (Value::Int(x), Value::Int(y)) if *y != 0 => match x.$method(*y) {
                        Some(v) => set_int(&mut r!($a), v),
                        None => {
                            save_pc!();
                            let value = $generic(&Value::Int(*x), &Value::Int(*y))?;
                            set(&mut r!($a), value);
                        }
                    },
                    (x, y) => {
                        save_pc!();
                        let value = $generic(x, y)?;
                        set(&mut r!($a), value);
                    }
                }
            }};
        }
        // An int operation with a constant right operand.
        macro_rules! int_imm {
            ($a:expr, $b:expr, $value:expr, $method:ident, $generic:path, $sym:literal) => {{
                let value = i64::from($value);
                match &r!($b) {
                    Value::Int(x) => match x.$method(value) {
                        Some(v) => set_int(&mut r!($a), v),
                        None => {
                            save_pc!();
                            return Err(RuntimeError::arithmetic(concat!(
                                "integer overflow in `",
                                $sym,
                                "`"
                            )));
                        }
                    },
                    other => {
                        save_pc!();
                        let result = $generic(other, &Value::Int(value))?;
                        set(&mut r!($a), result);
                    }
                }
            }};
        }
        // An int comparison with a constant right operand.
        macro_rules! cmp_imm {
            ($a:expr, $b:expr, $value:expr, $op:tt) => {{
                let value = i64::from($value);
                let result = match &r!($b) {
                    Value::Int(x) => *x $op value,
                    other => {
                        save_pc!();
                        ops::compare(other, &Value::Int(value))? $op std::cmp::Ordering::Equal
                    }
                };
                set_bool(&mut r!($a), result);
            }};
        }
        // Unless R[a] `op` value on ints, jump.
        macro_rules! branch_imm {
            ($a:expr, $value:expr, $target:expr, $op:tt) => {{
                let value = i64::from($value);
                let yes = match &r!($a) {
                    Value::Int(x) => *x $op value,
                    other => {
                        save_pc!();
                        ops::compare(other, &Value::Int(value))? $op std::cmp::Ordering::Equal
                    }
                };
                if !yes {
                    jump!($target);
                }
            }};
        }
        macro_rules! num_op {
            ($a:expr, $b:expr, $c:expr, $op:tt, $generic:path) => {{
                match (&r!($b), &r!($c)) {
                    (Value::Number(x), Value::Number(y)) => {
                        let v = x $op y;
                        set_number(&mut r!($a), v)
                    }
                    (x, y) => {
                        save_pc!();
                        let value = $generic(x, y)?;
                        set(&mut r!($a), value);
                    }
                }
            }};
        }
        macro_rules! generic {
            ($a:expr, $b:expr, $c:expr, $f:path) => {{
                save_pc!();
                let value = $f(&r!($b), &r!($c))?;
                set(&mut r!($a), value);
            }};
        }
        macro_rules! jump {
            ($target:expr) => {{
                let target = $target as usize;
                if target < pc {
                    self.steps += 1;
                    if self.steps & 0xfff == 0 {
                        save_pc!();
                        self.check_limits()?;
                    }
                }
                pc = target;
            }};
        }

        loop {
            let Some(op) = ops.get(pc).copied() else {
                return Err(RuntimeError::runtime(
                    "internal: ran past the end of a function",
                ));
            };
            pc += 1;
            match op {
                Op::LoadNone { a } => r!(a) = Value::None,
                Op::LoadAbsent { a } => r!(a) = Value::Absent,
                Op::LoadBool { a, value } => set_bool(&mut r!(a), value),
                Op::LoadInt { a, value } => set_int(&mut r!(a), i64::from(value)),
                Op::LoadConst { a, k } => {
                    let value = function.values[k as usize].clone();
                    set(&mut r!(a), value);
                }
                Op::Move { a, b } => {
                    if let Some((dst, src)) = pair(regs, a as usize, b as usize) {
                        copy_into(dst, src);
                    }
                }
                Op::GetGlobal { a, k } => {
                    let value = self.globals[k as usize].clone();
                    if matches!(value, Value::Absent) {
                        save_pc!();
                        let name = self
                            .program
                            .code
                            .globals
                            .get(k as usize)
                            .map_or("?", |(_, n)| n.as_str());
                        return Err(RuntimeError::none(format!(
                            "`{name}` is read before it is assigned"
                        )));
                    }
                    r!(a) = value;
                }
                Op::SetGlobal { a, k } => self.globals[k as usize] = r!(a).clone(),
                Op::GetCapture { a, k } => {
                    let value = match self
                        .frames
                        .last()
                        .and_then(|f| f.closure.as_ref())
                        .and_then(|c| c.captures.get(k as usize))
                    {
                        Some(Value::Cell(cell)) => cell.borrow().clone(),
                        Some(value) => value.clone(),
                        None => Value::None,
                    };
                    r!(a) = value;
                }
                Op::SetCapture { a, k } => {
                    let value = r!(a).clone();
                    if let Some(Value::Cell(cell)) = self
                        .frames
                        .last()
                        .and_then(|f| f.closure.as_ref())
                        .and_then(|c| c.captures.get(k as usize))
                    {
                        *cell.borrow_mut() = value;
                    }
                }
                Op::NewCell { a, b } => {
                    let value = r!(b).clone();
                    r!(a) = Value::cell(value);
                }
                Op::GetCell { a, b } => {
                    let value = r!(b).read_cell();
                    r!(a) = value;
                }
                Op::SetCell { a, b } => {
                    let value = r!(b).clone();
                    if let Value::Cell(cell) = &r!(a) {
                        *cell.borrow_mut() = value;
                    } else {
                        r!(a) = value;
                    }
                }

                Op::AddInt { a, b, c } => int_op!(a, b, c, checked_add, ops::add, "+"),
                Op::SubInt { a, b, c } => int_op!(a, b, c, checked_sub, ops::sub, "-"),
                Op::MulInt { a, b, c } => int_op!(a, b, c, checked_mul, ops::mul, "*"),
                Op::DivInt { a, b, c } => div_op!(a, b, c, checked_div, ops::div),
                Op::RemInt { a, b, c } => div_op!(a, b, c, checked_rem, ops::rem),
                Op::AddNum { a, b, c } => num_op!(a, b, c, +, ops::add),
                Op::SubNum { a, b, c } => num_op!(a, b, c, -, ops::sub),
                Op::MulNum { a, b, c } => num_op!(a, b, c, *, ops::mul),
                Op::DivNum { a, b, c } => num_op!(a, b, c, /, ops::div),
                Op::Add { a, b, c } => generic!(a, b, c, ops::add),
                Op::Sub { a, b, c } => generic!(a, b, c, ops::sub),
                Op::Mul { a, b, c } => generic!(a, b, c, ops::mul),
                Op::Div { a, b, c } => generic!(a, b, c, ops::div),
                Op::Rem { a, b, c } => generic!(a, b, c, ops::rem),
                Op::MulIntImm { a, b, value } => int_imm!(a, b, value, checked_mul, ops::mul, "*"),
                Op::DivIntImm { a, b, value } => int_imm!(a, b, value, checked_div, ops::div, "/"),
                Op::RemIntImm { a, b, value } => int_imm!(a, b, value, checked_rem, ops::rem, "%"),
                Op::LtIntImm { a, b, value } => cmp_imm!(a, b, value, <),
                Op::LeIntImm { a, b, value } => cmp_imm!(a, b, value, <=),
                Op::GtIntImm { a, b, value } => cmp_imm!(a, b, value, >),
                Op::GeIntImm { a, b, value } => cmp_imm!(a, b, value, >=),
                Op::EqIntImm { a, b, value } => {
                    let result = match &r!(b) {
                        Value::Int(x) => *x == i64::from(value),
                        other => ops::equal(other, &Value::Int(i64::from(value))),
                    };
                    set_bool(&mut r!(a), result);
                }
                Op::NotEqIntImm { a, b, value } => {
                    let result = match &r!(b) {
                        Value::Int(x) => *x != i64::from(value),
                        other => !ops::equal(other, &Value::Int(i64::from(value))),
                    };
                    set_bool(&mut r!(a), result);
                }
                Op::AddIntImm { a, b, value } => match &r!(b) {
                    Value::Int(x) => match x.checked_add(i64::from(value)) {
                        Some(v) => set_int(&mut r!(a), v),
                        None => {
                            save_pc!();
                            return Err(RuntimeError::arithmetic("integer overflow in `+`"));
                        }
                    },
                    other => {
                        save_pc!();
                        let result = ops::add(other, &Value::Int(i64::from(value)))?;
                        set(&mut r!(a), result);
                    }
                },
                Op::Neg { a, b } => {
                    save_pc!();
                    let value = ops::neg(&r!(b))?;
                    r!(a) = value;
                }
                Op::Not { a, b } => {
                    let value = !ops::truthy(&r!(b));
                    set_bool(&mut r!(a), value);
                }
                Op::Concat { a, b, c } if a == b && a != c => {
                    // `s += piece`: when no one else holds the text, it grows in place.
                    let mut left = std::mem::replace(&mut r!(a), Value::None);
                    let piece = match &r!(c) {
                        Value::Text(more) => more.as_str().len(),
                        _ => 24,
                    };
                    let unshared = match &mut left {
                        Value::Text(rc) => Rc::get_mut(rc),
                        _ => None,
                    };
                    match unshared {
                        Some(text) => match &r!(c) {
                            Value::Text(more) => text.push_str(more.as_str()),
                            other => text.push_str(&crate::display::display(other)),
                        },
                        None => {
                            let mut text = crate::display::display(&left);
                            crate::display::write_value(&mut text, &r!(c), false);
                            left = Value::text(text);
                        }
                    }
                    r!(a) = left;
                    charge!(piece);
                }
                Op::Concat { a, b, c } => {
                    let mut text = crate::display::display(&r!(b));
                    crate::display::write_value(&mut text, &r!(c), false);
                    let made = text.len() + 32;
                    r!(a) = Value::text(text);
                    charge!(made);
                }
                Op::JoinText { a, b, c } => {
                    let mut text = String::new();
                    for idx in 0..c {
                        crate::display::write_value(&mut text, &r!(b + idx), false);
                    }
                    let made = text.len() + 32;
                    r!(a) = Value::text(text);
                    charge!(made);
                }
                Op::ToText { a, b } => {
                    let value = match &r!(b) {
                        Value::Text(t) => Value::Text(t.clone()),
                        other => Value::text(crate::display::display(other)),
                    };
                    r!(a) = value;
                }
                Op::ToNumber { a, b } => {
                    let value = match &r!(b) {
                        Value::Int(i) => Value::Number(*i as f64),
                        other => other.clone(),
                    };
                    r!(a) = value;
                }
                Op::FromJson { a, k } => {
                    save_pc!();
                    let Some(Constant::Type(target)) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad conversion constant"));
                    };
                    let value = crate::json::convert(&r!(a), target, "value")?;
                    r!(a) = value;
                }

                Op::Eq { a, b, c } => {
                    let value = ops::equal(&r!(b), &r!(c));
                    set_bool(&mut r!(a), value);
                }
                Op::NotEq { a, b, c } => {
                    let value = !ops::equal(&r!(b), &r!(c));
                    set_bool(&mut r!(a), value);
                }
                Op::Lt { a, b, c } => {
                    save_pc!();
                    let value = ops::compare(&r!(b), &r!(c))?.is_lt();
                    set_bool(&mut r!(a), value);
                }
                Op::Le { a, b, c } => {
                    save_pc!();
                    let value = ops::compare(&r!(b), &r!(c))?.is_le();
                    set_bool(&mut r!(a), value);
                }
                Op::LtInt { a, b, c } => {
                    let value = match (&r!(b), &r!(c)) {
                        (Value::Int(x), Value::Int(y)) => x < y,
                        (x, y) => {
                            save_pc!();
                            ops::compare(x, y)?.is_lt()
                        }
                    };
                    set_bool(&mut r!(a), value);
                }
                Op::LeInt { a, b, c } => {
                    let value = match (&r!(b), &r!(c)) {
                        (Value::Int(x), Value::Int(y)) => x <= y,
                        (x, y) => {
                            save_pc!();
                            ops::compare(x, y)?.is_le()
                        }
                    };
                    set_bool(&mut r!(a), value);
                }
                Op::In { a, b, c } => {
                    save_pc!();
                    let value = ops::contains(&r!(b), &r!(c))?;
                    set_bool(&mut r!(a), value);
                }
                Op::Is { a, k } => {
                    let Some(Constant::Type(test)) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad type constant"));
                    };
                    let value = crate::json::is_type(&r!(a), test);
                    set_bool(&mut r!(a), value);
                }

                Op::Jump { target } => jump!(target),
                Op::JumpIf { a, target } => {
                    let yes = match r!(a) {
                        Value::Bool(b) => b,
                        ref other => ops::truthy(other),
                    };
                    if yes {
                        jump!(target);
                    }
                }
                Op::JumpIfNot { a, target } => {
                    let yes = match r!(a) {
                        Value::Bool(b) => b,
                        ref other => ops::truthy(other),
                    };
                    if !yes {
                        jump!(target);
                    }
                }
                Op::JumpIfNone { a, target } => {
                    if r!(a).is_none() {
                        jump!(target);
                    }
                }
                Op::JumpIfSome { a, target } => {
                    if !r!(a).is_none() {
                        jump!(target);
                    }
                }
                Op::JumpIfNotLtInt { a, target } => {
                    let below = match (&r!(a), &r!(a + 1)) {
                        (Value::Int(x), Value::Int(y)) => x < y,
                        (x, y) => {
                            save_pc!();
                            ops::compare(x, y)?.is_lt()
                        }
                    };
                    if !below {
                        jump!(target);
                    }
                }
                Op::ForLoopInt { a, target } => {
                    let end = match r!(a + 1) {
                        Value::Int(end) => end,
                        _ => i64::MIN,
                    };
                    let again = match &mut r!(a) {
                        Value::Int(x) => {
                            *x = x.saturating_add(1);
                            *x < end
                        }
                        _ => false,
                    };
                    if again {
                        jump!(target);
                    }
                }
                Op::JumpUnlessLtInt { a, b, target } => {
                    let yes = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x < y,
                        (x, y) => {
                            save_pc!();
                            ops::compare(x, y)?.is_lt()
                        }
                    };
                    if !yes {
                        jump!(target);
                    }
                }
                Op::JumpUnlessLeInt { a, b, target } => {
                    let yes = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x <= y,
                        (x, y) => {
                            save_pc!();
                            ops::compare(x, y)?.is_le()
                        }
                    };
                    if !yes {
                        jump!(target);
                    }
                }
                Op::JumpUnlessEq { a, b, target } => {
                    if !ops::equal(&r!(a), &r!(b)) {
                        jump!(target);
                    }
                }
                Op::JumpUnlessNotEq { a, b, target } => {
                    if ops::equal(&r!(a), &r!(b)) {
                        jump!(target);
                    }
                }
                Op::JumpUnlessLtIntImm { a, value, target } => branch_imm!(a, value, target, <),
                Op::JumpUnlessLeIntImm { a, value, target } => branch_imm!(a, value, target, <=),
                Op::JumpUnlessGtIntImm { a, value, target } => branch_imm!(a, value, target, >),
                Op::JumpUnlessGeIntImm { a, value, target } => branch_imm!(a, value, target, >=),
                Op::JumpUnlessEqIntImm { a, value, target } => {
                    let yes = match &r!(a) {
                        Value::Int(x) => *x == i64::from(value),
                        other => ops::equal(other, &Value::Int(i64::from(value))),
                    };
                    if !yes {
                        jump!(target);
                    }
                }
                Op::JumpUnlessNotEqIntImm { a, value, target } => {
                    let yes = match &r!(a) {
                        Value::Int(x) => *x != i64::from(value),
                        other => !ops::equal(other, &Value::Int(i64::from(value))),
                    };
                    if !yes {
                        jump!(target);
                    }
                }
                Op::JumpIfGiven { a, target } => {
                    if !matches!(r!(a), Value::Absent) {
                        jump!(target);
                    }
                }

                Op::Call { a, n } => {
                    save_pc!();
                    let callee = r!(a).read_cell();
                    let Value::Func(closure) = callee else {
                        return Err(RuntimeError::type_error(format!(
                            "{} is not a function",
                            callee.type_name()
                        )));
                    };
                    let callee = closure.function.index;
                    self.push_frame(
                        stack,
                        callee,
                        Some(closure),
                        base + a as usize + 1,
                        n as usize,
                        base + a as usize,
                    )?;
                    reload!();
                }
                Op::CallFn { a, k } => {
                    save_pc!();
                    let index = function
                        .callees
                        .get(k as usize)
                        .copied()
                        .unwrap_or(u32::MAX);
                    let Some(callee) = program.functions.get(index as usize) else {
                        return Err(RuntimeError::runtime("internal: no such function"));
                    };
                    let callee_base = base + a as usize + 1;
                    self.push_frame(
                        stack,
                        index,
                        None,
                        callee_base,
                        callee.arity as usize,
                        base + a as usize,
                    )?;
                    // The new frame is known: no need to read it back.
                    function = callee;
                    ops = &function.ops;
                    base = callee_base;
                    pc = 0;
                    window!();
                }
                Op::CallBuiltin { a, b, n } => {
                    save_pc!();
                    let start = a as usize + 1;
                    // The arguments are copied into a buffer the VM keeps, so a call
                    // allocates nothing (a built-in calling back into FLIN takes a fresh
                    // one while this one is out).
                    let mut args = std::mem::take(&mut self.args);
                    // Argument registers are temporaries: their values move out.
                    args.extend(
                        regs[start..start + n as usize]
                            .iter_mut()
                            .map(|slot| std::mem::replace(slot, Value::None)),
                    );
                    let result = lend!(builtins::call(self, b, &args));
                    args.clear();
                    self.args = args;
                    let result = result?;
                    let made = crate::memory::made(&result);
                    set(&mut r!(a), result);
                    charge!(made);
                }
                Op::CallMethod { a, k } => {
                    save_pc!();
                    let Some(Constant::Method { name, n_args }) =
                        function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad method constant"));
                    };
                    let start = a as usize + 1;
                    let mut args = std::mem::take(&mut self.args);
                    args.extend(
                        regs[start..start + *n_args as usize]
                            .iter_mut()
                            .map(|slot| std::mem::replace(slot, Value::None)),
                    );
                    let result = lend!(builtins::call_method(self, *name, &args));
                    args.clear();
                    self.args = args;
                    let result = result?;
                    let made = crate::memory::made(&result);
                    set(&mut r!(a), result);
                    charge!(made);
                }
                Op::Print { a, n } => {
                    let mut line = String::new();
                    for idx in 0..n {
                        if idx > 0 {
                            line.push(' ');
                        }
                        crate::display::write_value(&mut line, &r!(a + idx), false);
                    }
                    self.host.print(&line);
                }
                Op::Return { a } => {
                    let Some(ret) = self.frames.pop() else {
                        return Ok(());
                    };
                    move_value(stack, ret, base + a as usize);
                    if !self.handlers.is_empty() {
                        self.handlers.retain(|h| h.depth <= self.frames.len());
                    }
                    if self.frames.len() <= entry_depth {
                        return Ok(());
                    }
                    reload!();
                }
                Op::Closure { a, k } => {
                    let Some(Constant::Function(index)) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad closure constant"));
                    };
                    let Some(target) = self.program.function(*index).cloned() else {
                        return Err(RuntimeError::runtime("internal: no such function"));
                    };
                    let parent = self.frames.last().and_then(|f| f.closure.clone());
                    let captures = target
                        .code()
                        .captures
                        .iter()
                        .map(|from| match from {
                            CaptureFrom::Register(reg) => r!(*reg).clone(),
                            CaptureFrom::Capture(idx) => parent
                                .as_ref()
                                .and_then(|p| p.captures.get(*idx as usize).cloned())
                                .unwrap_or(Value::None),
                        })
                        .collect();
                    r!(a) = Value::Func(Rc::new(Closure {
                        function: target,
                        captures,
                    }));
                }

                // Items come from temporaries, so they move into the new value.
                Op::NewList { a, b, c } => {
                    let items: Vec<Value> = (0..c)
                        .map(|idx| std::mem::replace(&mut r!(b + idx), Value::None))
                        .collect();
                    r!(a) = Value::list(items);
                    charge!(c as usize * crate::memory::SLOT + 48);
                }
                Op::NewMap { a, b, c } => {
                    let mut entries = crate::value::Entries::with_capacity_and_hasher(
                        c as usize,
                        Default::default(),
                    );
                    for idx in 0..c {
                        let key = std::mem::replace(&mut r!(b + idx * 2), Value::None);
                        let value = std::mem::replace(&mut r!(b + idx * 2 + 1), Value::None);
                        entries.insert(Key(key), value);
                    }
                    r!(a) = Value::map(entries);
                    charge!(c as usize * 3 * crate::memory::SLOT + 64);
                }
                Op::NewTuple { a, b, c } => {
                    let items: Vec<Value> = (0..c)
                        .map(|idx| std::mem::replace(&mut r!(b + idx), Value::None))
                        .collect();
                    r!(a) = Value::tuple(items);
                    charge!(c as usize * crate::memory::SLOT + 32);
                }
                Op::NewRecord { a, k } => {
                    let Some(Some(shape)) = function.shapes.get(k as usize) else {
                        return Err(RuntimeError::runtime("internal: bad shape constant"));
                    };
                    let values: Vec<Value> = (0..shape.len() as u16)
                        .map(|idx| std::mem::replace(&mut r!(a + 1 + idx), Value::None))
                        .collect();
                    r!(a) = Value::record(shape.clone(), values);
                    charge!(shape.len() * crate::memory::SLOT + 48);
                }
                Op::NewVariant { a, k } => {
                    let Some(Constant::Variant {
                        enum_name,
                        variant,
                        arity,
                    }) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad variant constant"));
                    };
                    let payload: Vec<Value> =
                        (0..*arity).map(|idx| r!(a + 1 + idx).clone()).collect();
                    r!(a) = Value::Enum(Rc::new(EnumValue {
                        enum_name: *enum_name,
                        variant: *variant,
                        payload,
                    }));
                }
                Op::GetIndex { a, b, c } => {
                    // A list read by an int in range, copied straight into its register;
                    // the rest in `access`.
                    let index = match r!(c) {
                        Value::Int(i) => usize::try_from(i).ok(),
                        _ => None,
                    };
                    let done = match (index, pair(regs, a as usize, b as usize)) {
                        (Some(i), Some((dst, Value::List(items)))) => match items.borrow().get(i) {
                            Some(item) => {
                                copy_into(dst, item);
                                true
                            }
                            None => false,
                        },
                        _ => false,
                    };
                    if !done {
                        save_pc!();
                        let value = crate::access::get_index(&r!(b), &r!(c))?;
                        set(&mut r!(a), value);
                    }
                }
                Op::MapGet { a, b, c } => {
                    let found = match &r!(b) {
                        Value::Map(entries) => Some(
                            entries
                                .borrow()
                                .get(&crate::value::KeyRef(&r!(c)))
                                .cloned()
                                .unwrap_or(Value::None),
                        ),
                        _ => None,
                    };
                    let value = match found {
                        Some(value) => value,
                        None => {
                            save_pc!();
                            let args = [r!(b).clone(), r!(c).clone()];
                            lend!(builtins::call_method(self, Symbol::intern("get"), &args))?
                        }
                    };
                    set(&mut r!(a), value);
                }
                Op::MapSet { a, b, c } => {
                    let done = match &r!(a) {
                        Value::Map(entries) => match entries.try_borrow_mut() {
                            Ok(mut entries) => {
                                // An existing key keeps its entry: only the value changes
                                // (no key copy, no second hash).
                                match entries.get_mut(&crate::value::KeyRef(&r!(b))) {
                                    Some(slot) => copy_into(slot, &r!(c)),
                                    None => {
                                        let key = r!(b).clone();
                                        let value = r!(c).clone();
                                        entries.insert(Key(key), value);
                                    }
                                }
                                true
                            }
                            Err(_) => false,
                        },
                        _ => false,
                    };
                    if !done {
                        save_pc!();
                        let args = [r!(a).clone(), r!(b).clone(), r!(c).clone()];
                        lend!(builtins::call_method(self, Symbol::intern("set"), &args))?;
                    }
                    charge!(3 * crate::memory::SLOT);
                }
                Op::ListPush { a, b } => {
                    let done = match &r!(a) {
                        Value::List(items) => match items.try_borrow_mut() {
                            Ok(mut items) => {
                                items.push(r!(b).clone());
                                true
                            }
                            Err(_) => false,
                        },
                        _ => false,
                    };
                    if !done {
                        save_pc!();
                        let args = [r!(a).clone(), r!(b).clone()];
                        lend!(builtins::call_method(self, Symbol::intern("push"), &args))?;
                    }
                    charge!(crate::memory::SLOT);
                }
                Op::Length { a, b } => {
                    let length = match &r!(b) {
                        Value::List(items) => Some(items.borrow().len()),
                        Value::Text(text) => Some(text.char_len()),
                        Value::Map(entries) => Some(entries.borrow().len()),
                        _ => None,
                    };
                    match length {
                        Some(n) => set_int(&mut r!(a), n as i64),
                        None => {
                            save_pc!();
                            let args = [r!(b).clone()];
                            let value = lend!(builtins::call_method(
                                self,
                                Symbol::intern("length"),
                                &args
                            ))?;
                            set(&mut r!(a), value);
                        }
                    }
                }
                Op::SetIndex { a, b, c } => {
                    save_pc!();
                    let value = r!(c).clone();
                    crate::access::set_index(&r!(a), &r!(b), value)?;
                    charge!(crate::memory::SLOT);
                }
                Op::GetField { a, k } => {
                    save_pc!();
                    let Some(Constant::Name(name)) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad field constant"));
                    };
                    let object = r!(a).clone();
                    let value = lend!(crate::access::get_field(self, &object, *name))?;
                    r!(a) = value;
                }
                Op::GetFieldOf { a, b, k } => {
                    let Some(Constant::Name(name)) = function.code().constants.get(usize::from(k))
                    else {
                        return Err(RuntimeError::runtime("internal: bad field constant"));
                    };
                    // A record's field, copied straight into its register.
                    let done = match pair(regs, a as usize, b as usize) {
                        Some((dst, Value::Record(record))) => {
                            let values = record.values.try_borrow();
                            match (record.index_of(*name), values) {
                                (Some(i), Ok(values)) => match values.get(i) {
                                    Some(value) => {
                                        copy_into(dst, value);
                                        true
                                    }
                                    None => false,
                                },
                                _ => false,
                            }
                        }
                        _ => false,
                    };
                    if !done {
                        save_pc!();
                        let object = r!(b).clone();
                        let value = lend!(crate::access::get_field(self, &object, *name))?;
                        set(&mut r!(a), value);
                    }
                }
                Op::SetFieldTo { a, b, k } => {
                    let Some(Constant::Name(name)) = function.code().constants.get(usize::from(k))
                    else {
                        return Err(RuntimeError::runtime("internal: bad field constant"));
                    };
                    let value = r!(b).clone();
                    let left = match &r!(a) {
                        Value::Record(record) => record.set(*name, value).err(),
                        _ => Some(value),
                    };
                    if let Some(value) = left {
                        save_pc!();
                        crate::access::set_field(&r!(a), *name, value)?;
                    }
                }
                Op::SetField { a, k } => {
                    save_pc!();
                    let Some(Constant::Name(name)) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad field constant"));
                    };
                    let value = r!(a + 1).clone();
                    crate::access::set_field(&r!(a), *name, value)?;
                }
                Op::Slice { a } => {
                    save_pc!();
                    let value = crate::access::slice(&r!(a), &r!(a + 1), &r!(a + 2))?;
                    let made = crate::memory::made(&value);
                    r!(a) = value;
                    charge!(made);
                }
                Op::GetPayload { a, b, c } => {
                    let value = match &r!(b).read_cell() {
                        Value::Enum(e) => e.payload.get(c as usize).cloned().unwrap_or(Value::None),
                        _ => Value::None,
                    };
                    r!(a) = value;
                }
                Op::IsVariant { a, k } => {
                    let Some(Constant::Variant {
                        variant, enum_name, ..
                    }) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad variant constant"));
                    };
                    let value = matches!(&r!(a).read_cell(), Value::Enum(e) if e.variant == *variant && (e.enum_name == *enum_name || enum_name.as_str().is_empty()));
                    set_bool(&mut r!(a), value);
                }
                Op::LenIs { a, b, c } => {
                    let at_least = c & 0x8000 != 0;
                    let wanted = (c & 0x7fff) as usize;
                    let len = match &r!(b).read_cell() {
                        Value::List(items) => Some(items.borrow().len()),
                        Value::Tuple(items) => Some(items.len()),
                        _ => None,
                    };
                    let value = len.is_some_and(|len| {
                        if at_least {
                            len >= wanted
                        } else {
                            len == wanted
                        }
                    });
                    set_bool(&mut r!(a), value);
                }
                Op::ListFrom { a, b, c } => {
                    let value = match &r!(b).read_cell() {
                        Value::List(items) => {
                            Value::list(items.borrow().iter().skip(c as usize).cloned().collect())
                        }
                        _ => Value::list(Vec::new()),
                    };
                    let made = crate::memory::made(&value);
                    r!(a) = value;
                    charge!(made);
                }

                Op::IterStart { a, b } => {
                    save_pc!();
                    let state = IterState::new(&r!(b))?;
                    r!(a) = Value::Iter(Rc::new(std::cell::RefCell::new(state)));
                }
                Op::IterNext { a, b } => {
                    let next = match &r!(a) {
                        Value::Iter(state) => state.borrow_mut().advance(),
                        _ => None,
                    };
                    if let Some(item) = next {
                        r!(b) = item;
                        pc += 1;
                        save_pc!();
                        self.count_step()?;
                    }
                }

                Op::TryStart { a, target } => {
                    // `try` is atomic (language.md §14): its writes are undone on error.
                    let tx_depth = self.host.depth();
                    save_pc!();
                    lend!(self.host.savepoint())?;
                    self.handlers.push(Handler {
                        tx_depth,
                        depth: self.frames.len(),
                        slot: base + a as usize,
                        target: target as usize,
                    });
                }
                Op::TryEnd => {
                    if self
                        .handlers
                        .last()
                        .is_some_and(|h| h.depth == self.frames.len())
                    {
                        self.handlers.pop();
                        save_pc!();
                        lend!(self.host.release())?;
                    }
                }
                Op::Fail { a } => {
                    save_pc!();
                    let message = crate::display::display(&r!(a));
                    return Err(RuntimeError::runtime(message));
                }
                Op::FailWith { k } => {
                    save_pc!();
                    let Some(Constant::Error {
                        kind,
                        message,
                        status,
                    }) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad error constant"));
                    };
                    let mut err = RuntimeError::new(kind, message.to_string());
                    err.status = *status;
                    return Err(err);
                }
                Op::Assert { a, k } => {
                    if !ops::truthy(&r!(a)) {
                        save_pc!();
                        let (text, values) = match function.code().constants.get(k as usize) {
                            Some(Constant::Assertion { text, values }) => {
                                (text.to_string(), *values)
                            }
                            _ => ("assertion".to_string(), false),
                        };
                        let mut message = format!("assertion failed: `{text}`");
                        if values {
                            message.push_str(&format!(
                                "\n  left:  {}\n  right: {}",
                                crate::display::display_nested(&r!(a + 1)),
                                crate::display::display_nested(&r!(a + 2))
                            ));
                        }
                        return Err(RuntimeError::new("assertion", message));
                    }
                }
                Op::QueryNew { a, k } | Op::QueryThen { a, k } => {
                    let Some(Constant::Query(shape)) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad query constant"));
                    };
                    let n = shape.n_params;
                    let params = (1..=n).map(|idx| r!(a + idx).clone()).collect();
                    let base = matches!(op, Op::QueryThen { .. }).then(|| r!(a).clone());
                    save_pc!();
                    r!(a) = crate::query::build(base.as_ref(), shape, params)?;
                }
                Op::QueryRun { a, k } => {
                    let Some(Constant::Terminal(terminal)) =
                        function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad terminal constant"));
                    };
                    let query = match &r!(a) {
                        Value::Query(query) => query.clone(),
                        // A list already holds its rows (a variable that held a query
                        // holds its list from its first use as one: data.md §4).
                        Value::List(_) if *terminal == flin_query::Terminal::Rows => continue,
                        Value::List(items) => {
                            let items = items.clone();
                            let result = match terminal {
                                flin_query::Terminal::Count => {
                                    Value::Int(items.borrow().len() as i64)
                                }
                                flin_query::Terminal::Exists => {
                                    Value::Bool(!items.borrow().is_empty())
                                }
                                flin_query::Terminal::First => {
                                    items.borrow().first().cloned().unwrap_or(Value::None)
                                }
                                flin_query::Terminal::Last => {
                                    items.borrow().last().cloned().unwrap_or(Value::None)
                                }
                                _ => {
                                    save_pc!();
                                    return Err(RuntimeError::type_error(
                                        "this variable holds the list of its query's rows now: use list methods on it",
                                    ));
                                }
                            };
                            r!(a) = result;
                            continue;
                        }
                        other => {
                            save_pc!();
                            return Err(RuntimeError::type_error(format!(
                                "a {} is not a query",
                                other.type_name()
                            )));
                        }
                    };
                    // Used as a list once, the query is that list (data.md §4).
                    let kept = query.rows.borrow().clone();
                    if let Some(Value::List(items)) = kept {
                        r!(a) = match terminal {
                            flin_query::Terminal::Rows => Value::List(items),
                            flin_query::Terminal::Count => Value::Int(items.borrow().len() as i64),
                            flin_query::Terminal::Exists => Value::Bool(!items.borrow().is_empty()),
                            flin_query::Terminal::First => {
                                items.borrow().first().cloned().unwrap_or(Value::None)
                            }
                            flin_query::Terminal::Last => {
                                items.borrow().last().cloned().unwrap_or(Value::None)
                            }
                            _ => {
                                save_pc!();
                                let plan = crate::query::plan(&query)?;
                                lend!(self.host.query(&plan, terminal))?
                            }
                        };
                        continue;
                    }
                    save_pc!();
                    let plan = crate::query::plan(&query)?;
                    let result = lend!(self.host.query(&plan, terminal))?;
                    if *terminal == flin_query::Terminal::Rows {
                        *query.rows.borrow_mut() = Some(result.clone());
                    }
                    let made = crate::memory::made(&result);
                    r!(a) = result;
                    charge!(made);
                }
                Op::NewEntity { a, k } => {
                    let Some(Constant::Entity(index)) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad entity constant"));
                    };
                    let Some(ty) = self.program.entities.get(*index as usize).cloned() else {
                        return Err(RuntimeError::runtime("internal: unknown entity"));
                    };
                    let values: Vec<Value> = (0..ty.fields.len() as u16)
                        .map(|idx| std::mem::replace(&mut r!(a + 1 + idx), Value::None))
                        .collect();
                    r!(a) = crate::entity::new_entity(ty, Default::default(), values);
                }
                Op::Persist { a, op } => {
                    save_pc!();
                    let Some(op) = crate::host::PersistOp::from_u8(op) else {
                        return Err(RuntimeError::runtime("internal: bad persist operation"));
                    };
                    let target = r!(a).clone();
                    lend!(self.host.persist(op, &target))?;
                }
                Op::TimeTravel { a, b } => {
                    save_pc!();
                    let (entity, at) = (r!(a).clone(), r!(b).clone());
                    r!(a) = lend!(self.host.time_travel(&entity, &at))?;
                }
                Op::EntityHistory { a, k } => {
                    save_pc!();
                    let Some(Constant::Entity(index)) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad entity constant"));
                    };
                    let Some(name) = self
                        .program
                        .code
                        .entities
                        .get(*index as usize)
                        .map(|d| d.name.clone())
                    else {
                        return Err(RuntimeError::runtime("internal: unknown entity"));
                    };
                    let id = match &r!(a) {
                        Value::Int(id) => *id,
                        Value::Entity(e) => e.id().unwrap_or(0),
                        other => {
                            return Err(RuntimeError::type_error(format!(
                                "{name}.history takes an id, not {}",
                                other.type_name()
                            )));
                        }
                    };
                    r!(a) = lend!(self.host.history(&name, id))?;
                }
                Op::Emit { k } => {
                    if let Some(Value::Text(text)) = function.values.get(k as usize) {
                        self.host.emit(text.as_str());
                    }
                }
                Op::EmitValue { a } => {
                    // Shown and escaped into buffers the VM keeps: no allocation per value.
                    let mut escaped = std::mem::take(&mut self.escaped);
                    escaped.clear();
                    match &r!(a) {
                        Value::Text(text) => crate::html::escape_into(&mut escaped, text.as_str()),
                        value => {
                            let mut shown = std::mem::take(&mut self.shown);
                            shown.clear();
                            crate::display::write_value(&mut shown, value, false);
                            crate::html::escape_into(&mut escaped, &shown);
                            self.shown = shown;
                        }
                    }
                    self.host.emit_hole(&escaped);
                    self.escaped = escaped;
                }
                Op::EmitRaw { a } => {
                    let shown = crate::display::display(&r!(a));
                    self.host.emit_hole(&shown);
                }
                Op::Mark { a, kind } => {
                    if let Some(mark) = crate::host::Mark::from_u8(kind) {
                        let key = (a != crate::opcode::NO_REG).then(|| &r!(a));
                        self.host.mark(mark, key);
                    }
                }
                Op::EmitHandler { a, k } => {
                    save_pc!();
                    let Some(Value::Text(event)) = function.values.get(k as usize) else {
                        return Err(RuntimeError::runtime("internal: bad handler constant"));
                    };
                    let site = (u64::from(function.index) << 32) | (pc as u64);
                    let handler = r!(a).clone();
                    lend!(self.host.handler(site, event.as_str(), &handler))?;
                }
                Op::EmitBind { a, k } => {
                    save_pc!();
                    let Some(Value::Text(kind)) = function.values.get(k as usize) else {
                        return Err(RuntimeError::runtime("internal: bad bind constant"));
                    };
                    let site = (u64::from(function.index) << 32) | (pc as u64);
                    let setter = r!(a).clone();
                    lend!(self.host.bind(site, kind.as_str(), &setter))?;
                }
                Op::EmitHead { a } => {
                    let shown = crate::display::display(&r!(a));
                    self.host.head(&shown);
                }
                Op::LoadContext { a, k } => {
                    let Some(Constant::Name(name)) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad context constant"));
                    };
                    let value = self.host.context(name.as_str());
                    // Entities in the session are references: read back as they are now.
                    if name.as_str() == "session" {
                        save_pc!();
                        crate::reference::read_in_map(&mut *self.host, &value)?;
                    }
                    r!(a) = value;
                }
                Op::CaptureBegin => self.host.capture_begin(),
                Op::CaptureEnd { a } => {
                    let html = self.host.capture_end();
                    r!(a) = Value::text(html);
                }
                Op::RenderComponent { a, k } => {
                    save_pc!();
                    let Some(Constant::Name(name)) = function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad component constant"));
                    };
                    let Some(view) = self
                        .program
                        .code
                        .components
                        .iter()
                        .find(|(n, _)| n.as_str() == name.as_str())
                        .map(|(_, v)| *v)
                    else {
                        return Err(RuntimeError::runtime(format!("unknown component `{name}`")));
                    };
                    let (props, children) = (r!(a).clone(), r!(a + 1).clone());
                    let site = (u64::from(function.index) << 32) | (pc as u64);
                    lend!(self.render_component(view, name.as_str(), site, props, children))?;
                }
                Op::ValidateBody { k } => {
                    save_pc!();
                    let Some(Constant::Validate(fields)) =
                        function.code().constants.get(k as usize)
                    else {
                        return Err(RuntimeError::runtime("internal: bad validate constant"));
                    };
                    let fields = fields.clone();
                    lend!(self.host.validate(&fields))?;
                }
                Op::TxBegin => {
                    save_pc!();
                    lend!(self.host.savepoint())?;
                }
                Op::TxEnd => {
                    save_pc!();
                    lend!(self.host.release())?;
                }
                Op::Unwrap { a, k } => {
                    if r!(a).is_none() {
                        save_pc!();
                        let what = match function.code().constants.get(k as usize) {
                            Some(Constant::Name(name)) => name.as_str().to_string(),
                            _ => "value".to_string(),
                        };
                        return Err(RuntimeError::none(format!(
                            "{what} is none where a value is needed"
                        )));
                    }
                }
            }
        }
    }
}

// Writing a scalar into a register that already holds one of the same kind changes only
// its payload: no drop of the old value, no 16-byte copy of a value built on the stack
// (which stalls store forwarding). Registers keep their kind across a loop, so this is
// the common case.

#[inline(always)]
fn set_int(slot: &mut Value, value: i64) {
    match slot {
        Value::Int(x) => *x = value,
        _ => overwrite(slot, Value::Int(value)),
    }
}

#[inline(always)]
fn set_number(slot: &mut Value, value: f64) {
    match slot {
        Value::Number(x) => *x = value,
        _ => overwrite(slot, Value::Number(value)),
    }
}

#[inline(always)]
fn set_bool(slot: &mut Value, value: bool) {
    match slot {
        Value::Bool(x) => *x = value,
        _ => overwrite(slot, Value::Bool(value)),
    }
}

/// `*slot = value`, writing a scalar in place when it can.
#[inline(always)]
fn set(slot: &mut Value, value: Value) {
    match value {
        Value::Int(i) => set_int(slot, i),
        Value::Number(n) => set_number(slot, n),
        Value::Bool(b) => set_bool(slot, b),
        other => overwrite(slot, other),
    }
}

/// `*slot = value`, calling the destructor of the old value only when it has one.
#[inline(always)]
fn overwrite(slot: &mut Value, value: Value) {
    if slot.is_heap() {
        *slot = value;
    } else {
        std::mem::forget(std::mem::replace(slot, value));
    }
}

/// `*dst = src.clone()`, scalars written in place.
#[inline(always)]
fn copy_into(dst: &mut Value, src: &Value) {
    match src {
        Value::Int(i) => set_int(dst, *i),
        Value::Number(n) => set_number(dst, *n),
        Value::Bool(b) => set_bool(dst, *b),
        other => overwrite(dst, other.clone()),
    }
}

/// Register `a` to write and register `b` to read, at once; `None` when they are the
/// same register (a copy to itself is nothing to do).
#[inline(always)]
fn pair(stack: &mut [Value], a: usize, b: usize) -> Option<(&mut Value, &Value)> {
    if a < b {
        let (low, high) = stack.split_at_mut(b);
        Some((low.get_mut(a)?, high.first()?))
    } else if b < a {
        let (low, high) = stack.split_at_mut(a);
        Some((high.first_mut()?, low.get(b)?))
    } else {
        None
    }
}

/// Moves register `src` into register `dst` (a result to its caller): scalars are
/// copied in place, a heap value is taken, so no reference stays behind in a finished
/// frame.
#[inline(always)]
fn move_value(stack: &mut [Value], dst: usize, src: usize) {
    let (dst, src) = if dst < src {
        let (low, high) = stack.split_at_mut(src);
        match (low.get_mut(dst), high.first_mut()) {
            (Some(d), Some(s)) => (d, s),
            _ => return,
        }
    } else if src < dst {
        let (low, high) = stack.split_at_mut(dst);
        match (high.first_mut(), low.get_mut(src)) {
            (Some(d), Some(s)) => (d, s),
            _ => return,
        }
    } else {
        return;
    };
    match *src {
        Value::Int(i) => set_int(dst, i),
        Value::Number(n) => set_number(dst, n),
        Value::Bool(b) => set_bool(dst, b),
        _ => overwrite(dst, std::mem::replace(src, Value::None)),
    }
}
