//! Operations on values by their tags: equality (structural, language.md §4), ordering,
//! and arithmetic over ints, numbers, money, durations and times (§3, §14). The typed
//! opcodes take fast paths; everything else comes here.

use std::cmp::Ordering;
use std::rc::Rc;

use crate::display::display;
use crate::error::RuntimeError;
use crate::value::{Money, Value};

/// `==`: structural on values; `none` equals only `none`.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Cell(cell), other) | (other, Value::Cell(cell)) => equal(&cell.borrow(), other),
        (Value::None | Value::Absent, other) | (other, Value::None | Value::Absent) => {
            other.is_none()
        }
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::Int(x), Value::Number(y)) | (Value::Number(y), Value::Int(x)) => (*x as f64) == *y,
        (Value::Money(x), Value::Money(y)) => x == y,
        (Value::Duration(x), Value::Duration(y)) | (Value::Time(x), Value::Time(y)) => x == y,
        (Value::Text(x), Value::Text(y)) => Rc::ptr_eq(x, y) || x.as_str() == y.as_str(),
        (Value::List(x), Value::List(y)) => {
            std::rc::Rc::ptr_eq(x, y) || {
                let (x, y) = (x.borrow(), y.borrow());
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| equal(a, b))
            }
        }
        (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| equal(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            std::rc::Rc::ptr_eq(x, y) || {
                let (x, y) = (x.borrow(), y.borrow());
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
            }
        }
        (Value::Entity(x), Value::Entity(y)) => crate::entity::equal(x, y),
        (Value::Record(x), Value::Record(y)) => {
            x.shape.len() == y.shape.len()
                && x.shape
                    .iter()
                    .all(|name| match (x.get(*name), y.get(*name)) {
                        (Some(a), Some(b)) => equal(&a, &b),
                        _ => false,
                    })
        }
        (Value::Enum(x), Value::Enum(y)) => {
            x.enum_name == y.enum_name
                && x.variant == y.variant
                && x.payload.len() == y.payload.len()
                && x.payload.iter().zip(&y.payload).all(|(a, b)| equal(a, b))
        }
        (Value::Func(x), Value::Func(y)) => std::rc::Rc::ptr_eq(x, y),
        (Value::Error(x), Value::Error(y)) => x == y,
        (Value::Json(x), Value::Json(y)) => x == y,
        (Value::Json(json), other) | (other, Value::Json(json)) => json_equals(json, other),
        _ => false,
    }
}

fn json_equals(json: &serde_json::Value, other: &Value) -> bool {
    match (json, other) {
        (serde_json::Value::String(s), Value::Text(t)) => s.as_str() == t.as_str(),
        (serde_json::Value::Bool(b), Value::Bool(c)) => b == c,
        (serde_json::Value::Number(n), Value::Int(i)) => n.as_i64() == Some(*i),
        (serde_json::Value::Number(n), Value::Number(x)) => n.as_f64() == Some(*x),
        (serde_json::Value::Null, other) => other.is_none(),
        _ => false,
    }
}

/// The order of two values for `<` and sorting: numbers (an int and a number compare by
/// value), texts by Unicode scalar values, money of one currency, durations, times.
pub fn compare(a: &Value, b: &Value) -> Result<Ordering, RuntimeError> {
    let unordered = || {
        RuntimeError::type_error(format!(
            "cannot compare {} with {}",
            a.type_name(),
            b.type_name()
        ))
    };
    Ok(match (a, b) {
        (Value::Cell(cell), other) => return compare(&cell.borrow(), other),
        (other, Value::Cell(cell)) => return compare(other, &cell.borrow()),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Int(x), Value::Number(y)) => (*x as f64).partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Number(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)).unwrap_or(Ordering::Equal),
        (Value::Text(x), Value::Text(y)) => x.as_str().cmp(y.as_str()),
        (Value::Money(x), Value::Money(y)) => {
            same_currency(*x, *y)?;
            x.minor().cmp(&y.minor())
        }
        (Value::Duration(x), Value::Duration(y)) | (Value::Time(x), Value::Time(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Enum(x), Value::Enum(y)) if x.enum_name == y.enum_name => {
            x.variant.as_str().cmp(y.variant.as_str())
        }
        (Value::Tuple(x), Value::Tuple(y)) => {
            for (a, b) in x.iter().zip(y.iter()) {
                match compare(a, b)? {
                    Ordering::Equal => {}
                    other => return Ok(other),
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Json(json), other) => compare(&json_to_scalar(json).ok_or_else(unordered)?, other)?,
        (other, Value::Json(json)) => compare(other, &json_to_scalar(json).ok_or_else(unordered)?)?,
        (Value::None, _) | (_, Value::None) => {
            return Err(RuntimeError::none(
                "cannot compare `none`; a value is needed",
            ));
        }
        _ => return Err(unordered()),
    })
}

/// A json number, text or bool as a FLIN value.
pub fn json_to_scalar(json: &serde_json::Value) -> Option<Value> {
    match json {
        serde_json::Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        }),
        serde_json::Value::String(s) => Some(Value::text(s.as_str())),
        serde_json::Value::Bool(b) => Some(Value::Bool(*b)),
        serde_json::Value::Null => Some(Value::None),
        _ => None,
    }
}

fn same_currency(a: Money, b: Money) -> Result<(), RuntimeError> {
    if a.currency() == b.currency() {
        Ok(())
    } else {
        Err(RuntimeError::arithmetic(format!(
            "cannot mix currencies: {} and {}",
            a.code(),
            b.code()
        )))
    }
}

fn overflow(op: &str) -> RuntimeError {
    RuntimeError::arithmetic(format!("integer overflow in `{op}`"))
}

fn money(minor: i64, currency: u16) -> Result<Value, RuntimeError> {
    Money::new(minor, currency)
        .map(Value::Money)
        .ok_or_else(|| RuntimeError::arithmetic("money amount too large"))
}

/// Rounds half away from zero to an integer.
pub fn round_half_away(x: f64) -> f64 {
    x.round()
}

fn scale_money(m: Money, factor: f64, divide: bool) -> Result<Value, RuntimeError> {
    if divide && factor == 0.0 {
        return Err(RuntimeError::arithmetic("division by zero"));
    }
    let exact = if divide {
        m.minor() as f64 / factor
    } else {
        m.minor() as f64 * factor
    };
    if !exact.is_finite() || exact.abs() > Money::MAX_MINOR as f64 {
        return Err(RuntimeError::arithmetic("money amount too large"));
    }
    money(round_half_away(exact) as i64, m.currency())
}

fn scale_duration(d: i64, factor: f64, divide: bool) -> Result<Value, RuntimeError> {
    if divide && factor == 0.0 {
        return Err(RuntimeError::arithmetic("division by zero"));
    }
    let exact = if divide {
        d as f64 / factor
    } else {
        d as f64 * factor
    };
    if !exact.is_finite() || exact.abs() > 9.2e18 {
        return Err(RuntimeError::arithmetic("duration too long"));
    }
    Ok(Value::Duration(round_half_away(exact) as i64))
}

fn as_factor(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

fn none_operand(op: &str) -> RuntimeError {
    RuntimeError::none(format!("`{op}` on `none`: a value is needed"))
}

fn bad_operands(op: &str, a: &Value, b: &Value) -> RuntimeError {
    RuntimeError::type_error(format!(
        "`{op}` cannot combine {} and {}",
        a.type_name(),
        b.type_name()
    ))
}

/// Unwraps cells and json scalars so the arithmetic below sees plain values.
fn plain(v: &Value) -> Value {
    match v {
        Value::Cell(cell) => plain(&cell.borrow()),
        Value::Json(json) => json_to_scalar(json).unwrap_or_else(|| v.clone()),
        other => other.clone(),
    }
}

pub fn add(a: &Value, b: &Value) -> Result<Value, RuntimeError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x
            .checked_add(*y)
            .map(Value::Int)
            .ok_or_else(|| overflow("+")),
        (Value::Number(x), Value::Number(y)) => Ok(Value::Number(x + y)),
        (Value::Text(x), other) => Ok(Value::text(format!("{}{}", x.as_str(), display(other)))),
        (other, Value::Text(y)) => Ok(Value::text(format!("{}{}", display(other), y.as_str()))),
        (Value::Int(x), Value::Number(y)) | (Value::Number(y), Value::Int(x)) => {
            Ok(Value::Number(*x as f64 + y))
        }
        (Value::Money(x), Value::Money(y)) => {
            same_currency(*x, *y)?;
            money(
                x.minor()
                    .checked_add(y.minor())
                    .ok_or_else(|| overflow("+"))?,
                x.currency(),
            )
        }
        (Value::Duration(x), Value::Duration(y)) => x
            .checked_add(*y)
            .map(Value::Duration)
            .ok_or_else(|| overflow("+")),
        (Value::Time(t), Value::Duration(d)) | (Value::Duration(d), Value::Time(t)) => t
            .checked_add(*d)
            .map(Value::Time)
            .ok_or_else(|| overflow("+")),
        (Value::Cell(_) | Value::Json(_), _) | (_, Value::Cell(_) | Value::Json(_)) => {
            add(&plain(a), &plain(b))
        }
        (Value::None, _) | (_, Value::None) => Err(none_operand("+")),
        _ => Err(bad_operands("+", a, b)),
    }
}

pub fn sub(a: &Value, b: &Value) -> Result<Value, RuntimeError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x
            .checked_sub(*y)
            .map(Value::Int)
            .ok_or_else(|| overflow("-")),
        (Value::Number(x), Value::Number(y)) => Ok(Value::Number(x - y)),
        (Value::Int(x), Value::Number(y)) => Ok(Value::Number(*x as f64 - y)),
        (Value::Number(x), Value::Int(y)) => Ok(Value::Number(x - *y as f64)),
        (Value::Money(x), Value::Money(y)) => {
            same_currency(*x, *y)?;
            money(
                x.minor()
                    .checked_sub(y.minor())
                    .ok_or_else(|| overflow("-"))?,
                x.currency(),
            )
        }
        (Value::Duration(x), Value::Duration(y)) => x
            .checked_sub(*y)
            .map(Value::Duration)
            .ok_or_else(|| overflow("-")),
        (Value::Time(t), Value::Duration(d)) => t
            .checked_sub(*d)
            .map(Value::Time)
            .ok_or_else(|| overflow("-")),
        (Value::Time(x), Value::Time(y)) => x
            .checked_sub(*y)
            .map(Value::Duration)
            .ok_or_else(|| overflow("-")),
        (Value::Cell(_) | Value::Json(_), _) | (_, Value::Cell(_) | Value::Json(_)) => {
            sub(&plain(a), &plain(b))
        }
        (Value::None, _) | (_, Value::None) => Err(none_operand("-")),
        _ => Err(bad_operands("-", a, b)),
    }
}

pub fn mul(a: &Value, b: &Value) -> Result<Value, RuntimeError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x
            .checked_mul(*y)
            .map(Value::Int)
            .ok_or_else(|| overflow("*")),
        (Value::Number(x), Value::Number(y)) => Ok(Value::Number(x * y)),
        (Value::Int(x), Value::Number(y)) | (Value::Number(y), Value::Int(x)) => {
            Ok(Value::Number(*x as f64 * y))
        }
        (Value::Money(m), n) | (n, Value::Money(m)) if as_factor(n).is_some() => {
            scale_money(*m, as_factor(n).unwrap_or(1.0), false)
        }
        (Value::Duration(d), n) | (n, Value::Duration(d)) if as_factor(n).is_some() => {
            scale_duration(*d, as_factor(n).unwrap_or(1.0), false)
        }
        (Value::Cell(_) | Value::Json(_), _) | (_, Value::Cell(_) | Value::Json(_)) => {
            mul(&plain(a), &plain(b))
        }
        (Value::None, _) | (_, Value::None) => Err(none_operand("*")),
        _ => Err(bad_operands("*", a, b)),
    }
}

pub fn div(a: &Value, b: &Value) -> Result<Value, RuntimeError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            if *y == 0 {
                return Err(RuntimeError::arithmetic("division by zero"));
            }
            x.checked_div(*y)
                .map(Value::Int)
                .ok_or_else(|| overflow("/"))
        }
        (Value::Number(x), Value::Number(y)) => Ok(Value::Number(x / y)),
        (Value::Int(x), Value::Number(y)) => Ok(Value::Number(*x as f64 / y)),
        (Value::Number(x), Value::Int(y)) => Ok(Value::Number(x / *y as f64)),
        (Value::Money(x), Value::Money(y)) => {
            same_currency(*x, *y)?;
            if y.minor() == 0 {
                return Err(RuntimeError::arithmetic("division by zero"));
            }
            Ok(Value::Number(x.minor() as f64 / y.minor() as f64))
        }
        (Value::Money(m), n) if as_factor(n).is_some() => {
            scale_money(*m, as_factor(n).unwrap_or(1.0), true)
        }
        (Value::Duration(x), Value::Duration(y)) => {
            if *y == 0 {
                return Err(RuntimeError::arithmetic("division by zero"));
            }
            Ok(Value::Number(*x as f64 / *y as f64))
        }
        (Value::Duration(d), n) if as_factor(n).is_some() => {
            scale_duration(*d, as_factor(n).unwrap_or(1.0), true)
        }
        (Value::Cell(_) | Value::Json(_), _) | (_, Value::Cell(_) | Value::Json(_)) => {
            div(&plain(a), &plain(b))
        }
        (Value::None, _) | (_, Value::None) => Err(none_operand("/")),
        _ => Err(bad_operands("/", a, b)),
    }
}

pub fn rem(a: &Value, b: &Value) -> Result<Value, RuntimeError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            if *y == 0 {
                return Err(RuntimeError::arithmetic("division by zero"));
            }
            x.checked_rem(*y)
                .map(Value::Int)
                .ok_or_else(|| overflow("%"))
        }
        (Value::Number(x), Value::Number(y)) => Ok(Value::Number(x % y)),
        (Value::Int(x), Value::Number(y)) => Ok(Value::Number(*x as f64 % y)),
        (Value::Number(x), Value::Int(y)) => Ok(Value::Number(x % *y as f64)),
        (Value::Cell(_) | Value::Json(_), _) | (_, Value::Cell(_) | Value::Json(_)) => {
            rem(&plain(a), &plain(b))
        }
        (Value::None, _) | (_, Value::None) => Err(none_operand("%")),
        _ => Err(bad_operands("%", a, b)),
    }
}

pub fn neg(a: &Value) -> Result<Value, RuntimeError> {
    match a {
        Value::Int(x) => x.checked_neg().map(Value::Int).ok_or_else(|| overflow("-")),
        Value::Number(x) => Ok(Value::Number(-x)),
        Value::Money(m) => money(-m.minor(), m.currency()),
        Value::Duration(d) => d
            .checked_neg()
            .map(Value::Duration)
            .ok_or_else(|| overflow("-")),
        Value::Cell(_) | Value::Json(_) => neg(&plain(a)),
        Value::None => Err(none_operand("-")),
        other => Err(RuntimeError::type_error(format!(
            "cannot negate {}",
            other.type_name()
        ))),
    }
}

/// Whether a condition holds: `true`, or a present optional.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::None | Value::Absent => false,
        Value::Json(json) => !json.is_null() && json.as_bool() != Some(false),
        Value::Cell(cell) => truthy(&cell.borrow()),
        _ => true,
    }
}

/// `x in collection`.
pub fn contains(item: &Value, collection: &Value) -> Result<bool, RuntimeError> {
    Ok(match collection {
        Value::List(items) => items.borrow().iter().any(|x| equal(x, item)),
        Value::Map(entries) => entries
            .borrow()
            .contains_key(&crate::value::Key(item.clone())),
        Value::Text(text) => match item {
            Value::Text(part) => text.as_str().contains(part.as_str()),
            _ => false,
        },
        Value::Tuple(items) => items.iter().any(|x| equal(x, item)),
        Value::Json(json) => match json.as_ref() {
            serde_json::Value::Array(items) => items.iter().any(|x| json_equals(x, item)),
            serde_json::Value::Object(fields) => {
                matches!(item, Value::Text(t) if fields.contains_key(t.as_str()))
            }
            _ => false,
        },
        Value::Cell(cell) => return contains(item, &cell.borrow()),
        Value::None => return Err(RuntimeError::none("`in` on `none`: a list is needed")),
        other => {
            return Err(RuntimeError::type_error(format!(
                "cannot look inside {}",
                other.type_name()
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_arithmetic_follows_the_spec() {
        assert!(matches!(
            div(&Value::Int(-7), &Value::Int(2)),
            Ok(Value::Int(-3))
        ));
        assert!(matches!(
            rem(&Value::Int(-7), &Value::Int(2)),
            Ok(Value::Int(-1))
        ));
        assert_eq!(
            div(&Value::Int(1), &Value::Int(0)).err().map(|e| e.kind),
            Some("arithmetic")
        );
        assert_eq!(
            add(&Value::Int(i64::MAX), &Value::Int(1))
                .err()
                .map(|e| e.kind),
            Some("arithmetic")
        );
        assert!(
            matches!(div(&Value::Number(1.0), &Value::Number(0.0)), Ok(Value::Number(x)) if x.is_infinite())
        );
    }

    #[test]
    fn money_rounds_half_away_from_zero() {
        let eur = flin_syntax::currency::index_of("EUR").unwrap_or(0);
        let ten_cents = Value::Money(
            Money::new(5, eur).unwrap_or(Money::new(0, 0).unwrap_or_else(|| unreachable!())),
        );
        let half = mul(&ten_cents, &Value::Number(0.5));
        assert!(matches!(half, Ok(Value::Money(m)) if m.minor() == 3));
    }
}
