//! `flin dev [path]` and `flin start [path]` (cli.md): build the project, open its
//! database, serve it until SIGINT/SIGTERM.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Port: `--port`, else `FLIN_SERVER_PORT`, else `server.port` of flin.toml, else 3000;
/// the other settings likewise (flin-web's `config`).
pub fn serve(path: PathBuf, port: Option<u16>, dev: bool) -> ExitCode {
    // The project of a bundle `flin start` made for itself (see `serve_lean`).
    let handed = std::env::var_os(HANDED_ROOT).map(PathBuf::from);
    // A bundle (`flin build`) runs as it was compiled: no parsing, no checking.
    let built = if crate::bundle::is_bundle(&path) {
        if dev {
            fatal(
                dev,
                "`flin dev` serves sources and rebuilds them on save; run a bundle with `flin start`",
            );
            return ExitCode::from(2);
        }
        let loaded = crate::bundle::load(&path);
        // A bundle made for this start (never one of the user's) is gone once read.
        let made_for_us = path.starts_with(std::env::temp_dir())
            && path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("flin-start-"));
        if handed.is_some() && made_for_us {
            let _ = std::fs::remove_file(&path);
        }
        match loaded {
            Ok(built) => built,
            Err(message) => {
                fatal(dev, &message);
                return ExitCode::from(2);
            }
        }
    } else {
        match crate::run::build(&path) {
            Ok(built) => {
                if !dev {
                    serve_lean(&built, &path, port);
                }
                built
            }
            Err(code) => return code,
        }
    };
    let root: &Path = match &handed {
        Some(root) => root,
        None => project_root(&path),
    };
    // A project with nothing to serve starts, but says what it expects.
    if built.project.sources.is_empty() {
        flin_web::log(
            dev,
            "warn",
            &format!(
                "{} holds no .flin file: nothing will answer; add a page such as app/index.flin",
                path.display()
            ),
            None,
        );
    } else if path.is_dir() && !root.join("app").is_dir() {
        flin_web::log(
            dev,
            "warn",
            &format!(
                "{} has no app/ folder: no page or route will answer; pages and routes are files under app/, such as app/index.flin",
                path.display()
            ),
            None,
        );
    }
    // flin.toml first: a setting's mistake is a usage error (2).
    let options = match flin_web::options(root, port, dev) {
        Ok(options) => options,
        Err(err) => {
            fatal(dev, &err);
            return ExitCode::from(2);
        }
    };
    let app = match flin_web::prepare(built, root, false) {
        Ok(app) => app,
        Err(err) => {
            fatal(dev, &err);
            return ExitCode::from(1);
        }
    };
    // Requests run their FLIN code on these threads when they can (flin-web's
    // `Inline`, all threads but one): as many as VM workers (twice the cores, at least
    // 4), with the stack a VM worker has. Measured on fortunes (bench/reference, 2
    // cores): 52-57 → 36-40 µs of CPU per request, 26-29k → 35k requests/s.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .saturating_mul(2)
        .max(4);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(threads)
        .thread_name(flin_web::NETWORK_THREAD)
        .thread_stack_size(flin_web::NETWORK_STACK)
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            fatal(dev, &format!("cannot start the server: {err}"));
            return ExitCode::from(1);
        }
    };
    let served = runtime.block_on(flin_web::serve(app, options, None));
    flin_web::flush_logs();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            fatal(dev, &err);
            ExitCode::from(1)
        }
    }
}

/// The project a path names: the folder itself, or the folder of one file.
fn project_root(path: &Path) -> &Path {
    if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    }
}

/// The project folder of a bundle `flin start` hands to the process that serves it.
const HANDED_ROOT: &str = "FLIN_START_ROOT";

/// `flin start` of sources serves from a fresh process image (`exec`, same process id)
/// that loads the program as a bundle: the compiler's code and memory never enter the
/// serving process (measured: an idle server's RSS 17.9 MB → 13.6 MB), and mimalloc
/// starts with its lean setting (see `lean_server_memory` in main.rs). Returns when the
/// hand-off cannot be made: the server then runs here.
fn serve_lean(built: &flin_runtime::Built, path: &Path, port: Option<u16>) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os(crate::LEAN_SETTING).is_some() {
            return;
        }
        let (Ok(exe), Ok(bundle)) = (std::env::current_exe(), crate::bundle::write_temp(built))
        else {
            return;
        };
        let root = project_root(path);
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut command = std::process::Command::new(exe);
        command.arg("start").arg(&bundle);
        if let Some(port) = port {
            command.arg("--port").arg(port.to_string());
        }
        // Returns only when the exec failed.
        let _ = command
            .env(crate::LEAN_SETTING, "0")
            .env(HANDED_ROOT, &root)
            .exec();
        let _ = std::fs::remove_file(&bundle);
    }
    #[cfg(not(unix))]
    let _ = (built, path, port);
}

/// Why the server cannot start: a readable line on standard error (`flin dev`), a JSON
/// line like every other of `flin start`'s (and the same words on standard error, for a
/// person at the terminal).
fn fatal(dev: bool, message: &str) {
    let bare = message.strip_prefix("error: ").unwrap_or(message);
    if !dev {
        flin_web::log(false, "error", bare, None);
    }
    if bare.starts_with("error[") {
        eprintln!("{bare}");
    } else {
        eprintln!("error: {bare}");
    }
}
