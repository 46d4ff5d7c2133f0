//! Scripts and tests: `flin run file.flin` runs a file's top-level code; `flin test`
//! runs every `test` block, each on fresh state (language.md §10).

use std::rc::Rc;
use std::sync::Arc;

use flin_check::Project;
use flin_diagnostics::Diagnostic;
use flin_store::Store;
use flin_vm::{Host, HttpCall, HttpReply, Limits, Program, ProgramCode, RuntimeError, Vm};

use crate::db_host::{DbHost, store_error};

/// A program checked and compiled, ready to run.
pub struct Built {
    pub project: Project,
    pub code: Arc<ProgramCode>,
    /// Warnings found on the way.
    pub warnings: Vec<Diagnostic>,
}

/// Checks and compiles a project; gives every diagnostic when it has errors.
pub fn build(project: Project) -> Result<Built, (Project, Vec<Diagnostic>)> {
    let checked = flin_check::check_for_compile(&project);
    if checked.error_count() > 0 {
        return Err((project, checked.diagnostics));
    }
    let warnings = checked.diagnostics.clone();
    match flin_compile::compile(&project, &checked) {
        Ok(code) => Ok(Built {
            project,
            code: Arc::new(code),
            warnings,
        }),
        Err(errors) => Err((project, errors)),
    }
}

pub enum ScriptOutcome {
    Finished,
    Failed(RuntimeError),
}

/// Runs the top-level code of every file of the program (for a script: its one file),
/// with `host` receiving what it prints. With a store, the run is one unit of work
/// (data.md §7): its writes are committed when it finishes and undone when it fails.
pub fn run_script(
    built: &Built,
    host: &mut dyn Host,
    limits: Limits,
    store: Option<&Store>,
) -> ScriptOutcome {
    let program = Rc::new(Program::load(built.code.clone()));
    let Some(store) = store else {
        return run_entries(built, program, host, limits);
    };
    let unit = match store.unit() {
        Ok(unit) => unit,
        Err(err) => return ScriptOutcome::Failed(store_error(err)),
    };
    let mut db_host = DbHost::new(host, unit, program.clone());
    let outcome = run_entries(built, program, &mut db_host, limits);
    let keep = matches!(outcome, ScriptOutcome::Finished);
    match db_host.finish(keep) {
        Err(err) if keep => ScriptOutcome::Failed(store_error(err)),
        _ => outcome,
    }
}

fn run_entries(
    built: &Built,
    program: Rc<Program>,
    host: &mut dyn Host,
    limits: Limits,
) -> ScriptOutcome {
    let mut vm = Vm::new(program, host);
    vm.limits = limits;
    vm.start_unit();
    let mut outcome = ScriptOutcome::Finished;
    for (_, entry) in &built.code.entries {
        if let Err(err) = vm.run_function(*entry, &[]) {
            outcome = ScriptOutcome::Failed(err);
            break;
        }
    }
    // Nothing of a unit of work outlives it, cycles included.
    drop(vm);
    flin_vm::cycles::collect();
    outcome
}

pub enum TestOutcome {
    Passed,
    Failed(RuntimeError),
}

pub struct TestResult {
    pub name: String,
    pub file: flin_diagnostics::FileId,
    pub span: flin_diagnostics::Span,
    pub outcome: TestOutcome,
}

/// What a test's `get`, `post` … call: the app, in-process, on the test's database.
pub type TestClient = Box<dyn FnMut(&HttpCall) -> Result<HttpReply, RuntimeError>>;

/// Serves the app to tests (the web crate implements it: the runtime knows nothing of
/// HTTP). Each test gets a client of its own, on its own fresh database, so sessions
/// last across the calls of one test and no further.
pub trait TestApp {
    fn client(&self, store: Option<Arc<Store>>, program: Rc<Program>) -> TestClient;
}

/// The host of one test: prints and logs go out, requests go to the app.
struct TestHost<'a> {
    out: &'a mut dyn Host,
    client: Option<TestClient>,
}

impl Host for TestHost<'_> {
    fn print(&mut self, line: &str) {
        self.out.print(line);
    }

    fn log(&mut self, level: &'static str, line: &str) {
        self.out.log(level, line);
    }

    fn http(&mut self, call: &HttpCall) -> Result<HttpReply, RuntimeError> {
        match &mut self.client {
            Some(client) => client(call),
            None => self.out.http(call),
        }
    }
}

/// Runs every test block, each on a fresh VM (fresh file variables) and, when the
/// program has entities, a fresh database: in memory, or with `postgres` (a URL) a
/// schema of its own on PostgreSQL, dropped after (data.md §10). With `app`, tests can
/// call the app's routes.
pub fn run_tests(
    built: &Built,
    host: &mut dyn Host,
    limits: Limits,
    app: Option<&dyn TestApp>,
    postgres: Option<&str>,
) -> Vec<TestResult> {
    let program = Rc::new(Program::load(built.code.clone()));
    built
        .code
        .tests
        .iter()
        .enumerate()
        .map(|(n, test)| {
            let run = |host: &mut dyn Host| {
                let mut vm = Vm::new(program.clone(), host);
                vm.limits = limits;
                vm.start_unit();
                let outcome = match vm.run_function(test.function, &[]) {
                    Ok(_) => TestOutcome::Passed,
                    Err(err) => TestOutcome::Failed(err),
                };
                drop(vm);
                outcome
            };
            let outcome = if built.code.entities.is_empty() {
                let client = app.map(|app| app.client(None, program.clone()));
                run(&mut TestHost {
                    out: &mut *host,
                    client,
                })
            } else {
                let schema = postgres.map(|_| format!("flin_test_{}_{n}", std::process::id()));
                let store = match (postgres, &schema) {
                    (Some(url), Some(schema)) => Store::open(
                        flin_store::Location::Postgres {
                            url: url.to_string(),
                            pool: 4,
                            schema: Some(schema.clone()),
                        },
                        &built.code.entities,
                        flin_store::Durability::Full,
                    ),
                    _ => Store::memory(&built.code.entities),
                };
                let outcome = match store.and_then(|store| {
                    let store = Arc::new(store);
                    let client = app.map(|app| app.client(Some(store.clone()), program.clone()));
                    let mut test_host = TestHost {
                        out: &mut *host,
                        client,
                    };
                    let unit = store.unit()?;
                    let mut db_host = DbHost::new(&mut test_host, unit, program.clone());
                    let outcome = run(&mut db_host);
                    db_host.finish(false)?;
                    Ok(outcome)
                }) {
                    Ok(outcome) => outcome,
                    Err(err) => TestOutcome::Failed(store_error(err)),
                };
                if let (Some(url), Some(schema)) = (postgres, &schema) {
                    if let Err(err) = flin_store::drop_postgres_schema(url, schema) {
                        eprintln!("warning: the test's schema {schema} was not dropped: {err}");
                    }
                }
                outcome
            };
            flin_vm::cycles::collect();
            TestResult {
                name: test.name.clone(),
                file: test.file,
                span: test.span,
                outcome,
            }
        })
        .collect()
}
