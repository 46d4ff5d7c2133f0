//! Live pages at the protocol level (web.md §9): a real server on 127.0.0.1 and a raw
//! WebSocket client. A page's view token mounts a view; events run handlers and come
//! back as patches of the holes that changed; commits elsewhere reach the views that
//! read what changed; and every limit holds: forged handler ids, bad tokens, foreign
//! origins, oversized events, event floods, silent sockets.

// Helpers fail the test by panicking, as assertions do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value as J, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The value of `attribute="…"` after `after` in `html`.
fn attribute_after(html: &str, after: &str, attribute: &str) -> String {
    let at = html
        .find(after)
        .unwrap_or_else(|| panic!("no {after} in {html}"));
    let rest = &html[at..];
    let start = rest.find(&format!("{attribute}=\"")).unwrap() + attribute.len() + 2;
    let end = rest[start..].find('"').unwrap() + start;
    rest[start..end].to_string()
}

fn token_of(html: &str) -> String {
    attribute_after(html, "name=\"flin-live\"", "content")
}

/// The handler id of the `n`-th `data-flin-<event>` attribute.
fn handler_ids(html: &str, event: &str) -> Vec<String> {
    let marker = format!("data-flin-{event}=\"");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let start = at + marker.len();
            let end = html[start..].find('"').unwrap() + start;
            html[start..end].split(' ').next().unwrap().to_string()
        })
        .collect()
}

async fn connect_with(server: &Server, origin: &str, cookie: Option<&str>) -> Result<Socket, u16> {
    let mut request = format!("ws://{}/_flin/live", server.address)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(err) => panic!("{err}"),
    }
}

async fn connect(server: &Server) -> Socket {
    connect_with(server, &format!("http://{}", server.address), None)
        .await
        .unwrap()
}

async fn send(socket: &mut Socket, message: J) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next JSON message (or `None` when the socket closed).
async fn next(socket: &mut Socket) -> Option<J> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")?;
        match message {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).unwrap()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The close code the server ends the socket with.
async fn close_code(socket: &mut Socket) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            _ => return None,
        }
    }
}

/// Mounts a view: the templates come first, then the whole render (returned with the
/// templates under `T`).
async fn mount(socket: &mut Socket, token: &str) -> J {
    send(socket, json!({ "t": "m", "k": token, "b": [] })).await;
    let templates = next(socket).await.unwrap();
    assert_eq!(templates["t"], "T", "{templates}");
    let mut mounted = next(socket).await.unwrap();
    assert_eq!(mounted["t"], "m", "{mounted}");
    mounted["T"] = templates["T"].clone();
    mounted
}

async fn event(socket: &mut Socket, handler: &str, reference: u64) -> J {
    send(
        socket,
        json!({ "t": "e", "h": handler, "d": { "value": "", "checked": false, "key": "" }, "r": reference }),
    )
    .await;
    loop {
        let reply = next(socket).await.unwrap();
        if reply["t"] == "a" && reply["r"] == reference {
            return reply;
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

const COUNTER: &str = "count = 0\n\n<h1>{count}</h1>\n<button click={count++}>+1</button>\n<button click={boom()}>boom</button>\nfn boom() { count = 100; xs = [1]; print(xs[3]) }\n";

#[test]
fn an_event_runs_its_handler_and_only_the_changed_hole_comes_back() {
    let server = serve(&[("app/index.flin", COUNTER)], flin_web::Options::default());
    let page = get(&server, "/");
    assert!(page.body.contains("<script src=\"/_flin/live.js?v="));
    let token = token_of(&page.body);
    let ids = handler_ids(&page.body, "click");
    runtime().block_on(async {
        let mut socket = connect(&server).await;
        let mounted = mount(&mut socket, &token).await;
        // The whole render: templates and holes.
        assert_eq!(mounted["r"]["d"][0], "0", "{mounted}");
        assert!(mounted["T"].as_object().is_some_and(|t| !t.is_empty()));
        let reply = event(&mut socket, &ids[0], 1).await;
        // Only hole 0 changed; no template is sent again.
        assert_eq!(reply["p"], json!({ "d": { "0": "1" } }), "{reply}");
        assert!(reply.get("T").is_none(), "{reply}");
        let reply = event(&mut socket, &ids[0], 2).await;
        assert_eq!(reply["p"], json!({ "d": { "0": "2" } }), "{reply}");
    });
}

#[test]
fn a_failing_handler_shows_a_notice_and_leaves_the_state_as_it_was() {
    let server = serve(&[("app/index.flin", COUNTER)], flin_web::Options::default());
    let page = get(&server, "/");
    let token = token_of(&page.body);
    let ids = handler_ids(&page.body, "click");
    runtime().block_on(async {
        let mut socket = connect(&server).await;
        mount(&mut socket, &token).await;
        event(&mut socket, &ids[0], 1).await;
        let failed = event(&mut socket, &ids[1], 2).await;
        assert!(
            failed["n"].as_str().unwrap().contains("index"),
            "the notice says what failed: {failed}"
        );
        assert!(failed.get("p").is_none());
        // `count = 100` of the failed handler did not stay.
        let reply = event(&mut socket, &ids[0], 3).await;
        assert_eq!(reply["p"], json!({ "d": { "0": "2" } }), "{reply}");
    });
}

#[test]
fn a_forged_or_stale_handler_id_runs_nothing() {
    let server = serve(&[("app/index.flin", COUNTER)], flin_web::Options::default());
    let page = get(&server, "/");
    let token = token_of(&page.body);
    let ids = handler_ids(&page.body, "click");
    runtime().block_on(async {
        let mut socket = connect(&server).await;
        mount(&mut socket, &token).await;
        let refused = event(&mut socket, "forged", 1).await;
        assert!(refused["n"].is_string(), "{refused}");
        assert!(refused.get("p").is_none());
        let reply = event(&mut socket, &ids[0], 2).await;
        assert_eq!(reply["p"], json!({ "d": { "0": "1" } }), "{reply}");
    });
}

#[test]
fn a_bad_token_reloads_the_page_and_a_foreign_origin_is_refused() {
    let server = serve(&[("app/index.flin", COUNTER)], flin_web::Options::default());
    let page = get(&server, "/");
    let token = token_of(&page.body);
    runtime().block_on(async {
        // Another site cannot open the socket.
        let refused = connect_with(&server, "http://evil.example", None).await;
        assert_eq!(refused.err(), Some(403));
        // A token changed by the client is not this server's: the page reloads.
        let mut socket = connect(&server).await;
        let mut forged = token.clone();
        forged.insert(3, 'x');
        send(&mut socket, json!({ "t": "m", "k": forged, "b": [] })).await;
        assert_eq!(next(&mut socket).await.unwrap(), json!({ "t": "reload" }));
        // A token for another path cannot be made without the key.
        let mut socket = connect(&server).await;
        send(
            &mut socket,
            json!({ "t": "m", "k": "eyJwIjoiL2FkbWluIn0.AAAA", "b": [] }),
        )
        .await;
        assert_eq!(next(&mut socket).await.unwrap(), json!({ "t": "reload" }));
    });
}

#[test]
fn oversized_events_close_the_socket_and_floods_are_refused() {
    let server = serve(
        &[("app/index.flin", COUNTER)],
        flin_web::Options {
            live: flin_web::LiveSettings {
                max_event: 1024,
                ..flin_web::LiveSettings::default()
            },
            ..flin_web::Options::default()
        },
    );
    let page = get(&server, "/");
    let token = token_of(&page.body);
    let ids = handler_ids(&page.body, "click");
    runtime().block_on(async {
        let mut socket = connect(&server).await;
        mount(&mut socket, &token).await;
        // More than 50 events in a second: the rest are refused with a notice.
        for reference in 1..=60u64 {
            send(
                &mut socket,
                json!({ "t": "e", "h": ids[0], "d": {}, "r": reference }),
            )
            .await;
        }
        let mut ran = 0;
        let mut refused = 0;
        let mut count = 0;
        while ran + refused < 60 {
            let reply = next(&mut socket).await.unwrap();
            if reply["t"] != "a" {
                continue;
            }
            if reply["n"].is_string() {
                refused += 1;
            } else {
                ran += 1;
                if let Some(value) = reply["p"]["d"]["0"].as_str() {
                    count = value.parse().unwrap();
                }
            }
        }
        assert_eq!((ran, refused), (50, 10));
        assert_eq!(count, 50);
        // An event larger than `live.max_event` closes the socket.
        let big = "x".repeat(1500);
        send(
            &mut socket,
            json!({ "t": "e", "h": ids[0], "d": { "value": big }, "r": 99 }),
        )
        .await;
        assert_eq!(close_code(&mut socket).await, Some(1009));
        // Nothing ran, and the server goes on.
        assert_eq!(get(&server, "/").status, 200);
    });
}

#[test]
fn a_silent_socket_is_closed() {
    let server = serve(
        &[("app/index.flin", COUNTER)],
        flin_web::Options {
            live: flin_web::LiveSettings {
                silence: Duration::from_millis(500),
                ..flin_web::LiveSettings::default()
            },
            ..flin_web::Options::default()
        },
    );
    let page = get(&server, "/");
    let token = token_of(&page.body);
    runtime().block_on(async {
        let mut socket = connect(&server).await;
        mount(&mut socket, &token).await;
        let started = Instant::now();
        assert_eq!(close_code(&mut socket).await, Some(1001));
        assert!(started.elapsed() < Duration::from_secs(5));
    });
}

const NOTES: &str = "entity Note {\n    body: text @required\n}\n";

#[test]
fn a_commit_anywhere_reaches_the_views_that_read_what_changed() {
    let server = serve(
        &[
            ("entities/Note.flin", NOTES),
            (
                "app/index.flin",
                "notes = Note.order(body)\n\n<ul>{for n in notes key n.id}<li>{n.body}</li>{/for}</ul>\n",
            ),
            (
                "app/other.flin",
                "count = 0\n<p click={count++}>{count}</p>\n",
            ),
            (
                "app/api/notes.flin",
                "route POST {\n    n = Note { body: body.body }\n    save n\n    n\n}\n",
            ),
        ],
        flin_web::Options::default(),
    );
    let page = get(&server, "/");
    let token = token_of(&page.body);
    let other = token_of(&get(&server, "/other").body);
    runtime().block_on(async {
        let mut first = connect(&server).await;
        let mut second = connect(&server).await;
        let mut unrelated = connect(&server).await;
        mount(&mut first, &token).await;
        mount(&mut second, &token).await;
        mount(&mut unrelated, &other).await;
        for (body, key) in [("b", "1"), ("a", "2")] {
            let started = Instant::now();
            let saved = post_json(&server, "/api/notes", &format!("{{\"body\": \"{body}\"}}"));
            assert_eq!(saved.status, 200, "{}", saved.body);
            for socket in [&mut first, &mut second] {
                let patch = next(socket).await.unwrap();
                assert_eq!(patch["t"], "p", "{patch}");
                let list = &patch["p"]["d"]["0"];
                assert_eq!(list["y"], 1, "a keyed list: {patch}");
                assert!(list["i"][key].is_object(), "only the new item: {patch}");
                assert_eq!(list["i"].as_object().unwrap().len(), 1, "{patch}");
            }
            assert!(started.elapsed() < Duration::from_secs(1));
        }
        // The order of keys follows the query: "a" (id 2) before "b" (id 1).
        // A view that reads no Note got nothing.
        let nothing = tokio::time::timeout(Duration::from_millis(300), unrelated.next()).await;
        assert!(nothing.is_err(), "{nothing:?}");
    });
}

#[test]
fn a_live_search_runs_again_when_a_commit_changes_what_it_searched() {
    let server = serve(
        &[
            (
                "entities/Note.flin",
                "entity Note {\n    body: text @search\n}\n",
            ),
            (
                "app/index.flin",
                "hits = search \"boots\" in Note by body\n\n<p>{hits.length} hits</p>\n",
            ),
            (
                "app/api/notes.flin",
                "route POST {\n    n = Note { body: body.body }\n    save n\n    n\n}\n",
            ),
        ],
        flin_web::Options::default(),
    );
    let page = get(&server, "/");
    assert!(page.body.contains("0 hits"), "{}", page.body);
    let token = token_of(&page.body);
    runtime().block_on(async {
        let mut socket = connect(&server).await;
        mount(&mut socket, &token).await;
        let saved = post_json(&server, "/api/notes", "{\"body\": \"red boots\"}");
        assert_eq!(saved.status, 200, "{}", saved.body);
        let patch = next(&mut socket).await.unwrap();
        assert_eq!(patch["t"], "p", "{patch}");
        // The hole of `hits.length`, now 1.
        assert_eq!(patch["p"]["d"]["0"], "1", "{patch}");
    });
}

#[test]
fn login_in_a_handler_updates_the_cookie_through_a_one_time_request() {
    let server = serve(
        &[
            ("entities/User.flin", "entity User {\n    name: text\n}\n"),
            (
                "app/index.flin",
                "me = current_user()\n\nfn enter() {\n    u = User { name: \"Ada\" }\n    save u\n    login(u)\n}\n\n<p>{me?.name ?? \"nobody\"}</p>\n<button click={enter()}>log in</button>\n",
            ),
            (
                "app/who.flin",
                "route GET {\n    current_user()?.name ?? \"nobody\"\n}\n",
            ),
        ],
        flin_web::Options::default(),
    );
    let page = get(&server, "/");
    let token = token_of(&page.body);
    let ids = handler_ids(&page.body, "click");
    runtime().block_on(async {
        let mut socket = connect(&server).await;
        mount(&mut socket, &token).await;
        send(
            &mut socket,
            json!({ "t": "e", "h": ids[0], "d": {}, "r": 1 }),
        )
        .await;
        let cookie = next(&mut socket).await.unwrap();
        assert_eq!(cookie["t"], "c", "{cookie}");
        let ack = next(&mut socket).await.unwrap();
        assert_eq!(ack["t"], "a", "{ack}");
        let one_time = cookie["c"].as_str().unwrap().to_string();
        // The test client says `Host: localhost`.
        let origin = "http://localhost".to_string();
        let picked = request(
            &server,
            "POST",
            "/_flin/session",
            &[("x-flin-session", &one_time), ("origin", &origin)],
            b"",
        );
        assert_eq!(picked.status, 204, "{}", picked.body);
        let set_cookie = picked.header("set-cookie").unwrap().to_string();
        assert!(set_cookie.contains("HttpOnly"));
        // Single use.
        let again = request(
            &server,
            "POST",
            "/_flin/session",
            &[("x-flin-session", &one_time), ("origin", &origin)],
            b"",
        );
        assert_eq!(again.status, 404);
        // The cookie is the logged-in session.
        let pair = set_cookie.split(';').next().unwrap();
        let who = request(&server, "GET", "/who", &[("cookie", pair)], b"");
        assert_eq!(who.body, "\"Ada\"");
    });
}

#[test]
fn html_error_pages_for_browsers_and_json_for_apis() {
    let server = serve(
        &[
            ("app/index.flin", "<h1>home</h1>\n"),
            (
                "app/_error.flin",
                "<h1>Oops {status}</h1>\n<p class=\"why\">{message}</p>\n",
            ),
        ],
        flin_web::Options::default(),
    );
    let browser = request(
        &server,
        "GET",
        "/nowhere",
        &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
        b"",
    );
    assert_eq!(browser.status, 404);
    assert_eq!(
        browser.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        browser.body.contains("<h1>Oops 404</h1>"),
        "{}",
        browser.body
    );
    let api = get(&server, "/nowhere");
    assert_eq!(api.status, 404);
    assert_eq!(api.json()["status"], 404);
}
