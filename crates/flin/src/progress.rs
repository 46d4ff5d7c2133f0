//! Progress bars (cli.md §4): for operations that can take more than about a second, a
//! bar with a count and a rate on standard error — only when it is a terminal (logs and
//! pipes get nothing).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar for `what` counted in `unit`, or none when standard error is not a terminal.
pub fn bar(what: &str, unit: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let template =
        format!("{what} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}

/// A callback that moves `bar` (done, total).
pub fn reporter(bar: &Option<ProgressBar>) -> impl FnMut(u64, u64) + '_ {
    move |done, total| {
        if let Some(bar) = bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    }
}
