//! The conformance suite: every program under `tests/spec/` with its expected output
//! beside it, run through the real `flin` binary as a user would run it.
//!
//! - `name.flin` + `name.out`: `flin run name.flin` prints exactly `name.out` on stdout
//!   and exits 0; with a `name.err_kind` beside them, the program ends with an uncaught
//!   runtime error of that kind instead (exit 1, `error[kind]` on stderr).
//! - `name.flin` + `name.diag`: `flin check name.flin` prints exactly `name.diag` on
//!   stderr, and exits 1 when it holds an `error[`, else 0.
//!
//! A program without an expectation fails the suite. `UPDATE_EXPECT=1 cargo test -p flin
//! --test spec` rewrites the expectations from what the binary prints; review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

fn spec_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/spec")
}

fn programs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            programs(&path, out);
        } else if path.extension().is_some_and(|e| e == "flin") {
            out.push(path);
        }
    }
}

struct Outcome {
    expected: String,
    actual: String,
    expected_code: i32,
    code: i32,
    /// For an expected runtime error: its kind, and whether stderr names it.
    error_kind: Option<(String, bool)>,
    stderr: String,
}

fn run_program(program: &Path) -> Result<Outcome, String> {
    let dir = program.parent().ok_or("no folder")?;
    let name = program.file_name().ok_or("no file name")?;
    let out_file = program.with_extension("out");
    let diag_file = program.with_extension("diag");
    let (command, expect_file, from_stderr) = if out_file.exists() {
        ("run", out_file, false)
    } else if diag_file.exists() {
        ("check", diag_file, true)
    } else {
        return Err("no expectation: add a .out (expected output of `flin run`) or a .diag (of `flin check`)".into());
    };
    // Programs with entities run on a fresh in-memory database each time.
    let memory: &[&str] = if command == "run" { &["--memory"] } else { &[] };
    let output = Command::new(env!("CARGO_BIN_EXE_flin"))
        .arg(command)
        .args(memory)
        .arg(name)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .map_err(|err| format!("cannot run flin: {err}"))?;
    let actual = String::from_utf8_lossy(if from_stderr {
        &output.stderr
    } else {
        &output.stdout
    })
    .into_owned();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&expect_file, &actual).map_err(|err| err.to_string())?;
    }
    let expected = std::fs::read_to_string(&expect_file).map_err(|err| err.to_string())?;
    let kind = std::fs::read_to_string(program.with_extension("err_kind"))
        .ok()
        .map(|k| k.trim().to_string());
    let expected_code = if (from_stderr && expected.contains("error[")) || kind.is_some() {
        1
    } else {
        0
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error_kind = kind.map(|kind| {
        let named = stderr.contains(&format!("error[{kind}]"));
        (kind, named)
    });
    Ok(Outcome {
        expected,
        actual,
        expected_code,
        code: output.status.code().unwrap_or(-1),
        error_kind,
        stderr: stderr.into_owned(),
    })
}

#[test]
fn conformance_programs_give_their_expected_output() {
    let mut all = Vec::new();
    programs(&spec_root(), &mut all);
    all.sort();
    assert!(
        !all.is_empty(),
        "no programs under {}",
        spec_root().display()
    );
    let mut failures = Vec::new();
    for program in &all {
        let shown = program
            .strip_prefix(spec_root())
            .unwrap_or(program)
            .display()
            .to_string();
        match run_program(program) {
            Err(reason) => failures.push(format!("{shown}: {reason}")),
            Ok(outcome)
                if outcome.expected != outcome.actual
                    || outcome.expected_code != outcome.code
                    || outcome.error_kind.as_ref().is_some_and(|(_, named)| !named) =>
            {
                let kind_note = match &outcome.error_kind {
                    Some((kind, false)) => {
                        format!(" (expected an error of kind `{kind}` on stderr)")
                    }
                    _ => String::new(),
                };
                failures.push(format!(
                    "{shown}: exit {} (expected {}){kind_note}\n--- expected\n{}--- actual\n{}--- stderr\n{}",
                    outcome.code,
                    outcome.expected_code,
                    outcome.expected,
                    outcome.actual,
                    outcome.stderr
                ));
            }
            Ok(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} programs failed:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
