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

/// Store operations (a search index rebuilt at start-up) draw a bar on a terminal.
pub fn install_store_reporter() {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let current: std::sync::Mutex<Option<(String, ProgressBar)>> = std::sync::Mutex::new(None);
    flin_store::progress::set_reporter(Box::new(move |what, done, total| {
        let Ok(mut current) = current.lock() else {
            return;
        };
        let same = current.as_ref().is_some_and(|(w, _)| w == what);
        if !same {
            if let Some((_, old)) = current.take() {
                old.finish_and_clear();
            }
            if let Some(bar) = bar(what, "rows") {
                *current = Some((what.to_string(), bar));
            }
        }
        if let Some((_, bar)) = current.as_ref() {
            bar.set_length(total);
            bar.set_position(done);
            if done >= total {
                bar.finish_and_clear();
            }
        }
    }));
}
