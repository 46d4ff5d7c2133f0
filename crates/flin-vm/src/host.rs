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

    /// A component starts rendering: `props` and `children` are its context.
    fn push_component(&mut self, props: crate::Value, children: crate::Value) {
        let _ = (props, children);
    }

    fn pop_component(&mut self) {}

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
