//! `ws` blocks on a real server with a real WebSocket client (services.md §3, §4):
//! connect, message and close handlers as units of work, rooms and broadcasts (from a
//! socket and from a route), delivery only after commit, guards and same-origin on the
//! upgrade, the size limit (1009), a client that never reads (1008).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::{Server, post_json, serve};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value as J, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const CHAT: &[(&str, &str)] = &[
    (
        "entities/message.flin",
        "entity Message {\n    body: text\n}\n",
    ),
    (
        "app/chat/socket.flin",
        r#"ws {
    on connect {
        join("lobby")
        send({ hello: connection.id })
    }
    on message(msg) {
        if msg is text {
            send({ echo: msg })
        } else {
            m = Message { body: msg.body }
            save m
            if m.body == "undo" {
                broadcast("lobby", { never: true })
                fail("rolled back")
            }
            broadcast("lobby", { body: m.body, count: Message.count })
        }
    }
    on close {
        broadcast("lobby", { left: connection.id })
    }
}
"#,
    ),
    (
        "app/chat/announce.flin",
        "route POST {\n    broadcast(\"lobby\", { from_api: body.text })\n    { ok: true }\n}\n",
    ),
    (
        "app/private/socket.flin",
        "guard auth\n\nws {\n    on connect {\n        send({ welcome: true })\n    }\n}\n",
    ),
];

async fn connect_to(server: &Server, path: &str, origin: &str) -> Result<Socket, u16> {
    let mut request = format!("ws://{}{path}", server.address)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(err) => panic!("{err}"),
    }
}

async fn connect(server: &Server) -> Socket {
    connect_to(
        server,
        "/chat/socket",
        &format!("http://{}", server.address),
    )
    .await
    .unwrap()
}

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

async fn close_code(socket: &mut Socket) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            _ => return None,
        }
    }
}

async fn send(socket: &mut Socket, value: J) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn messages_rooms_and_broadcasts_after_commit() {
    let server = serve(CHAT, flin_web::Options::default());
    runtime().block_on(async {
        let mut ada = connect(&server).await;
        let hello = next(&mut ada).await.unwrap();
        assert!(hello["hello"].is_string(), "{hello}");
        let mut bob = connect(&server).await;
        let bob_id = next(&mut bob).await.unwrap()["hello"].clone();
        // A message is saved and broadcast to the room, the sender included.
        send(&mut ada, json!({ "body": "hi" })).await;
        assert_eq!(
            next(&mut ada).await.unwrap(),
            json!({ "body": "hi", "count": 1 })
        );
        assert_eq!(
            next(&mut bob).await.unwrap(),
            json!({ "body": "hi", "count": 1 })
        );
        // A handler that fails sends nothing and keeps nothing.
        send(&mut ada, json!({ "body": "undo" })).await;
        // A message that is not JSON arrives as a json text.
        ada.send(Message::Text("plain words".into())).await.unwrap();
        assert_eq!(
            next(&mut ada).await.unwrap(),
            json!({ "echo": "plain words" })
        );
        send(&mut bob, json!({ "body": "second" })).await;
        assert_eq!(
            next(&mut ada).await.unwrap(),
            json!({ "body": "second", "count": 2 }),
            "the failed message's save and broadcast were undone"
        );
        // A route broadcasts to the room too.
        let reply = post_json(&server, "/chat/announce", r#"{"text": "from the API"}"#);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            next(&mut ada).await.unwrap(),
            json!({ "from_api": "from the API" })
        );
        assert_eq!(next(&mut bob).await.unwrap()["body"], "second");
        assert_eq!(
            next(&mut bob).await.unwrap(),
            json!({ "from_api": "from the API" })
        );
        // Closing runs `on close`: the others hear it.
        bob.close(None).await.unwrap();
        assert_eq!(next(&mut ada).await.unwrap(), json!({ "left": bob_id }));
    });
}

#[test]
fn upgrades_are_same_origin_and_guarded() {
    let server = serve(CHAT, flin_web::Options::default());
    runtime().block_on(async {
        assert_eq!(
            connect_to(&server, "/chat/socket", "http://evil.example")
                .await
                .err(),
            Some(403)
        );
        let own = format!("http://{}", server.address);
        assert_eq!(
            connect_to(&server, "/private/socket", &own).await.err(),
            Some(401),
            "`guard auth` applies to the upgrade"
        );
    });
    // A plain GET of a socket's path says what it is.
    let plain = common::get(&server, "/chat/socket");
    assert_eq!(plain.status, 426, "{}", plain.body);
}

#[test]
fn a_message_over_the_limit_closes_with_1009() {
    let options = flin_web::Options {
        ws: flin_web::SocketSettings {
            max_message: 1024,
            ..flin_web::SocketSettings::default()
        },
        ..flin_web::Options::default()
    };
    let server = serve(CHAT, options);
    runtime().block_on(async {
        let mut socket = connect(&server).await;
        next(&mut socket).await.unwrap();
        send(&mut socket, json!({ "body": "x".repeat(2_000) })).await;
        assert_eq!(close_code(&mut socket).await, Some(1009));
    });
    // The server serves on.
    assert_eq!(common::get(&server, "/chat/announce").status, 405);
}

#[test]
fn a_client_that_never_reads_is_closed_with_1008() {
    let server = serve(CHAT, flin_web::Options::default());
    let address = server.address;
    runtime().block_on(async {
        let mut reader = connect(&server).await;
        next(&mut reader).await.unwrap();
        // A client that upgrades and then never reads.
        let mut lazy = connect(&server).await;
        // The reader reads all along.
        const FLOOD: usize = 1_500;
        let reading = tokio::spawn(async move {
            let mut got = 0;
            while got < FLOOD {
                let Some(message) = next(&mut reader).await else {
                    return got;
                };
                if message.get("from_api").is_some() {
                    got += 1;
                }
            }
            got
        });
        // Flood the room: more than the lazy client's queue (256) and more than the
        // socket buffers of loopback hold.
        tokio::task::spawn_blocking(move || {
            let big = json!({ "text": "y".repeat(32_000) }).to_string();
            for _ in 0..FLOOD {
                let reply = post_to(address, "/chat/announce", &big);
                assert_eq!(reply, 200);
            }
        })
        .await
        .unwrap();
        assert_eq!(reading.await.unwrap(), FLOOD, "the reader is not affected");
        // The lazy one finds a close frame with 1008 once it reads again.
        let mut code = None;
        loop {
            match tokio::time::timeout(Duration::from_secs(10), lazy.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    code = frame.map(|f| u16::from(f.code));
                    break;
                }
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
        }
        assert_eq!(code, Some(1008));
    });
}

/// A JSON POST to `address`; its status.
fn post_to(address: std::net::SocketAddr, path: &str, json: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
        json.len()
    )
    .unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
