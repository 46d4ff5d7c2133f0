//! `flin run file.flin` and `flin test [path]`: build the program, run it on a thread with
//! a deep stack, print what it prints, and report errors the way the compiler does.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use flin_diagnostics::{Color, Diagnostic, Sources, render_human};
use flin_runtime::{Built, ScriptOutcome, TestOutcome};
use flin_vm::{Limits, RuntimeError, StdHost};

/// Native code calling back into FLIN (`map`, `sort_by` …) nests on the Rust stack.
const STACK_SIZE: usize = 512 * 1024 * 1024;

fn color() -> Color {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        Color::Always
    } else {
        Color::Never
    }
}

fn print_diagnostics(sources: &Sources, diagnostics: &[Diagnostic]) {
    let text = render_human(sources, diagnostics, color());
    let _ = std::io::stderr().write_all(text.as_bytes());
}

fn build(path: &std::path::Path) -> Result<Built, ExitCode> {
    let project = match flin_check::load(path) {
        Ok(project) => project,
        Err(err) => {
            eprintln!("error: {err}");
            return Err(ExitCode::from(2));
        }
    };
    match flin_runtime::build(project) {
        Ok(built) => {
            print_diagnostics(&built.project.sources, &built.warnings);
            Ok(built)
        }
        Err((project, diagnostics)) => {
            print_diagnostics(&project.sources, &diagnostics);
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            eprintln!(
                "could not run: {errors} error{}",
                if errors == 1 { "" } else { "s" }
            );
            Err(ExitCode::from(1))
        }
    }
}

fn report_runtime_error(sources: &Sources, err: &RuntimeError) {
    match err.to_diagnostic() {
        Some(diagnostic) => print_diagnostics(sources, &[diagnostic]),
        None => eprintln!("error[{}]: {}", err.kind, err.message),
    }
}

/// Runs `work` on a thread with a deep stack.
fn on_deep_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    std::thread::Builder::new()
        .name("flin-vm".into())
        .stack_size(STACK_SIZE)
        .spawn(work)
        .ok()?
        .join()
        .ok()
}

pub fn script(
    file: PathBuf,
    _memory: bool,
    time_limit: Option<Duration>,
    bytecode: bool,
) -> ExitCode {
    if file.is_dir() {
        eprintln!("error: `flin run` takes a .flin file; use `flin dev` to serve a project");
        return ExitCode::from(2);
    }
    let result = on_deep_stack(move || {
        let built = match build(&file) {
            Ok(built) => built,
            Err(code) => return code,
        };
        if bytecode {
            print!("{}", built.code);
            return ExitCode::SUCCESS;
        }
        let mut host = StdHost::new();
        let limits = Limits {
            time_limit,
            ..Limits::default()
        };
        let outcome = flin_runtime::run_script(&built, &mut host, limits);
        host.flush();
        match outcome {
            ScriptOutcome::Finished => ExitCode::SUCCESS,
            ScriptOutcome::Failed(err) => {
                report_runtime_error(&built.project.sources, &err);
                ExitCode::from(1)
            }
        }
    });
    result.unwrap_or(ExitCode::from(101))
}

pub fn tests(path: PathBuf, time_limit: Duration) -> ExitCode {
    let result = on_deep_stack(move || {
        let built = match build(&path) {
            Ok(built) => built,
            Err(code) => return code,
        };
        let mut host = StdHost::new();
        let limits = Limits {
            time_limit: Some(time_limit),
            ..Limits::default()
        };
        let results = flin_runtime::run_tests(&built, &mut host, limits);
        host.flush();
        let mut failed = 0;
        for result in &results {
            let place = built
                .project
                .sources
                .get(result.file)
                .map(|s| {
                    let at = s.line_col(result.span.start);
                    format!("{}:{}", s.path, at.line)
                })
                .unwrap_or_default();
            match &result.outcome {
                TestOutcome::Passed => println!("ok      {} ({place})", result.name),
                TestOutcome::Failed(err) => {
                    failed += 1;
                    println!("FAILED  {} ({place})", result.name);
                    let _ = std::io::stdout().flush();
                    report_runtime_error(&built.project.sources, err);
                }
            }
        }
        let passed = results.len() - failed;
        println!(
            "{} test{}: {passed} passed, {failed} failed",
            results.len(),
            if results.len() == 1 { "" } else { "s" }
        );
        if failed > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    });
    result.unwrap_or(ExitCode::from(101))
}
