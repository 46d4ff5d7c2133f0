//! A stored row as plain data: the automatic fields and the declared ones.

use flin_query::Datum;

/// One version of one row of an entity.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub id: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    /// When this version became current and stopped being (history rows only).
    pub valid_from: Option<i64>,
    pub valid_to: Option<i64>,
    /// The declared fields, in declaration order: a reference is `Datum::Ref`, a
    /// `[Entity]` field a list of them.
    pub fields: Vec<Datum>,
}

/// What a query brings back (per [`flin_query::Terminal`]).
#[derive(Clone, Debug, PartialEq)]
pub enum QueryResult {
    Rows(Vec<Row>),
    Row(Option<Row>),
    Count(i64),
    Exists(bool),
    /// An aggregate: `none` when there were no rows (except `sum`).
    Value(Datum),
    /// `group_by(f).count`: each value of the field with its count.
    Groups(Vec<(Datum, i64)>),
    /// `group_by(f)`: each value of the field with its rows.
    GroupRows(Vec<(Datum, Vec<Row>)>),
}

/// Which version `e @ x` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    Version(i64),
    /// The version current at this instant (µs since the epoch).
    Time(i64),
}
