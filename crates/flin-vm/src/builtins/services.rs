//! Functions of the services (services.md): WebSocket messages and rooms, and, inside
//! tests (language.md §10), requests to the app's own routes and `run_job`. Each asks
//! the host, which knows whether a server, a socket or a test is there.

use std::rc::Rc;

use flin_syntax::Symbol;

use super::{Builtin, arg, text_arg};
use crate::error::RuntimeError;
use crate::host::{HttpCall, SocketOp};
use crate::value::{Entries, Key, Value};
use crate::vm::Vm;

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

pub fn builtins() -> Vec<Builtin> {
    vec![
        f!("send", 1, 1, |vm, a| {
            let value = crate::json::to_json_value(arg(a, 0));
            vm.host.socket(SocketOp::Send(value)).map(|()| Value::None)
        }),
        f!("join", 1, 1, |vm, a| {
            let room = text_arg(a, 0, "the room")?.as_str().to_string();
            vm.host.socket(SocketOp::Join(room)).map(|()| Value::None)
        }),
        f!("leave", 1, 1, |vm, a| {
            let room = text_arg(a, 0, "the room")?.as_str().to_string();
            vm.host.socket(SocketOp::Leave(room)).map(|()| Value::None)
        }),
        f!("broadcast", 2, 2, |vm, a| {
            let room = text_arg(a, 0, "the room")?.as_str().to_string();
            let value = crate::json::to_json_value(arg(a, 1));
            vm.host
                .socket(SocketOp::Broadcast(room, value))
                .map(|()| Value::None)
        }),
        f!("get", 1, 1, |vm, a| request(vm, "GET", a)),
        f!("post", 1, 2, |vm, a| request(vm, "POST", a)),
        f!("put", 1, 2, |vm, a| request(vm, "PUT", a)),
        f!("patch", 1, 2, |vm, a| request(vm, "PATCH", a)),
        f!("delete_req", 1, 1, |vm, a| request(vm, "DELETE", a)),
        f!("run_job", 1, 1, |vm, a| {
            let name = text_arg(a, 0, "the job")?.as_str().to_string();
            run_job(vm, &name).map(|()| Value::None)
        }),
    ]
}

/// `get(path)`, `post(path, body)` …: the app's answer as `{status, headers, body, json}`
/// (`json` is `none` when the body is not JSON).
fn request(vm: &mut Vm<'_>, method: &'static str, a: &[Value]) -> Result<Value, RuntimeError> {
    let path = text_arg(a, 0, "the path")?.as_str().to_string();
    if !path.starts_with('/') {
        return Err(RuntimeError::runtime(format!(
            "`{}` takes a path of the app, starting with `/`, not `{path}`",
            method_function(method)
        )));
    }
    let body = a.get(1).map(crate::json::to_json_value);
    let reply = vm.host.http(&HttpCall { method, path, body })?;
    let json = match serde_json::from_str::<serde_json::Value>(&reply.body) {
        Ok(parsed) => Value::Json(Rc::new(parsed)),
        Err(_) => Value::None,
    };
    let mut headers = Entries::default();
    for (name, value) in reply.headers {
        headers.insert(Key(Value::text(name)), Value::text(value));
    }
    let shape: Rc<[Symbol]> = ["status", "headers", "body", "json"]
        .into_iter()
        .map(Symbol::intern)
        .collect();
    Ok(Value::record(
        shape,
        vec![
            Value::Int(i64::from(reply.status)),
            Value::map(headers),
            Value::text(reply.body),
            json,
        ],
    ))
}

fn method_function(method: &str) -> &'static str {
    match method {
        "GET" => "get",
        "POST" => "post",
        "PUT" => "put",
        "PATCH" => "patch",
        _ => "delete_req",
    }
}

/// `run_job("jobs/cleanup.flin:1")`: the job's file sets its variables, then the job
/// runs now, inside the caller's unit of work.
fn run_job(vm: &mut Vm<'_>, name: &str) -> Result<(), RuntimeError> {
    let code = vm.program.code.clone();
    let Some(job) = code.jobs.iter().find(|job| job.name == name) else {
        let known: Vec<&str> = code.jobs.iter().map(|job| job.name.as_str()).collect();
        let known = match known.is_empty() {
            true => "the project has no `every` or `cron` block".to_string(),
            false => format!("its jobs: {}", known.join(", ")),
        };
        return Err(RuntimeError::runtime(format!("no job `{name}` ({known})")));
    };
    if let Some((_, main)) = code.entries.iter().find(|(file, _)| *file == job.file) {
        vm.run_function(*main, &[])?;
    }
    vm.run_function(job.function, &[])?;
    Ok(())
}
