//! The app served to its own tests (language.md §10): `get`, `post`, `put`, `patch`
//! and `delete_req` inside `test` blocks run a request through the same code as the
//! server — route table, middleware, guards, sessions, CSRF, the route's unit of
//! work, error responses — on the test's thread and database, without a socket.
//! Cookies the app sets are kept for the next calls of the same test, so a test can
//! log in and go on as that user.

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use flin_runtime::{Built, Location, Store, TestApp, TestClient};
use flin_vm::{HttpCall, HttpReply, Program, RuntimeError};

use crate::server::App;
use crate::session::{SessionStore, Sessions};
use crate::unit::RequestData;
use crate::workers::SiteParts;

/// The host name test requests are sent to (and come from).
const HOST: &str = "localhost";

/// A project's app, ready to serve its tests.
pub struct TestServer {
    app: App,
    parts: SiteParts,
    options: crate::Options,
}

impl TestServer {
    pub fn new(built: Built, root: &Path) -> Result<TestServer, String> {
        TestServer::with_database(built, root, true)
    }

    /// The app on its own database in `.flindb/` (`memory` false): `flin bench`.
    pub fn with_database(built: Built, root: &Path, memory: bool) -> Result<TestServer, String> {
        let options = crate::config::options(root, None, false)?;
        let app = crate::server::prepare(built, root, memory)?;
        let sessions = Arc::new(Sessions::new(
            app.session_key.clone(),
            app.session_store.clone(),
            options.session.clone(),
        ));
        let sockets = Arc::new(crate::sockets::Sockets::default());
        let parts = SiteParts::new(&app, &options, 1, &sessions, &sockets);
        Ok(TestServer {
            app,
            parts,
            options,
        })
    }

    pub fn built(&self) -> &Built {
        &self.app.built
    }

    /// The app's database, if it has entities.
    pub fn store(&self) -> Option<Arc<Store>> {
        self.app.store.clone()
    }
}

impl TestApp for TestServer {
    fn client(&self, store: Option<Arc<Store>>, program: Rc<Program>) -> TestClient {
        let session_store = Arc::new(match &store {
            Some(store) => SessionStore::App(store.clone()),
            None => SessionStore::Own(Location::Memory, std::sync::OnceLock::new()),
        });
        let sessions = Arc::new(Sessions::new(
            self.app.session_key.clone(),
            session_store,
            self.options.session.clone(),
        ));
        let site = self.parts.clone().with_store(store, sessions).site(program);
        crate::files::Files::sign_urls_on_this_thread(&self.app.files);
        let mut cookies: Vec<(String, String)> = Vec::new();
        let mut next_id = 0u64;
        Box::new(move |call: &HttpCall| {
            next_id += 1;
            let (path, raw_query) = match call.path.split_once('?') {
                Some((path, query)) => (path.to_string(), query.to_string()),
                None => (call.path.clone(), String::new()),
            };
            let body = call
                .body
                .as_ref()
                .map(|b| b.to_string().into_bytes())
                .unwrap_or_default();
            let mut headers = vec![
                ("host".to_string(), HOST.to_string()),
                ("origin".to_string(), format!("http://{HOST}")),
                ("accept".to_string(), "application/json".to_string()),
                ("user-agent".to_string(), "flin test".to_string()),
            ];
            if call.body.is_some() {
                headers.push(("content-type".into(), "application/json".into()));
                headers.push(("content-length".into(), body.len().to_string()));
            }
            if !cookies.is_empty() {
                let line = cookies
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                headers.push(("cookie".into(), line));
            }
            let Some(found) = site.routes.find(&path) else {
                return Ok(reply(crate::unit::ResponseData::error(404, "Not found")));
            };
            let request = RequestData {
                method: call.method.to_string(),
                query: crate::json::form_pairs(&raw_query),
                path,
                headers,
                cookies: cookies.clone(),
                body,
                ip: "127.0.0.1".into(),
                params: found.params,
                request_id: format!("test-{next_id}"),
                raw_query,
                retry: false,
                secure: false,
                uploads: None,
            };
            let response = crate::unit::handle(&site, found.route, request);
            for (name, value) in &response.headers {
                if name == "set-cookie" {
                    keep_cookie(&mut cookies, value);
                }
            }
            Ok::<HttpReply, RuntimeError>(reply(response))
        })
    }
}

fn reply(response: crate::unit::ResponseData) -> HttpReply {
    HttpReply {
        status: response.status,
        headers: response.headers,
        body: String::from_utf8_lossy(&response.body).into_owned(),
    }
}

/// A `Set-Cookie` line updates the jar: a cookie that expires now is removed.
fn keep_cookie(cookies: &mut Vec<(String, String)>, line: &str) {
    let mut parts = line.split(';');
    let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
        return;
    };
    let (name, value) = (name.trim().to_string(), value.trim().to_string());
    let removed = value.is_empty()
        || parts.any(|attribute| {
            let attribute = attribute.trim().to_ascii_lowercase();
            attribute == "max-age=0" || attribute.starts_with("max-age=-")
        });
    cookies.retain(|(k, _)| *k != name);
    if !removed {
        cookies.push((name, value));
    }
}
