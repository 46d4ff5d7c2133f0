//! Calls, members and methods: functions with named and default arguments, methods of
//! built-in types found by the receiver's type (overloads by arity), fields of
//! records, entities, maps and files, `?.`, enum variants, and the special forms that a
//! signature cannot express (`print`, `login`, `current_user`, `Ok`, `Err`).

use flin_diagnostics::Span;
use flin_syntax::Symbol;
use flin_syntax::ast::{Arg, Expr, ExprKind, Member, Name};

use super::Checker;
use crate::builtins::{BUILTINS, Owner, VARIADIC};
use crate::error::CheckError;
use crate::ty::{FnTy, ParamTy, Scheme, Ty};

/// Properties of a `file` value (services.md §2).
const FILE_FIELDS: &[(&str, Ty)] = &[
    ("name", Ty::Text),
    ("size", Ty::Int),
    ("type", Ty::Text),
    ("extension", Ty::Text),
    ("hash", Ty::Text),
    ("url", Ty::Text),
];

impl Checker<'_, '_> {
    /// `callee(args)`; `piped` is the left side of `|>`, which comes first.
    pub fn call(&mut self, callee: &Expr, args: &[Arg], span: Span, piped: Option<&Expr>) -> Ty {
        match &callee.kind {
            ExprKind::Member {
                object,
                member: Member::Named(method),
                optional,
            } => {
                if let Some(ty) = self.static_call(object, *method, args, span, piped) {
                    return ty;
                }
                let receiver = self.infer(object);
                self.method_call(
                    &receiver,
                    object.span,
                    *method,
                    args,
                    span,
                    *optional,
                    piped,
                )
            }
            ExprKind::Name(name) if self.lookup_var(name.sym).is_none() => {
                self.named_call(name, args, span, piped)
            }
            _ => {
                let callee_ty = self.infer(callee);
                self.apply_value(&callee_ty, "this function", args, span, piped)
            }
        }
    }

    /// `Book.where(…)`, `Shape.Rect(2.0, 3.0)`: calls on an entity or enum name.
    fn static_call(
        &mut self,
        object: &Expr,
        method: Name,
        args: &[Arg],
        span: Span,
        piped: Option<&Expr>,
    ) -> Option<Ty> {
        let ExprKind::Name(owner) = &object.kind else {
            return None;
        };
        if self.lookup_var(owner.sym).is_some() {
            return None;
        }
        if self.decls.entity(owner.sym).is_some() {
            return Some(self.entity_static(owner.sym, method, Some(args), span, piped));
        }
        let payload = self
            .decls
            .enum_info(owner.sym)
            .map(|e| (e.variant(method.sym).cloned(), e.variant_names()));
        match payload {
            Some((Some(payload), _)) => {
                Some(self.construct_variant(owner.sym, method, &payload, args, span))
            }
            Some((None, _)) => {
                self.unknown_variant(method.span, method.sym, owner.sym);
                self.infer_args(args);
                Some(Ty::Error)
            }
            None => None,
        }
    }

    fn construct_variant(
        &mut self,
        owner: Symbol,
        variant: Name,
        payload: &[Ty],
        args: &[Arg],
        span: Span,
    ) -> Ty {
        let func = FnTy {
            params: payload
                .iter()
                .map(|ty| ParamTy {
                    name: None,
                    ty: ty.clone(),
                    has_default: false,
                })
                .collect(),
            ret: Ty::Enum(owner),
        };
        self.apply(
            &func,
            &format!("{owner}.{}", variant.as_str()),
            args,
            span,
            None,
        );
        Ty::Enum(owner)
    }

    /// A call of a name that is not a local variable.
    fn named_call(&mut self, name: &Name, args: &[Arg], span: Span, piped: Option<&Expr>) -> Ty {
        let text = name.as_str();
        if let Some(scheme) = self.fn_scheme(name.sym) {
            let ty = self.subst.instantiate(&scheme, self.level);
            return self.apply_value(&ty, text, args, span, piped);
        }
        if VARIADIC.contains(&text) {
            if let Some(piped) = piped {
                self.infer(piped);
            }
            self.infer_args(args);
            return Ty::None;
        }
        if self.in_job
            && matches!(
                text,
                "current_user" | "login" | "logout" | "send" | "join" | "leave"
            )
        {
            self.error(CheckError::ContextOnly {
                span: name.span,
                name: name.sym,
                place: "while a request or a socket message is handled; a job runs without one",
            });
        }
        match text {
            "login" => {
                let user = self.auth_entity.map_or(Ty::Error, Ty::Entity);
                let func = FnTy {
                    params: vec![ParamTy {
                        name: Some(Symbol::intern("user")),
                        ty: user,
                        has_default: false,
                    }],
                    ret: Ty::None,
                };
                self.apply(&func, text, args, span, piped);
                return Ty::None;
            }
            "current_user" => {
                self.apply(
                    &FnTy {
                        params: Vec::new(),
                        ret: Ty::None,
                    },
                    text,
                    args,
                    span,
                    piped,
                );
                return match self.auth_entity {
                    Some(user) if self.authed => Ty::Entity(user),
                    Some(user) => Ty::optional(Ty::Entity(user)),
                    None => Ty::Json,
                };
            }
            "Ok" | "Err" => {
                let ok = self.fresh();
                let err = self.fresh();
                let (param, result) = if text == "Ok" {
                    (ok.clone(), Ty::result(ok, err))
                } else {
                    (err.clone(), Ty::result(ok, err))
                };
                let func = FnTy {
                    params: vec![ParamTy {
                        name: None,
                        ty: param,
                        has_default: false,
                    }],
                    ret: result.clone(),
                };
                self.apply(&func, text, args, span, piped);
                return result;
            }
            _ => {}
        }
        if let Some(schemes) = BUILTINS.functions.get(&name.sym) {
            let n_args = args.len() + usize::from(piped.is_some());
            let scheme = pick_overload(schemes, n_args, 0).cloned();
            if let Some(scheme) = scheme {
                let ty = self.subst.instantiate(&scheme, self.level);
                return self.apply_value(&ty, text, args, span, piped);
            }
        }
        if let Some((owner, payload)) = self.unqualified_variant(name.sym) {
            return self.construct_variant(owner, *name, &payload, args, span);
        }
        let callee_ty = self.name_value(name);
        self.apply_value(&callee_ty, text, args, span, piped)
    }

    /// An enum variant named without its enum (`Circle(2.0)`), when only one visible
    /// enum has it.
    pub fn unqualified_variant(&self, name: Symbol) -> Option<(Symbol, Vec<Ty>)> {
        let mut found = self
            .decls
            .all_enums()
            .filter_map(|e| e.variant(name).map(|payload| (e.name, payload.clone())));
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    fn infer_args(&mut self, args: &[Arg]) {
        for arg in args {
            self.infer(&arg.value);
        }
    }

    /// Calls a value of type `callee_ty`.
    fn apply_value(
        &mut self,
        callee_ty: &Ty,
        callee: &str,
        args: &[Arg],
        span: Span,
        piped: Option<&Expr>,
    ) -> Ty {
        match self.shallow(callee_ty) {
            Ty::Fn(func) => self.apply(&func, callee, args, span, piped),
            Ty::Var(_) => {
                let mut params = Vec::new();
                if let Some(piped) = piped {
                    params.push(ParamTy {
                        name: None,
                        ty: self.infer(piped),
                        has_default: false,
                    });
                }
                for arg in args {
                    params.push(ParamTy {
                        name: None,
                        ty: self.infer(&arg.value),
                        has_default: false,
                    });
                }
                let ret = self.fresh();
                let func = Ty::Fn(Box::new(FnTy {
                    params,
                    ret: ret.clone(),
                }));
                if self.subst.unify(callee_ty, &func).is_err() {
                    self.error(CheckError::NotCallable {
                        span,
                        ty: self.resolve(callee_ty),
                    });
                }
                ret
            }
            Ty::Error | Ty::Json => {
                if let Some(piped) = piped {
                    self.infer(piped);
                }
                self.infer_args(args);
                Ty::Error
            }
            other => {
                self.error(CheckError::NotCallable {
                    span,
                    ty: self.resolve(&other),
                });
                self.infer_args(args);
                Ty::Error
            }
        }
    }

    /// Checks arguments against a function's parameters: positional first (after the
    /// piped value), then named; parameters with defaults may be left out.
    pub fn apply(
        &mut self,
        func: &FnTy,
        callee: &str,
        args: &[Arg],
        span: Span,
        piped: Option<&Expr>,
    ) -> Ty {
        let n_params = func.params.len();
        let mut given = vec![false; n_params];
        let mut position = 0;
        if let Some(piped) = piped {
            match func.params.first() {
                Some(param) => {
                    self.check_expr(piped, &param.ty, "the piped value");
                    if let Some(slot) = given.first_mut() {
                        *slot = true;
                    }
                    position = 1;
                }
                None => {
                    self.infer(piped);
                }
            }
        }
        let mut too_many = false;
        for arg in args {
            let target = match &arg.name {
                Some(name) => match func.params.iter().position(|p| p.name == Some(name.sym)) {
                    Some(idx) => Some(idx),
                    None => {
                        let candidates = func.params.iter().filter_map(|p| p.name).collect();
                        self.error(CheckError::UnknownArgName {
                            span: name.span,
                            callee: callee.to_string(),
                            name: name.sym,
                            candidates,
                        });
                        None
                    }
                },
                None => {
                    let idx = position;
                    position += 1;
                    if idx >= n_params {
                        too_many = true;
                        None
                    } else {
                        Some(idx)
                    }
                }
            };
            match target.and_then(|idx| func.params.get(idx).map(|p| (idx, p.ty.clone()))) {
                Some((idx, param_ty)) => {
                    self.check_expr(&arg.value, &param_ty, "argument");
                    if let Some(slot) = given.get_mut(idx) {
                        *slot = true;
                    }
                }
                None => {
                    self.infer(&arg.value);
                }
            }
        }
        let missing = func
            .params
            .iter()
            .zip(&given)
            .any(|(p, given)| !*given && !p.has_default);
        if too_many || missing {
            let found = args.len() + usize::from(piped.is_some());
            let expected = if too_many {
                n_params
            } else {
                func.params.iter().filter(|p| !p.has_default).count()
            };
            self.error(CheckError::ArgCount {
                span,
                callee: callee.to_string(),
                expected,
                found,
            });
        }
        func.ret.clone()
    }

    /// `receiver.method(args)`.
    #[allow(clippy::too_many_arguments)]
    pub fn method_call(
        &mut self,
        receiver: &Ty,
        receiver_span: Span,
        method: Name,
        args: &[Arg],
        span: Span,
        optional: bool,
        piped: Option<&Expr>,
    ) -> Ty {
        let shallow = self.shallow(receiver);
        match shallow {
            Ty::Optional(inner) => {
                if !optional {
                    self.error(CheckError::MaybeNone {
                        span: receiver_span,
                        what: format!("the value `.{}` is called on", method.as_str()),
                        ty: self.resolve(receiver),
                    });
                }
                let ty = self.method_call(&inner, receiver_span, method, args, span, false, piped);
                if optional { Ty::optional(ty) } else { ty }
            }
            Ty::Query(entity) => {
                if let Some(ty) = self.query_method(entity, method, Some(args), span, piped) {
                    return ty;
                }
                self.builtin_method(
                    &Ty::list(Ty::Entity(entity)),
                    Owner::List,
                    method,
                    args,
                    span,
                    piped,
                )
            }
            Ty::Grouped(entity, key) => self.grouped(entity, &key, method, args, span),
            Ty::Json | Ty::Error | Ty::Never => {
                if let Some(piped) = piped {
                    self.infer(piped);
                }
                self.infer_args(args);
                if matches!(shallow, Ty::Json) {
                    Ty::Json
                } else {
                    Ty::Error
                }
            }
            Ty::Record(fields) => match fields.iter().find(|(name, _)| *name == method.sym) {
                Some((_, field_ty)) => {
                    self.apply_value(&field_ty.clone(), method.as_str(), args, span, piped)
                }
                None => self.unknown_member(&Ty::Record(fields), method),
            },
            Ty::Var(_) => {
                self.error(CheckError::NeedsAnnotation {
                    span: receiver_span,
                    name: "this value".into(),
                    hint: "annotate the variable or parameter it comes from, as `fn f(items: [Book])`",
                });
                self.infer_args(args);
                Ty::Error
            }
            other => match Owner::of(&other) {
                Some(owner) => self.builtin_method(&other, owner, method, args, span, piped),
                None => {
                    let ty = self.resolve(&other);
                    self.infer_args(args);
                    self.unknown_member(&ty, method)
                }
            },
        }
    }

    fn builtin_method(
        &mut self,
        receiver: &Ty,
        owner: Owner,
        method: Name,
        args: &[Arg],
        span: Span,
        piped: Option<&Expr>,
    ) -> Ty {
        let n_args = args.len() + usize::from(piped.is_some());
        let scheme = BUILTINS
            .methods
            .get(&(owner, method.sym))
            .and_then(|schemes| pick_overload(schemes, n_args, 1))
            .cloned();
        let Some(scheme) = scheme else {
            if BUILTINS.methods.contains_key(&(owner, method.sym)) {
                let expected = BUILTINS
                    .methods
                    .get(&(owner, method.sym))
                    .and_then(|s| s.first())
                    .map_or(0, |s| param_count(s) - 1);
                self.error(CheckError::ArgCount {
                    span,
                    callee: method.as_str().to_string(),
                    expected,
                    found: n_args,
                });
                self.infer_args(args);
                return Ty::Error;
            }
            self.infer_args(args);
            return self.unknown_member(receiver, method);
        };
        let Ty::Fn(func) = self.subst.instantiate(&scheme, self.level) else {
            return Ty::Error;
        };
        let mut params = func.params.clone();
        if !params.is_empty() {
            let self_param = params.remove(0);
            if let Err(mismatch) = self.subst.unify(&self_param.ty, receiver) {
                self.report_mismatch(
                    &self_param.ty,
                    receiver,
                    span,
                    "the value the method is called on",
                    mismatch,
                );
            }
        }
        let rest = FnTy {
            params,
            ret: func.ret.clone(),
        };
        self.apply(&rest, method.as_str(), args, span, piped)
    }

    fn unknown_member(&mut self, ty: &Ty, member: Name) -> Ty {
        let ty = self.resolve(ty);
        if ty.is_error() {
            return Ty::Error;
        }
        let candidates = match &ty {
            Ty::Record(fields) => fields.iter().map(|(n, _)| *n).collect(),
            other => Owner::of(other)
                .map(|o| BUILTINS.method_names(o))
                .unwrap_or_default(),
        };
        self.error(CheckError::UnknownMethod {
            span: member.span,
            method: member.sym,
            ty,
            candidates,
        });
        Ty::Error
    }

    /// `object.member` (not called).
    pub fn member_expr(
        &mut self,
        object: &Expr,
        member: &Member,
        optional: bool,
        span: Span,
    ) -> Ty {
        let name = match member {
            Member::Named(name) => *name,
            Member::Index(idx, idx_span) => {
                let object_ty = self.infer(object);
                return self.tuple_field(&object_ty, *idx, *idx_span, optional, object.span);
            }
        };
        if let ExprKind::Name(owner) = &object.kind {
            if self.lookup_var(owner.sym).is_none() {
                if self.decls.entity(owner.sym).is_some() {
                    return self.entity_static(owner.sym, name, None, span, None);
                }
                let variant = self
                    .decls
                    .enum_info(owner.sym)
                    .map(|e| (e.variant(name.sym).cloned(), e.variant_names()));
                match variant {
                    Some((Some(payload), _)) if payload.is_empty() => return Ty::Enum(owner.sym),
                    Some((Some(payload), _)) => return Ty::func(payload, Ty::Enum(owner.sym)),
                    Some((None, _)) => {
                        self.unknown_variant(name.span, name.sym, owner.sym);
                        return Ty::Error;
                    }
                    None => {}
                }
            }
        }
        let object_ty = self.infer(object);
        self.member_of(&object_ty, name, optional, object.span)
    }

    fn tuple_field(
        &mut self,
        ty: &Ty,
        idx: u32,
        span: Span,
        optional: bool,
        object_span: Span,
    ) -> Ty {
        match self.shallow(ty) {
            Ty::Tuple(items) => match items.get(idx as usize) {
                Some(item) => item.clone(),
                None => {
                    self.error(CheckError::UnknownMethod {
                        span,
                        method: Symbol::intern(&idx.to_string()),
                        ty: self.resolve(ty),
                        candidates: Vec::new(),
                    });
                    Ty::Error
                }
            },
            Ty::Optional(inner) => {
                if !optional {
                    self.error(CheckError::MaybeNone {
                        span: object_span,
                        what: "the tuple".into(),
                        ty: self.resolve(ty),
                    });
                }
                let item = self.tuple_field(&inner, idx, span, false, object_span);
                if optional { Ty::optional(item) } else { item }
            }
            Ty::Json | Ty::Error => Ty::Error,
            other => {
                self.error(CheckError::UnknownMethod {
                    span,
                    method: Symbol::intern(&idx.to_string()),
                    ty: self.resolve(&other),
                    candidates: Vec::new(),
                });
                Ty::Error
            }
        }
    }

    /// The value of `.name` on a value of type `ty`.
    pub fn member_of(&mut self, ty: &Ty, name: Name, optional: bool, object_span: Span) -> Ty {
        match self.shallow(ty) {
            Ty::Optional(inner) => {
                if !optional {
                    self.error(CheckError::MaybeNone {
                        span: object_span,
                        what: format!("the value `.{}` is read from", name.as_str()),
                        ty: self.resolve(ty),
                    });
                }
                let field = self.member_of(&inner, name, false, object_span);
                if optional { Ty::optional(field) } else { field }
            }
            Ty::Entity(entity) => self.entity_field(entity, name),
            Ty::Grouped(entity, key) => self.grouped(entity, &key, name, &[], name.span),
            Ty::Query(entity) => match self.query_method(entity, name, None, name.span, None) {
                Some(ty) => ty,
                None => self.property(&Ty::list(Ty::Entity(entity)), Owner::List, name),
            },
            Ty::Record(fields) => match fields.iter().find(|(field, _)| *field == name.sym) {
                Some((_, field_ty)) => field_ty.clone(),
                None => {
                    let owner = format!("`{}`", self.resolve(&Ty::Record(fields.clone())));
                    let candidates = fields.iter().map(|(n, _)| *n).collect();
                    self.error(CheckError::UnknownField {
                        span: name.span,
                        field: name.sym,
                        owner,
                        candidates,
                    });
                    Ty::Error
                }
            },
            Ty::Map(key, value) => {
                if BUILTINS.methods.contains_key(&(Owner::Map, name.sym)) {
                    return self.property(&Ty::Map(key, value), Owner::Map, name);
                }
                match self.shallow(&key) {
                    Ty::Text | Ty::Json | Ty::Var(_) => {
                        let _ = self.subst.unify(&key, &Ty::Text);
                        Ty::optional(*value)
                    }
                    _ => self.unknown_member(&Ty::Map(key, value), name),
                }
            }
            Ty::Json | Ty::Error | Ty::Never => Ty::Json,
            Ty::SearchHit(entity) => match name.as_str() {
                "entity" => Ty::Entity(entity),
                "score" => Ty::Number,
                _ => self.unknown_member(&Ty::SearchHit(entity), name),
            },
            Ty::File => match FILE_FIELDS
                .iter()
                .find(|(field, _)| *field == name.as_str())
            {
                Some((_, field_ty)) => field_ty.clone(),
                None => {
                    let candidates = FILE_FIELDS.iter().map(|(f, _)| Symbol::intern(f)).collect();
                    self.error(CheckError::UnknownField {
                        span: name.span,
                        field: name.sym,
                        owner: "`file`".into(),
                        candidates,
                    });
                    Ty::Error
                }
            },
            Ty::Var(_) => {
                self.error(CheckError::NeedsAnnotation {
                    span: object_span,
                    name: "this value".into(),
                    hint: "annotate the variable or parameter it comes from, as `fn f(book: Book)`",
                });
                Ty::Error
            }
            other => match Owner::of(&other) {
                Some(owner) => self.property(&other, owner, name),
                None => self.unknown_member(&other, name),
            },
        }
    }

    /// Aggregates of `group_by` on a query: `.count` → `[K: int]`, `.sum(f)` …
    fn grouped(&mut self, entity: Symbol, key: &Ty, member: Name, args: &[Arg], span: Span) -> Ty {
        let per_key = match self.query_method(entity, member, Some(args), span, None) {
            Some(ty) if matches!(member.as_str(), "count" | "sum" | "avg" | "min" | "max") => ty,
            Some(_) | None => {
                let ty = Ty::Grouped(entity, Box::new(key.clone()));
                return self.unknown_member(&ty, member);
            }
        };
        Ty::map(key.clone(), per_key)
    }

    /// A zero-argument method written as a property (`s.upper`).
    fn property(&mut self, receiver: &Ty, owner: Owner, name: Name) -> Ty {
        self.builtin_method(receiver, owner, name, &[], name.span, None)
    }
}

/// The overload of a function whose arity fits `n_args` (not counting `skip` leading
/// parameters such as `self`), counting parameters with defaults as optional.
fn pick_overload(schemes: &[Scheme], n_args: usize, skip: usize) -> Option<&Scheme> {
    schemes.iter().find(|scheme| {
        let Ty::Fn(func) = &scheme.ty else {
            return false;
        };
        let params = func.params.get(skip..).unwrap_or(&[]);
        let required = params.iter().filter(|p| !p.has_default).count();
        n_args >= required && n_args <= params.len()
    })
}

fn param_count(scheme: &Scheme) -> usize {
    match &scheme.ty {
        Ty::Fn(func) => func.params.len(),
        _ => 0,
    }
}
