//! `flin run` and `flin test` as a user runs them: what a script prints, how a runtime
//! error is reported (kind, FLIN line, FLIN stack), limits that end runaway work, and the
//! failure report of a test suite.

// Helpers fail the test by panicking, as assertions do.
#![allow(clippy::panic)]

mod common;

use common::{flin, stderr, stdout};

/// A temporary folder holding one file.
fn with_file(name: &str, text: &str) -> tempfile::TempDir {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(err) => panic!("no temp dir: {err}"),
    };
    if let Err(err) = std::fs::write(dir.path().join(name), text) {
        panic!("cannot write {name}: {err}");
    }
    dir
}

#[test]
fn run_prints_what_the_script_prints() {
    let dir = with_file(
        "hello.flin",
        "names = [\"Ada\", \"Linus\"]\nfor name in names { print(\"hello {name}\") }\nprint(names.length * 21)\n",
    );
    let output = flin(&["run", "hello.flin"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "hello Ada\nhello Linus\n42\n");
    assert_eq!(stderr(&output), "");
}

#[test]
fn a_runtime_error_shows_kind_message_flin_line_and_stack() {
    let dir = with_file(
        "stack.flin",
        "fn inner(d: int) -> int { 10 / d }\nfn outer(d: int) -> int { inner(d) + 1 }\nprint(\"before\")\nprint(outer(0))\nprint(\"never\")\n",
    );
    let output = flin(&["run", "stack.flin"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "before\n");
    let err = stderr(&output);
    assert!(
        err.starts_with("error[arithmetic]: division by zero"),
        "{err}"
    );
    assert!(err.contains("--> stack.flin:1:27"), "{err}");
    assert!(err.contains("in `inner`"), "{err}");
    assert!(err.contains("called from `outer`"), "{err}");
    assert!(err.contains("4 | print(outer(0))"), "{err}");
}

#[test]
fn unbounded_recursion_is_a_limit_error_not_a_crash() {
    let dir = with_file(
        "deep.flin",
        "fn down(n: int) -> int { 1 + down(n + 1) }\nprint(down(0))\n",
    );
    let output = flin(&["run", "deep.flin"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.starts_with("error[limit]: too many nested calls"),
        "{err}"
    );
    // Thousands of identical frames are folded into one line.
    assert!(err.contains("called from `down` ("), "{err}");
    assert!(err.lines().count() < 30, "{err}");
}

#[test]
fn an_infinite_loop_ends_at_the_time_limit() {
    let dir = with_file(
        "spin.flin",
        "print(\"start\")\ni = 0\nwhile true { i += 1 }\n",
    );
    let output = flin(&["run", "--time-limit", "300ms", "spin.flin"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "start\n");
    let err = stderr(&output);
    assert!(
        err.starts_with("error[limit]: time limit exceeded (300 ms)"),
        "{err}"
    );
    assert!(err.contains("3 | while true { i += 1 }"), "{err}");
}

#[test]
fn a_bad_time_limit_is_refused_with_a_reason() {
    let dir = with_file("s.flin", "print(1)\n");
    let output = flin(&["run", "--time-limit", "30", "s.flin"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("needs a unit"),
        "{}",
        stderr(&output)
    );
}

const SUITE: &str = r#"fn double(n: int) -> int { n * 2 }

test "double doubles" {
    assert_eq(double(2), 4)
}

test "double of a length" {
    xs = [1, 2, 3]
    assert_eq(double(xs.length), 7)
}

test "a comparison" {
    a = 3
    assert(a > 5)
}

test "spins" {
    while true { }
}

test "still runs after the others" {
    assert(true)
}
"#;

#[test]
fn test_reports_each_failure_with_expression_values_and_place() {
    let dir = with_file("suite.flin", SUITE);
    let output = flin(&["test", "--time-limit", "200ms", "suite.flin"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    for line in [
        "ok      double doubles (suite.flin:3)",
        "FAILED  double of a length (suite.flin:7)",
        "FAILED  a comparison (suite.flin:12)",
        "FAILED  spins (suite.flin:17)",
        "ok      still runs after the others (suite.flin:21)",
        "5 tests: 2 passed, 3 failed",
    ] {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }
    let err = stderr(&output);
    for piece in [
        "error[assertion]: assertion failed: `assert_eq(double(xs.length), 7)`\n  left:  6\n  right: 7\n  --> suite.flin:9:5",
        "in `test \"double of a length\"`",
        "error[assertion]: assertion failed: `a > 5`\n  left:  3\n  right: 5\n   --> suite.flin:14:5",
        "error[limit]: time limit exceeded (200 ms)",
    ] {
        assert!(err.contains(piece), "missing `{piece}` in:\n{err}");
    }
}

#[test]
fn a_passing_suite_exits_0() {
    let dir = with_file(
        "ok.flin",
        "test \"sums\" {\n    assert_eq([1, 2, 3].reduce(0, (a, b) => a + b), 6)\n}\n",
    );
    let output = flin(&["test", "ok.flin"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "ok      sums (ok.flin:1)\n1 test: 1 passed, 0 failed\n"
    );
}

#[test]
fn test_blocks_do_not_run_top_level_code() {
    let dir = with_file(
        "mixed.flin",
        "print(\"top level\")\ntest \"quiet\" {\n    assert(1 + 1 == 2)\n}\n",
    );
    let output = flin(&["test", "mixed.flin"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        !stdout(&output).contains("top level"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn the_example_script_runs_and_its_tests_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scripts");
    let output = flin(&["run", "inventory.flin"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    for line in [
        "  Fountain pen   32.00 EUR  only 3 left",
        "Value of the stock: 1076.80 EUR",
        "plenty: Notebook, Pencil",
        "skipped: `two` is not a quantity",
        "skipped: cannot read the order `a stapler`",
    ] {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }
    let output = flin(&["test", "inventory.flin"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).ends_with("2 tests: 2 passed, 0 failed\n"));
}
