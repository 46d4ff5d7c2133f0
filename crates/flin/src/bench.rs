//! `flin bench [name] [--rows N] [--requests N] [--format json]` (cli.md §4,
//! performance.md §1, §4): the reference workload (`bench/workload/`) on a fresh
//! database in a temporary folder — a simple page, an entity list (100 of `--rows`),
//! keyword and hybrid search over `--rows` documents of generated prose, single-row
//! saves, and the compile of a generated 50-file app — each figure measured inside the
//! server (a request through the app's own request path, in-process: routing,
//! middleware, the unit of work, rendering) and printed beside its target; the two
//! pages also end to end over loopback HTTP against `flin start`, at 1 and 32
//! connections (reported, no target), and that server's idle memory.

use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

use flin_query::Datum;
use flin_runtime::TestApp;
use flin_search::workload::{Lcg, prose, query, words};
use flin_vm::{HttpCall, Program};

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Ms,
    Mb,
}

struct Options {
    /// The workloads named (none: all).
    only: Vec<String>,
    rows: usize,
    requests: usize,
    json: bool,
}

/// One measured figure: a time (P50 and P99, in ms) or a memory size (in MB, `p50_ms`
/// holding it and `p99_ms` unused).
struct Figure {
    name: &'static str,
    unit: Unit,
    p50_ms: f64,
    p99_ms: f64,
    target: &'static str,
    /// Whether the target is met (none: the figure has no target, it is reported).
    met: Option<bool>,
}

pub fn run(args: &[String]) -> ExitCode {
    let options = match parse(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!(
                "  = help: flin bench [page|list|search|hybrid|save|compile|idle]... [--rows 10000] [--requests 10000] [--format json]"
            );
            return ExitCode::from(2);
        }
    };
    let dir = std::env::temp_dir().join(format!("flin-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = crate::run::on_deep_stack({
        let dir = dir.clone();
        move || measure(&dir, &options).map(|figures| (figures, options.json))
    });
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Some(Ok((figures, json))) => {
            print(&figures, json);
            ExitCode::SUCCESS
        }
        Some(Err(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
        None => ExitCode::from(101),
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        only: Vec::new(),
        rows: 10_000,
        requests: 10_000,
        json: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |what: &str| -> Result<usize, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .filter(|n: &usize| *n > 0)
                .ok_or_else(|| format!("{what} takes a whole number above 0"))
        };
        match arg.as_str() {
            "--rows" => options.rows = number("--rows")?,
            "--requests" => options.requests = number("--requests")?,
            "--format" => match args.next().map(String::as_str) {
                Some("json") => options.json = true,
                Some("table") => options.json = false,
                _ => return Err("--format takes `table` or `json`".into()),
            },
            name if !name.starts_with('-') => {
                if ![
                    "page", "list", "search", "hybrid", "save", "compile", "idle",
                ]
                .contains(&name)
                {
                    return Err(format!("no workload `{name}`"));
                }
                options.only.push(name.to_string());
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

fn wanted(options: &Options, name: &str) -> bool {
    options.only.is_empty() || options.only.iter().any(|only| only == name)
}

/// The workload app of performance.md §1 and §4, `bench/workload/` in the repository
/// (where `bench/workload/seed` seeds it for running by hand), built into the binary.
const APP: &[(&str, &str)] = &[
    (
        "entities/Item.flin",
        include_str!("../../../bench/workload/entities/Item.flin"),
    ),
    (
        "entities/Doc.flin",
        include_str!("../../../bench/workload/entities/Doc.flin"),
    ),
    (
        "entities/Review.flin",
        include_str!("../../../bench/workload/entities/Review.flin"),
    ),
    (
        "entities/Todo.flin",
        include_str!("../../../bench/workload/entities/Todo.flin"),
    ),
    (
        "entities/Attachment.flin",
        include_str!("../../../bench/workload/entities/Attachment.flin"),
    ),
    (
        "app/simple.flin",
        include_str!("../../../bench/workload/app/simple.flin"),
    ),
    (
        "app/list.flin",
        include_str!("../../../bench/workload/app/list.flin"),
    ),
    (
        "app/item/[id].flin",
        include_str!("../../../bench/workload/app/item/[id].flin"),
    ),
    (
        "app/todo.flin",
        include_str!("../../../bench/workload/app/todo.flin"),
    ),
    (
        "app/api/search.flin",
        include_str!("../../../bench/workload/app/api/search.flin"),
    ),
    (
        "app/api/hybrid.flin",
        include_str!("../../../bench/workload/app/api/hybrid.flin"),
    ),
    (
        "app/api/items.flin",
        include_str!("../../../bench/workload/app/api/items.flin"),
    ),
    (
        "app/api/reviews.flin",
        include_str!("../../../bench/workload/app/api/reviews.flin"),
    ),
    (
        "app/api/attachments.flin",
        include_str!("../../../bench/workload/app/api/attachments.flin"),
    ),
    (
        "app/live/socket.flin",
        include_str!("../../../bench/workload/app/live/socket.flin"),
    ),
    (
        "jobs/restock.flin",
        include_str!("../../../bench/workload/jobs/restock.flin"),
    ),
];

fn measure(dir: &Path, options: &Options) -> Result<Vec<Figure>, String> {
    for (path, text) in APP {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot write {}: {e}", parent.display()))?;
        }
        std::fs::write(&full, text).map_err(|e| format!("cannot write {}: {e}", full.display()))?;
    }
    let project = flin_check::load(dir).map_err(|e| e.to_string())?;
    let built = flin_runtime::build(project)
        .map_err(|_| "the workload app does not compile".to_string())?;
    let code = built.code.clone();
    let server = flin_web::testing::TestServer::with_database(built, dir, false)?;
    let store = server.store().ok_or("the workload has no database")?;
    // Seed: `rows` items in 10 categories and `rows` documents of prose.
    let mut random = Lcg(42);
    let vocabulary = words();
    let mut queries = Vec::new();
    {
        let unit = store.unit().map_err(|e| e.to_string())?;
        let db = unit.db().map_err(|e| e.to_string())?;
        let seeding = crate::progress::bar("seeding", "rows");
        let mut report = crate::progress::reporter(&seeding);
        let total = options.rows as u64 * 2;
        for i in 0..options.rows {
            if i % 256 == 0 {
                report(i as u64, total);
            }
            let fields = vec![
                Datum::Text(format!("item {i}").into()),
                Datum::Text(format!("c{}", i % 10).into()),
                Datum::Int(random.below(10_000) as i64),
                Datum::Int(random.below(100) as i64),
            ];
            db.save("Item", None, fields).map_err(|e| e.to_string())?;
        }
        // A review for one item in five (the workload's reference) and the todo page's 10.
        let mut picks = Lcg(7);
        let comments = [
            "works as described",
            "arrived late",
            "good value",
            "too small",
        ];
        for i in 0..options.rows / 5 {
            let item = 1 + picks.below(options.rows as u64) as i64;
            let fields = vec![
                Datum::Ref(item),
                Datum::Int(1 + (i % 5) as i64),
                Datum::Text(
                    comments
                        .get(i % comments.len())
                        .copied()
                        .unwrap_or("")
                        .into(),
                ),
            ];
            db.save("Review", None, fields).map_err(|e| e.to_string())?;
        }
        for i in 0..10 {
            let fields = vec![
                Datum::Text(format!("todo {i}").into()),
                Datum::Bool(i % 3 == 0),
            ];
            db.save("Todo", None, fields).map_err(|e| e.to_string())?;
        }
        // The idle server holds the search index of the workload's documents too.
        if wanted(options, "search") || wanted(options, "hybrid") || wanted(options, "idle") {
            for i in 0..options.rows {
                if i % 64 == 0 {
                    report((options.rows + i) as u64, total);
                }
                let body = prose(&mut random, &vocabulary, 50, 200);
                let fields = vec![
                    Datum::Text(format!("doc {i}").into()),
                    Datum::Text(body.into()),
                ];
                db.save("Doc", None, fields).map_err(|e| e.to_string())?;
            }
        }
        drop(report);
        if let Some(bar) = seeding {
            bar.finish_and_clear();
        }
        unit.commit().map_err(|e| e.to_string())?;
    }
    for _ in 0..100 {
        queries.push(query(&mut random, &vocabulary));
    }
    let program = Rc::new(Program::load(code));
    let mut client = server.client(Some(store.clone()), program);
    let mut time = |path: &dyn Fn(usize) -> String, n: usize| -> Result<(f64, f64), String> {
        for i in 0..n.min(200) {
            let reply = client(&HttpCall {
                method: "GET",
                path: path(i),
                body: None,
            })
            .map_err(|e| e.message.clone())?;
            if reply.status != 200 || reply.body.len() < 2 {
                return Err(format!(
                    "{} answered {}: {}",
                    path(i),
                    reply.status,
                    reply.body
                ));
            }
        }
        let mut times = Vec::with_capacity(n);
        for i in 0..n {
            let started = Instant::now();
            let _ = client(&HttpCall {
                method: "GET",
                path: path(i),
                body: None,
            });
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(percentiles(&mut times))
    };
    let mut figures = Vec::new();
    if wanted(options, "page") {
        let (p50, p99) = time(&|_| "/simple".to_string(), options.requests)?;
        figures.push(Figure {
            unit: Unit::Ms,
            name: "simple page render",
            p50_ms: p50,
            p99_ms: p99,
            target: "<= 0.1 ms / 0.5 ms",
            met: Some(p50 <= 0.1 && p99 <= 0.5),
        });
    }
    if wanted(options, "list") {
        let (p50, p99) = time(&|i| format!("/list?c=c{}", i % 10), options.requests)?;
        figures.push(Figure {
            unit: Unit::Ms,
            name: "entity list, 100 items",
            p50_ms: p50,
            p99_ms: p99,
            target: "<= 0.3 ms / 1 ms",
            met: Some(p50 <= 0.3 && p99 <= 1.0),
        });
    }
    let encode = |q: &str| q.replace(' ', "+");
    if wanted(options, "search") {
        let (p50, p99) = time(
            &|i| {
                format!(
                    "/api/search?q={}",
                    encode(queries.get(i % queries.len()).map_or("", String::as_str))
                )
            },
            options.requests,
        )?;
        figures.push(Figure {
            unit: Unit::Ms,
            name: "full-text search",
            p50_ms: p50,
            p99_ms: p99,
            target: "<= 0.3 ms / 1 ms",
            met: Some(p50 <= 0.3 && p99 <= 1.0),
        });
    }
    if wanted(options, "hybrid") {
        let (p50, p99) = time(
            &|i| {
                format!(
                    "/api/hybrid?q={}",
                    encode(queries.get(i % queries.len()).map_or("", String::as_str))
                )
            },
            options.requests,
        )?;
        figures.push(Figure {
            unit: Unit::Ms,
            name: "hybrid search",
            p50_ms: p50,
            p99_ms: p99,
            target: "<= 0.5 ms / 2 ms",
            met: Some(p50 <= 0.5 && p99 <= 2.0),
        });
    }
    if wanted(options, "save") {
        // Single-row saves, each its own unit of work (durability as configured: full).
        let n = options.requests.min(2_000);
        let started = Instant::now();
        for i in 0..n {
            let unit = store.unit().map_err(|e| e.to_string())?;
            unit.db()
                .and_then(|db| {
                    db.save(
                        "Item",
                        None,
                        vec![
                            Datum::Text(format!("new {i}").into()),
                            Datum::Text("c0".into()),
                            Datum::Int(1),
                            Datum::Int(1),
                        ],
                    )
                })
                .map_err(|e| e.to_string())?;
            unit.commit().map_err(|e| e.to_string())?;
        }
        let per_second = n as f64 / started.elapsed().as_secs_f64();
        let ms = 1000.0 / per_second;
        figures.push(Figure {
            unit: Unit::Ms,
            name: "single-row saves (per save)",
            p50_ms: ms,
            p99_ms: ms,
            target: ">= 5,000 saves/s",
            met: Some(per_second >= 5_000.0),
        });
    }
    if wanted(options, "compile") {
        // performance.md §2: cost grows as the work grows; the target is at 50 files.
        let sizes: [(usize, &'static str, &'static str); 3] = [
            (10, "compile a 10-file app", "(reported)"),
            (50, "compile a 50-file app", "<= 25 ms"),
            (500, "compile a 500-file app", "(reported)"),
        ];
        for (files, name, target) in sizes {
            let project_dir = dir.join(format!("compile{files}"));
            write_project(&project_dir, files)?;
            let mut times = Vec::new();
            for _ in 0..10 {
                let started = Instant::now();
                let project = flin_check::load(&project_dir).map_err(|e| e.to_string())?;
                flin_runtime::build(project)
                    .map_err(|_| "the generated app does not compile".to_string())?;
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            let (p50, p99) = percentiles(&mut times);
            figures.push(Figure {
                unit: Unit::Ms,
                name,
                p50_ms: p50,
                p99_ms: p99,
                target,
                met: (files == 50).then_some(p50 <= 25.0),
            });
        }
    }
    if wanted(options, "page") || wanted(options, "list") || wanted(options, "idle") {
        // The compile projects are not part of the served app.
        for files in [10, 50, 500] {
            let _ = std::fs::remove_dir_all(dir.join(format!("compile{files}")));
        }
        drop(client);
        drop(server);
        figures.extend(loopback(dir, options)?);
    }
    Ok(figures)
}

/// The same pages end to end over loopback HTTP (performance.md §4: reported beside the
/// in-server figures, not held to their targets): `flin start` on the seeded project,
/// keep-alive connections each sending one request after another, at 1 and at 32
/// connections.
fn loopback(dir: &Path, options: &Options) -> Result<Vec<Figure>, String> {
    use std::io::{BufRead, BufReader};
    let exe = std::env::current_exe().map_err(|e| format!("cannot find flin: {e}"))?;
    let mut child = std::process::Command::new(exe)
        .args(["start", ".", "--port", "0"])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let stdout = child.stdout.take().ok_or("the server has no output")?;
    let mut log = BufReader::new(stdout);
    // The line saying where the server listens (the job scheduler may speak first).
    let mut first = String::new();
    for _ in 0..20 {
        first.clear();
        if log.read_line(&mut first).unwrap_or(0) == 0 || first.contains("http://") {
            break;
        }
    }
    // The request log lines are read and dropped, so the server never blocks on them.
    std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
    let address = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string);
    let result = match address {
        Some(address) => {
            let mut figures = Vec::new();
            if wanted(options, "idle") {
                figures.extend(idle_memory(&address, child.id())?);
            }
            let pages: [(&str, &str, &'static str, &'static str); 2] = [
                (
                    "page",
                    "/simple",
                    "simple page, loopback 1 conn",
                    "simple page, loopback 32 conn",
                ),
                (
                    "list",
                    "/list?c=c3",
                    "entity list, loopback 1 conn",
                    "entity list, loopback 32 conn",
                ),
            ];
            for (name, path, one, many) in pages {
                if !wanted(options, name) {
                    continue;
                }
                for (connections, label) in [(1usize, one), (32, many)] {
                    let (p50, p99) = load(&address, path, connections, options.requests)?;
                    figures.push(Figure {
                        unit: Unit::Ms,
                        name: label,
                        p50_ms: p50,
                        p99_ms: p99,
                        target: "(reported)",
                        met: None,
                    });
                }
            }
            Ok(figures)
        }
        None => Err(format!("the server did not start: {}", first.trim())),
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// performance.md §4 "Idle server": the server's RSS after one request to each page and
/// read route of the workload, before any semantic search; then after the first one.
fn idle_memory(address: &str, pid: u32) -> Result<Vec<Figure>, String> {
    let rss_mb = || -> Result<f64, String> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_err(|e| format!("cannot read the server's memory: {e}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .ok_or_else(|| "the server's memory is not reported".to_string())
    };
    let visit = |path: &str| -> Result<(), String> {
        let mut stream = std::net::TcpStream::connect(address)
            .map_err(|e| format!("cannot connect to {address}: {e}"))?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        std::io::Write::write_all(&mut stream, request.as_bytes()).map_err(|e| e.to_string())?;
        read_response(&mut stream, &mut Vec::new()).map_err(|e| format!("{path}: {e}"))
    };
    for path in [
        "/simple",
        "/list?c=c3",
        "/item/1",
        "/todo",
        "/api/search?q=river+market",
    ] {
        visit(path)?;
    }
    // Let the server finish what follows a request (its log, freeing the request).
    std::thread::sleep(std::time::Duration::from_millis(200));
    let idle = rss_mb()?;
    visit("/api/hybrid?q=river+market")?;
    std::thread::sleep(std::time::Duration::from_millis(200));
    let searched = rss_mb()?;
    Ok(vec![
        Figure {
            name: "idle server RSS",
            unit: Unit::Mb,
            p50_ms: idle,
            p99_ms: 0.0,
            target: "<= 10 MB",
            met: Some(idle <= 10.0),
        },
        Figure {
            name: "RSS after a semantic search",
            unit: Unit::Mb,
            p50_ms: searched,
            p99_ms: 0.0,
            target: "(reported)",
            met: None,
        },
    ])
}

/// `requests` GETs of `path` over `connections` keep-alive connections (each sends its
/// next request when the last answer is in); each request's time, P50 and P99 in ms.
fn load(
    address: &str,
    path: &str,
    connections: usize,
    requests: usize,
) -> Result<(f64, f64), String> {
    let per_connection = (requests / connections).max(20);
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let address = address.to_string();
            let path = path.to_string();
            std::thread::spawn(move || -> Result<Vec<f64>, String> {
                let mut stream = std::net::TcpStream::connect(&address)
                    .map_err(|e| format!("cannot connect to {address}: {e}"))?;
                let _ = stream.set_nodelay(true);
                let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
                let mut times = Vec::with_capacity(per_connection);
                let mut buffer = Vec::new();
                for _ in 0..per_connection {
                    let started = Instant::now();
                    std::io::Write::write_all(&mut stream, request.as_bytes())
                        .map_err(|e| format!("the server closed the connection: {e}"))?;
                    read_response(&mut stream, &mut buffer)?;
                    times.push(started.elapsed().as_secs_f64() * 1000.0);
                }
                Ok(times)
            })
        })
        .collect();
    let mut times = Vec::new();
    for worker in workers {
        match worker.join() {
            Ok(Ok(mine)) => times.extend(mine),
            Ok(Err(message)) => return Err(message),
            Err(_) => return Err("a load thread failed".into()),
        }
    }
    Ok(percentiles(&mut times))
}

/// Reads one HTTP/1.1 response with a `content-length` (what FLIN answers pages with).
fn read_response(stream: &mut std::net::TcpStream, buffer: &mut Vec<u8>) -> Result<(), String> {
    use std::io::Read;
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head =
                String::from_utf8_lossy(buffer.get(..end).unwrap_or_default()).to_ascii_lowercase();
            if !head.starts_with("http/1.1 200") {
                return Err(format!(
                    "the server answered {}",
                    head.lines().next().unwrap_or("")
                ));
            }
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or("an answer without content-length")?;
            let total = end + 4 + length;
            while buffer.len() < total {
                let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("the server closed the connection".into());
                }
                buffer.extend_from_slice(chunk.get(..n).unwrap_or_default());
            }
            buffer.drain(..total);
            return Ok(());
        }
        let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buffer.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

fn percentiles(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((times.len().saturating_sub(1)) as f64 * q).round() as usize;
        times.get(i).copied().unwrap_or(0.0)
    };
    (at(0.5), at(0.99))
}

fn print(figures: &[Figure], json: bool) {
    if json {
        for f in figures {
            println!(
                "{}",
                match f.unit {
                    Unit::Ms =>
                        serde_json::json!({ "name": f.name, "p50_ms": f.p50_ms, "p99_ms": f.p99_ms, "target": f.target, "met": f.met }),
                    Unit::Mb =>
                        serde_json::json!({ "name": f.name, "mb": f.p50_ms, "target": f.target, "met": f.met }),
                }
            );
        }
        return;
    }
    println!(
        "{:<30} {:>10} {:>10}  target",
        "operation", "P50 ms", "P99 ms"
    );
    for f in figures {
        let (p50, p99) = match f.unit {
            Unit::Ms => (format!("{:.3}", f.p50_ms), format!("{:.3}", f.p99_ms)),
            Unit::Mb => (format!("{:.1} MB", f.p50_ms), "-".to_string()),
        };
        println!(
            "{:<30} {:>10} {:>10}  {:<20} {}",
            f.name,
            p50,
            p99,
            f.target,
            match f.met {
                Some(true) => "met",
                Some(false) => "NOT met",
                None => "",
            }
        );
    }
    println!(
        "(in the server, in-process, except the loopback figures: end to end over HTTP on 127.0.0.1; debug builds are far slower: use a release build)"
    );
}

/// A generated project of `files` files (entities, lib functions, pages, routes).
fn write_project(dir: &Path, files: usize) -> Result<(), String> {
    let write = |path: &str, text: String| -> Result<(), String> {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&full, text).map_err(|e| e.to_string())
    };
    let entities = (files / 5).max(1);
    let libs = (files / 5).max(1);
    let apps = ((files - entities - libs) / 2).max(1);
    for e in 0..entities {
        let fields: String = (0..12)
            .map(|k| format!("    field{k}: text = \"\"\n"))
            .collect();
        write(
            &format!("entities/Thing{e}.flin"),
            format!("entity Thing{e} {{\n    name: text\n    count: int = 0\n{fields}}}\n"),
        )?;
    }
    for l in 0..libs {
        let mut text = String::new();
        for k in 0..40 {
            let e = (l + k) % entities;
            text.push_str(&format!(
                "fn helper{l}_{k}(limit: int) -> int {{\n    total = 0\n    for i in 0..limit {{\n        if i % 3 == 0 {{\n            total = total + i * {}\n        }} else {{\n            total = total - 1\n        }}\n    }}\n    total + Thing{e}.count\n}}\n\n",
                k + 1
            ));
        }
        write(&format!("lib/helpers{l}.flin"), text)?;
    }
    for a in 0..apps {
        let e = a % entities;
        let l = a % libs;
        let rows: String = (0..100)
            .map(|k| {
                format!(
                    "        <tr><td>{{t.name}}</td><td>{{t.field{}}}</td></tr>\n",
                    k % 12
                )
            })
            .collect();
        let handlers: String = (0..20)
            .map(|k| format!("fn step{k}() {{\n    count = count + {k}\n    shown = helper{l}_{}(count)\n}}\n\n", k % 40))
            .collect();
        write(
            &format!("app/page{a}.flin"),
            format!(
                "count = 0\nshown = 0\nthings = Thing{e}.order(name).limit(20)\n\n{handlers}<h1>{{count}} / {{shown}}</h1>\n<button click={{step1()}}>+</button>\n<table>\n    {{for t in things}}\n{rows}    {{/for}}\n</table>\n"
            ),
        )?;
        write(
            &format!("app/api/things{a}.flin"),
            format!("route GET {{\n    Thing{e}.where(count > 0).limit(10)\n}}\n"),
        )?;
    }
    Ok(())
}
