//! Every ```flin example in the specification parses without a syntax error.
//!
//! The spec lives beside the repository (`../shared/spec`, or `FLIN_SPEC_DIR`). Where it
//! is absent, as on a user's machine, the test says so and checks nothing.

use std::path::PathBuf;

use flin_diagnostics::{Color, Sources, render_human};

fn spec_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("FLIN_SPEC_DIR") {
        return Some(PathBuf::from(dir));
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec");
    dir.is_dir().then_some(dir)
}

/// The ```flin blocks of a Markdown text, with the line each starts on.
fn flin_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (idx, line) in markdown.lines().enumerate() {
        match &mut current {
            None if line.trim_start().starts_with("```flin") => {
                current = Some((idx + 2, String::new()))
            }
            Some(_) if line.trim_start().starts_with("```") => blocks.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn every_spec_example_parses() {
    let Some(dir) = spec_dir() else {
        eprintln!(
            "the FLIN spec is not beside this checkout (../shared/spec): spec examples not checked"
        );
        return;
    };
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "md"))
                .collect()
        })
        .unwrap_or_default();
    pages.sort();
    let mut n_examples = 0;
    let mut failures = String::new();
    for page in &pages {
        let markdown = std::fs::read_to_string(page).unwrap_or_default();
        for (line, code) in flin_blocks(&markdown) {
            n_examples += 1;
            let mut sources = Sources::new();
            let name = format!(
                "{}:{line}",
                page.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            );
            let file = sources.add(name, code.clone());
            let parsed = flin_syntax::parse(&code, file);
            if parsed.has_errors() {
                failures.push_str(&render_human(&sources, &parsed.diagnostics, Color::Never));
            }
        }
    }
    assert!(
        n_examples >= 20,
        "expected the spec's examples, found {n_examples} in {}",
        dir.display()
    );
    assert!(
        failures.is_empty(),
        "spec examples that do not parse:\n{failures}"
    );
}
