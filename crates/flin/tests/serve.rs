//! `flin start` as a user runs it: it serves the project on the port it is given, logs
//! JSON lines, and stops cleanly on SIGTERM (in-flight work done, exit 0).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{address_in, get};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

#[test]
fn start_serves_logs_json_lines_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/index.flin"), "<h1>Up</h1>\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(["start", ".", "--port", "0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // `flin start` logs JSON lines on standard output.
    let mut stderr = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let address = address_in(&line);
    let reply = get(&address, "/");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("<h1>Up</h1>"));
    let mut log = String::new();
    stderr.read_line(&mut log).unwrap();
    let entry: serde_json::Value = serde_json::from_str(log.trim()).unwrap();
    assert_eq!(entry["path"], "/", "{log}");
    assert_eq!(entry["status"], 200);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    assert!(rest.contains("stopped"), "{rest}");
}

/// `flin start` logs JSON lines only (start-up and errors too), each request's lines
/// carry its id, which the response also gives (`X-Request-Id`); the data folder and
/// its files are readable by their owner only.
#[test]
fn start_logs_json_with_request_ids_and_keeps_its_data_private() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::create_dir_all(dir.path().join("entities")).unwrap();
    std::fs::write(
        dir.path().join("entities/Note.flin"),
        "entity Note {\n    body: text\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app/boom.flin"),
        "route GET {\n    log_info(\"about to fail\")\n    xs = [1]\n    xs[3]\n}\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(["start", ".", "--port", "0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // `flin start` logs JSON lines on standard output.
    let mut stderr = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let started: serde_json::Value =
        serde_json::from_str(first.trim()).unwrap_or_else(|e| panic!("not JSON: {first}: {e}"));
    assert_eq!(started["level"], "info");
    assert!(
        started["ts"].as_str().is_some_and(|ts| ts.contains('T')),
        "{first}"
    );
    let address = address_in(&first);
    let reply = get(&address, "/boom");
    assert!(reply.starts_with("HTTP/1.1 500"), "{reply}");
    let id = reply
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap_or_else(|| panic!("no x-request-id: {reply}"))
        .trim()
        .to_string();
    assert!(
        !reply.contains("boom.flin"),
        "no source path in start: {reply}"
    );
    let mut lines = Vec::new();
    while lines.len() < 3 {
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let entry: serde_json::Value =
            serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
        // What opening the database did is logged at start-up, with no request id.
        if entry["msg"]
            .as_str()
            .is_some_and(|m| m.starts_with("database: "))
        {
            continue;
        }
        assert_eq!(entry["id"], id.as_str(), "{line}");
        lines.push(entry);
    }
    assert!(
        lines.iter().any(|l| l["msg"] == "about to fail"),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l["level"] == "error"), "{lines:?}");
    let request = lines.iter().find(|l| l["msg"] == "request").unwrap();
    assert_eq!(request["status"], 500);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| {
            std::fs::metadata(dir.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(".flindb"), 0o700);
        assert_eq!(mode(".flindb/flin.db"), 0o600);
        assert_eq!(mode(".flindb/secret"), 0o600);
    }
}

/// The indexes the program's queries want are made as the server starts, before any
/// request (the first request to a list page does not pay for one).
#[test]
fn start_makes_the_indexes_of_the_programs_queries() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("entities")).unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(
        dir.path().join("entities/item.flin"),
        "entity Item {\n    name: text\n    category: text\n    price: int\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app/index.flin"),
        "c = query.c ?? \"a\"\nitems = Item.where(category == c).order(price).limit(100)\n\n<ul>\n    {for i in items}\n        <li>{i.name}</li>\n    {/for}\n</ul>\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(["start", ".", "--port", "0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    log.read_line(&mut line).unwrap();
    assert!(line.contains("server on"), "{line}");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let schema = Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(["db", "schema", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&schema.stdout);
    assert!(text.contains("added index on (category, price)"), "{text}");
}

/// A server runs with mimalloc committing memory as used (an idle server's RSS), in
/// the same process as it was started (its id kept for process managers); `flin start`
/// of sources serves the program compiled into a bundle of its own, which it deletes
/// once read, while the project's folder stays the app's root.
#[cfg(target_os = "linux")]
#[test]
fn a_server_runs_with_lean_memory_settings_under_its_own_pid() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/index.flin"), "<h1>Up</h1>\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(["start", ".", "--port", "0"])
        .current_dir(dir.path())
        .env_remove("MIMALLOC_ARENA_EAGER_COMMIT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    log.read_line(&mut line).unwrap();
    assert!(line.contains("server on"), "{line}");
    let environ = std::fs::read(format!("/proc/{}/environ", child.id())).unwrap();
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
    let address = address_in(&line);
    let reply = get(&address, "/");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    assert!(reply.contains("<h1>Up</h1>"), "{reply}");
    let text = String::from_utf8_lossy(&environ);
    assert!(
        text.split('\0')
            .any(|v| v == "MIMALLOC_ARENA_EAGER_COMMIT=0"),
        "{text}"
    );
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    let bundle = cmdline
        .split(' ')
        .find(|a| a.ends_with(".flinb"))
        .unwrap_or_else(|| panic!("not served from a bundle: {cmdline}"));
    assert!(
        !std::path::Path::new(bundle).exists(),
        "{bundle} left behind"
    );
    // The app's data stays in the project.
    assert!(dir.path().join(".flindb/secret").exists());
}
