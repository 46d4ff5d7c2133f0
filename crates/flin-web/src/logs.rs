//! The server's log lines (cli.md §4): `flin dev` prints short readable lines on standard
//! error; `flin start` writes JSON lines only, on standard output (`ts` in RFC 3339,
//! `level`, `msg`, and the request's `id` when a line belongs to one, so a response's
//! `X-Request-Id` finds its lines).
//!
//! Request and event lines, one per request, are the hot ones: they are written by hand
//! (no JSON tree) and gathered into one `write` every couple of milliseconds by a
//! flusher thread instead of a system call each (measured on the fortunes page: the
//! line cost 3.9 µs of CPU per request, 1.8 µs of it the `write`). Every other line
//! goes out at once, after the gathered ones, so order is kept and a line before an
//! exit is never lost; [`flush`] writes what waits (the server calls it as it stops).

use std::io::Write;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value as J, json};

/// How long a gathered request line may wait.
const GATHER: Duration = Duration::from_millis(2);

/// Past this many bytes waiting, the line that adds to them writes them.
const GATHERED_MAX: usize = 64 * 1024;

struct Gathered {
    text: Vec<u8>,
    /// When the flusher last wrote, or a line found the batch old and wrote it.
    written: Option<Instant>,
    flusher: bool,
}

static GATHERED: Mutex<Gathered> = Mutex::new(Gathered {
    text: Vec::new(),
    written: None,
    flusher: false,
});
static WAITING: Condvar = Condvar::new();

/// Adds a request line to the batch, writing it when the batch is big or old.
fn gather(line: &str) {
    let Ok(mut gathered) = GATHERED.lock() else {
        return;
    };
    let first = gathered.text.is_empty();
    gathered.text.extend_from_slice(line.as_bytes());
    let old = gathered.written.is_some_and(|at| at.elapsed() > GATHER * 4);
    if gathered.text.len() >= GATHERED_MAX || old {
        write_out(&mut gathered);
        return;
    }
    if !gathered.flusher {
        gathered.flusher = start_flusher();
    }
    if first {
        WAITING.notify_one();
    }
}

fn write_out(gathered: &mut Gathered) {
    if !gathered.text.is_empty() {
        let _ = std::io::stdout().lock().write_all(&gathered.text);
        gathered.text.clear();
    }
    gathered.written = Some(Instant::now());
}

/// The thread that writes the gathered lines a moment after the first of them.
fn start_flusher() -> bool {
    std::thread::Builder::new()
        .name("flin-log".into())
        .spawn(|| {
            // The batch is swapped for this buffer and written with the batch lock let
            // go (request threads add lines meanwhile); standard output is locked first,
            // so batches still go out in order.
            let mut spare = Vec::new();
            loop {
                let Ok(mut gathered) = GATHERED.lock() else {
                    return;
                };
                while gathered.text.is_empty() {
                    gathered = match WAITING.wait(gathered) {
                        Ok(g) => g,
                        Err(_) => return,
                    };
                }
                drop(gathered);
                std::thread::sleep(GATHER);
                if let Ok(mut gathered) = GATHERED.lock() {
                    let batch = std::mem::replace(&mut gathered.text, std::mem::take(&mut spare));
                    gathered.written = Some(Instant::now());
                    let mut out = std::io::stdout().lock();
                    drop(gathered);
                    let _ = out.write_all(&batch);
                    drop(out);
                    spare = batch;
                    spare.clear();
                }
            }
        })
        .is_ok()
}

/// Writes the request lines waiting to be written.
pub fn flush() {
    if let Ok(mut gathered) = GATHERED.lock() {
        write_out(&mut gathered);
    }
}

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
    let mut line = String::with_capacity(160);
    line.push_str("{\"ts\":");
    push_json(&mut line, &now());
    line.push_str(",\"level\":\"info\",\"msg\":\"request\",\"method\":");
    push_json(&mut line, method);
    line.push_str(",\"path\":");
    push_json(&mut line, path);
    line.push_str(&format!(",\"status\":{status},\"ms\":"));
    push_json_number(&mut line, ms);
    line.push_str(",\"id\":");
    push_json(&mut line, id);
    line.push_str("}\n");
    gather(&line);
}

/// A JSON string.
fn push_json(line: &mut String, text: &str) {
    match serde_json::to_string(text) {
        Ok(quoted) => line.push_str(&quoted),
        Err(_) => line.push_str("\"\""),
    }
}

/// Milliseconds with three decimals, as JSON (a number).
fn push_json_number(line: &mut String, ms: f64) {
    let rounded = (ms * 1000.0).round() / 1000.0;
    match serde_json::Number::from_f64(rounded) {
        Some(number) => line.push_str(&number.to_string()),
        None => line.push('0'),
    }
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
    let mut line = J::Object(object).to_string();
    line.push('\n');
    gather(&line);
}

/// One JSON line on standard output, written whole (lines of several threads never mix)
/// and at once, after the request lines gathered before it.
fn json_line(value: &J) {
    let mut text = value.to_string();
    text.push('\n');
    match GATHERED.lock() {
        Ok(mut gathered) => {
            gathered.text.extend_from_slice(text.as_bytes());
            write_out(&mut gathered);
        }
        Err(_) => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
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
