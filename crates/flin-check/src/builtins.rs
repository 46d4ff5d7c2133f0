//! The standard library's signatures, read once from `prelude.flin` with FLIN's own
//! parser: free functions, methods by the type of `self`, and built-in type aliases.

use std::collections::HashMap;
use std::sync::LazyLock;

use flin_diagnostics::FileId;
use flin_syntax::Symbol;
use flin_syntax::ast::{self, StmtKind};

use crate::lower::{TypeNames, lower};
use crate::ty::{Constraint, FnTy, ParamTy, Scheme, Ty};

const PRELUDE: &str = include_str!("prelude.flin");

/// The type constructors that have methods.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Owner {
    Text,
    Int,
    Number,
    Time,
    Duration,
    Money,
    List,
    Map,
}

impl Owner {
    pub fn of(ty: &Ty) -> Option<Owner> {
        Some(match ty {
            Ty::Text => Owner::Text,
            Ty::Int => Owner::Int,
            Ty::Number => Owner::Number,
            Ty::Time => Owner::Time,
            Ty::Duration => Owner::Duration,
            Ty::Money => Owner::Money,
            Ty::List(_) | Ty::Query(_) => Owner::List,
            Ty::Map(..) => Owner::Map,
            _ => return None,
        })
    }
}

#[derive(Debug, Default)]
pub struct Builtins {
    /// Free functions; several schemes are overloads by arity.
    pub functions: HashMap<Symbol, Vec<Scheme>>,
    /// Methods, `self` first.
    pub methods: HashMap<(Owner, Symbol), Vec<Scheme>>,
    pub aliases: HashMap<Symbol, Ty>,
}

/// Functions with forms a signature cannot write: any number of values of any type.
pub const VARIADIC: &[&str] = &["print", "log", "log_info", "log_warn", "log_error"];

/// Time keywords: values of type `time` (language.md §2).
pub const TIME_KEYWORDS: &[&str] = &[
    "now",
    "today",
    "yesterday",
    "tomorrow",
    "last_week",
    "last_month",
    "last_year",
];

pub static BUILTINS: LazyLock<Builtins> = LazyLock::new(load);

impl Builtins {
    pub fn function_names(&self) -> impl Iterator<Item = Symbol> + '_ {
        self.functions.keys().copied()
    }

    pub fn is_builtin_function(&self, name: Symbol) -> bool {
        self.functions.contains_key(&name)
            || VARIADIC.contains(&name.as_str())
            || matches!(name.as_str(), "login" | "current_user" | "assert")
    }

    /// Method names of an owner, for "did you mean".
    pub fn method_names(&self, owner: Owner) -> Vec<Symbol> {
        self.methods
            .keys()
            .filter(|(o, _)| *o == owner)
            .map(|(_, name)| *name)
            .collect()
    }
}

struct PreludeNames<'a> {
    generics: &'a [(Symbol, Ty)],
    aliases: &'a HashMap<Symbol, Ty>,
}

impl TypeNames for PreludeNames<'_> {
    fn lookup_type(&self, name: Symbol) -> Option<Ty> {
        self.generics
            .iter()
            .find(|(generic, _)| *generic == name)
            .map(|(_, ty)| ty.clone())
            .or_else(|| self.aliases.get(&name).cloned())
    }

    fn type_names(&self) -> Vec<Symbol> {
        Vec::new()
    }
}

fn constraint_for(name: &str) -> Constraint {
    if name.starts_with("Num") {
        Constraint::Numeric
    } else if name.starts_with("Ord") {
        Constraint::Ordered
    } else {
        Constraint::Any
    }
}

fn load() -> Builtins {
    let parsed = flin_syntax::parse(PRELUDE, FileId(u32::MAX));
    let mut builtins = Builtins::default();
    let mut errors = Vec::new();
    for stmt in &parsed.file.stmts {
        match &stmt.kind {
            StmtKind::TypeAlias { name, ty } => {
                let names = PreludeNames {
                    generics: &[],
                    aliases: &builtins.aliases,
                };
                let lowered = lower(ty, &names, &mut errors);
                builtins.aliases.insert(name.sym, lowered);
            }
            StmtKind::Fn(decl) => {
                let scheme = signature(decl, &builtins.aliases, &mut errors);
                let self_owner = decl
                    .params
                    .first()
                    .filter(|p| p.name.as_str() == "self")
                    .and_then(|_| match &scheme.ty {
                        Ty::Fn(func) => func.params.first().and_then(|p| Owner::of(&p.ty)),
                        _ => None,
                    });
                match self_owner {
                    Some(owner) => builtins
                        .methods
                        .entry((owner, decl.name.sym))
                        .or_default()
                        .push(scheme),
                    None => builtins
                        .functions
                        .entry(decl.name.sym)
                        .or_default()
                        .push(scheme),
                }
            }
            _ => {}
        }
    }
    // The prelude is part of the binary and checked by a test: an error here is a bug in
    // it, and the entry is simply left out.
    builtins
}

fn signature(
    decl: &ast::FnDecl,
    aliases: &HashMap<Symbol, Ty>,
    errors: &mut Vec<crate::error::CheckError>,
) -> Scheme {
    let generics: Vec<(Symbol, Ty)> = decl
        .generics
        .iter()
        .enumerate()
        .map(|(idx, name)| (name.sym, Ty::Param(idx as u32)))
        .collect();
    let names = PreludeNames {
        generics: &generics,
        aliases,
    };
    let params = decl
        .params
        .iter()
        .map(|param| ParamTy {
            name: Some(param.name.sym),
            ty: param
                .ty
                .as_ref()
                .map_or(Ty::Error, |ty| lower(ty, &names, errors)),
            has_default: param.default.is_some(),
        })
        .collect();
    let ret = decl
        .ret
        .as_ref()
        .map_or(Ty::None, |ty| lower(ty, &names, errors));
    Scheme {
        params: decl
            .generics
            .iter()
            .map(|g| constraint_for(g.as_str()))
            .collect(),
        param_names: decl.generics.iter().map(|g| g.sym).collect(),
        ty: Ty::Fn(Box::new(FnTy { params, ret })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prelude_parses_and_lowers_without_errors() {
        let parsed = flin_syntax::parse(PRELUDE, FileId(0));
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let mut errors = Vec::new();
        let mut aliases = HashMap::new();
        for stmt in &parsed.file.stmts {
            match &stmt.kind {
                StmtKind::TypeAlias { name, ty } => {
                    let names = PreludeNames {
                        generics: &[],
                        aliases: &aliases,
                    };
                    let lowered = lower(ty, &names, &mut errors);
                    aliases.insert(name.sym, lowered);
                }
                StmtKind::Fn(decl) => {
                    signature(decl, &aliases, &mut errors);
                }
                _ => {}
            }
        }
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn methods_are_found_by_owner_and_overloaded_by_arity() {
        let round = BUILTINS
            .methods
            .get(&(Owner::Number, Symbol::intern("round")))
            .map_or(0, Vec::len);
        assert_eq!(round, 2);
        assert!(
            BUILTINS
                .methods
                .contains_key(&(Owner::List, Symbol::intern("sort_by")))
        );
        assert!(
            BUILTINS
                .functions
                .contains_key(&Symbol::intern("parse_json"))
        );
        assert!(BUILTINS.aliases.contains_key(&Symbol::intern("Error")));
    }
}
