//! Expressions to instructions. `expr_to(e, dst)` leaves the value in `dst`;
//! `expr_reg(e)` leaves it in some register (a local's own, when that needs no copy).
//! After each expression, the conversion the checker recorded for it (an int used as a
//! number, json used as a concrete type) is applied.

use flin_check::Ty;
use flin_diagnostics::Span;
use flin_syntax::Symbol;
use flin_syntax::ast::{self, Arg, BinaryOp, Expr, ExprKind, Member, TextPart, UnaryOp};
use flin_vm::{Constant, Op, TypeTest};

use crate::compiler::ModuleCompiler;
use crate::func::Slot;

fn is_int(ty: Option<&Ty>) -> bool {
    matches!(ty, Some(Ty::Int))
}

fn is_number(ty: Option<&Ty>) -> bool {
    matches!(ty, Some(Ty::Number))
}

/// The owner of built-in methods for a value of type `ty` (`None`: found at run time).
pub fn owner(ty: Option<&Ty>) -> Option<&'static str> {
    Some(match ty? {
        Ty::Text => "text",
        Ty::List(_) | Ty::Query(_) => "list",
        Ty::Map(..) => "map",
        Ty::Int => "int",
        Ty::Number => "number",
        Ty::Time => "time",
        Ty::Duration => "duration",
        Ty::Money => "money",
        _ => return None,
    })
}

/// A written type as a runtime type test (`is`, json conversion).
pub fn type_test(ty: &Ty) -> TypeTest {
    match ty {
        Ty::Int => TypeTest::Int,
        Ty::Number => TypeTest::Number,
        Ty::Text => TypeTest::Text,
        Ty::Bool => TypeTest::Bool,
        Ty::Time => TypeTest::Time,
        Ty::Duration => TypeTest::Duration,
        Ty::Money => TypeTest::Money,
        Ty::None => TypeTest::None,
        Ty::Json => TypeTest::Json,
        Ty::Optional(inner) => TypeTest::Optional(Box::new(type_test(inner))),
        Ty::List(inner) => TypeTest::List(Box::new(type_test(inner))),
        Ty::Map(_, value) => TypeTest::Map(Box::new(type_test(value))),
        Ty::Record(fields) => {
            TypeTest::Record(fields.iter().map(|(n, t)| (*n, type_test(t))).collect())
        }
        Ty::Enum(name) => TypeTest::Enum(*name),
        Ty::File => TypeTest::File,
        _ => TypeTest::Any,
    }
}

/// Items of a list or map literal made at once; the rest are added one by one.
const LITERAL_CHUNK: usize = 1024;

impl ModuleCompiler<'_> {
    /// Compiles `expr` into `dst`.
    pub fn expr_to(&mut self, expr: &Expr, dst: u16) {
        let saved_span = self.b().span;
        self.b().span = expr.span;
        let mark = self.b().free;
        self.expr_kind(expr, dst);
        self.b().free = mark.max(dst + 1).min(mark.max(self.b().free));
        self.b().free = mark;
        self.convert(expr, dst);
        self.b().span = saved_span;
    }

    /// Compiles `expr` where a list is wanted: a query runs for its rows.
    pub fn list_reg(&mut self, expr: &Expr) -> u16 {
        if matches!(self.ty(expr), Some(Ty::Query(_))) {
            let dst = self.b().temp();
            self.expr_to(expr, dst);
            self.rows_if_query(expr, dst);
            return dst;
        }
        self.expr_reg(expr)
    }

    /// Compiles `expr` into some register and returns it.
    pub fn expr_reg(&mut self, expr: &Expr) -> u16 {
        if let ExprKind::Name(name) = &expr.kind {
            let converts = self
                .ctx
                .tables
                .conversions
                .contains_key(&self.key(expr.span));
            if let (Some(Slot::Reg(r)), false) = (self.resolve_var(name.sym), converts) {
                return r;
            }
        }
        let dst = self.b().temp();
        self.expr_to(expr, dst);
        dst
    }

    fn convert(&mut self, expr: &Expr, dst: u16) {
        match self.ctx.tables.conversions.get(&self.key(expr.span)) {
            // A query used as a list: it runs for its rows (data.md §4).
            Some(Ty::List(_)) if matches!(self.ty(expr), Some(Ty::Query(_))) => {
                self.rows_if_query(expr, dst);
            }
            Some(Ty::Number) => {
                self.emit(Op::ToNumber { a: dst, b: dst });
            }
            Some(target) => {
                let k = self.constant(Constant::Type(type_test(target)));
                self.emit(Op::FromJson { a: dst, k });
            }
            None => {}
        }
    }

    fn load_int(&mut self, value: i64, dst: u16) {
        match i32::try_from(value) {
            Ok(small) => {
                self.emit(Op::LoadInt {
                    a: dst,
                    value: small,
                });
            }
            Err(_) => {
                let k = self.constant(Constant::Int(value));
                self.emit(Op::LoadConst { a: dst, k });
            }
        }
    }

    pub fn load_text(&mut self, text: &str, dst: u16) {
        let k = self.constant(Constant::Text(text.into()));
        self.emit(Op::LoadConst { a: dst, k });
    }

    fn expr_kind(&mut self, expr: &Expr, dst: u16) {
        match &expr.kind {
            ExprKind::Int(value) => self.load_int(*value, dst),
            ExprKind::Number(value) => {
                let k = self.constant(Constant::Number(*value));
                self.emit(Op::LoadConst { a: dst, k });
            }
            ExprKind::Money { minor, currency } => {
                let index = flin_syntax::currency::index_of(currency.as_str()).unwrap_or(0);
                let k = self.constant(Constant::Money {
                    minor: *minor,
                    currency: index,
                });
                self.emit(Op::LoadConst { a: dst, k });
            }
            ExprKind::Duration { micros, .. } => {
                let k = self.constant(Constant::Duration(*micros));
                self.emit(Op::LoadConst { a: dst, k });
            }
            ExprKind::Bool(value) => {
                self.emit(Op::LoadBool {
                    a: dst,
                    value: *value,
                });
            }
            ExprKind::None | ExprKind::Error => {
                self.emit(Op::LoadNone { a: dst });
            }
            ExprKind::Text(text) => self.text(text, dst),
            ExprKind::Name(name) => self.name(name, dst),
            ExprKind::List(items) => {
                // A long literal is made from its first items, the rest pushed one by
                // one: a register window holds at most 65,536 values.
                let (first, rest) = items.split_at(items.len().min(LITERAL_CHUNK));
                let base = self.b().temps(first.len() as u16);
                for (idx, item) in first.iter().enumerate() {
                    self.expr_to(item, base + idx as u16);
                }
                self.emit(Op::NewList {
                    a: dst,
                    b: base,
                    c: first.len() as u16,
                });
                for item in rest {
                    let mark = self.b().free;
                    let call = self.b().temps(3);
                    self.emit(Op::Move {
                        a: call + 1,
                        b: dst,
                    });
                    self.expr_to(item, call + 2);
                    self.builtin_call("list", "push", call, 2);
                    self.b().free = mark;
                }
            }
            ExprKind::Map(entries) => {
                let (first, rest) = entries.split_at(entries.len().min(LITERAL_CHUNK));
                let base = self.b().temps(2 * first.len() as u16);
                for (idx, (key, value)) in first.iter().enumerate() {
                    self.expr_to(key, base + 2 * idx as u16);
                    self.expr_to(value, base + 2 * idx as u16 + 1);
                }
                self.emit(Op::NewMap {
                    a: dst,
                    b: base,
                    c: first.len() as u16,
                });
                for (key, value) in rest {
                    let mark = self.b().free;
                    let call = self.b().temps(4);
                    self.emit(Op::Move {
                        a: call + 1,
                        b: dst,
                    });
                    self.expr_to(key, call + 2);
                    self.expr_to(value, call + 3);
                    self.builtin_call("map", "set", call, 3);
                    self.b().free = mark;
                }
            }
            ExprKind::Tuple(items) => {
                let base = self.b().temps(items.len() as u16);
                for (idx, item) in items.iter().enumerate() {
                    self.expr_to(item, base + idx as u16);
                }
                self.emit(Op::NewTuple {
                    a: dst,
                    b: base,
                    c: items.len() as u16,
                });
            }
            ExprKind::Record(fields) | ExprKind::Response(fields) => {
                // `response { … }` is a record whose first field, `$response`, marks it
                // for the server (a route may also return a plain record as JSON).
                let is_response = matches!(expr.kind, ExprKind::Response(_));
                let marker = usize::from(is_response);
                let base = self.b().call_base(dst, (fields.len() + marker) as u16);
                if is_response {
                    self.emit(Op::LoadBool {
                        a: base + 1,
                        value: true,
                    });
                }
                for (idx, (_, value)) in fields.iter().enumerate() {
                    self.expr_to(value, base + 1 + (marker + idx) as u16);
                }
                let mut shape: Vec<Symbol> = Vec::new();
                if is_response {
                    shape.push(Symbol::intern("$response"));
                }
                shape.extend(fields.iter().map(|(n, _)| n.sym));
                let k = self.constant(Constant::Shape(shape));
                self.emit(Op::NewRecord { a: base, k });
                if base != dst {
                    self.emit(Op::Move { a: dst, b: base });
                }
            }
            ExprKind::Unary { op, operand } => {
                let src = self.expr_reg(operand);
                match op {
                    UnaryOp::Neg => self.emit(Op::Neg { a: dst, b: src }),
                    UnaryOp::Not => self.emit(Op::Not { a: dst, b: src }),
                };
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, expr, dst),
            ExprKind::Conditional {
                cond,
                then_value,
                else_value,
            } => {
                let test = self.expr_reg(cond);
                let to_else = self.emit(Op::JumpIfNot { a: test, target: 0 });
                self.expr_to(then_value, dst);
                let to_end = self.emit(Op::Jump { target: 0 });
                self.b().patch(to_else);
                self.expr_to(else_value, dst);
                self.b().patch(to_end);
            }
            ExprKind::Is { value, ty } => {
                self.expr_to(value, dst);
                let test = self.ast_type_test(ty);
                let k = self.constant(Constant::Type(test));
                self.emit(Op::Is { a: dst, k });
            }
            ExprKind::Range {
                start,
                end,
                inclusive,
            } => {
                let base = self.b().temps(4);
                self.expr_to(start, base + 1);
                self.expr_to(end, base + 2);
                self.emit(Op::LoadBool {
                    a: base + 3,
                    value: *inclusive,
                });
                self.builtin_call("", "range", base, 3);
                self.emit(Op::Move { a: dst, b: base });
            }
            ExprKind::Call { .. } | ExprKind::Member { .. } if self.query_expr(expr, dst) => {}
            ExprKind::Call { callee, args } => self.call(callee, args, None, dst, expr.span),
            ExprKind::Member {
                object,
                member,
                optional,
            } => self.member(object, member, *optional, dst),
            ExprKind::Index { object, index } => {
                let object_reg = self.list_reg(object);
                let index_reg = self.expr_reg(index);
                self.emit(Op::GetIndex {
                    a: dst,
                    b: object_reg,
                    c: index_reg,
                });
            }
            ExprKind::Slice { object, start, end } => {
                let base = self.b().temps(3);
                self.expr_to(object, base);
                match start {
                    Some(start) => self.expr_to(start, base + 1),
                    None => {
                        self.emit(Op::LoadNone { a: base + 1 });
                    }
                }
                match end {
                    Some(end) => self.expr_to(end, base + 2),
                    None => {
                        self.emit(Op::LoadNone { a: base + 2 });
                    }
                }
                self.emit(Op::Slice { a: base });
                self.emit(Op::Move { a: dst, b: base });
            }
            ExprKind::Lambda(lambda) => self.lambda(lambda, expr.span, dst),
            ExprKind::Match { scrutinee, arms } => self.match_expr(scrutinee, arms, dst),
            ExprKind::Try(inner) => {
                let base = self.b().temps(2);
                let start = self.emit(Op::TryStart { a: base, target: 0 });
                self.expr_to(inner, base + 1);
                self.emit(Op::TryEnd);
                let k = self.constant(Constant::Variant {
                    enum_name: Symbol::intern("Result"),
                    variant: Symbol::intern("Ok"),
                    arity: 1,
                });
                self.emit(Op::NewVariant { a: base, k });
                self.b().patch(start);
                self.emit(Op::Move { a: dst, b: base });
            }
            ExprKind::Block(block) => self.block_value(block, dst),
            ExprKind::EntityLit { entity, fields } => self.entity_literal(entity.sym, fields, dst),
            ExprKind::TimeTravel { entity, at } => self.time_travel(entity, at, dst),
            ExprKind::Search(search) => self.search(search, dst),
        }
    }

    /// Raises a clear runtime error where a feature of a later stage is used.
    pub fn needs_database(&mut self, dst: u16, message: &str) {
        let k = self.constant(Constant::Error {
            kind: "runtime",
            message: message.into(),
            status: None,
        });
        self.emit(Op::FailWith { k });
        self.emit(Op::LoadNone { a: dst });
    }

    fn text(&mut self, text: &ast::Text, dst: u16) {
        if let Some(plain) = text.as_plain() {
            self.load_text(&plain, dst);
            return;
        }
        let base = self.b().temps(text.parts.len() as u16);
        for (idx, part) in text.parts.iter().enumerate() {
            let reg = base + idx as u16;
            match part {
                TextPart::Str(piece) => self.load_text(piece, reg),
                TextPart::Interp(inner) => {
                    self.expr_to(inner, reg);
                    self.rows_if_query(inner, reg);
                }
            }
        }
        self.emit(Op::JoinText {
            a: dst,
            b: base,
            c: text.parts.len() as u16,
        });
    }

    fn name(&mut self, name: &ast::Name, dst: u16) {
        if let Some(slot) = self.resolve_var(name.sym) {
            self.read_slot(slot, dst);
            return;
        }
        if let Some(index) = self.ctx.function(self.file, name.sym) {
            let k = self.constant(Constant::Function(index));
            self.emit(Op::Closure { a: dst, k });
            return;
        }
        let text = name.as_str();
        if flin_vm::builtins::find("", text, 0).is_some()
            && matches!(
                text,
                "now"
                    | "today"
                    | "yesterday"
                    | "tomorrow"
                    | "last_week"
                    | "last_month"
                    | "last_year"
            )
        {
            let base = self.b().temp();
            self.builtin_call("", text, base, 0);
            self.emit(Op::Move { a: dst, b: base });
            return;
        }
        if let Some((enum_name, 0)) = self.ctx.variant_owner(name.sym) {
            let k = self.constant(Constant::Variant {
                enum_name,
                variant: name.sym,
                arity: 0,
            });
            self.emit(Op::NewVariant { a: dst, k });
            return;
        }
        // Context names of the web (params, session …): the host gives them (a script's
        // host gives none).
        let k = self.constant(Constant::Name(name.sym));
        self.emit(Op::LoadContext { a: dst, k });
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, expr: &Expr, dst: u16) {
        match op {
            BinaryOp::And | BinaryOp::Or if !matches!(self.ty(lhs), Some(Ty::Optional(_))) => {
                self.expr_to(lhs, dst);
                let skip = if op == BinaryOp::And {
                    Op::JumpIfNot { a: dst, target: 0 }
                } else {
                    Op::JumpIf { a: dst, target: 0 }
                };
                let skip = self.emit(skip);
                self.expr_to(rhs, dst);
                self.b().patch(skip);
                // `a && b` is a bool even when b is an optional used as a condition.
                if matches!(self.ty(rhs), Some(Ty::Optional(_))) {
                    self.emit(Op::Not { a: dst, b: dst });
                    self.emit(Op::Not { a: dst, b: dst });
                }
            }
            BinaryOp::Coalesce | BinaryOp::Or => {
                self.expr_to(lhs, dst);
                let present = self.emit(Op::JumpIfSome { a: dst, target: 0 });
                self.expr_to(rhs, dst);
                self.b().patch(present);
            }
            BinaryOp::Pipe => {
                let (callee, args): (&Expr, &[Arg]) = match &rhs.kind {
                    ExprKind::Call { callee, args } => (callee, args),
                    _ => (rhs, &[]),
                };
                self.call(callee, args, Some(lhs), dst, expr.span);
            }
            _ => {
                let (left_ty, right_ty) = (self.ty(lhs), self.ty(rhs));
                let ints = is_int(left_ty) && is_int(right_ty);
                let numbers = is_number(left_ty) && is_number(right_ty);
                if op == BinaryOp::Add && ints {
                    if let ExprKind::Int(value) = rhs.kind {
                        if let Ok(small) = i16::try_from(value) {
                            let a = self.expr_reg(lhs);
                            self.emit(Op::AddIntImm {
                                a: dst,
                                b: a,
                                value: small,
                            });
                            return;
                        }
                    }
                }
                if op == BinaryOp::Sub && ints {
                    if let ExprKind::Int(value) = rhs.kind {
                        if let Ok(small) = i16::try_from(-value) {
                            let a = self.expr_reg(lhs);
                            self.emit(Op::AddIntImm {
                                a: dst,
                                b: a,
                                value: small,
                            });
                            return;
                        }
                    }
                }
                // `a + b` on texts into a temporary: the left text is built in the
                // temporary and the right appended to it, in place when it is unshared
                // (a call's result, an interpolation) — one allocation less per `+`.
                let text = matches!(left_ty, Some(Ty::Text)) || matches!(right_ty, Some(Ty::Text));
                if op == BinaryOp::Add && text && !self.b().is_variable(dst) {
                    self.expr_to(lhs, dst);
                    let b = self.expr_reg(rhs);
                    self.emit(Op::Concat {
                        a: dst,
                        b: dst,
                        c: b,
                    });
                    return;
                }
                if ints {
                    if let Some(instruction) = self.int_immediate(op, lhs, rhs, dst) {
                        self.emit(instruction);
                        return;
                    }
                }
                let a = self.expr_reg(lhs);
                let b = self.expr_reg(rhs);
                let text = matches!(left_ty, Some(Ty::Text)) || matches!(right_ty, Some(Ty::Text));
                let instruction = match op {
                    BinaryOp::Add if ints => Op::AddInt { a: dst, b: a, c: b },
                    BinaryOp::Add if numbers => Op::AddNum { a: dst, b: a, c: b },
                    BinaryOp::Add if text => Op::Concat { a: dst, b: a, c: b },
                    BinaryOp::Add => Op::Add { a: dst, b: a, c: b },
                    BinaryOp::Sub if ints => Op::SubInt { a: dst, b: a, c: b },
                    BinaryOp::Sub if numbers => Op::SubNum { a: dst, b: a, c: b },
                    BinaryOp::Sub => Op::Sub { a: dst, b: a, c: b },
                    BinaryOp::Mul if ints => Op::MulInt { a: dst, b: a, c: b },
                    BinaryOp::Mul if numbers => Op::MulNum { a: dst, b: a, c: b },
                    BinaryOp::Mul => Op::Mul { a: dst, b: a, c: b },
                    BinaryOp::Div if ints => Op::DivInt { a: dst, b: a, c: b },
                    BinaryOp::Div if numbers => Op::DivNum { a: dst, b: a, c: b },
                    BinaryOp::Div => Op::Div { a: dst, b: a, c: b },
                    BinaryOp::Rem if ints => Op::RemInt { a: dst, b: a, c: b },
                    BinaryOp::Rem => Op::Rem { a: dst, b: a, c: b },
                    BinaryOp::Eq => Op::Eq { a: dst, b: a, c: b },
                    BinaryOp::NotEq => Op::NotEq { a: dst, b: a, c: b },
                    BinaryOp::Lt if ints => Op::LtInt { a: dst, b: a, c: b },
                    BinaryOp::Le if ints => Op::LeInt { a: dst, b: a, c: b },
                    BinaryOp::Gt if ints => Op::LtInt { a: dst, b, c: a },
                    BinaryOp::Ge if ints => Op::LeInt { a: dst, b, c: a },
                    BinaryOp::Lt => Op::Lt { a: dst, b: a, c: b },
                    BinaryOp::Le => Op::Le { a: dst, b: a, c: b },
                    BinaryOp::Gt => Op::Lt { a: dst, b, c: a },
                    BinaryOp::Ge => Op::Le { a: dst, b, c: a },
                    BinaryOp::In => Op::In { a: dst, b: a, c: b },
                    BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce | BinaryOp::Pipe => {
                        Op::LoadNone { a: dst }
                    }
                };
                self.emit(instruction);
            }
        }
    }

    /// An int operation with a small constant operand as one instruction
    /// (`i * 3`, `n % 1000`, `n < 2`, `2 * i`), or `None`.
    fn int_immediate(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, dst: u16) -> Option<Op> {
        let small = |e: &Expr| match e.kind {
            ExprKind::Int(value) => i16::try_from(value).ok(),
            _ => None,
        };
        // A constant on the left of a commutative operation or comparison: swap.
        let (op, lhs, value) = match (small(lhs), small(rhs)) {
            (_, Some(value)) => (op, lhs, value),
            (Some(value), None) => {
                let swapped = match op {
                    BinaryOp::Mul | BinaryOp::Eq | BinaryOp::NotEq => op,
                    BinaryOp::Lt => BinaryOp::Gt,
                    BinaryOp::Le => BinaryOp::Ge,
                    BinaryOp::Gt => BinaryOp::Lt,
                    BinaryOp::Ge => BinaryOp::Le,
                    _ => return None,
                };
                (swapped, rhs, value)
            }
            (None, None) => return None,
        };
        let make: fn(u16, u16, i16) -> Op = match op {
            BinaryOp::Mul => |a, b, value| Op::MulIntImm { a, b, value },
            BinaryOp::Div if value != 0 => |a, b, value| Op::DivIntImm { a, b, value },
            BinaryOp::Rem if value != 0 => |a, b, value| Op::RemIntImm { a, b, value },
            BinaryOp::Lt => |a, b, value| Op::LtIntImm { a, b, value },
            BinaryOp::Le => |a, b, value| Op::LeIntImm { a, b, value },
            BinaryOp::Gt => |a, b, value| Op::GtIntImm { a, b, value },
            BinaryOp::Ge => |a, b, value| Op::GeIntImm { a, b, value },
            BinaryOp::Eq => |a, b, value| Op::EqIntImm { a, b, value },
            BinaryOp::NotEq => |a, b, value| Op::NotEqIntImm { a, b, value },
            _ => return None,
        };
        let b = self.expr_reg(lhs);
        Some(make(dst, b, value))
    }

    /// `object.member` that is not called.
    fn member(&mut self, object: &Expr, member: &Member, optional: bool, dst: u16) {
        let name = match member {
            Member::Named(name) => *name,
            Member::Index(idx, _) => {
                let object_reg = self.expr_reg(object);
                let index = self.b().temp();
                self.load_int(i64::from(*idx), index);
                self.emit(Op::GetIndex {
                    a: dst,
                    b: object_reg,
                    c: index,
                });
                return;
            }
        };
        if let ExprKind::Name(owner) = &object.kind {
            if self.resolve_var(owner.sym).is_none() {
                if let Some(variants) = self.ctx.enums.get(&owner.sym) {
                    let arity = variants
                        .iter()
                        .find(|(v, _)| *v == name.sym)
                        .map_or(0, |(_, n)| *n);
                    if arity == 0 {
                        let k = self.constant(Constant::Variant {
                            enum_name: owner.sym,
                            variant: name.sym,
                            arity: 0,
                        });
                        self.emit(Op::NewVariant { a: dst, k });
                        return;
                    }
                }
                if self.ty(object).is_none() && !self.ctx.enums.contains_key(&owner.sym) {
                    self.needs_database(
                        dst,
                        "entities need the database, which `flin run` does not open yet",
                    );
                    return;
                }
            }
        }
        let object_ty = self.ty(object).cloned();
        let inner_ty = match &object_ty {
            Some(Ty::Optional(inner)) => Some((**inner).clone()),
            other => other.clone(),
        };
        let object_reg = self.list_reg(object);
        let skip = optional.then(|| {
            self.emit(Op::JumpIfNone {
                a: object_reg,
                target: 0,
            })
        });
        self.member_of(inner_ty.as_ref(), name, object_reg, dst);
        if let Some(skip) = skip {
            let to_end = self.emit(Op::Jump { target: 0 });
            self.b().patch(skip);
            self.emit(Op::LoadNone { a: dst });
            self.b().patch(to_end);
        }
    }

    /// Reads `.name` of the value in `object` (of type `ty`) into `dst`.
    fn member_of(&mut self, ty: Option<&Ty>, name: ast::Name, object: u16, dst: u16) {
        if name.as_str() == "length" && matches!(ty, Some(Ty::List(_) | Ty::Text | Ty::Map(..))) {
            self.emit(Op::Length { a: dst, b: object });
            return;
        }
        let owner = owner(ty);
        let is_method =
            owner.is_some_and(|o| flin_vm::builtins::find(o, name.as_str(), 1).is_some());
        match (ty, owner) {
            (_, Some(o))
                // On a map, a key of the same name as a method is read as a key.
                if is_method
                    && (!matches!(ty, Some(Ty::Map(..)))
                        || flin_vm::builtins::has_method(o, name.as_str())) =>
            {
                let base = self.b().call_base(dst, 1);
                self.emit(Op::Move {
                    a: base + 1,
                    b: object,
                });
                self.builtin_call(o, name.as_str(), base, 1);
                if base != dst {
                    self.emit(Op::Move { a: dst, b: base });
                }
            }
            _ => self.get_field(object, name.sym, dst),
        }
    }

    /// The most used methods of maps and lists as single instructions: `m.get(k)`,
    /// `m.set(k, v)`, `xs.push(x)`; `false` when `method` is not one of them.
    fn collection_op(
        &mut self,
        receiver: &Option<Ty>,
        object: &Expr,
        method: ast::Name,
        args: &[Arg],
        dst: u16,
    ) -> bool {
        match (receiver, method.as_str(), args) {
            (Some(Ty::Map(..)), "get", [key]) => {
                let map = self.expr_reg(object);
                let key = self.expr_reg(&key.value);
                self.emit(Op::MapGet {
                    a: dst,
                    b: map,
                    c: key,
                });
            }
            (Some(Ty::Map(..)), "set", [key, value]) => {
                let map = self.expr_reg(object);
                let key = self.expr_reg(&key.value);
                let value = self.expr_reg(&value.value);
                self.emit(Op::MapSet {
                    a: map,
                    b: key,
                    c: value,
                });
                self.emit(Op::LoadNone { a: dst });
            }
            (Some(Ty::List(_)), "push", [item]) => {
                let list = self.expr_reg(object);
                let item = self.expr_reg(&item.value);
                self.emit(Op::ListPush { a: list, b: item });
                self.emit(Op::LoadNone { a: dst });
            }
            _ => return false,
        }
        true
    }

    /// `object.name = value`.
    pub fn set_field(&mut self, object: u16, name: Symbol, value: u16) {
        let k = self.constant(Constant::Name(name));
        match u16::try_from(k) {
            Ok(k) => {
                self.emit(Op::SetFieldTo {
                    a: object,
                    b: value,
                    k,
                });
            }
            Err(_) => {
                let base = self.b().temps(2);
                self.emit(Op::Move { a: base, b: object });
                self.emit(Op::Move {
                    a: base + 1,
                    b: value,
                });
                self.emit(Op::SetField { a: base, k });
            }
        }
    }

    /// `dst = object.name` for a field (record, map, json, error …).
    pub fn get_field(&mut self, object: u16, name: Symbol, dst: u16) {
        let k = self.constant(Constant::Name(name));
        match u16::try_from(k) {
            Ok(k) => {
                self.emit(Op::GetFieldOf {
                    a: dst,
                    b: object,
                    k,
                });
            }
            Err(_) => {
                self.emit(Op::Move { a: dst, b: object });
                self.emit(Op::GetField { a: dst, k });
            }
        }
    }

    /// Calls built-in `name` of `owner` with the `n` values at `base+1 …`; result in `base`.
    pub fn builtin_call(&mut self, owner: &str, name: &str, base: u16, n: u16) {
        match flin_vm::builtins::find(owner, name, n as usize) {
            Some(id) => {
                self.emit(Op::CallBuiltin { a: base, b: id, n });
            }
            None => {
                let k = self.constant(Constant::Method {
                    name: Symbol::intern(name),
                    n_args: n,
                });
                self.emit(Op::CallMethod { a: base, k });
            }
        }
    }

    /// `callee(args)`; `piped` is the left side of `|>`, which comes first.
    pub fn call(
        &mut self,
        callee: &Expr,
        args: &[Arg],
        piped: Option<&Expr>,
        dst: u16,
        span: Span,
    ) {
        match &callee.kind {
            ExprKind::Member {
                object,
                member: Member::Named(method),
                optional,
            } => {
                if let ExprKind::Name(owner) = &object.kind {
                    if self.resolve_var(owner.sym).is_none() {
                        if let Some(variants) = self.ctx.enums.get(&owner.sym) {
                            let arity = variants
                                .iter()
                                .find(|(v, _)| *v == method.sym)
                                .map_or(0, |(_, n)| *n);
                            self.variant(owner.sym, method.sym, arity, args, dst);
                            return;
                        }
                        if method.as_str() == "history" {
                            if let [arg] = args {
                                if self.entity_history(owner.sym, &arg.value, dst) {
                                    return;
                                }
                            }
                        }
                        if self.ty(object).is_none() {
                            self.needs_database(
                                dst,
                                "entities need the database, which `flin run` does not open yet",
                            );
                            return;
                        }
                    }
                }
                self.method_call(object, *method, args, piped, *optional, dst);
            }
            ExprKind::Name(name) if self.resolve_var(name.sym).is_none() => {
                self.named_call(name, args, piped, dst, span)
            }
            _ => {
                let n = args.len() + usize::from(piped.is_some());
                let base = self.b().temps(n as u16 + 1);
                self.expr_to(callee, base);
                let mut at = base + 1;
                if let Some(piped) = piped {
                    self.expr_to(piped, at);
                    at += 1;
                }
                for arg in args {
                    self.expr_to(&arg.value, at);
                    at += 1;
                }
                self.emit(Op::Call {
                    a: base,
                    n: n as u16,
                });
                self.emit(Op::Move { a: dst, b: base });
            }
        }
    }

    fn variant(&mut self, enum_name: Symbol, variant: Symbol, arity: u16, args: &[Arg], dst: u16) {
        let base = self.b().temps(arity + 1);
        for (idx, arg) in args.iter().enumerate().take(arity as usize) {
            self.expr_to(&arg.value, base + 1 + idx as u16);
        }
        let k = self.constant(Constant::Variant {
            enum_name,
            variant,
            arity,
        });
        self.emit(Op::NewVariant { a: base, k });
        self.emit(Op::Move { a: dst, b: base });
    }

    fn method_call(
        &mut self,
        object: &Expr,
        method: ast::Name,
        args: &[Arg],
        piped: Option<&Expr>,
        optional: bool,
        dst: u16,
    ) {
        let object_ty = self.ty(object).cloned();
        let receiver_ty = match &object_ty {
            Some(Ty::Optional(inner)) => Some((**inner).clone()),
            other => other.clone(),
        };
        // A record field holding a function is called like a function.
        if let Some(Ty::Record(fields)) = &receiver_ty {
            if fields.iter().any(|(n, _)| *n == method.sym) {
                let n = args.len() as u16;
                let base = self.b().temps(n + 1);
                self.expr_to(object, base);
                let k = self.constant(Constant::Name(method.sym));
                self.emit(Op::GetField { a: base, k });
                for (idx, arg) in args.iter().enumerate() {
                    self.expr_to(&arg.value, base + 1 + idx as u16);
                }
                self.emit(Op::Call { a: base, n });
                self.emit(Op::Move { a: dst, b: base });
                return;
            }
        }
        if !optional
            && piped.is_none()
            && self.collection_op(&receiver_ty, object, method, args, dst)
        {
            return;
        }
        let n = 1 + args.len() + usize::from(piped.is_some());
        let base = self.b().call_base(dst, n as u16);
        self.expr_to(object, base + 1);
        self.rows_if_query(object, base + 1);
        let skip = optional.then(|| {
            self.emit(Op::JumpIfNone {
                a: base + 1,
                target: 0,
            })
        });
        let mut at = base + 2;
        if let Some(piped) = piped {
            self.expr_to(piped, at);
            at += 1;
        }
        for arg in args {
            self.expr_to(&arg.value, at);
            at += 1;
        }
        let owner = owner(receiver_ty.as_ref()).unwrap_or("");
        self.builtin_call(owner, method.as_str(), base, n as u16);
        if base != dst {
            self.emit(Op::Move { a: dst, b: base });
        }
        if let Some(skip) = skip {
            let to_end = self.emit(Op::Jump { target: 0 });
            self.b().patch(skip);
            self.emit(Op::LoadNone { a: dst });
            self.b().patch(to_end);
        }
    }

    /// A call of a name that is not a variable: a function of the program, a built-in,
    /// an enum variant, `Ok`/`Err`, or a method of the piped value.
    fn named_call(
        &mut self,
        name: &ast::Name,
        args: &[Arg],
        piped: Option<&Expr>,
        dst: u16,
        span: Span,
    ) {
        let text = name.as_str();
        if let Some(index) = self.ctx.function(self.file, name.sym) {
            self.direct_call(index, args, piped, dst, span);
            return;
        }
        match text {
            // `redirect("https://…")` written in the code may leave the site; a URL
            // computed from data may not (web.md §7 "Redirects").
            "redirect"
                if piped.is_none()
                    && matches!(args, [arg] if matches!(&arg.value.kind, ExprKind::Text(t) if t.as_plain().is_some())) =>
            {
                let base = self.b().temps(2);
                if let [arg] = args {
                    self.expr_to(&arg.value, base + 1);
                }
                self.builtin_call("", "$redirect_written", base, 1);
                self.emit(Op::Move { a: dst, b: base });
                return;
            }
            "print" => {
                let n = args.len() + usize::from(piped.is_some());
                let base = self.b().temps(n as u16);
                let mut at = base;
                if let Some(piped) = piped {
                    self.expr_to(piped, at);
                    at += 1;
                }
                for arg in args {
                    self.expr_to(&arg.value, at);
                    self.rows_if_query(&arg.value, at);
                    at += 1;
                }
                self.emit(Op::Print {
                    a: base,
                    n: n as u16,
                });
                self.emit(Op::LoadNone { a: dst });
                return;
            }
            // Compiled like `assert a == b`, so a failure shows the call and both values.
            "assert_eq" if args.len() == 2 && piped.is_none() => {
                let [left, right] = args else { return };
                let base = self.b().temps(3);
                self.expr_to(&left.value, base + 1);
                self.expr_to(&right.value, base + 2);
                self.emit(Op::Eq {
                    a: base,
                    b: base + 1,
                    c: base + 2,
                });
                let text = self
                    .src
                    .get(span.range())
                    .unwrap_or("assert_eq")
                    .to_string();
                let k = self.constant(Constant::Assertion {
                    text: text.into(),
                    values: true,
                });
                self.emit(Op::Assert { a: base, k });
                self.emit(Op::LoadNone { a: dst });
                return;
            }
            "to_text" if args.len() == 1 && piped.is_none() => {
                let [value] = args else { return };
                let reg = self.expr_reg(&value.value);
                self.emit(Op::ToText { a: dst, b: reg });
                return;
            }
            "fail" if args.len() == 1 && piped.is_none() => {
                let [message] = args else { return };
                let reg = self.expr_reg(&message.value);
                self.emit(Op::Fail { a: reg });
                self.emit(Op::LoadNone { a: dst });
                return;
            }
            "Ok" | "Err" => {
                self.variant(Symbol::intern("Result"), name.sym, 1, args, dst);
                return;
            }
            _ => {}
        }
        let n = args.len() + usize::from(piped.is_some());
        // `xs |> take(2)`: a method of the piped value.
        if let Some(piped) = piped {
            let is_builtin = flin_vm::builtins::find("", text, n).is_some();
            if !is_builtin && self.ctx.variant_owner(name.sym).is_none() {
                self.method_call(piped, *name, args, None, false, dst);
                return;
            }
        }
        if flin_vm::builtins::find("", text, n).is_some() {
            let base = self.b().call_base(dst, n as u16);
            let mut at = base + 1;
            if let Some(piped) = piped {
                self.expr_to(piped, at);
                at += 1;
            }
            for arg in args {
                self.expr_to(&arg.value, at);
                at += 1;
            }
            self.builtin_call("", text, base, n as u16);
            if base != dst {
                self.emit(Op::Move { a: dst, b: base });
            }
            return;
        }
        if let Some((enum_name, arity)) = self.ctx.variant_owner(name.sym) {
            self.variant(enum_name, name.sym, arity, args, dst);
            return;
        }
        self.error(span, format!("`{text}` cannot be called here"));
        self.emit(Op::LoadNone { a: dst });
    }

    /// A direct call of a top-level function: arguments in parameter order, named ones
    /// placed by name, left-out ones `Absent` so the callee computes their defaults.
    fn direct_call(
        &mut self,
        index: u32,
        args: &[Arg],
        piped: Option<&Expr>,
        dst: u16,
        span: Span,
    ) {
        let params = self.ctx.fn_params.get(&index).cloned().unwrap_or_default();
        let arity = params.len();
        let base = self.b().call_base(dst, arity as u16);
        let mut given = vec![false; arity];
        let mut position = 0;
        if let Some(piped) = piped {
            if let Some(first) = given.first_mut() {
                *first = true;
                self.expr_to(piped, base + 1);
                position = 1;
            }
        }
        for arg in args {
            let slot = match &arg.name {
                Some(name) => params.iter().position(|(p, _)| *p == name.sym),
                None => {
                    let slot = position;
                    position += 1;
                    Some(slot)
                }
            };
            match slot.and_then(|slot| Some((slot, given.get_mut(slot)?))) {
                Some((slot, was_given)) => {
                    *was_given = true;
                    self.expr_to(&arg.value, base + 1 + slot as u16);
                }
                None => self.error(span, "too many arguments"),
            }
        }
        for (slot, was_given) in given.iter().enumerate() {
            if !was_given {
                self.emit(Op::LoadAbsent {
                    a: base + 1 + slot as u16,
                });
            }
        }
        let k = self.constant(Constant::Function(index));
        self.emit(Op::CallFn { a: base, k });
        if base != dst {
            self.emit(Op::Move { a: dst, b: base });
        }
    }

    fn ast_type_test(&self, ty: &ast::Type) -> TypeTest {
        match &ty.kind {
            ast::TypeKind::Named { name, args } => match name.as_str() {
                "int" => TypeTest::Int,
                "number" | "float" | "decimal" => TypeTest::Number,
                "text" => TypeTest::Text,
                "bool" => TypeTest::Bool,
                "time" => TypeTest::Time,
                "duration" => TypeTest::Duration,
                "money" => TypeTest::Money,
                "json" => TypeTest::Json,
                "file" => TypeTest::File,
                "none" => TypeTest::None,
                "Option" => args.first().map_or(TypeTest::Any, |a| {
                    TypeTest::Optional(Box::new(self.ast_type_test(a)))
                }),
                _ => TypeTest::Enum(name.sym),
            },
            ast::TypeKind::SemanticText => TypeTest::Text,
            ast::TypeKind::Optional(inner) => {
                TypeTest::Optional(Box::new(self.ast_type_test(inner)))
            }
            ast::TypeKind::List(inner) => TypeTest::List(Box::new(self.ast_type_test(inner))),
            ast::TypeKind::Map(_, value) => TypeTest::Map(Box::new(self.ast_type_test(value))),
            ast::TypeKind::Record(fields) => TypeTest::Record(
                fields
                    .iter()
                    .map(|(n, t)| (n.sym, self.ast_type_test(t)))
                    .collect(),
            ),
            _ => TypeTest::Any,
        }
    }
}
