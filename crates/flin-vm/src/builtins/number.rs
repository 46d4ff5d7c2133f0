//! Int and number methods (language.md §12, §14). Rounding is half away from zero on
//! the exact value (`2.5.round == 3`, `(-2.5).round == -3`); `format(d)` prints exactly
//! `d` decimals with the same rounding.

use super::{Builtin, arg, int_arg, num_arg};
use crate::error::RuntimeError;
use crate::value::Value;

macro_rules! int {
    ($name:literal, $min:literal, $max:literal, $f:expr) => {
        Builtin {
            owner: "int",
            name: $name,
            min: $min,
            max: $max,
            func: $f,
        }
    };
}
macro_rules! num {
    ($name:literal, $min:literal, $max:literal, $f:expr) => {
        Builtin {
            owner: "number",
            name: $name,
            min: $min,
            max: $max,
            func: $f,
        }
    };
}

fn to_int(x: f64, what: &str) -> Result<Value, RuntimeError> {
    // i64::MIN is exactly representable; i64::MAX rounds up to 2^63, which is out.
    if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&x) {
        return Err(RuntimeError::arithmetic(format!(
            "{what} of {x} does not fit in an int"
        )));
    }
    Ok(Value::Int(x as i64))
}

pub fn builtins() -> Vec<Builtin> {
    vec![
        int!("abs", 1, 1, |_, a| int_arg(a, 0, "the int")?
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| RuntimeError::arithmetic(
                "integer overflow in `abs`"
            ))),
        int!("pow", 2, 2, |_, a| {
            let base = int_arg(a, 0, "the int")?;
            let exponent = int_arg(a, 1, "the exponent")?;
            if exponent < 0 {
                return Err(RuntimeError::arithmetic(
                    "an int raised to a negative power is not an int; use a number",
                ));
            }
            let exponent = u32::try_from(exponent)
                .map_err(|_| RuntimeError::arithmetic("integer overflow in `pow`"))?;
            base.checked_pow(exponent)
                .map(Value::Int)
                .ok_or_else(|| RuntimeError::arithmetic("integer overflow in `pow`"))
        }),
        int!("sqrt", 1, 1, |_, a| Ok(Value::Number(
            (int_arg(a, 0, "the int")? as f64).sqrt()
        ))),
        int!("min", 2, 2, |_, a| Ok(Value::Int(
            int_arg(a, 0, "the int")?.min(int_arg(a, 1, "the other")?)
        ))),
        int!("max", 2, 2, |_, a| Ok(Value::Int(
            int_arg(a, 0, "the int")?.max(int_arg(a, 1, "the other")?)
        ))),
        int!("clamp", 3, 3, |_, a| {
            let (x, low, high) = (
                int_arg(a, 0, "the int")?,
                int_arg(a, 1, "the low bound")?,
                int_arg(a, 2, "the high bound")?,
            );
            Ok(Value::Int(x.max(low).min(high.max(low))))
        }),
        int!("format", 2, 2, |_, a| Ok(Value::text(format_fixed(
            int_arg(a, 0, "the int")? as f64,
            int_arg(a, 1, "the decimals")?
        )))),
        int!("to_number", 1, 1, |_, a| Ok(Value::Number(
            int_arg(a, 0, "the int")? as f64
        ))),
        int!("round", 1, 1, |_, a| Ok(Value::Int(int_arg(
            a, 0, "the int"
        )?))),
        int!("floor", 1, 1, |_, a| Ok(Value::Int(int_arg(
            a, 0, "the int"
        )?))),
        int!("ceil", 1, 1, |_, a| Ok(Value::Int(int_arg(
            a, 0, "the int"
        )?))),
        num!("abs", 1, 1, |_, a| Ok(Value::Number(
            num_arg(a, 0, "the number")?.abs()
        ))),
        num!("round", 1, 2, |_, a| {
            let x = num_arg(a, 0, "the number")?;
            if a.len() == 1 {
                return to_int(x.round(), "rounding");
            }
            let decimals = int_arg(a, 1, "the decimals")?;
            Ok(Value::Number(
                format_fixed(x, decimals).parse().unwrap_or(x),
            ))
        }),
        num!("floor", 1, 1, |_, a| to_int(
            num_arg(a, 0, "the number")?.floor(),
            "the floor"
        )),
        num!("ceil", 1, 1, |_, a| to_int(
            num_arg(a, 0, "the number")?.ceil(),
            "the ceiling"
        )),
        num!("sqrt", 1, 1, |_, a| Ok(Value::Number(
            num_arg(a, 0, "the number")?.sqrt()
        ))),
        num!("pow", 2, 2, |_, a| Ok(Value::Number(
            num_arg(a, 0, "the number")?.powf(num_arg(a, 1, "the exponent")?)
        ))),
        num!("min", 2, 2, |_, a| Ok(Value::Number(
            num_arg(a, 0, "the number")?.min(num_arg(a, 1, "the other")?)
        ))),
        num!("max", 2, 2, |_, a| Ok(Value::Number(
            num_arg(a, 0, "the number")?.max(num_arg(a, 1, "the other")?)
        ))),
        num!("clamp", 3, 3, |_, a| {
            let (x, low, high) = (
                num_arg(a, 0, "the number")?,
                num_arg(a, 1, "the low bound")?,
                num_arg(a, 2, "the high bound")?,
            );
            Ok(Value::Number(x.max(low).min(high.max(low))))
        }),
        num!("format", 2, 2, |_, a| Ok(Value::text(format_fixed(
            num_arg(a, 0, "the number")?,
            int_arg(a, 1, "the decimals")?
        )))),
        num!("to_number", 1, 1, |_, a| Ok(arg(a, 0).clone())),
    ]
}

/// `x` with exactly `decimals` digits after the point, rounded half away from zero on
/// the exact binary value, without grouping.
pub fn format_fixed(x: f64, decimals: i64) -> String {
    let decimals = decimals.clamp(0, 30) as usize;
    if !x.is_finite() {
        let mut out = String::new();
        crate::display::write_number(&mut out, x);
        return out;
    }
    // Enough digits to see the one that decides the rounding.
    let wide = format!("{:.*}", decimals + 25, x.abs());
    let (whole, frac) = wide.split_once('.').unwrap_or((&wide, ""));
    let kept: String = frac.chars().take(decimals).collect();
    let decider = frac
        .chars()
        .nth(decimals)
        .and_then(|c| c.to_digit(10))
        .unwrap_or(0);
    let mut digits: Vec<u8> = whole
        .bytes()
        .chain(kept.bytes())
        .map(|b| b - b'0')
        .collect();
    if decider >= 5 {
        let mut idx = digits.len();
        loop {
            if idx == 0 {
                digits.insert(0, 1);
                break;
            }
            idx -= 1;
            if let Some(d) = digits.get_mut(idx) {
                if *d == 9 {
                    *d = 0;
                } else {
                    *d += 1;
                    break;
                }
            }
        }
    }
    let split = digits.len() - decimals;
    let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let (int_part, frac_part) = text.split_at(split);
    let negative = x < 0.0 && digits.iter().any(|d| *d != 0);
    let sign = if negative { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac_part}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_rounds_half_away_from_zero() {
        assert_eq!(format_fixed(2.5, 0), "3");
        assert_eq!(format_fixed(-2.5, 0), "-3");
        assert_eq!(format_fixed(0.125, 2), "0.13");
        assert_eq!(format_fixed(1.23456, 3), "1.235");
        assert_eq!(format_fixed(9.999, 2), "10.00");
        assert_eq!(format_fixed(5.0, 2), "5.00");
        assert_eq!(format_fixed(-0.001, 2), "0.00");
    }
}
