//! Fuzzes the whole front end: any bytes (as UTF-8, lossily) parse, and when they parse
//! without an error they are type-checked; neither may panic, hang or overflow the stack.
//! The seeds are valid programs, so mutations reach the checker often.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run check corpus/check -- -max_total_time=600`

#![no_main]

use flin_diagnostics::Sources;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut sources = Sources::new();
    sources.add("program.flin", text.clone());
    let project = flin_check::Project { root: std::path::PathBuf::from("."), sources, diagnostics: Vec::new(), single_file: true };
    let checked = flin_check::check(&project);
    for diagnostic in &checked.diagnostics {
        assert!(diagnostic.span.start <= diagnostic.span.end);
        assert!(text.is_char_boundary(diagnostic.span.start as usize));
        assert!(text.is_char_boundary(diagnostic.span.end as usize));
    }
});
