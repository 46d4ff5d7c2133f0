//! The VM workers (DESIGN.md: FLIN code never runs on the async reactor): one thread per
//! core, each with its own loaded program. Requests come from a queue all workers share;
//! each worker also has its own queue for the live views it holds (a view's values are
//! the VM's and stay on its thread), served first: events are what a person waits on.
//! A panic inside a unit of work is caught there: one failed request or one closed
//! view, never a dead worker.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use flin_vm::Program;

use crate::live::hub::{LiveHub, Outbox, Outgoing};
use crate::live::view::LiveView;
use crate::routes::RouteTable;
use crate::server::{App, Options};
use crate::unit::{RequestData, ResponseData, Site};

/// A request handed to a VM worker, and where its answer goes.
pub(crate) struct Job {
    pub route: usize,
    pub request: RequestData,
    pub reply: tokio::sync::oneshot::Sender<ResponseData>,
    /// Answered already (by the server, before any route ran): the worker only turns
    /// it into an error page for a browser.
    pub answered: Option<ResponseData>,
}

/// Work for one worker: its live views and its WebSocket connections.
pub enum WorkerWork {
    /// An event of a `ws` connection held by this worker.
    Socket(Box<crate::sockets::SocketWork>),
    /// A socket sent its view token: make the view.
    Mount(Box<Mount>),
    /// An event of a view: run its handler (`data`: `event` from the browser).
    Event {
        view: u64,
        handler: String,
        data: serde_json::Value,
        reference: u64,
    },
    /// Entity types a view reads were changed by a commit.
    Refresh { view: u64 },
    /// The view's socket closed.
    Close { view: u64 },
}

impl WorkerWork {
    /// The view it is for.
    pub fn view(&self) -> u64 {
        match self {
            WorkerWork::Socket(_) => 0,
            WorkerWork::Mount(mount) => mount.view,
            WorkerWork::Event { view, .. }
            | WorkerWork::Refresh { view }
            | WorkerWork::Close { view } => *view,
        }
    }
}

pub struct Mount {
    pub view: u64,
    pub route: usize,
    /// The upgrade request (cookies, headers, address), with the page's path, query
    /// and params from the view token.
    pub request: RequestData,
    /// The values of the page's bound inputs the browser had (after a reconnect).
    pub binds: Vec<(String, serde_json::Value)>,
    pub out: Outbox,
}

pub type WorkerSender = crossbeam_channel::Sender<WorkerWork>;

/// The workers of one build of the project.
pub struct Pool {
    pub requests: crossbeam_channel::Sender<Job>,
    /// Requests run on the network thread that read them, while a permit is free.
    pub inline: Option<Arc<Inline>>,
    /// Due job runs: any idle worker takes the next.
    pub runs: crossbeam_channel::Sender<Box<crate::jobs::ScheduledRun>>,
    workers: Vec<WorkerSender>,
    views: Arc<Vec<AtomicUsize>>,
}

impl Pool {
    /// The worker holding the fewest views (a new view goes there).
    pub fn pick(&self) -> Option<(usize, WorkerSender)> {
        let (index, _) = self
            .views
            .iter()
            .enumerate()
            .min_by_key(|(_, n)| n.load(Ordering::Relaxed))?;
        Some((index, self.workers.get(index)?.clone()))
    }

    /// A pool with no workers (a build that failed): every request is refused.
    pub fn none() -> Pool {
        Pool {
            requests: crossbeam_channel::unbounded().0,
            inline: None,
            runs: crossbeam_channel::unbounded().0,
            workers: Vec::new(),
            views: Arc::new(Vec::new()),
        }
    }
}

/// What every worker's [`Site`] is made of, built once (it crosses to the threads).
#[derive(Clone)]
pub(crate) struct SiteParts {
    code: Arc<flin_vm::ProgramCode>,
    store: Option<Arc<flin_runtime::Store>>,
    options: Options,
    layouts: Vec<(String, flin_diagnostics::FileId)>,
    middleware: Vec<(String, u32)>,
    sessions: Arc<crate::session::Sessions>,
    rate: Arc<Mutex<crate::unit::RateCounts>>,
    sources: Arc<flin_diagnostics::Sources>,
    signer: crate::live::token::Signer,
    build: u64,
    routes: Arc<RouteTable>,
    error_page: Option<flin_diagnostics::FileId>,
    sockets: Arc<crate::sockets::Sockets>,
}

impl SiteParts {
    pub fn new(
        app: &App,
        options: &Options,
        build: u64,
        sessions: &Arc<crate::session::Sessions>,
        sockets: &Arc<crate::sockets::Sockets>,
    ) -> SiteParts {
        let code = app.built.code.clone();
        let sources = &app.built.project.sources;
        let layouts = sources
            .iter()
            .filter_map(|source| {
                let name = source
                    .path
                    .strip_prefix("layouts/")?
                    .strip_suffix(".flin")?;
                Some((name.to_string(), source.id))
            })
            .collect();
        let error_page = sources
            .iter()
            .find(|s| s.path == "app/_error.flin")
            .map(|s| s.id);
        let mut middleware: Vec<(String, u32)> = code
            .middleware
            .iter()
            .filter_map(|(file, function)| {
                let path = &sources.get(*file)?.path;
                let folder = path.strip_suffix("_middleware.flin")?;
                Some((folder.to_string(), *function))
            })
            .collect();
        middleware.sort_by_key(|(folder, _)| folder.matches('/').count());
        SiteParts {
            code,
            store: app.store.clone(),
            options: options.clone(),
            layouts,
            middleware,
            sessions: sessions.clone(),
            rate: Arc::new(Mutex::new(HashMap::new())),
            sources: Arc::new(sources.clone()),
            signer: crate::live::token::Signer::new(&app.session_key),
            build,
            routes: Arc::new(RouteTable {
                routes: app.table.routes.clone(),
            }),
            error_page,
            sockets: sockets.clone(),
        }
    }

    /// The same app on another database (each test has its own).
    pub fn with_store(
        mut self,
        store: Option<Arc<flin_runtime::Store>>,
        sessions: Arc<crate::session::Sessions>,
    ) -> SiteParts {
        self.store = store;
        self.sessions = sessions;
        self
    }

    /// A thread's site, with the program loaded on that thread.
    pub fn site(self, program: Rc<Program>) -> Site {
        Site {
            program,
            store: self.store,
            dev: self.options.dev,
            time_limit: self.options.time_limit,
            job_timeout: self.options.job_timeout,
            request_memory: self.options.request_memory,
            layout_choices: self.code.layouts.clone(),
            layouts: self.layouts,
            sources: self.sources,
            middleware: self.middleware,
            sessions: self.sessions,
            rate: self.rate,
            signer: self.signer,
            build: self.build,
            routes: self.routes,
            error_page: self.error_page,
            sockets: self.sockets,
        }
    }
}

/// Starts `workers` VM threads, each with its own loaded program.
pub(crate) fn start(
    app: &App,
    options: &Options,
    workers: usize,
    hub: &Arc<LiveHub>,
    build: u64,
    sessions: &Arc<crate::session::Sessions>,
    sockets: &Arc<crate::sockets::Sockets>,
) -> Pool {
    let (requests, receiver) = crossbeam_channel::unbounded::<Job>();
    let (runs, due) = crossbeam_channel::unbounded::<Box<crate::jobs::ScheduledRun>>();
    let parts = SiteParts::new(app, options, build, sessions, sockets);
    // Other servers' broadcasts reach this server's sockets (PostgreSQL).
    if let Some(store) = &app.store {
        let sockets = sockets.clone();
        store.on_broadcast(Arc::new(move |room: &str, text: &str| {
            sockets.broadcast(room, text);
        }));
    }
    // Commits anywhere refresh the live views that read what changed.
    if let Some(store) = &app.store {
        let hub = hub.clone();
        let files = app.files.clone();
        store.on_commit(Arc::new(move |entities: &[String]| {
            hub.committed(entities);
            files.committed(entities);
        }));
    }
    let views = Arc::new(
        (0..workers)
            .map(|_| AtomicUsize::new(0))
            .collect::<Vec<_>>(),
    );
    let mut senders = Vec::new();
    for index in 0..workers {
        let (private, inbox) = crossbeam_channel::unbounded::<WorkerWork>();
        senders.push(private.clone());
        let receiver = receiver.clone();
        let due = due.clone();
        let parts = parts.clone();
        let hub = hub.clone();
        let views = views.clone();
        let fault_injection = options.fault_injection;
        let files = app.files.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("flin-vm-{index}"))
            .stack_size(256 * 1024 * 1024)
            .spawn(move || {
                crate::files::Files::sign_urls_on_this_thread(&files);
                let program = Rc::new(Program::load(parts.code.clone()));
                let mut worker = Worker {
                    site: parts.site(program),
                    index,
                    private,
                    views: HashMap::new(),
                    count: views,
                    hub,
                    fault_injection,
                };
                worker.serve(&receiver, &due, &inbox);
            });
        if let Err(err) = spawned {
            crate::logs::line(
                options.dev,
                "error",
                &format!("cannot start a VM worker: {err}"),
                None,
            );
        }
    }
    Pool {
        requests,
        // The PostgreSQL client blocks on a runtime of its own, which cannot run inside
        // the network threads' runtime: requests then go to the VM workers.
        inline: options.postgres.is_none().then(|| {
            Arc::new(Inline {
                parts,
                files: app.files.clone(),
                running: AtomicUsize::new(0),
                limit: inline_limit(),
                fault_injection: options.fault_injection,
            })
        }),
        runs,
        workers: senders,
        views,
    }
}

/// How many requests may run on network threads at once: all of the runtime's threads
/// but one, so a network thread is always free to read requests and answer
/// `/_flin/health` (none outside a multi-threaded runtime).
fn inline_limit() -> usize {
    tokio::runtime::Handle::try_current()
        .map(|runtime| runtime.metrics().num_workers())
        .unwrap_or(1)
        .saturating_sub(1)
}

/// The name of network threads made to run FLIN code ([`NETWORK_STACK`] of stack, as
/// a VM worker): a runtime whose threads are not so named never runs requests inline.
pub const NETWORK_THREAD: &str = "flin-net";
/// The stack of a thread that runs FLIN code (deep recursion stays within it).
pub const NETWORK_STACK: usize = 256 * 1024 * 1024;

/// Running a request on the network (tokio) thread that read it, with a site of that
/// thread's own: no hand-off to a VM worker and back, which costs two sleeps and two
/// wake-ups per request (profiled: a third of a fortunes request's CPU). Only while
/// fewer than [`inline_limit`] requests run so; the others go to the VM workers, as do
/// live views, sockets and jobs.
pub struct Inline {
    parts: SiteParts,
    files: Arc<crate::files::Files>,
    running: AtomicUsize,
    limit: usize,
    fault_injection: bool,
}

thread_local! {
    /// This network thread's site, and the build it was made for.
    static INLINE_SITE: std::cell::RefCell<Option<(u64, Site)>> =
        const { std::cell::RefCell::new(None) };
}

impl Inline {
    /// The request's answer, run here; or the request back when no permit is free.
    pub(crate) fn try_run(
        &self,
        route: usize,
        request: Box<RequestData>,
    ) -> Result<ResponseData, Box<RequestData>> {
        if std::thread::current().name() != Some(NETWORK_THREAD) {
            return Err(request);
        }
        let taken = self
            .running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .is_ok();
        if !taken {
            return Err(request);
        }
        let result = INLINE_SITE.with(|slot| {
            let Ok(mut slot) = slot.try_borrow_mut() else {
                return Err(request);
            };
            let build = self.parts.build;
            if slot.as_ref().is_none_or(|(made_for, _)| *made_for != build) {
                crate::files::Files::sign_urls_on_this_thread(&self.files);
                let program = Rc::new(Program::load(self.parts.code.clone()));
                *slot = Some((build, self.parts.clone().site(program)));
            }
            let Some((_, site)) = slot.as_ref() else {
                return Err(request);
            };
            Ok(run_request(site, route, *request, self.fault_injection))
        });
        self.running.fetch_sub(1, Ordering::AcqRel);
        result
    }
}

/// A request's answer on `site`; a panic inside is one failed request.
fn run_request(
    site: &Site,
    route: usize,
    request: RequestData,
    fault_injection: bool,
) -> ResponseData {
    let request_id = request.request_id.clone();
    let inject = fault_injection && request.path == "/__flin/panic";
    match site.routes.routes.get(route) {
        None => ResponseData::error(404, "Not found"),
        Some(route) => {
            let run = std::panic::AssertUnwindSafe(|| {
                // Deliberate and unreachable from `flin dev`/`flin start`:
                // `fault_injection` is set only by code building `Options` (the
                // integration tests); flin.toml, the environment and
                // `config::options` always leave it false.
                #[allow(clippy::panic)]
                if inject {
                    std::panic::panic_any("fault injection");
                }
                crate::unit::handle(site, route, request)
            });
            std::panic::catch_unwind(run).unwrap_or_else(|_| {
                crate::logs::line(site.dev, "error", "internal panic", Some(&request_id));
                ResponseData::json(
                    500,
                    &serde_json::json!({ "error": "Internal error", "status": 500, "request_id": request_id }),
                )
            })
        }
    }
}

struct Worker {
    site: Site,
    index: usize,
    /// This worker's own queue (given to the views it holds).
    private: WorkerSender,
    views: HashMap<u64, LiveView>,
    count: Arc<Vec<AtomicUsize>>,
    hub: Arc<LiveHub>,
    fault_injection: bool,
}

impl Worker {
    fn serve(
        &mut self,
        requests: &crossbeam_channel::Receiver<Job>,
        due: &crossbeam_channel::Receiver<Box<crate::jobs::ScheduledRun>>,
        inbox: &crossbeam_channel::Receiver<WorkerWork>,
    ) {
        let mut requests_open = true;
        loop {
            if requests_open {
                crossbeam_channel::select_biased! {
                    recv(inbox) -> work => match work {
                        Ok(work) => self.view_work(work),
                        // Never: the worker holds a sender of its own queue.
                        Err(_) => return,
                    },
                    recv(requests) -> job => match job {
                        Ok(job) => self.request(job),
                        // The build was replaced: only its views' work is left.
                        Err(_) => requests_open = false,
                    },
                    recv(due) -> run => {
                        if let Ok(run) = run {
                            crate::jobs::run(&self.site, &run);
                        }
                    },
                }
            } else {
                if self.views.is_empty() {
                    return;
                }
                match inbox.recv() {
                    Ok(work) => self.view_work(work),
                    Err(_) => return,
                }
            }
        }
    }

    fn request(&mut self, job: Job) {
        if let Some(answer) = job.answered {
            let response = crate::unit::with_error_page(&self.site, &job.request, answer);
            let _ = job.reply.send(response);
            return;
        }
        let response = run_request(&self.site, job.route, job.request, self.fault_injection);
        let _ = job.reply.send(response);
    }

    fn view_work(&mut self, work: WorkerWork) {
        let target = work.view();
        let site = &self.site;
        let views = &mut self.views;
        let hub = &self.hub;
        let private = &self.private;
        let run = std::panic::AssertUnwindSafe(|| match work {
            WorkerWork::Socket(work) => crate::sockets::run_event(site, *work),
            WorkerWork::Mount(mount) => {
                let id = mount.view;
                let before = hub.commits();
                if let Some(view) = LiveView::mount(site, hub, *mount) {
                    hub.register(id, private.clone(), view.reads(site), view.outbox(), before);
                    views.insert(id, view);
                }
            }
            WorkerWork::Event {
                view,
                handler,
                data,
                reference,
            } => {
                if let Some(live) = views.get_mut(&view) {
                    live.event(site, hub, &handler, &data, reference);
                }
            }
            WorkerWork::Refresh { view } => {
                let changed = hub.take_changes(view);
                if let Some(live) = views.get_mut(&view) {
                    live.refresh(site, hub, &changed);
                }
            }
            WorkerWork::Close { view } => {
                if let Some(mut live) = views.remove(&view) {
                    live.unmount(site);
                }
                hub.unregister(view);
            }
        });
        if std::panic::catch_unwind(run).is_err() {
            // A view whose work panicked is closed; the others go on.
            crate::logs::line(
                self.site.dev,
                "error",
                "live view: internal panic; its socket is closed",
                Some(&format!("view-{target}")),
            );
            if let Some(view) = self.views.remove(&target) {
                let _ = view
                    .outbox()
                    .send(Outgoing::Close(1011, "internal error".into()));
            }
            self.hub.unregister(target);
        }
        flin_vm::cycles::collect_young();
        if let Some(count) = self.count.get(self.index) {
            count.store(self.views.len(), Ordering::Relaxed);
        }
    }
}
