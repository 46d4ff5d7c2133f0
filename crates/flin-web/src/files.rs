//! Uploaded files of an app (services.md §2, §4 "Uploads"): their signed URLs
//! (`/_flin/files/<hash>/<name>?s=<sig>`), serving them (type, ETag, ranges, inline or
//! attachment), holding the blobs of uploads in progress, and collecting the blobs no
//! row refers to any more.
//!
//! Collection is correct first: a blob goes only when no version of any row (history
//! included) refers to it and no request holds it. A request holds each blob it
//! received from before the blob is in place until after its unit of work committed,
//! and a collection also spares every blob released while it ran (its snapshot of the
//! rows may predate the commit that refers to it); the next collection looks again.
//! Then cheap: one `SELECT DISTINCT` per file column, run in the background only after a
//! commit that touched an entity with a `file` field or an upload that was not kept
//! (at most once every [`COLLECT_EVERY`]), at start-up, and every
//! [`COLLECT_ANYWAY`].

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flin_runtime::Store;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::blobs::{BlobStore, LocalBlobs, is_hash};
use crate::unit::ResponseData;
use flin_vm::file::FileParts;

/// The shortest time between two collections.
pub const COLLECT_EVERY: Duration = Duration::from_millis(500);
/// A collection runs at least this often, asked or not.
pub const COLLECT_ANYWAY: Duration = Duration::from_secs(600);

/// The uploaded files of one app.
pub struct Files {
    pub blobs: Box<dyn BlobStore>,
    /// Where uploads are written while they arrive (`.flindb/tmp/`).
    pub temp_dir: PathBuf,
    key: Vec<u8>,
    /// The app's database (`flin dev` swaps in a reopened one on each rebuild).
    store: std::sync::RwLock<Option<Arc<Store>>>,
    held: Mutex<Held>,
    /// Types read from the bytes, by hash (a blob's bytes never change).
    types: Mutex<HashMap<String, String>>,
    wake: Arc<(Mutex<bool>, Condvar)>,
    /// Blobs a live page uploaded (`bind` on a file input), by when: kept a while even
    /// before a row refers to them, for the page's `save` to come.
    picked: Mutex<HashMap<String, std::time::Instant>>,
}

/// How long a file picked on a live page is kept before a row must refer to it.
const PICKED_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// With a blob folder shared by several servers, how old an unreferenced blob must be
/// before it is collected (longer than any upload takes to be saved).
const SHARED_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

thread_local! {
    /// The app's files, on a worker thread (a live `bind` checks the seal of a file).
    static THREAD_FILES: std::cell::RefCell<Option<Arc<Files>>> = const { std::cell::RefCell::new(None) };
}

/// Blobs held by requests in progress.
#[derive(Default)]
struct Held {
    count: HashMap<String, usize>,
    /// Let go since the running collection began: spared by it.
    released: HashSet<String>,
}

/// A blob held by a request: it stays on disk while this lives.
pub struct Hold {
    files: Arc<Files>,
    pub hash: String,
}

impl std::fmt::Debug for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hold({})", self.hash)
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Ok(mut held) = self.files.held.lock() {
            if let Some(n) = held.count.get_mut(&self.hash) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    held.count.remove(&self.hash);
                }
            }
            held.released.insert(self.hash.clone());
        }
        // An upload that no row took is garbage now.
        self.files.collect_soon();
    }
}

impl Files {
    /// The files of the app at `root`: blobs in `.flindb/blobs/`, uploads arriving in
    /// `.flindb/tmp/` (left-overs of a crash are removed). Starts the collector. A
    /// rebuild (`flin dev`) gets the same files with its new database, so uploads in
    /// progress stay held and one collector runs.
    pub fn open(
        root: &Path,
        store: Option<Arc<Store>>,
        secret: &cookie::Key,
        blob_dir: Option<&Path>,
    ) -> Result<Arc<Files>, String> {
        static OPEN: Mutex<Vec<(PathBuf, Weak<Files>)>> = Mutex::new(Vec::new());
        let mut open = OPEN.lock().map_err(|_| "the files registry was poisoned")?;
        open.retain(|(_, files)| files.strong_count() > 0);
        let found = open
            .iter()
            .find(|(path, _)| path == root)
            .and_then(|(_, files)| files.upgrade())
            // Another key signs other URLs: those files are another app's.
            .filter(|files| mac_with(secret.signing(), b"flin files").as_ref() == Some(&files.key));
        if let Some(files) = found {
            if let Ok(mut slot) = files.store.write() {
                *slot = store;
            }
            files.collect_soon();
            return Ok(files);
        }
        let files = Files::create(root, store, secret, blob_dir)?;
        open.retain(|(path, _)| path != root);
        open.push((root.to_path_buf(), Arc::downgrade(&files)));
        Ok(files)
    }

    fn create(
        root: &Path,
        store: Option<Arc<Store>>,
        secret: &cookie::Key,
        blob_dir: Option<&Path>,
    ) -> Result<Arc<Files>, String> {
        let flindb = root.join(".flindb");
        let blob_dir = blob_dir.map_or_else(|| flindb.join("blobs"), Path::to_path_buf);
        let blobs = LocalBlobs::open(blob_dir.clone())
            .map_err(|e| format!("cannot create {}: {e}", blob_dir.display()))?;
        let temp_dir = flindb.join("tmp");
        let _ = std::fs::remove_dir_all(&temp_dir);
        std::fs::create_dir_all(&temp_dir)
            .map_err(|e| format!("cannot create {}: {e}", temp_dir.display()))?;
        let key = mac_with(secret.signing(), b"flin files").unwrap_or_default();
        let files = Arc::new(Files {
            blobs: Box::new(blobs),
            temp_dir,
            key,
            store: std::sync::RwLock::new(store),
            held: Mutex::new(Held::default()),
            types: Mutex::new(HashMap::new()),
            // Collect once at start-up.
            wake: Arc::new((Mutex::new(true), Condvar::new())),
            picked: Mutex::new(HashMap::new()),
        });
        start_collector(Arc::downgrade(&files), files.wake.clone());
        Ok(files)
    }

    /// `/_flin/files/<hash>/<name>?s=<sig>`, the name sanitised and escaped.
    pub fn url(&self, hash: &str, name: &str) -> String {
        let name = sanitize_name(name);
        format!(
            "/_flin/files/{hash}/{}?s={}",
            escape(&name),
            self.signature(hash, &name)
        )
    }

    fn signature(&self, hash: &str, name: &str) -> String {
        let text = format!("{hash}/{name}");
        mac_with(&self.key, text.as_bytes())
            .map(|full| URL_SAFE_NO_PAD.encode(full.get(..16).unwrap_or(&full)))
            .unwrap_or_default()
    }

    /// Makes this thread's `file` values carry URLs signed by this app.
    pub fn sign_urls_on_this_thread(files: &Arc<Files>) {
        THREAD_FILES.with(|slot| *slot.borrow_mut() = Some(files.clone()));
        let files = files.clone();
        flin_vm::file::set_url_signer(Some(std::rc::Rc::new(move |hash: &str, name: &str| {
            files.url(hash, name)
        })));
    }

    /// The seal of a file a live page uploaded: the page sends it back with the bind,
    /// and only files this server received are taken.
    pub fn seal(&self, parts: &FileParts) -> String {
        let text = format!(
            "picked:{}/{}/{}/{}",
            parts.hash, parts.size, parts.content_type, parts.name
        );
        mac_with(&self.key, text.as_bytes())
            .map(|full| URL_SAFE_NO_PAD.encode(full.get(..16).unwrap_or(&full)))
            .unwrap_or_default()
    }

    /// A file picked on a live page: kept for a while even before a row refers to it.
    pub fn picked(&self, parts: &FileParts) {
        if let Ok(mut picked) = self.picked.lock() {
            let now = std::time::Instant::now();
            picked.retain(|_, at| now.duration_since(*at) < PICKED_GRACE);
            picked.insert(parts.hash.clone(), now);
        }
    }

    /// The file of a live `bind` (`{name, size, type, hash, seal}`), when its seal is
    /// this server's (checked on the worker thread).
    pub fn unseal_on_this_thread(json: &serde_json::Value) -> Option<FileParts> {
        let parts = FileParts::from_json(json)?;
        let seal = json.get("seal")?.as_str()?;
        THREAD_FILES.with(|slot| {
            let files = slot.borrow().clone()?;
            let expected = files.seal(&parts);
            let same = expected.len() == seal.len()
                && expected
                    .bytes()
                    .zip(seal.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0;
            same.then_some(parts)
        })
    }

    /// Takes the upload at `temp` as blob `hash` and holds it for the request.
    pub fn put(self: &Arc<Files>, temp: &Path, hash: &str) -> std::io::Result<Hold> {
        // Under the lock a collection deletes under: a blob is never deleted between
        // being put in place and being held.
        let mut held = self
            .held
            .lock()
            .map_err(|_| std::io::Error::other("the upload lock was poisoned"))?;
        self.blobs.put(temp, hash)?;
        *held.count.entry(hash.to_string()).or_insert(0) += 1;
        Ok(Hold {
            files: self.clone(),
            hash: hash.to_string(),
        })
    }

    /// Remembers the type read from a blob's bytes.
    pub fn note_type(&self, hash: &str, content_type: &str) {
        if let Ok(mut types) = self.types.lock() {
            if types.len() > 10_000 {
                types.clear();
            }
            types.insert(hash.to_string(), content_type.to_string());
        }
    }

    /// A committed unit of work changed `entities`: a file may have lost its last row.
    pub fn committed(&self, entities: &[String]) {
        let Some(store) = self.store() else { return };
        let with_files = store.entities().iter().any(|def| {
            entities.contains(&def.name)
                && def
                    .fields
                    .iter()
                    .any(|f| f.ty == flin_query::FieldType::File)
        });
        if with_files {
            self.collect_soon();
        }
    }

    fn store(&self) -> Option<Arc<Store>> {
        self.store.read().ok().and_then(|store| store.clone())
    }

    /// Asks the collector to run.
    pub fn collect_soon(&self) {
        let (asked, signal) = &*self.wake;
        if let Ok(mut asked) = asked.lock() {
            *asked = true;
            signal.notify_one();
        }
    }

    /// Deletes every blob that no version of any row refers to and no request holds;
    /// returns their hashes.
    pub fn collect(&self) -> Result<Vec<String>, String> {
        if let Ok(mut held) = self.held.lock() {
            held.released.clear();
        }
        let referenced = match self.store() {
            Some(store) => store.file_hashes().map_err(|e| e.to_string())?,
            None => HashSet::new(),
        };
        let stored = self.blobs.list().map_err(|e| e.to_string())?;
        // Servers sharing PostgreSQL share the blob folder too: a young blob may be
        // another server's upload in progress, which this one cannot see held.
        let shared = self.store().is_some_and(|store| store.is_shared());
        let mut deleted = Vec::new();
        let picked: HashSet<String> = self
            .picked
            .lock()
            .map(|p| {
                p.iter()
                    .filter(|(_, at)| at.elapsed() < PICKED_GRACE)
                    .map(|(h, _)| h.clone())
                    .collect()
            })
            .unwrap_or_default();
        for hash in stored {
            if referenced.contains(&hash) || picked.contains(&hash) {
                continue;
            }
            let young = || {
                self.blobs
                    .stored_at(&hash)
                    .and_then(|at| at.elapsed().ok())
                    .is_none_or(|age| age < SHARED_GRACE)
            };
            if shared && young() {
                continue;
            }
            let held = self.held.lock().map_err(|e| e.to_string())?;
            if held.count.contains_key(&hash) || held.released.contains(&hash) {
                continue;
            }
            self.blobs.delete(&hash).map_err(|e| e.to_string())?;
            drop(held);
            if let Ok(mut types) = self.types.lock() {
                types.remove(&hash);
            }
            deleted.push(hash);
        }
        Ok(deleted)
    }

    /// The type of blob `hash` as its bytes say (remembered, or read again).
    fn content_type(&self, hash: &str, size: u64) -> std::io::Result<String> {
        if let Some(known) = self.types.lock().ok().and_then(|t| t.get(hash).cloned()) {
            return Ok(known);
        }
        let mut sniffer = crate::uploads::Sniffer::default();
        let mut reader = self.blobs.open(hash, 0, size)?;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = std::io::Read::read(&mut reader, &mut buffer)?;
            let Some(chunk) = buffer.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            sniffer.feed(chunk);
            if sniffer.decided() {
                break;
            }
        }
        let found = sniffer.content_type();
        self.note_type(hash, &found);
        Ok(found)
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        // The collector sees its files gone and ends.
        let (_, signal) = &*self.wake;
        signal.notify_all();
        // The scratch folder of an app on an in-memory database (`prepare`) goes with it.
        let scratch = self.temp_dir.parent().and_then(Path::parent);
        if let Some(scratch) = scratch.filter(|dir| {
            dir.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(crate::server::MEMORY_FILES))
        }) {
            let _ = std::fs::remove_dir_all(scratch);
        }
    }
}

fn start_collector(files: Weak<Files>, wake: Arc<(Mutex<bool>, Condvar)>) {
    let spawned = std::thread::Builder::new()
        .name("flin-files".into())
        .spawn(move || {
            loop {
                {
                    let (asked, signal) = &*wake;
                    let Ok(guard) = asked.lock() else { return };
                    let Ok((mut guard, _)) =
                        signal.wait_timeout_while(guard, COLLECT_ANYWAY, |asked| {
                            !*asked && files.strong_count() > 0
                        })
                    else {
                        return;
                    };
                    *guard = false;
                }
                let Some(files) = files.upgrade() else { return };
                if let Err(err) = files.collect() {
                    crate::logs::line(
                        false,
                        "warn",
                        &format!("collecting unused files: {err}"),
                        None,
                    );
                }
                drop(files);
                std::thread::sleep(COLLECT_EVERY);
            }
        });
    if let Err(err) = spawned {
        crate::logs::line(
            false,
            "error",
            &format!("cannot start the file collector: {err}"),
            None,
        );
    }
}

fn mac_with(key: &[u8], text: &[u8]) -> Option<Vec<u8>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    mac.update(text);
    Some(mac.finalize().into_bytes().to_vec())
}

/// A file name safe for a URL and a download: the last part of a path, without control
/// characters or leading dots, at most 200 bytes; `file` when nothing is left.
pub fn sanitize_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\u{2028}' | '\u{2029}'))
        .collect();
    let clean = clean.trim().trim_start_matches('.').trim();
    let mut out = String::new();
    for c in clean.chars() {
        if out.len() + c.len_utf8() > 200 {
            break;
        }
        out.push(c);
    }
    if out.is_empty() { "file".into() } else { out }
}

/// Percent-escapes everything but unreserved characters.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a browser may show a file of this type in the page (else it downloads):
/// images but SVG, audio, video, PDF and plain text. HTML, SVG and anything else a
/// browser could run are attachments.
pub fn inline(content_type: &str) -> bool {
    let ty = content_type.to_ascii_lowercase();
    (ty.starts_with("image/") && !ty.starts_with("image/svg"))
        || ty.starts_with("audio/")
        || ty.starts_with("video/")
        || ty == "application/pdf"
        || ty == "text/plain"
}

/// `GET /_flin/files/<hash>/<name>?s=<sig>`: the bytes, when the URL is one the app
/// handed out; 404 for anything else.
pub async fn serve(files: Option<Arc<Files>>, request: Request<Body>) -> Response {
    let not_found = || crate::server::plain(crate::unit::ResponseData::error(404, "Not found"));
    let Some(files) = files else {
        return not_found();
    };
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = crate::server::plain(crate::unit::ResponseData::error(
            405,
            "files are read with GET",
        ));
        response
            .headers_mut()
            .insert("allow", HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let uri = request.uri();
    let Some((hash, name)) = uri
        .path()
        .strip_prefix("/_flin/files/")
        .and_then(|rest| rest.split_once('/'))
    else {
        return not_found();
    };
    let name = crate::routes::decode(name);
    let signature = uri
        .query()
        .map(crate::json::form_pairs)
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "s")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let expected = files.signature(hash, &name);
    let same = !expected.is_empty()
        && expected.len() == signature.len()
        && expected
            .bytes()
            .zip(signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !is_hash(hash) || !same || name != sanitize_name(&name) {
        return not_found();
    }
    let hash = hash.to_string();
    let found = {
        let files = files.clone();
        let hash = hash.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<Option<(u64, String)>> {
            let Some(size) = files.blobs.size(&hash)? else {
                return Ok(None);
            };
            Ok(Some((size, files.content_type(&hash, size)?)))
        })
        .await
    };
    let (size, content_type) = match found {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => return not_found(),
        _ => {
            return crate::server::plain(crate::unit::ResponseData::error(
                500,
                "the file cannot be read",
            ));
        }
    };
    let etag = format!("\"{hash}\"");
    let headers = request.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut response = Response::new(Body::empty());
    let out = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(name, value);
        }
    };
    set("etag", &etag);
    set("accept-ranges", "bytes");
    set("cache-control", "private, max-age=31536000, immutable");
    set("x-content-type-options", "nosniff");
    let content_type_header = if content_type.starts_with("text/") {
        format!("{content_type}; charset=utf-8")
    } else {
        content_type.clone()
    };
    set("content-type", &content_type_header);
    let disposition = if inline(&content_type) {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii() && c != '\\' { c } else { '_' })
        .collect();
    set(
        "content-disposition",
        &format!(
            "{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{}",
            escape(&name)
        ),
    );
    if header("if-none-match").is_some_and(|tags| {
        tags.split(',')
            .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == etag)
    }) {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    let range = match header("range") {
        // A range is honoured only for this version of the bytes.
        Some(range) if header("if-range").is_none_or(|tag| tag.trim() == etag) => {
            match parse_range(range, size) {
                Range::Whole => None,
                Range::Part(start, end) => Some((start, end)),
                Range::Unsatisfiable => {
                    *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                    let out = response.headers_mut();
                    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                        out.insert("content-range", value);
                    }
                    out.insert("content-type", HeaderValue::from_static("application/json"));
                    *response.body_mut() = Body::from(
                        serde_json::json!({
                            "error": "the range asked for is outside the file",
                            "status": 416
                        })
                        .to_string(),
                    );
                    return response;
                }
            }
        }
        _ => None,
    };
    let (start, len) = match range {
        Some((start, end)) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let out = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")) {
                out.insert("content-range", value);
            }
            // A part of the bytes must reach the client as they are (no compression).
            out.insert("content-encoding", HeaderValue::from_static("identity"));
            (start, end - start + 1)
        }
        None => (0, size),
    };
    if let Ok(value) = HeaderValue::from_str(&len.to_string()) {
        response.headers_mut().insert("content-length", value);
    }
    if request.method() == Method::HEAD {
        return response;
    }
    *response.body_mut() = stream_blob(files, hash, start, len);
    response
}

/// The bytes of a blob as a body, read on a blocking thread as the client takes them.
fn stream_blob(files: Arc<Files>, hash: String, start: u64, len: u64) -> Body {
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        let mut reader = match files.blobs.open(&hash, start, len) {
            Ok(reader) => reader,
            Err(err) => {
                let _ = sender.blocking_send(Err(err));
                return;
            }
        };
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match std::io::Read::read(&mut reader, &mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    let chunk = Bytes::copy_from_slice(buffer.get(..n).unwrap_or_default());
                    if sender.blocking_send(Ok(chunk)).is_err() {
                        break;
                    }
                }
                Err(err) => {
                    let _ = sender.blocking_send(Err(err));
                    break;
                }
            }
        }
    });
    Body::from_stream(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) },
    ))
}

#[derive(Debug, PartialEq, Eq)]
enum Range {
    Whole,
    /// First and last byte, inclusive.
    Part(u64, u64),
    Unsatisfiable,
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range; several are answered whole).
fn parse_range(header: &str, size: u64) -> Range {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Range::Whole;
    };
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Range::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = match (first.is_empty(), last.is_empty()) {
        (true, true) => return Range::Whole,
        (true, false) => match last.parse::<u64>() {
            Ok(0) => return Range::Unsatisfiable,
            Ok(n) => (size.saturating_sub(n), size.saturating_sub(1)),
            Err(_) => return Range::Whole,
        },
        (false, _) => {
            let Ok(start) = first.parse::<u64>() else {
                return Range::Whole;
            };
            let end = match last.parse::<u64>() {
                Ok(end) if end < start => return Range::Whole,
                Ok(end) => end.min(size.saturating_sub(1)),
                Err(_) if last.is_empty() => size.saturating_sub(1),
                Err(_) => return Range::Whole,
            };
            (start, end)
        }
    };
    if size == 0 || parsed.0 >= size {
        return Range::Unsatisfiable;
    }
    Range::Part(parsed.0, parsed.1)
}

/// `POST /_flin/upload`: a file picked in a live page's `<input type="file" bind={…}>`,
/// sent by the page's runtime (with upload progress) before the bind: streamed to a blob
/// like any upload, kept a while for the page's `save`, answered with its parts and a
/// seal the bind hands back. Same-origin only.
pub async fn picked_upload(
    files: Option<Arc<Files>>,
    limits: crate::uploads::UploadLimits,
    request: Request<Body>,
) -> Response {
    let headers = request.headers().clone();
    let same_origin = crate::server::same_origin(&headers);
    if !same_origin {
        return crate::server::plain(ResponseData::error(
            403,
            "files are picked from this site's own pages only",
        ));
    }
    if !crate::uploads::is_multipart(&headers) {
        return crate::server::plain(ResponseData::error(
            400,
            "send the file as multipart/form-data",
        ));
    }
    let received = match crate::uploads::receive(
        files.as_ref(),
        &headers,
        request.into_body(),
        limits,
    )
    .await
    {
        Ok(received) => received,
        Err(response) => return crate::server::plain(response),
    };
    let (Some(files), Some(parts)) = (files, received.first_file()) else {
        return crate::server::plain(ResponseData::error(400, "no file in the body"));
    };
    files.picked(&parts);
    let mut json = parts.to_json();
    if let Some(object) = json.as_object_mut() {
        object.insert("seal".into(), serde_json::Value::from(files.seal(&parts)));
        object.insert(
            "url".into(),
            serde_json::Value::from(files.url(&parts.hash, &parts.name)),
        );
    }
    crate::server::plain(ResponseData::json(200, &json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_control_characters_and_leading_dots() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("C:\\Users\\me\\photo.jpg"), "photo.jpg");
        assert_eq!(sanitize_name(".htaccess"), "htaccess");
        assert_eq!(sanitize_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(sanitize_name("..."), "file");
        assert_eq!(sanitize_name("rapport été.pdf"), "rapport été.pdf");
    }

    #[test]
    fn ranges_read_as_http_says() {
        assert_eq!(parse_range("bytes=0-9", 100), Range::Part(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), Range::Part(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), Range::Part(90, 99));
        assert_eq!(parse_range("bytes=50-500", 100), Range::Part(50, 99));
        assert_eq!(parse_range("bytes=100-", 100), Range::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Range::Whole);
        assert_eq!(parse_range("items=0-1", 100), Range::Whole);
    }

    #[test]
    fn only_types_a_browser_cannot_run_are_shown_inline() {
        assert!(inline("image/png"));
        assert!(inline("application/pdf"));
        assert!(inline("text/plain"));
        assert!(!inline("image/svg+xml"));
        assert!(!inline("text/html"));
        assert!(!inline("application/octet-stream"));
    }
}
