//! Expressions: literals, names, operators (the arithmetic of language.md §3), conditions
//! and the narrowing of optionals they imply, lambdas and collection literals.

use flin_diagnostics::Span;
use flin_syntax::Symbol;
use flin_syntax::ast::{BinaryOp, Expr, ExprKind, Lambda, Name, TextPart, UnaryOp};

use super::Checker;
use crate::builtins::{BUILTINS, TIME_KEYWORDS, VARIADIC};
use crate::error::CheckError;
use crate::ty::{Constraint, FnTy, ParamTy, Ty};

/// Names whose type is narrowed when a condition holds or fails.
#[derive(Default, Debug)]
pub(crate) struct Narrowing {
    pub when_true: Vec<(Symbol, Ty, Span)>,
    pub when_false: Vec<(Symbol, Ty, Span)>,
}

impl Narrowing {
    fn swap(self) -> Narrowing {
        Narrowing {
            when_true: self.when_false,
            when_false: self.when_true,
        }
    }
}

impl Checker<'_, '_> {
    /// The type of an expression.
    pub fn infer(&mut self, expr: &Expr) -> Ty {
        let ty = self.infer_kind(expr);
        if self.record {
            self.expr_types.push((self.file, expr.span, ty.clone()));
        }
        ty
    }

    fn infer_kind(&mut self, expr: &Expr) -> Ty {
        match &expr.kind {
            ExprKind::Int(_) => Ty::Int,
            ExprKind::Number(_) => Ty::Number,
            ExprKind::Money { .. } => Ty::Money,
            ExprKind::Duration { .. } => Ty::Duration,
            ExprKind::Bool(_) => Ty::Bool,
            // `none` fits any optional: `selected = none` is settled by later assignments.
            ExprKind::None => {
                let inner = self.fresh();
                Ty::optional(inner)
            }
            ExprKind::Error => Ty::Error,
            ExprKind::Text(text) => {
                for part in &text.parts {
                    if let TextPart::Interp(inner) = part {
                        self.infer(inner);
                    }
                }
                Ty::Text
            }
            ExprKind::Name(name) => self.name_value(name),
            ExprKind::List(items) => self.list_literal(items, None),
            ExprKind::Map(entries) => {
                let mut key_ty: Option<Ty> = None;
                let mut value_ty: Option<Ty> = None;
                for (key, value) in entries {
                    let k = self.infer(key);
                    let v = self.infer(value);
                    key_ty = Some(self.join_or_report(key_ty, k, key.span, "map key"));
                    value_ty = Some(self.join_or_report(value_ty, v, value.span, "map value"));
                }
                let key = key_ty.unwrap_or_else(|| self.fresh());
                let value = value_ty.unwrap_or_else(|| self.fresh());
                Ty::map(key, value)
            }
            ExprKind::Record(fields) => Ty::Record(
                fields
                    .iter()
                    .map(|(name, value)| (name.sym, self.infer(value)))
                    .collect(),
            ),
            ExprKind::Tuple(items) => {
                Ty::Tuple(items.iter().map(|item| self.infer(item)).collect())
            }
            ExprKind::EntityLit { entity, fields } => {
                self.entity_literal(*entity, fields, expr.span)
            }
            ExprKind::Unary { op, operand } => self.unary(*op, operand, expr.span),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, expr.span),
            ExprKind::Conditional {
                cond,
                then_value,
                else_value,
            } => {
                let narrowing = self.condition(cond);
                let then_ty = self.with_narrowed(&narrowing.when_true, |c| c.infer(then_value));
                let else_ty = self.with_narrowed(&narrowing.when_false, |c| c.infer(else_value));
                let joined = self.join_branches(&then_ty, &else_ty, else_value.span);
                self.note_flow(then_value.span, &then_ty, &joined);
                self.note_flow(else_value.span, &else_ty, &joined);
                joined
            }
            ExprKind::Is { value, ty } => {
                self.infer(value);
                self.lower_type(ty);
                Ty::Bool
            }
            ExprKind::Range { start, end, .. } => {
                let start_ty = self.infer(start);
                self.expect_ty(&Ty::Int, &start_ty, start.span, "a range bound");
                let end_ty = self.infer(end);
                self.expect_ty(&Ty::Int, &end_ty, end.span, "a range bound");
                Ty::list(Ty::Int)
            }
            ExprKind::Call { callee, args } => self.call(callee, args, expr.span, None),
            ExprKind::Member {
                object,
                member,
                optional,
            } => self.member_expr(object, member, *optional, expr.span),
            ExprKind::Index { object, index } => self.index(object, index, expr.span),
            ExprKind::Slice { object, start, end } => {
                let object_ty = self.infer(object);
                for bound in [start, end].into_iter().flatten() {
                    let ty = self.infer(bound);
                    self.expect_ty(&Ty::Int, &ty, bound.span, "a slice bound");
                }
                match self.shallow(&object_ty) {
                    Ty::Text => Ty::Text,
                    Ty::List(item) => Ty::List(item),
                    Ty::Query(entity) => Ty::list(Ty::Entity(entity)),
                    Ty::Json | Ty::Error => object_ty,
                    other => {
                        self.error(CheckError::NotIndexable {
                            span: object.span,
                            ty: self.resolve(&other),
                        });
                        Ty::Error
                    }
                }
            }
            ExprKind::TimeTravel { entity, at } => self.time_travel(entity, at),
            ExprKind::Lambda(lambda) => self.lambda(lambda, None),
            ExprKind::Match { scrutinee, arms } => self.match_expr(scrutinee, arms, expr.span),
            ExprKind::Try(inner) => {
                let ok = self.infer(inner);
                let error = BUILTINS
                    .aliases
                    .get(&Symbol::intern("Error"))
                    .cloned()
                    .unwrap_or(Ty::Error);
                Ty::result(ok, error)
            }
            ExprKind::Search(search) => self.search(search, expr.span),
            ExprKind::Response(fields) => self.response(fields),
            ExprKind::Block(block) => self.block_value(block),
        }
    }

    /// The type of an expression that must fit `expected`: lambdas and literals are
    /// checked against it (their parameters and elements take its types), others
    /// inferred then coerced.
    pub fn check_expr(&mut self, expr: &Expr, expected: &Ty, what: &'static str) -> Ty {
        let expected_now = self.shallow(expected);
        match (&expr.kind, &expected_now) {
            (ExprKind::Lambda(lambda), Ty::Fn(func)) => {
                let ty = self.lambda(lambda, Some(func));
                self.expect_ty(expected, &ty, expr.span, what);
                ty
            }
            (ExprKind::List(items), Ty::List(item)) => {
                let ty = self.list_literal(items, Some(item));
                self.expect_ty(expected, &ty, expr.span, what);
                ty
            }
            (ExprKind::Record(fields), Ty::Record(expected_fields))
                if fields.len() == expected_fields.len()
                    && fields
                        .iter()
                        .all(|(name, _)| expected_fields.iter().any(|(e, _)| *e == name.sym)) =>
            {
                // Field by field, so `{ x: 1 }` fits `{x: number}`.
                let mut checked = Vec::new();
                for (name, value) in fields {
                    let field_ty = expected_fields
                        .iter()
                        .find(|(e, _)| *e == name.sym)
                        .map_or(Ty::Error, |(_, t)| t.clone());
                    self.check_expr(value, &field_ty, "the field's value");
                    checked.push((name.sym, field_ty));
                }
                Ty::Record(checked)
            }
            (ExprKind::List(items), Ty::Optional(inner))
                if matches!(self.shallow(inner), Ty::List(_)) =>
            {
                let inner = self.shallow(inner);
                self.check_expr(
                    &Expr {
                        kind: ExprKind::List(items.clone()),
                        span: expr.span,
                    },
                    &inner,
                    what,
                )
            }
            _ => {
                let ty = self.infer(expr);
                self.expect_ty(expected, &ty, expr.span, what);
                ty
            }
        }
    }

    fn list_literal(&mut self, items: &[Expr], expected_item: Option<&Ty>) -> Ty {
        let mut item_ty: Option<Ty> = expected_item.map(|t| self.shallow(t));
        let mut inferred = Vec::new();
        for item in items {
            match expected_item {
                Some(expected) => {
                    self.check_expr(item, expected, "list element");
                }
                None => {
                    let ty = self.infer(item);
                    inferred.push((item.span, ty.clone()));
                    item_ty = Some(self.join_or_report(item_ty, ty, item.span, "list element"));
                }
            }
        }
        if let Some(joined) = &item_ty {
            for (span, ty) in &inferred {
                self.note_flow(*span, ty, joined);
            }
        }
        let item = match (expected_item, item_ty) {
            (Some(expected), _) => expected.clone(),
            (None, Some(ty)) => ty,
            (None, None) => self.fresh(),
        };
        Ty::list(item)
    }

    /// Joins one more element into a homogeneous collection's element type.
    fn join_or_report(
        &mut self,
        so_far: Option<Ty>,
        next: Ty,
        span: Span,
        what: &'static str,
    ) -> Ty {
        let Some(so_far) = so_far else { return next };
        match self.subst.join(&so_far, &next) {
            Some(joined) => joined,
            None => {
                let expected = self.resolve(&so_far);
                let found = self.resolve(&next);
                if !expected.is_error() && !found.is_error() {
                    self.error(CheckError::Mismatch {
                        span,
                        expected,
                        found,
                        what,
                    });
                }
                so_far
            }
        }
    }

    /// The type of a value that is one of two branches.
    pub fn join_branches(&mut self, a: &Ty, b: &Ty, span: Span) -> Ty {
        match self.subst.join(a, b) {
            Some(joined) => joined,
            None => {
                let expected = self.resolve(a);
                let found = self.resolve(b);
                if !expected.is_error() && !found.is_error() {
                    self.error(CheckError::Mismatch {
                        span,
                        expected,
                        found,
                        what: "this branch",
                    });
                }
                Ty::Error
            }
        }
    }

    /// A name used as a value.
    pub fn name_value(&mut self, name: &Name) -> Ty {
        if let Some(local) = self.lookup_var(name.sym) {
            return local.ty.clone();
        }
        if let Some(scheme) = self.fn_scheme(name.sym) {
            return self.subst.instantiate(&scheme, self.level);
        }
        let text = name.as_str();
        if TIME_KEYWORDS.contains(&text) {
            return Ty::Time;
        }
        if let Some(schemes) = BUILTINS.functions.get(&name.sym) {
            if let Some(scheme) = schemes.first() {
                return self.subst.instantiate(scheme, self.level);
            }
        }
        if VARIADIC.contains(&text) || matches!(text, "login" | "current_user") {
            return Ty::Error;
        }
        if let Some(ty) = self.context_name(name) {
            return ty;
        }
        if self.decls.entity(name.sym).is_some() || self.decls.enum_info(name.sym).is_some() {
            self.error(CheckError::NotAValue {
                span: name.span,
                name: name.sym,
            });
            return Ty::Error;
        }
        let candidates = self.value_names();
        self.error(CheckError::UnknownName {
            span: name.span,
            name: name.sym,
            candidates,
        });
        Ty::Error
    }

    fn unary(&mut self, op: UnaryOp, operand: &Expr, span: Span) -> Ty {
        match op {
            UnaryOp::Not => {
                self.condition(operand);
                Ty::Bool
            }
            UnaryOp::Neg => {
                let ty = self.infer(operand);
                if let Err(mismatch) = self.subst.constrain(&ty, Constraint::Numeric) {
                    let _ = mismatch;
                    let found = self.resolve(&ty);
                    if !found.is_error() {
                        self.error(CheckError::NotAFamily {
                            span,
                            found,
                            wanted: Constraint::Numeric.describe(),
                        });
                    }
                    return Ty::Error;
                }
                ty
            }
        }
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, span: Span) -> Ty {
        match op {
            BinaryOp::Pipe => self.pipe(lhs, rhs, span),
            BinaryOp::And => {
                let narrowing = self.condition(lhs);
                self.with_narrowed(&narrowing.when_true, |c| c.condition(rhs));
                Ty::Bool
            }
            BinaryOp::Or => {
                let left = self.infer(lhs);
                match self.shallow(&left) {
                    Ty::Optional(inner) => {
                        let right = self.infer(rhs);
                        self.join_branches(&inner, &right, rhs.span)
                    }
                    _ => {
                        self.require_condition(&left, lhs.span);
                        let narrowing = self.narrowing_of(lhs, &left);
                        self.with_narrowed(&narrowing.when_false, |c| c.condition(rhs));
                        Ty::Bool
                    }
                }
            }
            BinaryOp::Coalesce => {
                let left = self.infer(lhs);
                let right = self.infer(rhs);
                match self.shallow(&left) {
                    Ty::Optional(inner) => self.join_branches(&inner, &right, rhs.span),
                    Ty::Json => match self.shallow(&right) {
                        Ty::Never => Ty::Json,
                        other => other,
                    },
                    Ty::None => right,
                    _ => self.join_branches(&left, &right, rhs.span),
                }
            }
            BinaryOp::Eq | BinaryOp::NotEq => {
                let left = self.infer(lhs);
                let right = self.infer(rhs);
                if self.subst.join(&left, &right).is_none() {
                    self.operator_error(op, &left, &right, span);
                }
                Ty::Bool
            }
            BinaryOp::In => {
                let item = self.infer(lhs);
                let collection = self.infer(rhs);
                let element = match self.shallow(&collection) {
                    Ty::List(element) => *element,
                    Ty::Map(key, _) => *key,
                    Ty::Text => Ty::Text,
                    Ty::Query(entity) => Ty::Entity(entity),
                    Ty::Json | Ty::Error => return Ty::Bool,
                    Ty::Var(_) => {
                        let element = self.fresh();
                        let _ = self.subst.unify(&collection, &Ty::list(element.clone()));
                        element
                    }
                    other => {
                        self.error(CheckError::NotIterable {
                            span: rhs.span,
                            ty: self.resolve(&other),
                        });
                        return Ty::Bool;
                    }
                };
                if self.subst.join(&element, &item).is_none() {
                    self.operator_error(op, &item, &collection, span);
                }
                Ty::Bool
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let left = self.infer(lhs);
                let right = self.infer(rhs);
                let ordered = self.subst.constrain(&left, Constraint::Ordered).is_ok()
                    && self.subst.constrain(&right, Constraint::Ordered).is_ok();
                if !ordered || self.subst.join(&left, &right).is_none() {
                    self.operator_error(op, &left, &right, span);
                }
                Ty::Bool
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                let left = self.infer(lhs);
                let right = self.infer(rhs);
                match self.arithmetic(op, &left, &right) {
                    Some(ty) => ty,
                    None => {
                        self.operator_error(op, &left, &right, span);
                        Ty::Error
                    }
                }
            }
        }
    }

    fn operator_error(&mut self, op: BinaryOp, left: &Ty, right: &Ty, span: Span) {
        let left = self.resolve(left);
        let right = self.resolve(right);
        if left.is_error() || right.is_error() {
            return;
        }
        self.error(CheckError::OperatorTypes {
            span,
            op: op.as_str(),
            left,
            right,
        });
    }

    /// The result of `left op right` for `+ - * / %`, or `None` when they do not combine.
    pub fn arithmetic(&mut self, op: BinaryOp, left: &Ty, right: &Ty) -> Option<Ty> {
        use BinaryOp::*;
        let l = self.shallow(left);
        let r = self.shallow(right);
        let number = |t: &Ty| matches!(t, Ty::Int | Ty::Number);
        match (&l, &r) {
            (Ty::Error, _) | (_, Ty::Error) => Some(Ty::Error),
            (Ty::Never, other) | (other, Ty::Never) => Some(other.clone()),
            (Ty::Text, _) | (_, Ty::Text) if op == Add => Some(Ty::Text),
            (Ty::Int, Ty::Int) => Some(Ty::Int),
            (a, b) if number(a) && number(b) => Some(Ty::Number),
            (Ty::Money, Ty::Money) if matches!(op, Add | Sub) => Some(Ty::Money),
            (Ty::Money, Ty::Money) if op == Div => Some(Ty::Number),
            (Ty::Money, n) if number(n) && matches!(op, Mul | Div) => Some(Ty::Money),
            (n, Ty::Money) if number(n) && op == Mul => Some(Ty::Money),
            (Ty::Duration, Ty::Duration) if matches!(op, Add | Sub) => Some(Ty::Duration),
            (Ty::Duration, Ty::Duration) if op == Div => Some(Ty::Number),
            (Ty::Duration, n) if number(n) && matches!(op, Mul | Div) => Some(Ty::Duration),
            (n, Ty::Duration) if number(n) && op == Mul => Some(Ty::Duration),
            (Ty::Time, Ty::Duration) if matches!(op, Add | Sub) => Some(Ty::Time),
            (Ty::Duration, Ty::Time) if op == Add => Some(Ty::Time),
            (Ty::Time, Ty::Time) if op == Sub => Some(Ty::Duration),
            (Ty::Json, Ty::Json) => Some(Ty::Json),
            (Ty::Json, other) | (other, Ty::Json) if !matches!(other, Ty::Var(_)) => {
                Some(other.clone())
            }
            (Ty::Var(_), Ty::Var(_)) => {
                let family = if matches!(op, Add | Sub) {
                    Constraint::Additive
                } else {
                    Constraint::Numeric
                };
                self.subst.unify(&l, &r).ok()?;
                self.subst.constrain(&l, family).ok()?;
                Some(l)
            }
            (Ty::Var(_), concrete) | (concrete, Ty::Var(_)) => {
                let var = if matches!(l, Ty::Var(_)) { &l } else { &r };
                match concrete {
                    Ty::Text if op == Add => Some(Ty::Text),
                    Ty::Money | Ty::Duration if matches!(op, Mul | Div) => {
                        self.subst.constrain(var, Constraint::Numeric).ok()?;
                        Some(concrete.clone())
                    }
                    Ty::Time => {
                        self.subst.unify(var, &Ty::Duration).ok()?;
                        Some(Ty::Time)
                    }
                    Ty::Int | Ty::Number | Ty::Money | Ty::Duration => {
                        self.subst.unify(var, concrete).ok()?;
                        Some(concrete.clone())
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `a |> f(b)` is `f(a, b)`; `a |> f` is `f(a)`.
    /// When the name on the right is no function in scope but a method of the piped
    /// value (`xs |> take(2)`), the value is its receiver.
    fn pipe(&mut self, lhs: &Expr, rhs: &Expr, span: Span) -> Ty {
        let (callee, args): (&Expr, &[flin_syntax::ast::Arg]) = match &rhs.kind {
            ExprKind::Call { callee, args } => (callee, args),
            _ => (rhs, &[]),
        };
        if let ExprKind::Name(name) = &callee.kind {
            let is_function = self.lookup_var(name.sym).is_some()
                || self.fn_scheme(name.sym).is_some()
                || BUILTINS.is_builtin_function(name.sym)
                || self.unqualified_variant(name.sym).is_some();
            if !is_function {
                let receiver = self.infer(lhs);
                return self.method_call(&receiver, lhs.span, *name, args, span, false, None);
            }
        }
        self.call(callee, args, span, Some(lhs))
    }

    fn index(&mut self, object: &Expr, index: &Expr, span: Span) -> Ty {
        let object_ty = self.infer(object);
        let index_ty = self.infer(index);
        match self.shallow(&object_ty) {
            Ty::List(item) => {
                self.expect_ty(&Ty::Int, &index_ty, index.span, "a list index");
                *item
            }
            Ty::Query(entity) => {
                self.expect_ty(&Ty::Int, &index_ty, index.span, "a list index");
                Ty::Entity(entity)
            }
            Ty::Text => {
                self.expect_ty(&Ty::Int, &index_ty, index.span, "a text index");
                Ty::Text
            }
            Ty::Map(key, value) => {
                self.expect_ty(&key, &index_ty, index.span, "a map key");
                Ty::optional(*value)
            }
            Ty::Json => Ty::Json,
            Ty::Error => Ty::Error,
            Ty::Var(_) => {
                self.error(CheckError::NeedsAnnotation {
                    span: object.span,
                    name: "this value".into(),
                    hint: "annotate the variable or parameter it comes from, as `xs: [int]`",
                });
                Ty::Error
            }
            Ty::Optional(_) => {
                self.error(CheckError::MaybeNone {
                    span: object.span,
                    what: "the value indexed".into(),
                    ty: self.resolve(&object_ty),
                });
                Ty::Error
            }
            other => {
                let _ = span;
                self.error(CheckError::NotIndexable {
                    span: object.span,
                    ty: self.resolve(&other),
                });
                Ty::Error
            }
        }
    }

    /// `x => …`, `(a, b) => …`, `fn(x) { … }`; parameter types come from `expected`
    /// when the lambda is an argument whose type is known.
    pub fn lambda(&mut self, lambda: &Lambda, expected: Option<&FnTy>) -> Ty {
        self.push_scope();
        let mut params = Vec::new();
        for (idx, param) in lambda.params.iter().enumerate() {
            let ty = match (&param.ty, expected.and_then(|f| f.params.get(idx))) {
                (Some(written), expected_param) => {
                    let ty = self.lower_type(written);
                    if let Some(expected_param) = expected_param {
                        let _ = self.subst.unify(&expected_param.ty, &ty);
                    }
                    ty
                }
                (None, Some(expected_param)) => expected_param.ty.clone(),
                (None, None) => self.fresh(),
            };
            self.bind(param.name.sym, ty.clone(), param.name.span);
            params.push(ParamTy {
                name: Some(param.name.sym),
                ty,
                has_default: param.default.is_some(),
            });
        }
        let saved = std::mem::replace(
            &mut self.frame,
            super::Frame {
                kind: super::FrameKind::Function,
                ret: None,
                returns: Vec::new(),
                loops: 0,
            },
        );
        let declared_ret = lambda.ret.as_ref().map(|ret| self.lower_type(ret));
        if let Some(ret) = &declared_ret {
            self.frame.ret = Some(ret.clone());
        }
        let body_ty = match (&lambda.body.kind, expected.map(|f| &f.ret)) {
            (ExprKind::Block(_), _) | (_, None) => self.infer(&lambda.body),
            (_, Some(expected_ret)) => {
                let expected_ret = expected_ret.clone();
                let ty = self.infer(&lambda.body);
                let _ = self.subst.coerce(&expected_ret, &ty);
                ty
            }
        };
        let returns = std::mem::replace(&mut self.frame, saved).returns;
        let mut ret = declared_ret.clone().unwrap_or(body_ty.clone());
        if declared_ret.is_none() {
            for (ty, span) in returns {
                ret = self.join_branches(&ret, &ty, span);
            }
        } else {
            self.expect_ty(&ret, &body_ty, lambda.body.span, "the function's value");
        }
        self.pop_scope();
        Ty::Fn(Box::new(FnTy { params, ret }))
    }

    /// Checks a condition: `bool`, or an optional meaning "is not none". Returns what it
    /// narrows.
    pub fn condition(&mut self, cond: &Expr) -> Narrowing {
        let ty = self.infer(cond);
        self.require_condition(&ty, cond.span);
        self.narrowing_of(cond, &ty)
    }

    fn require_condition(&mut self, ty: &Ty, span: Span) {
        match self.shallow(ty) {
            Ty::Bool | Ty::Optional(_) | Ty::None | Ty::Json | Ty::Error | Ty::Never => {}
            Ty::Var(_) => {
                let _ = self.subst.unify(ty, &Ty::Bool);
            }
            other => {
                let found = self.resolve(&other);
                self.error(CheckError::ConditionNotBool { span, found });
            }
        }
    }

    /// What a condition tells about the names in it.
    fn narrowing_of(&mut self, cond: &Expr, ty: &Ty) -> Narrowing {
        match &cond.kind {
            ExprKind::Name(name) => match self.shallow(ty) {
                Ty::Optional(inner) => Narrowing {
                    when_true: vec![(name.sym, *inner, name.span)],
                    when_false: Vec::new(),
                },
                _ => Narrowing::default(),
            },
            ExprKind::Unary {
                op: UnaryOp::Not,
                operand,
            } => {
                let inner_ty = self.expr_ty_quiet(operand);
                self.narrowing_of(operand, &inner_ty).swap()
            }
            ExprKind::Binary {
                op: op @ (BinaryOp::Eq | BinaryOp::NotEq),
                lhs,
                rhs,
            } => {
                let (name, _) = match (&lhs.kind, &rhs.kind) {
                    (ExprKind::Name(name), ExprKind::None)
                    | (ExprKind::None, ExprKind::Name(name)) => (name, ()),
                    _ => return Narrowing::default(),
                };
                let Some(local) = self.lookup_var(name.sym) else {
                    return Narrowing::default();
                };
                let narrowed = match self.shallow(&local.ty) {
                    Ty::Optional(inner) => *inner,
                    _ => return Narrowing::default(),
                };
                let narrowing = Narrowing {
                    when_true: vec![(name.sym, narrowed, name.span)],
                    when_false: Vec::new(),
                };
                if *op == BinaryOp::Eq {
                    narrowing.swap()
                } else {
                    narrowing
                }
            }
            ExprKind::Binary {
                op: BinaryOp::And,
                lhs,
                rhs,
            } => {
                let left_ty = self.expr_ty_quiet(lhs);
                let right_ty = self.expr_ty_quiet(rhs);
                let mut left = self.narrowing_of(lhs, &left_ty);
                let right = self.narrowing_of(rhs, &right_ty);
                left.when_true.extend(right.when_true);
                Narrowing {
                    when_true: left.when_true,
                    when_false: Vec::new(),
                }
            }
            ExprKind::Binary {
                op: BinaryOp::Or,
                lhs,
                rhs,
            } => {
                let left_ty = self.expr_ty_quiet(lhs);
                let right_ty = self.expr_ty_quiet(rhs);
                let mut left = self.narrowing_of(lhs, &left_ty);
                let right = self.narrowing_of(rhs, &right_ty);
                left.when_false.extend(right.when_false);
                Narrowing {
                    when_true: Vec::new(),
                    when_false: left.when_false,
                }
            }
            ExprKind::Is { value, ty } => match &value.kind {
                ExprKind::Name(name) => {
                    let narrowed = self.lower_type(ty);
                    Narrowing {
                        when_true: vec![(name.sym, narrowed, name.span)],
                        when_false: Vec::new(),
                    }
                }
                _ => Narrowing::default(),
            },
            _ => Narrowing::default(),
        }
    }

    /// The type of a simple expression already checked (a name), without reporting.
    fn expr_ty_quiet(&self, expr: &Expr) -> Ty {
        match &expr.kind {
            ExprKind::Name(name) => self
                .lookup_var(name.sym)
                .map_or(Ty::Error, |l| l.ty.clone()),
            _ => Ty::Bool,
        }
    }

    /// Runs `f` with the names narrowed in a scope of their own.
    pub fn with_narrowed<T>(
        &mut self,
        narrowed: &[(Symbol, Ty, Span)],
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        if narrowed.is_empty() {
            return f(self);
        }
        self.push_scope();
        for (name, ty, span) in narrowed {
            self.bind(*name, ty.clone(), *span);
        }
        let result = f(self);
        self.pop_scope();
        result
    }
}
