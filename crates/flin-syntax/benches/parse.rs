//! Lexing and parsing speed on a generated project: 210 files of 486 lines each
//! (102,060 lines) mixing entities, functions, routes, jobs and markup pages.
//! Throughput is in lines ("items") per second, on one core.
//!
//! Run: `cargo bench -p flin-syntax --bench parse`. The target (performance.md §3) is at
//! least 1,000,000 lines per second for parsing.

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use flin_diagnostics::FileId;

#[path = "project.rs"]
mod project;
use project::{count_lines, project};

fn main() {
    divan::main();
}

#[divan::bench]
fn lex(bencher: Bencher) {
    let files = project();
    let lines = count_lines(&files);
    let bytes: usize = files.iter().map(String::len).sum();
    bencher
        .counter(ItemsCount::new(lines))
        .counter(BytesCount::new(bytes))
        .bench(|| {
            for file in &files {
                black_box(flin_syntax::lexer::lex(file, FileId(0)));
            }
        });
}

#[divan::bench]
fn parse(bencher: Bencher) {
    let files = project();
    let lines = count_lines(&files);
    assert!(lines >= 100_000, "the generated project has {lines} lines");
    for file in &files {
        let parsed = flin_syntax::parse(file, FileId(0));
        assert!(
            parsed.diagnostics.is_empty(),
            "{:?}",
            parsed.diagnostics.first()
        );
    }
    let bytes: usize = files.iter().map(String::len).sum();
    bencher
        .counter(ItemsCount::new(lines))
        .counter(BytesCount::new(bytes))
        .bench(|| {
            for file in &files {
                black_box(flin_syntax::parse(file, FileId(0)));
            }
        });
}
