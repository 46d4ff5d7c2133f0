//! `flin explain E0302`: the entry of docs/errors.md for a diagnostic code — what it
//! means, a line that gives it, what `flin check` says and how to fix it.

use std::process::ExitCode;

/// docs/errors.md, built into the binary.
const ERRORS: &str = include_str!("../../../docs/errors.md");

pub fn run(code: &str) -> ExitCode {
    let code = code.trim().to_ascii_uppercase();
    let digits = code.trim_start_matches('E');
    let wanted = format!("E{digits:0>4}");
    match entry(&wanted) {
        Some(text) => {
            println!("{}", text.trim_end());
            ExitCode::SUCCESS
        }
        None => {
            eprintln!(
                "error: no error code `{wanted}`: codes look like E0302 (the one in `error[E0302]`); docs/errors.md lists them all"
            );
            ExitCode::from(2)
        }
    }
}

/// The section `## CODE` of the document, heading included.
fn entry(code: &str) -> Option<&'static str> {
    let heading = format!("## {code}\n");
    let start = ERRORS.find(&heading)?;
    let rest = ERRORS.get(start..)?;
    let end = rest
        .get(heading.len()..)
        .and_then(|after| after.find("\n## "))
        .map_or(rest.len(), |at| heading.len() + at + 1);
    rest.get(..end)
}
