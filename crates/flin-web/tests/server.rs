//! A real server on 127.0.0.1 (web.md): pages rendered to exact HTML, escaping, routing
//! (params, rest, precedence, 404, 405 with `Allow`, trailing slashes), API status codes
//! and bodies, validation, malformed bodies, size limits, runtime errors and static
//! files, all through plain HTTP/1.1 on a socket.

// Helpers fail the test by panicking, as assertions do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

mod common;
use common::*;

const BOOK: &str = "entity Book {\n    title: text @required @maxLength(200)\n    pages: int = 1\n    notes: text? @hidden\n}\n";

fn library() -> Server {
    library_with(flin_web::Options::default())
}

fn library_with(options: flin_web::Options) -> Server {
    serve(
        &[
            ("entities/Book.flin", BOOK),
            (
                "app/index.flin",
                "books = Book.order(title)\n<head><title>Library</title></head>\n<h1>Books</h1>\n{if books.length == 0}\n<p>No books yet.</p>\n{else}\n<ul>\n{for b in books}\n<li class:long={b.pages > 300}><a href=\"/books/{b.id}\">{b.title}</a></li>\n{/for}\n</ul>\n{/if}\n",
            ),
            (
                "app/books/[id].flin",
                "id = to_int(params.id) ?? not_found()\nbook = Book.find(id) ?? not_found()\n<h1>{book.title}</h1>\n<p>{book.pages} pages</p>\n",
            ),
            ("app/books/new.flin", "<h1>New book</h1>\n"),
            ("app/docs/[...path].flin", "<p>doc {params.path}</p>\n"),
            (
                "app/api/books.flin",
                "route GET {\n    Book.order(title)\n}\n\nroute POST {\n    b = Book { title: body.title, pages: body.pages }\n    save b\n    response { status: 201, body: b }\n}\n\nroute DELETE {\n    for b in Book.all { destroy b }\n    none\n}\n",
            ),
            (
                "app/api/boom.flin",
                "route GET {\n    xs = [1, 2]\n    xs[5]\n}\n",
            ),
            (
                "app/api/teapot.flin",
                "route GET {\n    error(418, \"I am a teapot\")\n}\n",
            ),
            (
                "app/go.flin",
                "route GET {\n    redirect(\"/books/new\")\n}\n",
            ),
            (
                "layouts/default.flin",
                "<header>Library</header>\n<main>{children}</main>\n",
            ),
            ("public/hello.txt", "hello static\n"),
            ("public/books/new", "a static file the page shadows\n"),
        ],
        options,
    )
}

#[test]
fn a_page_renders_to_a_complete_document_inside_its_layout() {
    // `flin start`: no dev script in the page.
    let server = library_with(flin_web::Options {
        dev: false,
        ..flin_web::Options::default()
    });
    let reply = get(&server, "/");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    // The page lists books (a live value): it carries its view token and the live
    // runtime, and marks the region the runtime patches (the page in its layout).
    let token_start = reply.body.find("content=\"ey").map(|i| i + 9).unwrap_or(0);
    let token_end = reply.body[token_start..]
        .find('"')
        .map_or(0, |i| token_start + i);
    let masked = format!(
        "{}TOKEN{}",
        &reply.body[..token_start],
        &reply.body[token_end..]
    );
    assert_eq!(
        masked,
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Library</title>\n<meta name=\"flin-live\" content=\"TOKEN\">\n<script src=\"/_flin/live.js?v=HASH\" defer></script>\n</head>\n<body>\n<!--flin:live--><header>Library</header><main><h1>Books</h1><p>No books yet.</p></main><!--/flin:live-->\n</body>\n</html>\n"
            .replace("HASH", reply.body.split("live.js?v=").nth(1).and_then(|r| r.split('"').next()).unwrap_or(""))
    );
    // A page with nothing live stays plain HTML, with no script.
    let plain = get(&server, "/books/new");
    assert_eq!(
        plain.body,
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>FLIN</title>\n</head>\n<body>\n<header>Library</header><main><h1>New book</h1></main>\n</body>\n</html>\n"
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert!(reply.header("content-security-policy").is_some());
}

#[test]
fn data_is_escaped_in_pages_and_json_maps_entities() {
    let server = library();
    let created = post_json(
        &server,
        "/api/books",
        r#"{"title": "<script>alert(1)</script>", "pages": 412}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let json = created.json();
    assert_eq!(json["id"], 1);
    assert_eq!(json["title"], "<script>alert(1)</script>");
    assert_eq!(json["version"], 1);
    assert!(json.get("notes").is_none(), "@hidden field in JSON: {json}");
    assert!(
        json["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let page = get(&server, "/");
    assert!(
        page.body.contains(
            "<li class=\"long\"><a href=\"/books/1\">&lt;script&gt;alert(1)&lt;/script&gt;</a></li>"
        ),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert"));
    let detail = get(&server, "/books/1");
    assert!(
        detail
            .body
            .contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1><p>412 pages</p>"),
        "{}",
        detail.body
    );
    let list = get(&server, "/api/books");
    assert_eq!(list.status, 200);
    assert_eq!(list.json().as_array().map(Vec::len), Some(1));
}

#[test]
fn routing_follows_the_files() {
    let server = library();
    assert!(
        get(&server, "/books/new")
            .body
            .contains("<h1>New book</h1>")
    );
    assert_eq!(get(&server, "/books/abc").status, 404);
    assert_eq!(get(&server, "/books/99").status, 404);
    assert_eq!(get(&server, "/nowhere").status, 404);
    assert_eq!(get(&server, "/nowhere").json()["status"], 404);
    let rest = get(&server, "/docs/guide/intro%20page");
    assert!(
        rest.body.contains("<p>doc guide/intro page</p>"),
        "{}",
        rest.body
    );
    let slash = get(&server, "/books/new/?x=1");
    assert_eq!(slash.status, 308);
    assert_eq!(slash.header("location"), Some("/books/new?x=1"));
    let not_allowed = request(&server, "PUT", "/api/books", &[], b"");
    assert_eq!(not_allowed.status, 405);
    assert_eq!(not_allowed.header("allow"), Some("GET, POST, DELETE"));
    let page_post = request(&server, "POST", "/", &[], b"");
    assert_eq!(page_post.status, 405);
    assert_eq!(page_post.header("allow"), Some("GET"));
    assert_eq!(request(&server, "BREW", "/", &[], b"").status, 405);
    let go = get(&server, "/go");
    assert_eq!(go.status, 303);
    assert_eq!(go.header("location"), Some("/books/new"));
}

#[test]
fn api_answers_with_the_right_status_and_reason() {
    let server = library();
    let invalid = post_json(&server, "/api/books", r#"{"title": "  ", "pages": 3}"#);
    assert_eq!(invalid.status, 400);
    assert_eq!(
        invalid.json(),
        serde_json::json!({"error": "Validation failed", "status": 400, "fields": {"title": "title is required"}})
    );
    let malformed = post_json(&server, "/api/books", r#"{"title": "#);
    assert_eq!(malformed.status, 400);
    assert!(
        malformed.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("JSON"))
    );
    let none = request(&server, "DELETE", "/api/books", &[], b"");
    assert_eq!(none.status, 204);
    let teapot = get(&server, "/api/teapot");
    assert_eq!(teapot.status, 418);
    assert_eq!(
        teapot.json(),
        serde_json::json!({"error": "I am a teapot", "status": 418})
    );
    let boom = get(&server, "/api/boom");
    assert_eq!(boom.status, 500);
    let json = boom.json();
    assert!(json["request_id"].as_str().is_some());
    assert!(
        json["detail"]["at"]
            .as_str()
            .is_some_and(|at| at.contains("app/api/boom.flin:3")),
        "{json}"
    );
    // The server goes on after an error.
    assert_eq!(get(&server, "/api/books").status, 200);
}

#[test]
fn a_failed_request_keeps_none_of_its_writes() {
    let server = serve(
        &[
            ("entities/Book.flin", BOOK),
            (
                "app/api/books.flin",
                "route POST {\n    save Book { title: \"kept?\" }\n    fail(\"after the save\")\n}\nroute GET {\n    Book.count\n}\n",
            ),
        ],
        flin_web::Options::default(),
    );
    assert_eq!(request(&server, "POST", "/api/books", &[], b"").status, 500);
    assert_eq!(get(&server, "/api/books").body, "0");
}

#[test]
fn limits_end_bad_requests_with_4xx() {
    let server = serve(
        &[("app/api/echo.flin", "route POST {\n    body\n}\n")],
        flin_web::Options {
            max_body: 1024,
            ..flin_web::Options::default()
        },
    );
    let big = vec![b'x'; 4096];
    assert_eq!(request(&server, "POST", "/api/echo", &[], &big).status, 413);
    let echoed = post_json(&server, "/api/echo", r#"{"a": [1, 2.5, null]}"#);
    assert_eq!(echoed.json(), serde_json::json!({"a": [1, 2.5, null]}));
    let form = request(
        &server,
        "POST",
        "/api/echo",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"name=Ada+Lovelace&lang=fr%C3%A9",
    );
    assert_eq!(
        form.json(),
        serde_json::json!({"name": "Ada Lovelace", "lang": "fré"})
    );
}

#[test]
fn static_files_come_from_public_and_pages_win() {
    let server = library();
    let file = get(&server, "/hello.txt");
    assert_eq!(file.status, 200);
    assert_eq!(file.body, "hello static\n");
    assert!(file.header("cache-control").is_some());
    let etag = file.header("etag").expect("an ETag").to_string();
    let again = request(
        &server,
        "GET",
        "/hello.txt",
        &[("If-None-Match", &etag)],
        b"",
    );
    assert_eq!(again.status, 304);
    assert_eq!(again.body, "");
    let ranged = request(&server, "GET", "/hello.txt", &[("Range", "bytes=0-4")], b"");
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.body, "hello");
    let long = format!("/{}", "a".repeat(9000));
    assert_eq!(get(&server, &long).status, 414);
    let gzipped = request(&server, "GET", "/", &[("Accept-Encoding", "gzip")], b"");
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert!(
        get(&server, "/books/new")
            .body
            .contains("<h1>New book</h1>")
    );
    assert_eq!(get(&server, "/../Cargo.toml").status, 404);
    assert_eq!(get(&server, "/%2e%2e/%2e%2e/etc/passwd").status, 404);
    let _ = Path::new(".");
}

#[test]
fn validate_reads_the_body_as_its_declared_types() {
    let server = serve(
        &[(
            "app/api/books.flin",
            "route POST {\n    validate {\n        title: text @required @maxLength(10)\n        pages: int @min(1)\n        draft: bool = false\n    }\n    { title: body.title, twice: body.pages * 2, draft: body.draft }\n}\n",
        )],
        flin_web::Options::default(),
    );
    let form = request(
        &server,
        "POST",
        "/api/books",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"title=Dune&pages=300",
    );
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(
        form.json(),
        serde_json::json!({"title": "Dune", "twice": 600, "draft": false})
    );
    let json = post_json(
        &server,
        "/api/books",
        r#"{"title": "Emma", "pages": 5, "draft": true}"#,
    );
    assert_eq!(
        json.json(),
        serde_json::json!({"title": "Emma", "twice": 10, "draft": true})
    );
    let bad = request(
        &server,
        "POST",
        "/api/books",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"title=A+very+long+title&pages=zero",
    );
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.json(),
        serde_json::json!({"error": "Validation failed", "status": 400, "fields": {
            "title": "title must be at most 10 characters",
            "pages": "pages must be an int, not a text"
        }})
    );
    let missing = post_json(&server, "/api/books", "{}");
    assert_eq!(missing.json()["fields"]["title"], "title is required");
}

fn cookie_of(reply: &Reply) -> Option<String> {
    reply
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
}

#[test]
fn sessions_log_in_and_out_and_guards_check_them() {
    let server = serve(
        &[
            (
                "entities/User.flin",
                "entity User {\n    email: text @email @unique\n    password: text @hidden\n    role: text = \"reader\"\n}\n",
            ),
            (
                "app/api/signup.flin",
                "route POST {\n    u = User { email: body.email, password: hash_password(body.password), role: body.role }\n    save u\n    login(u)\n    session[\"visits\"] = 1\n    { ok: true }\n}\n",
            ),
            (
                "app/api/login.flin",
                "route POST {\n    u = User.where(email == body.email).first ?? error(401, \"Unknown email\")\n    if !verify_password(body.password, u.password) { error(401, \"Wrong password\") }\n    login(u)\n    { ok: true }\n}\n",
            ),
            (
                "app/api/logout.flin",
                "route POST {\n    logout()\n    none\n}\n",
            ),
            (
                "app/api/me.flin",
                "guard auth\n\nroute GET {\n    { email: current_user().email, visits: session[\"visits\"] }\n}\n",
            ),
            (
                "app/api/admin.flin",
                "guard role(\"admin\")\n\nroute GET {\n    \"secret\"\n}\n",
            ),
            (
                "app/api/limited.flin",
                "guard rate_limit(2, 60)\n\nroute GET {\n    \"ok\"\n}\n",
            ),
        ],
        flin_web::Options::default(),
    );
    assert_eq!(get(&server, "/api/me").status, 401);
    let signup = post_json(
        &server,
        "/api/signup",
        r#"{"email": "ada@example.org", "password": "s3cret", "role": "admin"}"#,
    );
    assert_eq!(signup.status, 200, "{}", signup.body);
    let cookie = cookie_of(&signup).expect("a session cookie");
    let set = signup.header("set-cookie").unwrap_or("");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(
        !set.contains("ada@example.org"),
        "the session is readable: {set}"
    );
    let me = request(&server, "GET", "/api/me", &[("Cookie", &cookie)], b"");
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        me.json(),
        serde_json::json!({"email": "ada@example.org", "visits": 1})
    );
    assert_eq!(
        request(&server, "GET", "/api/admin", &[("Cookie", &cookie)], b"").body,
        "\"secret\""
    );
    // A tampered cookie is no session at all.
    let forged = format!("{}x", cookie);
    assert_eq!(
        request(&server, "GET", "/api/me", &[("Cookie", &forged)], b"").status,
        401
    );
    let out = request(
        &server,
        "POST",
        "/api/logout",
        &[("Cookie", &cookie), ("Origin", "http://localhost")],
        b"",
    );
    assert_eq!(out.status, 204);
    let cleared = cookie_of(&out).unwrap_or_default();
    assert_eq!(cleared, "flin_session=");
    // Another user, not an admin.
    let reader = post_json(
        &server,
        "/api/signup",
        r#"{"email": "bob@example.org", "password": "pw", "role": "reader"}"#,
    );
    let bob = cookie_of(&reader).expect("a session cookie");
    assert_eq!(
        request(&server, "GET", "/api/admin", &[("Cookie", &bob)], b"").status,
        403
    );
    assert_eq!(get(&server, "/api/admin").status, 401);
    // Logging in again with the password.
    let login = post_json(
        &server,
        "/api/login",
        r#"{"email": "ada@example.org", "password": "s3cret"}"#,
    );
    assert_eq!(login.status, 200, "{}", login.body);
    let wrong = post_json(
        &server,
        "/api/login",
        r#"{"email": "ada@example.org", "password": "nope"}"#,
    );
    assert_eq!(wrong.status, 401);
    // Rate limit: 2 per minute.
    assert_eq!(get(&server, "/api/limited").status, 200);
    assert_eq!(get(&server, "/api/limited").status, 200);
    let limited = get(&server, "/api/limited");
    assert_eq!(limited.status, 429);
    assert!(
        limited.header("retry-after").is_some(),
        "{:?} {}",
        limited.headers,
        limited.body
    );
}

#[test]
fn middleware_runs_from_the_root_down_and_can_stop_the_chain() {
    let server = serve(
        &[
            (
                "app/_middleware.flin",
                "middleware {\n    log_info(\"root\")\n    next()\n}\n",
            ),
            (
                "app/admin/_middleware.flin",
                "middleware {\n    if query.key != \"open\" { redirect(\"/\") }\n    next()\n}\n",
            ),
            ("app/admin/index.flin", "<h1>Admin</h1>\n"),
            ("app/index.flin", "<h1>Home</h1>\n"),
            (
                "app/api/_middleware.flin",
                "middleware {\n    { stopped: true }\n}\n",
            ),
            ("app/api/x.flin", "route GET {\n    \"never\"\n}\n"),
        ],
        flin_web::Options::default(),
    );
    assert!(get(&server, "/").body.contains("<h1>Home</h1>"));
    let refused = get(&server, "/admin");
    assert_eq!(refused.status, 303);
    assert_eq!(refused.header("location"), Some("/"));
    assert!(
        get(&server, "/admin?key=open")
            .body
            .contains("<h1>Admin</h1>")
    );
    assert_eq!(
        get(&server, "/api/x").json(),
        serde_json::json!({"stopped": true})
    );
}

#[test]
fn cross_site_posts_with_the_session_cookie_are_refused() {
    let server = library();
    let cross = request(
        &server,
        "POST",
        "/api/books",
        &[
            ("Origin", "https://evil.example"),
            ("Content-Type", "application/json"),
            ("Cookie", "flin_session=abc"),
        ],
        br#"{"title": "x", "pages": 1}"#,
    );
    assert_eq!(cross.status, 403);
    // Without the session cookie there is no one to act for (an API client).
    let api = request(
        &server,
        "POST",
        "/api/books",
        &[
            ("Origin", "https://evil.example"),
            ("Content-Type", "application/json"),
        ],
        br#"{"title": "x", "pages": 1}"#,
    );
    assert_eq!(api.status, 201, "{}", api.body);
    let same = request(
        &server,
        "POST",
        "/api/books",
        &[
            ("Origin", "http://localhost"),
            ("Content-Type", "application/json"),
        ],
        br#"{"title": "x", "pages": 1}"#,
    );
    assert_eq!(same.status, 201, "{}", same.body);
}

#[test]
fn components_render_with_props_children_and_their_own_state() {
    let server = serve(
        &[
            (
                "components/Badge.flin",
                "tone = props.tone ?? \"neutral\"\ncount = 0\ncount += 1\n<span class=\"badge badge-{tone}\">{children} ({count})</span>\n",
            ),
            (
                "app/index.flin",
                "n = 3\n<p><Badge tone=\"warn\">Overdue {n}</Badge> <Badge>Fine</Badge></p>\n",
            ),
        ],
        flin_web::Options::default(),
    );
    let page = get(&server, "/");
    assert!(
        page.body.contains("<p><span class=\"badge badge-warn\">Overdue 3 (1)</span> <span class=\"badge badge-neutral\">Fine (1)</span></p>"),
        "{}",
        page.body
    );
}

#[test]
fn named_slots_take_what_the_caller_gives_or_their_fallback() {
    let server = serve(
        &[
            (
                "components/Card.flin",
                "<div class=\"card\"><div class=\"body\">{children}</div><footer><slot name=\"footer\">no footer</slot></footer></div>\n",
            ),
            (
                "app/index.flin",
                "<Card>Hello<em slot=\"footer\">by Ada</em></Card><Card>Bare</Card>\n",
            ),
        ],
        flin_web::Options::default(),
    );
    let page = get(&server, "/");
    assert!(
        page.body.contains("<div class=\"card\"><div class=\"body\">Hello</div><footer><em>by Ada</em></footer></div><div class=\"card\"><div class=\"body\">Bare</div><footer>no footer</footer></div>"),
        "{}",
        page.body
    );
}

#[test]
fn the_todo_example_works_without_javascript() {
    let server = serve_example("todo");
    let post = |fields: &[(&str, &str)]| {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.replace(' ', "+").replace('<', "%3C").replace('>', "%3E")
                )
            })
            .collect();
        request(
            &server,
            "POST",
            "/",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.join("&").as_bytes(),
        )
    };
    // The add form: its handler's signed field and the bound input's name.
    let page = get(&server, "/");
    let add = &forms(&page.body)[0];
    assert!(
        page.body.contains("method=\"post\" class=\"add\""),
        "{}",
        page.body
    );
    let added = post(&[
        ("_flin_handler", &add.handler),
        (&add.inputs[0], "Buy milk"),
    ]);
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(added.header("location"), Some("/"));
    let page = get(&server, "/");
    let add = &forms(&page.body)[0];
    post(&[
        ("_flin_handler", &add.handler),
        (&add.inputs[0], "Write <docs>"),
    ]);
    let page = get(&server, "/");
    assert!(
        page.body.contains("<title>Todo (2 left)</title>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<span>Write &lt;docs&gt;</span>"));
    // The newest first: toggle "Buy milk" (the second item's first form).
    let found = forms(&page.body);
    assert_eq!(found.len(), 5, "{}", page.body);
    assert_eq!(post(&[("_flin_handler", &found[3].handler)]).status, 303);
    let page = get(&server, "/");
    assert!(page.body.contains("<h1>1 left</h1>"), "{}", page.body);
    assert!(page.body.contains("<li class=\"done\">"), "{}", page.body);
    // A field that is not signed for this page runs nothing.
    let forged = post(&[("_flin_handler", "abc.def")]);
    assert_eq!(forged.status, 405);
    // Delete "Write <docs>" (the first item's second form).
    let found = forms(&page.body);
    assert_eq!(post(&[("_flin_handler", &found[2].handler)]).status, 303);
    let api = get(&server, "/api/todos");
    assert_eq!(api.json().as_array().map(Vec::len), Some(1));
    assert_eq!(get(&server, "/style.css").status, 200);
}

#[test]
fn the_blog_example_serves_pages_and_its_api() {
    let server = serve_example("blog");
    let home = get(&server, "/");
    assert!(
        home.body
            .contains("<h2><a href=\"/posts/1\">Welcome</a></h2><p class=\"by\">by Ada</p>"),
        "{}",
        home.body
    );
    assert!(home.body.contains("<footer>1 posts</footer>"));
    // Without FLIN_API_KEY set, no key is valid.
    let refused = post_json(&server, "/api/posts", r#"{"title": "x"}"#);
    assert_eq!(refused.status, 401);
    assert_eq!(get(&server, "/posts/1").status, 200);
    assert_eq!(get(&server, "/posts/2").status, 404);
    let api = get(&server, "/api/posts").json();
    assert_eq!(api[0]["author"], serde_json::json!({"id": 1}));
}

#[test]
fn a_handler_that_runs_too_long_is_a_504_with_its_line() {
    let server = serve(
        &[(
            "app/api/slow.flin",
            "route GET {\n    n = 0\n    while true {\n        n += 1\n    }\n    n\n}\n",
        )],
        flin_web::Options {
            time_limit: Duration::from_millis(200),
            ..flin_web::Options::default()
        },
    );
    let slow = get(&server, "/api/slow");
    assert_eq!(slow.status, 504);
    let json = slow.json();
    // `flin dev` shows where.
    assert!(
        json["detail"]["at"]
            .as_str()
            .is_some_and(|at| at.starts_with("app/api/slow.flin:")),
        "{json}"
    );
    assert_eq!(get(&server, "/nowhere").status, 404, "the server goes on");
}

#[test]
fn a_get_that_writes_runs_again_on_the_writer_and_keeps_its_write() {
    let server = serve_with(
        &[
            ("entities/Visit.flin", "entity Visit { path: text }\n"),
            (
                "app/index.flin",
                "save Visit { path: \"/\" }\nn = Visit.count\n<p>{n} visits</p>\n",
            ),
            ("app/count.flin", "route GET {\n    Visit.count\n}\n"),
        ],
        flin_web::Options::default(),
        false,
    );
    assert!(get(&server, "/").body.contains("<p>1 visits</p>"));
    assert!(get(&server, "/").body.contains("<p>2 visits</p>"));
    assert_eq!(get(&server, "/count").body, "2");
}

/// Waits (up to 20 s) until `check` holds.
fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn dev_rebuilds_on_save_shows_compile_errors_and_reloads_pages() {
    let server = serve_with(
        &[("app/index.flin", "<h1>First</h1>\n")],
        flin_web::Options::default(),
        false,
    );
    let page = get(&server, "/");
    assert!(
        page.body
            .contains("<script src=\"/__flin/dev.js\" defer></script>")
    );
    let version = get(&server, "/__flin/version").body;
    assert!(
        get(&server, "/__flin/dev.js")
            .body
            .contains("location.reload()")
    );
    let index = server._dir.path().join("app/index.flin");
    std::fs::write(&index, "<h1>Second</h1>\n").unwrap();
    assert!(
        eventually(|| get(&server, "/").body.contains("<h1>Second</h1>")),
        "no rebuild"
    );
    assert_ne!(get(&server, "/__flin/version").body, version);
    // Once rebuilt, it stays put (reading the files is not a change).
    let settled = get(&server, "/__flin/version").body;
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        get(&server, "/__flin/version").body,
        settled,
        "rebuilding in a loop"
    );
    // A mistake: the browser shows the diagnostic instead of the app.
    std::fs::write(&index, "x = (1 +\n<h1>Third</h1>\n").unwrap();
    assert!(eventually(|| get(&server, "/").status == 500));
    let failure = get(&server, "/");
    assert!(
        failure.body.contains("The project does not compile"),
        "{}",
        failure.body
    );
    assert!(failure.body.contains("app/index.flin:"), "{}", failure.body);
    // Fixed: the app is back.
    std::fs::write(&index, "<h1>Fourth</h1>\n").unwrap();
    assert!(eventually(|| get(&server, "/")
        .body
        .contains("<h1>Fourth</h1>")));
    // A runtime error in a page shows in the browser with its FLIN line.
    std::fs::write(&index, "xs = [1]\ny = xs[3]\n<h1>{y}</h1>\n").unwrap();
    assert!(eventually(|| get(&server, "/")
        .body
        .contains("index error")));
    assert!(get(&server, "/").body.contains("app/index.flin:2"));
}

#[test]
fn a_style_is_scoped_to_its_file_and_goes_to_the_head_once() {
    let server = serve(
        &[
            (
                "components/Tag.flin",
                "<span class=\"tag\">{children}</span>\n<style>.tag { color: red }</style>\n",
            ),
            (
                "app/index.flin",
                "<p><Tag>a</Tag><Tag>b</Tag></p>\n<style global>body { margin: 0 }</style>\n",
            ),
        ],
        flin_web::Options::default(),
    );
    let page = get(&server, "/").body;
    let head = page.split("</head>").next().unwrap_or("");
    assert_eq!(head.matches(".tag[data-s-").count(), 1, "{page}");
    assert!(head.contains("<style>body { margin: 0 }</style>"), "{page}");
    let body = page.split("<body>").nth(1).unwrap_or("");
    assert_eq!(body.matches("<span data-s-").count(), 2, "{page}");
    assert!(body.contains("<p><span data-s-"), "{page}");
    assert!(
        !body.contains("<p data-s-"),
        "the page has no scoped style: {page}"
    );
}

#[test]
fn a_client_that_sends_its_body_too_slowly_gets_408() {
    let server = serve(
        &[("app/api/echo.flin", "route POST {\n    body\n}\n")],
        flin_web::Options {
            body_timeout: Duration::from_millis(300),
            ..flin_web::Options::default()
        },
    );
    let mut stream = TcpStream::connect(server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":")
        .unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    // Others are served meanwhile and after.
    assert_eq!(post_json(&server, "/api/echo", "[1]").body, "[1]");
}

#[test]
fn huge_headers_are_refused() {
    let server = serve(
        &[("app/index.flin", "<h1>x</h1>\n")],
        flin_web::Options::default(),
    );
    let big = "x".repeat(600 * 1024);
    let mut stream = TcpStream::connect(server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream
        .write_all(format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\n\r\n").as_bytes());
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 431"),
        "{}",
        &reply[..reply.len().min(200)]
    );
    assert!(
        get(&server, "/").body.contains("<h1>x</h1>"),
        "the server goes on"
    );
}

#[test]
fn a_panic_inside_a_handler_is_one_500_and_the_server_goes_on() {
    let server = serve(
        &[
            ("app/__flin/panic.flin", "<h1>never shown</h1>\n"),
            ("app/index.flin", "<h1>alive</h1>\n"),
        ],
        flin_web::Options {
            fault_injection: true,
            ..flin_web::Options::default()
        },
    );
    for _ in 0..3 {
        let crashed = get(&server, "/__flin/panic");
        assert_eq!(crashed.status, 500);
        assert!(crashed.json()["request_id"].as_str().is_some());
    }
    assert!(get(&server, "/").body.contains("<h1>alive</h1>"));
}

#[test]
fn with_expands_references_in_json_and_headers_read_either_case() {
    let server = serve(
        &[
            (
                "entities/Blog.flin",
                "entity Author { name: text }\nentity Post { title: text; author: Author }\n",
            ),
            (
                "app/api/posts.flin",
                "route POST {\n    a = Author { name: \"Ada\" }\n    save a\n    save Post { title: \"Hi\", author: a }\n    none\n}\nroute GET {\n    Post.all.with(author)\n}\n",
            ),
            ("app/api/plain.flin", "route GET {\n    Post.all\n}\n"),
            (
                "app/api/headers.flin",
                "route GET {\n    [headers[\"X-Trace\"] ?? \"-\", headers[\"x-trace\"] ?? \"-\"]\n}\n",
            ),
        ],
        flin_web::Options::default(),
    );
    assert_eq!(request(&server, "POST", "/api/posts", &[], b"").status, 204);
    let expanded = get(&server, "/api/posts").json();
    assert_eq!(expanded[0]["author"]["name"], "Ada", "{expanded}");
    let plain = get(&server, "/api/plain").json();
    assert_eq!(plain[0]["author"], serde_json::json!({"id": 1}));
    let headers = request(&server, "GET", "/api/headers", &[("X-Trace", "abc")], b"").json();
    assert_eq!(headers, serde_json::json!(["abc", "abc"]));
}
