//! The HTTP server (web.md, cli.md): axum on tokio for the network, a pool of VM worker
//! threads for FLIN code (never the async reactor), static files from `public/`,
//! default security headers, request logs, graceful shutdown on SIGINT/SIGTERM.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use flin_runtime::{Built, Durability, Location, Store};

use crate::live::LiveSettings;
use crate::live::hub::LiveHub;
use crate::live::token::Signer;
use crate::routes::{Route, RouteTable, segments_of};
use crate::unit::{RequestData, ResponseData};
use crate::workers::{Job, Pool};

/// How to serve.
#[derive(Clone, Debug)]
pub struct Options {
    pub host: String,
    pub port: u16,
    /// `flin dev`: readable logs and error details in responses.
    pub dev: bool,
    pub time_limit: Duration,
    pub max_body: usize,
    /// Keep the database in memory (tests).
    pub memory: bool,
    /// A client that takes longer than this to send its body gets 408.
    pub body_timeout: Duration,
    /// Tests only (never from flin.toml or the environment): a request for
    /// `/__flin/panic` panics inside its VM worker, to show the server survives it.
    #[doc(hidden)]
    pub fault_injection: bool,
    /// Default security headers on every response.
    pub security_headers: bool,
    pub csp: String,
    /// `database.durability` from flin.toml (empty: the environment or the default).
    pub durability: String,
    /// `search.model`: a model folder; none for the built-in model.
    pub search_model: Option<std::path::PathBuf>,
    /// `database.url` when it names PostgreSQL (data.md §10); none for SQLite.
    pub postgres: Option<String>,
    /// `database.url = "sqlite:PATH"`: the database file, from the project's folder.
    pub sqlite_file: Option<std::path::PathBuf>,
    /// `database.pool`: PostgreSQL connections a server may hold.
    pub pool: usize,
    /// `[live]`: limits of live pages.
    pub live: LiveSettings,
    /// `[session]`: how long sessions last, whether their cookie is always `Secure`.
    pub session: crate::session::SessionSettings,
    /// `server.trusted_proxies`: addresses whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `server.max_connections`: open sockets; above it new ones wait in the backlog.
    pub max_connections: usize,
    /// `server.header_timeout`: time to receive a request's headers.
    pub header_timeout: Duration,
    /// `server.idle_timeout`: a keep-alive connection with no request is closed.
    pub idle_timeout: Duration,
    /// `server.request_memory`: one unit of work's heap, in bytes.
    pub request_memory: usize,
    /// `server.max_inflight_bodies`: request bodies buffered at once, in bytes.
    pub max_inflight_bodies: usize,
    /// `server.per_client`: FLIN units of work running at once for one client address.
    pub per_client: usize,
    /// `jobs.timeout`: how long one run of a job may take (10 min).
    pub job_timeout: Duration,
    /// `[ws]`: limits and timers of WebSockets.
    pub ws: crate::sockets::SocketSettings,
    /// Settings given that this build does not act on (logged at start-up).
    pub unsupported: Vec<String>,
    /// `uploads.max_size`: one uploaded file, in bytes.
    pub uploads_max_size: usize,
    /// `uploads.storage_url`: the folder of uploaded files (shared by the servers of a
    /// PostgreSQL app); none for `.flindb/blobs/`.
    pub blob_dir: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            host: "127.0.0.1".into(),
            port: 3000,
            dev: true,
            time_limit: Duration::from_secs(30),
            max_body: 25 * 1024 * 1024,
            memory: false,
            body_timeout: Duration::from_secs(10),
            fault_injection: false,
            security_headers: true,
            csp: "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'self'"
                .into(),
            durability: String::new(),
            search_model: None,
            postgres: None,
            sqlite_file: None,
            pool: 16,
            live: LiveSettings::default(),
            session: crate::session::SessionSettings::default(),
            trusted_proxies: Vec::new(),
            max_connections: 10_000,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_memory: 256 * 1024 * 1024,
            max_inflight_bodies: 256 * 1024 * 1024,
            per_client: 8,
            job_timeout: Duration::from_secs(600),
            ws: crate::sockets::SocketSettings::default(),
            unsupported: Vec::new(),
            uploads_max_size: 25 * 1024 * 1024,
            blob_dir: None,
        }
    }
}

/// What a build of the project serves; `flin dev` swaps it after each change.
pub(crate) struct Live {
    pub table: Arc<RouteTable>,
    pub pool: Pool,
    /// The last build failed: its diagnostics, shown instead of the app (dev).
    pub failure: Option<String>,
    /// Checks the view tokens of this build's pages.
    pub signer: Signer,
    pub sessions: Arc<crate::session::Sessions>,
    /// The build's number (`version` when it was made).
    pub build: u64,
    /// Dropped with the build: its job scheduler stops.
    _jobs: Option<crossbeam_channel::Sender<()>>,
    /// Uploaded files (none while the project does not compile).
    pub files: Option<Arc<crate::files::Files>>,
}

impl Live {
    pub fn new(
        app: &App,
        options: &Options,
        workers: usize,
        hub: &Arc<LiveHub>,
        sockets: &Arc<crate::sockets::Sockets>,
        build: u64,
    ) -> Live {
        let sessions = Arc::new(crate::session::Sessions::new(
            app.session_key.clone(),
            app.session_store.clone(),
            options.session.clone(),
        ));
        let pool = crate::workers::start(app, options, workers, hub, build, &sessions, sockets);
        let mut jobs = None;
        if !app.built.code.jobs.is_empty() {
            if let Some(store) = app.session_store.database() {
                let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
                crate::jobs::start(
                    app.built.code.clone(),
                    pool.runs.clone(),
                    store.clone(),
                    options.dev,
                    stopped,
                );
                jobs = Some(stop);
            }
        }
        Live {
            table: Arc::new(RouteTable {
                routes: app.table.routes.clone(),
            }),
            pool,
            failure: None,
            signer: Signer::new(&app.session_key),
            sessions,
            build,
            _jobs: jobs,
            files: Some(app.files.clone()),
        }
    }

    /// What serves while the project does not compile (`flin dev`).
    pub fn failed(diagnostics: String) -> Live {
        let key = cookie::Key::derive_from(&[0u8; 64]);
        Live {
            table: Arc::new(RouteTable::default()),
            pool: Pool::none(),
            failure: Some(diagnostics),
            signer: Signer::new(&key),
            sessions: Arc::new(crate::session::Sessions::new(
                key,
                Arc::new(crate::session::SessionStore::Own(
                    Location::Memory,
                    std::sync::OnceLock::new(),
                )),
                crate::session::SessionSettings::default(),
            )),
            build: 0,
            _jobs: None,
            files: None,
        }
    }
}

pub(crate) struct Shared {
    pub live: std::sync::RwLock<Arc<Live>>,
    /// Bumped at each rebuild; open pages in `flin dev` reload when it changes.
    pub version: AtomicU64,
    public: Option<PathBuf>,
    pub dev: bool,
    max_body: usize,
    body_timeout: Duration,
    next_id: AtomicU64,
    security_headers: bool,
    csp: HeaderValue,
    /// The live views of every build, and the commits they follow.
    pub hub: Arc<LiveHub>,
    /// The `ws` connections of every build, and their rooms.
    pub sockets: Arc<crate::sockets::Sockets>,
    pub socket_settings: crate::sockets::SocketSettings,
    pub live_settings: LiveSettings,
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Units of work running for each client address (`server.per_client`).
    clients: std::sync::Mutex<HashMap<std::net::IpAddr, Arc<tokio::sync::Semaphore>>>,
    per_client: usize,
    time_limit: Duration,
    /// Bytes of request bodies that may be held at once (`server.max_inflight_bodies`).
    bodies: Arc<tokio::sync::Semaphore>,
    uploads: crate::uploads::UploadLimits,
}

impl Shared {
    /// The client of a request, and whether it came over HTTPS: as the socket says, or
    /// as `X-Forwarded-For` / `X-Forwarded-Proto` say when the socket is a trusted proxy
    /// (`server.trusted_proxies`).
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> (SocketAddr, bool) {
        if !self.trusted_proxies.contains(&peer.ip()) {
            return (peer, false);
        }
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let secure = header("x-forwarded-proto")
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
        // The address the nearest proxy saw: the last one it added.
        let forwarded = header("x-forwarded-for")
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok());
        match forwarded {
            Some(ip) => (SocketAddr::new(ip, peer.port()), secure),
            None => (peer, secure),
        }
    }

    /// A place for one more unit of work of `client` on the VM workers: its requests
    /// past `per_client` wait for one of its own to end (no client takes every
    /// worker). `None` when it waited a whole request timeout.
    async fn client_slot(
        &self,
        client: std::net::IpAddr,
    ) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let slots = {
            let mut clients = self.clients.lock().ok()?;
            if clients.len() > 4096 {
                // Forget the clients with nothing running.
                clients.retain(|_, slots| Arc::strong_count(slots) > 1);
            }
            clients
                .entry(client)
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(self.per_client)))
                .clone()
        };
        tokio::time::timeout(self.time_limit, slots.acquire_owned())
            .await
            .ok()?
            .ok()
    }

    pub fn next_request_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// Everything built from a project before serving it.
pub struct App {
    pub built: Built,
    pub table: RouteTable,
    pub store: Option<Arc<Store>>,
    pub root: PathBuf,
    pub session_key: cookie::Key,
    /// Where sessions are kept (web.md §7).
    pub session_store: Arc<crate::session::SessionStore>,
    /// What opening the database changed (schema changes, search indexes built or
    /// dropped): the server logs them as it starts.
    pub opened: Vec<String>,
    /// Uploaded files: their blobs, URLs and collection.
    pub files: Arc<crate::files::Files>,
}

/// The folder name (in the system's temp folder) where an app on an in-memory database
/// keeps uploaded files while it runs.
pub(crate) const MEMORY_FILES: &str = "flin-memory-";

/// Builds the route table and opens the database of a checked, compiled project.
pub fn prepare(built: Built, root: &Path, memory: bool) -> Result<App, String> {
    let code = &built.code;
    let single = built.project.single_file;
    let mut routes = Vec::new();
    for (file, main) in &code.entries {
        let Some(source) = built.project.sources.get(*file) else {
            continue;
        };
        let segments = if single {
            Some(Vec::new())
        } else {
            segments_of(&source.path)
        };
        let Some(segments) = segments else { continue };
        routes.push(Route {
            file: *file,
            source: source.path.clone(),
            segments,
            main: *main,
            methods: code
                .routes
                .iter()
                .filter(|r| r.file == *file)
                .map(|r| (r.method.clone(), r.function))
                .collect(),
            page: code.renders.contains(file),
            socket: code.sockets.iter().any(|s| s.file == *file),
        });
    }
    let table = RouteTable::new(routes)?;
    let configured = crate::config::options(root, None, true)?;
    // The embedding model of `search.model`, read (and checked) before the store
    // compares it with the one its vectors were made by.
    flin_search::embedder::configure(configured.search_model.as_deref())
        .map_err(|err| format!("error: {err}"))?;
    // On PostgreSQL the database also carries what servers share (sessions, broadcasts,
    // rate limits), so it opens even for an app without entities.
    let store = if code.entities.is_empty() && (memory || configured.postgres.is_none()) {
        None
    } else {
        let location = crate::config::location(root, memory, &configured)?;
        // `database.durability` of flin.toml, or FLIN_DATABASE_DURABILITY.
        let durability = Durability::parse(&configured.durability).unwrap_or_default();
        let store = Store::open(location, &code.entities, durability)
            .map_err(|err| format!("error[{}]: {err}", err.kind()))?;
        // The indexes the program's queries want, made before the first request.
        store.index_queries(code.functions.iter().flat_map(|f| {
            f.constants.iter().filter_map(|c| match c {
                flin_vm::Constant::Query(shape) => Some(&**shape),
                _ => None,
            })
        }));
        let store = Arc::new(store);
        if memory {
            // Tests embed inside each save: a search right after sees the row.
            store
                .embed_pending()
                .map_err(|err| format!("error[{}]: {err}", err.kind()))?;
        } else {
            flin_store::embed_in_background(&store);
            // Other servers' commits and broadcasts (PostgreSQL only).
            flin_store::listen(&store);
        }
        Some(store)
    };
    let session_key = crate::session::key(root, memory)?;
    let session_store = Arc::new(match &store {
        Some(store) => crate::session::SessionStore::App(store.clone()),
        None => crate::session::SessionStore::Own(
            crate::config::location(root, memory, &configured)?,
            std::sync::OnceLock::new(),
        ),
    });
    let opened = store
        .as_ref()
        .map(|s| {
            s.applied_changes()
                .iter()
                .map(|c| c.change.clone())
                .collect()
        })
        .unwrap_or_default();
    // An app on an in-memory database (tests) keeps its files apart too: its
    // collector must never see the project's own blobs, which its rows do not name.
    let files_root = if memory {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        std::env::temp_dir().join(format!(
            "{MEMORY_FILES}{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
    } else {
        root.to_path_buf()
    };
    let files = crate::files::Files::open(
        &files_root,
        store.clone(),
        &session_key,
        configured.blob_dir.as_deref().filter(|_| !memory),
    )?;
    Ok(App {
        files,
        built,
        table,
        store,
        root: root.to_path_buf(),
        session_key,
        session_store,
        opened,
    })
}

/// Whether a request comes from a page of this site: its `Origin` names the host it was
/// sent to (socket upgrades and uploads from pages accept nothing else).
pub(crate) fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match (header("origin"), header("host")) {
        (Some(origin), Some(host)) => origin
            .split("://")
            .nth(1)
            .is_some_and(|o| o.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

/// Serves `app` until SIGINT/SIGTERM; `ready` gets the bound address.
pub async fn serve(
    app: App,
    options: Options,
    ready: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> Result<(), String> {
    // Twice the cores, at least 4: one client's stuck requests (at most all workers
    // but one, `per_client`) leave a worker for everyone else, and the OS shares the
    // cores between them.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .saturating_mul(2)
        .max(4);
    let hub = Arc::new(LiveHub::new());
    let sockets = Arc::new(crate::sockets::Sockets::default());
    let live = Live::new(&app, &options, workers, &hub, &sockets, 1);
    let public = app.root.join("public");
    let shared = Arc::new(Shared {
        hub,
        sockets: sockets.clone(),
        socket_settings: options.ws.clone(),
        live_settings: options.live.clone(),
        trusted_proxies: options.trusted_proxies.clone(),
        clients: std::sync::Mutex::new(HashMap::new()),
        per_client: options.per_client.clamp(1, workers - 1),
        time_limit: options.time_limit,
        uploads: crate::uploads::UploadLimits {
            max_file: options.uploads_max_size as u64,
            max_text: options.max_body as u64,
            idle: options.body_timeout,
        },
        bodies: Arc::new(tokio::sync::Semaphore::new(
            options
                .max_inflight_bodies
                .min(tokio::sync::Semaphore::MAX_PERMITS),
        )),
        live: std::sync::RwLock::new(Arc::new(live)),
        version: AtomicU64::new(1),
        public: public.is_dir().then_some(public),
        dev: options.dev,
        max_body: options.max_body,
        body_timeout: options.body_timeout,
        next_id: AtomicU64::new(1),
        security_headers: options.security_headers,
        csp: HeaderValue::from_str(&options.csp)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
    });
    // Expired sessions are swept in the background.
    let sweeper = Arc::downgrade(&shared);
    tokio::spawn(async move {
        loop {
            let sessions = sweeper
                .upgrade()
                .and_then(|shared| shared.live.read().ok().map(|l| l.sessions.clone()));
            let Some(sessions) = sessions else { break };
            let every = sessions.sweep_every();
            let _ = tokio::task::spawn_blocking(move || sessions.sweep()).await;
            tokio::time::sleep(every).await;
        }
    });
    let mut watcher = None;
    if options.dev && !options.memory {
        // A single-file app is rebuilt from its file, a project from its folder.
        let target = if app.built.project.single_file {
            app.built
                .project
                .sources
                .iter()
                .next()
                .map_or_else(|| app.root.clone(), |s| PathBuf::from(&s.path))
        } else {
            app.root.clone()
        };
        watcher = crate::dev::watch(
            app.root.clone(),
            target,
            shared.clone(),
            options.clone(),
            workers,
        );
    }
    let router = axum::Router::new()
        .fallback(handle)
        .with_state(shared)
        .layer(tower_http::compression::CompressionLayer::new());
    let address = format!("{}:{}", options.host, options.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "port {} is in use (another server is listening on {address}): stop it, or pick another port with `--port`, like `--port {}`",
                options.port,
                options.port.saturating_add(1)
            ),
            _ => format!("cannot listen on {address}: {err}"),
        })?;
    let bound = listener
        .local_addr()
        .map_err(|err| format!("cannot listen on {address}: {err}"))?;
    if let Some(ready) = ready {
        let _ = ready.send(bound);
    }
    crate::logs::line(
        options.dev,
        "info",
        &format!(
            "FLIN {} on http://{bound} ({} routes)",
            if options.dev { "dev server" } else { "server" },
            app.table.routes.len()
        ),
        None,
    );
    for change in &app.opened {
        crate::logs::line(options.dev, "info", &format!("database: {change}"), None);
    }
    for setting in &options.unsupported {
        crate::logs::line(options.dev, "warn", setting, None);
    }
    let limits = crate::connections::ConnectionLimits {
        max_connections: options.max_connections,
        header_timeout: options.header_timeout,
        idle_timeout: options.idle_timeout,
    };
    // Stopping closes every WebSocket (1001) as the HTTP connections drain.
    let sockets_at_stop = sockets.clone();
    let stopping = async move {
        shutdown_signal().await;
        sockets_at_stop.close_all();
    };
    crate::connections::serve(listener, router, limits, stopping).await;
    drop(watcher);
    crate::logs::line(
        options.dev,
        "info",
        "stopped: in-flight requests finished, database closed",
        None,
    );
    drop(app);
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// URLs longer than this are refused (414).
const MAX_URL: usize = 8 * 1024;

const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let id = format!("{:08x}", shared.next_request_id());
    let (peer, secure) = shared.client(peer, request.headers());
    let mut response = answer(&shared, peer, secure, request, &id).await;
    let status = response.status();
    // The dev loop's own polling is not news.
    let polling = shared.dev && uri.path().starts_with("/__flin/");
    if !polling {
        crate::logs::request(
            shared.dev,
            method.as_str(),
            uri.path(),
            status.as_u16(),
            started.elapsed().as_secs_f64() * 1000.0,
            &id,
        );
    }
    // The id links a response to its log lines.
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    if shared.security_headers {
        with_security_headers(response, &shared.csp)
    } else {
        response
    }
}

async fn answer(
    shared: &Arc<Shared>,
    peer: SocketAddr,
    secure: bool,
    request: Request<Body>,
    request_id: &str,
) -> Response {
    let method = request.method().clone();
    let live = match shared.live.read() {
        Ok(live) => live.clone(),
        Err(_) => return plain(ResponseData::error(500, "the server is restarting")),
    };
    if !METHODS.contains(&method.as_str()) {
        let allowed = live.table.find(request.uri().path()).map_or_else(
            || METHODS.join(", "),
            |found| found.route.allowed().join(", "),
        );
        let mut response = ResponseData::error(405, &format!("{method} is not supported"));
        response.headers.push(("allow".into(), allowed));
        return refused(&live, peer, request_id, request.headers().clone(), response).await;
    }
    let uri = request.uri().clone();
    let path = uri.path().to_string();
    if uri.to_string().len() > MAX_URL {
        return refused(
            &live,
            peer,
            request_id,
            request.headers().clone(),
            ResponseData::error(414, "the URL is too long"),
        )
        .await;
    }
    if path.len() > 1 && path.ends_with('/') {
        return redirect_to_canonical(&uri);
    }
    if shared.dev {
        if let Some(response) = crate::dev::answer(shared, &path) {
            return response;
        }
    }
    // The live runtime, its socket and its session pick-up: served here, never by a
    // VM worker.
    match path.as_str() {
        "/_flin/live" => {
            return crate::live::socket::upgrade(shared.clone(), peer, secure, request).await;
        }
        "/_flin/live.js" => {
            let etag = request
                .headers()
                .get("if-none-match")
                .and_then(|v| v.to_str().ok());
            return plain(crate::live::assets::script(uri.query(), etag));
        }
        "/_flin/session" if method == Method::POST => {
            return crate::live::socket::session(shared, &request);
        }
        "/_flin/upload" if method == Method::POST => {
            return crate::files::picked_upload(live.files.clone(), shared.uploads, request).await;
        }
        _ if path.starts_with("/_flin/files/") => {
            return crate::files::serve(live.files.clone(), request).await;
        }
        // For load balancers and monitors: answers while every worker is busy.
        "/_flin/health" => {
            return plain(ResponseData::json(
                200,
                &serde_json::json!({ "status": "ok" }),
            ));
        }
        _ => {}
    }
    if let Some(failure) = &live.failure {
        return crate::dev::failure_page(failure);
    }
    let Some(found) = live.table.find(&path) else {
        let headers = request.headers().clone();
        return match crate::static_files::serve(shared.public.as_deref(), request).await {
            Some(response) => response,
            None => {
                refused(
                    &live,
                    peer,
                    request_id,
                    headers,
                    ResponseData::error(404, "Not found"),
                )
                .await
            }
        };
    };
    let route_index = live
        .table
        .routes
        .iter()
        .position(|r| std::ptr::eq(r, found.route))
        .unwrap_or(usize::MAX);
    if found.route.socket && crate::sockets::is_upgrade(&request) {
        return crate::sockets::upgrade(
            shared.clone(),
            live.clone(),
            route_index,
            found.params,
            peer,
            secure,
            request_id.to_string(),
            request,
        )
        .await;
    }
    let params = found.params;
    let headers = request.headers().clone();
    let query = uri.query().map(crate::json::form_pairs).unwrap_or_default();
    // A multipart body streams to disk as it comes (services.md §2).
    let mut uploads = None;
    let mut body = request.into_body();
    if crate::uploads::is_multipart(&headers) {
        let files = live.files.as_ref();
        let stream = std::mem::replace(&mut body, Body::empty());
        match crate::uploads::receive(files, &headers, stream, shared.uploads).await {
            Ok(received) => uploads = Some(Arc::new(received)),
            Err(response) => return refused(&live, peer, request_id, headers, response).await,
        }
    }
    let reading = read_body(shared, body);
    let (body, _held) = match tokio::time::timeout(shared.body_timeout, reading).await {
        Ok(Ok(read)) => read,
        Ok(Err(refusal)) => {
            let response = match refusal {
                BodyRefusal::TooLarge => ResponseData::error(
                    413,
                    &format!("the request body is larger than {} bytes", shared.max_body),
                ),
                // The client's mistake (a bad chunk): 400.
                BodyRefusal::Malformed => ResponseData::error(400, "the request body is malformed"),
                BodyRefusal::Busy => ResponseData::error(
                    503,
                    "the server is busy receiving other requests' bodies: try again shortly",
                ),
            };
            return refused(&live, peer, request_id, headers, response).await;
        }
        // A slow client does not hold a connection forever.
        Err(_) => {
            let mut response = plain(ResponseData::error(408, "the request body came too slowly"));
            response
                .headers_mut()
                .insert("connection", HeaderValue::from_static("close"));
            return response;
        }
    };
    if let Some(reason) = malformed_body(&headers, &body) {
        return refused(
            &live,
            peer,
            request_id,
            headers,
            ResponseData::error(400, &reason),
        )
        .await;
    }
    let request_id = request_id.to_string();
    let data = RequestData {
        method: method.as_str().to_string(),
        path,
        query,
        headers: header_pairs(&headers),
        cookies: cookie_pairs(&headers),
        body: body.to_vec(),
        ip: peer.ip().to_string(),
        params,
        request_id,
        raw_query: uri.query().unwrap_or("").to_string(),
        retry: false,
        secure,
        uploads,
    };
    let Some(_slot) = shared.client_slot(peer.ip()).await else {
        return plain(ResponseData::error(
            503,
            "too many requests of this client are running: try again later",
        ));
    };
    // On this thread when a permit is free; else on a VM worker.
    let data = match &live.pool.inline {
        Some(inline) => match inline.try_run(route_index, Box::new(data)) {
            Ok(response) => {
                let mut response = plain(response);
                if method == Method::HEAD {
                    *response.body_mut() = Body::empty();
                }
                return response;
            }
            Err(data) => *data,
        },
        None => data,
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    if live
        .pool
        .requests
        .send(Job {
            route: route_index,
            request: data,
            reply,
            answered: None,
        })
        .is_err()
    {
        return plain(ResponseData::error(503, "the server is shutting down"));
    }
    match answer.await {
        Ok(response) => {
            let mut response = plain(response);
            if method == Method::HEAD {
                *response.body_mut() = Body::empty();
            }
            response
        }
        Err(_) => plain(ResponseData::error(500, "the request was lost")),
    }
}

/// Why a request body was not read.
enum BodyRefusal {
    /// Past `server.max_body`.
    TooLarge,
    /// Past `server.max_inflight_bodies`, with the bodies of other requests.
    Busy,
    Malformed,
}

/// Reads a request body, each chunk counted against the memory all requests' bodies
/// may hold at once (`server.max_inflight_bodies`): what is held is given back when
/// the request ends (the returned permit is dropped).
async fn read_body(
    shared: &Shared,
    body: Body,
) -> Result<(Bytes, Option<tokio::sync::OwnedSemaphorePermit>), BodyRefusal> {
    use http_body_util::BodyExt;
    let mut body = http_body_util::Limited::new(body, shared.max_body);
    let mut bytes = Vec::new();
    let mut held: Option<tokio::sync::OwnedSemaphorePermit> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|err| {
            if err.is::<http_body_util::LengthLimitError>() {
                BodyRefusal::TooLarge
            } else {
                BodyRefusal::Malformed
            }
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let n = u32::try_from(data.len()).map_err(|_| BodyRefusal::TooLarge)?;
        let permit = shared
            .bodies
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| BodyRefusal::Busy)?;
        match &mut held {
            Some(held) => held.merge(permit),
            None => held = Some(permit),
        }
        bytes.extend_from_slice(&data);
    }
    Ok((Bytes::from(bytes), held))
}

/// An error the server answers before any route runs: JSON for API clients; for a
/// browser, the app's error page, which a VM worker renders.
async fn refused(
    live: &Live,
    peer: SocketAddr,
    request_id: &str,
    headers: HeaderMap,
    response: ResponseData,
) -> Response {
    let request = RequestData {
        method: "GET".into(),
        headers: header_pairs(&headers),
        cookies: cookie_pairs(&headers),
        ip: peer.ip().to_string(),
        request_id: request_id.to_string(),
        ..RequestData::default()
    };
    if !crate::error_page::wants_html(&request) {
        return plain(response);
    }
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job = Job {
        route: usize::MAX,
        request,
        reply,
        answered: Some(response.clone()),
    };
    if live.pool.requests.send(job).is_err() {
        return plain(response);
    }
    match answer.await {
        Ok(page) => plain(page),
        Err(_) => plain(response),
    }
}

/// A JSON body that does not parse is the client's mistake: 400 with the reason.
fn malformed_body(headers: &HeaderMap, body: &Bytes) -> Option<String> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") && !body.is_empty() {
        if let Err(err) = serde_json::from_slice::<serde_json::Value>(body) {
            return Some(format!("the JSON body does not parse: {err}"));
        }
    }
    None
}

pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            Some((
                name.as_str().to_ascii_lowercase(),
                value.to_str().ok()?.to_string(),
            ))
        })
        .collect()
}

pub(crate) fn cookie_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

fn redirect_to_canonical(uri: &Uri) -> Response {
    // `//evil.example/` must not become `Location: //evil.example` (another site).
    let path = crate::unit::safe_location(uri.path().trim_end_matches('/'), false, None);
    let path = if path.is_empty() { "/" } else { path.as_str() };
    let location = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    };
    let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert("location", value);
    }
    response
}

pub(crate) fn plain(data: ResponseData) -> Response {
    let status = StatusCode::from_u16(data.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Body::from(data.body));
    *response.status_mut() = status;
    for (name, value) in data.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// Safe defaults on every response (web.md §7).
fn with_security_headers(mut response: Response, csp: &HeaderValue) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("x-frame-options", "SAMEORIGIN"),
    ] {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if !headers.contains_key("content-security-policy") {
        headers.insert("content-security-policy", csp.clone());
    }
    response
}
