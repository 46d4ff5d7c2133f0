//! Query plans to SQL (data.md §4): one parameterized statement per query shape and
//! terminal, built once and prepared once per connection. Every condition runs in the
//! database; `none` never matches an ordering comparison and `==`/`!=` are null-safe.

use std::sync::Arc;

use flin_query::{
    ArithOp, CmpOp, Cond, Datum, Deleted, EntityDef, FieldType, Operand, QueryPlan, QueryShape,
    Terminal, TextMatch,
};
use rusqlite::types::Value as Sql;

use crate::columns::{self, currency_column, join_table, quote, select_list, table};
use crate::db::Db;
use crate::engine::Engine;
use crate::error::{Result, StoreError};
use crate::row::{QueryResult, Row};

impl Db<'_> {
    /// Runs a query plan and brings back what `terminal` asks for.
    pub fn query(&self, plan: &QueryPlan, terminal: &Terminal) -> Result<QueryResult> {
        let def = self.entity(&plan.shape.entity)?;
        let mut values: Vec<Sql> = plan.params.iter().map(columns::param).collect();
        // Then the currency of each money parameter (compared with money fields).
        values.resize(usize::from(plan.shape.n_params), Sql::Null);
        values.extend(plan.params.iter().map(|p| match p {
            Datum::Money { currency, .. } => Sql::Text(currency.to_string()),
            _ => Sql::Null,
        }));
        match terminal {
            Terminal::Rows => Ok(QueryResult::Rows(self.rows(
                def,
                &plan.shape,
                terminal,
                &values,
            )?)),
            Terminal::First => Ok(QueryResult::Row(
                self.rows(def, &plan.shape, terminal, &values)?
                    .into_iter()
                    .next(),
            )),
            Terminal::Last => {
                let windowed = plan.shape.limit.is_some() || plan.shape.offset.is_some();
                let rows = if windowed {
                    self.rows(def, &plan.shape, &Terminal::Rows, &values)?
                } else {
                    self.rows(def, &plan.shape, terminal, &values)?
                };
                Ok(QueryResult::Row(rows.into_iter().last()))
            }
            Terminal::GroupRows(field) => {
                let index = field_index(def, field)?;
                let rows = self.rows(def, &plan.shape, &Terminal::Rows, &values)?;
                let mut groups: Vec<(Datum, Vec<Row>)> = Vec::new();
                for row in rows {
                    let key = row.fields.get(index).cloned().unwrap_or(Datum::None);
                    match groups.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, rows)) => rows.push(row),
                        None => groups.push((key, vec![row])),
                    }
                }
                sort_groups(def, field, &mut groups);
                Ok(QueryResult::GroupRows(groups))
            }
            _ => self.aggregate(def, &plan.shape, terminal, &values),
        }
    }

    /// The ids of the live rows a query's conditions select (a search's `where`),
    /// whatever its order or window.
    pub(crate) fn filter_ids(&self, plan: &QueryPlan) -> Result<std::collections::HashSet<i64>> {
        let def = self.entity(&plan.shape.entity)?;
        let mut values: Vec<Sql> = plan.params.iter().map(columns::param).collect();
        values.resize(usize::from(plan.shape.n_params), Sql::Null);
        values.extend(plan.params.iter().map(|p| match p {
            Datum::Money { currency, .. } => Sql::Text(currency.to_string()),
            _ => Sql::Null,
        }));
        let mut conditions = vec!["t.\"deleted_at\" IS NULL".to_string()];
        let engine = self.engine();
        for cond in &plan.shape.filter {
            conditions.push(condition(engine, def, cond, plan.shape.n_params)?);
        }
        let sql = format!(
            "SELECT t.\"id\" FROM {} AS t WHERE {}",
            table(&def.name),
            conditions.join(" AND ")
        );
        self.store.count_statement();
        let mut ids = std::collections::HashSet::new();
        self.conn.each(&sql, values.as_slice(), |row| {
            ids.insert(row.get::<i64>(0)?);
            Ok(())
        })?;
        Ok(ids)
    }

    fn sql_for(
        &self,
        def: &EntityDef,
        shape: &QueryShape,
        terminal: &Terminal,
    ) -> Result<Arc<str>> {
        // Looked up by reference: a query that ran before costs no allocation here.
        if let Ok(cache) = self.store.sql.lock() {
            if let Some(sql) = cache
                .get(shape)
                .and_then(|by_terminal| by_terminal.get(terminal))
            {
                return Ok(sql.clone());
            }
        }
        let sql: Arc<str> = build(self.engine(), def, shape, terminal)?.into();
        // A shape that filters and orders wants an index on both (auto_index.rs).
        if let Some(index) = crate::auto_index::wanted(def, shape) {
            self.store.want_index(index);
        }
        if let Ok(mut cache) = self.store.sql.lock() {
            cache
                .entry(shape.clone())
                .or_default()
                .insert(terminal.clone(), sql.clone());
        }
        Ok(sql)
    }

    fn rows(
        &self,
        def: &EntityDef,
        shape: &QueryShape,
        terminal: &Terminal,
        values: &[Sql],
    ) -> Result<Vec<Row>> {
        let sql = self.sql_for(def, shape, terminal)?;
        self.select_rows(def, &sql, values)
    }

    fn aggregate(
        &self,
        def: &EntityDef,
        shape: &QueryShape,
        terminal: &Terminal,
        values: &[Sql],
    ) -> Result<QueryResult> {
        let sql = self.sql_for(def, shape, terminal)?;
        self.store.count_statement();
        match terminal {
            Terminal::Count => {
                let n = self.conn.query_opt(&sql, values, |row| row.get::<i64>(0))?;
                Ok(QueryResult::Count(n.unwrap_or(0)))
            }
            Terminal::Exists => {
                let n = self.conn.query_opt(&sql, values, |row| row.get::<i64>(0))?;
                Ok(QueryResult::Exists(n.unwrap_or(0) != 0))
            }
            Terminal::GroupCount(field) => {
                let ty = field_type(def, field)?;
                let mut groups = self.conn.query_map(&sql, values, |row| {
                    let refs = [row.get_ref(0)?, row.get_ref(1)?];
                    let (key, _) = columns::from_sql(&ty, &refs);
                    Ok((key, row.get::<i64>(2)?))
                })?;
                sort_counts(def, field, &mut groups);
                Ok(QueryResult::Groups(groups))
            }
            Terminal::Sum(field)
            | Terminal::Avg(field)
            | Terminal::Min(field)
            | Terminal::Max(field) => {
                let ty = field_type(def, field)?;
                let value = self.conn.query_opt(&sql, values, |row| {
                    let refs = [row.get_ref(0)?, row.get_ref(1)?];
                    Ok(aggregate_value(terminal, &ty, &refs))
                })?;
                Ok(QueryResult::Value(value.unwrap_or(Datum::None)))
            }
            Terminal::Rows | Terminal::First | Terminal::Last | Terminal::GroupRows(_) => {
                Err(StoreError::Database("internal: not an aggregate".into()))
            }
        }
    }
}

/// The value of `sum`, `avg`, `min` or `max` from its (value, currency) columns.
fn aggregate_value(
    terminal: &Terminal,
    ty: &FieldType,
    refs: &[rusqlite::types::ValueRef<'_>; 2],
) -> Datum {
    match terminal {
        Terminal::Avg(_) => match refs[0] {
            rusqlite::types::ValueRef::Real(n) => Datum::Number(n),
            rusqlite::types::ValueRef::Integer(i) => Datum::Number(i as f64),
            _ => Datum::None,
        },
        Terminal::Sum(_) => match (ty, columns::from_sql(ty, refs).0) {
            (FieldType::Int, Datum::None) => Datum::Int(0),
            (FieldType::Number, Datum::None) => Datum::Number(0.0),
            (FieldType::Duration, Datum::None) => Datum::Duration(0),
            (_, value) => value,
        },
        _ => columns::from_sql(ty, refs).0,
    }
}

fn field_index(def: &EntityDef, name: &str) -> Result<usize> {
    def.fields
        .iter()
        .position(|f| f.name == name)
        .ok_or_else(|| unknown_field(def, name))
}

fn field_type(def: &EntityDef, name: &str) -> Result<FieldType> {
    Ok(match name {
        "id" | "version" => FieldType::Int,
        "created_at" | "updated_at" | "deleted_at" => FieldType::Time,
        _ => def
            .field(name)
            .map(|f| f.ty.clone())
            .ok_or_else(|| unknown_field(def, name))?,
    })
}

fn unknown_field(def: &EntityDef, name: &str) -> StoreError {
    StoreError::Database(format!("{} has no field `{name}`", def.name))
}

/// Groups of an enum field come in declaration order of the variants; others by value.
fn group_rank(def: &EntityDef, field: &str, key: &Datum) -> (i64, String) {
    if let Some(FieldType::Enum { variants, .. }) = def.field(field).map(|f| &f.ty) {
        if let Datum::Enum(v) = key {
            let rank = variants
                .iter()
                .position(|x| x.as_str() == &**v)
                .unwrap_or(usize::MAX);
            return (rank as i64, String::new());
        }
    }
    match key {
        Datum::None => (i64::MIN, String::new()),
        Datum::Int(i) | Datum::Ref(i) | Datum::Time(i) | Datum::Duration(i) => (*i, String::new()),
        Datum::Bool(b) => (i64::from(*b), String::new()),
        Datum::Number(n) => (*n as i64, String::new()),
        Datum::Money { minor, .. } => (*minor, String::new()),
        Datum::Text(t) | Datum::Enum(t) => (0, t.to_string()),
        Datum::List(_) => (0, String::new()),
    }
}

fn sort_groups(def: &EntityDef, field: &str, groups: &mut [(Datum, Vec<Row>)]) {
    groups.sort_by_key(|(k, _)| group_rank(def, field, k));
}

fn sort_counts(def: &EntityDef, field: &str, groups: &mut [(Datum, i64)]) {
    groups.sort_by_key(|(k, _)| group_rank(def, field, k));
}

/// The SQL of a shape and terminal.
fn build(
    engine: Engine,
    def: &EntityDef,
    shape: &QueryShape,
    terminal: &Terminal,
) -> Result<String> {
    // SQLite's scalar `max`/`min` of two values are PostgreSQL's `greatest`/`least`.
    let (max, min) = match engine {
        Engine::Sqlite => ("max", "min"),
        Engine::Postgres => ("greatest", "least"),
    };
    let mut conditions = Vec::new();
    match shape.deleted {
        Deleted::Live => conditions.push("t.\"deleted_at\" IS NULL".to_string()),
        Deleted::Only => conditions.push("t.\"deleted_at\" IS NOT NULL".to_string()),
        Deleted::With => {}
    }
    for cond in &shape.filter {
        conditions.push(condition(engine, def, cond, shape.n_params)?);
    }
    let mut order = Vec::new();
    let reverse =
        matches!(terminal, Terminal::Last) && shape.limit.is_none() && shape.offset.is_none();
    for key in &shape.order {
        let column = order_column(def, &key.field)?;
        let descending = key.descending != reverse;
        order.push(format!(
            "{column} {}",
            if descending { "DESC" } else { "ASC" }
        ));
    }
    // Rows with equal keys come by id, in the direction of the last key: an index on
    // that key holds its rows in (key, id) order, so SQLite can read it in order
    // instead of sorting every matching row.
    let id_descending = shape.order.last().is_some_and(|k| k.descending) != reverse;
    order.push(format!(
        "t.\"id\" {}",
        if id_descending { "DESC" } else { "ASC" }
    ));
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let window = match (shape.limit, shape.offset) {
        (None, None) => String::new(),
        (Some(l), None) => format!(" LIMIT {max}(?{}, 0)", l.0 + 1),
        (None, Some(o)) => format!(" LIMIT -1 OFFSET {max}(?{}, 0)", o.0 + 1),
        (Some(l), Some(o)) => format!(
            " LIMIT {max}(?{}, 0) OFFSET {max}(?{}, 0)",
            l.0 + 1,
            o.0 + 1
        ),
    };
    let from = format!(
        "FROM {} AS t{filter} ORDER BY {}",
        table(&def.name),
        order.join(", ")
    );
    let rows = |extra: &str| format!("SELECT {} {from}{window}{extra}", select_list(def, "t"));
    Ok(match terminal {
        Terminal::Rows | Terminal::GroupRows(_) => rows(""),
        Terminal::First | Terminal::Last => match (shape.limit, shape.offset) {
            (None, None) => format!("SELECT {} {from} LIMIT 1", select_list(def, "t")),
            (Some(l), o) => format!(
                "SELECT {} {from} LIMIT {min}({max}(?{}, 0), 1){}",
                select_list(def, "t"),
                l.0 + 1,
                o.map_or(String::new(), |o| format!(" OFFSET {max}(?{}, 0)", o.0 + 1))
            ),
            (None, Some(o)) => format!(
                "SELECT {} {from} LIMIT 1 OFFSET {max}(?{}, 0)",
                select_list(def, "t"),
                o.0 + 1
            ),
        },
        Terminal::Count => {
            format!("SELECT count(*) FROM (SELECT t.\"id\" {from}{window}) AS q")
        }
        Terminal::Exists => format!("SELECT EXISTS (SELECT t.\"id\" {from}{window})"),
        Terminal::Sum(field)
        | Terminal::Avg(field)
        | Terminal::Min(field)
        | Terminal::Max(field) => {
            let (value, currency) = value_columns(def, field)?;
            let inner = format!("SELECT {value} AS v, {currency} AS c {from}{window}");
            let function = match terminal {
                Terminal::Sum(_) => "sum",
                Terminal::Avg(_) => "avg",
                Terminal::Min(_) => "min",
                _ => "max",
            };
            if function == "avg" && field_type(def, field)? == FieldType::Money {
                format!("SELECT avg(q.v), max(q.c) FROM ({inner}) AS q")
            } else {
                format!("SELECT {function}(q.v), max(q.c) FROM ({inner}) AS q")
            }
        }
        Terminal::GroupCount(field) => {
            let (value, currency) = value_columns(def, field)?;
            format!(
                "SELECT q.v, q.c, count(*) FROM (SELECT {value} AS v, {currency} AS c {from}{window}) AS q GROUP BY q.v, q.c"
            )
        }
    })
}

/// The column of a field's value and (money) of its currency, `NULL` otherwise.
fn value_columns(def: &EntityDef, field: &str) -> Result<(String, String)> {
    let ty = field_type(def, field)?;
    if matches!(ty, FieldType::RefList(_)) {
        return Err(StoreError::Database(format!(
            "`{field}` is a list of references: it has no single value to aggregate"
        )));
    }
    let value = format!("t.{}", quote(field));
    let currency = match ty {
        FieldType::Money => format!("t.{}", currency_column(field)),
        _ => "NULL".into(),
    };
    Ok((value, currency))
}

fn order_column(def: &EntityDef, field: &str) -> Result<String> {
    let ty = field_type(def, field)?;
    if ty.is_list() {
        return Err(StoreError::Database(format!(
            "cannot order by the list field `{field}`"
        )));
    }
    Ok(format!("t.{}", quote(field)))
}

fn param(p: flin_query::Param) -> String {
    format!("?{}", p.0 + 1)
}

fn operand(engine: Engine, def: &EntityDef, operand: &Operand) -> Result<String> {
    Ok(match operand {
        Operand::Field(name) => {
            field_type(def, name)?;
            format!("t.{}", quote(name))
        }
        Operand::Param(p) => param(*p),
        Operand::Lower(inner) => format!("lower({})", self::operand(engine, def, inner)?),
        Operand::Upper(inner) => format!("upper({})", self::operand(engine, def, inner)?),
        Operand::Neg(inner) => format!("(-{})", self::operand(engine, def, inner)?),
        Operand::Arith(op, l, r) => {
            let symbol = match op {
                ArithOp::Add => "+",
                ArithOp::Sub => "-",
                ArithOp::Mul => "*",
                ArithOp::Div => "/",
                ArithOp::Rem => "%",
            };
            let (l, r) = (
                self::operand(engine, def, l)?,
                self::operand(engine, def, r)?,
            );
            match (engine, op) {
                // SQLite's division by zero is NULL; PostgreSQL's an error.
                (Engine::Postgres, ArithOp::Div | ArithOp::Rem) => {
                    format!("({l} {symbol} NULLIF({r}, 0))")
                }
                _ => format!("({l} {symbol} {r})"),
            }
        }
    })
}

/// The currency column of a money field compared with a parameter, and the parameter.
fn money_compare(
    def: &EntityDef,
    left: &Operand,
    right: &Operand,
) -> Option<(String, flin_query::Param)> {
    let (field, p) = match (left, right) {
        (Operand::Field(f), Operand::Param(p)) | (Operand::Param(p), Operand::Field(f)) => (f, *p),
        _ => return None,
    };
    (def.field(field)?.ty == FieldType::Money).then(|| (format!("t.{}", currency_column(field)), p))
}

fn condition(engine: Engine, def: &EntityDef, cond: &Cond, n_params: u16) -> Result<String> {
    let operand = |o: &Operand| operand(engine, def, o);
    let condition = |c: &Cond| condition(engine, def, c, n_params);
    // An unknown (`NULL`) condition counts as false.
    let falsy = match engine {
        Engine::Sqlite => "0",
        Engine::Postgres => "false",
    };
    Ok(match cond {
        Cond::Is(o) => format!("coalesce({}, 0) <> 0", operand(o)?),
        Cond::Not(c) => format!("NOT coalesce(({}), {falsy})", condition(c)?),
        Cond::And(l, r) => format!("({} AND {})", condition(l)?, condition(r)?),
        Cond::Or(l, r) => format!(
            "(coalesce(({}), {falsy}) OR coalesce(({}), {falsy}))",
            condition(l)?,
            condition(r)?
        ),
        Cond::Compare(op, left, right) => {
            let (l, r) = (operand(left)?, operand(right)?);
            // A money field compared with a value: the currencies must agree too. The
            // value's currency is bound after the shape's parameters (see `query`).
            if let Some((column, p)) = money_compare(def, left, right) {
                let currency = format!("?{}", u32::from(n_params) + u32::from(p.0) + 1);
                return Ok(match op {
                    CmpOp::Eq => format!(
                        "({} AND {})",
                        same(engine, &l, &r),
                        same(engine, &column, &currency)
                    ),
                    CmpOp::NotEq => format!(
                        "({} OR {})",
                        differ(engine, &l, &r),
                        differ(engine, &column, &currency)
                    ),
                    CmpOp::Lt => format!("({l} < {r} AND {column} = {currency})"),
                    CmpOp::Le => format!("({l} <= {r} AND {column} = {currency})"),
                    CmpOp::Gt => format!("({l} > {r} AND {column} = {currency})"),
                    CmpOp::Ge => format!("({l} >= {r} AND {column} = {currency})"),
                });
            }
            match op {
                CmpOp::Eq => same(engine, &l, &r),
                CmpOp::NotEq => differ(engine, &l, &r),
                CmpOp::Lt => format!("{l} < {r}"),
                CmpOp::Le => format!("{l} <= {r}"),
                CmpOp::Gt => format!("{l} > {r}"),
                CmpOp::Ge => format!("{l} >= {r}"),
            }
        }
        Cond::IsNone {
            operand: o,
            negated,
        } => {
            let o = operand(o)?;
            if *negated {
                format!("{o} IS NOT NULL")
            } else {
                format!("{o} IS NULL")
            }
        }
        Cond::In(o, p) => match engine {
            Engine::Sqlite => format!(
                "{} IN (SELECT value FROM json_each({}))",
                operand(o)?,
                param(*p)
            ),
            Engine::Postgres => format!(
                "{} IN (SELECT value{} FROM json_array_elements_text({}::json) AS value)",
                operand(o)?,
                element_cast(def, o),
                param(*p)
            ),
        },
        Cond::Text(how, o, p) => {
            let (o, p) = (operand(o)?, param(*p));
            match (how, engine) {
                (TextMatch::Contains, _) => format!("instr({o}, {p}) > 0"),
                (TextMatch::StartsWith, _) => format!("substr({o}, 1, length({p})) = {p}"),
                (TextMatch::EndsWith, Engine::Sqlite) => {
                    format!("(length({p}) = 0 OR substr({o}, -length({p})) = {p})")
                }
                (TextMatch::EndsWith, Engine::Postgres) => {
                    format!("right({o}, length({p})) = {p}")
                }
            }
        }
        Cond::ListContains(field, p) => {
            let ty = field_type(def, field)?;
            match ty {
                FieldType::RefList(_) => format!(
                    "EXISTS (SELECT 1 FROM {} AS j WHERE j.\"owner\" = t.\"id\" AND j.\"target\" = {})",
                    join_table(&def.name, field),
                    param(*p)
                ),
                FieldType::List(_) => match engine {
                    Engine::Sqlite => format!(
                        "EXISTS (SELECT 1 FROM json_each(t.{}) WHERE value = {})",
                        quote(field),
                        param(*p)
                    ),
                    Engine::Postgres => format!(
                        "EXISTS (SELECT 1 FROM json_array_elements_text(t.{}::json) AS value WHERE value = {}::text)",
                        quote(field),
                        param(*p)
                    ),
                },
                _ => {
                    return Err(StoreError::Database(format!(
                        "`{field}` is not a list field"
                    )));
                }
            }
        }
    })
}

/// The cast that makes a JSON list's elements (texts, on PostgreSQL) comparable with an
/// operand.
fn element_cast(def: &EntityDef, operand: &Operand) -> &'static str {
    let Operand::Field(name) = operand else {
        return "";
    };
    match field_type(def, name) {
        Ok(
            FieldType::Int
            | FieldType::Bool
            | FieldType::Time
            | FieldType::Duration
            | FieldType::Money
            | FieldType::Ref(_),
        ) => "::bigint",
        Ok(FieldType::Number) => "::double precision",
        _ => "",
    }
}

/// `l == r` with `none` equal to `none`: SQLite's `IS`. PostgreSQL's `IS NOT DISTINCT
/// FROM` never uses an index, so there it is spelled with `=`, which does (a `NULL`
/// result, when one side is `none`, counts as false like the rest).
fn same(engine: Engine, l: &str, r: &str) -> String {
    match engine {
        Engine::Sqlite => format!("{l} IS {r}"),
        Engine::Postgres => format!("({l} = {r} OR ({l} IS NULL AND {r} IS NULL))"),
    }
}

/// `l != r`, the negation of [`same`].
fn differ(engine: Engine, l: &str, r: &str) -> String {
    match engine {
        Engine::Sqlite => format!("{l} IS NOT {r}"),
        Engine::Postgres => format!("({l} <> {r} OR ({l} IS NULL) <> ({r} IS NULL))"),
    }
}
