//! `flin run file.flin` and `flin test [path]`: build the program, run it on a thread with
//! a deep stack, print what it prints, and report errors the way the compiler does.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use flin_diagnostics::{Color, Diagnostic, Sources, render_human};
use flin_runtime::{Built, Durability, Location, ScriptOutcome, Store, TestOutcome};
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

pub(crate) fn print_diagnostics(sources: &Sources, diagnostics: &[Diagnostic]) {
    let text = render_human(sources, diagnostics, color());
    let _ = std::io::stderr().write_all(text.as_bytes());
}

pub(crate) fn build(path: &std::path::Path) -> Result<Built, ExitCode> {
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

pub(crate) fn report_runtime_error(sources: &Sources, err: &RuntimeError) {
    match err.to_diagnostic() {
        Some(diagnostic) => print_diagnostics(sources, &[diagnostic]),
        None => eprintln!("error[{}]: {}", err.kind, err.message),
    }
}

/// Runs `work` on a thread with a deep stack.
pub(crate) fn on_deep_stack<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
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
    memory: bool,
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
            max_memory: Some(SCRIPT_MEMORY),
            ..Limits::default()
        };
        // A program with entities keeps them in `.flindb/` beside the script.
        let store = if built.code.entities.is_empty() {
            None
        } else {
            match open_store(&file, memory, &built) {
                Ok(store) => Some(store),
                Err(code) => return code,
            }
        };
        let outcome = flin_runtime::run_script(&built, &mut host, limits, store.as_ref());
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

/// The database of a script: the PostgreSQL database `database.url` (or
/// `FLIN_DATABASE_URL`) names, else `.flindb/flin.db` beside it, or in memory.
fn open_store(file: &std::path::Path, memory: bool, built: &Built) -> Result<Store, ExitCode> {
    let dir = file.parent().unwrap_or(std::path::Path::new("."));
    let location = if memory {
        Location::Memory
    } else {
        let options = flin_web::options(dir, None, false).map_err(|err| {
            eprintln!("{err}");
            ExitCode::from(2)
        })?;
        match options.postgres {
            Some(url) => Location::Postgres {
                url,
                pool: options.pool,
                schema: None,
            },
            None => Location::File(flin_web::sqlite_file(dir, &options)),
        }
    };
    let durability = match std::env::var("FLIN_DATABASE_DURABILITY") {
        Ok(text) => match Durability::parse(&text) {
            Some(durability) => durability,
            None => {
                eprintln!(
                    "error: FLIN_DATABASE_DURABILITY is `{text}`; it must be `full` or `relaxed`"
                );
                return Err(ExitCode::from(2));
            }
        },
        Err(_) => Durability::Full,
    };
    if let Err(message) = flin_web::select_model(file) {
        eprintln!("{message}");
        return Err(ExitCode::from(2));
    }
    let store = Store::open(location, &built.code.entities, durability).map_err(|err| {
        eprintln!("error[{}]: {err}", err.kind());
        ExitCode::from(1)
    })?;
    // Rows start-up queued for a slow model are embedded before the script runs.
    store.embed_pending().map_err(|err| {
        eprintln!("error[{}]: {err}", err.kind());
        ExitCode::from(1)
    })?;
    Ok(store)
}

pub fn tests(path: PathBuf, time_limit: Duration) -> ExitCode {
    let result = on_deep_stack(move || {
        let built = match build(&path) {
            Ok(built) => built,
            Err(code) => return code,
        };
        // Tests call the app's routes in-process (`get`, `post` …).
        let root = if path.is_dir() {
            path.clone()
        } else {
            path.parent()
                .map_or_else(PathBuf::new, std::path::Path::to_path_buf)
        };
        let server = match flin_web::testing::TestServer::new(built, &root) {
            Ok(server) => server,
            Err(message) => {
                eprintln!("{message}");
                return ExitCode::from(2);
            }
        };
        let built = server.built();
        let mut host = StdHost::new();
        let limits = Limits {
            time_limit: Some(time_limit),
            max_memory: Some(SCRIPT_MEMORY),
            ..Limits::default()
        };
        // With `database.url` (or FLIN_DATABASE_URL) on PostgreSQL, each test gets a
        // schema of its own there.
        let postgres = flin_web::options(&root, None, false)
            .ok()
            .and_then(|options| options.postgres);
        let results =
            flin_runtime::run_tests(built, &mut host, limits, Some(&server), postgres.as_deref());
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

/// What the values of a script, or of one test, may hold: past it, a clear error
/// instead of the process running out of memory.
const SCRIPT_MEMORY: usize = 2 * 1024 * 1024 * 1024;
