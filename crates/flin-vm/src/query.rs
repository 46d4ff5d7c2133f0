//! Queries in the VM: building a query value from its shape and parameters, and turning
//! it into the plain [`QueryPlan`] the host hands to the store.

use std::rc::Rc;
use std::sync::Arc;

use flin_query::{Datum, QueryPlan, QueryShape};

use crate::error::RuntimeError;
use crate::value::{QueryValue, Value};

/// A query of `shape` with `params`, or `base` followed by it.
pub fn build(
    base: Option<&Value>,
    shape: &Arc<QueryShape>,
    params: Vec<Value>,
) -> Result<Value, RuntimeError> {
    let value = match base {
        None => QueryValue {
            shape: shape.clone(),
            params,
            rows: std::cell::RefCell::new(None),
        },
        Some(Value::Query(base)) => {
            let mut all = base.params.clone();
            all.extend(params);
            QueryValue {
                shape: Arc::new(base.shape.then(shape)),
                params: all,
                rows: std::cell::RefCell::new(None),
            }
        }
        Some(other) => {
            return Err(RuntimeError::type_error(format!(
                "a query step applied to a {}",
                other.type_name()
            )));
        }
    };
    Ok(Value::Query(Rc::new(value)))
}

/// The plan of a query value: its shape and its parameters as plain data.
pub fn plan(query: &QueryValue) -> Result<QueryPlan, RuntimeError> {
    let params = query
        .params
        .iter()
        .map(datum)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryPlan {
        shape: query.shape.clone(),
        params,
    })
}

/// A value as a query parameter.
pub fn datum(value: &Value) -> Result<Datum, RuntimeError> {
    Ok(match value {
        Value::None | Value::Absent => Datum::None,
        Value::Bool(b) => Datum::Bool(*b),
        Value::Int(i) => Datum::Int(*i),
        Value::Number(n) => Datum::Number(*n),
        Value::Money(m) => Datum::Money {
            minor: m.minor(),
            currency: m.code().into(),
        },
        Value::Duration(d) => Datum::Duration(*d),
        Value::Time(t) => Datum::Time(*t),
        Value::Text(t) => Datum::Text(t.as_str().into()),
        // A file is stored as its parts in JSON (services.md §2).
        Value::Record(_) if crate::file::parts(value).is_some() => {
            match crate::file::parts(value) {
                Some(file) => Datum::Text(file.to_json().to_string().into()),
                None => Datum::None,
            }
        }
        Value::Enum(e) if e.payload.is_empty() => Datum::Enum(e.variant.as_str().into()),
        Value::List(items) => Datum::List(
            items
                .borrow()
                .iter()
                .map(datum)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Value::Cell(cell) => datum(&cell.borrow())?,
        Value::Entity(entity) => match entity.id() {
            Some(id) => Datum::Ref(id),
            None => {
                return Err(RuntimeError::type_error(format!(
                    "{} is not saved yet: save it before using it in a query",
                    crate::entity::display(entity)
                )));
            }
        },
        Value::Json(json) => match &**json {
            serde_json::Value::Null => Datum::None,
            serde_json::Value::Bool(b) => Datum::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Datum::Int(i),
                None => Datum::Number(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Datum::Text(s.as_str().into()),
            _ => return Err(cannot_compare("a json object or array")),
        },
        other => return Err(cannot_compare(other.type_name())),
    })
}

fn cannot_compare(what: &str) -> RuntimeError {
    RuntimeError::type_error(format!(
        "a {what} cannot be compared with a field in the database"
    ))
}
