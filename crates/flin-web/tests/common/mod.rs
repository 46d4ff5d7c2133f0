//! Helpers of the web tests: a real server on 127.0.0.1 serving a project written into
//! a temporary folder, and a plain HTTP/1.1 client on a socket.

// Helpers fail the test by panicking, as assertions do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    dead_code
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

pub struct Server {
    pub address: SocketAddr,
    pub _dir: tempfile::TempDir,
}

/// Writes `files` into a fresh project and serves it (in-memory database).
pub fn serve(files: &[(&str, &str)], options: flin_web::Options) -> Server {
    serve_with(files, options, true)
}

/// The same, with the database in `.flindb/` (`memory` false).
pub fn serve_with(files: &[(&str, &str)], options: flin_web::Options, memory: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    let root = dir.path().to_path_buf();
    let (ready, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let project = flin_check::load(&root).unwrap();
        let built = match flin_runtime::build(project) {
            Ok(built) => built,
            Err((project, diagnostics)) => panic!(
                "{}",
                flin_diagnostics::render_human(
                    &project.sources,
                    &diagnostics,
                    flin_diagnostics::Color::Never
                )
            ),
        };
        let app = flin_web::prepare(built, &root, memory).unwrap();
        // Threads as `flin start` makes them: requests run inline on them.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name(flin_web::NETWORK_THREAD)
            .thread_stack_size(flin_web::NETWORK_STACK)
            .build()
            .unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            if let Ok(address) = rx.await {
                let _ = ready.send(address);
            }
        });
        let options = flin_web::Options { port: 0, ..options };
        let _ = runtime.block_on(flin_web::serve(app, options, Some(tx)));
    });
    let address = address.recv_timeout(Duration::from_secs(30)).unwrap();
    Server { address, _dir: dir }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub fn request(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

pub fn get(server: &Server, path: &str) -> Reply {
    request(server, "GET", path, &[], b"")
}

pub fn post_json(server: &Server, path: &str, json: &str) -> Reply {
    request(
        server,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        json.as_bytes(),
    )
}

/// A form of a page: its signed handler field and the names of its other inputs.
pub struct Form {
    pub handler: String,
    /// The cross-site token every form carries.
    pub token: String,
    pub inputs: Vec<String>,
}

pub fn forms(html: &str) -> Vec<Form> {
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = tag[start..].find('"')? + start;
        Some(tag[start..end].to_string())
    };
    html.split("<form")
        .skip(1)
        .filter_map(|rest| {
            let body = &rest[..rest.find("</form>")?];
            let mut handler = String::new();
            let mut token = String::new();
            let mut inputs = Vec::new();
            for input in body.split("<input").skip(1) {
                let tag = &input[..input.find('>').unwrap_or(input.len())];
                match attribute(tag, "name").as_deref() {
                    Some("_flin_handler") => handler = attribute(tag, "value").unwrap_or_default(),
                    Some("_flin_csrf") => token = attribute(tag, "value").unwrap_or_default(),
                    Some(name) => inputs.push(name.to_string()),
                    None => {}
                }
            }
            Some(Form {
                handler,
                token,
                inputs,
            })
        })
        .collect()
}

/// Serves a copy of `examples/<name>` (in-memory database).
pub fn serve_example(name: &str) -> Server {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    let mut files: Vec<(String, String)> = Vec::new();
    collect(&root, &root, &mut files);
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    serve(&borrowed, flin_web::Options::default())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((relative, std::fs::read_to_string(&path).unwrap_or_default()));
        }
    }
}
