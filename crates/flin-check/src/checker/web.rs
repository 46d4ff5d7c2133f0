//! Web and services (web.md §5–§7, services.md): the names a file's code sees by its
//! role (`params` from the route's path, `query`, `body`, `session`, `request`,
//! `headers`, `cookies`, `props`, `children`, `connection`), route blocks and
//! `validate`, `response`, guards and guard definitions, middleware, layouts, WebSocket
//! handlers, and job schedules (`every … at "HH:MM"`, `cron "…"`).

use flin_diagnostics::Span;
use flin_syntax::Symbol;
use flin_syntax::ast::{Block, Expr, ExprKind, Field, Guard, Name, Param, Text, WsHandler};
use flin_syntax::lexer::DurationUnit;

use super::{Checker, FrameKind};
use crate::error::CheckError;
use crate::role::Role;
use crate::ty::Ty;

fn sym(name: &str) -> Symbol {
    Symbol::intern(name)
}

fn text_map() -> Ty {
    Ty::map(Ty::Text, Ty::Text)
}

fn request_ty() -> Ty {
    Ty::Record(vec![
        (sym("method"), Ty::Text),
        (sym("path"), Ty::Text),
        (sym("ip"), Ty::Text),
        (sym("user_agent"), Ty::Text),
    ])
}

const BUILTIN_GUARDS: &[&str] = &["auth", "role", "rate_limit", "api_key", "same_origin"];

impl Checker<'_, '_> {
    /// The names the file's code sees because of where the file stands.
    pub fn init_context(&mut self) {
        let web = |checker: &mut Self, params: Ty| {
            checker.context.insert(sym("params"), params);
            checker.context.insert(sym("query"), text_map());
            checker
                .context
                .insert(sym("session"), Ty::map(Ty::Text, Ty::Json));
            checker.context.insert(sym("request"), request_ty());
            checker.context.insert(sym("headers"), text_map());
            checker.context.insert(sym("cookies"), text_map());
        };
        match self.role.clone() {
            Role::App {
                params,
                rest,
                error_page,
                ..
            } => {
                let mut fields: Vec<(Symbol, Ty)> =
                    params.into_iter().map(|p| (p, Ty::Text)).collect();
                fields.extend(rest.map(|r| (r, Ty::Text)));
                web(self, Ty::Record(fields));
                if error_page {
                    self.context.insert(sym("status"), Ty::Int);
                    self.context.insert(sym("message"), Ty::Text);
                }
            }
            Role::Script => web(self, text_map()),
            Role::Component(_) => {
                self.context.insert(sym("props"), Ty::Json);
                self.context.insert(sym("children"), Ty::Html);
                web(self, text_map());
            }
            Role::Layout(_) => {
                self.context.insert(sym("children"), Ty::Html);
                web(self, text_map());
            }
            Role::Entities | Role::Lib | Role::Job | Role::Test => {}
        }
    }

    /// A name the file's context provides, or `None`.
    pub fn context_name(&mut self, name: &Name) -> Option<Ty> {
        if let Some(ty) = self.context.get(&name.sym) {
            return Some(ty.clone());
        }
        let place = match name.as_str() {
            "body" | "params" | "query" | "session" | "request" | "headers" | "cookies"
                if self.in_job =>
            {
                "while a request is handled; a job runs without one"
            }
            "body" => "inside a `route` block",
            "params" | "query" | "session" | "request" | "headers" | "cookies" => {
                "in files under `app/` and in pages"
            }
            "props" => "in components",
            "children" => "in components and layouts",
            "event" => "in event handlers such as `click={…}`",
            "connection" => "inside a `ws` block",
            _ => return None,
        };
        self.error(CheckError::ContextOnly {
            span: name.span,
            name: name.sym,
            place,
        });
        Some(Ty::Error)
    }

    /// `route GET { … }`: a handler with the request's `body`.
    pub fn route(&mut self, body: &Block) {
        let saved = self.context.insert(sym("body"), Ty::Json);
        self.handler_block(body, FrameKind::Handler);
        restore(&mut self.context, sym("body"), saved);
    }

    /// `validate { field: type @decorators … }`: checks the body first; after it, `body`
    /// is a record of the validated fields.
    pub fn validate(&mut self, fields: &[Field]) {
        let mut record = Vec::new();
        for field in fields {
            let ty = self.lower_type(&field.ty);
            self.check_decorators(&field.decorators, &ty);
            if let Some(default) = &field.default {
                self.check_expr(default, &ty, "the field's default");
            }
            record.push((field.name.sym, ty));
        }
        self.context.insert(sym("body"), Ty::Record(record));
    }

    /// `response { status: 201, body: x, headers: { … } }`
    pub fn response(&mut self, fields: &[(Name, Expr)]) -> Ty {
        for (name, value) in fields {
            match name.as_str() {
                "status" => {
                    self.check_expr(value, &Ty::Int, "the response status");
                }
                "body" => {
                    self.infer(value);
                }
                "headers" => {
                    let ty = self.infer(value);
                    match self.shallow(&ty) {
                        Ty::Map(..) | Ty::Record(_) | Ty::Json | Ty::Error => {}
                        other => {
                            let found = self.resolve(&other);
                            self.error(CheckError::Mismatch {
                                span: value.span,
                                expected: text_map(),
                                found,
                                what: "the response headers",
                            });
                        }
                    }
                }
                _ => {
                    let candidates = vec![sym("status"), sym("body"), sym("headers")];
                    self.error(CheckError::UnknownField {
                        span: name.span,
                        field: name.sym,
                        owner: "`response`".into(),
                        candidates,
                    });
                    self.infer(value);
                }
            }
        }
        Ty::Json
    }

    pub fn middleware(&mut self, block: &Block) {
        self.handler_block(block, FrameKind::Handler);
    }

    /// `guard auth`, `guard role("admin")`, `guard plan(2)`.
    pub fn guard(&mut self, guard: &Guard) {
        let name = guard.name.as_str();
        let args = guard.args.as_deref().unwrap_or(&[]);
        let span = guard.name.span;
        match name {
            "auth" | "api_key" | "same_origin" => {
                if !args.is_empty() {
                    self.error(CheckError::ArgCount {
                        span,
                        callee: format!("guard {name}"),
                        expected: 0,
                        found: args.len(),
                    });
                }
                if name == "auth" {
                    self.authed = true;
                }
            }
            "role" => {
                if args.is_empty() {
                    self.error(CheckError::ArgCount {
                        span,
                        callee: "guard role".into(),
                        expected: 1,
                        found: 0,
                    });
                }
                for arg in args {
                    self.check_expr(&arg.value, &Ty::Text, "a role name");
                }
                self.authed = true;
            }
            "rate_limit" => {
                let func = crate::ty::FnTy {
                    params: vec![
                        crate::ty::ParamTy {
                            name: Some(sym("requests")),
                            ty: Ty::Int,
                            has_default: false,
                        },
                        crate::ty::ParamTy {
                            name: Some(sym("seconds")),
                            ty: Ty::Int,
                            has_default: false,
                        },
                    ],
                    ret: Ty::None,
                };
                self.apply(&func, "guard rate_limit", args, span, None);
            }
            _ => {
                let definition = self
                    .decls
                    .local
                    .guards
                    .get(&guard.name.sym)
                    .or_else(|| self.decls.global.guards.get(&guard.name.sym))
                    .map(|(_, params, _)| *params);
                match definition {
                    Some(params) => {
                        let params: Vec<crate::ty::ParamTy> = params
                            .iter()
                            .map(|p| crate::ty::ParamTy {
                                name: Some(p.name.sym),
                                ty: p.ty.as_ref().map_or(Ty::Error, |t| self.lower_type(t)),
                                has_default: p.default.is_some(),
                            })
                            .collect();
                        let func = crate::ty::FnTy {
                            params,
                            ret: Ty::None,
                        };
                        self.apply(&func, &format!("guard {name}"), args, span, None);
                    }
                    None => {
                        let mut candidates: Vec<Symbol> =
                            BUILTIN_GUARDS.iter().map(|g| sym(g)).collect();
                        candidates.extend(
                            self.decls
                                .local
                                .guards
                                .keys()
                                .chain(self.decls.global.guards.keys())
                                .copied(),
                        );
                        self.error(CheckError::UnknownGuard {
                            span,
                            name: guard.name.sym,
                            candidates,
                        });
                    }
                }
            }
        }
    }

    /// `guard_definition plan(min: int) { … }`
    pub fn guard_definition(&mut self, params: &[Param], body: &Block) {
        self.push_scope();
        for param in params {
            let ty = match &param.ty {
                Some(ty) => self.lower_type(ty),
                None => {
                    self.error(CheckError::NeedsAnnotation {
                        span: param.name.span,
                        name: format!("the guard parameter `{}`", param.name.as_str()),
                        hint: "guard parameters take a type, as `min: int`",
                    });
                    Ty::Error
                }
            };
            self.bind(param.name.sym, ty, param.name.span);
        }
        self.handler_block(body, FrameKind::Handler);
        self.pop_scope();
    }

    /// `layout "admin"` must name a file of `layouts/`.
    pub fn layout_choice(&mut self, choice: Option<&Text>, span: Span) {
        let Some(text) = choice else { return };
        let Some(name) = text.as_plain() else { return };
        if !self.layouts.iter().any(|l| l.as_str() == name) {
            let _ = span;
            self.error(CheckError::UnknownLayout {
                span: text.span,
                name,
                candidates: self.layouts.to_vec(),
            });
        }
    }

    /// `ws { on connect { } on message(msg) { } on close { } }`
    pub fn ws(&mut self, handlers: &[WsHandler]) {
        let saved = self
            .context
            .insert(sym("connection"), Ty::Record(vec![(sym("id"), Ty::Text)]));
        for handler in handlers {
            let event = handler.event.as_str();
            if !matches!(event, "connect" | "message" | "close") {
                self.error(CheckError::UnknownWsEvent {
                    span: handler.event.span,
                    name: handler.event.sym,
                });
            }
            self.push_scope();
            if let Some(param) = &handler.param {
                self.bind(param.sym, Ty::Json, param.span);
            }
            self.handler_block(&handler.body, FrameKind::Handler);
            self.pop_scope();
        }
        restore(&mut self.context, sym("connection"), saved);
    }

    /// `every 1.hours [at "03:30"] { … }`
    pub fn every(&mut self, interval: &Expr, at: Option<&Text>, body: &Block) {
        self.check_expr(interval, &Ty::Duration, "the interval of `every`");
        if let Some(at) = at {
            let days = matches!(
                &interval.kind,
                ExprKind::Duration { micros, unit: DurationUnit::Days | DurationUnit::Weeks, .. }
                    if *micros > 0 && micros % 86_400_000_000 == 0
            );
            if !days {
                self.error(CheckError::AtNeedsDays {
                    span: interval.span,
                });
            }
            if let Some(text) = at.as_plain() {
                if !is_time_of_day(&text) {
                    self.error(CheckError::BadTimeOfDay {
                        span: at.span,
                        text,
                    });
                }
            }
        }
        self.job_block(body);
    }

    /// A job's block: no request, so none of the request's names (E0506).
    fn job_block(&mut self, body: &Block) {
        let context = std::mem::take(&mut self.context);
        let was = std::mem::replace(&mut self.in_job, true);
        self.handler_block(body, FrameKind::Handler);
        self.in_job = was;
        self.context = context;
    }

    /// `cron "*/15 9-17 * * MON-FRI" { … }`
    pub fn cron(&mut self, schedule: &Text, body: &Block) {
        if let Some(text) = schedule.as_plain() {
            if let Err(reason) = check_cron(&text) {
                self.error(CheckError::BadCron {
                    span: schedule.span,
                    reason,
                });
            }
        }
        self.job_block(body);
    }
}

fn restore(context: &mut std::collections::HashMap<Symbol, Ty>, name: Symbol, saved: Option<Ty>) {
    match saved {
        Some(previous) => {
            context.insert(name, previous);
        }
        None => {
            context.remove(&name);
        }
    }
}

/// `"03:30"`: a UTC time of day.
fn is_time_of_day(text: &str) -> bool {
    let Some((hour, minute)) = text.split_once(':') else {
        return false;
    };
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    two_digits(hour)
        && two_digits(minute)
        && hour.parse::<u32>().is_ok_and(|h| h < 24)
        && minute.parse::<u32>().is_ok_and(|m| m < 60)
}

/// Checks a standard 5-field cron expression.
pub fn check_cron(text: &str) -> Result<(), String> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "it has {} fields, a cron schedule has 5",
            fields.len()
        ));
    }
    const MONTHS: &[&str] = &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let specs: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day of month", 1, 31, &[]),
        ("month", 1, 12, MONTHS),
        ("day of week", 0, 7, DAYS),
    ];
    for (field, (what, low, high, names)) in fields.iter().zip(specs) {
        let value = |part: &str| -> Result<u32, String> {
            if let Some(idx) = names.iter().position(|n| n.eq_ignore_ascii_case(part)) {
                return Ok(idx as u32 + if what == "month" { 1 } else { 0 });
            }
            let n: u32 = part
                .parse()
                .map_err(|_| format!("`{part}` is not a valid {what}"))?;
            if n < low || n > high {
                return Err(format!("{what} `{n}` is outside {low}-{high}"));
            }
            Ok(n)
        };
        for item in field.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((range, step)) => (range, Some(step)),
                None => (item, None),
            };
            if let Some(step) = step {
                if step.parse::<u32>().map_or(true, |s| s == 0) {
                    return Err(format!("`{step}` is not a valid step in the {what} field"));
                }
            }
            if range == "*" {
                continue;
            }
            match range.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (value(from)?, value(to)?);
                    if from > to {
                        return Err(format!("the {what} range `{range}` goes backwards"));
                    }
                }
                None => {
                    value(range)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_expressions_are_checked() {
        assert!(check_cron("*/15 9-17 * * MON-FRI").is_ok());
        assert!(check_cron("0 3 1 JAN *").is_ok());
        assert!(check_cron("* * * *").is_err());
        assert!(check_cron("61 * * * *").is_err());
        assert!(check_cron("* * * * FUNDAY").is_err());
        assert!(is_time_of_day("03:30"));
        assert!(!is_time_of_day("3:30"));
        assert!(!is_time_of_day("24:00"));
    }
}
