//! Fuzzes the HTTP request path of a real server on 127.0.0.1 (`flin_web::fuzzing`):
//! each input becomes a request (method, path, query, headers, cookie, JSON,
//! urlencoded or multipart body, or the raw bytes) to a small app with pages, forms,
//! `validate`, sessions and route parameters. No answer may be a 500, and the server
//! must keep answering.
//!
//! Run: `fuzz/run http` (see fuzz/README.md).

#![no_main]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// The server, started once for the whole run.
fn server() -> SocketAddr {
    static ADDRESS: OnceLock<SocketAddr> = OnceLock::new();
    *ADDRESS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("flin-fuzz-http-{}", std::process::id()));
        for (path, text) in flin_web::fuzzing::APP {
            let full = dir.join(path);
            std::fs::create_dir_all(full.parent().expect("a folder")).expect("the app");
            std::fs::write(full, text).expect("the app");
        }
        let (ready, address) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let project = flin_check::load(&dir).expect("the app loads");
            let built = flin_runtime::build(project).map_err(|_| "the app compiles").expect("built");
            let app = flin_web::prepare(built, &dir, true).expect("prepared");
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            let options = flin_web::Options {
                port: 0,
                dev: false,
                memory: true,
                ..flin_web::Options::default()
            };
            let (tx, rx) = tokio::sync::oneshot::channel();
            runtime.spawn(async move {
                if let Ok(address) = rx.await {
                    let _ = ready.send(address);
                }
            });
            let _ = runtime.block_on(flin_web::serve(app, options, Some(tx)));
        });
        address.recv().expect("the server started")
    })
}

fuzz_target!(|data: &[u8]| {
    let address = server();
    let raw = flin_web::fuzzing::request_bytes(data);
    let mut stream = std::net::TcpStream::connect(address).expect("the server accepts");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("a timeout");
    let _ = stream.write_all(&raw);
    // Headers that never end would hold the connection until header_timeout: say so.
    if !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    if let Some(status) = flin_web::fuzzing::status_of(&answer) {
        assert!(
            status != 500,
            "500 for\n{}\n---\n{}",
            String::from_utf8_lossy(&raw),
            String::from_utf8_lossy(&answer)
        );
    }
});
