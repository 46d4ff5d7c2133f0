//! The rules of data.md §1 checked before anything is written: every failing field gets
//! its message, and nothing is saved unless all pass.

use flin_query::{Datum, EntityDef, FieldDef, FieldType, Rule};

use crate::columns::{a_or_an, describe};

/// Every rule broken by `values` (one per field, in declaration order).
pub fn check(def: &EntityDef, values: &[Datum]) -> Vec<(String, String)> {
    let mut failures = Vec::new();
    for (field, value) in def.fields.iter().zip(values) {
        if let Some(message) = check_field(field, value) {
            failures.push((field.name.clone(), message));
        }
    }
    failures
}

fn check_field(field: &FieldDef, value: &Datum) -> Option<String> {
    let name = &field.name;
    if let Datum::None = value {
        if field.rules.contains(&Rule::Required) || !(field.optional || field.ty.is_list()) {
            return Some(format!("{name} is required"));
        }
        return None;
    }
    if let Some(message) = type_mismatch(field, value) {
        return Some(message);
    }
    for rule in &field.rules {
        if let Some(message) = check_rule(name, rule, value) {
            return Some(message);
        }
    }
    None
}

fn type_mismatch(field: &FieldDef, value: &Datum) -> Option<String> {
    let ok = match (&field.ty, value) {
        (FieldType::Text | FieldType::SemanticText, Datum::Text(_)) => true,
        // A file is stored as its parts in JSON; any other text is not a file.
        (FieldType::File, Datum::Text(t)) => crate::files::parts(t).is_some(),
        (FieldType::Int, Datum::Int(_)) => true,
        (FieldType::Number, Datum::Number(_) | Datum::Int(_)) => true,
        (FieldType::Bool, Datum::Bool(_)) => true,
        (FieldType::Time, Datum::Time(_)) => true,
        (FieldType::Duration, Datum::Duration(_)) => true,
        (FieldType::Money, Datum::Money { .. }) => true,
        (FieldType::Enum { .. }, Datum::Enum(_) | Datum::Text(_)) => true,
        (FieldType::Ref(_), Datum::Ref(_) | Datum::Int(_)) => true,
        (FieldType::RefList(_), Datum::List(items)) => items
            .iter()
            .all(|i| matches!(i, Datum::Ref(_) | Datum::Int(_))),
        (FieldType::List(inner), Datum::List(items)) => items.iter().all(|item| {
            matches!(
                (&**inner, item),
                (FieldType::Text, Datum::Text(_))
                    | (FieldType::Int, Datum::Int(_))
                    | (FieldType::Number, Datum::Number(_) | Datum::Int(_))
                    | (FieldType::Bool, Datum::Bool(_))
                    | (FieldType::Time, Datum::Time(_))
                    | (FieldType::Duration, Datum::Duration(_))
                    | (FieldType::Enum { .. }, Datum::Enum(_))
            )
        }),
        _ => false,
    };
    (!ok).then(|| {
        if matches!(field.ty, FieldType::File) {
            return format!("{} must be a file, not {}", field.name, describe(value));
        }
        format!(
            "{} must be {}, not {}",
            field.name,
            a_or_an(&field.ty.describe()),
            describe(value)
        )
    })
}

fn number(value: &Datum) -> Option<f64> {
    match value {
        Datum::Int(i) => Some(*i as f64),
        Datum::Number(n) => Some(*n),
        Datum::Duration(d) => Some(*d as f64),
        _ => None,
    }
}

/// A bound as the field shows it (`@min(1)` on money compares major units).
fn bound_of(value: &Datum) -> Option<f64> {
    match value {
        Datum::Money { minor, currency } => {
            let digits = flin_money_digits(currency);
            Some(*minor as f64 / 10f64.powi(digits))
        }
        other => number(other),
    }
}

fn flin_money_digits(currency: &str) -> i32 {
    match currency {
        "XOF" | "XAF" | "JPY" | "KRW" | "CLP" | "VND" | "ISK" | "UGX" | "RWF" | "GNF" | "KMF"
        | "PYG" | "VUV" | "XPF" | "BIF" | "DJF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "IQD" | "LYD" | "TND" => 3,
        _ => 2,
    }
}

fn length(value: &Datum) -> Option<i64> {
    match value {
        Datum::Text(t) => Some(t.chars().count() as i64),
        Datum::List(items) => Some(items.len() as i64),
        _ => None,
    }
}

fn show(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn check_rule(name: &str, rule: &Rule, value: &Datum) -> Option<String> {
    let text = match value {
        Datum::Text(t) => Some(&**t),
        _ => None,
    };
    match rule {
        Rule::Required => match value {
            Datum::Text(t) if t.trim().is_empty() => Some(format!("{name} is required")),
            _ => None,
        },
        Rule::Email => text
            .filter(|t| !is_email(t))
            .map(|_| format!("{name} must be a valid email address")),
        Rule::Url => text
            .filter(|t| !is_url(t))
            .map(|_| format!("{name} must be a valid URL")),
        Rule::Uuid => text
            .filter(|t| !is_uuid(t))
            .map(|_| format!("{name} must be a valid UUID")),
        Rule::Min(min) => bound_of(value)
            .filter(|v| v < min)
            .map(|_| format!("{name} must be at least {}", show(*min))),
        Rule::Max(max) => bound_of(value)
            .filter(|v| v > max)
            .map(|_| format!("{name} must be at most {}", show(*max))),
        Rule::Positive => bound_of(value)
            .filter(|v| *v <= 0.0)
            .map(|_| format!("{name} must be positive")),
        Rule::NonNegative => bound_of(value)
            .filter(|v| *v < 0.0)
            .map(|_| format!("{name} must not be negative")),
        Rule::MinLength(min) => length(value).filter(|l| l < min).map(|_| match value {
            Datum::List(_) => format!("{name} must have at least {min} items"),
            _ => format!("{name} must be at least {min} characters"),
        }),
        Rule::MaxLength(max) => length(value).filter(|l| l > max).map(|_| match value {
            Datum::List(_) => format!("{name} must have at most {max} items"),
            _ => format!("{name} must be at most {max} characters"),
        }),
        Rule::Pattern(pattern) => {
            let text = text?;
            let anchored = format!("^(?:{pattern})$");
            match regex::Regex::new(&anchored) {
                Ok(re) if re.is_match(text) => None,
                Ok(_) => Some(format!("{name} must match the pattern {pattern}")),
                Err(_) => Some(format!(
                    "{name}: the pattern {pattern} is not a valid regular expression"
                )),
            }
        }
        Rule::OneOf(allowed) => {
            let matches = allowed.iter().any(|a| same(a, value));
            (!matches).then(|| {
                let list: Vec<String> = allowed.iter().map(show_datum).collect();
                format!("{name} must be one of {}", list.join(", "))
            })
        }
        Rule::Types(allowed) => {
            let file = crate::files::parts(text?)?;
            let found = file.content_type.as_str();
            let fits = allowed.iter().any(|pattern| type_matches(pattern, found));
            (!fits).then(|| {
                format!(
                    "{name} must be of type {}; the file is {found}",
                    allowed.join(", ")
                )
            })
        }
        Rule::MaxSize(max) => {
            let file = crate::files::parts(text?)?;
            (file.size > *max).then(|| {
                format!(
                    "{name} must be at most {}; the file is {}",
                    show_size(*max),
                    show_size(file.size)
                )
            })
        }
    }
}

/// `image/*` matches `image/png`; `application/pdf` only itself.
fn type_matches(pattern: &str, found: &str) -> bool {
    let pattern = pattern.trim().to_ascii_lowercase();
    let found = found.to_ascii_lowercase();
    match pattern.strip_suffix("/*") {
        Some(family) => found
            .split_once('/')
            .is_some_and(|(major, _)| major == family),
        None => pattern == "*/*" || pattern == found,
    }
}

/// A size in the words of `@max_size`: `20 MB`, `512 KB`, `300 bytes`.
fn show_size(bytes: i64) -> String {
    const KB: i64 = 1024;
    const MB: i64 = 1024 * 1024;
    if bytes >= MB {
        format!(
            "{} MB",
            show((bytes as f64 / MB as f64 * 10.0).round() / 10.0)
        )
    } else if bytes >= KB {
        format!(
            "{} KB",
            show((bytes as f64 / KB as f64 * 10.0).round() / 10.0)
        )
    } else {
        format!("{bytes} bytes")
    }
}

fn same(a: &Datum, b: &Datum) -> bool {
    match (a, b) {
        (Datum::Int(x), Datum::Number(y)) | (Datum::Number(y), Datum::Int(x)) => (*x as f64) == *y,
        (Datum::Enum(x) | Datum::Text(x), Datum::Enum(y) | Datum::Text(y)) => x == y,
        _ => a == b,
    }
}

fn show_datum(value: &Datum) -> String {
    match value {
        Datum::Text(t) => format!("\"{t}\""),
        Datum::Int(i) => i.to_string(),
        Datum::Number(n) => show(*n),
        Datum::Enum(e) => e.to_string(),
        Datum::Bool(b) => b.to_string(),
        other => describe(other).to_string(),
    }
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace)
}

fn is_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.chars().any(char::is_whitespace)
    })
}

fn is_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    parts.len() == 5
        && parts
            .iter()
            .zip(lengths)
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}
