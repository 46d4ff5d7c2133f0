//! Times, durations and money (language.md §12, §14). Times are UTC instants in
//! microseconds; `today` is midnight UTC; `last_month` and `last_year` are calendar steps
//! clamped to the month's end.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

use super::{Builtin, arg, text_arg};
use crate::error::RuntimeError;
use crate::value::Value;

fn time_arg(a: &[Value], idx: usize) -> Result<DateTime<Utc>, RuntimeError> {
    match arg(a, idx).read_cell() {
        Value::Time(micros) => DateTime::from_timestamp_micros(micros)
            .ok_or_else(|| RuntimeError::arithmetic("time out of range")),
        Value::None => Err(RuntimeError::none("a time is needed, found none")),
        other => Err(RuntimeError::type_error(format!(
            "a time is needed, not {}",
            other.type_name()
        ))),
    }
}

fn duration_arg(a: &[Value], idx: usize) -> Result<i64, RuntimeError> {
    match arg(a, idx).read_cell() {
        Value::Duration(micros) => Ok(micros),
        Value::None => Err(RuntimeError::none("a duration is needed, found none")),
        other => Err(RuntimeError::type_error(format!(
            "a duration is needed, not {}",
            other.type_name()
        ))),
    }
}

fn money_arg(a: &[Value], idx: usize) -> Result<crate::value::Money, RuntimeError> {
    match arg(a, idx).read_cell() {
        Value::Money(m) => Ok(m),
        Value::None => Err(RuntimeError::none("money is needed, found none")),
        other => Err(RuntimeError::type_error(format!(
            "money is needed, not {}",
            other.type_name()
        ))),
    }
}

fn time_value(time: DateTime<Utc>) -> Value {
    Value::Time(time.timestamp_micros())
}

fn midnight(time: DateTime<Utc>) -> DateTime<Utc> {
    Utc.from_utc_datetime(&time.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The time keywords (language.md §2, §14).
pub fn keyword(name: &str) -> Option<Value> {
    let now = Utc::now();
    let today = midnight(now);
    let day = chrono::Duration::days(1);
    Some(time_value(match name {
        "now" => now,
        "today" => today,
        "yesterday" => today - day,
        "tomorrow" => today + day,
        "last_week" => today - chrono::Duration::days(7),
        "last_month" => today.checked_sub_months(Months::new(1)).unwrap_or(today),
        "last_year" => today.checked_sub_months(Months::new(12)).unwrap_or(today),
        _ => return None,
    }))
}

/// `parse_time`: RFC 3339 (any offset, to UTC), `YYYY-MM-DD` (midnight UTC) or
/// `YYYY-MM-DD HH:MM[:SS]` (UTC); `none` when the text is none of these.
pub fn parse_time(text: &str) -> Option<Value> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time_value(time.with_timezone(&Utc)));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(time_value(
            Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?),
        ));
    }
    for pattern in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, pattern) {
            return Some(time_value(Utc.from_utc_datetime(&time)));
        }
    }
    None
}

fn ago(time: DateTime<Utc>) -> String {
    let seconds = (Utc::now() - time).num_seconds();
    let (amount, unit) = match seconds.abs() {
        s if s < 60 => {
            return if seconds >= 0 {
                "just now".into()
            } else {
                "in a moment".into()
            };
        }
        s if s < 3_600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3_600, "hour"),
        s if s < 30 * 86_400 => (s / 86_400, "day"),
        s if s < 365 * 86_400 => (s / (30 * 86_400), "month"),
        s => (s / (365 * 86_400), "year"),
    };
    let plural = if amount == 1 { "" } else { "s" };
    if seconds >= 0 {
        format!("{amount} {unit}{plural} ago")
    } else {
        format!("in {amount} {unit}{plural}")
    }
}

macro_rules! t {
    ($owner:literal, $name:literal, $min:literal, $max:literal, $f:expr) => {
        Builtin {
            owner: $owner,
            name: $name,
            min: $min,
            max: $max,
            func: $f,
        }
    };
}

pub fn builtins() -> Vec<Builtin> {
    vec![
        t!("time", "year", 1, 1, |_, a| Ok(Value::Int(i64::from(
            time_arg(a, 0)?.year()
        )))),
        t!("time", "month", 1, 1, |_, a| Ok(Value::Int(i64::from(
            time_arg(a, 0)?.month()
        )))),
        t!("time", "day", 1, 1, |_, a| Ok(Value::Int(i64::from(
            time_arg(a, 0)?.day()
        )))),
        t!("time", "hour", 1, 1, |_, a| Ok(Value::Int(i64::from(
            time_arg(a, 0)?.hour()
        )))),
        t!("time", "minute", 1, 1, |_, a| Ok(Value::Int(i64::from(
            time_arg(a, 0)?.minute()
        )))),
        t!("time", "second", 1, 1, |_, a| Ok(Value::Int(i64::from(
            time_arg(a, 0)?.second()
        )))),
        t!("time", "weekday", 1, 1, |_, a| {
            let names = [
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday",
            ];
            let idx = time_arg(a, 0)?.weekday().num_days_from_monday() as usize;
            Ok(Value::text(*names.get(idx).unwrap_or(&"Monday")))
        }),
        t!("time", "format", 2, 2, |_, a| {
            let time = time_arg(a, 0)?;
            let pattern = text_arg(a, 1, "the pattern")?;
            let items: Vec<chrono::format::Item> =
                chrono::format::StrftimeItems::new(pattern.as_str()).collect();
            if items
                .iter()
                .any(|item| matches!(item, chrono::format::Item::Error))
            {
                return Err(RuntimeError::new(
                    "parse",
                    format!("invalid time pattern \"{}\"", pattern.as_str()),
                ));
            }
            Ok(Value::text(
                time.format_with_items(items.into_iter()).to_string(),
            ))
        }),
        t!("time", "to_iso", 1, 1, |_, a| Ok(Value::text(
            crate::display::display(&time_value(time_arg(a, 0)?))
        ))),
        t!("time", "ago", 1, 1, |_, a| Ok(Value::text(ago(time_arg(
            a, 0
        )?)))),
        t!("duration", "seconds", 1, 1, |_, a| Ok(Value::Number(
            duration_arg(a, 0)? as f64 / 1e6
        ))),
        t!("duration", "minutes", 1, 1, |_, a| Ok(Value::Number(
            duration_arg(a, 0)? as f64 / 6e7
        ))),
        t!("duration", "hours", 1, 1, |_, a| Ok(Value::Number(
            duration_arg(a, 0)? as f64 / 3.6e9
        ))),
        t!("duration", "days", 1, 1, |_, a| Ok(Value::Number(
            duration_arg(a, 0)? as f64 / 8.64e10
        ))),
        t!("money", "amount", 1, 1, |_, a| {
            let money = money_arg(a, 0)?;
            Ok(Value::Number(
                money.minor() as f64 / 10f64.powi(i32::from(money.digits())),
            ))
        }),
        t!("money", "currency", 1, 1, |_, a| Ok(Value::text(
            money_arg(a, 0)?.code()
        ))),
        t!("money", "format", 1, 1, |_, a| {
            let mut out = String::new();
            crate::display::write_money(&mut out, money_arg(a, 0)?, true);
            Ok(Value::text(out))
        }),
        t!("", "parse_time", 1, 1, |_, a| Ok(parse_time(
            text_arg(a, 0, "the text")?.as_str()
        )
        .unwrap_or(Value::None))),
        t!("", "now", 0, 0, |_, _| Ok(
            keyword("now").unwrap_or(Value::None)
        )),
        t!("", "today", 0, 0, |_, _| Ok(
            keyword("today").unwrap_or(Value::None)
        )),
        t!("", "yesterday", 0, 0, |_, _| Ok(
            keyword("yesterday").unwrap_or(Value::None)
        )),
        t!("", "tomorrow", 0, 0, |_, _| Ok(
            keyword("tomorrow").unwrap_or(Value::None)
        )),
        t!("", "last_week", 0, 0, |_, _| Ok(
            keyword("last_week").unwrap_or(Value::None)
        )),
        t!("", "last_month", 0, 0, |_, _| Ok(
            keyword("last_month").unwrap_or(Value::None)
        )),
        t!("", "last_year", 0, 0, |_, _| Ok(
            keyword("last_year").unwrap_or(Value::None)
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_time_accepts_the_three_forms() {
        let display = |v: Option<Value>| v.map(|v| crate::display::display(&v));
        assert_eq!(
            display(parse_time("2026-03-01")),
            Some("2026-03-01T00:00:00Z".into())
        );
        assert_eq!(
            display(parse_time("2026-03-01 09:15")),
            Some("2026-03-01T09:15:00Z".into())
        );
        assert_eq!(
            display(parse_time("2026-03-01T10:15:00+01:00")),
            Some("2026-03-01T09:15:00Z".into())
        );
        assert_eq!(display(parse_time("yesterday")), None);
    }
}
