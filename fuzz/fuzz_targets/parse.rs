//! Fuzzes the lexer and parser: any bytes (taken as UTF-8, lossily) must lex and parse
//! without a panic, a hang or a stack overflow, and give a tree whose spans stay inside
//! the text and diagnostics that fall on character boundaries.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run parse seeds -- -max_total_time=600`
//! (see fuzz/README.md).

#![no_main]

use flin_diagnostics::FileId;
use flin_syntax::span_check::span_problems;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = flin_syntax::parse(&text, FileId(0));
    let problems = span_problems(&parsed.file, text.len() as u32, false);
    assert!(problems.is_empty(), "{problems:?}");
    for diagnostic in &parsed.diagnostics {
        assert!(diagnostic.span.start <= diagnostic.span.end);
        assert!(text.is_char_boundary(diagnostic.span.start as usize));
        assert!(text.is_char_boundary(diagnostic.span.end as usize));
    }
});
