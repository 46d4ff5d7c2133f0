//! Parser fixtures: every file under `tests/data/ok` parses without a diagnostic and
//! its tree is snapshotted; every file under `tests/data/err` gives at least one error
//! and its diagnostics are snapshotted as `flin check` prints them. Every tree, broken or
//! not, keeps its spans inside the file; trees of good files keep them nested and ordered.
//!
//! Add a case by adding a `.flin` file; `cargo insta review` (or `INSTA_UPDATE=always`)
//! accepts new snapshots.

use flin_diagnostics::{Color, Sources, render_human};
use flin_syntax::span_check::span_problems;

fn parse_fixture(path: &std::path::Path) -> (Sources, flin_syntax::Parsed) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut sources = Sources::new();
    let file = sources.add(name, text.clone());
    let parsed = flin_syntax::parse(&text, file);
    (sources, parsed)
}

#[test]
fn ok_fixtures_parse_cleanly() {
    insta::glob!("data/ok/*.flin", |path| {
        let (sources, parsed) = parse_fixture(path);
        let rendered = render_human(&sources, &parsed.diagnostics, Color::Never);
        assert!(
            parsed.diagnostics.is_empty(),
            "{} should parse without diagnostics:\n{rendered}",
            path.display()
        );
        let len = sources.iter().next().map_or(0, |s| s.text.len() as u32);
        let problems = span_problems(&parsed.file, len, true);
        assert!(problems.is_empty(), "{}: {problems:#?}", path.display());
        insta::assert_snapshot!(format!("{:#?}", parsed.file));
    });
}

#[test]
fn err_fixtures_report_errors() {
    insta::glob!("data/err/*.flin", |path| {
        let (sources, parsed) = parse_fixture(path);
        assert!(
            parsed.has_errors(),
            "{} should give at least one error",
            path.display()
        );
        let len = sources.iter().next().map_or(0, |s| s.text.len() as u32);
        let problems = span_problems(&parsed.file, len, false);
        assert!(problems.is_empty(), "{}: {problems:#?}", path.display());
        let source = sources
            .iter()
            .next()
            .map(|s| s.text.clone())
            .unwrap_or_default();
        let rendered = render_human(&sources, &parsed.diagnostics, Color::Never);
        insta::assert_snapshot!(format!("{source}\n----\n{rendered}"));
    });
}
