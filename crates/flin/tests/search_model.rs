//! `search.model` in flin.toml (search.md §4 "Other models"), as a user runs it: a
//! server on a transformer folder answers semantic searches once its background worker
//! has embedded the rows; `flin run` and `embed()` use the folder's model; a bad folder
//! stops start-up with an error naming the file.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A project using the tiny BERT of flin-search's tests as its model.
fn project(dir: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../flin-search/tests/models/tiny-bert");
    std::fs::create_dir_all(dir.join("models/tiny")).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            dir.join("models/tiny").join(entry.file_name()),
        )
        .unwrap();
    }
    std::fs::write(dir.join("flin.toml"), "[search]\nmodel = \"models/tiny\"\n").unwrap();
    std::fs::create_dir_all(dir.join("entities")).unwrap();
    std::fs::create_dir_all(dir.join("app/api")).unwrap();
    std::fs::write(
        dir.join("entities/Note.flin"),
        "entity Note {\n    body: semantic text\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("app/api/notes.flin"),
        "route POST {\n    n = Note { body: body.body }\n    save n\n    n\n}\n\nroute GET {\n    q = query.q ?? \"\"\n    (search q in Note by body using semantic).map(h => h.entity.id)\n}\n",
    )
    .unwrap();
}

fn http(address: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn a_server_on_a_transformer_folder_answers_semantic_searches() {
    let dir = temp();
    project(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(["start", ".", "--port", "0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    log.read_line(&mut first).unwrap();
    let address = address_in(&first);
    let texts = [
        "waterproof hiking boots",
        "a quiet cafe in paris",
        "the train travels fast",
    ];
    for text in texts {
        let (status, body) = http(
            &address,
            "POST",
            "/api/notes",
            &format!("{{\"body\": \"{text}\"}}"),
        );
        assert_eq!(status, 200, "{body}");
    }
    // The vectors are made in the background, within seconds.
    let started = Instant::now();
    let ranked = loop {
        let (status, body) = http(&address, "GET", "/api/notes?q=a+quiet+cafe+in+paris", "");
        assert_eq!(status, 200, "{body}");
        let ids: Vec<i64> = serde_json::from_str(&body).unwrap();
        if ids.len() == 3 {
            break ids;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not embedded: {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(ranked[0], 2, "{ranked:?}");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[test]
fn scripts_embed_with_the_folders_model() {
    let dir = temp();
    project(dir.path());
    std::fs::write(
        dir.path().join("main.flin"),
        "entity Note {\n    body: semantic text\n}\n\nsave Note { body: \"the train travels fast\" }\nsave Note { body: \"waterproof hiking boots\" }\nprint(embed(\"boots\").length)\nhits = search \"hiking boots\" in Note by body using semantic\nprint(hits[0].entity.body)\n",
    )
    .unwrap();
    let out = flin(&["run", "main.flin"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    // The tiny model's vectors have 32 dimensions (the built-in one's 256).
    assert_eq!(stdout(&out), "32\nwaterproof hiking boots\n");
}

#[test]
fn a_bad_model_folder_stops_start_up_naming_the_file() {
    let dir = temp();
    project(dir.path());
    std::fs::write(
        dir.path().join("flin.toml"),
        "[search]\nmodel = \"models/missing\"\n",
    )
    .unwrap();
    let out = flin(&["start", ".", "--port", "0"], dir.path());
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("models/missing does not exist"),
        "{}",
        stderr(&out)
    );

    std::fs::write(
        dir.path().join("flin.toml"),
        "[search]\nmodel = \"models/tiny\"\n",
    )
    .unwrap();
    let config = dir.path().join("models/tiny/config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("\"hidden_size\": 32", "\"hidden_size\": 48"),
    )
    .unwrap();
    let out = flin(&["start", ".", "--port", "0"], dir.path());
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains("models/tiny/model.safetensors"),
        "{message}"
    );
    assert!(message.contains("do not match config.json"), "{message}");
}
