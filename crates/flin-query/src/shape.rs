//! The shape of a query: conditions, order, paging and row selection, with numbered
//! parameters in place of values.

use std::sync::Arc;

use crate::Datum;

/// The index of a parameter: `$1` is `Param(0)`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Param(pub u16);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// `.contains`, `.starts_with`, `.ends_with` on a text field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TextMatch {
    Contains,
    StartsWith,
    EndsWith,
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Operand {
    /// A field of the entity (or `id`, `created_at` … ).
    Field(Box<str>),
    /// A value computed before the query.
    Param(Param),
    /// `field.lower`
    Lower(Box<Operand>),
    /// `field.upper`
    Upper(Box<Operand>),
    /// Arithmetic over fields and parameters (`pages * 2`).
    Arith(ArithOp, Box<Operand>, Box<Operand>),
    /// `-field`
    Neg(Box<Operand>),
}

/// A condition over the rows of one entity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Cond {
    /// A `bool` field or parameter on its own (`featured`, a flag computed before).
    Is(Operand),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    /// A comparison. A row whose field is missing (`none`) does not match an ordering
    /// comparison; `==`/`!=` with a parameter that is `none` test for a missing value.
    Compare(CmpOp, Operand, Operand),
    /// `field == none` (`negated`: `field != none`).
    IsNone {
        operand: Operand,
        negated: bool,
    },
    /// `field in list` (a list parameter).
    In(Operand, Param),
    /// `title.contains(word)` …: case-sensitive, the pattern a parameter.
    Text(TextMatch, Operand, Param),
    /// `tags.contains(t)`: membership in a list field (many-to-many or stored list).
    ListContains(Box<str>, Param),
}

/// One `order(field, "asc" | "desc")`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct OrderKey {
    pub field: Box<str>,
    pub descending: bool,
}

/// Which rows a query sees (data.md §3).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Deleted {
    /// Live rows only (the default).
    #[default]
    Live,
    /// `.with_deleted`: live and soft-deleted rows.
    With,
    /// `.only_deleted`
    Only,
}

/// Everything about a query but its parameter values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct QueryShape {
    pub entity: Box<str>,
    /// Every `where`, in order; they all hold (a chained `where` is AND).
    pub filter: Vec<Cond>,
    /// `order` calls, the first the main key, later ones tie-breaks. Rows with equal
    /// keys come by id, in the direction of the last key.
    pub order: Vec<OrderKey>,
    pub limit: Option<Param>,
    pub offset: Option<Param>,
    pub deleted: Deleted,
    /// References to load with the rows (`.with(author)`).
    pub with: Vec<Box<str>>,
    /// How many parameters the shape takes: `$1 …$n`.
    pub n_params: u16,
}

impl QueryShape {
    /// All live rows of `entity`, by id.
    pub fn all(entity: impl Into<Box<str>>) -> QueryShape {
        QueryShape {
            entity: entity.into(),
            ..QueryShape::default()
        }
    }

    /// A new parameter.
    pub fn param(&mut self) -> Param {
        let param = Param(self.n_params);
        self.n_params = self.n_params.saturating_add(1);
        param
    }

    /// This query followed by the steps of `later` (a query of the same entity built
    /// elsewhere: `q.where(…)` on a query value): conditions add up, orders append as
    /// tie-breaks, a later `limit`/`offset`/row selection replaces an earlier one.
    /// `later`'s parameters come after this one's.
    pub fn then(&self, later: &QueryShape) -> QueryShape {
        let shift = self.n_params;
        let mut shape = self.clone();
        shape
            .filter
            .extend(later.filter.iter().map(|cond| cond.shifted(shift)));
        shape.order.extend(later.order.iter().cloned());
        if let Some(limit) = later.limit {
            shape.limit = Some(limit.shifted(shift));
        }
        if let Some(offset) = later.offset {
            shape.offset = Some(offset.shifted(shift));
        }
        if later.deleted != Deleted::Live {
            shape.deleted = later.deleted;
        }
        for field in &later.with {
            if !shape.with.contains(field) {
                shape.with.push(field.clone());
            }
        }
        shape.n_params = shift.saturating_add(later.n_params);
        shape
    }
}

impl Param {
    fn shifted(self, by: u16) -> Param {
        Param(self.0.saturating_add(by))
    }
}

impl Operand {
    fn shifted(&self, by: u16) -> Operand {
        match self {
            Operand::Field(name) => Operand::Field(name.clone()),
            Operand::Param(p) => Operand::Param(p.shifted(by)),
            Operand::Lower(inner) => Operand::Lower(Box::new(inner.shifted(by))),
            Operand::Upper(inner) => Operand::Upper(Box::new(inner.shifted(by))),
            Operand::Arith(op, l, r) => {
                Operand::Arith(*op, Box::new(l.shifted(by)), Box::new(r.shifted(by)))
            }
            Operand::Neg(inner) => Operand::Neg(Box::new(inner.shifted(by))),
        }
    }
}

impl Cond {
    fn shifted(&self, by: u16) -> Cond {
        match self {
            Cond::Is(o) => Cond::Is(o.shifted(by)),
            Cond::Not(c) => Cond::Not(Box::new(c.shifted(by))),
            Cond::And(l, r) => Cond::And(Box::new(l.shifted(by)), Box::new(r.shifted(by))),
            Cond::Or(l, r) => Cond::Or(Box::new(l.shifted(by)), Box::new(r.shifted(by))),
            Cond::Compare(op, l, r) => Cond::Compare(*op, l.shifted(by), r.shifted(by)),
            Cond::IsNone { operand, negated } => Cond::IsNone {
                operand: operand.shifted(by),
                negated: *negated,
            },
            Cond::In(o, p) => Cond::In(o.shifted(by), p.shifted(by)),
            Cond::Text(how, o, p) => Cond::Text(*how, o.shifted(by), p.shifted(by)),
            Cond::ListContains(field, p) => Cond::ListContains(field.clone(), p.shifted(by)),
        }
    }
}

/// What a query brings back.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Terminal {
    /// The rows (a query used as a list).
    Rows,
    Count,
    Exists,
    First,
    Last,
    Sum(Box<str>),
    Avg(Box<str>),
    Min(Box<str>),
    Max(Box<str>),
    /// `group_by(field).count`: how many rows per value of the field.
    GroupCount(Box<str>),
    /// `group_by(field)`: the rows per value of the field.
    GroupRows(Box<str>),
}

/// A query ready to run: its shape and its parameter values.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryPlan {
    pub shape: Arc<QueryShape>,
    pub params: Vec<Datum>,
}

/// How a search ranks (search.md §2): as its field says (keyword for `@search`,
/// hybrid for `semantic text`), or as `using` asks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SearchMode {
    Default,
    Keyword,
    Semantic,
    /// Hybrid with these keyword and semantic weights.
    Hybrid(f64, f64),
}
