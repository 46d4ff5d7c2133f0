//! `flin check [path] [--format json]`: parse and check a file or project, print every
//! diagnostic, exit 1 when there is an error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use flin_diagnostics::{Color, render_human, render_json};

use crate::Format;

pub fn run(path: PathBuf, format: Format) -> ExitCode {
    let project = match flin_check::load(&path) {
        Ok(project) => project,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let checked = flin_check::check(&project);
    let n_files = project.sources.len();
    match format {
        Format::Json => {
            let text = render_json(&project.sources, &checked.diagnostics);
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
        Format::Human => {
            let color = if std::io::stderr().is_terminal() {
                Color::Always
            } else {
                Color::Never
            };
            let text = render_human(&project.sources, &checked.diagnostics, color);
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(text.as_bytes());
            let files = if n_files == 1 {
                "1 file".to_string()
            } else {
                format!("{n_files} files")
            };
            let summary = match (checked.error_count(), checked.warning_count()) {
                (0, 0) => format!("checked {files}: no problems"),
                (0, w) => format!("checked {files}: {w} warning{}", plural(w)),
                (e, 0) => format!("checked {files}: {e} error{}", plural(e)),
                (e, w) => format!(
                    "checked {files}: {e} error{}, {w} warning{}",
                    plural(e),
                    plural(w)
                ),
            };
            let _ = writeln!(stderr, "{summary}");
        }
    }
    if checked.error_count() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
