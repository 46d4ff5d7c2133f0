//! How long store operations tell their progress (rebuilding a search index at start-up):
//! to a reporter the program sets once (the `flin` command draws a bar on a terminal);
//! without one, nothing happens.

use std::sync::OnceLock;

/// `(what, done, total)`.
pub type Reporter = Box<dyn Fn(&str, u64, u64) + Send + Sync>;

static REPORTER: OnceLock<Reporter> = OnceLock::new();

/// Sets where progress goes (once; later calls are ignored).
pub fn set_reporter(reporter: Reporter) {
    let _ = REPORTER.set(reporter);
}

pub(crate) fn report(what: &str, done: u64, total: u64) {
    if let Some(reporter) = REPORTER.get() {
        reporter(what, done, total);
    }
}
