//! Accepting and keeping connections (cli.md §2 `[server]`): at most
//! `max_connections` sockets are open at once; a new socket beyond that first takes the
//! place of the longest-idle connection (one waiting for a request), else waits in the
//! listen backlog. A connection must send a request's headers within `header_timeout`
//! (counted from its accept, or from the first byte of each later request), and a
//! keep-alive connection with no request for `idle_timeout` is closed. So idle and
//! slow clients (slowloris) cannot lock out everyone else, and accepting stays
//! responsive however many sockets are held.
//!
//! Each connection has a watchdog that sleeps until its next deadline: no timer fires
//! per byte, and 20,000 idle sockets cost a sleeping task each.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// How connections are limited.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

/// What a connection is doing, as its watchdog and the accept loop see it.
struct Activity {
    /// When it began waiting for a request (its accept, or its last answer).
    waiting_since: Instant,
    /// The first byte of a request read while waiting (its headers are coming).
    first_byte: Option<Instant>,
    /// Requests being answered now.
    in_flight: usize,
    /// Requests answered so far.
    served: u64,
    /// When the last byte was written (a large answer still streaming).
    last_write: Instant,
}

impl Activity {
    /// Waiting for a request with nothing of one received: it may be closed to make
    /// room.
    fn idle_since(&self) -> Option<Instant> {
        (self.in_flight == 0 && self.first_byte.is_none())
            .then(|| self.waiting_since.max(self.last_write))
    }

    /// When the connection is to be closed if nothing happens before.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        if self.in_flight > 0 {
            return None;
        }
        if let Some(first) = self.first_byte {
            return Some(first + limits.header_timeout);
        }
        let wait = if self.served == 0 {
            limits.header_timeout
        } else {
            limits.idle_timeout
        };
        Some(self.waiting_since.max(self.last_write) + wait)
    }
}

struct Connection {
    activity: Mutex<Activity>,
    /// Tells the connection to close (to make room, or its deadline passed).
    close: Notify,
}

impl Connection {
    fn activity(&self) -> std::sync::MutexGuard<'_, Activity> {
        self.activity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The open connections.
#[derive(Default)]
struct Registry {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
}

impl Registry {
    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Closes the connection that has waited longest for a request; false when every
    /// connection is busy.
    fn evict_idle(&self) -> bool {
        let open = self.open();
        let oldest = open
            .values()
            .filter_map(|c| Some((c.activity().idle_since()?, c)))
            .min_by_key(|(since, _)| *since);
        match oldest {
            Some((_, connection)) => {
                connection.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, lets
/// the requests in flight finish (up to 30 s) and returns.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    raise_open_files_limit(limits.max_connections);
    let places = Arc::new(Semaphore::new(limits.max_connections));
    let registry = Arc::new(Registry::default());
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        // A place for one more connection: free, or made by closing the longest-idle
        // one; else the new socket waits in the backlog.
        let place = match places.clone().try_acquire_owned() {
            Ok(place) => place,
            Err(_) => {
                registry.evict_idle();
                tokio::select! {
                    place = places.clone().acquire_owned() => match place {
                        Ok(place) => place,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors or a reset before accept: go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // No Nagle delay: a live page's answers are small writes that must go at once.
        let _ = tcp.set_nodelay(true);
        let id = registry.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let connection = Arc::new(Connection {
            activity: Mutex::new(Activity {
                waiting_since: now,
                first_byte: None,
                in_flight: 0,
                served: 0,
                last_write: now,
            }),
            close: Notify::new(),
        });
        registry.open().insert(id, connection.clone());
        let router = router.clone();
        let registry = registry.clone();
        let stopping = stopping.clone();
        tokio::spawn(async move {
            serve_connection(tcp, peer, router, connection, limits, stopping).await;
            registry.open().remove(&id);
            drop(place);
        });
    }
    // Stop accepting; let what is in flight finish.
    drop(listener);
    let _ = stop.send(true);
    let _ = tokio::time::timeout(
        Duration::from_secs(30),
        places.acquire_many(u32::try_from(limits.max_connections).unwrap_or(u32::MAX)),
    )
    .await;
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    connection: Arc<Connection>,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Watched {
        inner: tcp,
        connection: connection.clone(),
    });
    let counted = connection.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        let guard = InFlight::enter(counted.clone());
        async move {
            let response = router
                .oneshot(request.map(Body::new))
                .await
                .unwrap_or_else(|never: Infallible| match never {});
            drop(guard);
            Ok::<_, Infallible>(response)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // The watchdog below times headers and idleness.
        .header_read_timeout(None)
        .keep_alive(true)
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(conn);
    let mut shutting_down = false;
    loop {
        let deadline = connection.activity().deadline(&limits);
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => tokio::time::sleep(limits.idle_timeout).await,
            }
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            () = sleep => {
                let due = connection.activity().deadline(&limits);
                if due.is_some_and(|at| at <= Instant::now()) {
                    // Idle too long, or headers too slow: closed, nothing in flight.
                    return;
                }
            }
            () = connection.close.notified() => {
                if connection.activity().idle_since().is_some() {
                    return;
                }
            }
            changed = stopping.changed(), if !shutting_down => {
                if changed.is_err() || *stopping.borrow() {
                    shutting_down = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// A request being answered on a connection (for its watchdog).
struct InFlight(Arc<Connection>);

impl InFlight {
    fn enter(connection: Arc<Connection>) -> InFlight {
        {
            let mut activity = connection.activity();
            activity.in_flight += 1;
            activity.first_byte = None;
        }
        InFlight(connection)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut activity = self.0.activity();
        activity.in_flight = activity.in_flight.saturating_sub(1);
        activity.served += 1;
        activity.waiting_since = Instant::now();
    }
}

/// The socket, noting when bytes come and go.
struct Watched {
    inner: TcpStream,
    connection: Arc<Connection>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            let mut activity = self.connection.activity();
            if activity.in_flight == 0 && activity.first_byte.is_none() {
                activity.first_byte = Some(Instant::now());
            }
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.connection.activity().last_write = Instant::now();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.connection.activity().last_write = Instant::now();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Lets the process hold `max_connections` sockets (and its files): the soft limit of
/// open files is raised toward the hard one.
fn raise_open_files_limit(max_connections: usize) {
    let wanted = u64::try_from(max_connections)
        .unwrap_or(u64::MAX)
        .saturating_add(1024);
    if let Ok((soft, hard)) = rlimit::Resource::NOFILE.get() {
        if soft < wanted {
            let _ = rlimit::Resource::NOFILE.set(wanted.min(hard), hard);
        }
    }
}
