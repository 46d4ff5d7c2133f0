//! Checker fixtures. Every file or project folder under `tests/data/ok` checks without a
//! diagnostic. Every one under `tests/data/err` gives exactly the diagnostics its
//! comments announce: a comment `// E0311@9` on a line expects code E0311 starting at
//! column 9 of that line (several may share a comment). Files under `tests/data/render`
//! have their diagnostics snapshotted as `flin check` prints them. Every ```flin example
//! of the spec appears, verbatim, in a valid fixture.

// Helpers fail the test by panicking, as assertions do.
#![allow(clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use flin_diagnostics::{Color, render_human};

fn data(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(sub)
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// Checks a fixture by its path relative to the crate (the working directory of
/// tests), so diagnostics show the same paths on every machine.
fn check(path: &Path) -> (flin_check::Project, flin_check::Checked) {
    let path = path
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path);
    let project = match flin_check::load(path) {
        Ok(project) => project,
        Err(err) => panic!("{}: {err}", path.display()),
    };
    let checked = flin_check::check(&project);
    (project, checked)
}

#[test]
fn valid_programs_check_cleanly() {
    let mut failures = String::new();
    let cases = entries(&data("ok"));
    assert!(cases.len() >= 3, "no fixtures");
    for case in cases {
        let (project, checked) = check(&case);
        if !checked.diagnostics.is_empty() {
            failures.push_str(&format!(
                "== {}\n{}",
                case.display(),
                render_human(&project.sources, &checked.diagnostics, Color::Never)
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// `(file, line, column, code)` announced by `// E0311@9` comments.
fn expected(project: &flin_check::Project) -> BTreeSet<(String, u32, u32, String)> {
    let mut out = BTreeSet::new();
    for source in project.sources.iter() {
        for (idx, line) in source.text.lines().enumerate() {
            let Some(comment) = line.rfind("// ").map(|at| &line[at + 3..]) else {
                continue;
            };
            let words: Vec<&str> = comment.split_whitespace().collect();
            let is_expectation = !words.is_empty()
                && words.iter().all(|w| {
                    let (code, col) = w.split_once('@').unwrap_or((w, ""));
                    code.len() == 5
                        && (code.starts_with('E') || code.starts_with('W'))
                        && col.chars().all(|c| c.is_ascii_digit())
                        && !col.is_empty()
                });
            if !is_expectation {
                continue;
            }
            for word in words {
                let (code, col) = word.split_once('@').unwrap_or((word, "0"));
                out.insert((
                    source.path.clone(),
                    idx as u32 + 1,
                    col.parse().unwrap_or(0),
                    code.to_string(),
                ));
            }
        }
    }
    out
}

#[test]
fn invalid_programs_give_the_announced_diagnostics() {
    let mut failures = String::new();
    let cases = entries(&data("err"));
    assert!(cases.len() >= 10, "no fixtures");
    for case in cases {
        let (project, checked) = check(&case);
        let expected = expected(&project);
        assert!(
            !expected.is_empty(),
            "{} announces no diagnostic",
            case.display()
        );
        let actual: BTreeSet<(String, u32, u32, String)> = checked
            .diagnostics
            .iter()
            .map(|d| {
                let source = project.sources.get(d.file);
                let at = source.map(|s| s.line_col(d.span.start));
                (
                    source.map(|s| s.path.clone()).unwrap_or_default(),
                    at.map_or(0, |a| a.line),
                    at.map_or(0, |a| a.column),
                    d.code.to_string(),
                )
            })
            .collect();
        if expected != actual {
            let missing: Vec<_> = expected.difference(&actual).collect();
            let unexpected: Vec<_> = actual.difference(&expected).collect();
            failures.push_str(&format!(
                "== {}\nmissing: {missing:?}\nunexpected: {unexpected:?}\n{}\n",
                case.display(),
                render_human(&project.sources, &checked.diagnostics, Color::Never)
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn diagnostics_render_as_printed() {
    insta::glob!("data/render/*.flin", |path| {
        let (project, checked) = check(path);
        let source = project
            .sources
            .iter()
            .next()
            .map(|s| s.text.clone())
            .unwrap_or_default();
        let rendered = render_human(&project.sources, &checked.diagnostics, Color::Never);
        insta::assert_snapshot!(format!("{source}\n----\n{rendered}"));
    });
}

#[test]
fn every_spec_example_is_in_a_valid_fixture() {
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec");
    let spec = std::env::var("FLIN_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or(spec);
    if !spec.is_dir() {
        eprintln!(
            "the FLIN spec is not beside this checkout (../shared/spec): spec examples not checked"
        );
        return;
    }
    let mut corpus = String::new();
    fn gather(dir: &Path, out: &mut String) {
        for path in entries(dir) {
            if path.is_dir() {
                gather(&path, out);
            } else {
                out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                out.push('\n');
            }
        }
    }
    gather(&data("ok"), &mut corpus);
    let mut missing = Vec::new();
    let mut n_examples = 0;
    for page in entries(&spec)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
    {
        let markdown = std::fs::read_to_string(&page).unwrap_or_default();
        let mut block: Option<String> = None;
        for line in markdown.lines() {
            match &mut block {
                None if line.trim_start().starts_with("```flin") => block = Some(String::new()),
                Some(text) if line.trim_start().starts_with("```") => {
                    n_examples += 1;
                    if !corpus.contains(text.as_str()) {
                        missing.push(format!("{}:\n{text}", page.display()));
                    }
                    block = None;
                }
                Some(text) => {
                    text.push_str(line);
                    text.push('\n');
                }
                None => {}
            }
        }
    }
    assert!(n_examples >= 20);
    assert!(
        missing.is_empty(),
        "spec examples not found verbatim in tests/data/ok:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_diagnostic_code_has_a_broken_program() {
    let source =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/error.rs"))
            .unwrap_or_default();
    let codes: BTreeSet<String> = source
        .split('"')
        .filter(|word| {
            word.len() == 5
                && (word.starts_with("E0") || word.starts_with("W0"))
                && word[2..].chars().all(|c| c.is_ascii_digit())
        })
        .map(str::to_string)
        .collect();
    assert!(codes.len() > 40, "found only {} codes", codes.len());
    let mut announced = BTreeSet::new();
    for case in entries(&data("err")) {
        let (project, _) = check(&case);
        announced.extend(expected(&project).into_iter().map(|(_, _, _, code)| code));
    }
    let missing: Vec<&String> = codes
        .iter()
        .filter(|code| !announced.contains(*code))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a program in tests/data/err: {missing:?}"
    );
}

/// Every diagnostic code any crate emits is in the table of docs/architecture.md, and
/// every code of the table is emitted somewhere: the docs and the code agree.
#[test]
fn the_docs_list_every_diagnostic_code() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let code_of = |text: &str, quoted: bool| -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let bytes = text.as_bytes();
        for (at, _) in text.match_indices('E') {
            let Some(digits) = text.get(at + 1..at + 5) else {
                continue;
            };
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let before = at.checked_sub(1).and_then(|i| bytes.get(i)).copied();
            let after = bytes.get(at + 5).copied();
            let wanted = if quoted {
                before == Some(b'"') && after == Some(b'"')
            } else {
                before == Some(b' ') && after == Some(b' ')
            };
            if wanted {
                found.insert(format!("E{digits}"));
            }
        }
        found
    };
    let mut emitted = BTreeSet::new();
    for krate in entries(&root.join("crates")) {
        let mut stack = vec![krate.join("src")];
        while let Some(dir) = stack.pop() {
            for path in entries(&dir) {
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    emitted.extend(code_of(&text, true));
                }
            }
        }
    }
    let docs = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap_or_default();
    let table: BTreeSet<String> = docs
        .lines()
        .filter(|line| line.starts_with("| E"))
        .flat_map(|line| code_of(line, false))
        .collect();
    let undocumented: Vec<_> = emitted.difference(&table).collect();
    let unused: Vec<_> = table.difference(&emitted).collect();
    assert!(
        undocumented.is_empty() && unused.is_empty(),
        "codes emitted but not in docs/architecture.md: {undocumented:?}; in the table but never emitted: {unused:?}"
    );
}
