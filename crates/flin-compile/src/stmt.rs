//! Statements to instructions (language.md §5): declaration or reassignment, compound
//! assignment, `if` (also as a value), loops with `break` and `continue`, `return`,
//! `assert`. A block's value is its last expression's.

use flin_check::Ty;
use flin_syntax::Symbol;
use flin_syntax::ast::{self, AssignOp, Block, Else, Expr, ExprKind, If, Member, Stmt, StmtKind};
use flin_vm::{Constant, Op};

use crate::compiler::ModuleCompiler;
use crate::func::{LoopLabels, Slot};

impl ModuleCompiler<'_> {
    /// Compiles a block in a scope of its own; its value goes to `dst`.
    pub fn block_value(&mut self, block: &Block, dst: u16) {
        self.b().push_scope();
        self.stmts_value(&block.stmts, dst);
        self.b().pop_scope();
    }

    /// A block run for its effects only (a loop body, a statement `if`).
    pub fn block_effect(&mut self, block: &Block) {
        self.b().push_scope();
        for stmt in &block.stmts {
            self.stmt(stmt, None);
        }
        self.b().pop_scope();
    }

    /// Statements in order; the last one's value (if it has one) goes to `dst`.
    pub fn stmts_value(&mut self, stmts: &[Stmt], dst: u16) {
        let last = stmts.len().saturating_sub(1);
        let mut wrote = false;
        for (idx, stmt) in stmts.iter().enumerate() {
            let value_dst = (idx == last).then_some(dst);
            wrote = self.stmt(stmt, value_dst);
        }
        if !wrote {
            self.emit(Op::LoadNone { a: dst });
        }
    }

    /// Compiles a statement; when `value_dst` is given and the statement has a value,
    /// writes it there and returns true.
    pub fn stmt(&mut self, stmt: &Stmt, value_dst: Option<u16>) -> bool {
        let saved_span = self.b().span;
        self.b().span = stmt.span;
        let mark = self.b().free;
        let mut keep = mark;
        let mut wrote = false;
        match &stmt.kind {
            StmtKind::Expr(expr) => match value_dst {
                Some(dst) => {
                    self.expr_to(expr, dst);
                    wrote = true;
                }
                None => {
                    let scratch = self.b().temp();
                    self.expr_to(expr, scratch);
                    // A call made for its effect need not load its `none` result.
                    self.b().drop_last_if(Op::LoadNone { a: scratch });
                }
            },
            StmtKind::Assign(assign) => {
                if let Some(declared) = self.assign(assign, mark) {
                    keep = declared + 1;
                }
            }
            StmtKind::Step { target, op } => {
                let delta = if *op == ast::StepOp::Increment { 1 } else { -1 };
                self.update(target, |c, reg| {
                    c.emit(Op::AddIntImm {
                        a: reg,
                        b: reg,
                        value: delta,
                    });
                });
            }
            StmtKind::If(branch) => wrote = self.if_stmt(branch, value_dst),
            StmtKind::For(for_loop) => self.for_stmt(for_loop),
            StmtKind::While { cond, body } => {
                let head = self.b().here();
                let exits = self.jump_unless(cond);
                self.b().free = mark;
                let transactions = self.b().transactions;
                self.b().loops.push(LoopLabels {
                    breaks: Vec::new(),
                    continues: Vec::new(),
                    transactions,
                });
                self.block_effect(body);
                self.emit(Op::Jump { target: head });
                for exit in exits {
                    self.b().patch(exit);
                }
                self.close_loop(head);
            }
            StmtKind::Break => {
                self.leave_transactions_of_loop();
                let at = self.emit(Op::Jump { target: 0 });
                if let Some(labels) = self.b().loops.last_mut() {
                    labels.breaks.push(at);
                }
            }
            StmtKind::Continue => {
                self.leave_transactions_of_loop();
                let at = self.emit(Op::Jump { target: 0 });
                if let Some(labels) = self.b().loops.last_mut() {
                    labels.continues.push(at);
                }
            }
            StmtKind::Return(value) => {
                let reg = match value {
                    Some(value) => self.expr_reg(value),
                    None => {
                        let reg = self.b().temp();
                        self.emit(Op::LoadNone { a: reg });
                        reg
                    }
                };
                for _ in 0..self.b().transactions {
                    self.emit(Op::TxEnd);
                }
                self.emit(Op::Return { a: reg });
            }
            StmtKind::Assert(cond) => {
                // A comparison keeps both sides, so a failure can show their values.
                let mut text = self.src.get(cond.span.range()).unwrap_or("condition");
                // `assert(a > 5)` is written with parentheses that are not part of it.
                while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
                    if !balanced(inner) {
                        break;
                    }
                    text = inner.trim();
                }
                let text = text.to_string();
                let base = self.b().temps(3);
                let with_values = match &cond.kind {
                    ExprKind::Binary { op, lhs, rhs }
                        if matches!(
                            op,
                            ast::BinaryOp::Eq
                                | ast::BinaryOp::NotEq
                                | ast::BinaryOp::Lt
                                | ast::BinaryOp::Le
                                | ast::BinaryOp::Gt
                                | ast::BinaryOp::Ge
                        ) =>
                    {
                        self.expr_to(lhs, base + 1);
                        self.expr_to(rhs, base + 2);
                        let (b, c) = (base + 1, base + 2);
                        let compare = match op {
                            ast::BinaryOp::Eq => Op::Eq { a: base, b, c },
                            ast::BinaryOp::NotEq => Op::NotEq { a: base, b, c },
                            ast::BinaryOp::Lt => Op::Lt { a: base, b, c },
                            ast::BinaryOp::Le => Op::Le { a: base, b, c },
                            ast::BinaryOp::Gt => Op::Lt {
                                a: base,
                                b: c,
                                c: b,
                            },
                            _ => Op::Le {
                                a: base,
                                b: c,
                                c: b,
                            },
                        };
                        self.emit(compare);
                        true
                    }
                    _ => {
                        self.expr_to(cond, base);
                        false
                    }
                };
                let k = self.constant(Constant::Assertion {
                    text: text.into(),
                    values: with_values,
                });
                self.emit(Op::Assert { a: base, k });
            }
            StmtKind::Transaction(block) => {
                self.emit(Op::TxBegin);
                self.b().transactions += 1;
                match value_dst {
                    Some(dst) => {
                        self.block_value(block, dst);
                        wrote = true;
                    }
                    None => self.block_effect(block),
                }
                self.b().transactions -= 1;
                self.emit(Op::TxEnd);
            }
            StmtKind::Block(block) => match value_dst {
                Some(dst) => {
                    self.block_value(block, dst);
                    wrote = true;
                }
                None => self.block_effect(block),
            },
            StmtKind::Persist { op, target } => self.persist(*op, target),
            StmtKind::Markup(markup) => self.markup(markup),
            StmtKind::Validate(fields) => self.validate(fields),
            StmtKind::Guard(guard) => self.guard(guard),
            StmtKind::Middleware(block) => {
                // Runs as the file's middleware function (see `compile_module`); in the
                // top-level code it does nothing.
                let _ = block;
            }
            // Declarations, and web and service blocks, are compiled elsewhere or by the
            // server; markup is rendered by pages.
            _ => {}
        }
        self.b().free = keep;
        self.b().span = saved_span;
        wrote
    }

    /// `guard auth`, `guard role("admin")` … (web.md §6): a check that ends the request
    /// with its status when it fails; a custom guard calls its `guard_definition`.
    fn guard(&mut self, guard: &ast::Guard) {
        let args = guard.args.as_deref().unwrap_or(&[]);
        let name = guard.name.as_str();
        let base = self.b().temps(args.len() as u16 + 1);
        for (idx, arg) in args.iter().enumerate() {
            self.expr_to(&arg.value, base + 1 + idx as u16);
        }
        if matches!(
            name,
            "auth" | "role" | "rate_limit" | "api_key" | "same_origin"
        ) {
            self.builtin_call("", &format!("guard_{name}"), base, args.len() as u16);
            return;
        }
        match self
            .ctx
            .function(self.file, Symbol::intern(&format!("guard {name}")))
        {
            Some(index) => {
                let k = self.constant(Constant::Function(index));
                self.emit(Op::CallFn { a: base, k });
            }
            None => {
                let k = self.constant(Constant::Error {
                    kind: "runtime",
                    message: format!("unknown guard `{name}`").into(),
                    status: None,
                });
                self.emit(Op::FailWith { k });
            }
        }
    }

    /// Ends the transaction blocks opened inside the innermost loop (`break`, `continue`).
    fn leave_transactions_of_loop(&mut self) {
        let outer = self.b().loops.last().map_or(0, |l| l.transactions);
        for _ in outer..self.b().transactions {
            self.emit(Op::TxEnd);
        }
    }

    /// `x = e`, `x: T = e`, `a.b = e`, `a[i] = e`, `x += e` …; returns the register of a
    /// new local when the assignment declared one (it must stay allocated).
    fn assign(&mut self, assign: &ast::Assign, mark: u16) -> Option<u16> {
        if assign.op != AssignOp::Set {
            let op = assign.op;
            let value = &assign.value;
            let ints = matches!(self.ty(&assign.target), Some(Ty::Int))
                && matches!(self.ty(value), Some(Ty::Int));
            let text = matches!(self.ty(&assign.target), Some(Ty::Text));
            self.update(&assign.target, |c, reg| {
                let other = c.expr_reg(value);
                let instruction = match (op, ints) {
                    (AssignOp::Add, _) if text => Op::Concat {
                        a: reg,
                        b: reg,
                        c: other,
                    },
                    (AssignOp::Add, true) => Op::AddInt {
                        a: reg,
                        b: reg,
                        c: other,
                    },
                    (AssignOp::Sub, true) => Op::SubInt {
                        a: reg,
                        b: reg,
                        c: other,
                    },
                    (AssignOp::Mul, true) => Op::MulInt {
                        a: reg,
                        b: reg,
                        c: other,
                    },
                    (AssignOp::Div, true) => Op::DivInt {
                        a: reg,
                        b: reg,
                        c: other,
                    },
                    (AssignOp::Add, false) => Op::Add {
                        a: reg,
                        b: reg,
                        c: other,
                    },
                    (AssignOp::Sub, false) => Op::Sub {
                        a: reg,
                        b: reg,
                        c: other,
                    },
                    (AssignOp::Mul, false) => Op::Mul {
                        a: reg,
                        b: reg,
                        c: other,
                    },
                    _ => Op::Div {
                        a: reg,
                        b: reg,
                        c: other,
                    },
                };
                c.emit(instruction);
            });
            return None;
        }
        match &assign.target.kind {
            ExprKind::Name(name) => {
                let existing = self.resolve_var(name.sym);
                let at_file_level =
                    self.stack.len() == 1 && self.b().scopes.len() <= 2 && self.is_main;
                let slot = match (assign.ty.is_some(), existing) {
                    (true, Some(Slot::Global(g))) if at_file_level => Some(Slot::Global(g)),
                    (true, _) => None,
                    (false, existing) => existing,
                };
                match slot {
                    Some(Slot::Reg(r)) => {
                        self.expr_to(&assign.value, r);
                        None
                    }
                    Some(slot) => {
                        let reg = self.b().temp();
                        self.expr_to(&assign.value, reg);
                        self.write_slot(slot, reg);
                        None
                    }
                    None => {
                        self.b().free = mark;
                        let reg = self.b().temp();
                        self.expr_to(&assign.value, reg);
                        self.declare_local(name, reg);
                        Some(reg)
                    }
                }
            }
            ExprKind::Member {
                object,
                member: Member::Named(field),
                ..
            } => {
                let object_reg = self.expr_reg(object);
                let value = self.expr_reg(&assign.value);
                self.set_field(object_reg, field.sym, value);
                None
            }
            ExprKind::Index { object, index } => {
                let object_reg = self.expr_reg(object);
                let index_reg = self.expr_reg(index);
                let value = self.expr_reg(&assign.value);
                self.emit(Op::SetIndex {
                    a: object_reg,
                    b: index_reg,
                    c: value,
                });
                None
            }
            _ => None,
        }
    }

    /// Reads a place, lets `apply` change the value in a register, writes it back.
    fn update(&mut self, target: &Expr, apply: impl FnOnce(&mut Self, u16)) {
        match &target.kind {
            ExprKind::Name(name) => match self.resolve_var(name.sym) {
                Some(Slot::Reg(r)) => apply(self, r),
                Some(slot) => {
                    let reg = self.b().temp();
                    self.read_slot(slot, reg);
                    apply(self, reg);
                    self.write_slot(slot, reg);
                }
                None => {}
            },
            ExprKind::Member {
                object,
                member: Member::Named(field),
                ..
            } => {
                let object_reg = self.expr_reg(object);
                let value = self.b().temp();
                self.get_field(object_reg, field.sym, value);
                apply(self, value);
                self.set_field(object_reg, field.sym, value);
            }
            ExprKind::Index { object, index } => {
                let object_reg = self.expr_reg(object);
                let index_reg = self.expr_reg(index);
                let value = self.b().temp();
                self.emit(Op::GetIndex {
                    a: value,
                    b: object_reg,
                    c: index_reg,
                });
                apply(self, value);
                self.emit(Op::SetIndex {
                    a: object_reg,
                    b: index_reg,
                    c: value,
                });
            }
            _ => {}
        }
    }

    /// `if`/`else if`/`else`; with `dst`, the branch values go there.
    fn if_stmt(&mut self, branch: &If, dst: Option<u16>) -> bool {
        let Some(dst) = dst else {
            self.if_effect(branch);
            return false;
        };
        let to_else = self.jump_unless(&branch.cond);
        let scratch = dst;
        self.block_value(&branch.then_block, scratch);
        let to_end = self.emit(Op::Jump { target: 0 });
        for jump in to_else {
            self.b().patch(jump);
        }
        match &branch.else_branch {
            Some(Else::If(inner, _)) => {
                self.if_stmt(inner, Some(scratch));
            }
            Some(Else::Block(block)) => self.block_value(block, scratch),
            None => {
                self.emit(Op::LoadNone { a: scratch });
            }
        }
        self.b().patch(to_end);
        branch.else_branch.is_some()
    }

    /// Jumps (to a target patched later) unless `cond` holds; a comparison of ints, or
    /// an equality, is one compare-and-branch instruction. Returns the jump to patch.
    fn jump_unless(&mut self, cond: &Expr) -> Vec<usize> {
        let mark = self.b().free;
        let bool_cond = matches!(self.ty(cond), Some(Ty::Bool));
        let jumps = match &cond.kind {
            // `a && b`: either failing skips.
            ExprKind::Binary {
                op: ast::BinaryOp::And,
                lhs,
                rhs,
            } if bool_cond => {
                let mut jumps = self.jump_unless(lhs);
                jumps.extend(self.jump_unless(rhs));
                jumps
            }
            // `a || b`: `a` holding goes straight to the body.
            ExprKind::Binary {
                op: ast::BinaryOp::Or,
                lhs,
                rhs,
            } if bool_cond => {
                let to_body = self.jump_if(lhs);
                let jumps = self.jump_unless(rhs);
                for jump in to_body {
                    self.b().patch(jump);
                }
                jumps
            }
            ExprKind::Unary {
                op: ast::UnaryOp::Not,
                operand,
            } if bool_cond => self.jump_if(operand),
            _ => {
                let fused = self.compare_and_branch(cond, false);
                vec![match fused {
                    Some(op) => self.emit(op),
                    None => {
                        let test = self.expr_reg(cond);
                        self.emit(Op::JumpIfNot { a: test, target: 0 })
                    }
                }]
            }
        };
        self.b().free = mark;
        jumps
    }

    /// Jumps (to a target patched later) when `cond` holds: the mirror of
    /// [`Self::jump_unless`], for the left side of `||`.
    fn jump_if(&mut self, cond: &Expr) -> Vec<usize> {
        let mark = self.b().free;
        let bool_cond = matches!(self.ty(cond), Some(Ty::Bool));
        let jumps = match &cond.kind {
            ExprKind::Binary {
                op: ast::BinaryOp::Or,
                lhs,
                rhs,
            } if bool_cond => {
                let mut jumps = self.jump_if(lhs);
                jumps.extend(self.jump_if(rhs));
                jumps
            }
            ExprKind::Binary {
                op: ast::BinaryOp::And,
                lhs,
                rhs,
            } if bool_cond => {
                let fails = self.jump_unless(lhs);
                let jumps = self.jump_if(rhs);
                for jump in fails {
                    self.b().patch(jump);
                }
                jumps
            }
            ExprKind::Unary {
                op: ast::UnaryOp::Not,
                operand,
            } if bool_cond => self.jump_unless(operand),
            _ => {
                let fused = self.compare_and_branch(cond, true);
                vec![match fused {
                    Some(op) => self.emit(op),
                    None => {
                        let test = self.expr_reg(cond);
                        self.emit(Op::JumpIf { a: test, target: 0 })
                    }
                }]
            }
        };
        self.b().free = mark;
        jumps
    }

    /// The compare-and-branch instruction for `cond` (target 0, patched later), with its
    /// operands compiled; `None` when `cond` is not a comparison it covers or the
    /// function is already too long for a 16-bit target.
    fn compare_and_branch(&mut self, cond: &Expr, when_true: bool) -> Option<Op> {
        let ExprKind::Binary { op, lhs, rhs } = &cond.kind else {
            return None;
        };
        // Jumping when the comparison holds is jumping unless its opposite holds.
        use ast::BinaryOp as Bo;
        let op = &if when_true {
            match op {
                Bo::Lt => Bo::Ge,
                Bo::Le => Bo::Gt,
                Bo::Gt => Bo::Le,
                Bo::Ge => Bo::Lt,
                Bo::Eq => Bo::NotEq,
                Bo::NotEq => Bo::Eq,
                _ => return None,
            }
        } else {
            *op
        };
        if self.b().here() > 32_768 {
            return None;
        }
        let ints = matches!(self.ty(lhs), Some(Ty::Int)) && matches!(self.ty(rhs), Some(Ty::Int));
        let small = |e: &Expr| match e.kind {
            ExprKind::Int(value) => i16::try_from(value).ok(),
            _ => None,
        };
        use ast::BinaryOp as B;
        if ints {
            if let Some(value) = small(rhs) {
                let make: fn(u16, i16) -> Op = match op {
                    B::Lt => |a, value| Op::JumpUnlessLtIntImm {
                        a,
                        value,
                        target: 0,
                    },
                    B::Le => |a, value| Op::JumpUnlessLeIntImm {
                        a,
                        value,
                        target: 0,
                    },
                    B::Gt => |a, value| Op::JumpUnlessGtIntImm {
                        a,
                        value,
                        target: 0,
                    },
                    B::Ge => |a, value| Op::JumpUnlessGeIntImm {
                        a,
                        value,
                        target: 0,
                    },
                    B::Eq => |a, value| Op::JumpUnlessEqIntImm {
                        a,
                        value,
                        target: 0,
                    },
                    B::NotEq => |a, value| Op::JumpUnlessNotEqIntImm {
                        a,
                        value,
                        target: 0,
                    },
                    _ => return None,
                };
                let a = self.expr_reg(lhs);
                return Some(make(a, value));
            }
        }
        let make: fn(u16, u16) -> Op = match op {
            B::Lt if ints => |a, b| Op::JumpUnlessLtInt { a, b, target: 0 },
            B::Le if ints => |a, b| Op::JumpUnlessLeInt { a, b, target: 0 },
            B::Gt if ints => |a, b| Op::JumpUnlessLtInt {
                a: b,
                b: a,
                target: 0,
            },
            B::Ge if ints => |a, b| Op::JumpUnlessLeInt {
                a: b,
                b: a,
                target: 0,
            },
            B::Eq => |a, b| Op::JumpUnlessEq { a, b, target: 0 },
            B::NotEq => |a, b| Op::JumpUnlessNotEq { a, b, target: 0 },
            _ => return None,
        };
        let a = self.expr_reg(lhs);
        let b = self.expr_reg(rhs);
        Some(make(a, b))
    }

    /// An `if` run for its effects: no value, no `none` for a missing `else`.
    fn if_effect(&mut self, branch: &If) {
        let to_else = self.jump_unless(&branch.cond);
        self.block_effect(&branch.then_block);
        match &branch.else_branch {
            None => {
                for jump in to_else {
                    self.b().patch(jump);
                }
            }
            Some(other) => {
                let to_end = self.emit(Op::Jump { target: 0 });
                for jump in to_else {
                    self.b().patch(jump);
                }
                match other {
                    Else::If(inner, _) => self.if_effect(inner),
                    Else::Block(block) => self.block_effect(block),
                }
                self.b().patch(to_end);
            }
        }
    }

    pub fn for_stmt(&mut self, for_loop: &ast::For) {
        if let ExprKind::Range {
            start,
            end,
            inclusive,
        } = &for_loop.iter.kind
        {
            // `for i in a..b`: a counter and its limit in two registers, no allocation.
            let counter = self.b().temps(2);
            self.expr_to(start, counter);
            self.expr_to(end, counter + 1);
            if *inclusive {
                self.emit(Op::AddIntImm {
                    a: counter + 1,
                    b: counter + 1,
                    value: 1,
                });
            }
            let position = for_loop.index.as_ref().map(|_| {
                let reg = self.b().temp();
                self.emit(Op::LoadInt { a: reg, value: 0 });
                reg
            });
            // Test once on entry, then step and test at the end of each iteration.
            let exit = self.emit(Op::JumpIfNotLtInt {
                a: counter,
                target: 0,
            });
            let body = self.b().here();
            self.loop_body(for_loop, counter, position);
            let step = self.b().here();
            if let Some(position) = position {
                self.emit(Op::AddIntImm {
                    a: position,
                    b: position,
                    value: 1,
                });
            }
            self.emit(Op::ForLoopInt {
                a: counter,
                target: body,
            });
            self.b().patch(exit);
            self.close_loop(step);
            return;
        }
        let source = self.list_reg(&for_loop.iter);
        let iterator = self.b().temp();
        self.emit(Op::IterStart {
            a: iterator,
            b: source,
        });
        let position = for_loop.index.as_ref().map(|_| {
            let reg = self.b().temp();
            self.emit(Op::LoadInt { a: reg, value: -1 });
            reg
        });
        let item = self.b().temp();
        let head = self.b().here();
        self.emit(Op::IterNext {
            a: iterator,
            b: item,
        });
        let exit = self.emit(Op::Jump { target: 0 });
        if let Some(position) = position {
            self.emit(Op::AddIntImm {
                a: position,
                b: position,
                value: 1,
            });
        }
        self.loop_body(for_loop, item, position);
        self.emit(Op::Jump { target: head });
        self.b().patch(exit);
        self.close_loop(head);
    }

    /// The body of a `for`: the item (and index) declared fresh in each iteration.
    fn loop_body(&mut self, for_loop: &ast::For, item: u16, position: Option<u16>) {
        if let Some(flag) = self.loop_flag.take() {
            self.emit(Op::LoadBool {
                a: flag,
                value: true,
            });
        }
        let item_mark = self.item_mark.take();
        let transactions = self.b().transactions;
        self.b().loops.push(LoopLabels {
            breaks: Vec::new(),
            continues: Vec::new(),
            transactions,
        });
        self.b().push_scope();
        // The item is the loop's own register unless the body assigns it or a closure
        // captures it: then each iteration gets a copy of its own.
        let captured = self
            .captured
            .contains(&(for_loop.item.span.start, for_loop.item.span.end));
        if captured || assigns(&for_loop.body, for_loop.item.sym) {
            let item_reg = self.b().temp();
            self.emit(Op::Move {
                a: item_reg,
                b: item,
            });
            self.declare_local(&for_loop.item, item_reg);
        } else {
            self.b().declare(for_loop.item.sym, Slot::Reg(item));
        }
        if let (Some(index), Some(position)) = (&for_loop.index, position) {
            let index_reg = self.b().temp();
            self.emit(Op::Move {
                a: index_reg,
                b: position,
            });
            self.declare_local(index, index_reg);
        }
        match item_mark {
            // An iteration of a markup `{for}`: an item of the page's list.
            Some(key) => {
                self.open_item(key.as_ref());
                self.block_effect(&for_loop.body);
                self.close_item();
            }
            None => self.block_effect(&for_loop.body),
        }
        self.b().pop_scope();
    }

    /// Patches the `break`s of the innermost loop to here and its `continue`s to
    /// `continue_target`.
    fn close_loop(&mut self, continue_target: u32) {
        if let Some(labels) = self.b().loops.pop() {
            let here = self.b().here();
            for at in labels.breaks {
                self.b().patch_to(at, here);
            }
            for at in labels.continues {
                self.b().patch_to(at, continue_target);
            }
        }
    }
}

/// Whether the parentheses of `text` pair up, so stripping an outer pair keeps its meaning
/// (`(a) + (b)` starts and ends with one but is not wrapped in one).
fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// Whether `block` assigns the variable `name` anywhere (closures included).
fn assigns(block: &Block, name: flin_syntax::Symbol) -> bool {
    struct Finder {
        name: flin_syntax::Symbol,
        found: bool,
    }
    impl flin_syntax::visit::Visitor for Finder {
        fn visit_stmt(&mut self, stmt: &Stmt) {
            let target = match &stmt.kind {
                StmtKind::Assign(assign) => Some(&assign.target),
                StmtKind::Step { target, .. } => Some(target),
                _ => None,
            };
            if let Some(Expr {
                kind: ExprKind::Name(n),
                ..
            }) = target
            {
                if n.sym == self.name {
                    self.found = true;
                }
            }
            flin_syntax::visit::walk_stmt(self, stmt);
        }
    }
    let mut finder = Finder { name, found: false };
    for stmt in &block.stmts {
        flin_syntax::visit::Visitor::visit_stmt(&mut finder, stmt);
    }
    finder.found
}
