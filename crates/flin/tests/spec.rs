//! The conformance suite: every program under `tests/spec/` with its expected output
//! beside it, run through the real `flin` binary as a user would run it.
//!
//! - `name.flin` + `name.out`: `flin run name.flin` prints exactly `name.out` on stdout
//!   and exits 0; with a `name.err_kind` beside them, the program ends with an uncaught
//!   runtime error of that kind instead (exit 1, `error[kind]` on stderr).
//! - `name.flin` + `name.diag`: `flin check name.flin` prints exactly `name.diag` on
//!   stderr, and exits 1 when it holds an `error[`, else 0.
//!
//! The same programs run on PostgreSQL too when `FLIN_TEST_POSTGRES_URL` names a server
//! (`tools/pg/start` makes one; `.ci/run` does): each in a fresh schema, dropped after,
//! with the same expected output (data.md §10).
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

/// Where a program's entities live.
enum Database<'a> {
    Memory,
    /// A PostgreSQL URL whose search path is the program's own schema.
    Postgres(&'a str),
}

fn run_program(program: &Path, database: &Database<'_>) -> Result<Outcome, String> {
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
    // Programs with entities run on a fresh database each time: in memory, or in a
    // schema of their own on PostgreSQL.
    let mut flin = Command::new(env!("CARGO_BIN_EXE_flin"));
    flin.arg(command);
    match database {
        Database::Memory if command == "run" => {
            flin.arg("--memory");
        }
        Database::Memory => {}
        Database::Postgres(url) => {
            flin.env("FLIN_DATABASE_URL", url);
        }
    }
    let output = flin
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
    if std::env::var_os("UPDATE_EXPECT").is_some() && matches!(database, Database::Memory) {
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
    check_all(&all, |program| run_program(program, &Database::Memory));
}

/// Every program that runs (not the `flin check` ones) gives the same output on
/// PostgreSQL, each in a schema of its own.
#[test]
fn conformance_programs_give_the_same_output_on_postgres() {
    let Ok(url) = std::env::var("FLIN_TEST_POSTGRES_URL") else {
        eprintln!("skipped: FLIN_TEST_POSTGRES_URL is not set (tools/pg/start makes a server)");
        return;
    };
    let mut all = Vec::new();
    programs(&spec_root(), &mut all);
    all.sort();
    all.retain(|p| p.with_extension("out").exists());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("PostgreSQL");
    let mut n = 0;
    check_all(&all, |program| {
        n += 1;
        let schema = format!("spec_{}_{n}", std::process::id());
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .map_err(|e| e.to_string())?;
        let separator = if url.contains('?') { '&' } else { '?' };
        let scoped = format!("{url}{separator}options=-csearch_path%3D{schema}");
        let outcome = run_program(program, &Database::Postgres(&scoped));
        let _ = admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
        outcome
    });
}

fn check_all(all: &[PathBuf], mut run: impl FnMut(&Path) -> Result<Outcome, String>) {
    assert!(
        !all.is_empty(),
        "no programs under {}",
        spec_root().display()
    );
    let mut failures = Vec::new();
    for program in all {
        let shown = program
            .strip_prefix(spec_root())
            .unwrap_or(program)
            .display()
            .to_string();
        match run(program) {
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
