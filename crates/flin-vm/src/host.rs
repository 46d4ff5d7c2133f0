//! The one door between the VM and the world (DESIGN.md): output now; entities,
//! queries, search, sessions and sockets as the runtime grows. The VM knows nothing of
//! HTTP or SQL; whoever runs it decides what `print` and `log` reach.

/// What `save`, `delete`, `restore` and `destroy` do (data.md §2–§3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersistOp {
    Save,
    Delete,
    Restore,
    Destroy,
}

impl PersistOp {
    pub fn from_u8(op: u8) -> Option<PersistOp> {
        Some(match op {
            0 => PersistOp::Save,
            1 => PersistOp::Delete,
            2 => PersistOp::Restore,
            3 => PersistOp::Destroy,
            _ => return None,
        })
    }

    pub fn keyword(self) -> &'static str {
        match self {
            PersistOp::Save => "save",
            PersistOp::Delete => "delete",
            PersistOp::Restore => "restore",
            PersistOp::Destroy => "destroy",
        }
    }
}

fn no_database() -> crate::RuntimeError {
    crate::RuntimeError::runtime("entities need the database, which this run does not open")
}

/// Where a piece of markup is in the program: its function's index (high 32 bits) and
/// the instruction (low 32 bits). A live view names handlers and component instances
/// by it, so the same markup gets the same name on every render.
pub type Site = u64;

/// The structure of a page as it renders (web.md §9: `{if}` blocks, `{for}` lists and
/// their items), so a live view can diff it piece by piece.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    BlockOpen,
    BlockClose,
    ListOpen,
    ListClose,
    /// An item of a `{for}`: with its key, or by position.
    ItemOpen,
    ItemClose,
    /// Inside a `<form>` with a `submit` handler: where the hidden fields go that let
    /// the form work without JavaScript.
    FormFields,
}

impl Mark {
    pub fn from_u8(code: u8) -> Option<Mark> {
        Some(match code {
            0 => Mark::BlockOpen,
            1 => Mark::BlockClose,
            2 => Mark::ListOpen,
            3 => Mark::ListClose,
            4 => Mark::ItemOpen,
            5 => Mark::ItemClose,
            6 => Mark::FormFields,
            _ => return None,
        })
    }

    pub fn code(self) -> u8 {
        match self {
            Mark::BlockOpen => 0,
            Mark::BlockClose => 1,
            Mark::ListOpen => 2,
            Mark::ListClose => 3,
            Mark::ItemOpen => 4,
            Mark::ItemClose => 5,
            Mark::FormFields => 6,
        }
    }
}

/// A component instance a live view kept from its last render.
#[derive(Debug)]
pub struct KeptInstance {
    /// The component file's variables, in the order of its view's `globals`.
    pub state: Vec<crate::Value>,
    /// Its props differ from the last render's: the variables computed from them run
    /// again.
    pub props_changed: bool,
}

/// A search the program asks for (search.md §2).
#[derive(Clone, Debug)]
pub struct SearchCall {
    /// The candidate rows: the entity's query with the search's `where`.
    pub candidates: flin_query::QueryPlan,
    pub field: String,
    pub text: String,
    pub mode: flin_query::SearchMode,
    pub limit: usize,
}

/// A request a test makes to its own app (`get`, `post` … inside `test` blocks,
/// language.md §10).
#[derive(Clone, Debug)]
pub struct HttpCall {
    pub method: &'static str,
    /// The path, with its query string if any.
    pub path: String,
    /// The body, sent as JSON (`post`, `put`, `patch`).
    pub body: Option<serde_json::Value>,
}

/// The app's answer to an [`HttpCall`].
#[derive(Clone, Debug)]
pub struct HttpReply {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What a program asks of the app's WebSockets (services.md §3).
#[derive(Clone, Debug)]
pub enum SocketOp {
    /// `send(value)`: to the connection whose message is being handled.
    Send(serde_json::Value),
    Join(String),
    Leave(String),
    /// `broadcast(room, value)`: to every connection in the room.
    Broadcast(String, serde_json::Value),
}

/// What the VM asks of whoever runs it.
pub trait Host {
    /// `print(…)`: one line, already formatted.
    fn print(&mut self, line: &str);
    /// `log`, `log_info`, `log_warn`, `log_error`: a line at a level.
    fn log(&mut self, level: &'static str, line: &str);

    /// Runs a query (data.md §4): the rows as a list, or what `terminal` asks for.
    /// A host without a database says so.
    fn query(
        &mut self,
        plan: &flin_query::QueryPlan,
        terminal: &flin_query::Terminal,
    ) -> Result<crate::Value, crate::RuntimeError> {
        let _ = (plan, terminal);
        Err(crate::RuntimeError::runtime(
            "queries need the database, which this run does not open",
        ))
    }

    /// `save e`, `delete e` …, on an entity or a list of entities (atomically). The
    /// entity values are updated in place with what the database assigned.
    fn persist(&mut self, op: PersistOp, target: &crate::Value) -> Result<(), crate::RuntimeError> {
        let _ = (op, target);
        Err(no_database())
    }

    /// The row of `entity` with this id, soft-deleted or not (a reference being read).
    fn load(&mut self, entity: &str, id: i64) -> Result<crate::Value, crate::RuntimeError> {
        let _ = (entity, id);
        Err(no_database())
    }

    /// Every version of a row, oldest first.
    fn history(&mut self, entity: &str, id: i64) -> Result<crate::Value, crate::RuntimeError> {
        let _ = (entity, id);
        Err(no_database())
    }

    /// `search … in E by f` (search.md): the hits, best first, each a record of the
    /// `entity` and its `score`.
    fn search(&mut self, call: &SearchCall) -> Result<crate::Value, crate::RuntimeError> {
        let _ = call;
        Err(no_database())
    }

    /// `entity @ at` (data.md §5): the version asked for, or none.
    fn time_travel(
        &mut self,
        entity: &crate::Value,
        at: &crate::Value,
    ) -> Result<crate::Value, crate::RuntimeError> {
        let _ = (entity, at);
        Err(no_database())
    }

    /// Appends HTML to the page being rendered (pages only; elsewhere it is dropped).
    fn emit(&mut self, html: &str) {
        let _ = html;
    }

    /// `validate { … }` in a route: checks the request body against `fields`; on success
    /// `body` becomes the record of the validated values (web.md §5).
    fn validate(&mut self, fields: &flin_query::EntityDef) -> Result<(), crate::RuntimeError> {
        let _ = fields;
        Ok(())
    }

    /// The logged-in user of the session: entity name and id (web.md §7).
    fn session_user(&mut self) -> Option<(String, i64)> {
        None
    }

    /// `login(user)` / `logout()`.
    fn set_session_user(&mut self, user: Option<(String, i64)>) -> Result<(), crate::RuntimeError> {
        let _ = user;
        Err(crate::RuntimeError::runtime(
            "sessions need the web server (`flin dev` or `flin start`)",
        ))
    }

    /// A built-in guard that needs the request (`rate_limit`, `api_key`, `same_origin`):
    /// an error ends the request with its status.
    fn guard(&mut self, name: &str, args: &[crate::Value]) -> Result<(), crate::RuntimeError> {
        let _ = args;
        Err(crate::RuntimeError::runtime(format!(
            "`guard {name}` needs the web server (`flin dev` or `flin start`)"
        )))
    }

    /// `next()` in a `middleware { }` block: the chain goes on.
    fn next_middleware(&mut self) {}

    /// Rendering goes to a buffer of its own until `capture_end`.
    fn capture_begin(&mut self) {}

    /// The HTML rendered since `capture_begin`.
    fn capture_end(&mut self) -> String {
        String::new()
    }

    /// A component instance starts rendering at `site`: `props` and `children` are its
    /// context. A live view that kept this instance from its last render gives its
    /// state back; `None` makes a new instance (its code runs).
    fn component_begin(
        &mut self,
        name: &str,
        site: Site,
        props: crate::Value,
        children: crate::Value,
    ) -> Option<KeptInstance> {
        let _ = (name, site, props, children);
        None
    }

    /// The instance begun last has rendered; `state` is its file variables.
    fn component_end(&mut self, state: Vec<crate::Value>) {
        let _ = state;
    }

    /// Appends a hole of the page: a value's HTML (escaped or trusted). Separate from
    /// [`Host::emit`] so a live view can tell static pieces from holes (web.md §9).
    fn emit_hole(&mut self, html: &str) {
        self.emit(html);
    }

    /// The structure of the page being rendered: blocks, lists and their items.
    fn mark(&mut self, mark: Mark, key: Option<&crate::Value>) {
        let _ = (mark, key);
    }

    /// An event attribute (`click={…}`, `keydown.enter={…}`) at `site`: the host appends
    /// the attribute that lets the browser trigger `handler` (a closure).
    fn handler(
        &mut self,
        site: Site,
        event: &str,
        handler: &crate::Value,
    ) -> Result<(), crate::RuntimeError> {
        let _ = (site, event, handler);
        Ok(())
    }

    /// `bind={x}` at `site`: the host appends the attribute that lets the browser set
    /// `x` through `setter` (a closure of one value); `kind` says how the browser's value
    /// converts (`text`, `int`, `number`, `bool`).
    fn bind(
        &mut self,
        site: Site,
        kind: &str,
        setter: &crate::Value,
    ) -> Result<(), crate::RuntimeError> {
        let _ = (site, kind, setter);
        Ok(())
    }

    /// HTML for the document head (`<head>` content, `<style>`).
    fn head(&mut self, html: &str) {
        let _ = html;
    }

    /// The HTML rendered so far becomes `children` of what renders next (a page's
    /// layout, web.md §4).
    fn wrap_children(&mut self) {}

    /// A context value of the unit of work: `params`, `query`, `body`, `session`,
    /// `request`, `headers`, `cookies`, `children` … (`none` where there is none).
    fn context(&mut self, name: &str) -> crate::Value {
        let _ = name;
        crate::Value::None
    }

    /// `transaction {` starts: returns the new nesting depth.
    fn savepoint(&mut self) -> Result<usize, crate::RuntimeError> {
        Ok(0)
    }

    /// `}` of a transaction block.
    fn release(&mut self) -> Result<(), crate::RuntimeError> {
        Ok(())
    }

    /// An error left the transaction blocks deeper than `depth`: undo their writes.
    fn rollback_to(&mut self, depth: usize) -> Result<(), crate::RuntimeError> {
        let _ = depth;
        Ok(())
    }

    /// How many transaction blocks are open.
    fn depth(&self) -> usize {
        0
    }

    /// The entity types this unit of work has changed so far (a live view re-runs
    /// the live values that read them).
    fn written_entities(&self) -> Vec<String> {
        Vec::new()
    }

    /// `send`, `join`, `leave`, `broadcast`: delivered after the unit of work commits.
    fn socket(&mut self, op: SocketOp) -> Result<(), crate::RuntimeError> {
        let name = match op {
            SocketOp::Send(_) => "send",
            SocketOp::Join(_) => "join",
            SocketOp::Leave(_) => "leave",
            SocketOp::Broadcast(..) => "broadcast",
        };
        Err(crate::RuntimeError::runtime(format!(
            "`{name}` needs the web server (`flin dev` or `flin start`); it is not available in a script"
        )))
    }

    /// Calls one of the app's own routes in-process (tests only).
    fn http(&mut self, call: &HttpCall) -> Result<HttpReply, crate::RuntimeError> {
        let _ = call;
        Err(crate::RuntimeError::runtime(
            "`get`, `post`, `put`, `patch` and `delete_req` call the app's routes inside `test` blocks run by `flin test`",
        ))
    }
}

/// A host that writes `print` to standard output (buffered) and logs to standard error,
/// as `flin run` does.
pub struct StdHost {
    out: std::io::BufWriter<std::io::Stdout>,
}

impl StdHost {
    pub fn new() -> StdHost {
        StdHost {
            out: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()),
        }
    }

    pub fn flush(&mut self) {
        use std::io::Write;
        let _ = self.out.flush();
    }
}

impl Default for StdHost {
    fn default() -> Self {
        StdHost::new()
    }
}

impl Drop for StdHost {
    fn drop(&mut self) {
        self.flush();
    }
}

impl Host for StdHost {
    fn print(&mut self, line: &str) {
        use std::io::Write;
        let _ = self.out.write_all(line.as_bytes());
        let _ = self.out.write_all(b"\n");
    }

    fn log(&mut self, level: &'static str, line: &str) {
        self.flush();
        eprintln!("[{level}] {line}");
    }
}

/// A host that keeps what is printed, for tests.
#[derive(Default, Debug)]
pub struct CaptureHost {
    pub output: String,
    pub logs: Vec<(&'static str, String)>,
}

impl Host for CaptureHost {
    fn print(&mut self, line: &str) {
        self.output.push_str(line);
        self.output.push('\n');
    }

    fn log(&mut self, level: &'static str, line: &str) {
        self.logs.push((level, line.to_string()));
    }
}
