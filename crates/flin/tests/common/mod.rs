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
