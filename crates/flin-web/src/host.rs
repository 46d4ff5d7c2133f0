//! The host a request's VM talks to (web.md §2, §5–§7): the page being rendered
//! (`render.rs`, with the stack of rendering components for their context), the
//! request's context values (`params`, `query`, `body`, `session` …), the session's user,
//! `validate { }`, the built-in guards that need the request, and `next()` of middleware.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use flin_vm::host::{KeptInstance, Mark, Site as Site_};
use flin_vm::value::{Entries, Key};
use flin_vm::{Host, RuntimeError, Value};

use crate::render::PageRender;

use crate::json;
use crate::unit::{RequestData, Site};

/// The host of a request: the page being rendered and the request's context values.
pub struct WebHost<'s> {
    pub(crate) site: &'s Site,
    /// The file being served (for rate limits per route).
    pub(crate) source: String,
    /// The page being rendered; shared with a live view, which reads it between the
    /// VM runs of one unit of work.
    pub(crate) page: Rc<RefCell<PageRender>>,
    pub(crate) request: RequestData,
    /// The session as the request brought it, and as the program sees it.
    pub(crate) session_in: serde_json::Value,
    pub(crate) session_data: Option<Value>,
    pub(crate) user: Option<(String, i64)>,
    pub(crate) next: std::rc::Rc<std::cell::Cell<bool>>,
    /// `body` after a `validate { }` block: the validated fields.
    pub(crate) validated: Option<Value>,
    /// A layout's `{children}`: the page rendered inside it.
    pub(crate) children: Option<String>,
    pub(crate) log_lines: Vec<(&'static str, String)>,
    /// The components rendering now, innermost last: their props and children.
    pub(crate) components: Vec<(Value, Value)>,
    /// Context values already built for this request.
    pub(crate) context_cache: Vec<(String, Value)>,
    /// `event` while a live handler runs.
    pub(crate) event: Option<Value>,
    /// Other context values of this unit (`status` and `message` of an error page).
    pub(crate) extra_context: Vec<(String, Value)>,
    /// The page is live by its own code (handlers, `bind`, live values).
    pub(crate) live: bool,
    /// The `ws` connection whose event this unit handles.
    pub(crate) connection: Option<u64>,
    /// `send`, `join`, `leave`, `broadcast`: done after the unit commits.
    pub(crate) socket_ops: Vec<flin_vm::SocketOp>,
}

impl<'s> WebHost<'s> {
    pub fn new(
        site: &'s Site,
        source: String,
        request: RequestData,
        session_in: serde_json::Value,
        page: PageRender,
    ) -> WebHost<'s> {
        let user = crate::session::user_of(&session_in);
        WebHost {
            site,
            source,
            page: Rc::new(RefCell::new(page)),
            request,
            session_in,
            session_data: None,
            user,
            next: Rc::new(std::cell::Cell::new(false)),
            validated: None,
            children: None,
            log_lines: Vec::new(),
            components: Vec::new(),
            context_cache: Vec::new(),
            event: None,
            extra_context: Vec::new(),
            live: false,
            connection: None,
            socket_ops: Vec::new(),
        }
    }

    /// The unit of work ended: what it sent to sockets is delivered when it was kept.
    pub fn after_unit(&mut self, kept: bool) {
        let ops = std::mem::take(&mut self.socket_ops);
        if !kept {
            return;
        }
        let sockets = &self.site.sockets;
        for op in ops {
            match op {
                flin_vm::SocketOp::Send(value) => {
                    if let Some(id) = self.connection {
                        sockets.send(id, value.to_string());
                    }
                }
                flin_vm::SocketOp::Join(room) => {
                    if let Some(id) = self.connection {
                        sockets.join(id, &room);
                    }
                }
                flin_vm::SocketOp::Leave(room) => {
                    if let Some(id) = self.connection {
                        sockets.leave(id, &room);
                    }
                }
                flin_vm::SocketOp::Broadcast(room, value) => {
                    let text = value.to_string();
                    sockets.broadcast(&room, &text);
                    // The other servers' sockets too, on PostgreSQL (data.md §10).
                    if let Some(store) = &self.site.store {
                        if let Err(err) = store.publish_broadcast(&room, &text) {
                            crate::logs::line(
                                self.site.dev,
                                "error",
                                &format!("broadcast to other servers failed: {err}"),
                                None,
                            );
                        }
                    }
                }
            }
        }
    }

    /// The session as it stands after the unit of work (`{"user": …, "data": …}`).
    pub fn session_out(&self) -> serde_json::Value {
        let data = match &self.session_data {
            Some(value) => session_json(value),
            None => self
                .session_in
                .get("data")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
        };
        serde_json::json!({
            "user": self.user.as_ref().map(|(e, id)| serde_json::json!([e, id])),
            "data": if data.is_null() { serde_json::json!({}) } else { data },
        })
    }
}

/// The `session` map as stored: a saved entity as its reference, read back as the
/// current row (web.md §7).
fn session_json(value: &Value) -> serde_json::Value {
    let mut json = flin_vm::json::to_json_value(value);
    if let (Value::Map(entries), Some(object)) = (value, json.as_object_mut()) {
        for (Key(key), value) in entries.borrow().iter() {
            let (Value::Text(key), Value::Entity(entity)) = (key, value) else {
                continue;
            };
            if let Some(reference) = flin_vm::reference::to_json(entity) {
                object.insert(key.as_str().to_string(), reference);
            }
        }
    }
    json
}

impl Host for WebHost<'_> {
    fn print(&mut self, line: &str) {
        self.log_lines.push(("info", line.to_string()));
    }

    fn log(&mut self, level: &'static str, line: &str) {
        self.log_lines.push((level, line.to_string()));
    }

    fn emit(&mut self, html: &str) {
        self.page.borrow_mut().emit(html);
    }

    fn emit_hole(&mut self, html: &str) {
        self.page.borrow_mut().hole(html);
    }

    fn capture_begin(&mut self) {
        self.page.borrow_mut().capture_begin();
    }

    fn capture_end(&mut self) -> String {
        self.page.borrow_mut().capture_end()
    }

    fn mark(&mut self, mark: Mark, key: Option<&Value>) {
        self.page.borrow_mut().mark(mark, key);
    }

    fn handler(&mut self, site: Site_, event: &str, handler: &Value) -> Result<(), RuntimeError> {
        self.page.borrow_mut().handler(site, event, handler);
        Ok(())
    }

    fn bind(&mut self, site: Site_, kind: &str, setter: &Value) -> Result<(), RuntimeError> {
        self.page.borrow_mut().bind(site, kind, setter);
        Ok(())
    }

    fn head(&mut self, html: &str) {
        self.page.borrow_mut().head(html);
    }

    fn component_begin(
        &mut self,
        name: &str,
        site: Site_,
        props: Value,
        children: Value,
    ) -> Option<KeptInstance> {
        let code = &self.site.program.code;
        let view = code
            .components
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v);
        let mut page = self.page.borrow_mut();
        // A component with handlers or live values makes its page live.
        if let Some(code) = view.and_then(|v| code.views.get(v as usize)) {
            if code.interactive || !code.live.is_empty() {
                page.live = true;
            }
        }
        self.components.push((props.clone(), children.clone()));
        page.component_begin(view, site, props, children)
    }

    fn component_end(&mut self, state: Vec<Value>) {
        self.components.pop();
        self.page.borrow_mut().component_end(state);
    }

    fn wrap_children(&mut self) {
        // A live view keeps the page's tree whole inside its layout; a plain render
        // hands the layout the page's HTML.
        self.children = Some(self.page.borrow_mut().wrap_children());
    }

    fn session_user(&mut self) -> Option<(String, i64)> {
        self.user.clone()
    }

    fn set_session_user(&mut self, user: Option<(String, i64)>) -> Result<(), RuntimeError> {
        // `logout()` ends the whole session, its data too.
        if user.is_none() {
            self.session_data = Some(Value::map(Entries::default()));
        }
        self.user = user;
        Ok(())
    }

    fn next_middleware(&mut self) {
        self.next.set(true);
    }

    fn guard(&mut self, name: &str, args: &[Value]) -> Result<(), RuntimeError> {
        let fail = |status: u16, kind: &'static str, message: &str| {
            let mut err = RuntimeError::new(kind, message);
            err.status = Some(status);
            Err(err)
        };
        let header = |name: &str| {
            self.request
                .headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        match name {
            "rate_limit" => {
                let (limit, seconds) = match args {
                    [Value::Int(n), Value::Int(s)] => (*n, *s),
                    _ => {
                        return fail(
                            500,
                            "runtime",
                            "`guard rate_limit(n, seconds)` takes two ints",
                        );
                    }
                };
                let key = (self.request.ip.clone(), self.source.clone());
                let now = std::time::Instant::now();
                let window = Duration::from_secs(u64::try_from(seconds.max(1)).unwrap_or(1));
                // Several servers on PostgreSQL count together (data.md §10).
                if let Some(store) = &self.site.store {
                    let micros = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
                    let wall = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, micros);
                    let shared = store.count_request(
                        &format!("{}\u{1f}{}", key.0, key.1),
                        wall,
                        micros(window),
                        !self.request.retry,
                    );
                    match shared {
                        Ok(None) => {}
                        Ok(Some((count, start))) => {
                            if count > limit {
                                let left = (start + micros(window) - wall).max(0);
                                let retry = (left / 1_000_000).max(1);
                                let mut err = RuntimeError::new("limit", "Too many requests");
                                err.status = Some(429);
                                err.fields = vec![("retry-after".into(), retry.to_string())];
                                return Err(err);
                            }
                            return Ok(());
                        }
                        Err(err) => return fail(503, "database", &err.to_string()),
                    }
                }
                let Ok(mut rate) = self.site.rate.lock() else {
                    return Ok(());
                };
                let entry = rate.entry(key).or_insert((0, now));
                if now.duration_since(entry.1) >= window {
                    *entry = (0, now);
                }
                // A unit of work run again (it wrote after starting on a reader) was
                // counted the first time: it is one request.
                if !self.request.retry {
                    entry.0 += 1;
                }
                if i64::from(entry.0) > limit {
                    let retry = window
                        .saturating_sub(now.duration_since(entry.1))
                        .as_secs()
                        .max(1);
                    let mut err = RuntimeError::new("limit", "Too many requests");
                    err.status = Some(429);
                    err.fields = vec![("retry-after".into(), retry.to_string())];
                    return Err(err);
                }
                Ok(())
            }
            "api_key" => {
                let expected = std::env::var("FLIN_API_KEY").unwrap_or_default();
                let given = header("authorization")
                    .and_then(|v| v.strip_prefix("Bearer ").map(str::to_string))
                    .unwrap_or_default();
                if expected.is_empty() || given != expected {
                    return fail(401, "unauthorized", "A valid API key is needed");
                }
                Ok(())
            }
            "same_origin" => match (header("origin"), header("host")) {
                (Some(origin), Some(host)) if origin.split("://").nth(1) != Some(host.as_str()) => {
                    fail(403, "forbidden", "Cross-origin request refused")
                }
                _ => Ok(()),
            },
            other => fail(500, "runtime", &format!("unknown guard `{other}`")),
        }
    }

    fn validate(&mut self, fields: &flin_query::EntityDef) -> Result<(), RuntimeError> {
        let body = self.context("body");
        let (values, record, mismatches) = crate::validate::body(fields, &body);
        let mut failures = mismatches;
        for (field, message) in flin_store::check_rules(fields, &values) {
            // A field of the wrong kind is reported once, as that.
            if !failures.iter().any(|(f, _)| *f == field) {
                failures.push((field, message));
            }
        }
        if !failures.is_empty() {
            let message: Vec<&str> = failures.iter().map(|(_, m)| m.as_str()).collect();
            let mut err = RuntimeError::new("validation", message.join(", "));
            err.fields = failures;
            err.status = Some(400);
            return Err(err);
        }
        self.validated = Some(record);
        Ok(())
    }

    fn socket(&mut self, op: flin_vm::SocketOp) -> Result<(), RuntimeError> {
        if self.connection.is_none() && !matches!(op, flin_vm::SocketOp::Broadcast(..)) {
            let name = match op {
                flin_vm::SocketOp::Send(_) => "send",
                flin_vm::SocketOp::Join(_) => "join",
                _ => "leave",
            };
            return Err(RuntimeError::runtime(format!(
                "`{name}` works inside the handlers of a `ws` block (a connection); use `broadcast(room, value)` elsewhere"
            )));
        }
        self.socket_ops.push(op);
        Ok(())
    }

    fn context(&mut self, name: &str) -> Value {
        // The request's own values are built once per request (the body parsed once),
        // however often the code reads them.
        let stable = matches!(name, "params" | "query" | "headers" | "cookies" | "request")
            || (name == "body" && self.validated.is_none());
        if !stable {
            return self.make_context(name);
        }
        if let Some((_, value)) = self.context_cache.iter().find(|(n, _)| n == name) {
            return value.clone();
        }
        let value = self.make_context(name);
        self.context_cache.push((name.to_string(), value.clone()));
        value
    }
}

impl WebHost<'_> {
    /// A context value, built afresh.
    fn make_context(&mut self, name: &str) -> Value {
        let pairs = |pairs: &[(String, String)]| {
            let entries: Entries = pairs
                .iter()
                .map(|(k, v)| (Key(Value::text(k.as_str())), Value::text(v.as_str())))
                .collect();
            Value::map(entries)
        };
        match name {
            "params" => pairs(&self.request.params),
            "query" => pairs(&self.request.query),
            // Case-insensitive in practice: each header under its lower-case name and
            // its usual capitalization (`content-type`, `Content-Type`).
            "headers" => {
                let mut both = Vec::with_capacity(self.request.headers.len() * 2);
                for (name, value) in &self.request.headers {
                    both.push((name.clone(), value.clone()));
                    let title: Vec<String> = name
                        .split('-')
                        .map(|part| {
                            let mut chars = part.chars();
                            chars.next().map_or_else(String::new, |c| {
                                c.to_uppercase().chain(chars).collect()
                            })
                        })
                        .collect();
                    let title = title.join("-");
                    if title != *name {
                        both.push((title, value.clone()));
                    }
                }
                pairs(&both)
            }
            "cookies" => pairs(&self.request.cookies),
            "session" => {
                if self.session_data.is_none() {
                    let data = self
                        .session_in
                        .get("data")
                        .cloned()
                        .unwrap_or(serde_json::Value::Null);
                    let mut entries = Entries::default();
                    if let serde_json::Value::Object(map) = data {
                        for (k, v) in map {
                            entries.insert(Key(Value::text(k)), Value::Json(Rc::new(v)));
                        }
                    }
                    self.session_data = Some(Value::map(entries));
                }
                self.session_data.clone().unwrap_or(Value::None)
            }
            "request" => {
                let user_agent = self
                    .request
                    .headers
                    .iter()
                    .find(|(k, _)| k == "user-agent")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                pairs(&[
                    ("method".into(), self.request.method.clone()),
                    ("path".into(), self.request.path.clone()),
                    ("ip".into(), self.request.ip.clone()),
                    ("user_agent".into(), user_agent),
                ])
            }
            "body" => match &self.validated {
                Some(body) => body.clone(),
                None => json::request_body(&self.request),
            },
            "children" => match (self.components.last(), &self.children) {
                (Some((_, children)), _) => children.clone(),
                (None, Some(html)) => Value::text(html.as_str()),
                (None, None) => match &self.page.borrow().handler_instance {
                    Some((_, children)) => children.clone(),
                    None => Value::None,
                },
            },
            "props" => match self.components.last() {
                Some((props, _)) => props.clone(),
                None => match &self.page.borrow().handler_instance {
                    Some((props, _)) => props.clone(),
                    None => Value::None,
                },
            },
            "event" => self.event.clone().unwrap_or(Value::None),
            "connection" => match self.connection {
                Some(id) => Value::record(
                    std::rc::Rc::from([flin_syntax::Symbol::intern("id")]),
                    vec![Value::text(id.to_string())],
                ),
                None => Value::None,
            },
            slot if slot.starts_with("slot:") => match self.components.last() {
                Some((Value::Map(props), _)) => {
                    let key = Key(Value::text(format!("${slot}")));
                    props.borrow().get(&key).cloned().unwrap_or(Value::None)
                }
                _ => Value::None,
            },
            other => self
                .extra_context
                .iter()
                .find(|(n, _)| n == other)
                .map_or(Value::None, |(_, v)| v.clone()),
        }
    }
}
