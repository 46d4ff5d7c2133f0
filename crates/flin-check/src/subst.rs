//! Inference variables and their substitution: unification, the coercions FLIN allows
//! where a type is expected, joins of branches, and let-generalization by levels.
//!
//! Unification is structural. Coercions are applied only where the spec allows a value
//! of one type to stand for another: `int` where `number` is expected, `T` where `T?` is,
//! `json` where any concrete type is (converted at run time), `never` anywhere, and a
//! query where a list of its rows is.

use crate::ty::{Constraint, FnTy, ParamTy, Scheme, Ty, VarId};

#[derive(Clone, Debug)]
enum VarState {
    Unbound { constraint: Constraint, level: u32 },
    Bound(Ty),
}

/// Why two types did not unify: the innermost pair that differed.
#[derive(Clone, Debug, PartialEq)]
pub enum Mismatch {
    Types,
    /// A variable limited to a family of types met one outside it.
    Constraint(Constraint),
    /// A type would contain itself.
    Infinite,
}

#[derive(Default, Debug)]
pub struct Subst {
    vars: Vec<VarState>,
}

impl Subst {
    pub fn fresh(&mut self, constraint: Constraint, level: u32) -> Ty {
        let id = VarId(self.vars.len() as u32);
        self.vars.push(VarState::Unbound { constraint, level });
        Ty::Var(id)
    }

    fn state(&self, id: VarId) -> Option<&VarState> {
        self.vars.get(id.0 as usize)
    }

    fn bind(&mut self, id: VarId, ty: Ty) {
        if let Some(state) = self.vars.get_mut(id.0 as usize) {
            *state = VarState::Bound(ty);
        }
    }

    /// The type with its outermost variables followed.
    pub fn shallow(&self, ty: &Ty) -> Ty {
        let mut current = ty.clone();
        // Chains are short; the bound guards against a cycle that cannot arise.
        for _ in 0..10_000 {
            match &current {
                Ty::Var(id) => match self.state(*id) {
                    Some(VarState::Bound(next)) => current = next.clone(),
                    _ => return current,
                },
                _ => return current,
            }
        }
        Ty::Error
    }

    /// The type with every bound variable replaced, deeply.
    pub fn resolve(&self, ty: &Ty) -> Ty {
        match self.shallow(ty) {
            Ty::Optional(inner) => Ty::optional(self.resolve(&inner)),
            Ty::List(inner) => Ty::list(self.resolve(&inner)),
            Ty::Map(key, value) => Ty::map(self.resolve(&key), self.resolve(&value)),
            Ty::Result(ok, err) => Ty::result(self.resolve(&ok), self.resolve(&err)),
            Ty::Tuple(items) => Ty::Tuple(items.iter().map(|t| self.resolve(t)).collect()),
            Ty::Record(fields) => {
                Ty::Record(fields.iter().map(|(n, t)| (*n, self.resolve(t))).collect())
            }
            Ty::Fn(func) => Ty::Fn(Box::new(FnTy {
                params: func
                    .params
                    .iter()
                    .map(|p| ParamTy {
                        name: p.name,
                        ty: self.resolve(&p.ty),
                        has_default: p.has_default,
                    })
                    .collect(),
                ret: self.resolve(&func.ret),
            })),
            other => other,
        }
    }

    /// Narrows an unbound variable's family (`x * 2` makes `x` numeric).
    pub fn constrain(&mut self, ty: &Ty, constraint: Constraint) -> Result<(), Mismatch> {
        match self.shallow(ty) {
            Ty::Var(id) => {
                if let Some(VarState::Unbound {
                    constraint: current,
                    ..
                }) = self.vars.get_mut(id.0 as usize)
                {
                    *current = current.meet(constraint);
                }
                Ok(())
            }
            concrete if constraint.admits(&concrete) => Ok(()),
            _ => Err(Mismatch::Constraint(constraint)),
        }
    }

    fn occurs(&self, id: VarId, ty: &Ty) -> bool {
        match self.shallow(ty) {
            Ty::Var(other) => other == id,
            Ty::Optional(inner) | Ty::List(inner) => self.occurs(id, &inner),
            Ty::Map(a, b) | Ty::Result(a, b) => self.occurs(id, &a) || self.occurs(id, &b),
            Ty::Tuple(items) => items.iter().any(|t| self.occurs(id, t)),
            Ty::Record(fields) => fields.iter().any(|(_, t)| self.occurs(id, t)),
            Ty::Fn(func) => {
                self.occurs(id, &func.ret) || func.params.iter().any(|p| self.occurs(id, &p.ty))
            }
            _ => false,
        }
    }

    /// Lowers the level of every variable in `ty` to at most `level`, so a variable that
    /// escapes into an outer binding is not generalized with an inner one.
    fn adjust_levels(&mut self, ty: &Ty, level: u32) {
        match self.shallow(ty) {
            Ty::Var(id) => {
                if let Some(VarState::Unbound { level: current, .. }) =
                    self.vars.get_mut(id.0 as usize)
                {
                    *current = (*current).min(level);
                }
            }
            Ty::Optional(inner) | Ty::List(inner) => self.adjust_levels(&inner, level),
            Ty::Map(a, b) | Ty::Result(a, b) => {
                self.adjust_levels(&a, level);
                self.adjust_levels(&b, level);
            }
            Ty::Tuple(items) => items.iter().for_each(|t| self.adjust_levels(t, level)),
            Ty::Record(fields) => fields
                .iter()
                .for_each(|(_, t)| self.adjust_levels(t, level)),
            Ty::Fn(func) => {
                self.adjust_levels(&func.ret, level);
                func.params
                    .iter()
                    .for_each(|p| self.adjust_levels(&p.ty, level));
            }
            _ => {}
        }
    }

    fn bind_var(&mut self, id: VarId, ty: &Ty) -> Result<(), Mismatch> {
        let (constraint, level) = match self.state(id) {
            Some(VarState::Unbound { constraint, level }) => (*constraint, *level),
            _ => return Ok(()),
        };
        if let Ty::Var(other) = self.shallow(ty) {
            if other == id {
                return Ok(());
            }
            // Two variables: the survivor takes the narrower family and the outer level.
            if let Some(VarState::Unbound {
                constraint: c,
                level: l,
            }) = self.vars.get_mut(other.0 as usize)
            {
                *c = c.meet(constraint);
                *l = (*l).min(level);
            }
            self.bind(id, Ty::Var(other));
            return Ok(());
        }
        if self.occurs(id, ty) {
            return Err(Mismatch::Infinite);
        }
        let concrete = self.shallow(ty);
        if !constraint.admits(&concrete) {
            return Err(Mismatch::Constraint(constraint));
        }
        self.adjust_levels(ty, level);
        self.bind(id, concrete);
        Ok(())
    }

    /// Makes two types equal.
    pub fn unify(&mut self, a: &Ty, b: &Ty) -> Result<(), Mismatch> {
        let a = self.shallow(a);
        let b = self.shallow(b);
        match (&a, &b) {
            (Ty::Var(id), _) => self.bind_var(*id, &b),
            (_, Ty::Var(id)) => self.bind_var(*id, &a),
            (Ty::Error, _) | (_, Ty::Error) | (Ty::Never, _) | (_, Ty::Never) => Ok(()),
            (Ty::Json, _) | (_, Ty::Json) => Ok(()),
            (Ty::Optional(x), Ty::Optional(y)) | (Ty::List(x), Ty::List(y)) => self.unify(x, y),
            (Ty::Map(k1, v1), Ty::Map(k2, v2)) | (Ty::Result(k1, v1), Ty::Result(k2, v2)) => {
                self.unify(k1, k2)?;
                self.unify(v1, v2)
            }
            (Ty::Tuple(xs), Ty::Tuple(ys)) if xs.len() == ys.len() => {
                for (x, y) in xs.iter().zip(ys) {
                    self.unify(x, y)?;
                }
                Ok(())
            }
            (Ty::Record(xs), Ty::Record(ys)) if xs.len() == ys.len() => {
                for (name, x) in xs {
                    let Some((_, y)) = ys.iter().find(|(other, _)| other == name) else {
                        return Err(Mismatch::Types);
                    };
                    self.unify(x, y)?;
                }
                Ok(())
            }
            (Ty::Fn(f), Ty::Fn(g)) if f.params.len() == g.params.len() => {
                for (p, q) in f.params.iter().zip(&g.params) {
                    self.unify(&p.ty, &q.ty)?;
                }
                self.unify(&f.ret, &g.ret)
            }
            (Ty::Query(x), Ty::Query(y)) if x == y => Ok(()),
            (Ty::Query(entity), Ty::List(item)) | (Ty::List(item), Ty::Query(entity)) => {
                self.unify(item, &Ty::Entity(*entity))
            }
            (Ty::Grouped(e1, k1), Ty::Grouped(e2, k2)) if e1 == e2 => self.unify(k1, k2),
            (Ty::Grouped(entity, key), Ty::Map(k, v))
            | (Ty::Map(k, v), Ty::Grouped(entity, key)) => {
                self.unify(key, k)?;
                self.unify(v, &Ty::list(Ty::Entity(*entity)))
            }
            _ if a == b => Ok(()),
            _ => Err(Mismatch::Types),
        }
    }

    /// Accepts a value of type `actual` where `expected` is wanted, with FLIN's
    /// implicit conversions.
    pub fn coerce(&mut self, expected: &Ty, actual: &Ty) -> Result<(), Mismatch> {
        let expected = self.shallow(expected);
        let actual = self.shallow(actual);
        match (&expected, &actual) {
            // An unknown slot takes what it is given, even an error (which then absorbs
            // what follows instead of leaving the variable undecided).
            (Ty::Var(_), _) => self.unify(&expected, &actual),
            (_, Ty::Never | Ty::Error) | (Ty::Error, _) => Ok(()),
            (Ty::Json, _) | (_, Ty::Json) => Ok(()),
            (Ty::Number, Ty::Int) => Ok(()),
            (Ty::Optional(_), Ty::None) => Ok(()),
            (Ty::Optional(inner), Ty::Optional(value)) => self.coerce(inner, value),
            (Ty::Optional(inner), Ty::Var(_)) => {
                // An unknown value where an optional is wanted: it is most likely the
                // optional itself (`x: int? = y`).
                self.unify(&expected, &actual)
                    .or_else(|_| self.unify(inner, &actual))
            }
            (Ty::Optional(inner), _) => self.coerce(inner, &actual),
            (Ty::List(item), Ty::Query(entity)) => self.unify(item, &Ty::Entity(*entity)),
            _ => self.unify(&expected, &actual),
        }
    }

    /// The type of a value that is one of two branches: `if c then a else b`, the arms
    /// of a match, the elements of a list. `None` when they do not fit together.
    pub fn join(&mut self, a: &Ty, b: &Ty) -> Option<Ty> {
        let ra = self.shallow(a);
        let rb = self.shallow(b);
        match (&ra, &rb) {
            (Ty::Never, _) => Some(rb),
            (_, Ty::Never) => Some(ra),
            (Ty::Error, _) | (_, Ty::Error) => Some(Ty::Error),
            (Ty::Int, Ty::Number) | (Ty::Number, Ty::Int) => Some(Ty::Number),
            (Ty::None, Ty::None) => Some(Ty::None),
            (Ty::None, Ty::Optional(_)) => Some(rb),
            (Ty::Optional(_), Ty::None) => Some(ra),
            (Ty::None, other) | (other, Ty::None) => Some(Ty::optional(other.clone())),
            (Ty::Optional(inner), other) | (other, Ty::Optional(inner))
                if !matches!(other, Ty::Optional(_) | Ty::Var(_)) =>
            {
                let joined = self.join(inner, other)?;
                Some(Ty::optional(joined))
            }
            _ => self.unify(&ra, &rb).ok().map(|()| ra),
        }
    }

    /// Binds every unbound variable of a family to its default (`int`), as the spec
    /// says for operands left open. Returns whether variables without a family remain.
    pub fn default_numeric(&mut self, ty: &Ty) -> bool {
        let resolved = self.resolve(ty);
        let mut open = false;
        self.default_in(&resolved, &mut open);
        open
    }

    fn default_in(&mut self, ty: &Ty, open: &mut bool) {
        match ty {
            Ty::Var(id) => match self.state(*id) {
                Some(VarState::Unbound {
                    constraint: Constraint::Any,
                    ..
                }) => *open = true,
                Some(VarState::Unbound { .. }) => self.bind(*id, Ty::Int),
                _ => {}
            },
            Ty::Optional(inner) | Ty::List(inner) => self.default_in(inner, open),
            Ty::Map(a, b) | Ty::Result(a, b) => {
                self.default_in(a, open);
                self.default_in(b, open);
            }
            Ty::Tuple(items) => items.iter().for_each(|t| self.default_in(t, open)),
            Ty::Record(fields) => fields.iter().for_each(|(_, t)| self.default_in(t, open)),
            Ty::Fn(func) => {
                self.default_in(&func.ret, open);
                func.params
                    .iter()
                    .for_each(|p| self.default_in(&p.ty, open));
            }
            _ => {}
        }
    }

    /// Turns the variables of `ty` created deeper than `level` into generic parameters.
    pub fn generalize(&self, ty: &Ty, level: u32) -> Scheme {
        let resolved = self.resolve(ty);
        let mut found: Vec<(VarId, Constraint)> = Vec::new();
        self.collect_general(&resolved, level, &mut found);
        let generic = self.replace_vars(&resolved, &found);
        Scheme {
            params: found.iter().map(|(_, c)| *c).collect(),
            param_names: Vec::new(),
            ty: generic,
        }
    }

    fn collect_general(&self, ty: &Ty, level: u32, found: &mut Vec<(VarId, Constraint)>) {
        match ty {
            Ty::Var(id) => {
                if let Some(VarState::Unbound {
                    constraint,
                    level: var_level,
                }) = self.state(*id)
                {
                    if *var_level > level && !found.iter().any(|(v, _)| v == id) {
                        found.push((*id, *constraint));
                    }
                }
            }
            Ty::Optional(inner) | Ty::List(inner) => self.collect_general(inner, level, found),
            Ty::Map(a, b) | Ty::Result(a, b) => {
                self.collect_general(a, level, found);
                self.collect_general(b, level, found);
            }
            Ty::Tuple(items) => items
                .iter()
                .for_each(|t| self.collect_general(t, level, found)),
            Ty::Record(fields) => fields
                .iter()
                .for_each(|(_, t)| self.collect_general(t, level, found)),
            Ty::Fn(func) => {
                func.params
                    .iter()
                    .for_each(|p| self.collect_general(&p.ty, level, found));
                self.collect_general(&func.ret, level, found);
            }
            _ => {}
        }
    }

    fn replace_vars(&self, ty: &Ty, found: &[(VarId, Constraint)]) -> Ty {
        map_ty(ty, &mut |t| match t {
            Ty::Var(id) => found
                .iter()
                .position(|(v, _)| v == id)
                .map(|idx| Ty::Param(idx as u32)),
            _ => None,
        })
    }

    /// A fresh copy of a scheme's type, each generic parameter a new variable.
    pub fn instantiate(&mut self, scheme: &Scheme, level: u32) -> Ty {
        if scheme.params.is_empty() {
            return scheme.ty.clone();
        }
        let fresh: Vec<Ty> = scheme
            .params
            .iter()
            .map(|c| self.fresh(*c, level))
            .collect();
        map_ty(&scheme.ty, &mut |t| match t {
            Ty::Param(idx) => fresh.get(*idx as usize).cloned(),
            _ => None,
        })
    }
}

/// Rebuilds a type bottom-up, replacing the nodes for which `f` gives a type.
pub fn map_ty(ty: &Ty, f: &mut impl FnMut(&Ty) -> Option<Ty>) -> Ty {
    if let Some(replaced) = f(ty) {
        return replaced;
    }
    match ty {
        Ty::Optional(inner) => Ty::optional(map_ty(inner, f)),
        Ty::List(inner) => Ty::list(map_ty(inner, f)),
        Ty::Map(a, b) => Ty::map(map_ty(a, f), map_ty(b, f)),
        Ty::Result(a, b) => Ty::result(map_ty(a, f), map_ty(b, f)),
        Ty::Tuple(items) => Ty::Tuple(items.iter().map(|t| map_ty(t, f)).collect()),
        Ty::Record(fields) => Ty::Record(fields.iter().map(|(n, t)| (*n, map_ty(t, f))).collect()),
        Ty::Fn(func) => Ty::Fn(Box::new(FnTy {
            params: func
                .params
                .iter()
                .map(|p| ParamTy {
                    name: p.name,
                    ty: map_ty(&p.ty, f),
                    has_default: p.has_default,
                })
                .collect(),
            ret: map_ty(&func.ret, f),
        })),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_widens_to_number_only_where_expected() {
        let mut subst = Subst::default();
        assert!(subst.coerce(&Ty::Number, &Ty::Int).is_ok());
        assert!(subst.unify(&Ty::Number, &Ty::Int).is_err());
        assert_eq!(subst.join(&Ty::Int, &Ty::Number), Some(Ty::Number));
    }

    #[test]
    fn numeric_variables_default_to_int() {
        let mut subst = Subst::default();
        let var = subst.fresh(Constraint::Numeric, 1);
        assert!(subst.unify(&var, &Ty::Text).is_err());
        assert!(!subst.default_numeric(&var));
        assert_eq!(subst.resolve(&var), Ty::Int);
    }

    #[test]
    fn generalized_schemes_instantiate_fresh() {
        let mut subst = Subst::default();
        let a = subst.fresh(Constraint::Any, 2);
        let identity = Ty::func(vec![a.clone()], a);
        let scheme = subst.generalize(&identity, 1);
        assert_eq!(scheme.params.len(), 1);
        let first = subst.instantiate(&scheme, 1);
        let second = subst.instantiate(&scheme, 1);
        if let (Ty::Fn(f), Ty::Fn(g)) = (&first, &second) {
            assert!(subst.unify(&f.ret, &Ty::Int).is_ok());
            assert!(subst.unify(&g.ret, &Ty::Text).is_ok());
        }
    }

    #[test]
    fn none_joins_into_an_optional() {
        let mut subst = Subst::default();
        assert_eq!(
            subst.join(&Ty::None, &Ty::Text),
            Some(Ty::optional(Ty::Text))
        );
        assert!(subst.coerce(&Ty::optional(Ty::Int), &Ty::Int).is_ok());
        assert!(subst.coerce(&Ty::Int, &Ty::optional(Ty::Int)).is_err());
    }
}
