//! The server's log lines (cli.md §4): `flin dev` prints short readable lines on standard
//! error; `flin start` writes JSON lines only, on standard output (`ts` in RFC 3339,
//! `level`, `msg`, and the request's `id` when a line belongs to one, so a response's
//! `X-Request-Id` finds its lines).

use serde_json::{Map, Value as J, json};

/// One line at `level` (`info`, `warn`, `error`), with the request or view it belongs to.
pub fn line(dev: bool, level: &str, msg: &str, id: Option<&str>) {
    if dev {
        match id {
            Some(id) => eprintln!("[{level}] {msg} ({id})"),
            None => eprintln!("[{level}] {msg}"),
        }
        return;
    }
    let mut object = base(level, msg);
    if let Some(id) = id {
        object.insert("id".into(), json!(id));
    }
    json_line(&J::Object(object));
}

/// A request's line: `GET /path 200 0.4ms` in dev; in start also its id and the time in
/// milliseconds with three decimals.
pub fn request(dev: bool, method: &str, path: &str, status: u16, ms: f64, id: &str) {
    if dev {
        eprintln!("{method} {path} {status} {ms:.1}ms");
        return;
    }
    let mut object = base("info", "request");
    object.insert("method".into(), json!(method));
    object.insert("path".into(), json!(path));
    object.insert("status".into(), json!(status));
    object.insert("ms".into(), json!((ms * 1000.0).round() / 1000.0));
    object.insert("id".into(), json!(id));
    json_line(&J::Object(object));
}

/// A live page's event: `EVENT /path handler 0.2ms` in dev.
pub fn event(dev: bool, path: &str, handler: &str, ms: f64, id: &str) {
    if dev {
        eprintln!("EVENT {path} {handler} {ms:.1}ms");
        return;
    }
    let mut object = base("info", "event");
    object.insert("live".into(), json!("event"));
    object.insert("path".into(), json!(path));
    object.insert("handler".into(), json!(handler));
    object.insert("ms".into(), json!((ms * 1000.0).round() / 1000.0));
    object.insert("id".into(), json!(id));
    json_line(&J::Object(object));
}

/// One JSON line on standard output, written whole (lines of several threads never mix).
fn json_line(value: &J) {
    use std::io::Write;
    let mut text = value.to_string();
    text.push('\n');
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn base(level: &str, msg: &str) -> Map<String, J> {
    let mut object = Map::new();
    object.insert("ts".into(), json!(now()));
    object.insert("level".into(), json!(level));
    object.insert("msg".into(), json!(msg));
    object
}

/// Now, in RFC 3339 (UTC).
fn now() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    flin_vm::display::display(&flin_vm::Value::Time(micros))
}
