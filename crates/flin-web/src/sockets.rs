//! WebSockets of `ws` blocks (services.md §3, §4): the connections of the app, the
//! rooms they joined, and the socket loop of each.
//!
//! - The upgrade must be same-origin (403 otherwise). The path's middleware, its file's
//!   code (its guards) and `on connect` run as one unit of work before the upgrade is
//!   answered: a guard that refuses answers with its status, no socket is opened.
//! - Each connection is pinned to one VM worker, so its messages are handled in the
//!   order they came, each `on message` a unit of work; `on close` runs when it ends.
//! - `send`, `join`, `leave` and `broadcast` are queued by the unit of work and done
//!   after it commits, in order (a unit rolled back does none of them); `broadcast` may
//!   come from any server code (routes, pages, live handlers, jobs).
//! - Limits: a message over `ws.max_message` closes the socket with 1009; a connection
//!   whose queue of 256 messages is full (a client that does not read) is closed with
//!   1008, never buffered without bound; a ping every 25 s, closed after 60 s without
//!   a pong; on shutdown every socket is closed with 1001.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::Request;
use axum::response::{IntoResponse, Response};

use crate::server::{Live, Shared};
use crate::unit::{RequestData, ResponseData};
use crate::workers::{WorkerSender, WorkerWork};

/// Messages waiting for one connection, at most.
pub const QUEUE: usize = 256;

/// `[ws]` of flin.toml.
#[derive(Clone, Debug)]
pub struct SocketSettings {
    /// `ws.max_message`: the largest message a client may send, in bytes (64 KB).
    pub max_message: usize,
    /// `ws.ping`: how often the server pings (25 s).
    pub ping: Duration,
    /// `ws.timeout`: closed after this long without a pong or a message (60 s).
    pub timeout: Duration,
}

impl Default for SocketSettings {
    fn default() -> SocketSettings {
        SocketSettings {
            max_message: 64 * 1024,
            ping: Duration::from_secs(25),
            timeout: Duration::from_secs(60),
        }
    }
}

struct Connection {
    out: tokio::sync::mpsc::Sender<String>,
    rooms: HashSet<String>,
    /// Set (with `kill` notified) when the server closes the socket: 1008, 1001.
    close: Arc<(AtomicU16, tokio::sync::Notify)>,
}

/// Every WebSocket connection of the app and the rooms they are in.
#[derive(Default)]
pub struct Sockets {
    connections: Mutex<HashMap<u64, Connection>>,
    rooms: Mutex<HashMap<String, HashSet<u64>>>,
    next: AtomicU64,
}

type Closer = Arc<(AtomicU16, tokio::sync::Notify)>;

impl Sockets {
    fn open(&self) -> (u64, tokio::sync::mpsc::Receiver<String>, Closer) {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let (out, receiver) = tokio::sync::mpsc::channel(QUEUE);
        let close = Arc::new((AtomicU16::new(0), tokio::sync::Notify::new()));
        if let Ok(mut connections) = self.connections.lock() {
            connections.insert(
                id,
                Connection {
                    out,
                    rooms: HashSet::new(),
                    close: close.clone(),
                },
            );
        }
        (id, receiver, close)
    }

    /// Forgets a connection and takes it out of its rooms.
    pub fn forget(&self, id: u64) {
        let rooms = match self.connections.lock() {
            Ok(mut connections) => connections.remove(&id).map(|c| c.rooms),
            Err(_) => None,
        };
        if let (Some(rooms), Ok(mut all)) = (rooms, self.rooms.lock()) {
            for room in rooms {
                if let Some(members) = all.get_mut(&room) {
                    members.remove(&id);
                    if members.is_empty() {
                        all.remove(&room);
                    }
                }
            }
        }
    }

    pub fn join(&self, id: u64, room: &str) {
        let known = match self.connections.lock() {
            Ok(mut connections) => match connections.get_mut(&id) {
                Some(connection) => {
                    connection.rooms.insert(room.to_string());
                    true
                }
                None => false,
            },
            Err(_) => false,
        };
        if let (true, Ok(mut rooms)) = (known, self.rooms.lock()) {
            rooms.entry(room.to_string()).or_default().insert(id);
        }
    }

    pub fn leave(&self, id: u64, room: &str) {
        if let Ok(mut connections) = self.connections.lock() {
            if let Some(connection) = connections.get_mut(&id) {
                connection.rooms.remove(room);
            }
        }
        if let Ok(mut rooms) = self.rooms.lock() {
            if let Some(members) = rooms.get_mut(room) {
                members.remove(&id);
                if members.is_empty() {
                    rooms.remove(room);
                }
            }
        }
    }

    /// Queues `text` for connection `id`; a full queue closes it (1008).
    pub fn send(&self, id: u64, text: String) {
        let Ok(connections) = self.connections.lock() else {
            return;
        };
        if let Some(connection) = connections.get(&id) {
            deliver(connection, text);
        }
    }

    /// Queues `text` for every connection in `room`; returns how many.
    pub fn broadcast(&self, room: &str, text: &str) -> usize {
        let members: Vec<u64> = match self.rooms.lock() {
            Ok(rooms) => rooms
                .get(room)
                .map(|m| m.iter().copied().collect())
                .unwrap_or_default(),
            Err(_) => return 0,
        };
        let Ok(connections) = self.connections.lock() else {
            return 0;
        };
        let mut sent = 0;
        for id in members {
            if let Some(connection) = connections.get(&id) {
                deliver(connection, text.to_string());
                sent += 1;
            }
        }
        sent
    }

    /// Closes every socket (the server is stopping): 1001.
    pub fn close_all(&self) {
        if let Ok(connections) = self.connections.lock() {
            for connection in connections.values() {
                close_with(&connection.close, 1001);
            }
        }
    }

    pub fn count(&self) -> usize {
        self.connections.lock().map_or(0, |c| c.len())
    }
}

fn deliver(connection: &Connection, text: String) {
    if connection.out.try_send(text).is_err() {
        // A client that does not read is not buffered for without bound.
        close_with(&connection.close, 1008);
    }
}

fn close_with(close: &Closer, code: u16) {
    if close.0.load(Ordering::Relaxed) == 0 {
        close.0.store(code, Ordering::Relaxed);
    }
    close.1.notify_one();
}

/// What a worker runs for a connection.
pub enum SocketEvent {
    /// The upgrade: middleware, guards, the file's code and `on connect`; the answer
    /// says whether to open the socket.
    Connect {
        reply: tokio::sync::oneshot::Sender<Option<ResponseData>>,
    },
    /// `on message(msg)`.
    Message(serde_json::Value),
    /// `on close`, then the connection is forgotten.
    Close,
}

pub struct SocketWork {
    pub connection: u64,
    pub route: usize,
    pub request: RequestData,
    pub event: SocketEvent,
}

/// Whether the request asks for a WebSocket.
pub fn is_upgrade(request: &Request<Body>) -> bool {
    request
        .headers()
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The upgrade of a `ws` path.
#[allow(clippy::too_many_arguments)]
pub async fn upgrade(
    shared: Arc<Shared>,
    live: Arc<Live>,
    route: usize,
    params: Vec<(String, String)>,
    peer: SocketAddr,
    secure: bool,
    request_id: String,
    request: Request<Body>,
) -> Response {
    let headers = request.headers().clone();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let same_origin = crate::server::same_origin(&headers);
    if !same_origin {
        crate::logs::line(
            shared.dev,
            "warn",
            &format!(
                "ws: refused a socket from origin {:?} (this site is {:?})",
                header("origin").unwrap_or("none"),
                header("host").unwrap_or("unknown")
            ),
            Some(&request_id),
        );
        return crate::server::plain(ResponseData::error(
            403,
            "WebSockets are accepted from this site's own pages only",
        ));
    }
    let uri = request.uri().clone();
    let data = RequestData {
        method: "GET".into(),
        path: uri.path().to_string(),
        query: uri.query().map(crate::json::form_pairs).unwrap_or_default(),
        raw_query: uri.query().unwrap_or("").to_string(),
        headers: crate::server::header_pairs(&headers),
        cookies: crate::server::cookie_pairs(&headers),
        ip: peer.ip().to_string(),
        params,
        request_id,
        secure,
        ..RequestData::default()
    };
    let (mut parts, _) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let Some((_, worker)) = live.pool.pick() else {
        return crate::server::plain(ResponseData::error(503, "the server is restarting"));
    };
    let sockets = shared.sockets.clone();
    let (id, outbox, close) = sockets.open();
    let (reply, answer) = tokio::sync::oneshot::channel();
    let sent = worker.send(WorkerWork::Socket(Box::new(SocketWork {
        connection: id,
        route,
        request: data.clone(),
        event: SocketEvent::Connect { reply },
    })));
    let refusal = match (sent, answer.await) {
        (Ok(()), Ok(None)) => None,
        (Ok(()), Ok(Some(response))) => Some(response),
        _ => Some(ResponseData::error(503, "the server is restarting")),
    };
    if let Some(response) = refusal {
        sockets.forget(id);
        return crate::server::plain(response);
    }
    let settings = shared.socket_settings.clone();
    let max = settings.max_message;
    upgrade
        .read_buffer_size(4096)
        .write_buffer_size(0)
        // Above the limit, so an oversized message is seen here and closed with 1009.
        .max_message_size(max.saturating_mul(2).max(max + 4096))
        .max_frame_size(max.saturating_mul(2).max(max + 4096))
        .on_upgrade(move |socket| {
            serve(
                socket,
                Open {
                    shared,
                    worker,
                    id,
                    route,
                    request: data,
                    outbox,
                    close,
                    settings,
                },
            )
        })
}

struct Open {
    shared: Arc<Shared>,
    worker: WorkerSender,
    id: u64,
    route: usize,
    request: RequestData,
    outbox: tokio::sync::mpsc::Receiver<String>,
    close: Closer,
    settings: SocketSettings,
}

/// The messages of one socket, until it closes.
async fn serve(mut socket: WebSocket, open: Open) {
    let Open {
        shared,
        worker,
        id,
        route,
        request,
        mut outbox,
        close,
        settings,
    } = open;
    let label = format!("ws-{id}");
    let mut heard = Instant::now();
    let mut ping = tokio::time::interval(settings.ping);
    ping.tick().await;
    let to_worker = |event: SocketEvent| {
        worker.send(WorkerWork::Socket(Box::new(SocketWork {
            connection: id,
            route,
            request: request.clone(),
            event,
        })))
    };
    loop {
        let silence = tokio::time::sleep_until((heard + settings.timeout).into());
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text.to_string(),
                    Some(Ok(Message::Binary(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                        heard = Instant::now();
                        continue;
                    }
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(err)) => {
                        let text = err.to_string();
                        if text.contains("Space limit") || text.contains("too long") || text.contains("Message too big") {
                            crate::logs::line(shared.dev, "warn", &format!("ws: a message over ws.max_message ({} bytes): closed", settings.max_message), Some(&label));
                            closing(&mut socket, 1009, "the message is too large").await;
                        }
                        break;
                    }
                };
                heard = Instant::now();
                if text.len() > settings.max_message {
                    crate::logs::line(
                        shared.dev,
                        "warn",
                        &format!("ws: a message of {} bytes (ws.max_message is {}): closed", text.len(), settings.max_message),
                        Some(&label),
                    );
                    closing(&mut socket, 1009, "the message is too large").await;
                    break;
                }
                // A message that is not JSON arrives as a json text.
                let message = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
                if to_worker(SocketEvent::Message(message)).is_err() {
                    closing(&mut socket, 1012, "the server is restarting").await;
                    break;
                }
            }
            outgoing = outbox.recv() => match outgoing {
                // A client that does not read blocks this send: the server closing
                // it (its queue is full, or the server stops) ends the wait.
                Some(text) => tokio::select! {
                    sent = socket.send(Message::Text(text.into())) => {
                        if sent.is_err() {
                            break;
                        }
                    }
                    () = close.1.notified() => {
                        shut(&mut socket, &close, &shared, &label).await;
                        break;
                    }
                },
                None => break,
            },
            () = close.1.notified() => {
                shut(&mut socket, &close, &shared, &label).await;
                break;
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            () = silence => {
                crate::logs::line(shared.dev, "info", &format!("ws: no pong for {} s: closed", settings.timeout.as_secs()), Some(&label));
                closing(&mut socket, 1001, "no pong").await;
                break;
            }
        }
    }
    if to_worker(SocketEvent::Close).is_err() {
        shared.sockets.forget(id);
    }
}

/// The server closes the socket (1008: the client does not read; 1001: stopping). A
/// client that does not read gets a little time to take the close frame, then the
/// connection is dropped.
async fn shut(socket: &mut WebSocket, close: &Closer, shared: &Shared, label: &str) {
    let code = close.0.load(Ordering::Relaxed);
    let reason = match code {
        1008 => {
            crate::logs::line(
                shared.dev,
                "warn",
                &format!("ws: the client does not read its messages ({QUEUE} waiting): closed"),
                Some(label),
            );
            "too many messages waiting"
        }
        _ => "the server is stopping",
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        closing(socket, code.max(1000), reason),
    )
    .await;
}

async fn closing(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_string().into(),
        })))
        .await;
}

/// Runs a connection's event on this worker: a unit of work of the `ws` block.
pub fn run_event(site: &crate::unit::Site, work: SocketWork) {
    let SocketWork {
        connection,
        route,
        request,
        event,
    } = work;
    let Some(route) = site.routes.routes.get(route) else {
        if let SocketEvent::Connect { reply } = event {
            let _ = reply.send(Some(ResponseData::error(404, "Not found")));
        }
        return;
    };
    let code = site.program.code.clone();
    let block = code.sockets.iter().find(|s| s.file == route.file);
    let request_id = request.request_id.clone();
    let (handler, args, connect) = match &event {
        SocketEvent::Connect { .. } => (block.and_then(|b| b.connect), Vec::new(), true),
        SocketEvent::Message(message) => (
            block.and_then(|b| b.message),
            vec![flin_vm::Value::Json(std::rc::Rc::new(message.clone()))],
            false,
        ),
        SocketEvent::Close => (block.and_then(|b| b.close), Vec::new(), false),
    };
    let run = std::panic::AssertUnwindSafe(|| {
        unit(site, route, request, connection, handler, &args, connect)
    });
    let outcome = std::panic::catch_unwind(run).unwrap_or_else(|_| {
        crate::logs::line(site.dev, "error", "internal panic", Some(&request_id));
        Err(ResponseData::error(500, "Internal error"))
    });
    match event {
        SocketEvent::Connect { reply } => {
            let _ = reply.send(outcome.err());
        }
        SocketEvent::Message(_) => {}
        SocketEvent::Close => site.sockets.forget(connection),
    }
    flin_vm::cycles::collect_young();
}

/// One unit of work of a connection: on connect, the middleware and the file's code
/// (its guards) first; the handler; what it sent is delivered after the commit.
fn unit(
    site: &crate::unit::Site,
    route: &crate::routes::Route,
    request: RequestData,
    connection: u64,
    handler: Option<u32>,
    args: &[flin_vm::Value],
    connect: bool,
) -> Result<(), ResponseData> {
    let request_id = request.request_id.clone();
    let session = site.sessions.open(&request.cookies);
    let mut host = crate::host::WebHost::new(
        site,
        route.source.clone(),
        request,
        session.data.clone(),
        crate::render::PageRender::new(false),
    );
    host.connection = Some(connection);
    let next = host.next.clone();
    let limits = flin_vm::Limits {
        time_limit: Some(site.time_limit),
        max_memory: Some(site.request_memory),
        ..flin_vm::Limits::default()
    };
    let outcome = crate::unit::with_unit(site, &mut host, true, |host| {
        let mut vm = flin_vm::Vm::new(site.program.clone(), host);
        vm.limits = limits;
        vm.start_unit();
        if connect {
            if let Some(response) = crate::unit::run_middleware(site, &mut vm, route, &next)? {
                return Ok(response);
            }
        }
        vm.run_function(route.main, &[])?;
        if let Some(handler) = handler {
            vm.run_function(handler, args)?;
        }
        Ok(ResponseData {
            status: 101,
            headers: Vec::new(),
            body: Vec::new(),
        })
    });
    for (level, line) in &host.log_lines {
        crate::logs::line(site.dev, level, line, Some(&request_id));
    }
    match outcome {
        Ok(response) if response.status < 400 => Ok(()),
        Ok(response) => Err(response),
        Err(err) => Err(crate::unit::error_response(site, &err, &request_id)),
    }
}
