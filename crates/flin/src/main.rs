//! `flin`: the command line (spec/cli.md). It parses arguments and hands each command to
//! the crate that owns it; no language logic lives here.

mod bench;
mod bundle;
mod check;
mod db;
mod explain;
mod fmt;
mod jobs;
mod lsp;
mod new;
mod progress;
mod run;
mod serve;
mod shell;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// FLIN programs allocate many small values (texts, records, lists); mimalloc serves
/// them markedly faster than the system allocator (bench/vm: the text and object
/// workloads).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "flin",
    version,
    about = "FLIN: a full-stack web language whose runtime remembers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scaffold an app that runs as it is
    #[command(after_help = "Example: flin new myapp --template todo && flin dev myapp")]
    New {
        /// The new project's folder: a simple name (letters, digits, `-`, `_`, `.`)
        name: String,
        /// What the app starts with: a one-page app, the todo app or the blog
        #[arg(long, value_enum, default_value = "minimal")]
        template: Template,
    },
    /// Serve the app for development: recompile on save, reload open pages
    #[command(after_help = "Example: flin dev examples/todo --port 3001")]
    Dev {
        /// Project folder, or one .flin file (default: the current folder)
        path: Option<PathBuf>,
        /// Port to listen on (default: `server.port` of flin.toml, else 3000)
        #[arg(long)]
        port: Option<u16>,
    },
    /// Serve the app in production: JSON log lines on standard output
    #[command(after_help = "Example: flin start . --port 8080")]
    Start {
        /// Project folder, one .flin file, or a bundle made by `flin build` (`.flinb`)
        path: Option<PathBuf>,
        /// Port to listen on (default: `server.port` of flin.toml, else 3000)
        #[arg(long)]
        port: Option<u16>,
    },
    /// Run a script's top-level code
    #[command(after_help = "Example: flin run examples/scripts/library.flin")]
    Run {
        /// The .flin file to run (its entities live in `.flindb/` beside it)
        file: PathBuf,
        /// Keep entities in memory instead of `.flindb/`
        #[arg(long)]
        memory: bool,
        /// Stop the script with a `limit` error after this long (`30s`, `500ms`, `5m`)
        #[arg(long, value_parser = positive_duration)]
        time_limit: Option<Duration>,
        /// Print the compiled bytecode instead of running (for work on the compiler)
        #[arg(long, hide = true)]
        bytecode: bool,
    },
    /// Parse and check everything; print every diagnostic; exit 1 on errors
    #[command(after_help = "Example: flin check . --format json")]
    Check {
        /// Project folder, or one .flin file (default: the current folder)
        path: Option<PathBuf>,
        /// `human` (rustc-style excerpts) or `json` (one object per line, for editors)
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Run `test` blocks, each on a fresh database
    #[command(after_help = "Example: flin test examples/todo --time-limit 5s")]
    Test {
        /// Project folder, or one .flin file (default: the current folder)
        path: Option<PathBuf>,
        /// Time each test may take before it fails with a `limit` error
        #[arg(long, value_parser = positive_duration, default_value = "10s")]
        time_limit: Duration,
    },
    /// Format source in the one canonical style
    #[command(after_help = "Example: flin fmt . --check")]
    Fmt {
        /// Project folder, or one .flin file (default: the current folder)
        path: Option<PathBuf>,
        /// List the files that would change and exit 1 if any, changing nothing
        #[arg(long)]
        check: bool,
    },
    /// Compile to a single bytecode bundle that `flin start` can run
    #[command(after_help = "Example: flin build . -o dist/app.flinb && flin start dist/app.flinb")]
    Build {
        /// Project folder, or one .flin file (default: the current folder)
        path: Option<PathBuf>,
        /// Where the bundle goes (default: `dist/app.flinb` in the project)
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Database tools: schema, backup, restore, prune
    #[command(after_help = "Example: flin db backup backup.db examples/todo")]
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Scheduled jobs: schedule, next due time and recent runs (works while the server runs)
    #[command(after_help = "Example: flin jobs examples/notes")]
    Jobs {
        /// Project folder (default: the current folder)
        path: Option<PathBuf>,
    },
    /// What a diagnostic code means, with an example and its fix
    #[command(after_help = "Example: flin explain E0302")]
    Explain {
        /// The code, as in `error[E0302]`
        code: String,
    },
    /// A language server for editors, over stdio (diagnostics, hover, definition, completion, symbols)
    #[command(after_help = "Example: flin lsp   (started by the editor: see editors/vscode)")]
    Lsp,
    /// Run the reference workload of performance.md and print each figure beside its target
    #[command(
        after_help = "Example: flin bench list --rows 10000 --requests 5000   (page, list, search, hybrid, save, compile, idle; --format json)"
    )]
    Bench {
        /// The workloads (page, list, search, hybrid, save, compile, idle; default all) and
        /// `--rows N`, `--requests N`, `--format table|json`
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Print the stored schema and its history
    #[command(after_help = "Example: flin db schema examples/todo")]
    Schema {
        /// Project folder or script (default: the current folder)
        path: Option<PathBuf>,
    },
    /// Take a consistent online copy (works while the server runs)
    #[command(after_help = "Example: flin db backup backup.db .")]
    Backup {
        /// Where the copy goes
        file: PathBuf,
        /// Project folder or script (default: the current folder)
        path: Option<PathBuf>,
    },
    /// Bring a copy back (the server must be stopped)
    #[command(after_help = "Example: flin db restore backup.db .")]
    Restore {
        /// The copy to bring back
        file: PathBuf,
        /// Project folder or script (default: the current folder)
        path: Option<PathBuf>,
    },
    /// Delete the data of removed fields
    #[command(after_help = "Example: flin db prune .")]
    Prune {
        /// Project folder or script (default: the current folder)
        path: Option<PathBuf>,
    },
    /// An interactive FLIN prompt on the database (piped input runs line by line)
    #[command(
        after_help = "Example: flin db shell examples/todo   (then: Todo.where(done == false))"
    )]
    Shell {
        /// Project folder or script (default: the current folder)
        path: Option<PathBuf>,
        /// Refuse every write
        #[arg(long)]
        read_only: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Template {
    Minimal,
    Todo,
    Blog,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    lean_server_memory();
    progress::install_store_reporter();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { path, format } => {
            check::run(path.unwrap_or_else(|| PathBuf::from(".")), format)
        }
        Command::New { name, template } => new::create(
            &name,
            match template {
                Template::Minimal => "minimal",
                Template::Todo => "todo",
                Template::Blog => "blog",
            },
        ),
        Command::Dev { path, port } => {
            serve::serve(path.unwrap_or_else(|| PathBuf::from(".")), port, true)
        }
        Command::Start { path, port } => {
            serve::serve(path.unwrap_or_else(|| PathBuf::from(".")), port, false)
        }
        Command::Run {
            file,
            memory,
            time_limit,
            bytecode,
        } => run::script(file, memory, time_limit, bytecode),
        Command::Test { path, time_limit } => {
            run::tests(path.unwrap_or_else(|| PathBuf::from(".")), time_limit)
        }
        Command::Fmt { path, check } => {
            fmt::run(&path.unwrap_or_else(|| PathBuf::from(".")), check)
        }
        Command::Build { path, output } => {
            bundle::build(&path.unwrap_or_else(|| PathBuf::from(".")), output)
        }
        Command::Db { command } => {
            let here = || PathBuf::from(".");
            match command {
                DbCommand::Schema { path } => db::schema(&path.unwrap_or_else(here)),
                DbCommand::Backup { file, path } => db::backup(&path.unwrap_or_else(here), &file),
                DbCommand::Restore { file, path } => db::restore(&path.unwrap_or_else(here), &file),
                DbCommand::Prune { path } => db::prune(&path.unwrap_or_else(here)),
                DbCommand::Shell { path, read_only } => {
                    shell::run(&path.unwrap_or_else(here), read_only)
                }
            }
        }
        Command::Jobs { path } => jobs::list(&path.unwrap_or_else(|| PathBuf::from("."))),
        Command::Bench { args } => bench::run(&args),
        Command::Lsp => lsp::run(),
        Command::Explain { code } => explain::run(&code),
    }
}

/// mimalloc's setting for a lean server (see `lean_server_memory`).
pub(crate) const LEAN_SETTING: &str = "MIMALLOC_ARENA_EAGER_COMMIT";

/// A server (`flin dev`, `flin start`) runs with mimalloc committing memory as it is
/// used rather than a whole arena up front: an idle server holds 11 MB instead of 37
/// (measured on the todo example). mimalloc reads the setting from the environment
/// when the process starts, before `main`; so a server started without it runs itself
/// again (same process id, `exec`) with it set. Other commands are short-lived.
fn lean_server_memory() {
    const SETTING: &str = LEAN_SETTING;
    // `flin start` of sources compiles first, then hands a bundle to a fresh image
    // with the setting (serve.rs); a bundle, or `flin dev`, is run again right away.
    let mut args = std::env::args().skip(1);
    let serving = match args.next().as_deref() {
        Some("dev") => true,
        Some("start") => args.any(|a| a.ends_with(".flinb")),
        _ => false,
    };
    if !serving || std::env::var_os(SETTING).is_some() {
        return;
    }
    #[cfg(unix)]
    if let Ok(exe) = std::env::current_exe() {
        use std::os::unix::process::CommandExt;
        // Returns only when the exec failed: the server then runs as it is.
        let _ = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env(SETTING, "0")
            .exec();
    }
}

/// A time limit: a duration above zero (`500ms`, `10s`, `2m`).
fn positive_duration(text: &str) -> Result<Duration, String> {
    let duration = flin_syntax::units::parse_duration(text)?;
    if duration.is_zero() {
        return Err(format!(
            "`{text}` is no time at all: give a duration above zero, like `10s`"
        ));
    }
    Ok(duration)
}
