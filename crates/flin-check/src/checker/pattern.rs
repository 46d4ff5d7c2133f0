//! `match` (language.md §7): patterns typed against the value matched, the names they
//! bind, and exhaustiveness with the missing cases named, by Maranget's usefulness
//! algorithm over bools, optionals, enums, results, tuples and lists. Literals of
//! numbers and texts have no end, so only a binding or `_` covers them. An arm that
//! earlier arms already cover is reported as unreachable.

use flin_diagnostics::Span;
use flin_syntax::Symbol;
use flin_syntax::ast::{Arm, Expr, ExprKind, Pattern, PatternKind};

use super::Checker;
use crate::error::CheckError;
use crate::ty::Ty;

/// A pattern reduced to what exhaustiveness needs.
#[derive(Clone, Debug, PartialEq)]
enum Pat {
    Wild,
    Ctor(Ctor, Vec<Pat>),
    /// A literal of a type with endless values: never covers the type.
    Lit(String),
    Or(Vec<Pat>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ctor {
    True,
    False,
    None,
    Some,
    Variant(Symbol),
    Ok,
    Err,
    Tuple,
    Nil,
    Cons,
}

/// A type reduced to its constructors.
#[derive(Clone, Debug)]
enum Shape {
    Bool,
    Optional(Box<Shape>),
    Enum(Vec<(Symbol, Vec<Shape>)>),
    Result(Box<Shape>, Box<Shape>),
    Tuple(Vec<Shape>),
    List(Box<Shape>),
    /// Endless values (numbers, texts) or values patterns do not take apart.
    Open,
}

impl Shape {
    fn ctors(&self) -> Option<Vec<(Ctor, Vec<Shape>)>> {
        Some(match self {
            Shape::Bool => vec![(Ctor::True, vec![]), (Ctor::False, vec![])],
            Shape::Optional(inner) => {
                vec![(Ctor::None, vec![]), (Ctor::Some, vec![(**inner).clone()])]
            }
            Shape::Enum(variants) => variants
                .iter()
                .map(|(name, payload)| (Ctor::Variant(*name), payload.clone()))
                .collect(),
            Shape::Result(ok, err) => vec![
                (Ctor::Ok, vec![(**ok).clone()]),
                (Ctor::Err, vec![(**err).clone()]),
            ],
            Shape::Tuple(items) => vec![(Ctor::Tuple, items.clone())],
            Shape::List(item) => vec![
                (Ctor::Nil, vec![]),
                (Ctor::Cons, vec![(**item).clone(), self.clone()]),
            ],
            Shape::Open => return None,
        })
    }
}

impl Checker<'_, '_> {
    pub fn match_expr(&mut self, scrutinee: &Expr, arms: &[Arm], span: Span) -> Ty {
        let scrutinee_ty = self.infer(scrutinee);
        let mut result: Option<Ty> = None;
        let mut rows: Vec<Vec<Pat>> = Vec::new();
        for arm in arms {
            self.push_scope();
            self.pattern(&arm.pattern, &scrutinee_ty);
            if let Some(guard) = &arm.guard {
                self.condition(guard);
            }
            let body_ty = self.infer(&arm.body);
            self.pop_scope();
            result = Some(match result {
                None => body_ty,
                Some(so_far) => self.join_branches(&so_far, &body_ty, arm.body.span),
            });
            let pat = self.lower_pattern(&arm.pattern, &scrutinee_ty);
            if !useful(
                &rows,
                std::slice::from_ref(&pat),
                &[self.shape(&scrutinee_ty, 0)],
            ) {
                self.error(CheckError::UnreachableArm {
                    span: arm.pattern.span,
                });
            }
            if arm.guard.is_none() {
                rows.push(vec![pat]);
            }
        }
        let shape = self.shape(&scrutinee_ty, 0);
        if let Some(witness) = witness(&rows, &[shape]) {
            if !matches!(self.resolve(&scrutinee_ty), Ty::Error) {
                let missing = witness.first().map_or_else(|| "_".to_string(), show);
                self.error(CheckError::NonExhaustive {
                    span: scrutinee.span.to(Span::new(
                        scrutinee.span.start,
                        span.end.min(scrutinee.span.end),
                    )),
                    missing: vec![missing],
                });
            }
        }
        result.unwrap_or(Ty::None)
    }

    /// Types a pattern against the value's type and binds the names it introduces.
    fn pattern(&mut self, pattern: &Pattern, ty: &Ty) {
        match &pattern.kind {
            PatternKind::Wildcard | PatternKind::Error => {}
            PatternKind::Binding(name) => {
                // On an optional, a binding matches a present value.
                let bound = match self.shallow(ty) {
                    Ty::Optional(inner) => *inner,
                    _ => ty.clone(),
                };
                self.bind(name.sym, bound, name.span);
            }
            PatternKind::Literal(literal) => self.literal_pattern(literal, ty),
            PatternKind::Range { start, end, .. } => {
                self.literal_pattern(start, ty);
                self.literal_pattern(end, ty);
            }
            PatternKind::Variant { path, args } => {
                self.variant_pattern(pattern.span, path, args.as_deref(), ty)
            }
            PatternKind::Tuple(items) => {
                let item_tys: Vec<Ty> = match self.shallow(ty) {
                    Ty::Tuple(existing) if existing.len() == items.len() => existing,
                    _ => {
                        let fresh: Vec<Ty> = items.iter().map(|_| self.fresh()).collect();
                        if let Err(mismatch) = self.subst.unify(ty, &Ty::Tuple(fresh.clone())) {
                            let _ = mismatch;
                            self.error(CheckError::PatternMismatch {
                                span: pattern.span,
                                expected: self.resolve(ty),
                                what: "a tuple pattern".into(),
                            });
                            return;
                        }
                        fresh
                    }
                };
                for (item, item_ty) in items.iter().zip(&item_tys) {
                    self.pattern(item, item_ty);
                }
            }
            PatternKind::List { items, rest } => {
                let item_ty = match self.shallow(ty) {
                    Ty::List(item) => *item,
                    Ty::Query(entity) => Ty::Entity(entity),
                    Ty::Json | Ty::Error => Ty::Error,
                    _ => {
                        let item = self.fresh();
                        if self.subst.unify(ty, &Ty::list(item.clone())).is_err() {
                            self.error(CheckError::PatternMismatch {
                                span: pattern.span,
                                expected: self.resolve(ty),
                                what: "a list pattern".into(),
                            });
                            return;
                        }
                        item
                    }
                };
                for item in items {
                    self.pattern(item, &item_ty);
                }
                if let Some(Some(name)) = rest {
                    self.bind(name.sym, Ty::list(item_ty), name.span);
                }
            }
            PatternKind::Or(alternatives) => {
                for alternative in alternatives {
                    self.pattern(alternative, ty);
                }
            }
        }
    }

    fn literal_pattern(&mut self, literal: &Expr, ty: &Ty) {
        let literal_ty = match &literal.kind {
            ExprKind::None => {
                if !matches!(
                    self.shallow(ty),
                    Ty::Optional(_) | Ty::None | Ty::Json | Ty::Error | Ty::Var(_)
                ) {
                    self.error(CheckError::PatternMismatch {
                        span: literal.span,
                        expected: self.resolve(ty),
                        what: "`none`".into(),
                    });
                }
                return;
            }
            _ => self.infer(literal),
        };
        let target = match self.shallow(ty) {
            Ty::Optional(inner) => *inner,
            other => other,
        };
        if self.subst.join(&target, &literal_ty).is_none() {
            let expected = self.resolve(ty);
            if !expected.is_error() {
                self.error(CheckError::PatternMismatch {
                    span: literal.span,
                    expected,
                    what: format!("a `{}`", self.resolve(&literal_ty)),
                });
            }
        }
    }

    fn variant_pattern(
        &mut self,
        span: Span,
        path: &[flin_syntax::ast::Name],
        args: Option<&[Pattern]>,
        ty: &Ty,
    ) {
        let Some(last) = path.last() else { return };
        let resolved = self.shallow(ty);
        // `Ok(v)` and `Err(e)` take a Result apart.
        if path.len() == 1 && matches!(last.as_str(), "Ok" | "Err") {
            let (ok, err) = match resolved {
                Ty::Result(ok, err) => (*ok, *err),
                _ => {
                    let ok = self.fresh();
                    let err = self.fresh();
                    if self
                        .subst
                        .unify(ty, &Ty::result(ok.clone(), err.clone()))
                        .is_err()
                    {
                        self.error(CheckError::PatternMismatch {
                            span,
                            expected: self.resolve(ty),
                            what: format!("`{}(…)`", last.as_str()),
                        });
                        return;
                    }
                    (ok, err)
                }
            };
            let inner = if last.as_str() == "Ok" { ok } else { err };
            for arg in args.unwrap_or(&[]) {
                self.pattern(arg, &inner);
            }
            return;
        }
        let enum_name = match (path.len(), &resolved) {
            (2, _) => path.first().map(|n| n.sym),
            (_, Ty::Enum(name)) => Some(*name),
            (_, Ty::Optional(inner)) => match self.shallow(inner) {
                Ty::Enum(name) => Some(name),
                _ => None,
            },
            _ => self.unqualified_variant(last.sym).map(|(owner, _)| owner),
        };
        let Some(enum_name) = enum_name else {
            if !resolved.is_error() {
                self.error(CheckError::PatternMismatch {
                    span,
                    expected: self.resolve(ty),
                    what: format!("`{}`", last.as_str()),
                });
            }
            return;
        };
        let Some(info) = self.decls.enum_info(enum_name) else {
            let candidates = self.decls.all_enums().map(|e| e.name).collect();
            if let Some(first) = path.first() {
                self.error(CheckError::UnknownType {
                    span: first.span,
                    name: enum_name,
                    candidates,
                });
            }
            return;
        };
        let Some(payload) = info.variant(last.sym).cloned() else {
            self.unknown_variant(last.span, last.sym, enum_name);
            return;
        };
        let target = match self.shallow(ty) {
            Ty::Optional(inner) => *inner,
            other => other,
        };
        if self.subst.unify(&target, &Ty::Enum(enum_name)).is_err() {
            self.error(CheckError::PatternMismatch {
                span,
                expected: self.resolve(ty),
                what: format!("`{enum_name}.{}`", last.as_str()),
            });
            return;
        }
        let args = args.unwrap_or(&[]);
        if args.len() != payload.len() {
            self.error(CheckError::ArgCount {
                span,
                callee: format!("{enum_name}.{}", last.as_str()),
                expected: payload.len(),
                found: args.len(),
            });
        }
        for (arg, arg_ty) in args.iter().zip(&payload) {
            self.pattern(arg, arg_ty);
        }
    }

    /// The shape of a type, for exhaustiveness; `depth` bounds recursive types.
    fn shape(&self, ty: &Ty, depth: u32) -> Shape {
        if depth > 8 {
            return Shape::Open;
        }
        match self.shallow(ty) {
            Ty::Bool => Shape::Bool,
            Ty::Optional(inner) => Shape::Optional(Box::new(self.shape(&inner, depth + 1))),
            Ty::Enum(name) => match self.decls.enum_info(name) {
                Some(info) => Shape::Enum(
                    info.variants
                        .iter()
                        .map(|(variant, payload)| {
                            (
                                *variant,
                                payload.iter().map(|t| self.shape(t, depth + 1)).collect(),
                            )
                        })
                        .collect(),
                ),
                None => Shape::Open,
            },
            Ty::Result(ok, err) => Shape::Result(
                Box::new(self.shape(&ok, depth + 1)),
                Box::new(self.shape(&err, depth + 1)),
            ),
            Ty::Tuple(items) => {
                Shape::Tuple(items.iter().map(|t| self.shape(t, depth + 1)).collect())
            }
            Ty::List(item) => Shape::List(Box::new(self.shape(&item, depth + 1))),
            _ => Shape::Open,
        }
    }

    fn lower_pattern(&self, pattern: &Pattern, ty: &Ty) -> Pat {
        let optional = matches!(self.shallow(ty), Ty::Optional(_));
        let some = |pat: Pat| {
            if optional {
                Pat::Ctor(Ctor::Some, vec![pat])
            } else {
                pat
            }
        };
        match &pattern.kind {
            PatternKind::Wildcard | PatternKind::Error => Pat::Wild,
            // A binding on an optional matches only a present value.
            PatternKind::Binding(_) => some(Pat::Wild),
            PatternKind::Literal(literal) => match &literal.kind {
                ExprKind::None => Pat::Ctor(Ctor::None, vec![]),
                ExprKind::Bool(true) => some(Pat::Ctor(Ctor::True, vec![])),
                ExprKind::Bool(false) => some(Pat::Ctor(Ctor::False, vec![])),
                _ => some(Pat::Lit(format!("{:?}", literal.kind))),
            },
            PatternKind::Range { .. } => some(Pat::Lit(format!("{:?}", pattern.span))),
            PatternKind::Variant { path, args } => {
                let Some(last) = path.last() else {
                    return Pat::Wild;
                };
                let inner_tys: Vec<Ty> = match (last.as_str(), self.resolve(ty)) {
                    ("Ok", Ty::Result(ok, _)) => vec![*ok],
                    ("Err", Ty::Result(_, err)) => vec![*err],
                    _ => {
                        let enum_ty = match self.shallow(ty) {
                            Ty::Optional(inner) => self.shallow(&inner),
                            other => other,
                        };
                        match enum_ty {
                            Ty::Enum(name) => self
                                .decls
                                .enum_info(name)
                                .and_then(|e| e.variant(last.sym).cloned())
                                .unwrap_or_default(),
                            _ => Vec::new(),
                        }
                    }
                };
                let ctor = match last.as_str() {
                    "Ok" if path.len() == 1 => Ctor::Ok,
                    "Err" if path.len() == 1 => Ctor::Err,
                    _ => Ctor::Variant(last.sym),
                };
                let args = args.as_deref().unwrap_or(&[]);
                let sub: Vec<Pat> = inner_tys
                    .iter()
                    .enumerate()
                    .map(|(idx, inner)| {
                        args.get(idx)
                            .map_or(Pat::Wild, |arg| self.lower_pattern(arg, inner))
                    })
                    .collect();
                let pat = Pat::Ctor(ctor.clone(), sub);
                if matches!(ctor, Ctor::Ok | Ctor::Err) {
                    pat
                } else {
                    some(pat)
                }
            }
            PatternKind::Tuple(items) => {
                let item_tys: Vec<Ty> = match self.resolve(ty) {
                    Ty::Tuple(tys) => tys,
                    _ => items.iter().map(|_| Ty::Error).collect(),
                };
                some(Pat::Ctor(
                    Ctor::Tuple,
                    items
                        .iter()
                        .zip(item_tys.iter())
                        .map(|(p, t)| self.lower_pattern(p, t))
                        .collect(),
                ))
            }
            PatternKind::List { items, rest } => {
                let item_ty = match self.resolve(ty) {
                    Ty::List(item) => *item,
                    _ => Ty::Error,
                };
                let mut tail = if rest.is_some() {
                    Pat::Wild
                } else {
                    Pat::Ctor(Ctor::Nil, vec![])
                };
                for item in items.iter().rev() {
                    tail = Pat::Ctor(Ctor::Cons, vec![self.lower_pattern(item, &item_ty), tail]);
                }
                some(tail)
            }
            PatternKind::Or(alternatives) => Pat::Or(
                alternatives
                    .iter()
                    .map(|a| self.lower_pattern(a, ty))
                    .collect(),
            ),
        }
    }
}

/// Expands or-patterns at the head of a row.
fn expand(row: &[Pat]) -> Vec<Vec<Pat>> {
    match row.first() {
        Some(Pat::Or(alternatives)) => alternatives
            .iter()
            .flat_map(|alt| {
                let mut new_row = vec![alt.clone()];
                new_row.extend(row.iter().skip(1).cloned());
                expand(&new_row)
            })
            .collect(),
        _ => vec![row.to_vec()],
    }
}

/// The rows that match constructor `ctor` (of `arity`), with its fields opened.
fn specialize(rows: &[Vec<Pat>], ctor: &Ctor, arity: usize) -> Vec<Vec<Pat>> {
    let mut out = Vec::new();
    for row in rows.iter().flat_map(|r| expand(r)) {
        let Some(head) = row.first() else { continue };
        let rest = row.iter().skip(1).cloned();
        match head {
            Pat::Wild => {
                let mut new_row = vec![Pat::Wild; arity];
                new_row.extend(rest);
                out.push(new_row);
            }
            Pat::Ctor(c, fields) if c == ctor => {
                let mut new_row = fields.clone();
                new_row.resize(arity, Pat::Wild);
                new_row.extend(rest);
                out.push(new_row);
            }
            _ => {}
        }
    }
    out
}

/// The rows whose head is a wildcard, without it.
fn default_rows(rows: &[Vec<Pat>]) -> Vec<Vec<Pat>> {
    rows.iter()
        .flat_map(|r| expand(r))
        .filter(|row| matches!(row.first(), Some(Pat::Wild)))
        .map(|row| row.into_iter().skip(1).collect())
        .collect()
}

/// Whether `v` matches some value that no row of `rows` matches.
fn useful(rows: &[Vec<Pat>], v: &[Pat], shapes: &[Shape]) -> bool {
    let Some(head) = v.first() else {
        return rows.is_empty();
    };
    let head_shape = shapes.first().cloned().unwrap_or(Shape::Open);
    let rest_shapes = shapes.get(1..).unwrap_or(&[]);
    match head {
        Pat::Or(alternatives) => alternatives.iter().any(|alt| {
            let mut new_v = vec![alt.clone()];
            new_v.extend(v.iter().skip(1).cloned());
            useful(rows, &new_v, shapes)
        }),
        Pat::Ctor(ctor, fields) => {
            let field_shapes = head_shape
                .ctors()
                .and_then(|cs| cs.into_iter().find(|(c, _)| c == ctor))
                .map(|(_, s)| s)
                .unwrap_or_else(|| vec![Shape::Open; fields.len()]);
            let arity = field_shapes.len().max(fields.len());
            let mut new_v = fields.clone();
            new_v.resize(arity, Pat::Wild);
            new_v.extend(v.iter().skip(1).cloned());
            let mut new_shapes = field_shapes;
            new_shapes.resize(arity, Shape::Open);
            new_shapes.extend(rest_shapes.iter().cloned());
            useful(&specialize(rows, ctor, arity), &new_v, &new_shapes)
        }
        Pat::Lit(_) => {
            let matching: Vec<Vec<Pat>> = rows
                .iter()
                .flat_map(|r| expand(r))
                .filter(|row| matches!(row.first(), Some(Pat::Wild)) || row.first() == Some(head))
                .map(|row| row.into_iter().skip(1).collect())
                .collect();
            useful(&matching, v.get(1..).unwrap_or(&[]), rest_shapes)
        }
        Pat::Wild => match complete_signature(rows, &head_shape) {
            // Every constructor appears in the column: the wildcard is useful if it is
            // for one of them.
            Some(ctors) => ctors.iter().any(|(ctor, field_shapes)| {
                let mut new_v = vec![Pat::Wild; field_shapes.len()];
                new_v.extend(v.iter().skip(1).cloned());
                let mut new_shapes = field_shapes.clone();
                new_shapes.extend(rest_shapes.iter().cloned());
                useful(
                    &specialize(rows, ctor, field_shapes.len()),
                    &new_v,
                    &new_shapes,
                )
            }),
            // Some constructor is missing from the column: only the rows with a wildcard
            // there can stop the wildcard.
            None => useful(&default_rows(rows), v.get(1..).unwrap_or(&[]), rest_shapes),
        },
    }
}

/// The constructors heading the first column of `rows`, when they are all of the
/// shape's (a complete signature); `None` otherwise.
fn complete_signature(rows: &[Vec<Pat>], shape: &Shape) -> Option<Vec<(Ctor, Vec<Shape>)>> {
    let ctors = shape.ctors()?;
    if ctors.is_empty() {
        return None;
    }
    let present = heads(rows);
    ctors
        .iter()
        .all(|(ctor, _)| present.contains(ctor))
        .then_some(ctors)
}

/// The constructors heading the rows (or-patterns expanded).
fn heads(rows: &[Vec<Pat>]) -> Vec<Ctor> {
    rows.iter()
        .flat_map(|r| expand(r))
        .filter_map(|row| match row.first() {
            Some(Pat::Ctor(ctor, _)) => Some(ctor.clone()),
            _ => None,
        })
        .collect()
}

/// A vector of patterns that no row matches, if there is one: what a match misses.
fn witness(rows: &[Vec<Pat>], shapes: &[Shape]) -> Option<Vec<Pat>> {
    let Some(head_shape) = shapes.first() else {
        return if rows.is_empty() {
            Some(Vec::new())
        } else {
            None
        };
    };
    let rest_shapes = shapes.get(1..).unwrap_or(&[]);
    if let Some(ctors) = complete_signature(rows, head_shape) {
        for (ctor, field_shapes) in &ctors {
            let mut new_shapes = field_shapes.clone();
            new_shapes.extend(rest_shapes.iter().cloned());
            if let Some(found) = witness(&specialize(rows, ctor, field_shapes.len()), &new_shapes) {
                let fields: Vec<Pat> = found.iter().take(field_shapes.len()).cloned().collect();
                let mut out = vec![Pat::Ctor(ctor.clone(), fields)];
                out.extend(found.into_iter().skip(field_shapes.len()));
                return Some(out);
            }
        }
        return None;
    }
    let found = witness(&default_rows(rows), rest_shapes)?;
    // A constructor no row starts with, if the type has constructors; else anything.
    let present = heads(rows);
    let head = head_shape
        .ctors()
        .and_then(|ctors| ctors.into_iter().find(|(ctor, _)| !present.contains(ctor)))
        .map_or(Pat::Wild, |(ctor, fields)| {
            Pat::Ctor(ctor, vec![Pat::Wild; fields.len()])
        });
    let mut out = vec![head];
    out.extend(found);
    Some(out)
}

/// A missing case as FLIN would write it.
fn show(pat: &Pat) -> String {
    match pat {
        Pat::Wild | Pat::Lit(_) | Pat::Or(_) => "_".into(),
        Pat::Ctor(ctor, fields) => {
            let args = || fields.iter().map(show).collect::<Vec<_>>().join(", ");
            match ctor {
                Ctor::True => "true".into(),
                Ctor::False => "false".into(),
                Ctor::None => "none".into(),
                Ctor::Some => fields.first().map_or_else(|| "_".into(), show),
                Ctor::Variant(name) if fields.is_empty() => name.as_str().into(),
                Ctor::Variant(name) => format!("{name}({})", args()),
                Ctor::Ok => format!("Ok({})", args()),
                Ctor::Err => format!("Err({})", args()),
                Ctor::Tuple => format!("({})", args()),
                Ctor::Nil => "[]".into(),
                Ctor::Cons => {
                    let mut items = Vec::new();
                    let mut current = pat;
                    loop {
                        match current {
                            Pat::Ctor(Ctor::Cons, cell) => {
                                items.push(cell.first().map_or_else(|| "_".into(), show));
                                match cell.get(1) {
                                    Some(next) => current = next,
                                    None => break,
                                }
                            }
                            Pat::Ctor(Ctor::Nil, _) => return format!("[{}]", items.join(", ")),
                            _ => break,
                        }
                    }
                    items.push("..".into());
                    format!("[{}]", items.join(", "))
                }
            }
        }
    }
}
