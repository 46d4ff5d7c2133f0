//! The `flin dev` loop (cli.md): the project folder is watched; on a change the project
//! is rebuilt and swapped in (new VM workers, the store reopened with the new schema),
//! or, when it does not compile, its diagnostics are shown in the terminal and in the
//! browser instead of the app. Open pages poll `/__flin/version` (a small script served
//! by the binary) and reload when it changes.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use notify::Watcher;

use crate::server::{Live, Options, Shared, prepare};

/// The script a dev page loads: reload when the server's version changes.
const DEV_JS: &str = "(function(){var v=null;function poll(){fetch('/__flin/version').then(function(r){return r.text()}).then(function(t){if(v===null){v=t}else if(t!==v){location.reload()}}).catch(function(){}).finally(function(){setTimeout(poll,700)})}poll()})();\n";

/// `/__flin/…` paths of the dev server.
pub fn answer(shared: &Shared, path: &str) -> Option<Response> {
    let (body, content_type) = match path {
        "/__flin/version" => (
            shared.version.load(Ordering::Relaxed).to_string(),
            "text/plain",
        ),
        "/__flin/dev.js" => (DEV_JS.to_string(), "text/javascript"),
        _ => return None,
    };
    let mut response = Response::new(Body::from(body));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    Some(response)
}

/// The page shown while the project does not compile.
pub fn failure_page(diagnostics: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>FLIN: the project does not compile</title>\n<script src=\"/__flin/dev.js\" defer></script>\n<style>body{{font-family:ui-monospace,monospace;margin:2rem;}}pre{{background:#fff4f4;border-left:4px solid #d33;padding:1rem;white-space:pre-wrap;}}</style>\n</head>\n<body>\n<h1>The project does not compile</h1>\n<pre>{}</pre>\n<p>Fix the file and save: this page reloads by itself.</p>\n</body>\n</html>\n",
        flin_vm::html::escape(diagnostics)
    );
    let mut response = Response::new(Body::from(html));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// Watches `root`; returns the watcher (dropping it stops watching).
pub fn watch(
    root: PathBuf,
    target: PathBuf,
    shared: Arc<Shared>,
    options: Options,
    workers: usize,
) -> Option<notify::RecommendedWatcher> {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            // Reading a file (the rebuild itself does) is not a change.
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            let relevant = event.paths.iter().any(|p| {
                let text = p.to_string_lossy();
                !text.contains("/.flindb")
                    && (text.ends_with(".flin") || text.ends_with("flin.toml"))
            });
            if relevant {
                let _ = tx.send(());
            }
        }
    })
    .ok()?;
    watcher
        .watch(&root, notify::RecursiveMode::Recursive)
        .ok()?;
    let spawned = std::thread::Builder::new()
        .name("flin-dev-watch".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                // Editors write in bursts (a temporary file, a rename): rebuild once the
                // files have been quiet for 10 ms (at most 200 ms after the first), not
                // after a fixed wait: a save shows in about 15 ms, not 85.
                let first = Instant::now();
                while first.elapsed() < Duration::from_millis(200) {
                    match rx.recv_timeout(Duration::from_millis(10)) {
                        Ok(()) => continue,
                        Err(_) => break,
                    }
                }
                rebuild(&root, &target, &shared, &options, workers);
            }
        });
    spawned.ok()?;
    Some(watcher)
}

fn rebuild(
    root: &std::path::Path,
    target: &std::path::Path,
    shared: &Shared,
    options: &Options,
    workers: usize,
) {
    let started = Instant::now();
    let build = shared.version.load(Ordering::Relaxed) + 1;
    let live = match flin_check::load(target) {
        Err(err) => Live::failed(format!("error: {err}")),
        Ok(project) => match flin_runtime::build(project) {
            Err((project, diagnostics)) => {
                let text = flin_diagnostics::render_human(
                    &project.sources,
                    &diagnostics,
                    flin_diagnostics::Color::Never,
                );
                eprintln!("{text}");
                Live::failed(text)
            }
            Ok(built) => match prepare(built, root, options.memory) {
                Err(err) => {
                    eprintln!("{err}");
                    Live::failed(err)
                }
                Ok(app) => Live::new(&app, options, workers, &shared.hub, &shared.sockets, build),
            },
        },
    };
    let ok = live.failure.is_none();
    if let Ok(mut current) = shared.live.write() {
        *current = Arc::new(live);
    }
    let version = shared.version.fetch_add(1, Ordering::Relaxed) + 1;
    // Open live pages run the old code: they reload.
    shared.hub.reload_all();
    if ok {
        eprintln!(
            "recompiled in {:.0} ms (version {version})",
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
}
