//! The server against hostile clients and careless apps (web.md §7 precise rules): a
//! real server on 127.0.0.1, plain HTTP/1.1 on sockets. Each test names the defect it
//! guards against.

// Helpers fail the test by panicking, as assertions do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use common::*;

#[test]
fn redirects_never_leave_the_site() {
    let server = serve(
        &[
            ("app/index.flin", "<h1>home</h1>\n"),
            (
                "app/go.flin",
                "route GET {\n    redirect(query.next ?? \"/\")\n}\n",
            ),
            (
                "app/out.flin",
                "route GET {\n    redirect(\"https://example.org/docs\")\n}\n",
            ),
        ],
        flin_web::Options::default(),
    );
    // The trailing-slash redirect of `//evil.example/` stays here.
    let slash = get(&server, "//evil.example/");
    assert_eq!(slash.status, 308);
    assert_eq!(slash.header("location"), Some("/evil.example"));
    let backslash = get(&server, "/\\evil.example/");
    assert_eq!(backslash.header("location"), Some("/evil.example"));
    // A URL from data cannot send the browser elsewhere.
    for (next, location) in [
        ("//evil.example", "/evil.example"),
        ("https://evil.example/x", "/"),
        ("javascript:alert(1)", "/"),
        ("/books/3", "/books/3"),
    ] {
        let reply = get(
            &server,
            &format!("/go?next={}", next.replace('/', "%2F").replace(':', "%3A")),
        );
        assert_eq!(reply.status, 303, "{next}");
        assert_eq!(reply.header("location"), Some(location), "{next}");
    }
    // One written in the code may.
    let out = get(&server, "/out");
    assert_eq!(out.header("location"), Some("https://example.org/docs"));
}

#[test]
fn urls_and_styles_from_data_cannot_run_script() {
    let server = serve(
        &[(
            "app/index.flin",
            "u = query.u ?? \"/\"\nc = query.c ?? \"red\"\n\n<a class=\"link\" href={u}>link</a>\n<a class=\"fixed\" href=\"/books/{u}\">fixed</a>\n<img src={u}>\n<p style=\"color: {c}\">styled</p>\n<p style:width=\"{c}\">wide</p>\n",
        )],
        flin_web::Options::default(),
    );
    let page = get(
        &server,
        "/?u=javascript%3Aalert(1)&c=red%3Bbackground%3Aurl(javascript%3Aalert(1))",
    );
    assert!(
        page.body.contains("<a href=\"#\" class=\"link\">"),
        "{}",
        page.body
    );
    // A scheme fixed by the code stays as written (data only makes the path).
    assert!(
        page.body.contains("href=\"/books/javascript:alert(1)\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("<img src=\"#\">"), "{}", page.body);
    assert!(!page.body.contains("url("), "{}", page.body);
    assert!(
        page.body
            .contains("style=\"color: redbackground:alert(1))\""),
        "{}",
        page.body
    );
    let fine = get(&server, "/?u=https%3A%2F%2Fexample.org%2Fa&c=blue");
    assert!(
        fine.body.contains("href=\"https://example.org/a\""),
        "{}",
        fine.body
    );
    let image = get(&server, "/?u=data%3Aimage%2Fpng%3Bbase64%2CAAAA");
    assert!(
        image
            .body
            .contains("<img src=\"data:image/png;base64,AAAA\">"),
        "{}",
        image.body
    );
    assert!(
        image.body.contains("<a href=\"#\" class=\"link\">"),
        "{}",
        image.body
    );
}

#[test]
fn validate_never_coerces_across_json_kinds() {
    let server = serve(
        &[(
            "app/api/notes.flin",
            "route POST {\n    validate {\n        title: text @required\n        count: int\n        ok: bool\n    }\n    body.title\n}\n",
        )],
        flin_web::Options::default(),
    );
    for (json, field, expected) in [
        (
            "{\"title\": []}",
            "title",
            "title must be a text, not a list",
        ),
        (
            "{\"title\": {\"a\": 1}}",
            "title",
            "title must be a text, not an object",
        ),
        (
            "{\"title\": 5}",
            "title",
            "title must be a text, not a number",
        ),
        (
            "{\"title\": true}",
            "title",
            "title must be a text, not a bool",
        ),
        (
            "{\"title\": \"x\", \"count\": 1.5}",
            "count",
            "count must be an int, not a number",
        ),
        (
            "{\"title\": \"x\", \"count\": \"7x\"}",
            "count",
            "count must be an int, not a text",
        ),
        (
            "{\"title\": \"x\", \"ok\": \"maybe\"}",
            "ok",
            "ok must be a bool, not a text",
        ),
    ] {
        let reply = post_json(&server, "/api/notes", json);
        assert_eq!(reply.status, 400, "{json}: {}", reply.body);
        assert_eq!(
            reply.json()["fields"][field],
            expected,
            "{json}: {}",
            reply.body
        );
    }
    let ok = post_json(
        &server,
        "/api/notes",
        "{\"title\": \"x\", \"count\": \"7\", \"ok\": \"on\"}",
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[test]
fn errors_in_start_reveal_no_source_and_statuses_say_what_happened() {
    let files = [
        (
            "app/api/slow.flin",
            "route GET {\n    n = 0\n    while true {\n        n += 1\n    }\n    n\n}\n",
        ),
        (
            "app/api/deep.flin",
            "fn down(n: int) -> int {\n    down(n + 1)\n}\n\nroute GET {\n    down(0)\n}\n",
        ),
        ("app/index.flin", "<h1>home</h1>\n"),
    ];
    let server = serve(
        &files,
        flin_web::Options {
            dev: false,
            time_limit: std::time::Duration::from_millis(200),
            ..flin_web::Options::default()
        },
    );
    // Out of time: 504, with a request id and no source path.
    let slow = get(&server, "/api/slow");
    assert_eq!(slow.status, 504);
    assert!(slow.json()["request_id"].is_string());
    assert!(!slow.body.contains(".flin"), "{}", slow.body);
    // Too deep: the program's error, 500.
    let deep = get(&server, "/api/deep");
    assert_eq!(deep.status, 500, "{}", deep.body);
    assert!(!deep.body.contains(".flin"), "{}", deep.body);
    // A malformed chunked body is the client's mistake: 400, not 413.
    let chunked = raw(
        &server,
        b"POST /api/slow HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    );
    assert!(chunked.starts_with("HTTP/1.1 400"), "{chunked}");
    // A method the server does not know: 405 with `Allow`.
    let odd = request(&server, "BREW", "/", &[], b"");
    assert_eq!(odd.status, 405);
    assert!(
        odd.header("allow").is_some_and(|a| a.contains("GET")),
        "{:?}",
        odd.headers
    );
}

#[test]
fn a_get_that_writes_runs_once() {
    // On a database file, where GETs that only read go to reader connections.
    let server = serve_with(
        &[
            ("entities/visit.flin", "entity Visit {\n    path: text\n}\n"),
            (
                "app/api/visit.flin",
                "guard rate_limit(3, 60)\n\nroute GET {\n    v = Visit { path: \"/api/visit\" }\n    save v\n    Visit.count\n}\n",
            ),
            (
                "app/seen.flin",
                "v = Visit { path: \"/seen\" }\nsave v\nn = Visit.where(path == \"/seen\").count\n\n<p>seen {n}</p>\n",
            ),
            (
                "app/counter.flin",
                "entity Hit {\n    n: int\n}\n\nfn record() {\n    h = Hit { n: 1 }\n    save h\n}\n\nrecord()\n\nroute GET {\n    Hit.count\n}\n",
            ),
        ],
        flin_web::Options::default(),
        false,
    );
    // Each GET writes one row and counts once against its rate limit.
    for expected in 1..=3 {
        let reply = get(&server, "/api/visit");
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body, expected.to_string());
    }
    assert_eq!(get(&server, "/api/visit").status, 429);
    // A page whose code saves: one row per view of it.
    assert!(get(&server, "/seen").body.contains("seen 1"));
    assert!(get(&server, "/seen").body.contains("seen 2"));
    // Writes reached through a function of the file count too.
    assert_eq!(get(&server, "/counter").body, "1");
    assert_eq!(get(&server, "/counter").body, "2");
}

fn session_app() -> Vec<(&'static str, &'static str)> {
    vec![
        ("entities/user.flin", "entity User {\n    name: text\n}\n"),
        ("entities/note.flin", "entity Note {\n    title: text\n}\n"),
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
            "route GET {\n    { name: current_user()?.name ?? \"nobody\", cart: session[\"cart\"] ?? \"empty\" }\n}\n",
        ),
        (
            "app/api/cart.flin",
            "route POST {\n    session[\"cart\"] = body.item\n    { ok: true }\n}\n",
        ),
        (
            "app/api/pin.flin",
            "route POST {\n    n = Note { title: body.title }\n    save n\n    session[\"note\"] = n\n    { id: n.id }\n}\n\nroute GET {\n    n = session[\"note\"]\n    if n == none { \"none\" } else { n.title }\n}\n",
        ),
        (
            "app/api/rename.flin",
            "route POST {\n    n = Note.find(body.id) ?? error(404, \"no note\")\n    n.title = body.title\n    save n\n    none\n}\n",
        ),
        (
            "app/api/drop.flin",
            "route POST {\n    n = Note.find(body.id) ?? error(404, \"no note\")\n    delete n\n    none\n}\n",
        ),
    ]
}

/// A same-site POST of JSON, with a session cookie.
fn post_as(server: &Server, path: &str, cookie: &str, json: &str) -> Reply {
    let mut headers = vec![
        ("Content-Type", "application/json"),
        ("Origin", "http://localhost"),
    ];
    if !cookie.is_empty() {
        headers.push(("Cookie", cookie));
    }
    request(server, "POST", path, &headers, json.as_bytes())
}

fn get_as(server: &Server, path: &str, cookie: &str) -> Reply {
    request(server, "GET", path, &[("Cookie", cookie)], b"")
}

fn cookie_of(reply: &Reply) -> String {
    reply
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no cookie: {:?}", reply.headers))
        .to_string()
}

#[test]
fn sessions_live_on_the_server_and_logout_ends_them_everywhere() {
    let server = serve(&session_app(), flin_web::Options::default());
    // An anonymous session with data, then a login: a new id (no fixation).
    let cart = post_as(&server, "/api/cart", "", r#"{"item": "tea"}"#);
    let anonymous = cookie_of(&cart);
    assert_eq!(get_as(&server, "/api/me", &anonymous).json()["cart"], "tea");
    let login = post_as(&server, "/api/login", &anonymous, r#"{"name": "ada"}"#);
    assert_eq!(login.status, 200, "{}", login.body);
    let ada = cookie_of(&login);
    assert_ne!(ada, anonymous, "login must issue a new session id");
    let me = get_as(&server, "/api/me", &ada).json();
    assert_eq!(me["name"], "ada");
    assert_eq!(me["cart"], "tea", "the session's data goes on after login");
    // The id from before the login is dead.
    assert_eq!(
        get_as(&server, "/api/me", &anonymous).json()["cart"],
        "empty"
    );
    // The cookie holds an id only, however much the session holds.
    let big = "x".repeat(20_000);
    let stored = post_as(
        &server,
        "/api/cart",
        &ada,
        &format!(r#"{{"item": "{big}"}}"#),
    );
    assert_eq!(stored.status, 200);
    assert!(
        stored.header("set-cookie").is_none(),
        "the id did not change"
    );
    assert!(ada.len() < 200, "{}", ada.len());
    // A copy of the cookie taken before logout is anonymous afterwards.
    let copy = ada.clone();
    let out = post_as(&server, "/api/logout", &ada, "");
    assert_eq!(out.status, 204);
    assert!(
        out.header("set-cookie")
            .is_some_and(|c| c.starts_with("flin_session=;"))
    );
    let after = get_as(&server, "/api/me", &copy).json();
    assert_eq!(after["name"], "nobody");
    assert_eq!(after["cart"], "empty");
}

#[test]
fn an_entity_in_the_session_is_read_back_as_it_is_now() {
    let server = serve(&session_app(), flin_web::Options::default());
    let pin = post_as(&server, "/api/pin", "", r#"{"title": "first"}"#);
    assert_eq!(pin.status, 200, "{}", pin.body);
    let cookie = cookie_of(&pin);
    let id = pin.json()["id"].as_i64().unwrap();
    assert_eq!(get_as(&server, "/api/pin", &cookie).body, "\"first\"");
    let renamed = post_as(
        &server,
        "/api/rename",
        "",
        &format!(r#"{{"id": {id}, "title": "second"}}"#),
    );
    assert_eq!(renamed.status, 204, "{}", renamed.body);
    assert_eq!(get_as(&server, "/api/pin", &cookie).body, "\"second\"");
    // Soft-deleted: none.
    let dropped = post_as(&server, "/api/drop", "", &format!(r#"{{"id": {id}}}"#));
    assert_eq!(dropped.status, 204, "{}", dropped.body);
    assert_eq!(get_as(&server, "/api/pin", &cookie).body, "\"none\"");
}

#[test]
fn sessions_expire_when_idle_and_cookies_are_secure_behind_https() {
    let options = flin_web::Options {
        session: flin_web::SessionSettings {
            idle: std::time::Duration::from_secs(1),
            ..flin_web::SessionSettings::default()
        },
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..flin_web::Options::default()
    };
    let server = serve(&session_app(), options);
    let login = post_as(&server, "/api/login", "", r#"{"name": "ada"}"#);
    let set = login.header("set-cookie").unwrap_or_default().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    let cookie = cookie_of(&login);
    assert_eq!(get_as(&server, "/api/me", &cookie).json()["name"], "ada");
    std::thread::sleep(std::time::Duration::from_millis(2_500));
    assert_eq!(get_as(&server, "/api/me", &cookie).json()["name"], "nobody");
    // Behind a trusted proxy that terminated HTTPS, the cookie is Secure.
    let https = request(
        &server,
        "POST",
        "/api/login",
        &[
            ("Content-Type", "application/json"),
            ("Origin", "https://localhost"),
            ("X-Forwarded-Proto", "https"),
        ],
        br#"{"name": "bob"}"#,
    );
    let set = https.header("set-cookie").unwrap_or_default();
    assert!(set.contains("Secure"), "{set}");
}

#[test]
fn cross_site_posts_with_the_session_cookie_are_refused() {
    let mut files = session_app();
    files.push((
        "app/shop.flin",
        "<form method=\"post\" action=\"/api/cart\"><input name=\"item\"><button>Add</button></form>\n",
    ));
    let server = serve(&files, flin_web::Options::default());
    let cookie = cookie_of(&post_as(&server, "/api/login", "", r#"{"name": "ada"}"#));
    let cart = |headers: &[(&str, &str)], body: &str| {
        let mut all = vec![("Cookie", cookie.as_str())];
        all.extend_from_slice(headers);
        request(&server, "POST", "/api/cart", &all, body.as_bytes())
    };
    let json = ("Content-Type", "application/json");
    let body = r#"{"item": "tea"}"#;
    for origin in [
        "evil://localhost",
        "null",
        "http://evil.example",
        "http://localhost.evil.example",
    ] {
        let refused = cart(&[json, ("Origin", origin)], body);
        assert_eq!(refused.status, 403, "{origin}: {}", refused.body);
        assert!(
            refused.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains("site"))
        );
    }
    // No Origin and nothing else to show where it came from.
    assert_eq!(cart(&[json], body).status, 403);
    assert_eq!(
        cart(&[json, ("Referer", "https://evil.example/x")], body).status,
        403
    );
    // This site's own origin, or its Referer.
    assert_eq!(
        cart(&[json, ("Origin", "http://localhost")], body).status,
        200
    );
    assert_eq!(
        cart(&[json, ("Referer", "http://localhost/shop")], body).status,
        200
    );
    // Without the session cookie (an API client), nothing to forge.
    let api = request(&server, "POST", "/api/cart", &[json], body.as_bytes());
    assert_eq!(api.status, 200, "{}", api.body);
    // A form FLIN rendered carries a signed token for its session.
    let page = get_as(&server, "/shop", &cookie);
    let form = &forms(&page.body)[0];
    assert!(!form.token.is_empty(), "{}", page.body);
    let urlencoded = ("Content-Type", "application/x-www-form-urlencoded");
    let posted = cart(
        &[urlencoded],
        &format!("item=tea&_flin_csrf={}", form.token),
    );
    assert_eq!(posted.status, 200, "{}", posted.body);
    assert_eq!(
        cart(&[urlencoded], "item=tea&_flin_csrf=forged").status,
        403
    );
    // The token of another session does not do.
    let other = get(&server, "/shop");
    let stranger = &forms(&other.body)[0].token;
    let posted = cart(&[urlencoded], &format!("item=tea&_flin_csrf={stranger}"));
    assert_eq!(posted.status, 403);
}

#[test]
fn one_clients_stuck_requests_do_not_delay_another_client() {
    let server = serve(
        &[
            (
                "app/api/spin.flin",
                "route GET {\n    n = 0\n    while true {\n        n += 1\n    }\n    n\n}\n",
            ),
            ("app/api/hello.flin", "route GET {\n    \"hello\"\n}\n"),
        ],
        flin_web::Options {
            time_limit: std::time::Duration::from_secs(2),
            // Clients are told apart by X-Forwarded-For from this (trusted) proxy.
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..flin_web::Options::default()
        },
    );
    let as_client =
        |ip: &str, path: &str| request(&server, "GET", path, &[("X-Forwarded-For", ip)], b"");
    std::thread::scope(|scope| {
        // One client's requests that never end on their own, more than the workers.
        let spinning: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| as_client("10.0.0.1", "/api/spin").status))
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let started = std::time::Instant::now();
        // Another client is served at once, by the VM workers and around them.
        let mut delays = Vec::new();
        for _ in 0..100 {
            let asked = std::time::Instant::now();
            let reply = as_client("10.0.0.2", "/api/hello");
            delays.push(asked.elapsed());
            assert_eq!(reply.status, 200, "{}", reply.body);
            assert_eq!(reply.body, "\"hello\"");
        }
        let health = as_client("10.0.0.3", "/_flin/health");
        assert_eq!(health.status, 200);
        // Well within the stuck requests' time limit: nobody waited for them.
        assert!(
            started.elapsed() < std::time::Duration::from_millis(1500),
            "the other client waited for the stuck ones: {:?}",
            started.elapsed()
        );
        delays.sort();
        let p99 = delays[98];
        eprintln!(
            "another client's delay while 6 stuck requests run: p50 {:?}, p99 {:?}, max {:?}",
            delays[49], p99, delays[99]
        );
        for spin in spinning {
            // Cut at the time limit (or waiting for a place past it): never a success.
            let status = spin.join().unwrap();
            assert!(status == 504 || status == 503, "{status}");
        }
    });
}

#[test]
fn request_bodies_held_at_once_are_bounded() {
    use std::io::Write;
    let server = serve(
        &[(
            "app/api/echo.flin",
            "route POST {\n    t: text = body.text\n    t.length\n}\n",
        )],
        flin_web::Options {
            max_inflight_bodies: 1024 * 1024,
            ..flin_web::Options::default()
        },
    );
    // A slow client sends 800 KB of a 900 KB body and waits.
    let mut slow = std::net::TcpStream::connect(server.address).unwrap();
    let declared = 900 * 1024;
    write!(
        slow,
        "POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let text = "x".repeat(declared - 12);
    let full = format!(r#"{{"text": "{text}"}}"#);
    assert_eq!(full.len(), declared);
    slow.write_all(&full.as_bytes()[..800 * 1024]).unwrap();
    slow.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Another 400 KB body does not fit beside it: 503, the server unharmed.
    let other = format!(r#"{{"text": "{}"}}"#, "y".repeat(400 * 1024));
    let busy = request(
        &server,
        "POST",
        "/api/echo",
        &[("Content-Type", "application/json")],
        other.as_bytes(),
    );
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert!(
        busy.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("busy"))
    );
    // A small one does.
    let small = post_json(&server, "/api/echo", r#"{"text": "hi"}"#);
    assert_eq!(small.body, "2", "{} {:?}", small.status, small.headers);
    // Once the slow body is in and answered, its memory is free again.
    slow.write_all(&full.as_bytes()[800 * 1024..]).unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut slow, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let again = request(
        &server,
        "POST",
        "/api/echo",
        &[("Content-Type", "application/json")],
        other.as_bytes(),
    );
    assert_eq!(again.status, 200, "{}", again.body);
}

#[test]
fn idle_and_slow_connections_are_dropped_and_others_still_served() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let server = serve(
        &[("app/index.flin", "<h1>home</h1>\n")],
        flin_web::Options {
            max_connections: 100,
            header_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_millis(1500),
            ..flin_web::Options::default()
        },
    );
    // How long until the server closes a socket (reads see the end).
    let closed_after = |stream: &mut std::net::TcpStream, trickle: bool| {
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let started = Instant::now();
        let mut buffer = [0u8; 4096];
        while started.elapsed() < Duration::from_secs(10) {
            if trickle {
                // One more header byte now and then: never a whole request.
                if stream.write_all(b"x").is_err() {
                    return started.elapsed();
                }
            }
            match stream.read(&mut buffer) {
                Ok(0) => return started.elapsed(),
                Ok(_) => {}
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return started.elapsed(),
            }
        }
        panic!("the connection was never closed");
    };
    // A socket that says nothing is closed after header_timeout.
    let mut silent = std::net::TcpStream::connect(server.address).unwrap();
    let waited = closed_after(&mut silent, false);
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // Slowloris: headers a byte at a time are cut at header_timeout.
    let mut slow = std::net::TcpStream::connect(server.address).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .unwrap();
    let waited = closed_after(&mut slow, true);
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // A keep-alive connection is kept between requests, then closed when idle.
    let mut kept = std::net::TcpStream::connect(server.address).unwrap();
    for _ in 0..2 {
        kept.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut buffer = [0u8; 8192];
        let n = kept.read(&mut buffer).unwrap();
        assert!(buffer[..n].starts_with(b"HTTP/1.1 200"));
        std::thread::sleep(Duration::from_millis(700));
    }
    let waited = closed_after(&mut kept, false);
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // More idle sockets than max_connections: a real client is still served at once
    // (the longest-idle socket makes room).
    let idle: Vec<_> = (0..250)
        .map(|_| std::net::TcpStream::connect(server.address).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let asked = Instant::now();
    let page = get(&server, "/");
    assert_eq!(page.status, 200);
    assert!(
        asked.elapsed() < Duration::from_millis(900),
        "{:?}",
        asked.elapsed()
    );
    drop(idle);
}

#[test]
fn a_request_past_its_memory_fails_alone_and_writes_nothing() {
    let server = serve(
        &[
            ("entities/log.flin", "entity Entry {\n    note: text\n}\n"),
            (
                "app/api/hog.flin",
                "route GET {\n    e = Entry { note: \"before\" }\n    save e\n    xs = []\n    for i in 0..50000000 {\n        xs.push(\"row {i}\")\n    }\n    xs.length\n}\n",
            ),
            ("app/api/count.flin", "route GET {\n    Entry.count\n}\n"),
        ],
        flin_web::Options {
            request_memory: 16 * 1024 * 1024,
            ..flin_web::Options::default()
        },
    );
    let hog = get(&server, "/api/hog");
    assert_eq!(hog.status, 503, "{}", hog.body);
    assert!(
        hog.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("memory")),
        "{}",
        hog.body
    );
    // Its write was rolled back; the server goes on.
    assert_eq!(get(&server, "/api/count").body, "0");
    assert_eq!(get(&server, "/api/hog").status, 503);
    assert_eq!(get(&server, "/api/count").body, "0");
}

/// Sends raw bytes; the raw answer.
fn raw(server: &Server, bytes: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
