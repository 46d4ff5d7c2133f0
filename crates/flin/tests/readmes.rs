//! Every README's `flin` commands are true: each command line of their `sh` blocks that
//! runs and ends by itself (`check`, `test`, `jobs`, `build`, `run`, `db schema`) runs on
//! a copy of the repository's examples and succeeds; a server command (`dev`, `start`)
//! starts and answers its first request.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

/// The `flin …` lines of a README's `sh` blocks, comments cut.
fn commands(readme: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_sh = trimmed == "```sh";
            continue;
        }
        if in_sh && trimmed.starts_with("flin ") {
            let command = trimmed.split('#').next().unwrap_or("").trim();
            out.push(
                command
                    .split_whitespace()
                    .skip(1)
                    .map(str::to_string)
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn the_examples_readmes_commands_work() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let work = common::temp();
    copy(&repo.join("examples"), &work.path().join("examples"));
    let mut ran = 0;
    for entry in std::fs::read_dir(repo.join("examples")).unwrap().flatten() {
        let readme = entry.path().join("README.md");
        let Ok(text) = std::fs::read_to_string(&readme) else {
            continue;
        };
        for args in commands(&text) {
            let Some(command) = args.first().map(String::as_str) else {
                continue;
            };
            match command {
                "dev" | "start" => {
                    let mut with_port = args.clone();
                    with_port.extend(["--port".to_string(), "0".to_string()]);
                    serves(work.path(), &with_port, &readme);
                }
                "check" | "test" | "jobs" | "build" | "run" | "db" => {
                    let output = common::flin(
                        &args.iter().map(String::as_str).collect::<Vec<_>>(),
                        work.path(),
                    );
                    assert!(
                        output.status.success(),
                        "{}: `flin {}` failed:\n{}{}",
                        readme.display(),
                        args.join(" "),
                        common::stdout(&output),
                        common::stderr(&output)
                    );
                }
                other => panic!(
                    "{}: `flin {other}` is not checked by this test",
                    readme.display()
                ),
            }
            ran += 1;
        }
    }
    assert!(ran >= 6, "{ran} commands");
}

/// The server starts and answers `/`.
fn serves(dir: &Path, args: &[String], readme: &Path) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `flin dev` logs on standard error, `flin start` on standard output.
    let stream: Box<dyn Read + Send> = if args.first().is_some_and(|a| a == "dev") {
        Box::new(child.stderr.take().unwrap())
    } else {
        Box::new(child.stdout.take().unwrap())
    };
    let mut lines = std::io::BufReader::new(stream);
    let mut address = None;
    for _ in 0..20 {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(rest) = line.split("http://").nth(1) {
            address = rest
                .split_whitespace()
                .next()
                .map(|a| a.trim_end_matches(['"', ')']).to_string());
            break;
        }
    }
    let address = address.unwrap_or_else(|| {
        panic!(
            "{}: `flin {}` did not start",
            readme.display(),
            args.join(" ")
        )
    });
    let reply = common::get(&address, "/");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "{}: `flin {}`: {reply}",
        readme.display(),
        args.join(" ")
    );
}
