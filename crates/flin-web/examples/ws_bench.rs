//! The WebSocket benchmark client (bench/ws/run): opens many idle `ws` connections and
//! holds them, reading the server's RSS (from /proc) before and after; then keeps
//! `--listeners` of them reading and times broadcasts to all of them.
//!
//! `ws_bench 127.0.0.1:3992 --idle 10000 --listeners 1000 --broadcasts 50 --pid <pid>`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn argument(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kb(pid: usize) -> u64 {
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
    let mut request = format!("ws://{host}/feed").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", format!("http://{host}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    // `on connect` greets each socket: it is open and in the room.
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(_))) => return socket,
            Some(Ok(_)) => {}
            other => panic!("the socket ended: {other:?}"),
        }
    }
}

fn main() {
    let host = std::env::args().nth(1).expect("the server's address");
    let idle = argument("--idle", 10_000);
    let listeners = argument("--listeners", 1_000).min(idle);
    let broadcasts = argument("--broadcasts", 50);
    let pid = argument("--pid", 0);
    if let Ok((_, hard)) = rlimit::Resource::NOFILE.get() {
        let _ = rlimit::Resource::NOFILE.set(hard, hard);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let before = rss_kb(pid);
        let started = Instant::now();
        let mut sockets = Vec::with_capacity(idle);
        for _ in 0..idle {
            sockets.push(connect(&host).await);
        }
        let opened = started.elapsed();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss_kb(pid);
        println!(
            "{idle} idle sockets opened in {:.1} s; server RSS {:.1} MB -> {:.1} MB (+{:.1} KB a socket; target: 10,000 in <= 200 MB)",
            opened.as_secs_f64(),
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            (after.saturating_sub(before)) as f64 / idle.max(1) as f64
        );
        // The rest close; `listeners` stay and read.
        let mut keep: Vec<Socket> = sockets.drain(..listeners).collect();
        drop(sockets);
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        let mut times = Vec::new();
        for round in 0..broadcasts {
            let (done, mut finished) = tokio::sync::mpsc::unbounded_channel::<()>();
            let mut readers = Vec::new();
            for mut socket in keep.drain(..) {
                let done = done.clone();
                readers.push(tokio::spawn(async move {
                    loop {
                        match socket.next().await {
                            Some(Ok(Message::Text(_))) => break,
                            Some(Ok(_)) => {}
                            other => panic!("the socket ended: {other:?}"),
                        }
                    }
                    let _ = done.send(());
                    socket
                }));
            }
            drop(done);
            let sent = Instant::now();
            let host = host.clone();
            tokio::task::spawn_blocking(move || post(&host, round)).await.unwrap();
            let mut got = 0;
            while finished.recv().await.is_some() {
                got += 1;
            }
            let took = sent.elapsed();
            assert_eq!(got, listeners);
            times.push(took);
            for reader in readers {
                keep.push(reader.await.unwrap());
            }
        }
        times.sort();
        let p50 = times[times.len() / 2];
        let total: Duration = times.iter().sum();
        println!(
            "broadcast to {listeners} sockets: P50 {:.2} ms, worst {:.2} ms (request to the last socket's message); {:.0} messages/s",
            p50.as_secs_f64() * 1000.0,
            times.last().unwrap().as_secs_f64() * 1000.0,
            (listeners * broadcasts) as f64 / total.as_secs_f64()
        );
    });
}

fn post(host: &str, round: usize) {
    use std::io::{Read, Write};
    let body = format!("{{\"round\": {round}}}");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST /broadcast HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}
