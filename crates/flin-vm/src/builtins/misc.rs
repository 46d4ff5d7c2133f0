//! Free functions (language.md §12): conversions, JSON, crypto and ids, random values,
//! the environment, errors, logging and assertions. Web and socket functions answer
//! with a clear error outside a server until the web runtime provides them.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{Builtin, arg, int_arg, text_arg};
use crate::error::RuntimeError;
use crate::value::Value;

macro_rules! f {
    ($name:literal, $min:literal, $max:literal, $func:expr) => {
        Builtin {
            owner: "",
            name: $name,
            min: $min,
            max: $max,
            func: $func,
        }
    };
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_bytes<const N: usize>() -> Result<[u8; N], RuntimeError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|err| RuntimeError::runtime(format!("no randomness available: {err}")))?;
    Ok(bytes)
}

fn log_line(a: &[Value]) -> String {
    a.iter()
        .map(crate::display::display)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The logged-in user, loaded, or `none`.
fn current_user(vm: &mut crate::vm::Vm<'_>) -> Result<Value, RuntimeError> {
    match vm.host.session_user() {
        Some((entity, id)) => crate::reference::current(&mut *vm.host, &entity, id),
        None => Ok(Value::None),
    }
}

pub fn builtins() -> Vec<Builtin> {
    let mut all = vec![
        f!("to_text", 1, 1, |_, a| Ok(Value::text(
            crate::display::display(arg(a, 0))
        ))),
        f!("to_int", 1, 1, |_, a| Ok(super::text::parse_int(
            text_arg(a, 0, "the text")?.as_str()
        )
        .map_or(Value::None, Value::Int))),
        f!("to_number", 1, 1, |_, a| Ok(super::text::parse_number(
            text_arg(a, 0, "the text")?.as_str()
        )
        .map_or(Value::None, Value::Number))),
        f!("parse_json", 1, 1, |_, a| crate::json::parse(
            text_arg(a, 0, "the text")?.as_str()
        )),
        f!("to_json", 1, 2, |_, a| {
            let pretty = matches!(arg(a, 1), Value::Bool(true));
            Ok(Value::text(crate::json::to_json(arg(a, 0), pretty)))
        }),
        f!("random", 0, 0, |_, _| {
            let bytes = random_bytes::<8>()?;
            Ok(Value::Number(
                (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
            ))
        }),
        f!("random_int", 2, 2, |_, a| {
            let (low, high) = (
                int_arg(a, 0, "the low bound")?,
                int_arg(a, 1, "the high bound")?,
            );
            if high < low {
                return Err(RuntimeError::runtime(format!(
                    "random_int({low}, {high}): the high bound is below the low bound"
                )));
            }
            let span = (high as i128 - low as i128 + 1) as u128;
            let draw = u128::from(u64::from_le_bytes(random_bytes::<8>()?)) % span;
            Ok(Value::Int((low as i128 + draw as i128) as i64))
        }),
        f!("uuid", 0, 0, |_, _| {
            let mut bytes = random_bytes::<16>()?;
            if let Some(b) = bytes.get_mut(6) {
                *b = (*b & 0x0f) | 0x40;
            }
            if let Some(b) = bytes.get_mut(8) {
                *b = (*b & 0x3f) | 0x80;
            }
            let h = hex(&bytes);
            Ok(Value::text(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            )))
        }),
        f!("sha256", 1, 1, |_, a| Ok(Value::text(hex(
            &Sha256::digest(text_arg(a, 0, "the text")?.as_str().as_bytes())
        )))),
        f!("hmac_sha256", 2, 2, |_, a| {
            let key = text_arg(a, 0, "the key")?;
            let text = text_arg(a, 1, "the text")?;
            let mut mac = Hmac::<Sha256>::new_from_slice(key.as_str().as_bytes())
                .map_err(|err| RuntimeError::runtime(err.to_string()))?;
            mac.update(text.as_str().as_bytes());
            Ok(Value::text(hex(&mac.finalize().into_bytes())))
        }),
        f!("hash_password", 1, 1, |_, a| {
            use argon2::password_hash::{PasswordHasher, SaltString};
            let password = text_arg(a, 0, "the password")?;
            let salt = SaltString::encode_b64(&random_bytes::<16>()?)
                .map_err(|err| RuntimeError::runtime(err.to_string()))?;
            let hash = argon2::Argon2::default()
                .hash_password(password.as_str().as_bytes(), &salt)
                .map_err(|err| RuntimeError::runtime(err.to_string()))?;
            Ok(Value::text(hash.to_string()))
        }),
        f!("verify_password", 2, 2, |_, a| {
            use argon2::password_hash::{PasswordHash, PasswordVerifier};
            let password = text_arg(a, 0, "the password")?;
            let hash = text_arg(a, 1, "the hash")?;
            let Ok(parsed) = PasswordHash::new(hash.as_str()) else {
                return Ok(Value::Bool(false));
            };
            Ok(Value::Bool(
                argon2::Argon2::default()
                    .verify_password(password.as_str().as_bytes(), &parsed)
                    .is_ok(),
            ))
        }),
        f!("random_token", 1, 1, |_, a| {
            let n = int_arg(a, 0, "the number of bytes")?;
            if !(1..=1024).contains(&n) {
                return Err(RuntimeError::runtime(
                    "random_token takes between 1 and 1024 bytes",
                ));
            }
            let mut bytes = vec![0u8; n as usize];
            getrandom::fill(&mut bytes).map_err(|err| RuntimeError::runtime(err.to_string()))?;
            Ok(Value::text(hex(&bytes)))
        }),
        f!("env", 1, 1, |_, a| Ok(std::env::var(
            text_arg(a, 0, "the name")?.as_str()
        )
        .map_or(Value::None, Value::text))),
        f!("fail", 1, 1, |_, a| Err(RuntimeError::runtime(
            crate::display::display(arg(a, 0))
        ))),
        f!("error", 2, 2, |_, a| {
            let status = int_arg(a, 0, "the status")?;
            let mut err = RuntimeError::runtime(crate::display::display(arg(a, 1)));
            err.status = u16::try_from(status).ok();
            Err(err)
        }),
        f!("not_found", 0, 0, |_, _| {
            let mut err = RuntimeError::new("not_found", "not found");
            err.status = Some(404);
            Err(err)
        }),
        f!("log", 0, 32, |vm, a| {
            vm.host.log("info", &log_line(a));
            Ok(Value::None)
        }),
        f!("log_info", 0, 32, |vm, a| {
            vm.host.log("info", &log_line(a));
            Ok(Value::None)
        }),
        f!("log_warn", 0, 32, |vm, a| {
            vm.host.log("warn", &log_line(a));
            Ok(Value::None)
        }),
        f!("log_error", 0, 32, |vm, a| {
            vm.host.log("error", &log_line(a));
            Ok(Value::None)
        }),
        f!("assert_eq", 2, 2, |_, a| {
            if crate::ops::equal(arg(a, 0), arg(a, 1)) {
                return Ok(Value::None);
            }
            Err(RuntimeError::new(
                "assertion",
                format!(
                    "assert_eq failed: {} is not {}",
                    crate::display::display_nested(arg(a, 0)),
                    crate::display::display_nested(arg(a, 1))
                ),
            ))
        }),
        // The model's unit vector of a text (search.md §3): the app's model, or the
        // built-in one, read on first use.
        f!("embed", 1, 1, |vm, a| {
            let text = text_arg(a, 0, "the text")?;
            let model = flin_search::embedder::active().map_err(RuntimeError::runtime)?;
            vm.charge(model.dims() * crate::memory::SLOT)?;
            Ok(Value::list(
                model
                    .embed(text.as_str())
                    .into_iter()
                    .map(|x| Value::Number(f64::from(x)))
                    .collect(),
            ))
        }),
        f!("similarity", 2, 2, |_, a| {
            let x = super::list_arg(a, 0)?.borrow().clone();
            let y = super::list_arg(a, 1)?.borrow().clone();
            let as_f = |v: &Value| match v {
                Value::Number(n) => *n,
                Value::Int(i) => *i as f64,
                _ => 0.0,
            };
            let dot: f64 = x.iter().zip(&y).map(|(p, q)| as_f(p) * as_f(q)).sum();
            let norm = |v: &[Value]| v.iter().map(|p| as_f(p) * as_f(p)).sum::<f64>().sqrt();
            let denominator = norm(&x) * norm(&y);
            Ok(Value::Number(if denominator == 0.0 {
                0.0
            } else {
                dot / denominator
            }))
        }),
        f!("raw", 1, 1, |_, a| Ok(arg(a, 0).clone())),
        f!("range", 2, 3, |vm, a| {
            let (from, to) = (int_arg(a, 0, "the start")?, int_arg(a, 1, "the end")?);
            let inclusive = matches!(arg(a, 2), Value::Bool(true));
            let end = if inclusive { to.saturating_add(1) } else { to };
            if end.saturating_sub(from) > 100_000_000 {
                return Err(RuntimeError::limit(
                    "a range of more than 100,000,000 values",
                ));
            }
            let n = usize::try_from(end.saturating_sub(from).max(0)).unwrap_or(0);
            vm.charge(n * crate::memory::SLOT)?;
            Ok(Value::list((from..end.max(from)).map(Value::Int).collect()))
        }),
    ];
    all.push(f!("redirect", 1, 1, |_, a| {
        // Ends the handler; the server answers 303 with `Location` (a path of this
        // site: web.md §7 "Redirects").
        let mut err = RuntimeError::new("redirect", crate::display::display(arg(a, 0)));
        err.status = Some(303);
        Err(err)
    }));
    all.push(f!("$safe_url", 2, 2, |vm, a| {
        // A URL attribute built from data (the HTML of its text, escaped): kept when its
        // scheme is http(s), mailto, tel or none (a path); `data:` images in `src`;
        // anything else is `#` (web.md §7).
        let html = crate::display::display(arg(a, 0));
        let in_src = matches!(arg(a, 1), Value::Bool(true));
        if crate::html::safe_url(&html, in_src) {
            Ok(Value::text(html))
        } else {
            vm.host.log(
                "warn",
                &format!(
                    "a URL built from data was not rendered: {}",
                    html.chars().take(80).collect::<String>()
                ),
            );
            Ok(Value::text("#"))
        }
    }));
    // `search Q in E by f [using m] [where (c)] [limit n]`, as the compiler calls it:
    // the candidates' query, the field, the text, the mode and its weights, the limit.
    all.push(f!("$search", 7, 7, |vm, a| {
        let Value::Query(query) = arg(a, 0) else {
            return Err(RuntimeError::runtime("internal: a search without its rows"));
        };
        let candidates = crate::query::plan(query)?;
        let number = |v: &Value| match v {
            Value::Number(n) => *n,
            Value::Int(i) => *i as f64,
            _ => 0.0,
        };
        let mode = match text_arg(a, 3, "the mode")?.as_str() {
            "keyword" => flin_query::SearchMode::Keyword,
            "semantic" => flin_query::SearchMode::Semantic,
            "hybrid" => flin_query::SearchMode::Hybrid(number(arg(a, 4)), number(arg(a, 5))),
            _ => flin_query::SearchMode::Default,
        };
        let limit = int_arg(a, 6, "the search limit")?;
        if !(0..=1000).contains(&limit) {
            return Err(RuntimeError::new(
                "runtime",
                format!("a search's limit is between 0 and 1,000, not {limit}"),
            ));
        }
        let call = crate::host::SearchCall {
            candidates,
            field: text_arg(a, 1, "the field")?.as_str().to_string(),
            text: text_arg(a, 2, "the search text")?.as_str().to_string(),
            mode,
            limit: limit as usize,
        };
        vm.host.search(&call)
    }));
    all.push(f!("$css_text", 2, 2, |_, a| {
        let text = crate::display::display(arg(a, 0));
        let declarations = matches!(arg(a, 1), Value::Bool(true));
        Ok(Value::text(crate::html::css_text(&text, declarations)))
    }));
    all.push(f!("$redirect_written", 1, 1, |_, a| {
        // `redirect("…")` with the URL written in the code: it may name another site.
        let mut err = RuntimeError::new("redirect", crate::display::display(arg(a, 0)));
        err.status = Some(303);
        err.fields = vec![("written".into(), "1".into())];
        Err(err)
    }));
    all.push(f!("login", 1, 1, |vm, a| {
        let Value::Entity(user) = arg(a, 0) else {
            return Err(RuntimeError::type_error("`login` takes a saved entity"));
        };
        let Some(id) = user.id() else {
            return Err(RuntimeError::new(
                "constraint",
                "`login` takes a saved entity: save the user first",
            ));
        };
        vm.host
            .set_session_user(Some((user.ty.def.name.clone(), id)))?;
        Ok(Value::None)
    }));
    all.push(f!("logout", 0, 0, |vm, _| {
        vm.host.set_session_user(None)?;
        Ok(Value::None)
    }));
    all.push(f!("current_user", 0, 0, |vm, _| current_user(vm)));
    all.push(f!("next", 0, 0, |vm, _| {
        vm.host.next_middleware();
        Ok(Value::None)
    }));
    // `guard auth`, `guard role("admin")` … (web.md §6).
    all.push(f!("guard_auth", 0, 0, |vm, _| {
        if matches!(current_user(vm)?, Value::None) {
            let mut err = RuntimeError::new("unauthorized", "Log in first");
            err.status = Some(401);
            return Err(err);
        }
        Ok(Value::None)
    }));
    all.push(f!("guard_role", 1, 16, |vm, a| {
        let user = current_user(vm)?;
        let Value::Entity(user) = &user else {
            let mut err = RuntimeError::new("unauthorized", "Log in first");
            err.status = Some(401);
            return Err(err);
        };
        let role = crate::access::get_field(
            vm,
            &Value::Entity(user.clone()),
            flin_syntax::Symbol::intern("role"),
        )
        .unwrap_or(Value::None);
        if a.iter().any(|r| crate::ops::equal(r, &role)) {
            return Ok(Value::None);
        }
        let mut err = RuntimeError::new("forbidden", "Not allowed");
        err.status = Some(403);
        Err(err)
    }));
    for name in ["rate_limit", "api_key", "same_origin"] {
        all.push(Builtin {
            owner: "",
            name: match name {
                "rate_limit" => "guard_rate_limit",
                "api_key" => "guard_api_key",
                _ => "guard_same_origin",
            },
            min: 0,
            max: 4,
            func: match name {
                "rate_limit" => |vm, a| vm.host.guard("rate_limit", a).map(|()| Value::None),
                "api_key" => |vm, a| vm.host.guard("api_key", a).map(|()| Value::None),
                _ => |vm, a| vm.host.guard("same_origin", a).map(|()| Value::None),
            },
        });
    }
    all
}
