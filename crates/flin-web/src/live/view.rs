//! A live view (web.md §9): a page's state held in memory while its socket is open, on
//! one VM worker. Mounting runs the page's code and markup as a `GET` does; each event
//! runs its handler as one unit of work against the state, re-runs the live values
//! whose inputs changed, re-renders and sends what changed. A handler that fails rolls
//! its writes back and leaves the state as it was before the event (a copy is taken
//! first), and the page shows the message. Commits elsewhere re-run the live values that
//! read what changed (`refresh`).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use flin_vm::program::ViewCode;
use flin_vm::snapshot::{Copier, Fingerprint, fingerprint, holds_unsaved_entity};
use flin_vm::{Limits, RuntimeError, Value, Vm};
use serde_json::{Value as J, json};

use super::hub::{LiveHub, Outbox, Outgoing};
use super::tree::{self, Fragment, Templates};
use crate::host::WebHost;
use crate::render::{Handler, HandlerKind, Instance, PageRender};
use crate::routes::Route;
use crate::unit::{RequestData, ResponseData, Site, Succeeds, is_read_only, with_unit};
use crate::workers::Mount;

pub struct LiveView {
    id: u64,
    route: usize,
    request: RequestData,
    /// The session of the browser that holds the view.
    session: crate::session::Session,
    /// The VM's file variables: the page's state.
    globals: Vec<Value>,
    instances: HashMap<String, Instance>,
    /// What the last render put on the page.
    handlers: HashMap<String, Handler>,
    tree: Fragment,
    title: Option<String>,
    templates: Templates,
    out: Outbox,
    /// The browser has the whole render (the mount message went out): later renders
    /// go as patches.
    mounted: bool,
}

/// The view's state, copied before an event.
struct Snapshot {
    globals: Vec<Value>,
    instances: HashMap<String, Instance>,
}

/// What a unit of work of the view produced.
struct Rendered {
    tree: Fragment,
    handlers: HashMap<String, Handler>,
    instances: HashMap<String, Instance>,
    /// Instances that did not render again (their `on_unmount` is due).
    dropped: HashMap<String, Instance>,
    title: Option<String>,
    session: J,
}

/// How a unit of work of the view went.
enum Outcome {
    Done(Box<Rendered>),
    /// The handler asked the browser to go elsewhere (its writes are kept).
    Redirect(String),
    Failed(RuntimeError),
}

impl Succeeds for Option<ResponseData> {
    fn succeeds(&self) -> bool {
        self.as_ref().is_none_or(|r| r.status < 400)
    }
}

impl LiveView {
    /// Makes the view of a page whose socket sent its token: runs the page's middleware,
    /// code and markup (the *mount*) and sends the browser the whole render. `None` when
    /// the page cannot be mounted (the browser is told to reload or go elsewhere).
    pub fn mount(site: &Site, hub: &LiveHub, mount: Mount) -> Option<LiveView> {
        let session = site.sessions.open(&mount.request.cookies);
        let mut view = LiveView {
            id: mount.view,
            route: mount.route,
            request: mount.request,
            session,
            globals: Vec::new(),
            instances: HashMap::new(),
            handlers: HashMap::new(),
            tree: Fragment::default(),
            title: None,
            templates: Templates::default(),
            out: mount.out,
            mounted: false,
        };
        // The mount runs the page's code as a GET does: on the writer only when that
        // code may write (then it runs once).
        let writes = view.page_may_write(site);
        let mut outcome = view.mount_unit(site, writes);
        if !writes && matches!(&outcome, Outcome::Failed(err) if is_read_only(err)) {
            outcome = view.mount_unit(site, true);
        }
        match outcome {
            Outcome::Done(rendered) => view.accept(site, hub, *rendered),
            Outcome::Redirect(url) => {
                view.send(json!({ "t": "go", "to": url }));
                return None;
            }
            Outcome::Failed(err) => {
                // The page does not mount now (a guard, an error): a fresh `GET`
                // shows the browser why.
                crate::logs::line(
                    site.dev,
                    "info",
                    &format!(
                        "live view: the mount failed ({}: {}); the page reloads",
                        err.kind, err.message
                    ),
                    Some(&view.log_id()),
                );
                view.send(json!({ "t": "reload" }));
                return None;
            }
        }
        view.lifecycle(site, hub, true);
        // The values of bound inputs the browser had (typed before the socket opened,
        // or before a reconnect) are set again.
        for (id, value) in &mount.binds {
            if matches!(
                view.handlers.get(id).map(|h| &h.kind),
                Some(HandlerKind::Bind { .. })
            ) {
                view.run_event(site, hub, id, value, None);
            }
        }
        // The whole render, written as JSON text (no value tree in between); the
        // templates first, in a message of their own: a socket keeps a buffer as large
        // as the largest message it sent, for as long as the page is open.
        let mut tree = String::with_capacity(1024);
        tree::full_text(&view.tree, &mut view.templates, &mut tree);
        if let Some(templates) = view.templates.take_fresh_text() {
            view.send_text(format!("{{\"t\":\"T\",\"T\":{templates}}}"));
        }
        let title = match &view.title {
            Some(title) => {
                let mut quoted = String::new();
                tree::push_json_str(&mut quoted, title);
                quoted
            }
            None => "null".to_string(),
        };
        view.mounted = true;
        view.send_text(format!("{{\"t\":\"m\",\"r\":{tree},\"title\":{title}}}"));
        Some(view)
    }

    /// What its log lines are tagged with.
    fn log_id(&self) -> String {
        format!("view-{}", self.id)
    }

    pub fn outbox(&self) -> Outbox {
        self.out.clone()
    }

    fn send(&self, message: J) {
        self.send_text(message.to_string());
    }

    fn send_text(&self, message: String) {
        let _ = self.out.send(Outgoing::Text(message));
    }

    /// Whether the page's code (its middleware, top-level code, markup, layout and
    /// components) may write the database.
    fn page_may_write(&self, site: &Site) -> bool {
        self.route(site)
            .is_none_or(|route| crate::unit::may_write(site, route, true, None))
    }

    fn route<'s>(&self, site: &'s Site) -> Option<&'s Route> {
        site.routes.routes.get(self.route)
    }

    fn page_view<'s>(&self, site: &'s Site) -> Option<&'s ViewCode> {
        let route = self.route(site)?;
        site.program.code.view_of(route.file)
    }

    /// The page's layout: it renders around the page in the view, its code run once at
    /// the mount (its variables are state as the page's are).
    fn layout_view<'s>(&self, site: &'s Site) -> Option<&'s ViewCode> {
        let route = self.route(site)?;
        let layout = crate::page::layout_of(site, route)?;
        site.program.code.view_of(layout)
    }

    /// The entity types the view's live values read (the page's, its layout's and its
    /// instances').
    pub fn reads(&self, site: &Site) -> HashSet<String> {
        let code = &site.program.code;
        let mut reads = HashSet::new();
        let views = self
            .page_view(site)
            .into_iter()
            .chain(self.layout_view(site))
            .chain(
                self.instances
                    .values()
                    .filter_map(|i| i.view.and_then(|v| code.views.get(v as usize))),
            );
        for view in views {
            for live in &view.live {
                reads.extend(live.entities.iter().cloned());
            }
        }
        reads
    }

    fn host<'s>(&self, site: &'s Site, route: &Route) -> WebHost<'s> {
        let mut page = PageRender::new(true);
        page.sign_forms(&self.request.path, site.signer.clone());
        page.form_token(site.signer.clone(), self.session.binding());
        let mut host = WebHost::new(
            site,
            route.source.clone(),
            self.request.clone(),
            self.session.data.clone(),
            page,
        );
        host.live = true;
        host
    }

    fn limits(site: &Site) -> Limits {
        Limits {
            time_limit: Some(site.time_limit),
            max_memory: Some(site.request_memory),
            ..Limits::default()
        }
    }

    /// The mount: middleware, the page's code, its markup.
    fn mount_unit(&mut self, site: &Site, write: bool) -> Outcome {
        let Some(route) = self.route(site) else {
            return Outcome::Failed(RuntimeError::runtime("the page is gone"));
        };
        let mut host = self.host(site, route);
        let page = host.page.clone();
        let next = host.next.clone();
        let mut globals = Vec::new();
        let layout = self.layout_view(site);
        let result = with_unit(site, &mut host, write, |h| {
            let mut vm = Vm::new(site.program.clone(), h);
            vm.limits = Self::limits(site);
            vm.start_unit();
            if let Some(stopped) = crate::unit::run_middleware(site, &mut vm, route, &next)? {
                return Ok(Some(stopped));
            }
            vm.run_function(route.main, &[])?;
            if let Some(view) = site.program.code.view_of(route.file) {
                vm.run_function(view.render, &[])?;
            }
            if let Some(layout) = layout {
                vm.host.wrap_children();
                crate::unit::render_layout(site, &mut vm, layout.file)?;
            }
            globals = std::mem::take(&mut vm.globals);
            Ok(None)
        });
        print_logs(&host);
        match result {
            Err(err) if err.kind == "redirect" => {
                Outcome::Redirect(crate::unit::redirect_target(&err, None))
            }
            Err(err) => Outcome::Failed(err),
            Ok(Some(stopped)) => {
                let location = stopped
                    .headers
                    .iter()
                    .find(|(k, _)| k == "location")
                    .map(|(_, v)| v.clone());
                match location {
                    Some(url) => Outcome::Redirect(url),
                    None => Outcome::Failed(RuntimeError::runtime(
                        "the page's middleware answered instead",
                    )),
                }
            }
            Ok(None) => {
                self.globals = globals;
                Outcome::Done(Box::new(collect(&page, HashMap::new(), &host)))
            }
        }
    }

    /// Takes a render as the view's current one.
    fn accept(&mut self, site: &Site, hub: &LiveHub, rendered: Rendered) {
        let reads_before = self.reads(site);
        self.tree = rendered.tree;
        self.handlers = rendered.handlers;
        self.instances = rendered.instances;
        self.title = rendered.title;
        // The session is stored as the unit left it; when its cookie changes (a login
        // or logout), the browser picks the new one up with a one-time request.
        let secure = self.request.secure;
        if let Some(cookie) = site
            .sessions
            .close(&mut self.session, &rendered.session, secure)
        {
            let token = hub.cookie_token(cookie);
            self.send(json!({ "t": "c", "c": token }));
        }
        let reads = self.reads(site);
        if reads != reads_before {
            hub.set_reads(self.id, reads);
        }
        if !rendered.dropped.is_empty() {
            self.unmount_instances(site, rendered.dropped);
        }
    }

    /// Runs `on_mount` of the page (once, at mount) and of instances made by the last
    /// render, then renders again if any ran.
    fn lifecycle(&mut self, site: &Site, hub: &LiveHub, mounting: bool) {
        let code = site.program.code.clone();
        let mut due: Vec<(String, u32)> = Vec::new();
        if let (true, Some(view)) = (mounting, self.page_view(site)) {
            due.extend(view.on_mount.iter().map(|f| (String::new(), *f)));
        }
        for round in 0..4 {
            let mut fresh: Vec<(String, u32)> = Vec::new();
            for (id, instance) in self.instances.iter_mut() {
                if !instance.new {
                    continue;
                }
                instance.new = false;
                if let Some(view) = instance.view.and_then(|v| code.views.get(v as usize)) {
                    fresh.extend(view.on_mount.iter().map(|f| (id.clone(), *f)));
                }
            }
            if round > 0 {
                due.clear();
            }
            due.extend(fresh);
            if due.is_empty() {
                return;
            }
            let calls = std::mem::take(&mut due);
            let outcome = self.with_state(site, hub, true, None, |vm, page, instances| {
                for (instance, function) in &calls {
                    let handler = Handler {
                        callee: Value::None,
                        instance: instance.as_str().into(),
                        kind: HandlerKind::Event,
                    };
                    run_in_instance(vm, page, instances, &handler, |vm| {
                        vm.run_function(*function, &[])
                    })?;
                }
                Ok(())
            });
            if !self.settle(site, hub, outcome, None) {
                return;
            }
        }
    }

    /// An event of the browser: runs its handler and answers with what changed.
    pub fn event(&mut self, site: &Site, hub: &LiveHub, handler: &str, data: &J, reference: u64) {
        let started = std::time::Instant::now();
        self.run_event(site, hub, handler, data, Some(reference));
        // Logged as requests are: from the event received to its answer sent.
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        crate::logs::event(site.dev, &self.request.path, handler, ms, &self.log_id());
    }

    fn run_event(
        &mut self,
        site: &Site,
        hub: &LiveHub,
        id: &str,
        data: &J,
        reference: Option<u64>,
    ) {
        let Some(handler) = self.handlers.get(id).cloned() else {
            // Not on the page the view last rendered: stale (the page changed under
            // the click) or forged. Nothing runs.
            crate::logs::line(
                site.dev,
                "warn",
                &format!(
                    "live view: refused an event for handler `{id}`, which the page does not have"
                ),
                Some(&self.log_id()),
            );
            if let Some(reference) = reference {
                self.send(json!({
                    "t": "a",
                    "r": reference,
                    "n": "The page changed before this action arrived: nothing was done.",
                }));
            }
            return;
        };
        let args = match &handler.kind {
            HandlerKind::Event => Vec::new(),
            HandlerKind::Bind { kind, .. } => match bound_value(kind, data) {
                Some(value) => vec![value],
                None => {
                    // Not a value of the variable's type (`12a` for an int): kept as
                    // typed in the browser, the variable unchanged.
                    if let Some(reference) = reference {
                        self.send(json!({ "t": "a", "r": reference }));
                    }
                    return;
                }
            },
        };
        let event = event_of(data);
        // The session as it is now: a logout in another tab has ended it.
        site.sessions.refresh(&mut self.session);
        let snapshot = self.snapshot();
        let page_globals = self.page_globals(site);
        let page_live = self.page_live(site);
        let run = |view: &mut LiveView, write: bool| {
            view.with_state(
                site,
                hub,
                write,
                Some(event.clone()),
                |vm, page, instances| {
                    let before = prints(vm, &page_globals);
                    call(vm, page, instances, &handler, &args)?;
                    let after = prints(vm, &page_globals);
                    let changed: HashSet<u32> = page_globals
                        .iter()
                        .zip(before.iter().zip(&after))
                        .filter(|(_, (a, b))| a != b)
                        .map(|(g, _)| *g)
                        .collect();
                    let written: HashSet<String> = vm.host.written_entities().into_iter().collect();
                    rerun_live_values(vm, page, instances, &page_live, changed, &written)
                },
            )
        };
        // On the writer when the handler may write (or calls a function value, such as
        // a component's function prop), or the render after it may.
        let writes = match &handler.callee {
            Value::Func(closure) => {
                let f = closure.function.index;
                site.program.may_write(f) || site.program.calls_values(f)
            }
            _ => true,
        } || self.page_may_write(site);
        let mut outcome = run(self, writes);
        if !writes && matches!(&outcome, Outcome::Failed(err) if is_read_only(err)) {
            let copy = self.snapshot_of(&snapshot);
            self.restore(copy);
            outcome = run(self, true);
        }
        if let Outcome::Failed(_) = &outcome {
            self.restore(snapshot);
        }
        if self.settle(site, hub, outcome, reference) {
            self.lifecycle(site, hub, false);
        }
    }

    /// Entity types this view reads were changed by a commit elsewhere.
    pub fn refresh(&mut self, site: &Site, hub: &LiveHub, changed: &HashSet<String>) {
        if changed.is_empty() {
            return;
        }
        let snapshot = self.snapshot();
        let page_live = self.page_live(site);
        let outcome = self.with_state(site, hub, false, None, |vm, page, instances| {
            rerun_live_values(vm, page, instances, &page_live, HashSet::new(), changed)
        });
        if let Outcome::Failed(_) = &outcome {
            self.restore(snapshot);
        }
        if self.settle(site, hub, outcome, None) {
            self.lifecycle(site, hub, false);
        }
    }

    /// The socket closed: `on_unmount` of every instance and of the page.
    pub fn unmount(&mut self, site: &Site) {
        let instances = std::mem::take(&mut self.instances);
        self.unmount_instances(site, instances);
        let Some(view) = self.page_view(site) else {
            return;
        };
        if view.on_unmount.is_empty() {
            return;
        }
        let calls = view.on_unmount.clone();
        let hub = LiveHub::new();
        let outcome = self.with_state(site, &hub, true, None, |vm, _, _| {
            for function in &calls {
                vm.run_function(*function, &[])?;
            }
            Ok(())
        });
        if let Outcome::Failed(err) = outcome {
            crate::logs::line(
                site.dev,
                "error",
                &format!("live view: on_unmount failed: {}", err.message),
                Some(&self.log_id()),
            );
        }
    }

    fn unmount_instances(&mut self, site: &Site, dropped: HashMap<String, Instance>) {
        let code = site.program.code.clone();
        let calls: Vec<(Instance, u32)> = dropped
            .into_values()
            .flat_map(|instance| {
                let functions = instance
                    .view
                    .and_then(|v| code.views.get(v as usize))
                    .map(|v| v.on_unmount.clone())
                    .unwrap_or_default();
                functions.into_iter().map(move |f| (instance.clone(), f))
            })
            .collect();
        if calls.is_empty() {
            return;
        }
        let Some(route) = self.route(site) else {
            return;
        };
        let mut host = self.host(site, route);
        let page = host.page.clone();
        let mut globals = std::mem::take(&mut self.globals);
        let result = with_unit(site, &mut host, true, |h| {
            let mut vm = Vm::new(site.program.clone(), h);
            vm.limits = Self::limits(site);
            vm.globals = std::mem::take(&mut globals);
            let mut outcome = Ok(());
            for (instance, function) in &calls {
                let Some(view) = instance.view.and_then(|v| code.views.get(v as usize)) else {
                    continue;
                };
                let outer = vm.take_globals(&view.globals);
                vm.put_globals(&view.globals, instance.state.clone());
                page.borrow_mut().handler_instance =
                    Some((instance.props.clone(), instance.children.clone()));
                let result = vm.run_function(*function, &[]);
                page.borrow_mut().handler_instance = None;
                vm.put_globals(&view.globals, outer);
                if let Err(err) = result {
                    outcome = Err(err);
                    break;
                }
            }
            globals = std::mem::take(&mut vm.globals);
            outcome
        });
        self.globals = globals;
        print_logs(&host);
        if let Err(err) = result {
            crate::logs::line(
                site.dev,
                "error",
                &format!("live view: on_unmount failed: {}", err.message),
                Some(&self.log_id()),
            );
        }
    }

    /// Runs `work` with the view's state loaded in a VM, then renders the page, all in
    /// one unit of work.
    fn with_state(
        &mut self,
        site: &Site,
        hub: &LiveHub,
        write: bool,
        event: Option<Value>,
        work: impl FnOnce(
            &mut Vm<'_>,
            &Rc<std::cell::RefCell<PageRender>>,
            &mut HashMap<String, Instance>,
        ) -> Result<(), RuntimeError>,
    ) -> Outcome {
        let _ = hub;
        let Some(route) = self.route(site) else {
            return Outcome::Failed(RuntimeError::runtime("the page is gone"));
        };
        let render = site.program.code.view_of(route.file).map(|v| v.render);
        let layout = self.layout_view(site).map(|v| v.render);
        let mut host = self.host(site, route);
        host.event = event;
        let page = host.page.clone();
        let mut globals = std::mem::take(&mut self.globals);
        let mut instances = std::mem::take(&mut self.instances);
        let id = self.id;
        let result = super::hub::as_view(id, || {
            with_unit(site, &mut host, write, |h| {
                let mut vm = Vm::new(site.program.clone(), h);
                vm.limits = Self::limits(site);
                vm.start_unit();
                vm.globals = std::mem::take(&mut globals);
                let mut outcome = work(&mut vm, &page, &mut instances);
                if outcome.is_ok() {
                    page.borrow_mut().kept = std::mem::take(&mut instances);
                    if let Some(render) = render {
                        outcome = vm.run_function(render, &[]).map(|_| ());
                    }
                    if let (Some(layout), true) = (layout, outcome.is_ok()) {
                        vm.host.wrap_children();
                        outcome = vm.run_function(layout, &[]).map(|_| ());
                    }
                }
                globals = std::mem::take(&mut vm.globals);
                outcome
            })
        });
        self.globals = globals;
        print_logs(&host);
        match result {
            Ok(()) => {
                let kept = std::mem::take(&mut page.borrow_mut().kept);
                Outcome::Done(Box::new(collect(&page, kept, &host)))
            }
            Err(err) if err.kind == "redirect" => {
                Outcome::Redirect(crate::unit::redirect_target(&err, None))
            }
            Err(err) => {
                // What the work had of the instances goes back (the caller restores
                // the copy taken before, when there is one).
                if instances.is_empty() {
                    instances = std::mem::take(&mut page.borrow_mut().kept);
                }
                self.instances = instances;
                Outcome::Failed(err)
            }
        }
    }

    /// Sends the browser what a unit of work did; whether the view goes on rendered.
    fn settle(
        &mut self,
        site: &Site,
        hub: &LiveHub,
        outcome: Outcome,
        reference: Option<u64>,
    ) -> bool {
        match outcome {
            Outcome::Done(rendered) if !self.mounted => {
                self.accept(site, hub, *rendered);
                true
            }
            Outcome::Done(rendered) => {
                let before = std::mem::take(&mut self.tree);
                let title_before = self.title.clone();
                self.accept(site, hub, *rendered);
                let patch = tree::diff(&before, &self.tree, &mut self.templates);
                let mut message = serde_json::Map::new();
                match reference {
                    Some(reference) => {
                        message.insert("t".into(), json!("a"));
                        message.insert("r".into(), json!(reference));
                    }
                    None if patch.is_none() && self.title == title_before => return true,
                    None => {
                        message.insert("t".into(), json!("p"));
                    }
                }
                if let Some(patch) = patch {
                    if let Some(templates) = self.templates.take_fresh() {
                        message.insert("T".into(), templates);
                    }
                    message.insert("p".into(), patch);
                }
                if self.title != title_before {
                    message.insert("title".into(), json!(self.title));
                }
                self.send(J::Object(message));
                true
            }
            Outcome::Redirect(url) => {
                let mut message = json!({ "t": "go", "to": url });
                if let (Some(reference), Some(object)) = (reference, message.as_object_mut()) {
                    object.insert("r".into(), json!(reference));
                }
                self.send(message);
                false
            }
            Outcome::Failed(err) => {
                let status = err.status.unwrap_or(500);
                if err.kind == "not_found" || (reference.is_none() && status == 404) {
                    // `not_found()`, or what the page shows is gone: the 404 page, as a
                    // browser gets it (the app's error page, in its layout).
                    let mut request = self.request.clone();
                    request.headers.retain(|(k, _)| k != "accept");
                    request.headers.push(("accept".into(), "text/html".into()));
                    let page = crate::unit::with_error_page(
                        site,
                        &request,
                        ResponseData::error(404, "Not found"),
                    );
                    let html = String::from_utf8_lossy(&page.body).into_owned();
                    self.send(json!({ "t": "html", "html": html, "status": 404 }));
                    let _ = self.out.send(Outgoing::Close(1000, "not found".into()));
                    return false;
                }
                let notice = notice_of(site, &err, self.id);
                let mut message = json!({ "t": "a", "n": notice });
                if let Some(object) = message.as_object_mut() {
                    match reference {
                        Some(reference) => {
                            object.insert("r".into(), json!(reference));
                        }
                        None => {
                            object.insert("t".into(), json!("n"));
                        }
                    }
                }
                self.send(message);
                false
            }
        }
    }

    /// The live values of the page and then of its layout, each in declaration order.
    fn page_live(&self, site: &Site) -> Vec<flin_vm::program::LiveValueCode> {
        self.page_view(site)
            .into_iter()
            .chain(self.layout_view(site))
            .flat_map(|v| v.live.iter().cloned())
            .collect()
    }

    /// The variables of the page and of its layout.
    fn page_globals(&self, site: &Site) -> Vec<u32> {
        self.page_view(site)
            .into_iter()
            .chain(self.layout_view(site))
            .flat_map(|v| v.globals.iter().copied())
            .collect()
    }

    fn snapshot(&self) -> Snapshot {
        copy_state(&self.globals, &self.instances)
    }

    /// A fresh copy of a snapshot (it may be needed twice: a retry, then a failure).
    fn snapshot_of(&self, snapshot: &Snapshot) -> Snapshot {
        copy_state(&snapshot.globals, &snapshot.instances)
    }

    fn restore(&mut self, snapshot: Snapshot) {
        self.globals = snapshot.globals;
        self.instances = snapshot.instances;
    }
}

/// A copy of a view's state that shares nothing mutable with it.
fn copy_state(globals: &[Value], instances: &HashMap<String, Instance>) -> Snapshot {
    let mut copier = Copier::new();
    Snapshot {
        globals: copy_all(globals, &mut copier),
        instances: instances
            .iter()
            .map(|(id, instance)| (id.clone(), copy_instance(instance, &mut copier)))
            .collect(),
    }
}

fn copy_all(values: &[Value], copier: &mut Copier) -> Vec<Value> {
    values.iter().map(|v| copier.copy(v)).collect()
}

fn copy_instance(instance: &Instance, copier: &mut Copier) -> Instance {
    Instance {
        parent: instance.parent.clone(),
        view: instance.view,
        state: copy_all(&instance.state, copier),
        props: copier.copy(&instance.props),
        children: instance.children.clone(),
        props_print: instance.props_print,
        new: instance.new,
    }
}

/// The fingerprints of some file variables.
fn prints(vm: &Vm<'_>, globals: &[u32]) -> Vec<u64> {
    globals
        .iter()
        .map(|g| {
            vm.globals
                .get(*g as usize)
                .map_or(0, |v| fingerprint(v, Fingerprint::Content))
        })
        .collect()
}

/// Calls a handler (or a `bind` setter) in its instance.
fn call(
    vm: &mut Vm<'_>,
    page: &Rc<std::cell::RefCell<PageRender>>,
    instances: &mut HashMap<String, Instance>,
    handler: &Handler,
    args: &[Value],
) -> Result<(), RuntimeError> {
    super::call_handler(vm, page, instances, handler, args).map(|_| ())
}

/// Runs `work` with the state of `handler`'s instance loaded (as a handler of it).
fn run_in_instance(
    vm: &mut Vm<'_>,
    page: &Rc<std::cell::RefCell<PageRender>>,
    instances: &mut HashMap<String, Instance>,
    handler: &Handler,
    work: impl FnOnce(&mut Vm<'_>) -> Result<Value, RuntimeError>,
) -> Result<(), RuntimeError> {
    if handler.instance.is_empty() {
        return work(vm).map(|_| ());
    }
    let code = vm.program.code.clone();
    let Some(instance) = instances.get_mut(&*handler.instance) else {
        return Ok(());
    };
    let Some(view) = instance.view.and_then(|v| code.views.get(v as usize)) else {
        return Ok(());
    };
    let outer = vm.take_globals(&view.globals);
    vm.put_globals(&view.globals, std::mem::take(&mut instance.state));
    page.borrow_mut().handler_instance = Some((instance.props.clone(), instance.children.clone()));
    let result = work(vm);
    page.borrow_mut().handler_instance = None;
    instance.state = vm.take_globals(&view.globals);
    vm.put_globals(&view.globals, outer);
    result.map(|_| ())
}

/// Re-runs the live values whose inputs changed (web.md §9): in declaration order, a
/// page's live value when a variable it reads changed (`changed`, growing as values
/// re-run) or an entity type it reads was written; an instance's, when an entity type
/// it reads was. A value holding an entity with unsaved changes is an edit in progress
/// and stays.
fn rerun_live_values(
    vm: &mut Vm<'_>,
    page: &Rc<std::cell::RefCell<PageRender>>,
    instances: &mut HashMap<String, Instance>,
    page_live: &[flin_vm::program::LiveValueCode],
    mut changed: HashSet<u32>,
    written: &HashSet<String>,
) -> Result<(), RuntimeError> {
    let code = vm.program.code.clone();
    if changed.is_empty() && written.is_empty() {
        return Ok(());
    }
    {
        for live in page_live {
            let due = live.reads.iter().any(|g| changed.contains(g))
                || live.entities.iter().any(|e| written.contains(e));
            if !due {
                continue;
            }
            let current = vm
                .globals
                .get(live.global as usize)
                .cloned()
                .unwrap_or(Value::None);
            if holds_unsaved_entity(&current) {
                continue;
            }
            let before = fingerprint(&current, Fingerprint::Content);
            let value = vm.run_function(live.function, &[])?;
            if fingerprint(&value, Fingerprint::Content) != before {
                changed.insert(live.global);
            }
            if let Some(slot) = vm.globals.get_mut(live.global as usize) {
                *slot = value;
            }
        }
    }
    if written.is_empty() {
        return Ok(());
    }
    for instance in instances.values_mut() {
        let Some(view) = instance.view.and_then(|v| code.views.get(v as usize)) else {
            continue;
        };
        let due: Vec<_> = view
            .live
            .iter()
            .filter(|l| l.entities.iter().any(|e| written.contains(e)))
            .collect();
        if due.is_empty() {
            continue;
        }
        let outer = vm.take_globals(&view.globals);
        vm.put_globals(&view.globals, std::mem::take(&mut instance.state));
        page.borrow_mut().handler_instance =
            Some((instance.props.clone(), instance.children.clone()));
        let mut result = Ok(());
        for live in due {
            let current = vm
                .globals
                .get(live.global as usize)
                .cloned()
                .unwrap_or(Value::None);
            if holds_unsaved_entity(&current) {
                continue;
            }
            match vm.run_function(live.function, &[]) {
                Ok(value) => {
                    if let Some(slot) = vm.globals.get_mut(live.global as usize) {
                        *slot = value;
                    }
                }
                Err(err) => {
                    result = Err(err);
                    break;
                }
            }
        }
        page.borrow_mut().handler_instance = None;
        instance.state = vm.take_globals(&view.globals);
        vm.put_globals(&view.globals, outer);
        result?;
    }
    Ok(())
}

/// What the page renderer holds after a unit of work.
fn collect(
    page: &Rc<std::cell::RefCell<PageRender>>,
    dropped: HashMap<String, Instance>,
    host: &WebHost<'_>,
) -> Rendered {
    let mut page = page.borrow_mut();
    let tree = page.take_tree().unwrap_or_default();
    let title = title_of(page.head_html());
    // Held while the page is open: no spare room.
    let mut handlers = std::mem::take(&mut page.handlers);
    handlers.shrink_to_fit();
    let mut instances = std::mem::take(&mut page.rendered);
    instances.shrink_to_fit();
    Rendered {
        tree,
        handlers,
        instances,
        dropped,
        title,
        session: host.session_out(),
    }
}

/// The text of the head's `<title>`, as HTML.
fn title_of(head: &str) -> Option<String> {
    let start = head.find("<title")?;
    let open_end = head.get(start..)?.find('>')? + start + 1;
    let close = head.get(open_end..)?.find("</title>")? + open_end;
    head.get(open_end..close).map(str::to_string)
}

fn print_logs(host: &WebHost<'_>) {
    for (level, line) in &host.log_lines {
        crate::logs::line(host.site.dev, level, line, Some(&host.request.request_id));
    }
}

/// `event` from the browser's data.
fn event_of(data: &J) -> Value {
    let text = |name: &str| data.get(name).and_then(J::as_str).unwrap_or("").to_string();
    let form: Vec<(String, String)> = data
        .get("form")
        .and_then(J::as_object)
        .map(|fields| {
            fields
                .iter()
                .filter(|(k, _)| !k.starts_with("_flin_"))
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    super::form::event_value(
        &text("value"),
        &text("key"),
        data.get("checked").and_then(J::as_bool).unwrap_or(false),
        &form,
    )
}

/// The value a bound element sends, as the variable's type (`None`: not one).
pub fn bound_value(kind: &str, data: &J) -> Option<Value> {
    let (base, optional) = match kind.strip_suffix('?') {
        Some(base) => (base, true),
        None => (kind, false),
    };
    if base == "bool" {
        return Some(Value::Bool(
            data.get("checked").and_then(J::as_bool).unwrap_or(false),
        ));
    }
    // A file input: the file the page uploaded first (`/_flin/upload`), sealed.
    if base == "file" {
        return match data.get("file") {
            None | Some(J::Null) => optional.then_some(Value::None),
            Some(file) => crate::files::Files::unseal_on_this_thread(file).map(|p| p.to_value()),
        };
    }
    let text = data.get("value").and_then(J::as_str).unwrap_or("");
    if optional && text.trim().is_empty() {
        return Some(Value::None);
    }
    match base {
        "int" => text.trim().parse::<i64>().ok().map(Value::Int),
        "number" => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Value::Number),
        _ => Some(Value::text(text)),
    }
}

/// The notice a failed handler shows: the message (validation: the fields'); `flin
/// dev` adds the FLIN line.
fn notice_of(site: &Site, err: &RuntimeError, view: u64) -> String {
    let at = crate::unit::location_of(site, err);
    crate::logs::line(
        site.dev,
        "error",
        &format!("live view: {} error: {} at {at}", err.kind, err.message),
        Some(&format!("view-{view}")),
    );
    let shown = match (err.kind, err.status) {
        ("validation", _) => err.message.clone(),
        (_, Some(status)) if status < 500 => err.message.clone(),
        _ if site.dev => format!("{} error: {}", err.kind, err.message),
        _ => "Something went wrong: nothing was changed.".to_string(),
    };
    if site.dev && !at.is_empty() {
        format!("{shown} ({at})")
    } else {
        shown
    }
}
