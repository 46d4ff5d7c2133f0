//! One request as a unit of work (web.md §2, §5; data.md §7): on a VM worker, the
//! file's top-level code runs, then its page renders or its route block runs; the
//! result becomes a response. The database work is one transaction: committed when the
//! response is a success, rolled back when the handler failed.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use flin_runtime::{DbHost, Store, store_error};
use flin_vm::{Host, Limits, Program, RuntimeError, Value, Vm};

use crate::host::WebHost;
use crate::json;
use crate::page;
use crate::routes::Route;

/// A request as plain data (it crosses from the async server to a worker thread).
#[derive(Clone, Debug, Default)]
pub struct RequestData {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub cookies: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub ip: String,
    pub params: Vec<(String, String)>,
    pub request_id: String,
}

/// A response as plain data.
#[derive(Clone, Debug)]
pub struct ResponseData {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ResponseData {
    pub fn json(status: u16, value: &serde_json::Value) -> ResponseData {
        ResponseData {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    pub fn error(status: u16, message: &str) -> ResponseData {
        ResponseData::json(
            status,
            &serde_json::json!({ "error": message, "status": status }),
        )
    }
}

/// `guard rate_limit`: requests per (client, file) in the current window.
pub type RateCounts = std::collections::HashMap<(String, String), (u32, std::time::Instant)>;

/// What the server knows that every unit of work needs.
pub struct Site {
    pub program: Rc<Program>,
    pub store: Option<Arc<Store>>,
    pub dev: bool,
    pub time_limit: Duration,
    /// Layout files by name (`layouts/admin.flin` is `admin`), with their code.
    pub layouts: Vec<(String, u32)>,
    /// `layout "x"` / `layout none` of the files that choose.
    pub layout_choices: Vec<(flin_diagnostics::FileId, Option<String>)>,
    /// Middleware functions with the folder they cover (`app/admin/`), root first.
    pub middleware: Vec<(String, u32)>,
    pub session_key: cookie::Key,
    /// `guard rate_limit`: requests per (client, file) in the current window.
    pub rate: Arc<std::sync::Mutex<RateCounts>>,
    pub sources: Arc<flin_diagnostics::Sources>,
}

/// Runs one request against `route` and answers it.
pub fn handle(site: &Site, route: &Route, request: RequestData) -> ResponseData {
    let method = request.method.clone();
    let block = route
        .methods
        .iter()
        .find(|(m, _)| *m == method || (method == "HEAD" && m == "GET"))
        .map(|(_, f)| *f);
    let renders = route.page && (method == "GET" || method == "HEAD");
    if block.is_none() && !renders {
        let allowed = route.allowed().join(", ");
        let mut response = ResponseData::error(405, &format!("{method} is not allowed here"));
        response.headers.push(("allow".into(), allowed));
        return response;
    }
    let request_id = request.request_id.clone();
    let limits = Limits {
        time_limit: Some(site.time_limit),
        ..Limits::default()
    };
    // A GET usually only reads: it runs on a reader connection, beside other requests.
    // If it writes after all, it runs again on the writer.
    let reads_first = method == "GET" || method == "HEAD";
    let (host, outcome) = match attempt(site, route, block, &request, limits, reads_first) {
        (_, Err(err)) if reads_first && is_read_only(&err) => {
            attempt(site, route, block, &request, limits, false)
        }
        done => done,
    };
    for (level, line) in &host.log_lines {
        eprintln!("[{level}] {line}");
    }
    // Nothing of a unit of work outlives it, cycles included (and the collector's
    // weak references to dead values are dropped, so their memory goes back).
    flin_vm::cycles::collect();
    let mut response = match outcome {
        Ok(response) => response,
        Err(err) => {
            let response = error_response(site, &err, &request_id);
            // In `flin dev` a page that fails shows the error in the browser.
            if site.dev && renders && block.is_none() && response.status >= 500 {
                dev_error_page(site, &err, &request_id, response.status)
            } else {
                response
            }
        }
    };
    // A page renders inside the document shell (and its layout).
    let stopped = response.headers.iter().any(|(k, _)| k == "x-flin-stopped");
    response.headers.retain(|(k, _)| k != "x-flin-stopped");
    if renders && block.is_none() && response.status == 200 && !stopped {
        response = page::document(&host.html, site.dev);
    }
    // The session goes back to the client when it changed.
    let data = match &host.session_data {
        Some(value) => flin_vm::json::to_json_value(value),
        None => host
            .session_in
            .get("data")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
    };
    let session_out = serde_json::json!({
        "user": host.user.as_ref().map(|(e, id)| serde_json::json!([e, id])),
        "data": if data.is_null() { serde_json::json!({}) } else { data },
    });
    if session_out != host.session_in {
        response.headers.push((
            "set-cookie".into(),
            crate::session::seal(&site.session_key, &session_out, false),
        ));
    }
    response
}

/// The error SQLite gives a write on a read-only connection.
fn is_read_only(err: &RuntimeError) -> bool {
    err.kind == "database" && err.message == flin_store::READ_ONLY
}

/// Runs the request once, in a unit of work on a reader (`read`) or on the writer.
fn attempt<'s>(
    site: &'s Site,
    route: &Route,
    block: Option<u32>,
    request: &RequestData,
    limits: Limits,
    read: bool,
) -> (WebHost<'s>, Result<ResponseData, RuntimeError>) {
    let session_in = crate::session::open(&site.session_key, &request.cookies);
    let user = session_in
        .get("user")
        .and_then(|u| Some((u.get(0)?.as_str()?.to_string(), u.get(1)?.as_i64()?)));
    let next = std::rc::Rc::new(std::cell::Cell::new(false));
    let mut host = WebHost {
        site,
        source: route.source.clone(),
        html: String::new(),
        request: request.clone(),
        session_in,
        session_data: None,
        user,
        next: next.clone(),
        validated: None,
        children: None,
        log_lines: Vec::new(),
        captures: Vec::new(),
        components: Vec::new(),
        context_cache: Vec::new(),
    };
    let outcome = match &site.store {
        None => run(site, &mut host, route, block, limits, &next),
        Some(store) => match if read {
            store.read_unit()
        } else {
            store.unit()
        } {
            Err(err) => Err(store_error(err)),
            Ok(unit) => {
                let mut db_host = DbHost::new(&mut host, unit, site.program.clone());
                let outcome = run(site, &mut db_host, route, block, limits, &next);
                // A redirect ends the handler as a success (a form post saves, then
                // sends the browser on).
                let keep = match &outcome {
                    Ok(response) => response.status < 400,
                    Err(err) => err.kind == "redirect",
                };
                match db_host.finish(keep) {
                    Err(err) if keep => Err(store_error(err)),
                    _ => outcome,
                }
            }
        },
    };
    (host, outcome)
}

fn run(
    site: &Site,
    host: &mut dyn Host,
    route: &Route,
    block: Option<u32>,
    limits: Limits,
    next: &std::cell::Cell<bool>,
) -> Result<ResponseData, RuntimeError> {
    let mut vm = Vm::new(site.program.clone(), host);
    vm.limits = limits;
    vm.start_unit();
    // Middleware from the root folder down (web.md §6): each goes on with `next()`;
    // one that does not answers with its last value.
    for (folder, function) in &site.middleware {
        if !route.source.starts_with(folder.as_str()) {
            continue;
        }
        next.set(false);
        let value = vm.run_function(*function, &[])?;
        if !next.get() {
            let mut response = json::response_of(&value);
            response
                .headers
                .push(("x-flin-stopped".into(), "middleware".into()));
            return Ok(response);
        }
    }
    vm.run_function(route.main, &[])?;
    let Some(block) = block else {
        // A page: its layout renders around it, in the same unit of work.
        if let Some(layout) = page::layout_of(site, route) {
            vm.host.wrap_children();
            vm.run_function(layout, &[])?;
        }
        return Ok(ResponseData {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        });
    };
    let mut value = vm.run_function(block, &[])?;
    // A route that ends with a query answers with its rows.
    if let Value::Query(query) = &value {
        let plan = flin_vm::query::plan(query)?;
        value = vm.host.query(&plan, &flin_query::Terminal::Rows)?;
    }
    drop(vm);
    Ok(json::response_of(&value))
}

/// A page's runtime error as HTML (dev): kind, message, FLIN source line and stack.
fn dev_error_page(site: &Site, err: &RuntimeError, request_id: &str, status: u16) -> ResponseData {
    let mut trace = String::new();
    for entry in &err.trace {
        let Some(source) = site.sources.get(entry.file) else {
            continue;
        };
        let at = source.line_col(entry.span.start);
        let line = source
            .text
            .lines()
            .nth(at.line.saturating_sub(1) as usize)
            .unwrap_or("");
        let name = entry
            .function
            .map_or("top level".to_string(), |f| f.as_str().to_string());
        trace.push_str(&format!(
            "{}:{}  in {}\n    {}\n",
            source.path,
            at.line,
            name,
            line.trim()
        ));
    }
    let html = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>FLIN: {kind} error</title>\n<script src=\"/__flin/dev.js\" defer></script>\n<style>body{{font-family:ui-monospace,monospace;margin:2rem;}}pre{{background:#fff4f4;border-left:4px solid #d33;padding:1rem;white-space:pre-wrap;}}</style>\n</head>\n<body>\n<h1>{kind} error: {message}</h1>\n<pre>{trace}</pre>\n<p>request {request_id}</p>\n</body>\n</html>\n",
        kind = flin_vm::html::escape(err.kind),
        message = flin_vm::html::escape(&err.message),
        trace = flin_vm::html::escape(&trace),
    );
    ResponseData {
        status,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body: html.into_bytes(),
    }
}

/// A runtime error as the response the spec asks for (web.md §5).
pub fn error_response(site: &Site, err: &RuntimeError, request_id: &str) -> ResponseData {
    if err.kind == "redirect" {
        return ResponseData {
            status: err.status.unwrap_or(303),
            headers: vec![("location".into(), err.message.clone())],
            body: Vec::new(),
        };
    }
    if err.kind == "validation" {
        let fields: serde_json::Map<String, serde_json::Value> = err
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
            .collect();
        return ResponseData::json(
            400,
            &serde_json::json!({ "error": "Validation failed", "status": 400, "fields": fields }),
        );
    }
    if let Some(status) = err.status.filter(|s| (400..600).contains(s)) {
        let message = if err.kind == "not_found" {
            "Not found"
        } else {
            err.message.as_str()
        };
        let mut response = ResponseData::error(status, message);
        if status == 429 {
            // `Retry-After`, carried by the rate-limit error.
            response.headers.extend(err.fields.iter().cloned());
        }
        return response;
    }
    let at = err
        .trace
        .first()
        .and_then(|entry| {
            let source = site.sources.get(entry.file)?;
            let line = source.line_col(entry.span.start).line;
            Some(format!("{}:{line}", source.path))
        })
        .unwrap_or_default();
    eprintln!(
        "[error] request {request_id}: {} error: {} at {at}",
        err.kind, err.message
    );
    // A handler that ran out of time (or steps) is a timeout, with the FLIN line it
    // was running.
    let status = if err.kind == "limit" { 504 } else { 500 };
    let mut body = serde_json::json!({
        "error": if status == 504 { "The request took too long" } else { "Internal error" },
        "status": status,
        "request_id": request_id,
        "at": if status == 504 { serde_json::Value::from(at.as_str()) } else { serde_json::Value::Null },
    });
    if status == 500 {
        if let Some(object) = body.as_object_mut() {
            object.remove("at");
        }
    }
    if let (true, Some(object)) = (site.dev, body.as_object_mut()) {
        object.insert(
            "detail".into(),
            serde_json::json!({ "kind": err.kind, "message": err.message, "at": at }),
        );
    }
    ResponseData::json(status, &body)
}
