//! The readable form of a plan, as `flin` shows it when explaining a query and as tests
//! state what a chain compiled to:
//!
//! ```text
//! Book where pages > $1 and title.lower contains $2 order by published desc limit $3
//! ```

use std::fmt::{self, Display, Formatter};

use crate::{
    ArithOp, CmpOp, Cond, Datum, Deleted, Operand, QueryPlan, QueryShape, Terminal, TextMatch,
};

impl Display for QueryShape {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.entity)?;
        match self.deleted {
            Deleted::Live => {}
            Deleted::With => f.write_str(" with deleted")?,
            Deleted::Only => f.write_str(" only deleted")?,
        }
        for (idx, cond) in self.filter.iter().enumerate() {
            f.write_str(if idx == 0 { " where " } else { " and " })?;
            // `and` binds tighter than `or`: an `or` among several conditions is grouped.
            if matches!(cond, Cond::Or(..)) && self.filter.len() > 1 {
                write!(f, "({cond})")?;
            } else {
                write!(f, "{cond}")?;
            }
        }
        for (idx, key) in self.order.iter().enumerate() {
            f.write_str(if idx == 0 { " order by " } else { ", " })?;
            f.write_str(&key.field)?;
            if key.descending {
                f.write_str(" desc")?;
            }
        }
        if let Some(limit) = self.limit {
            write!(f, " limit ${}", limit.0 + 1)?;
        }
        if let Some(offset) = self.offset {
            write!(f, " offset ${}", offset.0 + 1)?;
        }
        for (idx, field) in self.with.iter().enumerate() {
            f.write_str(if idx == 0 { " with " } else { ", " })?;
            f.write_str(field)?;
        }
        Ok(())
    }
}

/// Writes `cond`, wrapping it in parentheses when it is an `or`/`and` inside another.
fn grouped(f: &mut Formatter<'_>, cond: &Cond) -> fmt::Result {
    match cond {
        Cond::And(..) | Cond::Or(..) => write!(f, "({cond})"),
        _ => write!(f, "{cond}"),
    }
}

impl Display for Cond {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Cond::Is(operand) => write!(f, "{operand}"),
            Cond::Not(inner) => {
                f.write_str("not ")?;
                match **inner {
                    Cond::Is(_) => write!(f, "{inner}"),
                    _ => write!(f, "({inner})"),
                }
            }
            Cond::And(l, r) => {
                grouped_unless(f, l, is_and)?;
                f.write_str(" and ")?;
                grouped_unless(f, r, is_and)
            }
            Cond::Or(l, r) => {
                grouped_unless(f, l, is_or)?;
                f.write_str(" or ")?;
                grouped_unless(f, r, is_or)
            }
            Cond::Compare(op, l, r) => write!(f, "{l} {} {r}", cmp(*op)),
            Cond::IsNone { operand, negated } => {
                write!(f, "{operand} is {}none", if *negated { "not " } else { "" })
            }
            Cond::In(operand, list) => write!(f, "{operand} in ${}", list.0 + 1),
            Cond::Text(how, operand, pattern) => {
                let how = match how {
                    TextMatch::Contains => "contains",
                    TextMatch::StartsWith => "starts_with",
                    TextMatch::EndsWith => "ends_with",
                };
                write!(f, "{operand} {how} ${}", pattern.0 + 1)
            }
            Cond::ListContains(field, item) => write!(f, "{field} has ${}", item.0 + 1),
        }
    }
}

fn is_and(cond: &Cond) -> bool {
    matches!(cond, Cond::And(..))
}

fn is_or(cond: &Cond) -> bool {
    matches!(cond, Cond::Or(..))
}

/// A chain of the same connective needs no parentheses; a mix does.
fn grouped_unless(f: &mut Formatter<'_>, cond: &Cond, same: fn(&Cond) -> bool) -> fmt::Result {
    if same(cond) {
        write!(f, "{cond}")
    } else {
        grouped(f, cond)
    }
}

fn cmp(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::NotEq => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Field(name) => f.write_str(name),
            Operand::Param(p) => write!(f, "${}", p.0 + 1),
            Operand::Lower(inner) => write!(f, "{inner}.lower"),
            Operand::Upper(inner) => write!(f, "{inner}.upper"),
            Operand::Arith(op, l, r) => {
                let op = match op {
                    ArithOp::Add => "+",
                    ArithOp::Sub => "-",
                    ArithOp::Mul => "*",
                    ArithOp::Div => "/",
                    ArithOp::Rem => "%",
                };
                write!(f, "({l} {op} {r})")
            }
            Operand::Neg(inner) => write!(f, "-{inner}"),
        }
    }
}

impl Display for Terminal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Terminal::Rows => f.write_str("rows"),
            Terminal::Count => f.write_str("count"),
            Terminal::Exists => f.write_str("exists"),
            Terminal::First => f.write_str("first"),
            Terminal::Last => f.write_str("last"),
            Terminal::Sum(field) => write!(f, "sum({field})"),
            Terminal::Avg(field) => write!(f, "avg({field})"),
            Terminal::Min(field) => write!(f, "min({field})"),
            Terminal::Max(field) => write!(f, "max({field})"),
            Terminal::GroupCount(field) => write!(f, "count by {field}"),
            Terminal::GroupRows(field) => write!(f, "rows by {field}"),
        }
    }
}

impl Display for Datum {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Datum::None => f.write_str("none"),
            Datum::Bool(b) => write!(f, "{b}"),
            Datum::Int(i) => write!(f, "{i}"),
            Datum::Number(n) => write!(f, "{n:?}"),
            Datum::Text(t) => write!(f, "{t:?}"),
            Datum::Money { minor, currency } => write!(f, "{minor} minor {currency}"),
            Datum::Time(micros) => write!(f, "time {micros}µs"),
            Datum::Duration(micros) => write!(f, "{micros}µs"),
            Datum::Enum(variant) => f.write_str(variant),
            Datum::Ref(id) => write!(f, "#{id}"),
            Datum::List(items) => {
                f.write_str("[")?;
                for (idx, item) in items.iter().enumerate() {
                    if idx > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl Display for QueryPlan {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.shape)?;
        for (idx, param) in self.params.iter().enumerate() {
            f.write_str(if idx == 0 { "; " } else { ", " })?;
            write!(f, "${} = {param}", idx + 1)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OrderKey, Param};

    fn field(name: &str) -> Operand {
        Operand::Field(name.into())
    }

    #[test]
    fn a_chained_query_reads_like_its_source() {
        let mut shape = QueryShape::all("Book");
        let p1 = shape.param();
        let p2 = shape.param();
        shape
            .filter
            .push(Cond::Compare(CmpOp::Gt, field("pages"), Operand::Param(p1)));
        shape.filter.push(Cond::Or(
            Box::new(Cond::Text(
                TextMatch::Contains,
                Operand::Lower(Box::new(field("title"))),
                p2,
            )),
            Box::new(Cond::IsNone {
                operand: field("published"),
                negated: false,
            }),
        ));
        shape.order.push(OrderKey {
            field: "published".into(),
            descending: true,
        });
        shape.limit = Some(shape.param());
        let plan = QueryPlan {
            shape: std::sync::Arc::new(shape),
            params: vec![Datum::Int(100), Datum::Text("ada".into()), Datum::Int(20)],
        };
        assert_eq!(
            plan.to_string(),
            "Book where pages > $1 and (title.lower contains $2 or published is none) order by published desc limit $3; $1 = 100, $2 = \"ada\", $3 = 20"
        );
    }

    #[test]
    fn then_renumbers_the_later_parameters() {
        let mut first = QueryShape::all("Book");
        let p = first.param();
        first
            .filter
            .push(Cond::Compare(CmpOp::Eq, field("status"), Operand::Param(p)));
        first.limit = Some(first.param());
        let mut later = QueryShape::all("Book");
        let q = later.param();
        later
            .filter
            .push(Cond::Compare(CmpOp::Ge, field("rating"), Operand::Param(q)));
        later.order.push(OrderKey {
            field: "title".into(),
            descending: false,
        });
        later.deleted = Deleted::With;
        let both = first.then(&later);
        assert_eq!(both.n_params, 3);
        assert_eq!(
            both.filter[1],
            Cond::Compare(CmpOp::Ge, field("rating"), Operand::Param(Param(2)))
        );
        assert_eq!(
            both.to_string(),
            "Book with deleted where status == $1 and rating >= $3 order by title limit $2"
        );
    }
}
