//! `flin db shell [path] [--read-only]` (cli.md §4): an interactive FLIN prompt on a
//! project's database. Each input (a line, or a block while its brackets are open) is
//! checked and run as one unit of work, with the project's entities and `lib/`
//! functions in scope (for a script: its declarations); the value of a last expression
//! is printed in display form, a list of entities as a table. `fn` declarations stay
//! for the inputs after; variables do not (each input is a unit of its own). With
//! `--read-only` every input runs on a reading connection and writes are refused.
//! Piped input runs the same way, input by input, and stops at the first error.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;

use flin_check::Project;
use flin_diagnostics::Sources;
use flin_runtime::{DbHost, Durability, Store, store_error};
use flin_syntax::Symbol;
use flin_syntax::ast::StmtKind;
use flin_vm::{Limits, Program, StdHost, Value, Vm};

/// The variable the last expression of an input is kept in, to be printed.
const SHOWN: &str = "__shell_value";

/// The file an input is checked as.
const INPUT_FILE: &str = "shell.flin";

pub fn run(path: &Path, read_only: bool) -> ExitCode {
    let path = path.to_path_buf();
    crate::run::on_deep_stack(move || session(&path, read_only)).unwrap_or(ExitCode::from(101))
}

/// What every input is checked with: the project's declarations.
struct Base {
    root: PathBuf,
    /// Project-wide files (`entities/`, `lib/`) of a project folder.
    files: Vec<(String, String)>,
    /// The `fn`s of earlier inputs (checked as a `lib/` file of their own, so an
    /// input's lines keep their numbers).
    prelude: String,
}

fn session(path: &Path, read_only: bool) -> ExitCode {
    let project = match flin_check::load(path) {
        Ok(project) => project,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let mut base = base_of(&project);
    // The declarations alone, to open the database with the project's entities.
    let Ok(first) = build(&base, "") else {
        eprintln!("error: the project does not check; `flin check` shows why");
        return ExitCode::from(1);
    };
    let database = crate::db::shown(path);
    if let Err(message) = flin_web::select_model(path) {
        eprintln!("{message}");
        return ExitCode::from(2);
    }
    let store = match Store::open(
        crate::db::location(path),
        &first.code.entities,
        Durability::Full,
    ) {
        Ok(store) => store,
        Err(err) => {
            eprintln!("error[{}]: {err}", err.kind());
            return ExitCode::from(1);
        }
    };
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!(
            "FLIN shell on {}{} — an expression prints its value; a block runs while its brackets are open; Ctrl-D leaves",
            database,
            if read_only { " (read-only)" } else { "" }
        );
    }
    let mut failed = false;
    let mut run_input = |input: &str| -> bool {
        if input.trim().is_empty() {
            return true;
        }
        run_one(&mut base, &store, input, read_only)
    };
    if interactive {
        let history = project.root.join(".flindb").join("shell_history");
        let Ok(mut editor) = rustyline::DefaultEditor::new() else {
            eprintln!("error: the terminal cannot be used for line editing");
            return ExitCode::from(1);
        };
        let _ = editor.load_history(&history);
        let mut pending = String::new();
        loop {
            let prompt = if pending.is_empty() {
                "flin> "
            } else {
                "  ... "
            };
            match editor.readline(prompt) {
                Ok(line) => {
                    pending.push_str(&line);
                    pending.push('\n');
                    if open_brackets(&pending) > 0 {
                        continue;
                    }
                    let input = std::mem::take(&mut pending);
                    let _ = editor.add_history_entry(input.trim_end());
                    run_input(&input);
                }
                Err(rustyline::error::ReadlineError::Interrupted) => pending.clear(),
                Err(_) => break,
            }
        }
        let _ = editor.save_history(&history);
    } else {
        let mut pending = String::new();
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            pending.push_str(&line);
            pending.push('\n');
            if open_brackets(&pending) > 0 {
                continue;
            }
            let input = std::mem::take(&mut pending);
            if !run_input(&input) {
                failed = true;
                break;
            }
        }
        if !failed && !pending.trim().is_empty() {
            eprintln!("error: the input ended inside an open bracket");
            failed = true;
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn base_of(project: &Project) -> Base {
    if project.single_file {
        // A script: its declarations, without its top-level code.
        let mut prelude = String::new();
        for source in project.sources.iter() {
            let parsed = flin_syntax::parse(&source.text, source.id);
            for stmt in &parsed.file.stmts {
                if matches!(
                    stmt.kind,
                    StmtKind::Entity(_)
                        | StmtKind::Fn(_)
                        | StmtKind::Enum(_)
                        | StmtKind::TypeAlias { .. }
                ) {
                    if let Some(text) = source
                        .text
                        .get(stmt.span.start as usize..stmt.span.end as usize)
                    {
                        prelude.push_str(text);
                        prelude.push('\n');
                    }
                }
            }
        }
        // Checked as a `lib/` file: visible to the input.
        return Base {
            root: project.root.clone(),
            files: vec![("lib/script.flin".to_string(), prelude)],
            prelude: String::new(),
        };
    }
    let files = project
        .sources
        .iter()
        .filter(|s| s.path.starts_with("entities/") || s.path.starts_with("lib/"))
        .map(|s| (s.path.clone(), s.text.clone()))
        .collect();
    Base {
        root: project.root.clone(),
        files,
        prelude: String::new(),
    }
}

/// The project with `input` as one more file.
fn build(
    base: &Base,
    input: &str,
) -> Result<flin_runtime::Built, (Sources, Vec<flin_diagnostics::Diagnostic>)> {
    let mut sources = Sources::new();
    for (path, text) in &base.files {
        sources.add(path.clone(), text.clone());
    }
    if !base.prelude.is_empty() {
        sources.add("lib/shell_functions.flin", base.prelude.clone());
    }
    sources.add(INPUT_FILE, input.to_string());
    let project = Project {
        root: base.root.clone(),
        sources,
        diagnostics: Vec::new(),
        single_file: false,
    };
    flin_runtime::build(project).map_err(|(project, diagnostics)| (project.sources, diagnostics))
}

/// Checks and runs one input; false when it failed.
fn run_one(base: &mut Base, store: &Store, input: &str, read_only: bool) -> bool {
    // The last statement, when an expression, is kept to be shown.
    let parsed = flin_syntax::parse(input, flin_diagnostics::FileId(0));
    let mut text = input.to_string();
    let mut shows = false;
    if let Some(last) = parsed.file.stmts.last() {
        if matches!(last.kind, StmtKind::Expr(_)) && !parsed.has_errors() {
            let at = last.span.start as usize;
            if let (Some(before), Some(after)) = (input.get(..at), input.get(at..)) {
                text = format!("{before}{SHOWN} = {after}");
                shows = true;
            }
        }
    }
    let built = match build(base, &text) {
        Ok(built) => built,
        Err((sources, diagnostics)) => {
            crate::run::print_diagnostics(&sources, &diagnostics);
            return false;
        }
    };
    let sources = built.project.sources.clone();
    let Some(file) = sources.iter().find(|s| s.path == INPUT_FILE).map(|s| s.id) else {
        return false;
    };
    let Some((_, main)) = built.code.entries.iter().find(|(f, _)| *f == file).copied() else {
        return false;
    };
    let slot = built
        .code
        .globals
        .iter()
        .position(|(f, name)| *f == file && *name == Symbol::intern(SHOWN));
    let program = Rc::new(Program::load(built.code.clone()));
    let unit = if read_only {
        store.read_unit()
    } else {
        store.unit()
    };
    let unit = match unit {
        Ok(unit) => unit,
        Err(err) => {
            eprintln!("error[{}]: {err}", err.kind());
            return false;
        }
    };
    let mut out = StdHost::new();
    let mut host = DbHost::new(&mut out, unit, program.clone());
    let mut vm = Vm::new(program, &mut host);
    vm.limits = Limits::default();
    vm.start_unit();
    let mut outcome = vm.run_function(main, &[]);
    let mut shown = slot
        .and_then(|g| vm.globals.get(g).cloned())
        .filter(|_| shows);
    // A query shows its rows.
    if let (Ok(_), Some(Value::Query(query))) = (&outcome, &shown) {
        match flin_vm::query::plan(query)
            .and_then(|plan| vm.host.query(&plan, &flin_query::Terminal::Rows))
        {
            Ok(rows) => shown = Some(rows),
            Err(err) => outcome = Err(err),
        }
    }
    drop(vm);
    let kept = outcome.is_ok();
    let finished = host.finish(kept);
    out.flush();
    match (outcome, finished) {
        (Err(err), _) => {
            if flin_store::READ_ONLY == err.message {
                eprintln!("error: this shell is read-only (--read-only): writes are refused");
            } else {
                crate::run::report_runtime_error(&sources, &err);
            }
            false
        }
        (Ok(_), Err(err)) => {
            let err = store_error(err);
            eprintln!("error[{}]: {}", err.kind, err.message);
            false
        }
        (Ok(_), Ok(())) => {
            if let Some(value) = shown {
                show(&value);
            }
            // Functions declared here stay for the next inputs.
            for stmt in &parsed.file.stmts {
                if matches!(stmt.kind, StmtKind::Fn(_)) {
                    if let Some(decl) = input.get(stmt.span.start as usize..stmt.span.end as usize)
                    {
                        base.prelude.push_str(decl);
                        base.prelude.push('\n');
                    }
                }
            }
            true
        }
    }
}

/// A value in display form; a list of entities as a table.
fn show(value: &Value) {
    match value {
        Value::None | Value::Absent => {}
        Value::List(items) => {
            let items = items.borrow();
            let entities: Vec<_> = items
                .iter()
                .filter_map(|v| match v {
                    Value::Entity(e) => Some(e.clone()),
                    _ => None,
                })
                .collect();
            if entities.is_empty() || entities.len() != items.len() {
                println!("{}", flin_vm::display::display(value));
                return;
            }
            let ty = entities.first().map(|e| e.ty.clone());
            let Some(ty) = ty else { return };
            let mut header = vec!["id".to_string()];
            header.extend(ty.fields.iter().map(|f| f.as_str().to_string()));
            let rows: Vec<Vec<String>> = entities
                .iter()
                .map(|e| {
                    let mut row = vec![e.id().map_or_else(String::new, |id| id.to_string())];
                    row.extend(e.values.borrow().iter().map(cell));
                    row
                })
                .collect();
            table(&header, &rows);
            println!(
                "({} {})",
                rows.len(),
                if rows.len() == 1 { "row" } else { "rows" }
            );
        }
        // One entity: a table of one row.
        Value::Entity(_) => show(&Value::list(vec![value.clone()])),
        other => println!("{}", flin_vm::display::display(other)),
    }
}

/// A field's value in a table cell: one line, at most 40 characters.
fn cell(value: &Value) -> String {
    let text = match value {
        Value::Entity(e) => e
            .id()
            .map_or_else(|| "(new)".to_string(), |id| format!("#{id}")),
        other => flin_vm::display::display(other),
    };
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.chars().count() > 40 {
        let cut: String = line.chars().take(39).collect();
        format!("{cut}…")
    } else {
        line
    }
}

fn table(header: &[String], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let width = widths.get(i).copied().unwrap_or(0);
                format!("{c}{}", " ".repeat(width.saturating_sub(c.chars().count())))
            })
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    println!("{}", line(header));
    println!(
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-")
    );
    for row in rows {
        println!("{}", line(row));
    }
}

/// How many brackets (`{`, `(`, `[`) the text leaves open, outside strings and comments.
fn open_brackets(text: &str) -> i64 {
    let mut depth = 0i64;
    let mut chars = text.chars().peekable();
    let mut in_text = false;
    while let Some(c) = chars.next() {
        if in_text {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_text = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_text = true,
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            _ => {}
        }
    }
    depth
}
