//! The hand-written Rust reference for FLIN's web benchmark (bench/reference/README.md):
//! axum + rusqlite + askama serving the same two pages as the FLIN app beside it.
//!
//! - `GET /fortunes`: the 12 fortunes of the database, one more added in memory, sorted by
//!   message, rendered as an HTML table (the TechEmpower "fortunes" test).
//! - `GET /list`: the 100 most expensive items of category "c3" out of 10,000, as a list.
//!
//! Usage: `reference-axum --db FILE [--port 3000]`. The database (SQLite, WAL) is created
//! and seeded at start when it is empty. Each tokio worker thread reads through its own
//! connection, opened on first use.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::OnceLock;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rusqlite::Connection;

/// The TechEmpower fortunes, in id order.
const FORTUNES: [&str; 12] = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program using relational databases is doomed to fail.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
    "フレームワークのベンチマーク",
];

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS fortune (id INTEGER PRIMARY KEY, message TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS item (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        price INTEGER NOT NULL,
        category TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS item_price ON item (price);
    CREATE INDEX IF NOT EXISTS item_category_price ON item (category, price);
";

static DB_PATH: OnceLock<PathBuf> = OnceLock::new();

thread_local! {
    /// This thread's reader connection.
    static DB: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

fn open(path: &PathBuf) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

/// Runs `f` with this thread's connection. The queries take well under a millisecond, so
/// they run on the tokio worker itself rather than hopping to the blocking pool.
fn with_db<T>(f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    DB.with(|cell| {
        let mut slot = cell.borrow_mut();
        let conn = match slot.as_mut() {
            Some(conn) => conn,
            None => {
                let path = DB_PATH.get().ok_or(rusqlite::Error::InvalidQuery)?;
                slot.insert(open(path)?)
            }
        };
        f(conn)
    })
}

/// Creates the tables and seeds them when they are empty.
fn seed(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)?;
    let tx = conn.transaction()?;
    let fortunes: i64 = tx.query_row("SELECT count(*) FROM fortune", [], |r| r.get(0))?;
    if fortunes == 0 {
        let mut insert = tx.prepare("INSERT INTO fortune (message) VALUES (?1)")?;
        for message in FORTUNES {
            insert.execute([message])?;
        }
    }
    let items: i64 = tx.query_row("SELECT count(*) FROM item", [], |r| r.get(0))?;
    if items == 0 {
        let mut insert =
            tx.prepare("INSERT INTO item (name, price, category) VALUES (?1, ?2, ?3)")?;
        for i in 0..10_000i64 {
            insert.execute((
                format!("item {i}"),
                (i * 7919) % 1000,
                format!("c{}", i % 10),
            ))?;
        }
    }
    tx.commit()
}

struct Fortune {
    id: i64,
    message: String,
}

#[derive(Template)]
#[template(path = "fortunes.html")]
struct FortunesPage {
    fortunes: Vec<Fortune>,
}

struct Item {
    name: String,
    price: i64,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    items: Vec<Item>,
}

/// An error answered as a 500.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        eprintln!("error: {}", self.0);
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
    }
}

async fn fortunes() -> Result<Html<String>, Failure> {
    let mut fortunes = with_db(|conn| {
        let mut stmt = conn.prepare_cached("SELECT id, message FROM fortune")?;
        let rows = stmt.query_map([], |r| {
            Ok(Fortune {
                id: r.get(0)?,
                message: r.get(1)?,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
    })?;
    fortunes.push(Fortune {
        id: 0,
        message: "Additional fortune added at request time.".to_string(),
    });
    fortunes.sort_by(|a, b| a.message.cmp(&b.message));
    Ok(Html(FortunesPage { fortunes }.render()?))
}

async fn list() -> Result<Html<String>, Failure> {
    let items = with_db(|conn| {
        // Ties in price come by id, newest first, as FLIN orders them.
        let mut stmt = conn.prepare_cached(
            "SELECT name, price FROM item WHERE category = ?1 \
             ORDER BY price DESC, id DESC LIMIT 100",
        )?;
        let rows = stmt.query_map(["c3"], |r| {
            Ok(Item {
                name: r.get(0)?,
                price: r.get(1)?,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
    })?;
    Ok(Html(ListPage { items }.render()?))
}

fn usage() -> ! {
    eprintln!("usage: reference-axum --db FILE [--port 3000]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut db = None;
    let mut port: u16 = 3000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--db", Some(v)) => db = Some(PathBuf::from(v)),
            ("--port", Some(v)) => port = v.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    let db = db.unwrap_or_else(|| usage());
    let seeded = open(&db).and_then(|mut conn| seed(&mut conn));
    if let Err(e) = seeded {
        eprintln!("cannot open or seed {}: {e}", db.display());
        std::process::exit(1);
    }
    let _ = DB_PATH.set(db);

    let app = Router::new()
        .route("/fortunes", get(fortunes))
        .route("/list", get(list));
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    println!("listening on http://127.0.0.1:{port}");
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
