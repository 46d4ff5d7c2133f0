//! Random requests for the HTTP path (`fuzz/fuzz_targets/http.rs` and
//! `tests/random_requests.rs`): bytes become a request to a small app of pages,
//! forms, API routes with `validate`, sessions and route parameters — methods, paths,
//! query strings, headers, cookies and JSON, urlencoded or multipart bodies drawn from
//! the bytes, now and then the bytes sent as they are. What must hold: the server
//! answers every request that parses with a status that is not 500 (a client's
//! mistake is a 4xx), and it keeps answering.

/// The app the requests go to.
pub const APP: &[(&str, &str)] = &[
    (
        "entities/item.flin",
        "entity Item {\n    name: text @required\n    qty: int = 1\n}\n",
    ),
    ("entities/user.flin", "entity User {\n    name: text\n}\n"),
    (
        "app/index.flin",
        "items = Item.all\n\n<h1>Items</h1>\n{for i in items}\n<p>{i.name}: {i.qty}</p>\n{/for}\n",
    ),
    (
        "app/form.flin",
        "name = \"\"\n\nfn add() {\n    if name != \"\" {\n        save Item { name: name }\n    }\n}\n\n<form submit={add()}><input bind={name} name=\"name\"><button>Add</button></form>\n",
    ),
    (
        "app/api/items.flin",
        "route GET {\n    Item.all\n}\n\nroute POST {\n    validate {\n        name: text @required\n        qty: int\n    }\n    i = Item { name: body.name, qty: body.qty }\n    save i\n    i\n}\n",
    ),
    (
        "app/api/items/[id].flin",
        "route GET {\n    Item.find(to_int(params.id) ?? 0) ?? not_found()\n}\n\nroute DELETE {\n    i = Item.find(to_int(params.id) ?? 0) ?? not_found()\n    delete i\n    none\n}\n",
    ),
    (
        "app/api/login.flin",
        "route POST {\n    validate {\n        name: text @required\n    }\n    u = User { name: body.name }\n    save u\n    login(u)\n    session[\"seen\"] = query.seen ?? \"no\"\n    { ok: true }\n}\n",
    ),
    (
        "app/api/me.flin",
        "route GET {\n    { name: current_user()?.name ?? \"nobody\", seen: session[\"seen\"] ?? \"no\" }\n}\n",
    ),
];

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const PATHS: &[&str] = &[
    "/",
    "/form",
    "/api/items",
    "/api/items/",
    "/api/login",
    "/api/me",
];
const TYPES: &[&str] = &[
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=XyZ",
    "text/plain",
    "application/json; charset=utf-8",
];

/// The bytes of one HTTP/1.1 request made from `data` (with `Connection: close`).
pub fn request_bytes(data: &[u8]) -> Vec<u8> {
    let Some((&first, rest)) = data.split_first() else {
        return b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".to_vec();
    };
    // Now and then the bytes as they are: the parser's own refusals.
    if first == 0xff {
        return rest.to_vec();
    }
    let pick = |list: &[&'static str], byte: u8| {
        list.get(usize::from(byte) % list.len().max(1))
            .copied()
            .unwrap_or("")
    };
    let byte = |i: usize| rest.get(i).copied().unwrap_or(0);
    let method = pick(METHODS, first);
    let mut parts = rest.get(4..).unwrap_or(&[]).split(|b| *b == 0xfe);
    let mut text = |max: usize| {
        let part = parts.next().unwrap_or(&[]);
        let part = part.get(..part.len().min(max)).unwrap_or(&[]);
        String::from_utf8_lossy(part).into_owned()
    };
    let tail = text(200);
    let query = text(300);
    let header_value = text(300);
    let cookie = text(200);
    let body = text(4000);
    let mut path = pick(PATHS, byte(0)).to_string();
    // A route parameter, or now and then more path.
    if (path.ends_with('/') && path.len() > 1) || byte(1) % 4 == 0 {
        path.push_str(&tail);
    }
    let mut target: String = path
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    if !target.starts_with('/') {
        target.insert(0, '/');
    }
    if !query.is_empty() {
        target.push('?');
        target.extend(
            query
                .chars()
                .map(|c| if c.is_ascii_graphic() { c } else { '+' }),
        );
    }
    let clean = |v: &str| v.replace(['\r', '\n', '\0'], " ");
    let body = match byte(2) % 5 {
        // JSON shaped like the routes' fields, the values from the bytes.
        0 => format!(
            "{{\"name\": {}, \"qty\": {}}}",
            serde_json::Value::String(body.clone()),
            match byte(3) % 5 {
                0 => "3".to_string(),
                1 => "\"three\"".to_string(),
                2 => "[1, 2]".to_string(),
                3 => "{\"a\": null}".to_string(),
                _ => "9999999999999999999999".to_string(),
            }
        ),
        1 => format!(
            "name={}&qty={}&_flin_handler={}",
            clean(&body),
            byte(3),
            clean(&tail)
        ),
        2 => format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{}\r\n--XyZ--\r\n",
            clean(&body)
        ),
        _ => body,
    };
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if byte(3) % 3 != 0 {
        head.push_str(&format!("Content-Type: {}\r\n", pick(TYPES, byte(2))));
    }
    if byte(1) % 3 == 0 {
        head.push_str(&format!("Cookie: flin_session={}\r\n", clean(&cookie)));
    }
    match byte(1) % 4 {
        0 => head.push_str("Origin: http://localhost\r\n"),
        1 => head.push_str(&format!("Origin: {}\r\n", clean(&header_value))),
        2 => head.push_str(&format!("Referer: {}\r\n", clean(&header_value))),
        _ => head.push_str(&format!("X-Anything: {}\r\n", clean(&header_value))),
    }
    if byte(3) % 7 == 0 {
        head.push_str("Accept: text/html\r\n");
    }
    if byte(2) % 11 == 0 {
        // A chunked body, its size line from the bytes.
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
        out.extend_from_slice(body.as_bytes());
        out.extend_from_slice(b"\r\n0\r\n\r\n");
        return out;
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// The status of a raw HTTP answer, if there is one.
pub fn status_of(answer: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(answer.get(..answer.len().min(32))?).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}
