//! Types as the checker sees them (language.md §3), and how they print in messages.
//!
//! A [`Ty`] is a small tree. Inference variables ([`Ty::Var`]) are resolved through the
//! substitution in `infer::Subst`; generic parameters of a function's scheme
//! ([`Ty::Param`]) are replaced by fresh variables at each use. [`Ty::Error`] stands for
//! "unknown because of an error already reported" and fits everything silently, so one
//! mistake does not cascade into many.

use std::fmt;

use flin_syntax::Symbol;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct VarId(pub u32);

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Ty {
    Int,
    Number,
    Text,
    Bool,
    Time,
    Duration,
    Money,
    File,
    /// A dynamic JSON value (language.md §14): it converts to a concrete type where one
    /// is expected, and reads fields and elements as `json`.
    Json,
    /// The type of the `none` literal on its own and of statements without a value.
    None,
    /// `fail(…)`, `error(…)`, `not_found()`, `redirect(…)`: never returns, fits anywhere.
    Never,
    /// Unknown because of an error already reported: fits everything silently.
    Error,
    /// Markup given to a component or layout (`{children}`) or trusted HTML (`raw(…)`).
    Html,
    Optional(Box<Ty>),
    List(Box<Ty>),
    Map(Box<Ty>, Box<Ty>),
    Tuple(Vec<Ty>),
    /// Fields in declaration order.
    Record(Vec<(Symbol, Ty)>),
    Fn(Box<FnTy>),
    Entity(Symbol),
    Enum(Symbol),
    Result(Box<Ty>, Box<Ty>),
    /// `Book.where(…)`: a query, usable wherever a list of its rows is.
    Query(Symbol),
    /// One hit of `search … in E`: `.entity` and `.score`.
    SearchHit(Symbol),
    /// `E.where(…).group_by(field)`: aggregates per key (`.count` → `[K: int]`); as a
    /// value it is the map `[K: [E]]`.
    Grouped(Symbol, Box<Ty>),
    Var(VarId),
    /// The n-th generic parameter of a scheme.
    Param(u32),
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct FnTy {
    pub params: Vec<ParamTy>,
    pub ret: Ty,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct ParamTy {
    pub name: Option<Symbol>,
    pub ty: Ty,
    pub has_default: bool,
}

/// What a type variable may become: any type, or one of a family the operators accept.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Constraint {
    Any,
    /// `int`, `number`, `money`, `duration`: what `*` and `/` take; defaults to `int`.
    Numeric,
    /// What `+ -` take besides text: numbers, money, durations, times.
    Additive,
    /// What `< <= > >=` compare: numbers, money, durations, times, texts.
    Ordered,
}

impl Constraint {
    /// Whether a concrete type belongs to the family.
    pub fn admits(self, ty: &Ty) -> bool {
        match self {
            Constraint::Any => true,
            Constraint::Numeric => matches!(
                ty,
                Ty::Int | Ty::Number | Ty::Money | Ty::Duration | Ty::Json | Ty::Error | Ty::Never
            ),
            Constraint::Additive => {
                matches!(
                    ty,
                    Ty::Int
                        | Ty::Number
                        | Ty::Money
                        | Ty::Duration
                        | Ty::Time
                        | Ty::Text
                        | Ty::Json
                        | Ty::Error
                        | Ty::Never
                )
            }
            Constraint::Ordered => {
                matches!(
                    ty,
                    Ty::Int
                        | Ty::Number
                        | Ty::Money
                        | Ty::Duration
                        | Ty::Time
                        | Ty::Text
                        | Ty::Json
                        | Ty::Error
                        | Ty::Never
                )
            }
        }
    }

    /// The narrower of two constraints on one variable.
    pub fn meet(self, other: Constraint) -> Constraint {
        use Constraint::*;
        match (self, other) {
            (Any, c) | (c, Any) => c,
            (Numeric, _) | (_, Numeric) => Numeric,
            (Additive, Ordered) | (Ordered, Additive) => Additive,
            (c, _) => c,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Constraint::Any => "any type",
            Constraint::Numeric => "a number (int, number, money or duration)",
            Constraint::Additive => {
                "a value that adds (a number, money, a duration, a time or text)"
            }
            Constraint::Ordered => {
                "a value that compares (a number, money, a duration, a time or text)"
            }
        }
    }
}

/// A function's type with its generic parameters: `∀ T. ([T], T) -> T`.
#[derive(Clone, PartialEq, Debug)]
pub struct Scheme {
    /// One constraint per generic parameter.
    pub params: Vec<Constraint>,
    /// Names of the generic parameters, for messages.
    pub param_names: Vec<Symbol>,
    pub ty: Ty,
}

impl Scheme {
    pub fn mono(ty: Ty) -> Scheme {
        Scheme {
            params: Vec::new(),
            param_names: Vec::new(),
            ty,
        }
    }
}

impl Ty {
    pub fn optional(inner: Ty) -> Ty {
        match inner {
            Ty::Optional(_) | Ty::Error | Ty::Json | Ty::Never => inner,
            Ty::None => Ty::None,
            other => Ty::Optional(Box::new(other)),
        }
    }

    pub fn list(inner: Ty) -> Ty {
        Ty::List(Box::new(inner))
    }

    pub fn map(key: Ty, value: Ty) -> Ty {
        Ty::Map(Box::new(key), Box::new(value))
    }

    pub fn func(params: Vec<Ty>, ret: Ty) -> Ty {
        Ty::Fn(Box::new(FnTy {
            params: params
                .into_iter()
                .map(|ty| ParamTy {
                    name: None,
                    ty,
                    has_default: false,
                })
                .collect(),
            ret,
        }))
    }

    pub fn result(ok: Ty, err: Ty) -> Ty {
        Ty::Result(Box::new(ok), Box::new(err))
    }

    /// Whether errors about this type should be silenced (it is already wrong).
    pub fn is_error(&self) -> bool {
        matches!(self, Ty::Error)
    }

    /// Whether the type mentions an inference variable or generic parameter.
    pub fn has_vars(&self) -> bool {
        match self {
            Ty::Var(_) | Ty::Param(_) => true,
            Ty::Optional(inner) | Ty::List(inner) => inner.has_vars(),
            Ty::Map(key, value) | Ty::Result(key, value) => key.has_vars() || value.has_vars(),
            Ty::Tuple(items) => items.iter().any(Ty::has_vars),
            Ty::Record(fields) => fields.iter().any(|(_, ty)| ty.has_vars()),
            Ty::Fn(func) => func.ret.has_vars() || func.params.iter().any(|p| p.ty.has_vars()),
            _ => false,
        }
    }
}

/// Types print as FLIN writes them: `int`, `[text]`, `Book?`, `(int) -> text`.
impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Int => f.write_str("int"),
            Ty::Number => f.write_str("number"),
            Ty::Text => f.write_str("text"),
            Ty::Bool => f.write_str("bool"),
            Ty::Time => f.write_str("time"),
            Ty::Duration => f.write_str("duration"),
            Ty::Money => f.write_str("money"),
            Ty::File => f.write_str("file"),
            Ty::Json => f.write_str("json"),
            Ty::None => f.write_str("none"),
            Ty::Never => f.write_str("never"),
            Ty::Error => f.write_str("{unknown}"),
            Ty::Html => f.write_str("markup"),
            Ty::Optional(inner) => match **inner {
                Ty::Fn(_) => write!(f, "({inner})?"),
                _ => write!(f, "{inner}?"),
            },
            Ty::List(inner) => write!(f, "[{inner}]"),
            Ty::Map(key, value) => write!(f, "[{key}: {value}]"),
            Ty::Tuple(items) => {
                f.write_str("(")?;
                for (idx, item) in items.iter().enumerate() {
                    if idx > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
            Ty::Record(fields) => {
                f.write_str("{")?;
                for (idx, (name, ty)) in fields.iter().enumerate() {
                    if idx > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {ty}")?;
                }
                f.write_str("}")
            }
            Ty::Fn(func) => {
                f.write_str("(")?;
                for (idx, param) in func.params.iter().enumerate() {
                    if idx > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", param.ty)?;
                }
                write!(f, ") -> {}", func.ret)
            }
            Ty::Entity(name) | Ty::Enum(name) => write!(f, "{name}"),
            Ty::Result(ok, err) => write!(f, "Result<{ok}, {err}>"),
            Ty::Query(entity) => write!(f, "query of {entity}"),
            Ty::SearchHit(entity) => write!(f, "SearchHit<{entity}>"),
            Ty::Grouped(entity, key) => write!(f, "[{key}: [{entity}]]"),
            Ty::Var(_) => f.write_str("_"),
            Ty::Param(idx) => write!(f, "T{idx}"),
        }
    }
}
