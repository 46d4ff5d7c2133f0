//! `flin dev [path]` and `flin start [path]` (cli.md): build the project, open its
//! database, serve it until SIGINT/SIGTERM.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Port: `--port`, else `FLIN_SERVER_PORT`, else `server.port` of flin.toml, else 3000;
/// the other settings likewise (flin-web's `config`).
pub fn serve(path: PathBuf, port: Option<u16>, dev: bool) -> ExitCode {
    // A bundle (`flin build`) runs as it was compiled: no parsing, no checking.
    let built = if crate::bundle::is_bundle(&path) {
        if dev {
            fatal(
                dev,
                "`flin dev` serves sources and rebuilds them on save; run a bundle with `flin start`",
            );
            return ExitCode::from(2);
        }
        match crate::bundle::load(&path) {
            Ok(built) => built,
            Err(message) => {
                fatal(dev, &message);
                return ExitCode::from(2);
            }
        }
    } else {
        match crate::run::build(&path) {
            Ok(built) => built,
            Err(code) => return code,
        }
    };
    let root: &Path = if path.is_dir() {
        &path
    } else {
        path.parent().unwrap_or(Path::new("."))
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            fatal(dev, &format!("cannot start the server: {err}"));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(flin_web::serve(app, options, None)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            fatal(dev, &err);
            ExitCode::from(1)
        }
    }
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
