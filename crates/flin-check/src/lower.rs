//! Written types (`[Book]`, `Result<int, text>`, `semantic text?`) to checker types.

use flin_syntax::Symbol;
use flin_syntax::ast::{self, TypeKind};

use crate::error::CheckError;
use crate::ty::{FnTy, ParamTy, Ty};

/// The names a written type may use besides the built-in ones: entities, enums, type
/// aliases and generic parameters in scope.
pub trait TypeNames {
    fn lookup_type(&self, name: Symbol) -> Option<Ty>;
    /// Every type name in scope, for "did you mean".
    fn type_names(&self) -> Vec<Symbol>;
}

pub const BUILTIN_TYPES: &[&str] = &[
    "int",
    "number",
    "float",
    "decimal",
    "text",
    "bool",
    "time",
    "duration",
    "money",
    "file",
    "json",
    "Result",
    "Option",
    "SearchHit",
];

pub fn lower(ty: &ast::Type, names: &dyn TypeNames, errors: &mut Vec<CheckError>) -> Ty {
    match &ty.kind {
        TypeKind::Named { name, args } => lower_named(ty, *name, args, names, errors),
        TypeKind::SemanticText => Ty::Text,
        TypeKind::Optional(inner) => Ty::optional(lower(inner, names, errors)),
        TypeKind::List(inner) => Ty::list(lower(inner, names, errors)),
        TypeKind::Map(key, value) => {
            Ty::map(lower(key, names, errors), lower(value, names, errors))
        }
        TypeKind::Record(fields) => Ty::Record(
            fields
                .iter()
                .map(|(name, ty)| (name.sym, lower(ty, names, errors)))
                .collect(),
        ),
        TypeKind::Tuple(items) => Ty::Tuple(
            items
                .iter()
                .map(|item| lower(item, names, errors))
                .collect(),
        ),
        TypeKind::Function { params, ret } => Ty::Fn(Box::new(FnTy {
            params: params
                .iter()
                .map(|p| ParamTy {
                    name: None,
                    ty: lower(p, names, errors),
                    has_default: false,
                })
                .collect(),
            ret: lower(ret, names, errors),
        })),
        TypeKind::Error => Ty::Error,
    }
}

fn lower_named(
    ty: &ast::Type,
    name: ast::Name,
    args: &[ast::Type],
    names: &dyn TypeNames,
    errors: &mut Vec<CheckError>,
) -> Ty {
    let text = name.as_str();
    let arity = |expected: usize, errors: &mut Vec<CheckError>| {
        if args.len() != expected {
            errors.push(CheckError::TypeArity {
                span: ty.span,
                name: name.sym,
                expected,
                found: args.len(),
            });
            false
        } else {
            true
        }
    };
    let simple = match text {
        "int" => Some(Ty::Int),
        "number" | "float" | "decimal" => Some(Ty::Number),
        "text" => Some(Ty::Text),
        "bool" => Some(Ty::Bool),
        "time" => Some(Ty::Time),
        "duration" => Some(Ty::Duration),
        "money" => Some(Ty::Money),
        "file" => Some(Ty::File),
        "json" => Some(Ty::Json),
        "none" => Some(Ty::None),
        "never" => Some(Ty::Never),
        "markup" => Some(Ty::Html),
        _ => None,
    };
    if let Some(simple) = simple {
        return if arity(0, errors) { simple } else { Ty::Error };
    }
    let lowered: Vec<Ty> = args.iter().map(|arg| lower(arg, names, errors)).collect();
    match text {
        "Result" => {
            if !arity(2, errors) {
                return Ty::Error;
            }
            let mut it = lowered.into_iter();
            Ty::result(
                it.next().unwrap_or(Ty::Error),
                it.next().unwrap_or(Ty::Error),
            )
        }
        "Option" => {
            if !arity(1, errors) {
                return Ty::Error;
            }
            Ty::optional(lowered.into_iter().next().unwrap_or(Ty::Error))
        }
        "SearchHit" => {
            if !arity(1, errors) {
                return Ty::Error;
            }
            match lowered.into_iter().next() {
                Some(Ty::Entity(entity)) => Ty::SearchHit(entity),
                _ => Ty::Error,
            }
        }
        _ => match names.lookup_type(name.sym) {
            Some(found) => {
                if arity(0, errors) {
                    found
                } else {
                    Ty::Error
                }
            }
            None => {
                let mut candidates = names.type_names();
                candidates.extend(BUILTIN_TYPES.iter().map(|b| Symbol::intern(b)));
                errors.push(CheckError::UnknownType {
                    span: name.span,
                    name: name.sym,
                    candidates,
                });
                Ty::Error
            }
        },
    }
}
