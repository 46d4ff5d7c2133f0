//! The one door between the VM and the world (DESIGN.md): output now; entities,
//! queries, search, sessions and sockets as the runtime grows. The VM knows nothing of
//! HTTP or SQL; whoever runs it decides what `print` and `log` reach.

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
