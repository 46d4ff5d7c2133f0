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

/// Starts `flin start` on a free port; gives the child and its address.
fn start(dir: &std::path::Path) -> (std::process::Child, String, std::thread::JoinHandle<String>) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(["start", ".", "--port", "0"])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // `flin start` logs JSON lines on standard output.
    let mut stderr = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut address = None;
    let mut seen = String::new();
    while address.is_none() {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no address in {seen}"
        );
        seen.push_str(&line);
        address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(|a| a.trim_end_matches(['"', ')']).to_string());
    }
    // The rest of the log, read as it comes (so the server never blocks on it).
    let rest = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
        rest
    });
    (child, address.unwrap(), rest)
}

fn http_get(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
}

fn stop(mut child: std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[test]
fn the_server_runs_jobs_on_schedule_records_them_and_survives_failures() {
    let dir = temp();
    write(
        dir.path(),
        &[
            ("entities/tick.flin", "entity Tick {\n    n: int\n}\n"),
            (
                "jobs/tick.flin",
                "every 1.seconds {\n    save Tick { n: Tick.count + 1 }\n}\n\nevery 1.seconds {\n    save Tick { n: -1 }\n    fail(\"boom\")\n}\n\nevery 1.seconds {\n    while true { }\n}\n",
            ),
            (
                "app/index.flin",
                "route GET {\n    { ticks: Tick.count }\n}\n",
            ),
            ("flin.toml", "[jobs]\ntimeout = \"1500ms\"\n"),
        ],
    );
    let (child, address, log) = start(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(4_300));
    let reply = http_get(&address, "/");
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    let ticks: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_default();
    let ticks = ticks["ticks"].as_i64().unwrap_or(0);
    // One run a second from the start: 4 by now (the failing job's saves are undone).
    assert!((3..=5).contains(&ticks), "{ticks} ticks: {reply}");
    // `flin jobs` reads the runs while the server runs.
    let jobs = flin(&["jobs", "."], dir.path());
    let listed = stdout(&jobs);
    stop(child);
    let log = log.join().unwrap();
    assert!(jobs.status.success(), "{}", stderr(&jobs));
    assert!(
        listed.contains("jobs/tick.flin:1  every 1 second(s)"),
        "{listed}"
    );
    assert!(listed.contains("ok in"), "{listed}");
    assert!(
        listed.contains("runtime error: boom at jobs/tick.flin:7"),
        "the failure is recorded with its FLIN line: {listed}"
    );
    // The looping job hits `jobs.timeout`; its next due runs are skipped while it runs.
    assert!(listed.contains("skipped"), "{listed}");
    assert!(listed.contains("limit error"), "{listed}");
    assert!(
        log.contains("job jobs/tick.flin:2: runtime error: boom"),
        "{log}"
    );
}

/// The examples' own tests pass, as their READMEs say, and leave nothing in the
/// examples' folders (tests run on in-memory databases).
#[test]
fn the_examples_tests_pass() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for example in ["todo", "notes", "photos"] {
        let dir = examples.join(example);
        let had_data = dir.join(".flindb").exists();
        let output = flin(&["test", "."], &dir);
        let out = stdout(&output);
        assert!(
            output.status.success(),
            "{example}: {out}\n{}",
            stderr(&output)
        );
        assert!(out.contains(" passed, 0 failed"), "{example}: {out}");
        if !had_data {
            assert!(
                !dir.join(".flindb").exists(),
                "{example}: `flin test` must not write into the project"
            );
        }
    }
}

/// A server stopped in the middle of a job: it stops at once, the run's writes are not
/// kept, and the next start records the run as interrupted.
#[test]
fn a_server_stopped_mid_job_keeps_nothing_of_the_run() {
    let dir = temp();
    write(
        dir.path(),
        &[
            ("entities/tick.flin", "entity Tick {\n    n: int\n}\n"),
            (
                "jobs/slow.flin",
                "every 1.seconds {\n    save Tick { n: 1 }\n    while true { }\n}\n",
            ),
            (
                "app/index.flin",
                "route GET {\n    { ticks: Tick.count }\n}\n",
            ),
        ],
    );
    let (child, _, _log) = start(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(1_800));
    let stopping = std::time::Instant::now();
    stop(child);
    assert!(
        stopping.elapsed() < std::time::Duration::from_secs(10),
        "the server stops while a job runs"
    );
    let (child, address, _log) = start(dir.path());
    let reply = http_get(&address, "/");
    stop(child);
    assert!(reply.contains("{\"ticks\":0}"), "{reply}");
    let jobs = stdout(&flin(&["jobs", "."], dir.path()));
    assert!(jobs.contains("interrupted"), "{jobs}");
}

/// `flin dev` reloads jobs with the code; a run in progress finishes on the code it
/// started with.
#[test]
fn a_dev_reload_lets_a_running_job_finish_on_its_old_code() {
    use std::io::BufRead;
    let dir = temp();
    let job = |version: &str| {
        format!(
            "every 1.seconds {{\n    n = 0\n    for i in 0..60000000 {{\n        n = n + 1\n    }}\n    log_info(\"{version} done {{n}}\")\n}}\n"
        )
    };
    write(
        dir.path(),
        &[
            ("app/index.flin", "<h1>Hi</h1>\n"),
            ("jobs/work.flin", &job("v1")),
            ("flin.toml", "[jobs]\ntimeout = \"60s\"\n"),
        ],
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(["dev", ".", "--port", "0"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = std::io::BufReader::new(child.stderr.take().unwrap());
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            let mut log = sink.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let wait_for = |what: &dyn Fn(&str) -> bool, seconds: u64| {
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(seconds) {
            if what(&log.lock().unwrap()) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    };
    // A run is going (its record says so), then the job's code changes.
    let started = std::time::Instant::now();
    let mut running = false;
    while !running && started.elapsed() < std::time::Duration::from_secs(30) {
        running = stdout(&flin(&["jobs", "."], dir.path())).contains("running");
    }
    assert!(running, "no run started");
    write(dir.path(), &[("jobs/work.flin", &job("v2"))]);
    let finished_old = wait_for(&|l| l.contains("v1 done 60000000"), 60);
    let runs_new = wait_for(&|l| l.contains("v2 done 60000000"), 60);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let log = log.lock().unwrap().clone();
    assert!(
        finished_old,
        "the run in progress finished on its code: {log}"
    );
    assert!(runs_new, "the next runs use the new code: {log}");
    // The reload came while the old run went on: it finished after it.
    let recompiled = log.find("recompiled").expect("a reload");
    assert!(log[recompiled..].contains("v1 done"), "{log}");
}

/// A server stopped in the middle of an upload: nothing of it stays. The file being
/// received is not a blob, and the next start clears what the stop left behind.
#[test]
fn a_server_stopped_mid_upload_keeps_nothing_of_it() {
    use std::io::Write;
    let dir = temp();
    write(
        dir.path(),
        &[
            ("entities/doc.flin", "entity Doc {\n    scan: file\n}\n"),
            (
                "app/api/docs.flin",
                "route POST {\n    d = Doc { scan: body.scan }\n    save d\n    response { status: 201, body: d }\n}\n",
            ),
        ],
    );
    let (mut child, address, _log) = start(dir.path());
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    let boundary = "XyZ";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"scan\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    write!(
        stream,
        "POST /api/docs HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n{head}",
        head.len() + 4_000_000
    )
    .unwrap();
    // Half the file, then the server dies.
    stream.write_all(&vec![7u8; 2_000_000]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    let _ = child.wait();
    let blobs = |dir: &std::path::Path| {
        std::fs::read_dir(dir.join(".flindb/blobs"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert_eq!(blobs(dir.path()), 0, "no blob from a half-received file");
    // The next start clears what the stop left in the upload folder.
    let (child, _, _log) = start(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(300));
    stop(child);
    let left = std::fs::read_dir(dir.path().join(".flindb/tmp"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "the half-received upload is gone");
    assert_eq!(blobs(dir.path()), 0);
    let rows = flin(&["db", "schema", "."], dir.path());
    assert!(rows.status.success());
}
