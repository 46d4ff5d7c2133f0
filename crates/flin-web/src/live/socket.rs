//! The socket of a live page (web.md §9), `/_flin/live`: same-origin upgrades only; the
//! first message carries the view token (checked here: signature, expiry, build, user)
//! and the bound inputs' values; then events go to the worker holding the view, in the
//! order sent, and what the worker answers goes back. Limits: events larger than
//! `live.max_event` close the socket; more than `live` events per second are refused
//! with a notice; a socket silent for 60 s is closed. Every refusal is logged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use serde_json::{Value as J, json};

use super::hub::Outgoing;
use super::token::{TokenError, now_secs};
use crate::server::Shared;
use crate::unit::{RequestData, ResponseData};
use crate::workers::{Mount, WorkerWork};

/// How long a socket may take to send its view token.
const MOUNT_WAIT: Duration = Duration::from_secs(10);

/// `GET /_flin/live`: the upgrade, for a page of this site only.
pub async fn upgrade(
    shared: Arc<Shared>,
    peer: SocketAddr,
    secure: bool,
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
                "live: refused a socket from origin {:?} (this site is {:?})",
                header("origin").unwrap_or("none"),
                header("host").unwrap_or("unknown")
            ),
            None,
        );
        return crate::server::plain(ResponseData::error(
            403,
            "live pages accept sockets from their own site only",
        ));
    }
    let data = RequestData {
        method: "GET".into(),
        headers: crate::server::header_pairs(&headers),
        cookies: crate::server::cookie_pairs(&headers),
        ip: peer.ip().to_string(),
        secure,
        ..RequestData::default()
    };
    let (mut parts, _) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let max = shared.live_settings.max_event;
    upgrade
        // Small buffers: a thousand open pages must not hold 256 KB each (tungstenite's
        // default); messages are small, and a larger one grows the buffer for its time.
        .read_buffer_size(1024)
        .write_buffer_size(0)
        // A little above the limit, so an oversized event is seen (and logged) here.
        .max_message_size(max + 1024)
        .max_frame_size(max + 1024)
        .on_upgrade(move |socket| serve(socket, shared, data))
}

/// The first message: the view token and the bound values; mounts the view on a
/// worker. `None` when the socket is done (told to reload, or gone).
async fn handshake(
    socket: &mut WebSocket,
    shared: &Arc<Shared>,
    mut request: RequestData,
) -> Option<(
    u64,
    crate::workers::WorkerSender,
    tokio::sync::mpsc::UnboundedReceiver<Outgoing>,
)> {
    let live = match shared.live.read() {
        Ok(live) => live.clone(),
        Err(_) => return None,
    };
    // The view token, first.
    let first = match tokio::time::timeout(MOUNT_WAIT, socket.recv()).await {
        Ok(Some(Ok(Message::Text(text)))) => text.to_string(),
        _ => {
            crate::logs::line(
                shared.dev,
                "warn",
                "live: a socket sent no view token in time: closed",
                None,
            );
            return None;
        }
    };
    let mount: J = serde_json::from_str(&first).unwrap_or(J::Null);
    let token_text = mount.get("k").and_then(J::as_str).unwrap_or("");
    let token = match live.signer.read_view_token(token_text, now_secs()) {
        Ok(token) => token,
        Err(reason) => {
            if reason == TokenError::Forged {
                crate::logs::line(
                    shared.dev,
                    "warn",
                    "live: refused a socket with a view token this server did not sign",
                    None,
                );
            }
            // Expired (or from a server that restarted with another key): the page
            // reloads and gets a fresh token.
            reload(socket, "the view token is not valid now").await;
            return None;
        }
    };
    if token.build != live.build {
        reload(socket, "the page's code changed").await;
        return None;
    }
    let (path, query) = match token.path.split_once('?') {
        Some((path, query)) => (path.to_string(), query.to_string()),
        None => (token.path.clone(), String::new()),
    };
    let Some(found) = live.table.find(&path) else {
        reload(socket, "the page is gone").await;
        return None;
    };
    let route = live
        .table
        .routes
        .iter()
        .position(|r| std::ptr::eq(r, found.route))
        .unwrap_or(usize::MAX);
    // The session must still be the one the page was rendered for (a logout in another
    // tab makes the page reload, and its guards run again).
    let sessions = live.sessions.clone();
    let cookies = request.cookies.clone();
    let session = tokio::task::spawn_blocking(move || sessions.open(&cookies).data)
        .await
        .unwrap_or_else(|_| crate::session::empty());
    let user = session.get("user").cloned().unwrap_or(J::Null);
    if user != token.user {
        reload(socket, "the session changed").await;
        return None;
    }
    request.params = found.params;
    request.query = crate::json::form_pairs(&query);
    request.raw_query = query;
    request.path = path;
    request.request_id = format!("live-{}", shared.next_request_id());
    let binds: Vec<(String, J)> = mount
        .get("b")
        .and_then(J::as_array)
        .map(|binds| {
            binds
                .iter()
                .filter_map(|pair| {
                    let id = pair.get(0)?.as_str()?.to_string();
                    Some((id, pair.get(1)?.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    let Some((_, worker)) = live.pool.pick() else {
        reload(socket, "the server is restarting").await;
        return None;
    };
    let view = shared.hub.next_view_id();
    let (out, outbox) = tokio::sync::mpsc::unbounded_channel::<Outgoing>();
    let mounted = worker.send(WorkerWork::Mount(Box::new(Mount {
        view,
        route,
        request,
        binds,
        out,
    })));
    if mounted.is_err() {
        reload(socket, "the server is restarting").await;
        return None;
    }
    Some((view, worker, outbox))
}

/// The messages of one socket, until it closes.
async fn serve(mut socket: WebSocket, shared: Arc<Shared>, request: RequestData) {
    // The handshake's values are dropped before the socket settles in: an open page
    // holds only what its loop needs.
    let Some((view, worker, mut outbox)) = handshake(&mut socket, &shared, request).await else {
        return;
    };
    let settings = shared.live_settings.clone();
    let mut heard = Instant::now();
    let mut window = (Instant::now(), 0u32);
    loop {
        let silence = tokio::time::sleep_until((heard + settings.silence).into());
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text.to_string(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                        heard = Instant::now();
                        continue;
                    }
                    Some(Ok(Message::Binary(_))) => {
                        crate::logs::line(shared.dev, "warn", "live view: a binary message: closed", Some(&format!("view-{view}")));
                        close(&mut socket, 1003, "text messages only").await;
                        break;
                    }
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(err)) => {
                        // Mostly a browser that went away without a goodbye; an
                        // oversized frame also ends here.
                        crate::logs::line(shared.dev, "info", &format!("live view: the socket ended ({err})"), Some(&format!("view-{view}")));
                        break;
                    }
                };
                heard = Instant::now();
                if text.len() > settings.max_event {
                    crate::logs::line(
                        shared.dev,
                        "warn",
                        &format!(
                            "live view: an event of {} bytes (live.max_event is {}): closed",
                            text.len(),
                            settings.max_event
                        ),
                        Some(&format!("view-{view}")),
                    );
                    close(&mut socket, 1009, "the event is too large").await;
                    break;
                }
                let message: J = match serde_json::from_str(&text) {
                    Ok(message) => message,
                    Err(_) => {
                        crate::logs::line(shared.dev, "warn", "live view: a message that is not JSON: closed", Some(&format!("view-{view}")));
                        close(&mut socket, 1003, "messages are JSON").await;
                        break;
                    }
                };
                match message.get("t").and_then(J::as_str) {
                    // The heartbeat.
                    Some("h") => {}
                    Some("e") => {
                        let reference = message.get("r").and_then(J::as_u64).unwrap_or(0);
                        let now = Instant::now();
                        if now.duration_since(window.0) >= Duration::from_secs(1) {
                            window = (now, 0);
                        }
                        window.1 += 1;
                        if window.1 > settings.events_per_second {
                            if window.1 == settings.events_per_second + 1 {
                                crate::logs::line(shared.dev, "warn", &format!("live view: more than {} events a second: refusing",
                                    settings.events_per_second), Some(&format!("view-{view}")));
                            }
                            let refused = json!({
                                "t": "a",
                                "r": reference,
                                "n": "Too many actions at once: this one was not run.",
                            });
                            if socket.send(Message::Text(refused.to_string().into())).await.is_err() {
                                break;
                            }
                            continue;
                        }
                        let handler = message.get("h").and_then(J::as_str).unwrap_or("").to_string();
                        let data = message.get("d").cloned().unwrap_or(J::Null);
                        if worker
                            .send(WorkerWork::Event { view, handler, data, reference })
                            .is_err()
                        {
                            reload(&mut socket, "the server is restarting").await;
                            break;
                        }
                    }
                    other => {
                        crate::logs::line(shared.dev, "warn", &format!("live view: unknown message {other:?}: ignored"), Some(&format!("view-{view}")));
                    }
                }
            }
            outgoing = outbox.recv() => match outgoing {
                Some(Outgoing::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Close(code, reason)) => {
                    close(&mut socket, code, &reason).await;
                    break;
                }
                None => break,
            },
            () = silence => {
                crate::logs::line(
                    shared.dev,
                    "info",
                    &format!("live view: silent for {} s: closed", settings.silence.as_secs()),
                    Some(&format!("view-{view}")),
                );
                close(&mut socket, 1001, "silent too long").await;
                break;
            }
        }
    }
    let _ = worker.send(WorkerWork::Close { view });
}

/// Tells the page to reload, and closes.
async fn reload(socket: &mut WebSocket, reason: &str) {
    let _ = socket
        .send(Message::Text(json!({ "t": "reload" }).to_string().into()))
        .await;
    close(socket, 1000, reason).await;
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_string().into(),
        })))
        .await;
}

/// `POST /_flin/session`: the browser picks up the session cookie a handler changed
/// (once per token).
pub fn session(shared: &Shared, request: &Request<Body>) -> Response {
    let token = request
        .headers()
        .get("x-flin-session")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match shared.hub.take_cookie(token) {
        Some(cookie) => crate::server::plain(ResponseData {
            status: 204,
            headers: vec![
                ("set-cookie".into(), cookie),
                ("cache-control".into(), "no-store".into()),
            ],
            body: Vec::new(),
        }),
        None => crate::server::plain(ResponseData::error(404, "no such session update")),
    }
}
