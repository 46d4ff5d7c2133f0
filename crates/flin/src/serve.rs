//! `flin dev [path]` and `flin start [path]` (cli.md): build the project, open its
//! database, serve it until SIGINT/SIGTERM.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Port: `--port`, else `FLIN_SERVER_PORT`, else 3000; host: `FLIN_SERVER_HOST`, else
/// 127.0.0.1.
pub fn serve(path: PathBuf, port: Option<u16>, dev: bool) -> ExitCode {
    let env_port = std::env::var("FLIN_SERVER_PORT").ok();
    let port = match (port, env_port) {
        (Some(port), _) => port,
        (None, Some(text)) => match text.parse() {
            Ok(port) => port,
            Err(_) => {
                eprintln!("error: FLIN_SERVER_PORT is `{text}`, not a port number");
                return ExitCode::from(2);
            }
        },
        (None, None) => 3000,
    };
    let host = std::env::var("FLIN_SERVER_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let built = match crate::run::build(&path) {
        Ok(built) => built,
        Err(code) => return code,
    };
    let root: &Path = if path.is_dir() {
        &path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    let app = match flin_web::prepare(built, root, false) {
        Ok(app) => app,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(1);
        }
    };
    let options = flin_web::Options {
        host,
        port,
        dev,
        ..flin_web::Options::default()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the server: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(flin_web::serve(app, options, None)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(1)
        }
    }
}
