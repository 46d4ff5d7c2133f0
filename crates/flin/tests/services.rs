//! Services as a user runs them: `flin test` with the in-test HTTP helpers and
//! `run_job` (language.md §10, services.md §1).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{flin, stderr, stdout, temp};

fn write(dir: &std::path::Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

const APP: &[(&str, &str)] = &[
    ("entities/user.flin", "entity User {\n    name: text\n}\n"),
    ("entities/note.flin", "entity Note {\n    body: text\n}\n"),
    (
        "app/api/login.flin",
        "route POST {\n    u = User { name: body.name }\n    save u\n    login(u)\n    { ok: true }\n}\n",
    ),
    (
        "app/api/logout.flin",
        "route POST {\n    logout()\n    none\n}\n",
    ),
    (
        "app/api/me.flin",
        "guard auth\n\nroute GET {\n    { name: current_user().name }\n}\n",
    ),
    (
        "app/api/notes.flin",
        "route GET {\n    Note.all\n}\n\nroute POST {\n    n = Note { body: body.body }\n    save n\n    response { status: 201, body: n }\n}\n",
    ),
    (
        "jobs/tidy.flin",
        "every 1.hours {\n    for n in Note.where(body == \"old\") { destroy n }\n}\n\nevery 1.days at \"03:30\" {\n    save Note { body: \"digest\" }\n}\n",
    ),
];

#[test]
fn tests_call_the_apps_routes_and_keep_their_session() {
    let dir = temp();
    write(dir.path(), APP);
    write(
        dir.path(),
        &[(
            "tests/api.flin",
            r#"test "a post is saved and seen by the test" {
    r = post("/api/notes", { body: "hi" })
    assert r.status == 201
    assert r.json.body == "hi"
    assert r.headers["content-type"] == "application/json"
    assert Note.count == 1
}

test "a route sees what the test saved" {
    save Note { body: "a" }
    r = get("/api/notes")
    assert r.status == 200
    assert r.json[0].body == "a"
    assert r.json[1] == none
}

test "a login lasts across the calls of one test" {
    assert get("/api/me").status == 401
    assert post("/api/login", { name: "ada" }).status == 200
    me = get("/api/me")
    assert me.json.name == "ada"
    post("/api/logout", {})
    assert get("/api/me").status == 401
}

test "each test starts with no session and an empty database" {
    assert get("/api/me").status == 401
    assert get("/api/notes").body == "[]"
}

test "methods and paths the app does not have" {
    assert delete_req("/api/notes").status == 405
    assert get("/nowhere").status == 404
}
"#,
        )],
    );
    let output = flin(&["test", "."], dir.path());
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    assert!(out.contains("5 tests: 5 passed, 0 failed"), "{out}");
}

#[test]
fn a_failing_request_assertion_names_the_values() {
    let dir = temp();
    write(dir.path(), APP);
    write(
        dir.path(),
        &[(
            "tests/api.flin",
            "test \"me needs a login\" {\n    assert get(\"/api/me\").status == 200\n}\n",
        )],
    );
    let output = flin(&["test", "."], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("left:  401"), "{err}");
}

#[test]
fn run_job_runs_a_job_at_once_in_the_test() {
    let dir = temp();
    write(dir.path(), APP);
    write(
        dir.path(),
        &[(
            "tests/jobs.flin",
            r#"test "the hourly job removes old notes" {
    save Note { body: "old" }
    save Note { body: "new" }
    run_job("jobs/tidy.flin:1")
    assert Note.count == 1
}

test "the second job of the file" {
    run_job("jobs/tidy.flin:2")
    assert Note.where(body == "digest").count == 1
}

test "a job that does not exist" {
    run_job("jobs/tidy.flin:3")
}
"#,
        )],
    );
    let output = flin(&["test", "."], dir.path());
    let out = stdout(&output);
    let err = stderr(&output);
    assert!(out.contains("3 tests: 2 passed, 1 failed"), "{out}\n{err}");
    assert!(
        err.contains("no job `jobs/tidy.flin:3` (its jobs: jobs/tidy.flin:1, jobs/tidy.flin:2)"),
        "{err}"
    );
}
