//! Several `flin start` servers on one PostgreSQL database (data.md §10), as a user runs
//! them behind a load balancer: a login on one is known on the other, and a logout on
//! either ends it everywhere; a broadcast from one reaches sockets on the other; a job
//! due every second runs once per due time across both; `rate_limit` counts requests
//! to both; a server whose database goes away answers 503, never acknowledges a write
//! it did not commit, and serves again when the database is back. (The live page that
//! follows the other server's write is in `tests/browser/scale_out.test.mjs`.)
//!
//! Needs a PostgreSQL server: FLIN_TEST_POSTGRES_URL (`tools/pg/start` makes one;
//! `.ci/run` does). Each test works in a schema of its own; the database-loss test
//! starts a cluster of its own with `tools/pg`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::temp;

const SECRET: &str = "the-secret-key-both-servers-of-this-test-share";

/// The test's PostgreSQL, or `None` (the test says it was skipped).
fn postgres_url() -> Option<String> {
    let url = std::env::var("FLIN_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        eprintln!("skipped: FLIN_TEST_POSTGRES_URL is not set (tools/pg/start makes a server)");
    }
    url
}

/// A schema of the test's own, dropped after.
struct Schema {
    admin_url: String,
    name: String,
    /// The URL that puts a connection in the schema.
    url: String,
}

impl Schema {
    fn new(admin_url: &str, test: &str) -> Schema {
        let name = format!("scale_{test}_{}", std::process::id());
        let mut admin = postgres::Client::connect(admin_url, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
            ))
            .unwrap();
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        Schema {
            admin_url: admin_url.to_string(),
            url: format!("{admin_url}{separator}options=-csearch_path%3D{name}"),
            name,
        }
    }

    fn query_i64(&self, sql: &str) -> i64 {
        let mut client = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
        client.query_one(sql, &[]).unwrap().get::<_, i64>(0)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = temp();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// One `flin start` of the project on the database, on a free port.
struct Server {
    child: Child,
    address: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(dir: &Path, url: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flin"))
            .args(["start", ".", "--port", "0"])
            .current_dir(dir)
            .env("FLIN_DATABASE_URL", url)
            .env("FLIN_SECRET_KEY", SECRET)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        let address = loop {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap() == 0 {
                let mut err = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                panic!("the server did not start:\n{seen}\n{err}");
            }
            seen.push_str(&line);
            if line.contains("http://") {
                break common::address_in(&line)
                    .trim_end_matches(['"', ')', ','])
                    .to_string();
            }
        };
        let log = Arc::new(Mutex::new(seen));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        Server {
            child,
            address,
            log,
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// A reply: status, headers (names in lower case), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn request(address: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    stream.write_all(text.as_bytes()).unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

fn post_json(address: &str, path: &str, body: &str, cookie: Option<&str>) -> Reply {
    let origin = format!("http://{address}");
    let mut headers = vec![
        ("Content-Type", "application/json"),
        ("Origin", origin.as_str()),
    ];
    if let Some(cookie) = cookie {
        headers.push(("Cookie", cookie));
    }
    request(address, "POST", path, &headers, body)
}

const ACCOUNTS: &[(&str, &str)] = &[
    ("entities/user.flin", "entity User {\n    name: text\n}\n"),
    (
        "app/api/login.flin",
        "route POST {\n    u = User { name: body.name }\n    save u\n    login(u)\n    { ok: true }\n}\n",
    ),
    (
        "app/api/logout.flin",
        "route POST {\n    logout()\n    { ok: true }\n}\n",
    ),
    (
        "app/api/me.flin",
        "guard auth\n\nroute GET {\n    { name: current_user().name }\n}\n",
    ),
];

#[test]
fn a_login_on_one_server_is_known_on_the_other_and_a_logout_ends_it_everywhere() {
    let Some(url) = postgres_url() else { return };
    let schema = Schema::new(&url, "sessions");
    let dir = project(ACCOUNTS);
    let a = Server::start(dir.path(), &schema.url);
    let b = Server::start(dir.path(), &schema.url);
    let login = post_json(&a.address, "/api/login", r#"{"name": "ada"}"#, None);
    assert_eq!(login.status, 200, "{}", login.body);
    let cookie = login
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    let me = request(&b.address, "GET", "/api/me", &[("Cookie", &cookie)], "");
    assert_eq!(me.status, 200, "{}\n{}", me.body, b.log());
    assert!(me.body.contains("ada"), "{}", me.body);
    let out = post_json(&b.address, "/api/logout", "{}", Some(&cookie));
    assert_eq!(out.status, 200, "{}", out.body);
    let me = request(&a.address, "GET", "/api/me", &[("Cookie", &cookie)], "");
    assert_eq!(
        me.status, 401,
        "the session ended on the other server: {}",
        me.body
    );
}

#[test]
fn a_broadcast_from_one_server_reaches_sockets_on_the_other() {
    let Some(url) = postgres_url() else { return };
    let schema = Schema::new(&url, "broadcast");
    let long = "x".repeat(10_000);
    let dir = project(&[
        (
            "app/chat/socket.flin",
            "ws {\n    on connect {\n        join(\"lobby\")\n        send({ hello: true })\n    }\n}\n",
        ),
        (
            "app/chat/announce.flin",
            "route POST {\n    broadcast(\"lobby\", { said: body.text })\n    { ok: true }\n}\n",
        ),
    ]);
    let a = Server::start(dir.path(), &schema.url);
    let b = Server::start(dir.path(), &schema.url);
    use tungstenite::client::IntoClientRequest;
    let mut ws_request = format!("ws://{}/chat/socket", b.address)
        .into_client_request()
        .unwrap();
    ws_request
        .headers_mut()
        .insert("Origin", format!("http://{}", b.address).parse().unwrap());
    let (mut socket, _) = tungstenite::connect(ws_request).unwrap();
    match socket.get_mut() {
        tungstenite::stream::MaybeTlsStream::Plain(stream) => stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap(),
        _ => panic!("a plain socket was expected"),
    }
    let hello = socket.read().unwrap();
    assert!(hello.to_text().unwrap().contains("hello"), "{hello}");
    for text in ["from A", long.as_str()] {
        let sent = Instant::now();
        let said = post_json(
            &a.address,
            "/chat/announce",
            &serde_json::json!({ "text": text }).to_string(),
            None,
        );
        assert_eq!(said.status, 200, "{}", said.body);
        let message = socket.read().unwrap();
        let message: serde_json::Value = serde_json::from_str(message.to_text().unwrap()).unwrap();
        assert_eq!(message["said"], text, "B's socket hears A's broadcast");
        assert!(
            sent.elapsed() < Duration::from_secs(1),
            "{:?}",
            sent.elapsed()
        );
    }
}

#[test]
fn a_job_due_every_second_runs_once_per_due_time_across_two_servers() {
    let Some(url) = postgres_url() else { return };
    let schema = Schema::new(&url, "jobs");
    let dir = project(&[
        ("entities/tick.flin", "entity Tick {\n    n: int\n}\n"),
        (
            "jobs/tick.flin",
            "every 1.seconds {\n    save Tick { n: 1 }\n}\n",
        ),
    ]);
    let started = Instant::now();
    let a = Server::start(dir.path(), &schema.url);
    let b = Server::start(dir.path(), &schema.url);
    // Ten seconds of both servers; on a loaded machine (start-up of a debug build under
    // CI) up to ten more, until eight runs are in.
    std::thread::sleep(Duration::from_secs(10));
    let ok_runs = "SELECT count(*) FROM \"_flin_job_runs\" WHERE outcome = 'ok'";
    while schema.query_i64(ok_runs) < 8 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(a);
    drop(b);
    let seconds = started.elapsed().as_secs() as i64;
    let runs = schema.query_i64(ok_runs);
    let dues = schema.query_i64("SELECT count(DISTINCT due) FROM \"_flin_job_runs\"");
    let ticks = schema.query_i64("SELECT count(*) FROM \"Tick\"");
    assert!(
        runs >= 8 && runs <= seconds + 1,
        "{runs} runs in {seconds} s"
    );
    assert_eq!(runs, dues, "one run per due time");
    assert_eq!(ticks, runs, "each run saved once");
}

#[test]
fn rate_limit_counts_requests_to_both_servers() {
    let Some(url) = postgres_url() else { return };
    let schema = Schema::new(&url, "rates");
    let dir = project(&[
        ("entities/hit.flin", "entity Hit {\n    n: int\n}\n"),
        (
            "app/api/ping.flin",
            "guard rate_limit(5, 60)\n\nroute GET {\n    { pong: true }\n}\n",
        ),
    ]);
    let a = Server::start(dir.path(), &schema.url);
    let b = Server::start(dir.path(), &schema.url);
    let mut statuses = Vec::new();
    for n in 0..7 {
        let server = if n % 2 == 0 { &a } else { &b };
        statuses.push(request(&server.address, "GET", "/api/ping", &[], "").status);
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429, 429]);
}

fn tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/pg")
}

#[test]
fn a_server_that_loses_its_database_answers_503_and_recovers() {
    if postgres_url().is_none() {
        return;
    }
    // A cluster of this test's own, stopped and started again under the servers.
    let started = Command::new(tools().join("start")).output().unwrap();
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let url = String::from_utf8_lossy(&started.stdout).trim().to_string();
    let data = String::from_utf8_lossy(&started.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("# data: ").map(str::to_string))
        .unwrap();
    struct Cluster(String);
    impl Drop for Cluster {
        fn drop(&mut self) {
            let _ = Command::new(tools().join("stop")).arg(&self.0).status();
        }
    }
    let cluster = Cluster(data);
    let dir = project(&[
        ("entities/note.flin", "entity Note {\n    body: text\n}\n"),
        (
            "app/api/notes.flin",
            "route GET {\n    { count: Note.count }\n}\n\nroute POST {\n    n = Note { body: body.body }\n    save n\n    response { status: 201, body: n }\n}\n",
        ),
    ]);
    let servers = [
        Server::start(dir.path(), &url),
        Server::start(dir.path(), &url),
    ];
    let addresses: Vec<String> = servers.iter().map(|s| s.address.clone()).collect();
    let write = |address: &str, n: usize| {
        post_json(
            address,
            "/api/notes",
            &format!("{{\"body\": \"n{n}\"}}"),
            None,
        )
    };
    // Writes to both servers, one after another, all through the test.
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let unavailable = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let load = {
        let (addresses, acknowledged, unavailable, done) = (
            addresses.clone(),
            acknowledged.clone(),
            unavailable.clone(),
            done.clone(),
        );
        std::thread::spawn(move || {
            let mut wrong = Vec::new();
            let mut n = 0;
            while !done.load(Ordering::Relaxed) {
                let reply = write(&addresses[n % 2], n);
                match reply.status {
                    201 => {
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                    }
                    503 if reply.body.contains("\"status\":503") => {
                        unavailable.fetch_add(1, Ordering::Relaxed);
                    }
                    other => wrong.push(format!("{other}: {}", reply.body)),
                }
                n += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            wrong
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    let stopped = Command::new(tools().join("stop"))
        .args(["--keep", &cluster.0])
        .status()
        .unwrap();
    assert!(stopped.success());
    std::thread::sleep(Duration::from_secs(2));
    for address in &addresses {
        let read = request(address, "GET", "/api/notes", &[], "");
        assert_eq!(read.status, 503, "{}", read.body);
    }
    let away = acknowledged.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        acknowledged.load(Ordering::Relaxed),
        away,
        "no write is acknowledged while the database is away"
    );
    let resumed = Command::new(tools().join("resume"))
        .arg(&cluster.0)
        .status()
        .unwrap();
    assert!(resumed.success());
    // Both servers reconnect by themselves.
    let started = Instant::now();
    for (server, address) in servers.iter().zip(&addresses) {
        loop {
            let reply = request(address, "GET", "/api/notes", &[], "");
            if reply.status == 200 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "not serving again: {} {}\n{}",
                reply.status,
                reply.body,
                server.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    done.store(true, Ordering::Relaxed);
    let wrong = load.join().unwrap();
    assert!(wrong.is_empty(), "{wrong:?}");
    assert!(unavailable.load(Ordering::Relaxed) > 0);
    assert!(
        acknowledged.load(Ordering::Relaxed) > away,
        "writes go on after"
    );
    let count = request(&addresses[1], "GET", "/api/notes", &[], "");
    let count: serde_json::Value = serde_json::from_str(count.body.trim()).unwrap();
    assert_eq!(
        count["count"],
        acknowledged.load(Ordering::Relaxed),
        "every acknowledged write, and only those"
    );
}

/// `flin run`, `flin test`, `flin db schema | backup | restore` on the project's
/// PostgreSQL database (FLIN_DATABASE_URL): tests each get a schema, dropped after; a
/// backup is pg_dump's and a restore brings exactly it back.
#[test]
fn the_command_line_tools_work_on_postgres() {
    let Some(url) = postgres_url() else { return };
    let schema = Schema::new(&url, "tools");
    let dir = project(&[
        ("entities/note.flin", "entity Note {\n    body: text\n}\n"),
        (
            "tests/notes.flin",
            "test \"a test starts empty\" {\n    assert Note.count == 0\n    save Note { body: \"t\" }\n    assert Note.count == 1\n}\n\ntest \"and so does the next\" {\n    assert Note.count == 0\n}\n",
        ),
    ]);
    // A script beside the project, on the same database.
    let scripts = project(&[(
        "add.flin",
        "entity Note {\n    body: text\n}\n\nsave Note { body: \"n\" }\nprint(Note.count)\n",
    )]);
    let flin = |args: &[&str]| {
        let here = if args.first() == Some(&"run") {
            scripts.path()
        } else {
            dir.path()
        };
        Command::new(env!("CARGO_BIN_EXE_flin"))
            .args(args)
            .current_dir(here)
            .env("FLIN_DATABASE_URL", &schema.url)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let said = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    for n in 1..=2 {
        let run = flin(&["run", "add.flin"]);
        assert_eq!(said(&run).trim(), n.to_string(), "{}", said(&run));
    }
    let tested = flin(&["test", "."]);
    assert!(tested.status.success(), "{}", said(&tested));
    assert!(
        said(&tested).contains("2 tests: 2 passed, 0 failed"),
        "{}",
        said(&tested)
    );
    let leftover =
        schema.query_i64("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'flin_test_%'");
    assert_eq!(leftover, 0, "each test's schema is dropped");
    // The tests ran on their own schemas: the project's data is as it was.
    assert_eq!(schema.query_i64("SELECT count(*) FROM \"Note\""), 2);
    let shown = flin(&["db", "schema", "."]);
    assert!(said(&shown).contains("entity Note {"), "{}", said(&shown));
    let dump = dir.path().join("notes.dump");
    let backup = flin(&["db", "backup", dump.to_str().unwrap(), "."]);
    assert!(backup.status.success(), "{}", said(&backup));
    let run = flin(&["run", "add.flin"]);
    assert_eq!(said(&run).trim(), "3");
    let restore = flin(&["db", "restore", dump.to_str().unwrap(), "."]);
    assert!(restore.status.success(), "{}", said(&restore));
    assert_eq!(schema.query_i64("SELECT count(*) FROM \"Note\""), 2);
    // Saving goes on from there, with the ids of the restored data.
    let run = flin(&["run", "add.flin"]);
    assert_eq!(said(&run).trim(), "3", "{}", said(&run));
    assert_eq!(schema.query_i64("SELECT max(id) FROM \"Note\""), 3);
}
