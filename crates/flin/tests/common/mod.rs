//! Running the `flin` binary from the integration tests, as a user does.

// Each test file uses what it needs of these.
#![allow(dead_code, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

/// `flin args…` in `dir`, without colours.
pub fn flin(args: &[&str], dir: &Path) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
    {
        Ok(output) => output,
        Err(err) => panic!("cannot run flin: {err}"),
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn temp() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(err) => panic!("no temp dir: {err}"),
    }
}

/// The address `flin start` names in its first log line (`… on http://127.0.0.1:PORT …`).
pub fn address_in(line: &str) -> String {
    match line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
    {
        Some(address) => address.to_string(),
        None => panic!("no address in `{line}`"),
    }
}

/// `GET path` on a server, the whole raw reply (status line, headers, body), the
/// connection closed after it.
pub fn get(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = match std::net::TcpStream::connect(address) {
        Ok(stream) => stream,
        Err(err) => panic!("cannot connect to {address}: {err}"),
    };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    if let Err(err) = stream.write_all(request.as_bytes()) {
        panic!("cannot send to {address}: {err}");
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
}
