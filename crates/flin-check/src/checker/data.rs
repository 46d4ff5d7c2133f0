//! Entities and their data (data.md, search.md): declarations (storable field types,
//! decorators and their arguments, defaults), entity literals, fields, queries (where
//! bare names are fields and every condition must translate to the database), aggregates,
//! search, time travel, and `save`/`delete`/`restore`/`destroy`.

use flin_diagnostics::Span;
use flin_syntax::Symbol;
use flin_syntax::ast::{
    self, Arg, BinaryOp, Expr, ExprKind, Name, PersistOp, Search, SearchMode, UnaryOp,
};
use flin_syntax::visit::{self, Visitor};

use super::Checker;
use crate::decls::{AUTO_FIELDS, EntityInfo, auto_field_ty};
use crate::error::CheckError;
use crate::ty::Ty;

/// What a decorator applies to and what it takes (data.md §1).
struct DecoratorRule {
    name: &'static str,
    applies_to: &'static str,
    fits: fn(&Ty) -> bool,
    args: Args,
}

#[derive(Clone, Copy)]
enum Args {
    None,
    OneNumber,
    OneInt,
    OneText,
    Texts,
    Values,
    OnDelete,
}

fn any(_: &Ty) -> bool {
    true
}
fn text(ty: &Ty) -> bool {
    matches!(strip(ty), Ty::Text)
}
fn numeric(ty: &Ty) -> bool {
    matches!(strip(ty), Ty::Int | Ty::Number | Ty::Money | Ty::Duration)
}
fn sized(ty: &Ty) -> bool {
    matches!(strip(ty), Ty::Text | Ty::List(_))
}
fn scalar(ty: &Ty) -> bool {
    !matches!(strip(ty), Ty::List(_) | Ty::File)
}
fn file(ty: &Ty) -> bool {
    matches!(strip(ty), Ty::File)
}
fn reference(ty: &Ty) -> bool {
    matches!(strip(ty), Ty::Entity(_))
}
fn strip(ty: &Ty) -> &Ty {
    match ty {
        Ty::Optional(inner) => inner,
        other => other,
    }
}

const DECORATORS: &[DecoratorRule] = &[
    DecoratorRule {
        name: "required",
        applies_to: "any field",
        fits: any,
        args: Args::None,
    },
    DecoratorRule {
        name: "unique",
        applies_to: "fields that are not lists or files",
        fits: scalar,
        args: Args::None,
    },
    DecoratorRule {
        name: "index",
        applies_to: "fields that are not lists or files",
        fits: scalar,
        args: Args::None,
    },
    DecoratorRule {
        name: "search",
        applies_to: "text fields",
        fits: text,
        args: Args::None,
    },
    DecoratorRule {
        name: "email",
        applies_to: "text fields",
        fits: text,
        args: Args::None,
    },
    DecoratorRule {
        name: "url",
        applies_to: "text fields",
        fits: text,
        args: Args::None,
    },
    DecoratorRule {
        name: "uuid",
        applies_to: "text fields",
        fits: text,
        args: Args::None,
    },
    DecoratorRule {
        name: "min",
        applies_to: "int, number, money and duration fields",
        fits: numeric,
        args: Args::OneNumber,
    },
    DecoratorRule {
        name: "max",
        applies_to: "int, number, money and duration fields",
        fits: numeric,
        args: Args::OneNumber,
    },
    DecoratorRule {
        name: "positive",
        applies_to: "int, number, money and duration fields",
        fits: numeric,
        args: Args::None,
    },
    DecoratorRule {
        name: "non_negative",
        applies_to: "int, number, money and duration fields",
        fits: numeric,
        args: Args::None,
    },
    DecoratorRule {
        name: "minLength",
        applies_to: "text and list fields",
        fits: sized,
        args: Args::OneInt,
    },
    DecoratorRule {
        name: "maxLength",
        applies_to: "text and list fields",
        fits: sized,
        args: Args::OneInt,
    },
    DecoratorRule {
        name: "pattern",
        applies_to: "text fields",
        fits: text,
        args: Args::OneText,
    },
    DecoratorRule {
        name: "one_of",
        applies_to: "fields that are not lists or files",
        fits: scalar,
        args: Args::Values,
    },
    DecoratorRule {
        name: "types",
        applies_to: "file fields",
        fits: file,
        args: Args::Texts,
    },
    DecoratorRule {
        name: "max_size",
        applies_to: "file fields",
        fits: file,
        args: Args::OneText,
    },
    DecoratorRule {
        name: "hidden",
        applies_to: "any field",
        fits: any,
        args: Args::None,
    },
    DecoratorRule {
        name: "on_delete",
        applies_to: "references to another entity",
        fits: reference,
        args: Args::OnDelete,
    },
    DecoratorRule {
        name: "renamed_from",
        applies_to: "any field",
        fits: any,
        args: Args::OneText,
    },
];

/// Whether an entity can store a value of this type (data.md §1).
fn storable(ty: &Ty) -> bool {
    match strip(ty) {
        Ty::Text
        | Ty::Int
        | Ty::Number
        | Ty::Bool
        | Ty::Time
        | Ty::Duration
        | Ty::Money
        | Ty::File
        | Ty::Enum(_)
        | Ty::Entity(_)
        | Ty::Error => true,
        Ty::List(item) => matches!(**item, Ty::Entity(_) | Ty::Text | Ty::Int | Ty::Error),
        _ => false,
    }
}

impl Checker<'_, '_> {
    /// Checks an entity's fields: storable types, decorators, defaults.
    pub fn check_entity_decl(&mut self, decl: &ast::EntityDecl) {
        let Some(info) = self.decls.entity(decl.name.sym).cloned() else {
            return;
        };
        for (field, field_info) in decl.fields.iter().zip(&info.fields) {
            if AUTO_FIELDS.contains(&field.name.as_str()) {
                self.error(CheckError::AutoFieldSet {
                    span: field.name.span,
                    field: field.name.sym,
                });
            }
            if !storable(&field_info.ty) {
                self.error(CheckError::FieldTypeNotStorable {
                    span: field.ty.span,
                    field: field.name.sym,
                    ty: field_info.ty.clone(),
                });
            }
            self.check_decorators(&field.decorators, &field_info.ty);
            if let Some(default) = &field.default {
                self.check_expr(default, &field_info.ty, "the field's default");
            }
        }
    }

    /// Checks decorators against the type of the field they decorate.
    pub fn check_decorators(&mut self, decorators: &[ast::Decorator], ty: &Ty) {
        for decorator in decorators {
            let Some(rule) = DECORATORS
                .iter()
                .find(|r| r.name == decorator.name.as_str())
            else {
                let candidates = DECORATORS.iter().map(|r| Symbol::intern(r.name)).collect();
                self.error(CheckError::UnknownDecorator {
                    span: decorator.name.span,
                    name: decorator.name.sym,
                    candidates,
                });
                continue;
            };
            if !(rule.fits)(ty) && !ty.is_error() {
                self.error(CheckError::DecoratorNotApplicable {
                    span: decorator.span,
                    name: decorator.name.sym,
                    ty: ty.clone(),
                    applies_to: rule.applies_to,
                });
                continue;
            }
            let bad_args = |expected: &'static str| CheckError::DecoratorArgs {
                span: decorator.span,
                name: decorator.name.sym,
                expected,
            };
            match rule.args {
                Args::None if !decorator.args.is_empty() => self.error(bad_args("no arguments")),
                Args::None => {}
                Args::OneNumber | Args::OneInt | Args::OneText => {
                    let [arg] = decorator.args.as_slice() else {
                        self.error(bad_args(match rule.args {
                            Args::OneNumber => "one number",
                            Args::OneInt => "one int",
                            _ => "one text",
                        }));
                        continue;
                    };
                    let arg_ty = self.infer(arg);
                    let expected = match rule.args {
                        Args::OneInt => Ty::Int,
                        Args::OneText => Ty::Text,
                        _ => strip(ty).clone(),
                    };
                    self.expect_ty(&expected, &arg_ty, arg.span, "the decorator's argument");
                    // A pattern is fixed when the entity is declared: `"…{3}"` would
                    // interpolate the regex's own braces.
                    if decorator.name.as_str() == "pattern" {
                        if let ExprKind::Text(text) = &arg.kind {
                            if text.as_plain().is_none() {
                                self.error(bad_args(
                                    "a constant pattern: write it in single quotes ('^[A-Z]{3}$'), as \"…\" interpolates `{…}`",
                                ));
                            }
                        }
                    }
                    if decorator.name.as_str() == "max_size" {
                        if let ExprKind::Text(text) = &arg.kind {
                            if text
                                .as_plain()
                                .is_some_and(|t| flin_syntax::units::parse_size(&t).is_none())
                            {
                                self.error(bad_args("a size, as \"5MB\" (B, KB, MB or GB)"));
                            }
                        }
                    }
                }
                Args::Texts | Args::Values => {
                    if decorator.args.is_empty() {
                        self.error(bad_args("at least one value"));
                    }
                    let expected = if matches!(rule.args, Args::Texts) {
                        Ty::Text
                    } else {
                        strip(ty).clone()
                    };
                    for arg in &decorator.args {
                        self.check_expr(arg, &expected, "the decorator's argument");
                    }
                }
                Args::OnDelete => {
                    let action = match decorator.args.as_slice() {
                        [
                            Expr {
                                kind: ExprKind::Name(name),
                                ..
                            },
                        ] => Some(name.as_str()),
                        _ => None,
                    };
                    match action {
                        Some("restrict" | "cascade") => {}
                        Some("set_none") if matches!(ty, Ty::Optional(_)) => {}
                        Some("set_none") => self.error(bad_args(
                            "`set_none` only on an optional reference (`Writer?`)",
                        )),
                        _ => self.error(bad_args("one of restrict, cascade, set_none")),
                    }
                }
            }
        }
    }

    /// `Book { title: "x" }`
    pub fn entity_literal(&mut self, entity: Name, fields: &[(Name, Expr)], span: Span) -> Ty {
        let Some(info) = self.decls.entity(entity.sym).cloned() else {
            let candidates = self.decls.all_entities().map(|e| e.name).collect();
            self.error(CheckError::UnknownType {
                span: entity.span,
                name: entity.sym,
                candidates,
            });
            for (_, value) in fields {
                self.infer(value);
            }
            return Ty::Error;
        };
        for (name, value) in fields {
            if AUTO_FIELDS.contains(&name.as_str()) {
                self.error(CheckError::AutoFieldSet {
                    span: name.span,
                    field: name.sym,
                });
                self.infer(value);
                continue;
            }
            match info.field(name.sym) {
                Some(field) => {
                    let field_ty = field.ty.clone();
                    self.field_value(value, &field_ty);
                }
                None => {
                    let candidates = info.fields.iter().map(|f| f.name).collect();
                    self.error(CheckError::UnknownField {
                        span: name.span,
                        field: name.sym,
                        owner: format!("entity `{}`", entity.as_str()),
                        candidates,
                    });
                    self.infer(value);
                }
            }
        }
        let missing: Vec<&crate::decls::FieldInfo> = info
            .fields
            .iter()
            .filter(|f| f.required && !fields.iter().any(|(n, _)| n.sym == f.name))
            .collect();
        if !missing.is_empty() {
            let _ = span;
            self.error(CheckError::MissingFields {
                span: entity.span,
                entity: entity.sym,
                fields: missing.iter().map(|f| f.name).collect(),
                declared: missing
                    .iter()
                    .map(|f| crate::error::Place {
                        file: info.place.file,
                        span: f.span,
                    })
                    .collect(),
            });
        }
        Ty::Entity(entity.sym)
    }

    /// A value for an entity field: a reference takes an entity or its id.
    pub fn field_value(&mut self, value: &Expr, field_ty: &Ty) {
        if let Ty::Entity(_) = strip(field_ty) {
            let ty = self.infer(value);
            if matches!(self.shallow(&ty), Ty::Int) {
                return;
            }
            self.expect_ty(field_ty, &ty, value.span, "the field's value");
            return;
        }
        self.check_expr(value, field_ty, "the field's value");
    }

    /// `book.title`, `book.id`, `book.history`
    pub fn entity_field(&mut self, entity: Symbol, name: Name) -> Ty {
        let Some(info) = self.decls.entity(entity) else {
            return Ty::Error;
        };
        if let Some(ty) = info.field_ty(name.sym) {
            return ty;
        }
        match name.as_str() {
            "history" => Ty::list(Ty::Entity(entity)),
            "valid_from" => Ty::Time,
            "valid_to" => Ty::optional(Ty::Time),
            _ => {
                let mut candidates = info.field_names();
                candidates.push(Symbol::intern("history"));
                self.error(CheckError::UnknownField {
                    span: name.span,
                    field: name.sym,
                    owner: format!("entity `{entity}`"),
                    candidates,
                });
                Ty::Error
            }
        }
    }

    /// `Book.all`, `Book.find(7)`, `Book.where(…)` …: members of an entity name.
    pub fn entity_static(
        &mut self,
        entity: Symbol,
        member: Name,
        args: Option<&[Arg]>,
        span: Span,
        piped: Option<&Expr>,
    ) -> Ty {
        match member.as_str() {
            "all" => {
                self.no_args(member, args, span);
                Ty::Query(entity)
            }
            "find" => {
                let func = crate::ty::FnTy {
                    params: vec![param("id", Ty::Int)],
                    ret: Ty::optional(Ty::Entity(entity)),
                };
                self.apply(&func, "find", args.unwrap_or(&[]), span, piped)
            }
            "history" => {
                let func = crate::ty::FnTy {
                    params: vec![param("id", Ty::Int)],
                    ret: Ty::list(Ty::Entity(entity)),
                };
                self.apply(&func, "history", args.unwrap_or(&[]), span, piped)
            }
            // On the entity itself `where` builds a query: a function cannot run in the
            // database (on a query value, it filters the loaded rows).
            "where"
                if args.is_some_and(|a| {
                    a.iter()
                        .any(|arg| matches!(arg.value.kind, ExprKind::Lambda(_)))
                }) =>
            {
                for arg in args.unwrap_or(&[]) {
                    self.error(CheckError::UntranslatableQuery {
                        span: arg.value.span,
                        reason: "a function was given where a condition on fields is expected".into(),
                        help: format!(
                            "write the condition with the fields of {entity}: `{entity}.where(pages > 100)`; to filter loaded rows with a function, use `{entity}.all.where(x => …)`"
                        ),
                    });
                }
                Ty::Query(entity)
            }
            _ => match self.query_method(entity, member, args, span, piped) {
                Some(ty) => ty,
                None => {
                    let mut candidates: Vec<Symbol> =
                        QUERY_METHODS.iter().map(|m| Symbol::intern(m)).collect();
                    candidates.extend(["all", "find", "history"].iter().map(|m| Symbol::intern(m)));
                    self.error(CheckError::UnknownMethod {
                        span: member.span,
                        method: member.sym,
                        ty: Ty::Entity(entity),
                        candidates,
                    });
                    if let Some(args) = args {
                        for arg in args {
                            self.infer(&arg.value);
                        }
                    }
                    Ty::Error
                }
            },
        }
    }

    fn no_args(&mut self, member: Name, args: Option<&[Arg]>, span: Span) {
        if let Some(args) = args {
            if !args.is_empty() {
                self.error(CheckError::ArgCount {
                    span,
                    callee: member.as_str().to_string(),
                    expected: 0,
                    found: args.len(),
                });
            }
        }
    }

    /// The methods of a query (data.md §4); `None` when `member` is not one, so the
    /// list methods apply.
    pub fn query_method(
        &mut self,
        entity: Symbol,
        member: Name,
        args: Option<&[Arg]>,
        span: Span,
        piped: Option<&Expr>,
    ) -> Option<Ty> {
        let args_list = args.unwrap_or(&[]);
        // A query is also the list of its rows (data.md §4): with a function argument,
        // `group_by`, `count`, `min` … are the list methods.
        let takes_function = args_list
            .iter()
            .any(|arg| matches!(arg.value.kind, ExprKind::Lambda(_)));
        // `where(x => …)` too: an explicit function filters the loaded rows.
        if takes_function {
            return None;
        }
        let query = Ty::Query(entity);
        let ty = match member.as_str() {
            "where" => {
                let [arg] = args_list else {
                    self.error(CheckError::ArgCount {
                        span,
                        callee: "where".into(),
                        expected: 1,
                        found: args_list.len(),
                    });
                    return Some(query);
                };
                self.query_condition(entity, &arg.value);
                query
            }
            "order" => {
                let (field, direction) = match args_list {
                    [field] => (field, None),
                    [field, direction] => (field, Some(direction)),
                    _ => {
                        self.error(CheckError::ArgCount {
                            span,
                            callee: "order".into(),
                            expected: 2,
                            found: args_list.len(),
                        });
                        return Some(query);
                    }
                };
                self.field_argument(entity, &field.value);
                if let Some(direction) = direction {
                    let ok = matches!(&direction.value.kind, ExprKind::Text(t) if matches!(t.as_plain().as_deref(), Some("asc" | "desc")));
                    if !ok {
                        self.error(CheckError::BadOrderDirection {
                            span: direction.value.span,
                        });
                    }
                }
                query
            }
            "limit" | "offset" => {
                let func = crate::ty::FnTy {
                    params: vec![param("n", Ty::Int)],
                    ret: query.clone(),
                };
                self.apply(&func, member.as_str(), args_list, span, piped);
                query
            }
            "with_deleted" | "only_deleted" => {
                self.no_args(member, args, span);
                query
            }
            "with" => {
                for arg in args_list {
                    self.field_argument(entity, &arg.value);
                }
                query
            }
            "count" | "length" if args_list.is_empty() => Ty::Int,
            "exists" => {
                self.no_args(member, args, span);
                Ty::Bool
            }
            "first" | "last" if args_list.is_empty() => Ty::optional(Ty::Entity(entity)),
            "sum" | "avg" | "min" | "max" => {
                let [arg] = args_list else {
                    self.error(CheckError::ArgCount {
                        span,
                        callee: member.as_str().into(),
                        expected: 1,
                        found: args_list.len(),
                    });
                    return Some(Ty::Error);
                };
                let field_ty = self.field_argument(entity, &arg.value);
                match member.as_str() {
                    "sum" if matches!(field_ty, Ty::Money) => Ty::optional(Ty::Money),
                    "sum" => strip(&field_ty).clone(),
                    "avg" => Ty::optional(Ty::Number),
                    _ => Ty::optional(strip(&field_ty).clone()),
                }
            }
            "group_by" => {
                let [arg] = args_list else {
                    self.error(CheckError::ArgCount {
                        span,
                        callee: "group_by".into(),
                        expected: 1,
                        found: args_list.len(),
                    });
                    return Some(Ty::Error);
                };
                let key = self.field_argument(entity, &arg.value);
                Ty::Grouped(entity, Box::new(key))
            }
            _ => return None,
        };
        Some(ty)
    }

    /// A bare field name as an argument (`order(published)`, `sum(pages)`).
    fn field_argument(&mut self, entity: Symbol, arg: &Expr) -> Ty {
        let Some(info) = self.decls.entity(entity).cloned() else {
            return Ty::Error;
        };
        match &arg.kind {
            ExprKind::Name(name) => match info.field_ty(name.sym) {
                Some(ty) => ty,
                None => {
                    self.error(CheckError::UnknownField {
                        span: name.span,
                        field: name.sym,
                        owner: format!("entity `{entity}`"),
                        candidates: info.field_names(),
                    });
                    Ty::Error
                }
            },
            _ => {
                self.error(CheckError::UntranslatableQuery {
                    span: arg.span,
                    reason: "expected a field of the entity".into(),
                    help: format!("name a field of {entity}, as `order(created_at, \"desc\")`"),
                });
                Ty::Error
            }
        }
    }

    /// A `where` condition: bare names are the entity's fields; the condition must be
    /// `bool` and translatable to the database.
    pub fn query_condition(&mut self, entity: Symbol, cond: &Expr) {
        let Some(info) = self.decls.entity(entity).cloned() else {
            self.infer(cond);
            return;
        };
        self.warn_hidden_variables(entity, &info, cond);
        // Fields are bound without their optional: in the database a comparison with a
        // missing value is simply false (`published > yesterday` skips unpublished
        // rows), and `== none` still tests for it.
        self.push_scope();
        for name in info.field_names() {
            if let Some(ty) = info.field_ty(name) {
                self.bind(name, strip(&ty).clone(), cond.span);
            }
        }
        self.condition(cond);
        self.pop_scope();
        if let Err((span, reason, help)) = translatable(cond, &info) {
            self.error(CheckError::UntranslatableQuery { span, reason, help });
        }
    }

    /// `Comment.where(post == post)` compares the field with itself, though the author
    /// most likely meant the variable `post`: when a comparison names the same field on
    /// both sides and a variable of that name is in scope, say so.
    fn warn_hidden_variables(&mut self, entity: Symbol, info: &EntityInfo, cond: &Expr) {
        fn names(expr: &Expr) -> Vec<Name> {
            struct Names(Vec<Name>);
            impl Visitor for Names {
                fn visit_expr(&mut self, expr: &Expr) {
                    if let ExprKind::Name(name) = &expr.kind {
                        self.0.push(*name);
                    }
                    if !matches!(expr.kind, ExprKind::Lambda(_)) {
                        visit::walk_expr(self, expr);
                    }
                }
            }
            let mut found = Names(Vec::new());
            found.visit_expr(expr);
            found.0
        }
        match &cond.kind {
            ExprKind::Binary {
                op: BinaryOp::And | BinaryOp::Or,
                lhs,
                rhs,
            } => {
                self.warn_hidden_variables(entity, info, lhs);
                self.warn_hidden_variables(entity, info, rhs);
            }
            ExprKind::Unary { operand, .. } => self.warn_hidden_variables(entity, info, operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                let left = names(lhs);
                for name in names(rhs) {
                    let repeated = left.iter().any(|l| l.sym == name.sym);
                    if repeated
                        && info.field(name.sym).is_some()
                        && self.lookup_var(name.sym).is_some()
                    {
                        self.error(CheckError::FieldShadowsVariable {
                            span: name.span,
                            name: name.sym,
                            entity,
                        });
                        return;
                    }
                }
            }
            _ => {}
        }
    }

    /// `e @ -1`, `e @ 2`, `e @ "2026-03-01"`, `e @ yesterday` (data.md §5).
    pub fn time_travel(&mut self, entity: &Expr, at: &Expr) -> Ty {
        let entity_ty = self.infer(entity);
        let result = match self.shallow(&entity_ty) {
            Ty::Entity(name) => Ty::optional(Ty::Entity(name)),
            Ty::Error | Ty::Json => Ty::Error,
            other => {
                self.error(CheckError::NotAnEntity {
                    span: entity.span,
                    what: "`@` (time travel)",
                    ty: self.resolve(&other),
                });
                Ty::Error
            }
        };
        match &at.kind {
            ExprKind::Int(0) => self.error(CheckError::VersionZero { span: at.span }),
            ExprKind::Text(text) => {
                if let Some(value) = text.as_plain() {
                    if !is_date_or_time(&value) {
                        self.error(CheckError::BadDate {
                            span: at.span,
                            text: value,
                        });
                    }
                }
            }
            _ => {
                let at_ty = self.infer(at);
                match self.shallow(&at_ty) {
                    Ty::Int | Ty::Time | Ty::Text | Ty::Error | Ty::Json => {}
                    other => {
                        let found = self.resolve(&other);
                        self.error(CheckError::Mismatch {
                            span: at.span,
                            expected: Ty::Int,
                            found,
                            what: "`@` takes a version (int), a date (text) or a time",
                        });
                    }
                }
            }
        }
        result
    }

    /// `search q in E by f [using …] [where (…)] [limit n]` (search.md §2).
    pub fn search(&mut self, search: &Search, _span: Span) -> Ty {
        let query_ty = self.infer(&search.query);
        self.expect_ty(&Ty::Text, &query_ty, search.query.span, "the search text");
        let entity = search.entity.sym;
        let Some(info) = self.decls.entity(entity).cloned() else {
            if !search.entity.as_str().is_empty() {
                let candidates = self.decls.all_entities().map(|e| e.name).collect();
                self.error(CheckError::UnknownType {
                    span: search.entity.span,
                    name: entity,
                    candidates,
                });
            }
            return Ty::list(Ty::Error);
        };
        match info.field(search.field.sym) {
            Some(field) if field.searchable => {
                let needs_semantic = matches!(
                    search.mode,
                    Some(SearchMode::Semantic(_)) | Some(SearchMode::Hybrid { .. })
                );
                if needs_semantic && !field.semantic {
                    self.error(CheckError::NotSearchable {
                        span: search.field.span,
                        entity,
                        field: search.field.sym,
                    });
                }
            }
            Some(_) => self.error(CheckError::NotSearchable {
                span: search.field.span,
                entity,
                field: search.field.sym,
            }),
            None if search.field.as_str().is_empty() => {}
            None => {
                self.error(CheckError::UnknownField {
                    span: search.field.span,
                    field: search.field.sym,
                    owner: format!("entity `{entity}`"),
                    candidates: info.field_names(),
                });
            }
        }
        if let Some(SearchMode::Hybrid {
            weights: Some((keyword, semantic)),
            ..
        }) = &search.mode
        {
            self.check_expr(keyword, &Ty::Number, "a search weight");
            self.check_expr(semantic, &Ty::Number, "a search weight");
        }
        if let Some(filter) = &search.filter {
            self.query_condition(entity, filter);
        }
        if let Some(limit) = &search.limit {
            self.check_expr(limit, &Ty::Int, "the search limit");
        }
        Ty::list(Ty::SearchHit(entity))
    }

    /// `save e`, `delete e`, `restore e`, `destroy e`.
    pub fn persist(&mut self, op: PersistOp, target: &Expr) {
        let ty = self.infer(target);
        let ok = match self.shallow(&ty) {
            Ty::Entity(_) | Ty::Error | Ty::Json | Ty::Query(_) => true,
            Ty::List(item) => matches!(self.shallow(&item), Ty::Entity(_) | Ty::Error | Ty::Var(_)),
            Ty::Var(_) => true,
            Ty::Optional(_) => {
                self.error(CheckError::MaybeNone {
                    span: target.span,
                    what: "the entity".into(),
                    ty: self.resolve(&ty),
                });
                true
            }
            _ => false,
        };
        if !ok {
            let what = match op {
                PersistOp::Save => "`save`",
                PersistOp::Delete => "`delete`",
                PersistOp::Restore => "`restore`",
                PersistOp::Destroy => "`destroy`",
            };
            self.error(CheckError::NotAnEntity {
                span: target.span,
                what,
                ty: self.resolve(&ty),
            });
        }
    }
}

fn param(name: &str, ty: Ty) -> crate::ty::ParamTy {
    crate::ty::ParamTy {
        name: Some(Symbol::intern(name)),
        ty,
        has_default: false,
    }
}

const QUERY_METHODS: &[&str] = &[
    "where",
    "order",
    "limit",
    "offset",
    "count",
    "first",
    "last",
    "exists",
    "sum",
    "avg",
    "min",
    "max",
    "group_by",
    "with_deleted",
    "only_deleted",
    "with",
];

/// A date (`2026-03-01`), a UTC date-time (`2026-03-01 09:15[:00]`) or RFC 3339.
pub fn is_date_or_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    let date = bytes.len() >= 10
        && digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10);
    if !date {
        return false;
    }
    let month: u32 = text.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
    let day: u32 = text.get(8..10).and_then(|d| d.parse().ok()).unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    if bytes.len() == 10 {
        return true;
    }
    let separator = bytes.get(10);
    matches!(separator, Some(b'T' | b't' | b' '))
        && digits(11..13)
        && bytes.get(13) == Some(&b':')
        && digits(14..16)
}

/// Checks that a `where` condition can run in the database (data.md §4): comparisons,
/// `&& || !`, `== none`, `in [..]`, `.contains/.starts_with/.ends_with` on text,
/// `.contains` on lists, `.lower/.upper` on text fields, and arithmetic; any part that
/// does not mention a field is computed before the query and passed as a parameter.
fn translatable(cond: &Expr, entity: &EntityInfo) -> Result<(), (Span, String, String)> {
    if !mentions_field(cond, entity) {
        return Ok(());
    }
    match &cond.kind {
        ExprKind::Name(_) => Ok(()),
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => translatable(operand, entity),
        ExprKind::Binary {
            op: BinaryOp::And | BinaryOp::Or,
            lhs,
            rhs,
        } => {
            translatable(lhs, entity)?;
            translatable(rhs, entity)
        }
        ExprKind::Binary {
            op:
                BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge,
            lhs,
            rhs,
        } => {
            operand(lhs, entity)?;
            operand(rhs, entity)
        }
        ExprKind::Binary {
            op: BinaryOp::In,
            lhs,
            rhs,
        } => {
            if mentions_field(rhs, entity) {
                return Err((rhs.span, "`in` needs a list computed from variables on its right".into(), "write the list of values on the right: `status in [Status.Draft, Status.Archived]`".into()));
            }
            operand(lhs, entity)
        }
        ExprKind::Call { callee, args } => text_match(callee, args, entity, cond.span),
        _ => Err((
            cond.span,
            "this form of condition has no database equivalent".into(),
            condition_help(),
        )),
    }
}

fn condition_help() -> String {
    "use comparisons, `&&`, `||`, `!`, `== none`, `in [..]`, `.contains`, `.starts_with`, `.ends_with` and `.lower`/`.upper` on fields; filter a loaded list with `list.where(x => …)` for anything else".into()
}

/// One side of a comparison: a field, `field.lower`, arithmetic on fields, or a value.
fn operand(expr: &Expr, entity: &EntityInfo) -> Result<(), (Span, String, String)> {
    if !mentions_field(expr, entity) {
        return Ok(());
    }
    match &expr.kind {
        ExprKind::Name(_) => Ok(()),
        ExprKind::Member { object, member: ast::Member::Named(name), optional: false } if matches!(name.as_str(), "lower" | "upper") => operand(object, entity),
        ExprKind::Member { object, member: ast::Member::Named(name), .. } => {
            let through_reference = matches!(&object.kind, ExprKind::Name(field) if entity.field(field.sym).is_some_and(|f| matches!(strip(&f.ty), Ty::Entity(_))));
            let help = if through_reference {
                "compare the reference itself (`author == w`), or query the other entity first and compare with its result".into()
            } else {
                "keep the value in a field of its own, or filter the loaded list with `list.where(x => …)`".into()
            };
            Err((name.span, format!("`.{}` of a field cannot be read in the database", name.as_str()), help))
        }
        ExprKind::Binary { op: BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem, lhs, rhs } => {
            operand(lhs, entity)?;
            operand(rhs, entity)
        }
        ExprKind::Unary { op: UnaryOp::Neg, operand: inner } => operand(inner, entity),
        ExprKind::Call { callee, .. } => Err((
            callee.span,
            "a function of a field cannot run in the database".into(),
            "compare the field with a value computed before the query, or filter the loaded list with `list.where(x => …)`".into(),
        )),
        _ => Err((expr.span, "this expression over a field has no database equivalent".into(), condition_help())),
    }
}

/// `title.contains(w)`, `title.lower.starts_with(p)`, `tags.contains(t)`.
fn text_match(
    callee: &Expr,
    args: &[Arg],
    entity: &EntityInfo,
    span: Span,
) -> Result<(), (Span, String, String)> {
    let ExprKind::Member {
        object,
        member: ast::Member::Named(method),
        ..
    } = &callee.kind
    else {
        return Err((
            callee.span,
            "a function call on a field cannot run in the database".into(),
            condition_help(),
        ));
    };
    if !matches!(method.as_str(), "contains" | "starts_with" | "ends_with") {
        return Err((
            method.span,
            format!(
                "`.{}` of a field cannot run in the database",
                method.as_str()
            ),
            condition_help(),
        ));
    }
    for arg in args {
        if mentions_field(&arg.value, entity) {
            return Err((
                arg.value.span,
                "the searched-for value must not depend on the row".into(),
                "compute the value before the query".into(),
            ));
        }
    }
    let _ = span;
    operand(object, entity)
}

fn mentions_field(expr: &Expr, entity: &EntityInfo) -> bool {
    struct Finder<'e> {
        entity: &'e EntityInfo,
        found: bool,
    }
    impl Visitor for Finder<'_> {
        fn visit_expr(&mut self, expr: &Expr) {
            if let ExprKind::Name(name) = &expr.kind {
                if self.entity.field(name.sym).is_some() || auto_field_ty(name.as_str()).is_some() {
                    self.found = true;
                }
            }
            if let ExprKind::Lambda(_) = &expr.kind {
                return;
            }
            visit::walk_expr(self, expr);
        }
    }
    let mut finder = Finder {
        entity,
        found: false,
    };
    finder.visit_expr(expr);
    finder.found
}
