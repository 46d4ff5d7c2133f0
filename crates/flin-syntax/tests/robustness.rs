//! The front end never panics, never hangs and never overflows the stack, whatever the
//! input: random text, random mixes of FLIN fragments, every prefix of every fixture,
//! and pathological nesting. Every tree keeps its spans inside the file.
//!
//! The same property is fuzzed without limit by `fuzz/fuzz_targets/parse.rs`.

use flin_diagnostics::FileId;
use flin_syntax::span_check::span_problems;
use proptest::prelude::*;

fn assert_sound(text: &str) {
    let parsed = flin_syntax::parse(text, FileId(0));
    let problems = span_problems(&parsed.file, text.len() as u32, false);
    assert!(problems.is_empty(), "{problems:?} in {text:?}");
    for diagnostic in &parsed.diagnostics {
        assert!(
            diagnostic.span.start <= diagnostic.span.end
                && diagnostic.span.end as usize <= text.len()
        );
        assert!(
            text.is_char_boundary(diagnostic.span.start as usize)
                && text.is_char_boundary(diagnostic.span.end as usize)
        );
    }
}

/// Pieces of FLIN that meet in interesting ways when shuffled.
const FRAGMENTS: &[&str] = &[
    "x",
    "Book",
    "= ",
    "==",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "<",
    ">",
    "/>",
    "</",
    "<div",
    "<p>",
    "</p>",
    "{if ",
    "{else}",
    "{/if}",
    "{for x in xs}",
    "{empty}",
    "{/for}",
    "\"",
    "'",
    "\"\"\"",
    "\\",
    "{",
    "}",
    "\n",
    " ",
    ";",
    ",",
    ":",
    ".",
    "?.",
    "??",
    "?",
    "=>",
    "->",
    "@",
    "@required",
    "1",
    "2.5",
    "0x",
    "1e",
    "10 EUR",
    "3.days",
    "fn ",
    "entity ",
    "enum ",
    "match ",
    "if ",
    "else ",
    "for ",
    "in ",
    "while ",
    "return",
    "try ",
    "search q in B by t ",
    "route GET ",
    "ws ",
    "on connect ",
    "every 1.hours ",
    "cron \"* * * * *\" ",
    "test \"t\" ",
    "guard auth",
    "layout none",
    "validate ",
    "response ",
    "/*",
    "*/",
    "//",
    "<!--",
    "-->",
    "<style>",
    "</style>",
    "class:a=",
    "click={",
    "é",
    "🐘",
    "\u{feff}",
    "\r\n",
    "\t",
    "|",
    "|>",
    "&&",
    "||",
    "!",
    "-",
    "+",
    "++",
    "..",
    "..=",
    "_",
    "save ",
];

fn fragment_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..80).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn random_text_parses_soundly(text in any::<String>()) {
        assert_sound(&text);
    }

    #[test]
    fn fragment_soup_parses_soundly(text in fragment_soup()) {
        assert_sound(&text);
    }
}

#[test]
fn every_prefix_of_every_fixture_parses_soundly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut n_files = 0;
    for sub in ["ok", "err"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            n_files += 1;
            // Every character boundary of small files; a stride through large ones.
            let stride = (text.len() / 400).max(1);
            for end in (0..=text.len())
                .step_by(stride)
                .filter(|end| text.is_char_boundary(*end))
            {
                assert_sound(text.get(..end).unwrap_or(""));
            }
        }
    }
    assert!(n_files > 40, "fixtures not found under {}", dir.display());
}

#[test]
fn pathological_nesting_ends_with_an_error_not_a_crash() {
    let deep = 100_000;
    let cases = [
        format!("x = {}", "(".repeat(deep)),
        format!("x = {}", "[".repeat(deep)),
        format!("x = {}1{}", "(".repeat(deep), ")".repeat(deep)),
        format!("x = 1{}", " + 1".repeat(deep)),
        format!("x = a{}", ".b".repeat(deep)),
        format!("x = {}", "-".repeat(deep)),
        format!("x = {}", "!".repeat(deep)),
        format!("x = {}", "{ a: ".repeat(deep)),
        "<div>".repeat(deep),
        "{if x}".repeat(deep),
        format!("x = {}", "\"{".repeat(deep)),
        format!("f = {}", "x => ".repeat(deep)),
        format!("m = {}", "match x { _ -> ".repeat(deep)),
        format!("fn f() {{ {} }}", "if a { ".repeat(deep)),
        format!("x = 1\n{}", "} else if a { ".repeat(deep)),
        format!("t: {} = 1", "[".repeat(deep)),
        format!("r = match x {{ {} -> 1 }}", "(".repeat(deep)),
        "\n".repeat(deep),
        "/*".repeat(deep),
    ];
    for text in &cases {
        let parsed = flin_syntax::parse(text, FileId(0));
        let problems = span_problems(&parsed.file, text.len() as u32, false);
        assert!(problems.is_empty());
        let head: String = text.chars().take(20).collect();
        if !text.starts_with('\n') {
            assert!(parsed.has_errors(), "expected an error for {head:?}…");
        }
    }
}
