//! `flin jobs [path]` (services.md §4): each job of the project with its schedule, when
//! it is next due and its recent runs, read from the database (so it works while the
//! server runs, and after it stopped).

use std::path::Path;
use std::process::ExitCode;

use flin_web::jobs::When;

/// Recent runs shown per job.
const RECENT: usize = 5;

pub fn list(path: &Path) -> ExitCode {
    let built = match crate::run::build(path) {
        Ok(built) => built,
        Err(code) => return code,
    };
    let now = flin_web::jobs::now_micros();
    let specs = match flin_web::jobs::specs(&built.code, now) {
        Ok(specs) => specs,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(1);
        }
    };
    if specs.is_empty() {
        println!("no jobs: add an `every` or `cron` block (in `jobs/`, by convention)");
        return ExitCode::SUCCESS;
    }
    let root = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    };
    let conn = crate::db::open(&root).ok();
    for spec in &specs {
        let runs = conn
            .as_ref()
            .and_then(|conn| conn.job_runs(&spec.name, RECENT).ok())
            .unwrap_or_default();
        let next = match (&spec.when, runs.first()) {
            // From the server's start: known from the last run, if any.
            (When::Every { interval, .. }, Some(last)) => {
                let steps = (now - last.due).max(0) / interval + 1;
                Some(last.due + steps * interval)
            }
            (When::Every { .. }, None) => None,
            (when, _) => when.next_after(now),
        };
        println!("{}  {}", spec.name, spec.when.describe());
        match next {
            Some(due) => println!("  next: {}", time(due)),
            None => println!("  next: one interval after the server starts"),
        }
        if runs.is_empty() {
            println!("  no runs yet");
        }
        for run in &runs {
            let took = run
                .micros
                .map(|m| format!(" in {:.1} ms", m as f64 / 1000.0))
                .unwrap_or_default();
            println!("  {}  {}{took}", time(run.due), run.outcome);
            if let Some(error) = &run.error {
                println!("      {error}");
            }
        }
    }
    ExitCode::SUCCESS
}

fn time(micros: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(micros).map_or_else(
        || micros.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}
