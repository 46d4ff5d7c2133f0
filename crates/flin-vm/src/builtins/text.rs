//! Text methods (language.md §12, §14): by character, Unicode-correct.

use unicode_normalization::UnicodeNormalization;

use super::{Builtin, arg, int_arg, optional, text_arg};
use crate::error::RuntimeError;
use crate::value::Value;
use crate::vm::Vm;

macro_rules! b {
    ($name:literal, $min:literal, $max:literal, $f:expr) => {
        Builtin {
            owner: "text",
            name: $name,
            min: $min,
            max: $max,
            func: $f,
        }
    };
}

pub fn builtins() -> Vec<Builtin> {
    vec![
        b!("length", 1, 1, |_, a| Ok(Value::Int(
            text_arg(a, 0, "the text")?.char_len() as i64
        ))),
        b!("upper", 1, 1, |_, a| Ok(Value::text(
            text_arg(a, 0, "the text")?.as_str().to_uppercase()
        ))),
        b!("lower", 1, 1, |_, a| Ok(Value::text(
            text_arg(a, 0, "the text")?.as_str().to_lowercase()
        ))),
        b!("trim", 1, 1, |_, a| Ok(Value::text(
            text_arg(a, 0, "the text")?.as_str().trim()
        ))),
        b!("trim_start", 1, 1, |_, a| Ok(Value::text(
            text_arg(a, 0, "the text")?.as_str().trim_start()
        ))),
        b!("trim_end", 1, 1, |_, a| Ok(Value::text(
            text_arg(a, 0, "the text")?.as_str().trim_end()
        ))),
        b!("split", 2, 2, split),
        b!("lines", 1, 1, |_, a| {
            let text = text_arg(a, 0, "the text")?;
            Ok(Value::list(
                text.as_str().lines().map(Value::text).collect(),
            ))
        }),
        b!("replace", 3, 3, |_, a| {
            let text = text_arg(a, 0, "the text")?;
            let from = text_arg(a, 1, "the text to replace")?;
            let to = text_arg(a, 2, "the replacement")?;
            if from.as_str().is_empty() {
                return Ok(Value::Text(text));
            }
            Ok(Value::text(
                text.as_str().replace(from.as_str(), to.as_str()),
            ))
        }),
        b!("contains", 2, 2, |_, a| Ok(Value::Bool(
            text_arg(a, 0, "the text")?
                .as_str()
                .contains(text_arg(a, 1, "the part")?.as_str())
        ))),
        b!("starts_with", 2, 2, |_, a| Ok(Value::Bool(
            text_arg(a, 0, "the text")?
                .as_str()
                .starts_with(text_arg(a, 1, "the prefix")?.as_str())
        ))),
        b!("ends_with", 2, 2, |_, a| Ok(Value::Bool(
            text_arg(a, 0, "the text")?
                .as_str()
                .ends_with(text_arg(a, 1, "the suffix")?.as_str())
        ))),
        b!("index_of", 2, 2, |_, a| {
            let text = text_arg(a, 0, "the text")?;
            let part = text_arg(a, 1, "the part")?;
            Ok(optional(text.as_str().find(part.as_str()).map(|byte| {
                Value::Int(text.as_str().get(..byte).map_or(0, |p| p.chars().count()) as i64)
            })))
        }),
        b!("slice", 3, 3, |_, a| crate::access::slice(
            arg(a, 0),
            arg(a, 1),
            arg(a, 2)
        )),
        b!("chars", 1, 1, |_, a| Ok(Value::list(
            text_arg(a, 0, "the text")?
                .as_str()
                .chars()
                .map(|c| Value::text(c.to_string()))
                .collect()
        ))),
        b!("repeat", 2, 2, |vm, a| {
            let times = int_arg(a, 1, "the count")?;
            if times < 0 {
                return Err(RuntimeError::arithmetic(
                    "`repeat` takes a count of 0 or more",
                ));
            }
            let text = text_arg(a, 0, "the text")?;
            if text.as_str().len().saturating_mul(times as usize) > 64 * 1024 * 1024 {
                return Err(RuntimeError::limit(
                    "`repeat` would make a text larger than 64 MB",
                ));
            }
            vm.charge(text.as_str().len().saturating_mul(times as usize))?;
            Ok(Value::text(text.as_str().repeat(times as usize)))
        }),
        b!("pad_start", 3, 3, |vm, a| pad(vm, a, true)),
        b!("pad_end", 3, 3, |vm, a| pad(vm, a, false)),
        b!("to_int", 1, 1, |_, a| Ok(optional(
            parse_int(text_arg(a, 0, "the text")?.as_str()).map(Value::Int)
        ))),
        b!("to_number", 1, 1, |_, a| Ok(optional(
            parse_number(text_arg(a, 0, "the text")?.as_str()).map(Value::Number)
        ))),
        b!("is_empty", 1, 1, |_, a| Ok(Value::Bool(
            text_arg(a, 0, "the text")?.as_str().is_empty()
        ))),
        b!("capitalize", 1, 1, |_, a| {
            let text = text_arg(a, 0, "the text")?;
            let mut chars = text.as_str().chars();
            Ok(Value::text(match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }))
        }),
        b!("slug", 1, 1, |_, a| Ok(Value::text(slug(
            text_arg(a, 0, "the text")?.as_str()
        )))),
    ]
}

fn split(_: &mut Vm<'_>, a: &[Value]) -> Result<Value, RuntimeError> {
    let text = text_arg(a, 0, "the text")?;
    let separator = text_arg(a, 1, "the separator")?;
    if separator.as_str().is_empty() {
        return Err(RuntimeError::runtime(
            "`split` needs a separator that is not empty; use `chars` for characters",
        ));
    }
    Ok(Value::list(
        text.as_str()
            .split(separator.as_str())
            .map(Value::text)
            .collect(),
    ))
}

fn pad(vm: &mut crate::vm::Vm<'_>, a: &[Value], start: bool) -> Result<Value, RuntimeError> {
    let text = text_arg(a, 0, "the text")?;
    let width = int_arg(a, 1, "the width")?.max(0) as usize;
    let fill = text_arg(a, 2, "the fill")?;
    let len = text.char_len();
    if len >= width || fill.as_str().is_empty() {
        return Ok(Value::Text(text));
    }
    if width > 64 * 1024 * 1024 {
        return Err(RuntimeError::limit(
            "padding would make a text longer than 64 MB",
        ));
    }
    vm.charge(width.saturating_mul(fill.as_str().len().max(1)))?;
    let padding: String = fill.as_str().chars().cycle().take(width - len).collect();
    Ok(Value::text(if start {
        format!("{padding}{}", text.as_str())
    } else {
        format!("{}{padding}", text.as_str())
    }))
}

/// `to_int`: an optional sign and decimal digits; anything else is `none`.
pub fn parse_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `to_number`: a decimal number (`3`, `-2.5`, `1e-9`); `inf` and `nan` are not numbers
/// written by people and read as `none`.
pub fn parse_number(text: &str) -> Option<f64> {
    let valid = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return None;
    }
    text.parse().ok()
}

/// Lower-cases, folds accents to ASCII, turns every run of other characters into one `-`,
/// and trims `-` at both ends.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for ch in text.nfd() {
        if unicode_normalization::char::is_combining_mark(ch) {
            continue;
        }
        let folded = match ch {
            'ß' => Some("ss"),
            'æ' | 'Æ' => Some("ae"),
            'ø' | 'Ø' => Some("o"),
            'œ' | 'Œ' => Some("oe"),
            'đ' | 'Đ' => Some("d"),
            'ł' | 'Ł' => Some("l"),
            _ => None,
        };
        if let Some(folded) = folded {
            out.push_str(folded);
            dash = false;
        } else if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_fold_accents_and_runs() {
        assert_eq!(slug("Hello, World!"), "hello-world");
        assert_eq!(
            slug("  Crème brûlée — à la carte "),
            "creme-brulee-a-la-carte"
        );
        assert_eq!(slug("Straße"), "strasse");
    }

    #[test]
    fn to_int_is_strict() {
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int("-7"), Some(-7));
        assert_eq!(parse_int(" 42"), None);
        assert_eq!(parse_int("4.2"), None);
        assert_eq!(parse_number("1e-9"), Some(1e-9));
        assert_eq!(parse_number("inf"), None);
    }
}
