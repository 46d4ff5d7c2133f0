//! The display form of values (language.md §13): what `print`, interpolation and
//! `to_text` write. Texts show as themselves at the top level and quoted when nested.

use std::fmt::Write;

use chrono::{DateTime, Datelike, Timelike};

use crate::value::{Money, Value};

/// The top-level display form.
pub fn display(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, false);
    out
}

/// The nested display form (texts quoted), as inside a list.
pub fn display_nested(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, true);
    out
}

pub fn write_value(out: &mut String, value: &Value, nested: bool) {
    match value {
        Value::None | Value::Absent => out.push_str("none"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Number(n) => write_number(out, *n),
        Value::Money(m) => write_money(out, *m, false),
        Value::Duration(d) => write_duration(out, *d),
        Value::Time(t) => write_time(out, *t),
        Value::Text(text) => {
            if nested {
                write_quoted(out, text.as_str());
            } else {
                out.push_str(text.as_str());
            }
        }
        Value::List(items) => {
            out.push('[');
            write_items(out, &items.borrow());
            out.push(']');
        }
        Value::Tuple(items) => {
            out.push('(');
            write_items(out, items);
            out.push(')');
        }
        Value::Map(entries) => {
            out.push('{');
            for (idx, (key, value)) in entries.borrow().iter().enumerate() {
                if idx > 0 {
                    out.push_str(", ");
                }
                write_value(out, &key.0, true);
                out.push_str(": ");
                write_value(out, value, true);
            }
            out.push('}');
        }
        Value::Entity(entity) => out.push_str(&crate::entity::display(entity)),
        // A file shows as its name.
        Value::Record(_) if crate::file::parts(value).is_some() => {
            if let Some(file) = crate::file::parts(value) {
                out.push_str(&file.name);
            }
        }
        Value::Record(record) => {
            out.push('{');
            for (idx, (name, value)) in record
                .shape
                .iter()
                .zip(record.values.borrow().iter())
                .enumerate()
            {
                if idx > 0 {
                    out.push_str(", ");
                }
                out.push_str(name.as_str());
                out.push_str(": ");
                write_value(out, value, true);
            }
            out.push('}');
        }
        Value::Enum(value) => {
            if value.enum_name.as_str() != "Result" {
                out.push_str(value.enum_name.as_str());
                out.push('.');
            }
            out.push_str(value.variant.as_str());
            if !value.payload.is_empty() {
                out.push('(');
                write_items(out, &value.payload);
                out.push(')');
            }
        }
        Value::Func(closure) => match closure.function.name() {
            Some(name) => {
                let _ = write!(out, "<fn {name}>");
            }
            None => out.push_str("<fn>"),
        },
        Value::Json(json) => out.push_str(&json.to_string()),
        Value::Error(error) => {
            let _ = write!(out, "Error({}: {})", error.kind, error.message);
        }
        Value::Cell(cell) => write_value(out, &cell.borrow(), nested),
        Value::Iter(_) => out.push_str("<iterator>"),
        Value::Query(query) => {
            let _ = write!(out, "<query {}>", query.shape);
        }
    }
}

fn write_items(out: &mut String, items: &[Value]) {
    for (idx, item) in items.iter().enumerate() {
        if idx > 0 {
            out.push_str(", ");
        }
        write_value(out, item, true);
    }
}

/// A text in quotes, escaping `\\ \" \n \t \r` and other control characters as `\u{1b}`.
pub fn write_quoted(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Plain decimal when 1e-4 ≤ |x| < 1e16 or x is 0, with the fewest digits that read
/// back to the same float and at least one digit after the point; otherwise `Me±E`.
pub fn write_number(out: &mut String, n: f64) {
    if n.is_nan() {
        out.push_str("nan");
    } else if n.is_infinite() {
        out.push_str(if n > 0.0 { "inf" } else { "-inf" });
    } else if n == 0.0 || (1e-4..1e16).contains(&n.abs()) {
        let start = out.len();
        let _ = write!(out, "{n}");
        if !out
            .get(start..)
            .is_some_and(|written| written.contains('.'))
        {
            out.push_str(".0");
        }
    } else {
        let _ = write!(out, "{n:e}");
    }
}

/// `12.50 EUR`, `1000 XOF`; with `grouped`, `1,250.00 EUR` (`m.format()`).
pub fn write_money(out: &mut String, money: Money, grouped: bool) {
    let digits = u32::from(money.digits());
    let minor = money.minor();
    let scale = 10i64.pow(digits);
    let whole = (minor / scale).unsigned_abs();
    let frac = (minor % scale).unsigned_abs();
    if minor < 0 {
        out.push('-');
    }
    let whole_text = whole.to_string();
    if grouped {
        for (idx, ch) in whole_text.chars().enumerate() {
            if idx > 0 && (whole_text.len() - idx) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
    } else {
        out.push_str(&whole_text);
    }
    if digits > 0 {
        let _ = write!(out, ".{frac:0width$}", width = digits as usize);
    }
    out.push(' ');
    out.push_str(money.code());
}

/// Units `d h m s`, largest first, zero units left out, seconds with up to six decimals
/// trimmed: `1h 30m`, `14d`, `1m 0.25s`, `0s`, `-2h`.
pub fn write_duration(out: &mut String, micros: i64) {
    if micros == 0 {
        out.push_str("0s");
        return;
    }
    if micros < 0 {
        out.push('-');
    }
    let total = micros.unsigned_abs();
    let day = 86_400_000_000u64;
    let hour = 3_600_000_000u64;
    let minute = 60_000_000u64;
    let days = total / day;
    let hours = total % day / hour;
    let minutes = total % hour / minute;
    let micro_seconds = total % minute;
    let mut parts: Vec<String> = Vec::new();
    if days > 0 {
        parts.push(format!("{days}d"));
    }
    if hours > 0 {
        parts.push(format!("{hours}h"));
    }
    if minutes > 0 {
        parts.push(format!("{minutes}m"));
    }
    if micro_seconds > 0 {
        let whole = micro_seconds / 1_000_000;
        let frac = micro_seconds % 1_000_000;
        if frac == 0 {
            parts.push(format!("{whole}s"));
        } else {
            let frac_text = format!("{frac:06}");
            parts.push(format!("{whole}.{}s", frac_text.trim_end_matches('0')));
        }
    }
    out.push_str(&parts.join(" "));
}

/// RFC 3339 in UTC with `Z`; fractional seconds only when non-zero, trailing zeros
/// trimmed: `2026-03-01T09:15:00Z`, `2026-03-01T09:15:00.5Z`.
pub fn write_time(out: &mut String, micros: i64) {
    let Some(time) = DateTime::from_timestamp_micros(micros) else {
        out.push_str("<time out of range>");
        return;
    };
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    let frac = micros.rem_euclid(1_000_000);
    if frac != 0 {
        let frac_text = format!("{frac:06}");
        let _ = write!(out, ".{}", frac_text.trim_end_matches('0'));
    }
    out.push('Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(n: f64) -> String {
        let mut out = String::new();
        write_number(&mut out, n);
        out
    }

    fn duration(micros: i64) -> String {
        let mut out = String::new();
        write_duration(&mut out, micros);
        out
    }

    #[test]
    fn numbers_display_as_the_spec_says() {
        assert_eq!(number(3.0), "3.0");
        assert_eq!(number(100.0), "100.0");
        assert_eq!(number(0.1), "0.1");
        assert_eq!(number(-0.0001), "-0.0001");
        assert_eq!(number(1e16), "1e16");
        assert_eq!(number(2.5e-7), "2.5e-7");
        assert_eq!(number(-3.1e20), "-3.1e20");
        assert_eq!(number(f64::NAN), "nan");
        assert_eq!(number(f64::NEG_INFINITY), "-inf");
        assert_eq!(number(0.0), "0.0");
    }

    #[test]
    fn durations_display_as_the_spec_says() {
        let s = 1_000_000;
        assert_eq!(duration(5_400 * s), "1h 30m");
        assert_eq!(duration(14 * 86_400 * s), "14d");
        assert_eq!(duration(45 * s), "45s");
        assert_eq!(duration(1_500_000), "1.5s");
        assert_eq!(duration(60 * s + 250_000), "1m 0.25s");
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(-7_200 * s), "-2h");
    }

    #[test]
    fn times_and_texts_display_as_the_spec_says() {
        let mut out = String::new();
        write_time(&mut out, 1_772_356_500_000_000);
        assert_eq!(out, "2026-03-01T09:15:00Z");
        out.clear();
        write_time(&mut out, 1_772_356_500_500_000);
        assert_eq!(out, "2026-03-01T09:15:00.5Z");
        out.clear();
        write_quoted(&mut out, "a\"b\\\n\u{1b}é");
        assert_eq!(out, "\"a\\\"b\\\\\\n\\u{1b}é\"");
    }
}
