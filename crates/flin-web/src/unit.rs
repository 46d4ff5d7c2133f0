//! One request as a unit of work (web.md §2, §5; data.md §7): on a VM worker, the
//! file's top-level code runs, then its page renders or its route block runs; the
//! result becomes a response. The database work is one transaction: committed when the
//! response is a success, rolled back when the handler failed.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use flin_runtime::{DbHost, Store, store_error};
use flin_vm::{Host, Limits, Program, RuntimeError, Value, Vm};

use crate::host::WebHost;
use crate::json;
use crate::live::token::Signer;
use crate::page;
use crate::render::PageRender;
use crate::routes::{Route, RouteTable};

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
    /// The query string as sent (`a=1&b=2`).
    pub raw_query: String,
    /// Its unit of work runs a second time (it started on a reader and wrote): what
    /// happens outside the database (rate-limit counts) happened the first time.
    pub retry: bool,
    /// It came over HTTPS (directly, or as a trusted proxy says).
    pub secure: bool,
    /// A `multipart/form-data` body, received (its files stored, held until the
    /// request is over); `body` is empty then.
    pub uploads: Option<Arc<crate::uploads::Received>>,
}

impl RequestData {
    pub fn query_text(&self) -> &str {
        &self.raw_query
    }
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
    /// `jobs.timeout`: how long one run of a job may take.
    pub job_timeout: Duration,
    /// `server.request_memory`: what one unit of work's values may hold.
    pub request_memory: usize,
    /// Layout files by name (`layouts/admin.flin` is `admin`).
    pub layouts: Vec<(String, flin_diagnostics::FileId)>,
    /// `layout "x"` / `layout none` of the files that choose.
    pub layout_choices: Vec<(flin_diagnostics::FileId, Option<String>)>,
    /// Middleware functions with the folder they cover (`app/admin/`), root first.
    pub middleware: Vec<(String, u32)>,
    /// Every session of the app (web.md §7).
    pub sessions: Arc<crate::session::Sessions>,
    /// `guard rate_limit`: requests per (client, file) in the current window.
    pub rate: Arc<std::sync::Mutex<RateCounts>>,
    pub sources: Arc<flin_diagnostics::Sources>,
    /// Signs view tokens and the hidden field of forms (live pages).
    pub signer: Signer,
    /// The build serving (a live page rendered by another build reloads).
    pub build: u64,
    pub routes: Arc<RouteTable>,
    /// `app/_error.flin`, the app's error page for browsers.
    pub error_page: Option<flin_diagnostics::FileId>,
    /// The app's WebSocket connections and rooms.
    pub sockets: Arc<crate::sockets::Sockets>,
}

/// What a request runs after its file's top-level code.
enum Mode {
    /// Render the page.
    Page,
    /// A `route METHOD { }` block.
    Route(u32),
    /// A form posted without JavaScript: the page renders (naming its handlers), then
    /// the `submit` handler it names runs (after the posted `fields` set the page's
    /// bound variables); the browser goes `back` to the page after.
    Form {
        handler: String,
        back: String,
        fields: Vec<(String, String)>,
    },
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
    // A form of the page posted without JavaScript names its `submit` handler.
    let posted = (route.page && method == "POST")
        .then(|| crate::live::form::posted_handler(site, &request))
        .flatten();
    let mode = match (posted, block) {
        (Some(handler), _) => Mode::Form {
            handler,
            fields: crate::live::form::fields(&request),
            back: match request.raw_query.is_empty() {
                true => request.path.clone(),
                false => format!("{}?{}", request.path, request.raw_query),
            },
        },
        (None, Some(block)) => Mode::Route(block),
        (None, None) if renders => Mode::Page,
        (None, None) if route.socket && method == "GET" => {
            let mut response = ResponseData::error(
                426,
                "this path is a WebSocket endpoint: connect to it with a WebSocket client",
            );
            response
                .headers
                .push(("upgrade".into(), "websocket".into()));
            return with_error_page(site, &request, response);
        }
        (None, None) => {
            let allowed = route.allowed().join(", ");
            let mut response = ResponseData::error(405, &format!("{method} is not allowed here"));
            response.headers.push(("allow".into(), allowed));
            return with_error_page(site, &request, response);
        }
    };
    let request_id = request.request_id.clone();
    let limits = Limits {
        time_limit: Some(site.time_limit),
        max_memory: Some(site.request_memory),
        ..Limits::default()
    };
    // A GET whose code cannot write runs on a reader connection, beside other requests;
    // one that may write runs on the writer from the start, so it runs once. (Should
    // it write after all, it runs again on the writer, its outside effects not
    // repeated.)
    let reads_first = (method == "GET" || method == "HEAD")
        && !may_write(site, route, matches!(mode, Mode::Page), block);
    let mut session = site.sessions.open(&request.cookies);
    if let Some(reason) = crate::csrf::refusal(site, &request, &session) {
        crate::logs::line(site.dev, "warn", &reason, Some(&request_id));
        return with_error_page(site, &request, ResponseData::error(403, &reason));
    }
    let (host, outcome) = match attempt(site, route, &mode, &request, &session, limits, reads_first)
    {
        (_, Err(err)) if reads_first && is_read_only(&err) => {
            let again = RequestData {
                retry: true,
                ..request.clone()
            };
            attempt(site, route, &mode, &again, &session, limits, false)
        }
        done => done,
    };
    for (level, line) in &host.log_lines {
        crate::logs::line(site.dev, level, line, Some(&request_id));
    }
    // Nothing of a unit of work outlives it, cycles included (and the collector's
    // weak references to dead values are dropped, so their memory goes back).
    flin_vm::cycles::collect_young();
    let page = matches!(mode, Mode::Page);
    let mut response = match outcome {
        Ok(response) => response,
        Err(err) => {
            let response = error_response(site, &err, &request_id);
            // In `flin dev` a page that fails shows the error in the browser.
            if site.dev && page && response.status >= 500 {
                dev_error_page(site, &err, &request_id, response.status)
            } else {
                response
            }
        }
    };
    // A page renders inside the document shell (and its layout).
    let stopped = response.headers.iter().any(|(k, _)| k == "x-flin-stopped");
    response.headers.retain(|(k, _)| k != "x-flin-stopped");
    if page && response.status == 200 && !stopped {
        response = crate::page::document(site, &host, route);
    }
    // What the request made of its session is stored (after its unit of work); the
    // cookie changes when the session began, ended or was issued a new id.
    if let Some(cookie) = site
        .sessions
        .close(&mut session, &host.session_out(), request.secure)
    {
        response.headers.push(("set-cookie".into(), cookie));
    }
    with_error_page(site, &request, response)
}

/// A browser asking for a page gets errors as HTML (web.md §7, §9).
pub fn with_error_page(site: &Site, request: &RequestData, response: ResponseData) -> ResponseData {
    if response.status < 400 || !crate::error_page::wants_html(request) {
        return response;
    }
    let is_json = response
        .headers
        .iter()
        .any(|(k, v)| k == "content-type" && v.starts_with("application/json"));
    if !is_json {
        return response;
    }
    crate::error_page::render(site, request, response)
}

/// Whether the code a request to `route` runs may write the database (as the
/// compiler reads it, [`flin_vm::writes`]): its middleware, its file's top-level code,
/// then its route `block`, or, for a `page`, its markup and layout.
pub fn may_write(site: &Site, route: &Route, page: bool, block: Option<u32>) -> bool {
    let program = &site.program;
    let code = &program.code;
    let mut functions = vec![route.main];
    functions.extend(
        site.middleware
            .iter()
            .filter(|(folder, _)| route.source.starts_with(folder.as_str()))
            .map(|(_, f)| *f),
    );
    if page {
        functions.extend(code.view_of(route.file).map(|v| v.render));
        if let Some(layout) = page::layout_of(site, route) {
            functions.extend(
                code.entries
                    .iter()
                    .filter(|(f, _)| *f == layout)
                    .map(|(_, m)| *m),
            );
            functions.extend(code.view_of(layout).map(|v| v.render));
        }
    } else {
        functions.extend(block);
    }
    functions.iter().any(|f| program.may_write(*f))
}

/// The error SQLite gives a write on a read-only connection.
pub fn is_read_only(err: &RuntimeError) -> bool {
    err.kind == "database" && err.message == flin_store::READ_ONLY
}

/// Runs the request once, in a unit of work on a reader (`read`) or on the writer.
fn attempt<'s>(
    site: &'s Site,
    route: &Route,
    mode: &Mode,
    request: &RequestData,
    session: &crate::session::Session,
    limits: Limits,
    read: bool,
) -> (WebHost<'s>, Result<ResponseData, RuntimeError>) {
    let session_in = session.data.clone();
    let mut page = PageRender::new(false);
    page.sign_forms(&request.path, site.signer.clone());
    page.form_token(site.signer.clone(), session.binding());
    let mut host = WebHost::new(
        site,
        route.source.clone(),
        request.clone(),
        session_in,
        page,
    );
    host.live = page::is_live(site, route);
    if matches!(mode, Mode::Form { .. }) {
        host.event = Some(crate::live::form::event_of(request));
    }
    let next = host.next.clone();
    let page = host.page.clone();
    let outcome = with_unit(site, &mut host, !read, |host| {
        run(site, host, &page, route, mode, limits, &next)
    });
    (host, outcome)
}

/// Runs `work` as one unit of work (data.md §7): on the writer (`write`) or a reader;
/// committed when it succeeds (a redirect counts), rolled back when it fails. Without
/// entities there is no database and `work` runs with the host as it is.
pub fn with_unit<T>(
    site: &Site,
    host: &mut WebHost<'_>,
    write: bool,
    work: impl FnOnce(&mut dyn Host) -> Result<T, RuntimeError>,
) -> Result<T, RuntimeError>
where
    T: Succeeds,
{
    let Some(store) = &site.store else {
        let outcome = work(host);
        let keep = match &outcome {
            Ok(value) => value.succeeds(),
            Err(err) => err.kind == "redirect",
        };
        host.after_unit(keep);
        return outcome;
    };
    let unit = if write {
        store.unit()
    } else {
        store.read_unit()
    };
    match unit {
        Err(err) => Err(store_error(err)),
        Ok(unit) => {
            let mut db_host = DbHost::new(host, unit, site.program.clone());
            let outcome = work(&mut db_host);
            // A redirect ends the handler as a success (a form post saves, then sends
            // the browser on).
            let keep = match &outcome {
                Ok(value) => value.succeeds(),
                Err(err) => err.kind == "redirect",
            };
            let result = match db_host.finish(keep) {
                Err(err) if keep => Err(store_error(err)),
                _ => outcome,
            };
            // What the unit sent to sockets goes after its commit, or not at all.
            host.after_unit(keep && result.is_ok());
            result
        }
    }
}

/// Whether a unit of work's result keeps its writes.
pub trait Succeeds {
    fn succeeds(&self) -> bool;
}

impl Succeeds for ResponseData {
    fn succeeds(&self) -> bool {
        self.status < 400
    }
}

impl Succeeds for () {
    fn succeeds(&self) -> bool {
        true
    }
}

fn run(
    site: &Site,
    host: &mut dyn Host,
    page: &Rc<RefCell<PageRender>>,
    route: &Route,
    mode: &Mode,
    limits: Limits,
    next: &std::cell::Cell<bool>,
) -> Result<ResponseData, RuntimeError> {
    let mut vm = Vm::new(site.program.clone(), host);
    vm.limits = limits;
    vm.start_unit();
    if let Some(response) = run_middleware(site, &mut vm, route, next)? {
        return Ok(response);
    }
    vm.run_function(route.main, &[])?;
    match mode {
        Mode::Page => {
            render_page(site, &mut vm, route)?;
            Ok(ResponseData {
                status: 200,
                headers: Vec::new(),
                body: Vec::new(),
            })
        }
        Mode::Route(block) => {
            let mut value = vm.run_function(*block, &[])?;
            // A route that ends with a query answers with its rows.
            if let Value::Query(query) = &value {
                let plan = flin_vm::query::plan(query)?;
                value = vm.host.query(&plan, &flin_query::Terminal::Rows)?;
            }
            drop(vm);
            Ok(json::response_of(&value))
        }
        Mode::Form {
            handler,
            back,
            fields: posted,
        } => {
            if let Some(view) = site.program.code.view_of(route.file) {
                vm.run_function(view.render, &[])?;
            }
            let (found, mut instances) = {
                let mut page = page.borrow_mut();
                (
                    page.handlers.get(handler).cloned(),
                    std::mem::take(&mut page.rendered),
                )
            };
            let location = back.clone();
            let Some(found) = found else {
                // The page changed since the form was rendered: nothing runs.
                vm.host.log(
                    "warn",
                    &format!("a form named handler {handler}, which the page no longer has"),
                );
                return Ok(redirect_to(&location));
            };
            // The posted values of the page's bound fields set their variables first.
            let binds: Vec<crate::render::Handler> = page
                .borrow()
                .handlers
                .values()
                .filter(|h| matches!(&h.kind, crate::render::HandlerKind::Bind { field, .. } if posted.iter().any(|(k, _)| **k == **field)))
                .cloned()
                .collect();
            for bind in &binds {
                let crate::render::HandlerKind::Bind { kind, field } = &bind.kind else {
                    continue;
                };
                let text = posted
                    .iter()
                    .find(|(k, _)| **k == **field)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let data = serde_json::json!({ "value": text, "checked": true });
                if let Some(value) = crate::live::view::bound_value(kind, &data) {
                    crate::live::call_handler(&mut vm, page, &mut instances, bind, &[value])?;
                }
            }
            crate::live::call_handler(&mut vm, page, &mut instances, &found, &[])?;
            Ok(redirect_to(&location))
        }
    }
}

fn redirect_to(location: &str) -> ResponseData {
    ResponseData {
        status: 303,
        headers: vec![("location".into(), location.to_string())],
        body: Vec::new(),
    }
}

/// Middleware from the root folder down (web.md §6): each goes on with `next()`; one
/// that does not answers with its last value.
pub fn run_middleware(
    site: &Site,
    vm: &mut Vm<'_>,
    route: &Route,
    next: &std::cell::Cell<bool>,
) -> Result<Option<ResponseData>, RuntimeError> {
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
            return Ok(Some(response));
        }
    }
    Ok(None)
}

/// A page's markup (after its code), then its layout around it, in the same unit of
/// work.
pub fn render_page(site: &Site, vm: &mut Vm<'_>, route: &Route) -> Result<(), RuntimeError> {
    if let Some(view) = site.program.code.view_of(route.file) {
        vm.run_function(view.render, &[])?;
    }
    if let Some(layout) = page::layout_of(site, route) {
        vm.host.wrap_children();
        render_layout(site, vm, layout)?;
    }
    Ok(())
}

/// A layout's code, then its markup (its `{children}` given already).
pub fn render_layout(
    site: &Site,
    vm: &mut Vm<'_>,
    layout: flin_diagnostics::FileId,
) -> Result<(), RuntimeError> {
    let code = site.program.code.clone();
    if let Some(main) = code
        .entries
        .iter()
        .find(|(f, _)| *f == layout)
        .map(|(_, m)| *m)
    {
        vm.run_function(main, &[])?;
    }
    if let Some(view) = code.view_of(layout) {
        vm.run_function(view.render, &[])?;
    }
    Ok(())
}

/// Where `redirect(url)` may send the browser (web.md §7 "Redirects"): a path of this
/// site (a leading run of `/` and `\\` collapsed to one `/`, so `//evil.example` stays
/// here), a relative path, or an absolute `http(s)` URL when it was written in the code
/// (or names this site's `host`); anything else goes to `/`.
pub fn redirect_target(err: &RuntimeError, host: Option<&str>) -> String {
    let written = err.fields.iter().any(|(k, _)| k == "written");
    safe_location(&err.message, written, host)
}

pub fn safe_location(url: &str, written: bool, host: Option<&str>) -> String {
    let url = url.trim();
    if url.starts_with('/') || url.starts_with('\\') {
        let rest = url.trim_start_matches(['/', '\\']);
        return format!("/{rest}");
    }
    let lower = url.to_ascii_lowercase();
    for scheme in ["http://", "https://"] {
        if let Some(rest) = lower.strip_prefix(scheme) {
            let target_host = rest.split(['/', '?', '#']).next().unwrap_or("");
            if written || host.is_some_and(|h| h.eq_ignore_ascii_case(target_host)) {
                return url.to_string();
            }
            return "/".to_string();
        }
    }
    // No scheme and no leading slash: relative to the current path (`next`, `../x`).
    let scheme_like = url
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|first| first.contains(':'));
    if scheme_like || url.is_empty() {
        return "/".to_string();
    }
    url.to_string()
}

/// Where a runtime error happened: `file:line` of its innermost FLIN frame.
pub fn location_of(site: &Site, err: &RuntimeError) -> String {
    err.trace
        .first()
        .and_then(|entry| {
            let source = site.sources.get(entry.file)?;
            let line = source.line_col(entry.span.start).line;
            Some(format!("{}:{line}", source.path))
        })
        .unwrap_or_default()
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
            headers: vec![("location".into(), redirect_target(err, None))],
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
    let timeout = err.kind == "limit" && err.status == Some(504);
    if !timeout && let Some(status) = err.status.filter(|s| (400..600).contains(s)) {
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
    let at = location_of(site, err);
    crate::logs::line(
        site.dev,
        "error",
        &format!("{} error: {} at {at}", err.kind, err.message),
        Some(request_id),
    );
    // A handler that ran out of time (or steps) is a timeout; any other error (call
    // depth included) is the program's: 500. Where it happened is in the log (and in
    // the body in `flin dev`), never in `flin start`'s body.
    let status = if timeout { 504 } else { 500 };
    let mut body = serde_json::json!({
        "error": if status == 504 { "The request took too long" } else { "Internal error" },
        "status": status,
        "request_id": request_id,
    });
    if let (true, Some(object)) = (site.dev, body.as_object_mut()) {
        object.insert(
            "detail".into(),
            serde_json::json!({ "kind": err.kind, "message": err.message, "at": at }),
        );
    }
    ResponseData::json(status, &body)
}

#[cfg(test)]
mod tests {
    use super::safe_location;

    #[test]
    fn redirects_stay_on_the_site_unless_the_code_names_another() {
        assert_eq!(
            safe_location("//evil.example/", false, None),
            "/evil.example/"
        );
        assert_eq!(
            safe_location("/\\evil.example", false, None),
            "/evil.example"
        );
        assert_eq!(safe_location("/books/3", false, None), "/books/3");
        assert_eq!(safe_location("https://evil.example/x", false, None), "/");
        assert_eq!(
            safe_location("https://evil.example/x", true, None),
            "https://evil.example/x"
        );
        assert_eq!(
            safe_location("http://me.example/x", false, Some("me.example")),
            "http://me.example/x"
        );
        assert_eq!(safe_location("javascript:alert(1)", true, None), "/");
        assert_eq!(safe_location("next?a=1", false, None), "next?a=1");
    }
}
