//! File uploads on a real server on 127.0.0.1 (services.md §2, §4 "Uploads"):
//! multipart bodies streamed to content-addressed blobs, types read from the bytes,
//! `@types` / `@max_size` as validation rules, signed URLs serving the bytes with
//! ETag, ranges and the right disposition, limits that stop a body early, bad bodies
//! that leave nothing on disk, and blobs collected once no row refers to them.

// Helpers fail the test by panicking, as assertions do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::Digest;

mod common;
use common::{Server, forms, serve_with};

const DOCUMENT: &str = "entity Document {\n    title: text\n    scan: file @types(\"application/pdf\", \"image/*\") @max_size(\"64KB\")\n}\n";
const ATTACHMENT: &str = "entity Attachment {\n    doc: file\n}\n";

const DOCUMENTS: &str = "route POST {\n    d = Document { title: body.title, scan: body.scan }\n    save d\n    response { status: 201, body: d }\n}\n\nroute GET {\n    Document.all\n}\n";
const ONE_DOCUMENT: &str = "id = to_int(params.id) ?? not_found()\nd = Document.find(id) ?? not_found()\n\nroute GET {\n    { name: d.scan.name, size: d.scan.size, type: d.scan.type, extension: d.scan.extension, hash: d.scan.hash, url: d.scan.url, shown: \"{d.scan}\" }\n}\n\nroute DELETE {\n    destroy d\n    none\n}\n\nroute PUT {\n    d.scan = body.scan\n    save d\n    d.history.map(v => v.scan.name)\n}\n";
const ATTACHMENTS: &str = "route POST {\n    a = Attachment { doc: body.doc }\n    save a\n    response { status: 201, body: a }\n}\n";
const PEEK: &str = "route POST {\n    f = body.doc\n    { name: f.name, size: f.size, type: f.type, hash: f.hash }\n}\n";
const PHOTOS: &str = "route POST {\n    validate {\n        caption: text @required\n        photo: file @types(\"image/*\") @max_size(\"1KB\")\n    }\n    { caption: body.caption, type: body.photo.type, size: body.photo.size }\n}\n";
const UPLOAD_PAGE: &str = "<h1>Send a file</h1>\n<form method=\"post\" enctype=\"multipart/form-data\" action=\"/api/attachments\">\n<input type=\"file\" name=\"doc\">\n<button>Send</button>\n</form>\n";

/// A tiny but real PDF header: `infer` knows it by its first bytes.
fn pdf(extra: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% test {extra}\n%%EOF\n").into_bytes()
}

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    bytes.extend_from_slice(&[0u8; 64]);
    bytes
}

fn app(options: flin_web::Options) -> Server {
    serve_with(
        &[
            ("entities/Document.flin", DOCUMENT),
            ("entities/Attachment.flin", ATTACHMENT),
            ("app/api/documents.flin", DOCUMENTS),
            ("app/api/documents/[id].flin", ONE_DOCUMENT),
            ("app/api/attachments.flin", ATTACHMENTS),
            ("app/api/peek.flin", PEEK),
            ("app/api/photos.flin", PHOTOS),
            ("app/upload.flin", UPLOAD_PAGE),
        ],
        options,
        false,
    )
}

fn root(server: &Server) -> &Path {
    server._dir.path()
}

fn blobs(server: &Server) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root(server).join(".flindb/blobs"))
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn temp_files(server: &Server) -> usize {
    std::fs::read_dir(root(server).join(".flindb/tmp"))
        .map(|dir| dir.count())
        .unwrap_or(0)
}

fn sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One part of a multipart body: a text (`file` none) or a file with its name.
struct Part<'a> {
    name: &'a str,
    file: Option<&'a str>,
    bytes: &'a [u8],
}

const BOUNDARY: &str = "----flin-test-boundary-7MA4YWxkTrZu0gW";

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part.file {
            Some(file) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{file}\"\r\nContent-Type: application/pdf\r\n\r\n",
                    part.name
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{}\"\r\n\r\n", part.name)
                    .as_bytes(),
            ),
        }
        body.extend_from_slice(part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn parse(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw.get(split + 4..).unwrap_or_default().to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body,
    }
}

fn send(server: &Server, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse(&raw)
}

fn upload(server: &Server, path: &str, parts: &[Part<'_>]) -> Reply {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    send(
        server,
        "POST",
        path,
        &[("Content-Type", &content_type)],
        &multipart(parts),
    )
}

fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(server, "GET", path, headers, b"")
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(15), "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn options() -> flin_web::Options {
    flin_web::Options::default()
}

#[test]
fn an_upload_is_stored_once_by_its_hash_and_its_signed_url_serves_it() {
    let server = app(options());
    let bytes = pdf("one");
    let saved = upload(
        &server,
        "/api/documents",
        &[
            Part {
                name: "title",
                file: None,
                bytes: b"Scan",
            },
            Part {
                name: "scan",
                file: Some("../../Report 2024.PDF"),
                bytes: &bytes,
            },
        ],
    );
    assert_eq!(saved.status, 201, "{}", saved.text());
    let json = saved.json();
    let scan = &json["scan"];
    let hash = sha256(&bytes);
    assert_eq!(scan["name"], "../../Report 2024.PDF");
    assert_eq!(scan["size"], bytes.len());
    assert_eq!(scan["type"], "application/pdf");
    assert_eq!(scan["hash"], hash.as_str());
    let keys: Vec<&str> = scan
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["name", "size", "type", "hash", "url"]);
    let url = scan["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("/_flin/files/{hash}/Report%202024.PDF?s=")),
        "{url}"
    );
    // Stored once, by its hash, with nothing left half-written.
    assert_eq!(blobs(&server), vec![hash.clone()]);
    assert_eq!(
        std::fs::read(root(&server).join(".flindb/blobs").join(&hash)).unwrap(),
        bytes
    );
    assert_eq!(temp_files(&server), 0);
    let again = upload(
        &server,
        "/api/documents",
        &[
            Part {
                name: "title",
                file: None,
                bytes: b"Same bytes",
            },
            Part {
                name: "scan",
                file: Some("copy.pdf"),
                bytes: &bytes,
            },
        ],
    );
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(blobs(&server), vec![hash.clone()]);

    // The file's parts, read back from the row.
    let id = json["id"].as_i64().unwrap();
    let read = get(&server, &format!("/api/documents/{id}"), &[]).json();
    assert_eq!(read["name"], "../../Report 2024.PDF");
    assert_eq!(read["extension"], "pdf");
    assert_eq!(read["type"], "application/pdf");
    assert_eq!(read["url"], url.as_str());
    assert_eq!(read["shown"], "../../Report 2024.PDF");

    let served = get(&server, &url, &[]);
    assert_eq!(served.status, 200);
    assert_eq!(served.body, bytes);
    assert_eq!(served.header("content-type"), Some("application/pdf"));
    assert_eq!(served.header("etag"), Some(format!("\"{hash}\"").as_str()));
    assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    assert!(
        served
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("inline; filename=\"Report 2024.PDF\"")),
        "{:?}",
        served.header("content-disposition")
    );
    let etag = format!("\"{hash}\"");
    let cached = get(&server, &url, &[("If-None-Match", &etag)]);
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());
    let part = get(&server, &url, &[("Range", "bytes=0-3")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.body, b"%PDF");
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 0-3/{}", bytes.len()).as_str())
    );
    let tail = get(&server, &url, &[("Range", "bytes=-6")]);
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, b"%%EOF\n");
    let outside = get(&server, &url, &[("Range", "bytes=100000-")]);
    assert_eq!(outside.status, 416);
    assert_eq!(
        outside.header("content-range"),
        Some(format!("bytes */{}", bytes.len()).as_str())
    );

    // Only URLs the app handed out are served.
    let (path, signature) = url.split_once("?s=").unwrap();
    assert_eq!(get(&server, path, &[]).status, 404);
    assert_eq!(
        get(&server, &format!("{path}?s=AAAA{}", &signature[4..]), &[]).status,
        404
    );
    let other_name = format!("/_flin/files/{hash}/other.pdf?s={signature}");
    assert_eq!(get(&server, &other_name, &[]).status, 404);
    let other_hash = format!(
        "/_flin/files/{}/Report%202024.PDF?s={signature}",
        "0".repeat(64)
    );
    assert_eq!(get(&server, &other_hash, &[]).status, 404);
    assert_eq!(get(&server, "/_flin/files/../../flin.db", &[]).status, 404);
}

#[test]
fn types_and_sizes_are_the_fields_validation_rules() {
    let server = app(options());
    let text = upload(
        &server,
        "/api/documents",
        &[
            Part {
                name: "title",
                file: None,
                bytes: b"Not a PDF",
            },
            // Declared a PDF by its name and part header; its bytes are text.
            Part {
                name: "scan",
                file: Some("fake.pdf"),
                bytes: b"just some words",
            },
        ],
    );
    assert_eq!(text.status, 400, "{}", text.text());
    let message = text.json()["fields"]["scan"].as_str().unwrap().to_string();
    assert!(message.contains("application/pdf, image/*"), "{message}");
    assert!(message.contains("text/plain"), "{message}");

    let big = pdf(&"x".repeat(70 * 1024));
    let too_big = upload(
        &server,
        "/api/documents",
        &[
            Part {
                name: "title",
                file: None,
                bytes: b"Big",
            },
            Part {
                name: "scan",
                file: Some("big.pdf"),
                bytes: &big,
            },
        ],
    );
    assert_eq!(too_big.status, 400, "{}", too_big.text());
    let message = too_big.json()["fields"]["scan"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("at most 64 KB"), "{message}");

    // A text where a file is expected.
    let not_a_file = upload(
        &server,
        "/api/documents",
        &[
            Part {
                name: "title",
                file: None,
                bytes: b"Text",
            },
            Part {
                name: "scan",
                file: None,
                bytes: b"hello",
            },
        ],
    );
    assert_eq!(not_a_file.status, 400, "{}", not_a_file.text());
    assert_eq!(
        not_a_file.json()["fields"]["scan"],
        "scan must be a file, not a text"
    );

    let image = png();
    let ok = upload(
        &server,
        "/api/documents",
        &[
            Part {
                name: "title",
                file: None,
                bytes: b"Picture",
            },
            Part {
                name: "scan",
                file: Some("dot.png"),
                bytes: &image,
            },
        ],
    );
    assert_eq!(ok.status, 201, "{}", ok.text());
    assert_eq!(ok.json()["scan"]["type"], "image/png");
    // The refused uploads do not stay.
    wait_until("refused uploads are collected", || {
        blobs(&server) == vec![sha256(&image)]
    });
}

#[test]
fn pages_html_and_svg_download_as_attachments() {
    let server = app(options());
    for (name, bytes, ty) in [
        (
            "page.html",
            &b"<!DOCTYPE html><script>alert(1)</script>"[..],
            "text/html",
        ),
        (
            "logo.svg",
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"[..],
            "image/svg+xml",
        ),
        (
            "data.bin",
            &b"\x00\x01\x02\xff\xfe"[..],
            "application/octet-stream",
        ),
    ] {
        let saved = upload(
            &server,
            "/api/attachments",
            &[Part {
                name: "doc",
                file: Some(name),
                bytes,
            }],
        );
        assert_eq!(saved.status, 201, "{}", saved.text());
        let doc = &saved.json()["doc"];
        assert_eq!(doc["type"], ty);
        let served = get(&server, doc["url"].as_str().unwrap(), &[]);
        assert_eq!(served.status, 200);
        assert_eq!(served.body, bytes);
        let disposition = served.header("content-disposition").unwrap();
        assert!(
            disposition.starts_with(&format!("attachment; filename=\"{name}\"")),
            "{disposition}"
        );
        assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    }
    let text = upload(
        &server,
        "/api/attachments",
        &[Part {
            name: "doc",
            file: Some(".notes.txt"),
            bytes: "caf\u{e9}".as_bytes(),
        }],
    );
    let doc = &text.json()["doc"];
    assert_eq!(doc["type"], "text/plain");
    let served = get(&server, doc["url"].as_str().unwrap(), &[]);
    assert_eq!(
        served.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    // The leading dot is gone from the name served.
    assert!(
        served
            .header("content-disposition")
            .unwrap()
            .starts_with("inline; filename=\"notes.txt\"")
    );
}

#[test]
fn bad_bodies_are_4xx_leave_nothing_on_disk_and_the_server_serves_on() {
    let server = app(flin_web::Options {
        uploads_max_size: 1024 * 1024,
        ..options()
    });
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let full = multipart(&[Part {
        name: "doc",
        file: Some("a.pdf"),
        bytes: &pdf(&"y".repeat(50_000)),
    }]);

    // Cut short: the closing boundary never comes.
    let truncated = send(
        &server,
        "POST",
        "/api/attachments",
        &[("Content-Type", &content_type)],
        &full[..full.len() / 2],
    );
    assert_eq!(truncated.status, 400, "{}", truncated.text());
    assert!(
        truncated.json()["error"]
            .as_str()
            .unwrap()
            .contains("ends before")
    );
    // Another boundary than the body's.
    let wrong = send(
        &server,
        "POST",
        "/api/attachments",
        &[("Content-Type", "multipart/form-data; boundary=nope")],
        &full,
    );
    assert_eq!(wrong.status, 400, "{}", wrong.text());
    // No boundary at all.
    let none = send(
        &server,
        "POST",
        "/api/attachments",
        &[("Content-Type", "multipart/form-data")],
        &full,
    );
    assert_eq!(none.status, 400, "{}", none.text());
    assert!(none.json()["error"].as_str().unwrap().contains("boundary"));

    // 100 MB to a 1 MB limit: refused as soon as the file passes 1 MB, long before
    // the client is done sending.
    let mut stream = TcpStream::connect(server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"huge.bin\"\r\n\r\n"
    );
    let total = 100 * 1024 * 1024;
    let request = format!(
        "POST /api/attachments HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{head}",
        total + head.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let mut writer = writer;
        let chunk = vec![b'z'; 64 * 1024];
        let mut sent = 0usize;
        while sent < total {
            if writer.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let mut raw = Vec::new();
    let mut buffer = [0u8; 4096];
    // The answer comes while the client still sends.
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
        }
    }
    let refused = parse(&raw);
    assert_eq!(refused.status, 413, "{}", String::from_utf8_lossy(&raw));
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let sent = sending.join().unwrap();
    assert!(sent < total, "the server read all {sent} bytes");

    // A file field given text.
    let text = upload(
        &server,
        "/api/attachments",
        &[Part {
            name: "doc",
            file: None,
            bytes: b"words",
        }],
    );
    assert_eq!(text.status, 400, "{}", text.text());
    assert_eq!(
        text.json()["fields"]["doc"],
        "doc must be a file, not a text"
    );

    assert_eq!(temp_files(&server), 0);
    wait_until("no blob stays", || blobs(&server).is_empty());
    // And the server goes on.
    let ok = upload(
        &server,
        "/api/attachments",
        &[Part {
            name: "doc",
            file: Some("ok.pdf"),
            bytes: &pdf("fine"),
        }],
    );
    assert_eq!(ok.status, 201, "{}", ok.text());
}

#[test]
fn a_blob_goes_when_no_row_refers_to_it_any_more() {
    let server = app(options());
    let shared = pdf("shared");
    let own = pdf("own");
    let post = |title: &[u8], file: &str, bytes: &[u8]| {
        let saved = upload(
            &server,
            "/api/documents",
            &[
                Part {
                    name: "title",
                    file: None,
                    bytes: title,
                },
                Part {
                    name: "scan",
                    file: Some(file),
                    bytes,
                },
            ],
        );
        assert_eq!(saved.status, 201, "{}", saved.text());
        saved.json()["id"].as_i64().unwrap()
    };
    let first = post(b"First", "a.pdf", &shared);
    let second = post(b"Second", "b.pdf", &shared);
    let third = post(b"Third", "c.pdf", &own);
    // An upload no row keeps goes once its request is over.
    let peeked = upload(
        &server,
        "/api/peek",
        &[Part {
            name: "doc",
            file: Some("p.pdf"),
            bytes: &pdf("peek"),
        }],
    );
    assert_eq!(peeked.status, 200, "{}", peeked.text());
    assert_eq!(peeked.json()["hash"], sha256(&pdf("peek")).as_str());
    let mut expected = vec![sha256(&shared), sha256(&own)];
    expected.sort();
    wait_until("the peeked upload is collected", || {
        blobs(&server) == expected
    });

    let delete = |id: i64| {
        let reply = send(&server, "DELETE", &format!("/api/documents/{id}"), &[], b"");
        assert_eq!(reply.status, 204, "{}", reply.text());
    };
    delete(third);
    wait_until("the destroyed row's file is collected", || {
        blobs(&server) == vec![sha256(&shared)]
    });
    // Still referred to by the second row.
    delete(first);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(blobs(&server), vec![sha256(&shared)]);
    let listed = get(&server, "/api/documents", &[]).json();
    let url = listed[0]["scan"]["url"].as_str().unwrap().to_string();
    assert_eq!(get(&server, &url, &[]).body, shared);
    delete(second);
    wait_until("the last reference is gone", || blobs(&server).is_empty());
    assert_eq!(get(&server, &url, &[]).status, 404);
}

#[test]
fn a_plain_html_form_uploads_with_its_cross_site_token() {
    let server = app(options());
    let page = get(&server, "/upload", &[]);
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    let token = forms(&html).into_iter().next().unwrap().token;
    assert!(!token.is_empty(), "{html}");
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let bytes = png();
    let with_token = multipart(&[
        Part {
            name: "_flin_csrf",
            file: None,
            bytes: token.as_bytes(),
        },
        Part {
            name: "doc",
            file: Some("me.png"),
            bytes: &bytes,
        },
    ]);
    let headers = [
        ("Content-Type", content_type.as_str()),
        ("Cookie", "flin_session=abc"),
    ];
    let posted = send(&server, "POST", "/api/attachments", &headers, &with_token);
    assert_eq!(posted.status, 201, "{}", posted.text());
    let without = multipart(&[Part {
        name: "doc",
        file: Some("me.png"),
        bytes: &bytes,
    }]);
    let refused = send(&server, "POST", "/api/attachments", &headers, &without);
    assert_eq!(refused.status, 403, "{}", refused.text());
}

#[test]
fn uploads_max_size_is_read_from_flin_toml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flin.toml"),
        "[uploads]\nmax_size = \"2MB\"\n",
    )
    .unwrap();
    let options = flin_web::options(dir.path(), None, false).unwrap();
    assert_eq!(options.uploads_max_size, 2 * 1024 * 1024);
    assert_eq!(
        flin_web::Options::default().uploads_max_size,
        25 * 1024 * 1024
    );
    let _: PathBuf = dir.path().to_path_buf();
}

#[test]
fn validate_blocks_check_uploaded_files() {
    let server = app(options());
    let image = png();
    let ok = upload(
        &server,
        "/api/photos",
        &[
            Part {
                name: "caption",
                file: None,
                bytes: b"Me",
            },
            Part {
                name: "photo",
                file: Some("me.png"),
                bytes: &image,
            },
        ],
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(
        ok.json(),
        serde_json::json!({"caption": "Me", "type": "image/png", "size": image.len()})
    );
    let pdf = upload(
        &server,
        "/api/photos",
        &[
            Part {
                name: "caption",
                file: None,
                bytes: b"Doc",
            },
            Part {
                name: "photo",
                file: Some("me.png"),
                bytes: &pdf("not an image"),
            },
        ],
    );
    assert_eq!(pdf.status, 400, "{}", pdf.text());
    assert_eq!(
        pdf.json()["fields"]["photo"],
        "photo must be of type image/*; the file is application/pdf"
    );
    let missing = upload(
        &server,
        "/api/photos",
        &[Part {
            name: "caption",
            file: None,
            bytes: b"None",
        }],
    );
    assert_eq!(missing.status, 400, "{}", missing.text());
    assert_eq!(missing.json()["fields"]["photo"], "photo is required");
}

#[test]
fn a_replaced_file_stays_while_the_rows_history_refers_to_it() {
    let server = app(options());
    let old = pdf("old");
    let new = pdf("new");
    let saved = upload(
        &server,
        "/api/documents",
        &[
            Part {
                name: "title",
                file: None,
                bytes: b"Lease",
            },
            Part {
                name: "scan",
                file: Some("v1.pdf"),
                bytes: &old,
            },
        ],
    );
    assert_eq!(saved.status, 201, "{}", saved.text());
    let old_url = saved.json()["scan"]["url"].as_str().unwrap().to_string();
    let id = saved.json()["id"].as_i64().unwrap();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let replaced = send(
        &server,
        "PUT",
        &format!("/api/documents/{id}"),
        &[("Content-Type", &content_type)],
        &multipart(&[Part {
            name: "scan",
            file: Some("v2.pdf"),
            bytes: &new,
        }]),
    );
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    // Every version keeps its own file.
    assert_eq!(replaced.json(), serde_json::json!(["v1.pdf", "v2.pdf"]));
    std::thread::sleep(Duration::from_millis(1500));
    let mut both = vec![sha256(&old), sha256(&new)];
    both.sort();
    assert_eq!(blobs(&server), both);
    assert_eq!(get(&server, &old_url, &[]).body, old);
    // Destroying the row erases its history, and both files go.
    let gone = send(&server, "DELETE", &format!("/api/documents/{id}"), &[], b"");
    assert_eq!(gone.status, 204, "{}", gone.text());
    wait_until("both versions' files are collected", || {
        blobs(&server).is_empty()
    });
}

/// `/_flin/upload`, where a live page's file input sends the file it binds: same-origin
/// only; the answer has the file's parts, its URL and a seal; the blob is kept for the
/// page's save although no row refers to it yet.
#[test]
fn a_live_pages_file_is_uploaded_same_origin_and_kept_for_its_save() {
    let server = app(flin_web::Options::default());
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let body = multipart(&[Part {
        name: "file",
        file: Some("dot.png"),
        bytes: &png(),
    }]);
    let foreign = send(
        &server,
        "POST",
        "/_flin/upload",
        &[
            ("Content-Type", &content_type),
            ("Origin", "http://evil.example"),
        ],
        &body,
    );
    assert_eq!(foreign.status, 403);
    // (The test client sends `Host: localhost`.)
    let reply = send(
        &server,
        "POST",
        "/_flin/upload",
        &[
            ("Content-Type", &content_type),
            ("Origin", "http://localhost"),
        ],
        &body,
    );
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    assert_eq!(reply.status, 200, "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["name"], "dot.png");
    assert_eq!(json["type"], "image/png");
    assert_eq!(json["hash"], sha256(&png()));
    assert!(
        json["seal"].as_str().is_some_and(|s| s.len() >= 20),
        "{json}"
    );
    // Kept past a collection although no row refers to it.
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    assert!(blobs(&server).contains(&sha256(&png())));
}
