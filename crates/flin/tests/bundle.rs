//! `flin build` and `flin start app.flinb` as a user runs them: one file that runs
//! without its sources' folder, refused when another FLIN version made it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};

use common::{address_in, flin, stderr, stdout, temp};

fn write(dir: &std::path::Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn a_bundle_runs_without_its_sources_and_only_on_its_own_version() {
    let project = temp();
    write(
        project.path(),
        &[
            ("entities/note.flin", "entity Note {\n    body: text\n}\n"),
            (
                "lib/greet.flin",
                "fn greet(who: text) -> text {\n    \"Hello, {who}\"\n}\n",
            ),
            (
                "app/index.flin",
                "<h1>{greet(\"bundle\")}</h1>\n<p>{Note.count} notes</p>\n",
            ),
            (
                "app/api/notes.flin",
                "route POST {\n    n = Note { body: body.body }\n    save n\n    response { status: 201, body: n }\n}\n",
            ),
        ],
    );
    let output = flin(&["build", "."], project.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("dist/app.flinb"),
        "{}",
        stdout(&output)
    );
    // The bundle alone, in another folder: no sources there.
    let deploy = temp();
    std::fs::copy(
        project.path().join("dist/app.flinb"),
        deploy.path().join("app.flinb"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(["start", "app.flinb", "--port", "0"])
        .current_dir(deploy.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut log = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    log.read_line(&mut line).unwrap();
    let address = address_in(&line);
    let request = |text: String| {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream.write_all(text.as_bytes()).unwrap();
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        reply
    };
    let body = r#"{"body": "hi"}"#;
    let created = request(format!(
        "POST /api/notes HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let page = request("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".into());
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    assert!(
        page.contains("<h1>Hello, bundle</h1>") && page.contains("1 notes"),
        "{page}"
    );
    assert!(
        deploy.path().join(".flindb/flin.db").exists(),
        "its data beside it"
    );

    // A bundle of another FLIN version is refused, saying what to do.
    let bytes = std::fs::read(deploy.path().join("app.flinb")).unwrap();
    let header = format!("flin-bundle 1 {}\n", env!("CARGO_PKG_VERSION"));
    assert!(bytes.starts_with(header.as_bytes()));
    let other = [
        b"flin-bundle 1 0.0.1-old\n".as_slice(),
        &bytes[header.len()..],
    ]
    .concat();
    std::fs::write(deploy.path().join("old.flinb"), other).unwrap();
    let output = flin(&["start", "old.flinb", "--port", "0"], deploy.path());
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("was built by FLIN 0.0.1-old") && err.contains("flin build"),
        "{err}"
    );
    // A damaged one too.
    std::fs::write(deploy.path().join("bad.flinb"), &bytes[..bytes.len() / 2]).unwrap();
    let output = flin(&["start", "bad.flinb", "--port", "0"], deploy.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a FLIN bundle"),
        "{}",
        stderr(&output)
    );
    // `flin dev` serves sources, not bundles.
    let output = flin(&["dev", "app.flinb", "--port", "0"], deploy.path());
    assert_eq!(output.status.code(), Some(2));
}
