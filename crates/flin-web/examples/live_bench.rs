//! The live-pages benchmark client (bench/live/run): mounts many views of one page over
//! real WebSockets and holds them, then measures the round trip of an event to its
//! patch on one connection.
//!
//! `cargo run --release -p flin-web --example live_bench -- http://127.0.0.1:3991/ \
//!     --views 1000 --events 5000 --handler-text Active --pid <server pid>`
//!
//! Prints the server's RSS before and after mounting (from /proc), and the round trip's
//! P50/P99 over loopback, one event in flight at a time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value as J, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn argument(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn rss_kb(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn connect(host: &str) -> Socket {
    let mut request = format!("ws://{host}/_flin/live")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", format!("http://{host}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

async fn next(socket: &mut Socket) -> J {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a message within 30 s")
        {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(_)) => {}
            other => panic!("the socket ended: {other:?}"),
        }
    }
}

fn main() {
    let url = std::env::args().nth(1).expect("the page's URL");
    let views: usize = argument("--views").map_or(1000, |n| n.parse().unwrap());
    let events: usize = argument("--events").map_or(5000, |n| n.parse().unwrap());
    let button = argument("--handler-text").unwrap_or_else(|| "Active".into());
    let pid = argument("--pid").unwrap_or_default();
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        #![allow(clippy::indexing_slicing)]
        // The page, its token, and two handlers to alternate (a filter and "All").
        let page = get(&host);
        let token = between(&page, "name=\"flin-live\" content=\"", "\"");
        let click = |text: &str| {
            let at = page.find(&format!(">{text}<")).unwrap();
            let open = page[..at].rfind("data-flin-click=\"").unwrap() + 17;
            page[open..].split(['"', ' ']).next().unwrap().to_string()
        };
        let (one, other) = (click(&button), click("All"));
        let before = rss_kb(&pid);
        let started = Instant::now();
        let mut held = Vec::with_capacity(views);
        for _ in 0..views {
            let mut socket = connect(&host).await;
            socket
                .send(Message::Text(json!({ "t": "m", "k": token, "b": [] }).to_string().into()))
                .await
                .unwrap();
            let mut mounted = next(&mut socket).await;
            if mounted["t"] == "T" {
                mounted = next(&mut socket).await;
            }
            assert_eq!(mounted["t"], "m", "{mounted}");
            if held.is_empty() {
                println!("the mount message: {} bytes", mounted.to_string().len());
            }
            held.push(socket);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss_kb(&pid);
        println!(
            "{views} views mounted in {:.1} s; server RSS {:.1} MB -> {:.1} MB (+{:.1} MB, {:.1} KB a view)",
            started.elapsed().as_secs_f64(),
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            (after.saturating_sub(before)) as f64 / 1024.0,
            (after.saturating_sub(before)) as f64 / views.max(1) as f64
        );
        // One event at a time: an event and its patch, then the next. The events go
        // round the first hundred views, so none passes its 50 events a second.
        let rotation = held.len().min(100);
        let mut times = Vec::with_capacity(events);
        // Few views: keep each under its limit of 50 events a second.
        let per_second = 45 * rotation;
        let mut window = (Instant::now(), 0usize);
        for n in 0..events {
            if window.1 >= per_second {
                let left = Duration::from_secs(1).saturating_sub(window.0.elapsed());
                tokio::time::sleep(left).await;
                window = (Instant::now(), 0);
            }
            window.1 += 1;
            let socket = &mut held[n % rotation];
            let handler = if (n / rotation) % 2 == 0 { &one } else { &other };
            let sent = Instant::now();
            socket
                .send(Message::Text(
                    json!({ "t": "e", "h": handler, "d": {}, "r": n }).to_string().into(),
                ))
                .await
                .unwrap();
            loop {
                let reply = next(socket).await;
                if reply["t"] == "a" && reply["r"] == n {
                    assert!(reply.get("n").is_none(), "{reply}");
                    break;
                }
            }
            times.push(sent.elapsed().as_secs_f64() * 1000.0);
        }
        let settled = rss_kb(&pid);
        println!(
            "server RSS after the events: {:.1} MB (+{:.1} MB over the idle server, {:.1} KB a view)",
            settled as f64 / 1024.0,
            (settled.saturating_sub(before)) as f64 / 1024.0,
            (settled.saturating_sub(before)) as f64 / views.max(1) as f64
        );
        // A commit elsewhere (the JSON API adds a todo): how soon every view has it
        // (this grows every page by five items, so it comes last).
        let watched = held.len().min(200);
        let mut commit_times = Vec::new();
        for round in 0..5 {
            let started = Instant::now();
            let body = format!("{{\"title\": \"from the API {round}\"}}");
            post(&host, "/api/todos", &body);
            for socket in held.iter_mut().take(watched) {
                loop {
                    let message = next(socket).await;
                    if message["t"] == "p" {
                        break;
                    }
                }
            }
            commit_times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "a commit elsewhere (an API call) -> its patch in every one of {watched} views: {} ms (5 commits)",
            commit_times
                .iter()
                .map(|ms| format!("{ms:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        times.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "event -> patch over loopback, 1 connection: P50 {:.3} ms, P99 {:.3} ms ({} events)",
            at(0.5),
            at(0.99),
            times.len()
        );
        if let Some(seconds) = argument("--hold") {
            tokio::time::sleep(Duration::from_secs(seconds.parse().unwrap_or(0))).await;
        }
        drop(held);
    });
}

fn between(text: &str, start: &str, end: &str) -> String {
    let at = text.find(start).unwrap() + start.len();
    text[at..].split(end).next().unwrap().to_string()
}

/// A plain HTTP/1.1 GET of the page.
fn get(host: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .write_all(
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}

/// A plain HTTP/1.1 JSON POST (the answer is read whole).
fn post(host: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .write_all(
            format!(
                "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}
