//! Where the views of a server are known across threads (web.md §9): which worker holds
//! each view, which entity types its live values read, and how to reach its socket.
//! When a unit of work commits (any request, event, job or socket message: the store
//! tells the hub), each view reading a changed type gets one refresh queued on its
//! worker; commits arriving while a refresh is queued join it (coalesced). Also keeps the
//! one-time tokens by which the browser picks up a session cookie a handler changed.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::workers::{WorkerSender, WorkerWork};

/// A message for a view's socket.
#[derive(Debug)]
pub enum Outgoing {
    Text(String),
    /// Close the socket with this code and reason.
    Close(u16, String),
}

pub type Outbox = tokio::sync::mpsc::UnboundedSender<Outgoing>;

struct Entry {
    worker: WorkerSender,
    reads: HashSet<String>,
    out: Outbox,
    /// A refresh is queued; the types changed since it was.
    pending: bool,
    changed: HashSet<String>,
}

/// A one-time session cookie waiting for its browser, for this long.
const COOKIE_TOKEN_LIFE: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct LiveHub {
    views: Mutex<HashMap<u64, Entry>>,
    next_view: AtomicU64,
    /// Commits told so far: a view mounting notes it before it renders, so a commit that
    /// lands between its render and its registration is not missed.
    commits: AtomicU64,
    cookies: Mutex<HashMap<String, (String, Instant)>>,
}

thread_local! {
    /// The view whose unit of work is committing on this thread: it re-ran its own live
    /// values already.
    static COMMITTING: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Runs `work` as view `view`'s (its commits do not refresh it again).
pub fn as_view<T>(view: u64, work: impl FnOnce() -> T) -> T {
    COMMITTING.with(|c| c.set(Some(view)));
    let result = work();
    COMMITTING.with(|c| c.set(None));
    result
}

impl LiveHub {
    pub fn new() -> LiveHub {
        LiveHub {
            next_view: AtomicU64::new(1),
            ..LiveHub::default()
        }
    }

    pub fn next_view_id(&self) -> u64 {
        self.next_view.fetch_add(1, Ordering::Relaxed)
    }

    /// Commits told so far (see [`LiveHub::register`]).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// Registers a mounted view. `rendered_after` is [`LiveHub::commits`] as it was
    /// before the view rendered: a commit told since may not be in what it rendered, so
    /// the view refreshes at once (a refresh that finds nothing changed sends nothing).
    pub fn register(
        &self,
        view: u64,
        worker: WorkerSender,
        reads: HashSet<String>,
        out: Outbox,
        rendered_after: u64,
    ) {
        if let Ok(mut views) = self.views.lock() {
            let missed = self.commits() != rendered_after;
            let changed = if missed {
                reads.clone()
            } else {
                HashSet::new()
            };
            if missed {
                let _ = worker.send(WorkerWork::Refresh { view });
            }
            views.insert(
                view,
                Entry {
                    worker,
                    reads,
                    out,
                    pending: missed,
                    changed,
                },
            );
        }
    }

    /// What a view reads changed (its instances changed).
    pub fn set_reads(&self, view: u64, reads: HashSet<String>) {
        if let Ok(mut views) = self.views.lock() {
            if let Some(entry) = views.get_mut(&view) {
                entry.reads = reads;
            }
        }
    }

    pub fn unregister(&self, view: u64) {
        if let Ok(mut views) = self.views.lock() {
            views.remove(&view);
        }
    }

    /// A unit of work committed changes to `entities`: queue a refresh of every view
    /// that reads one (but the view that made them).
    pub fn committed(&self, entities: &[String]) {
        let except = COMMITTING.with(std::cell::Cell::get);
        let Ok(mut views) = self.views.lock() else {
            return;
        };
        // Counted under the lock, so a view registering now either is in `views` for
        // this commit or sees the count moved.
        self.commits.fetch_add(1, Ordering::SeqCst);
        for (id, entry) in views.iter_mut() {
            if Some(*id) == except || !entities.iter().any(|e| entry.reads.contains(e)) {
                continue;
            }
            entry.changed.extend(entities.iter().cloned());
            if !entry.pending {
                entry.pending = true;
                let _ = entry.worker.send(WorkerWork::Refresh { view: *id });
            }
        }
    }

    /// The entity types changed since the view's refresh was queued.
    pub fn take_changes(&self, view: u64) -> HashSet<String> {
        let Ok(mut views) = self.views.lock() else {
            return HashSet::new();
        };
        match views.get_mut(&view) {
            Some(entry) => {
                entry.pending = false;
                std::mem::take(&mut entry.changed)
            }
            None => HashSet::new(),
        }
    }

    /// Every open page reloads (`flin dev` rebuilt the project).
    pub fn reload_all(&self) {
        let Ok(mut views) = self.views.lock() else {
            return;
        };
        for entry in views.values() {
            let _ = entry
                .out
                .send(Outgoing::Text(r#"{"t":"reload"}"#.to_string()));
            let _ = entry
                .out
                .send(Outgoing::Close(1012, "the project changed".into()));
        }
        views.clear();
    }

    /// Keeps a session cookie for the browser to pick up once; returns its token.
    pub fn cookie_token(&self, set_cookie: String) -> String {
        let mut bytes = [0u8; 24];
        let _ = getrandom::fill(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if let Ok(mut cookies) = self.cookies.lock() {
            let now = Instant::now();
            cookies.retain(|_, (_, made)| now.duration_since(*made) < COOKIE_TOKEN_LIFE);
            cookies.insert(token.clone(), (set_cookie, now));
        }
        token
    }

    /// The cookie a token names (once).
    pub fn take_cookie(&self, token: &str) -> Option<String> {
        let mut cookies = self.cookies.lock().ok()?;
        let (cookie, made) = cookies.remove(token)?;
        (made.elapsed() < COOKIE_TOKEN_LIFE).then_some(cookie)
    }
}
