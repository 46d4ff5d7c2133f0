//! `multipart/form-data` bodies (services.md §2, §4 "Uploads"), streamed with `multer`:
//! each file part goes to a temp file under `.flindb/tmp/` while it is hashed (SHA-256)
//! and its type read from its bytes, then moves to `.flindb/blobs/<hash>`; text parts
//! are kept as texts. A file past `uploads.max_size` (or texts past `server.max_body`)
//! stops the body with 413 at once; a body cut short or malformed is 400; either way no
//! temp file is left. The request then holds its blobs (see [`crate::files`]) until its
//! unit of work is over.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::HeaderMap;
use flin_vm::Value;
use flin_vm::file::FileParts;
use flin_vm::value::{Entries, Key};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::files::{Files, Hold};
use crate::unit::ResponseData;

/// How much a multipart body may bring.
#[derive(Clone, Copy, Debug)]
pub struct UploadLimits {
    /// `uploads.max_size`: one file.
    pub max_file: u64,
    /// `server.max_body`: the text parts together.
    pub max_text: u64,
    /// A client silent this long while sending gets 408.
    pub idle: Duration,
}

/// Files in one body at most.
const MAX_FILES: usize = 100;

/// A received multipart body.
#[derive(Debug, Default)]
pub struct Received {
    pub parts: Vec<(String, Part)>,
    /// Its blobs, held until the request is over.
    holds: Vec<Hold>,
}

#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    File(FileParts),
    /// A file input left empty (browsers send a part with no name and no bytes).
    NoFile,
}

impl Received {
    /// `body` of the route: an object of its fields (a name given several times is a
    /// list), each a text, a `file` or `none`.
    pub fn body(&self) -> Value {
        let mut grouped: Vec<(String, Vec<Value>)> = Vec::new();
        for (name, part) in &self.parts {
            let value = match part {
                Part::Text(text) => Value::text(text.as_str()),
                Part::File(file) => file.to_value(),
                Part::NoFile => Value::None,
            };
            match grouped.iter_mut().find(|(n, _)| n == name) {
                Some((_, values)) => values.push(value),
                None => grouped.push((name.clone(), vec![value])),
            }
        }
        let entries: Entries = grouped
            .into_iter()
            .map(|(name, mut values)| {
                let value = match values.len() {
                    1 => values.pop().unwrap_or(Value::None),
                    _ => Value::list(values),
                };
                (Key(Value::text(name)), value)
            })
            .collect();
        Value::map(entries)
    }

    /// The first file of the body.
    pub fn first_file(&self) -> Option<FileParts> {
        self.parts.iter().find_map(|(_, part)| match part {
            Part::File(file) => Some(file.clone()),
            _ => None,
        })
    }

    /// The text fields (a form's hidden fields: its handler, its cross-site token).
    pub fn texts(&self) -> Vec<(String, String)> {
        self.parts
            .iter()
            .filter_map(|(name, part)| match part {
                Part::Text(text) => Some((name.clone(), text.clone())),
                _ => None,
            })
            .collect()
    }
}

/// Whether a request's body is `multipart/form-data`.
pub fn is_multipart(headers: &HeaderMap) -> bool {
    content_type(headers)
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Reads a multipart body to the end, or refuses it with the response to send.
pub async fn receive(
    files: Option<&Arc<Files>>,
    headers: &HeaderMap,
    body: Body,
    limits: UploadLimits,
) -> Result<Received, ResponseData> {
    let Some(files) = files else {
        return Err(ResponseData::error(503, "the server is restarting"));
    };
    let boundary = multer::parse_boundary(content_type(headers)).map_err(|_| {
        ResponseData::error(
            400,
            "the multipart body has no boundary in its Content-Type",
        )
    })?;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(
                limits
                    .max_file
                    .saturating_add(limits.max_text)
                    .saturating_mul(MAX_FILES as u64),
            )
            .per_field(limits.max_file.max(limits.max_text)),
    );
    let mut multipart =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut received = Received::default();
    let mut text_bytes = 0u64;
    let mut n_files = 0usize;
    loop {
        let field = match tokio::time::timeout(limits.idle, multipart.next_field()).await {
            Err(_) => return Err(too_slow()),
            Ok(Err(err)) => return Err(refusal(&err, limits)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(field))) => field,
        };
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                n_files += 1;
                if n_files > MAX_FILES {
                    return Err(ResponseData::error(
                        413,
                        &format!("a request may carry at most {MAX_FILES} files"),
                    ));
                }
                let part = receive_file(files, field, file_name, limits, &mut received).await?;
                received.parts.push((name, part));
            }
            None => {
                let mut field = field;
                let mut bytes = Vec::new();
                loop {
                    let chunk = match tokio::time::timeout(limits.idle, field.chunk()).await {
                        Err(_) => return Err(too_slow()),
                        Ok(Err(err)) => return Err(refusal(&err, limits)),
                        Ok(Ok(None)) => break,
                        Ok(Ok(Some(chunk))) => chunk,
                    };
                    text_bytes = text_bytes.saturating_add(chunk.len() as u64);
                    if text_bytes > limits.max_text {
                        return Err(ResponseData::error(
                            413,
                            &format!(
                                "the text fields of the form are larger than {} bytes",
                                limits.max_text
                            ),
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                let text = String::from_utf8(bytes).map_err(|_| {
                    ResponseData::error(400, &format!("the field `{name}` is not UTF-8 text"))
                })?;
                received.parts.push((name, Part::Text(text)));
            }
        }
    }
    Ok(received)
}

/// One file part to a temp file, then into the blob store.
async fn receive_file(
    files: &Arc<Files>,
    mut field: multer::Field<'static>,
    file_name: String,
    limits: UploadLimits,
    received: &mut Received,
) -> Result<Part, ResponseData> {
    let server_error = |err: std::io::Error| {
        crate::logs::line(false, "error", &format!("storing an upload: {err}"), None);
        ResponseData::error(500, "the upload could not be stored")
    };
    let temp = TempFile::new(files).map_err(server_error)?;
    let mut out = tokio::fs::File::create(&temp.path)
        .await
        .map_err(server_error)?;
    let mut hasher = Sha256::new();
    let mut sniffer = Sniffer::default();
    let mut size = 0u64;
    loop {
        let chunk = match tokio::time::timeout(limits.idle, field.chunk()).await {
            Err(_) => return Err(too_slow()),
            Ok(Err(err)) => return Err(refusal(&err, limits)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        size = size.saturating_add(chunk.len() as u64);
        if size > limits.max_file {
            return Err(too_large(limits));
        }
        hasher.update(&chunk);
        sniffer.feed(&chunk);
        out.write_all(&chunk).await.map_err(server_error)?;
    }
    if size == 0 && file_name.is_empty() {
        return Ok(Part::NoFile);
    }
    out.flush().await.map_err(server_error)?;
    out.sync_all().await.map_err(server_error)?;
    drop(out);
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let content_type = sniffer.content_type();
    let hold = {
        let files = files.clone();
        let hash = hash.clone();
        let path = temp.path.clone();
        tokio::task::spawn_blocking(move || files.put(&path, &hash))
            .await
            .map_err(|_| ResponseData::error(500, "the upload could not be stored"))?
            .map_err(server_error)?
    };
    files.note_type(&hash, &content_type);
    received.holds.push(hold);
    drop(temp);
    Ok(Part::File(FileParts {
        // The name as sent, kept for the program (at most 255 characters); URLs and
        // downloads use its sanitised form.
        name: file_name.chars().take(255).collect(),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        content_type,
        hash,
    }))
}

fn too_large(limits: UploadLimits) -> ResponseData {
    ResponseData::error(
        413,
        &format!(
            "the file is larger than the upload limit of {} bytes (uploads.max_size)",
            limits.max_file
        ),
    )
}

fn too_slow() -> ResponseData {
    ResponseData::error(408, "the request body came too slowly")
}

fn refusal(err: &multer::Error, limits: UploadLimits) -> ResponseData {
    use multer::Error as E;
    match err {
        E::StreamSizeExceeded { .. } | E::FieldSizeExceeded { .. } => too_large(limits),
        E::IncompleteStream | E::IncompleteFieldData { .. } | E::IncompleteHeaders => {
            ResponseData::error(400, "the multipart body ends before its closing boundary")
        }
        E::StreamReadFailed(_) => {
            ResponseData::error(400, "the request body was cut off while it was sent")
        }
        other => ResponseData::error(400, &format!("the multipart body is malformed: {other}")),
    }
}

/// An upload being written: deleted unless it moved into the blob store.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn new(files: &Files) -> std::io::Result<TempFile> {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|e| std::io::Error::other(e.to_string()))?;
        let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
        Ok(TempFile {
            path: files.temp_dir.join(format!("upload-{name}")),
        })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // Gone already when it became a blob.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads a file's type from its bytes as they stream by: its first bytes by their
/// signature (`infer`), else text when all of it is UTF-8 (an SVG or HTML text by
/// its start), else `application/octet-stream`.
#[derive(Default)]
pub struct Sniffer {
    head: Vec<u8>,
    /// Bytes of a character cut by the end of the last chunk.
    pending: Vec<u8>,
    not_utf8: bool,
}

const HEAD: usize = 8192;

impl Sniffer {
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(chunk.len());
            self.head
                .extend_from_slice(chunk.get(..take).unwrap_or_default());
        }
        if self.not_utf8 {
            return;
        }
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(chunk);
        match std::str::from_utf8(&bytes) {
            Ok(_) => {}
            // A character cut at the end of the chunk: its start waits for the rest.
            Err(err) if err.error_len().is_none() => {
                self.pending = bytes.get(err.valid_up_to()..).unwrap_or_default().to_vec();
            }
            Err(_) => self.not_utf8 = true,
        }
    }

    /// Whether more bytes cannot change the answer.
    pub fn decided(&self) -> bool {
        self.head.len() >= HEAD && (self.not_utf8 || infer::get(&self.head).is_some())
    }

    pub fn content_type(&self) -> String {
        if let Some(kind) = infer::get(&self.head) {
            return kind.mime_type().to_string();
        }
        if self.not_utf8 || !self.pending.is_empty() || self.head.contains(&0) {
            return "application/octet-stream".into();
        }
        let start = String::from_utf8_lossy(&self.head)
            .trim_start()
            .to_ascii_lowercase();
        if start.starts_with("<svg") || (start.starts_with("<?xml") && start.contains("<svg")) {
            return "image/svg+xml".into();
        }
        if start.starts_with("<!doctype html") || start.starts_with("<html") {
            return "text/html".into();
        }
        "text/plain".into()
    }
}

#[cfg(test)]
mod tests {
    use super::Sniffer;

    fn sniff(chunks: &[&[u8]]) -> String {
        let mut sniffer = Sniffer::default();
        for chunk in chunks {
            sniffer.feed(chunk);
        }
        sniffer.content_type()
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(&[b"%PDF-1.7\n..."]), "application/pdf");
        assert_eq!(sniff(&[b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"]), "image/png");
        assert_eq!(sniff(&["caf\u{e9}".as_bytes()]), "text/plain");
        // A character cut between two chunks is still text.
        assert_eq!(sniff(&[b"caf\xc3", b"\xa9 au lait"]), "text/plain");
        assert_eq!(sniff(&[b"\xff\xfe\x00binary"]), "application/octet-stream");
        assert_eq!(
            sniff(&[b"<svg xmlns='http://www.w3.org/2000/svg'/>"]),
            "image/svg+xml"
        );
        assert_eq!(sniff(&[b"<!DOCTYPE html><p>hi"]), "text/html");
    }
}
