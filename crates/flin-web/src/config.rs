//! `flin.toml` (cli.md §2), all optional: `[server] port host max_body request_timeout
//! max_connections header_timeout idle_timeout request_memory max_inflight_bodies
//! per_client trusted_proxies`, `[session] idle max_age secure`, `[database]
//! url durability pool`, `[search] model`, `[uploads] max_size storage_url`, `[security] headers csp`, `[live] max_event`. Every key can be
//! overridden by an environment variable (`FLIN_SERVER_PORT=8080`; a list as
//! `FLIN_SERVER_TRUSTED_PROXIES=10.0.0.1,10.0.0.2`), and `--port` overrides both.

use std::path::Path;
use std::time::Duration;

use crate::server::Options;

/// The options for serving the project at `root`.
pub fn options(root: &Path, port_flag: Option<u16>, dev: bool) -> Result<Options, String> {
    let path = root.join("flin.toml");
    let table: toml::Table = match std::fs::read_to_string(&path) {
        Ok(text) => text
            .parse()
            .map_err(|e| format!("error: {} is not valid TOML: {e}", path.display()))?,
        Err(_) => toml::Table::new(),
    };
    check_keys(&table, &path)?;
    let setting = |section: &str, key: &str| -> Option<String> {
        let env = format!("FLIN_{}_{}", section.to_uppercase(), key.to_uppercase());
        if let Ok(value) = std::env::var(&env) {
            return Some(value);
        }
        match table.get(section)?.get(key)? {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Boolean(b) => Some(b.to_string()),
            toml::Value::Float(f) => Some(f.to_string()),
            toml::Value::Array(items) => Some(
                items
                    .iter()
                    .map(|item| match item {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Integer(i) => i.to_string(),
                        _ => String::new(),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            _ => None,
        }
    };
    let bad = |what: &str, value: &str, expected: &str| {
        format!(
            "error: {what} is `{value}` (in flin.toml or its FLIN_ variable); expected {expected}"
        )
    };
    let mut options = Options {
        dev,
        ..Options::default()
    };
    if let Some(port) = setting("server", "port") {
        options.port = port
            .parse()
            .map_err(|_| bad("server.port", &port, "a port number"))?;
    }
    if let Some(port) = port_flag {
        options.port = port;
    }
    if let Some(host) = setting("server", "host") {
        options.host = host;
    }
    if let Some(size) = setting("server", "max_body") {
        options.max_body =
            parse_size(&size).ok_or_else(|| bad("server.max_body", &size, "a size as \"25MB\""))?;
    }
    if let Some(time) = setting("server", "request_timeout") {
        options.time_limit = parse_duration(&time)
            .ok_or_else(|| bad("server.request_timeout", &time, "a duration as \"30s\""))?;
    }
    let size = |section: &str, key: &str, target: &mut usize| -> Result<(), String> {
        if let Some(text) = setting(section, key) {
            *target = parse_size(&text)
                .filter(|n| *n > 0)
                .ok_or_else(|| bad(&format!("{section}.{key}"), &text, "a size as \"256MB\""))?;
        }
        Ok(())
    };
    let duration = |section: &str, key: &str, target: &mut Duration| -> Result<(), String> {
        if let Some(text) = setting(section, key) {
            *target = parse_duration(&text)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| bad(&format!("{section}.{key}"), &text, "a duration as \"10s\""))?;
        }
        Ok(())
    };
    let count = |section: &str, key: &str, target: &mut usize| -> Result<(), String> {
        if let Some(text) = setting(section, key) {
            *target =
                text.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    bad(&format!("{section}.{key}"), &text, "a whole number above 0")
                })?;
        }
        Ok(())
    };
    count("server", "max_connections", &mut options.max_connections)?;
    duration("server", "header_timeout", &mut options.header_timeout)?;
    duration("server", "idle_timeout", &mut options.idle_timeout)?;
    size("server", "request_memory", &mut options.request_memory)?;
    size(
        "server",
        "max_inflight_bodies",
        &mut options.max_inflight_bodies,
    )?;
    count("server", "per_client", &mut options.per_client)?;
    duration("jobs", "timeout", &mut options.job_timeout)?;
    size("ws", "max_message", &mut options.ws.max_message)?;
    duration("ws", "ping", &mut options.ws.ping)?;
    duration("ws", "timeout", &mut options.ws.timeout)?;
    if let Some(list) = setting("server", "trusted_proxies") {
        options.trusted_proxies = list
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.parse()
                    .map_err(|_| bad("server.trusted_proxies", a, "IP addresses"))
            })
            .collect::<Result<_, _>>()?;
    }
    duration("session", "idle", &mut options.session.idle)?;
    duration("session", "max_age", &mut options.session.max_age)?;
    if let Some(secure) = setting("session", "secure") {
        options.session.always_secure = match secure.as_str() {
            "true" => true,
            "auto" | "false" => false,
            _ => return Err(bad("session.secure", &secure, "\"auto\" or true")),
        };
    }
    if let Some(headers) = setting("security", "headers") {
        options.security_headers = headers != "false";
    }
    if let Some(csp) = setting("security", "csp") {
        options.csp = csp;
    }
    if let Some(durability) = setting("database", "durability") {
        if flin_runtime::Durability::parse(&durability).is_none() {
            return Err(bad(
                "database.durability",
                &durability,
                "\"full\" or \"relaxed\"",
            ));
        }
        // The store reads it from the environment.
        options.durability = durability;
    }
    // `search.model`: "builtin", or a model folder relative to the project.
    if let Some(model) = setting("search", "model") {
        let model = model.trim();
        if model.is_empty() {
            return Err(bad(
                "search.model",
                model,
                "\"builtin\", or the path of a model folder (model.safetensors and tokenizer.json)",
            ));
        }
        if model != "builtin" {
            options.search_model = Some(root.join(model));
        }
    }
    size("uploads", "max_size", &mut options.uploads_max_size)?;
    if let Some(size) = setting("live", "max_event") {
        options.live.max_event = parse_size(&size).filter(|n| *n >= 1024).ok_or_else(|| {
            bad(
                "live.max_event",
                &size,
                "a size of at least \"1KB\", as \"64KB\"",
            )
        })?;
    }
    // Settings of the spec this build does not act on yet: said at start-up, so a
    // setting never silently does nothing.
    // `database.url`: the project's SQLite file, or PostgreSQL (data.md §10). Any other
    // would leave the app writing somewhere else than meant: refused.
    if let Some(url) = setting("database", "url") {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            options.postgres = Some(url.to_string());
        } else if let Some(file) = url.strip_prefix("sqlite:").filter(|f| !f.is_empty()) {
            options.sqlite_file = Some(root.join(file.strip_prefix("//").unwrap_or(file)));
        } else {
            return Err(bad(
                "database.url",
                url,
                "`sqlite:.flindb/flin.db` or `postgres://user@host:5432/db`",
            ));
        }
    }
    if let Some(pool) = setting("database", "pool") {
        options.pool = pool
            .trim()
            .parse()
            .ok()
            .filter(|n| (2..=1000).contains(n))
            .ok_or_else(|| {
                bad(
                    "database.pool",
                    &pool,
                    "a number of connections from 2 to 1000",
                )
            })?;
    }
    // `uploads.storage_url`: a folder (`file:///mnt/shared/blobs`, or a path from the
    // project). Object stores are not built in: a folder every server mounts serves.
    if let Some(url) = setting("uploads", "storage_url") {
        let url = url.trim();
        let path = url.strip_prefix("file://").unwrap_or(url);
        if path.is_empty() || url.contains("://") && !url.starts_with("file://") {
            return Err(bad(
                "uploads.storage_url",
                url,
                "a folder, as \"file:///mnt/shared/blobs\" (object stores such as S3 are not supported by this version: mount one folder on every server)",
            ));
        }
        options.blob_dir = Some(root.join(path));
    }
    let unsupported = [("auth", "entity", "User")];
    for (section, key, default) in unsupported {
        if let Some(value) = setting(section, key) {
            let is_default = !default.is_empty() && value.starts_with(default);
            if !is_default {
                options.unsupported.push(format!(
                    "{section}.{key} = \"{value}\" is not supported by this version of FLIN yet: it has no effect"
                ));
            }
        }
    }
    Ok(options)
}

/// Where the project at `root` keeps its data: in memory (`memory`), on the PostgreSQL
/// database `database.url` names, or in `.flindb/flin.db`. Servers sharing PostgreSQL
/// must share the secret key that signs sessions and links (data.md §10).
pub fn location(
    root: &Path,
    memory: bool,
    options: &Options,
) -> Result<flin_runtime::Location, String> {
    use flin_runtime::Location;
    if memory {
        return Ok(Location::Memory);
    }
    match &options.postgres {
        Some(url) => {
            if std::env::var("FLIN_SECRET_KEY").is_err() {
                return Err("error: FLIN_SECRET_KEY must be set when the database is PostgreSQL: every server of the app signs sessions, live-page tokens and file links with it, so they must share it\n  = help: set FLIN_SECRET_KEY to the same random text of at least 32 characters on every server (e.g. `openssl rand -hex 32`)".into());
            }
            Ok(Location::Postgres {
                url: url.clone(),
                pool: options.pool,
                schema: None,
            })
        }
        None => Ok(Location::File(sqlite_file(root, options))),
    }
}

/// The SQLite file of the project at `root`: `database.url = "sqlite:PATH"`, else
/// `.flindb/flin.db`.
pub fn sqlite_file(root: &Path, options: &Options) -> std::path::PathBuf {
    options
        .sqlite_file
        .clone()
        .unwrap_or_else(|| root.join(".flindb").join("flin.db"))
}

/// Uses the embedding model `search.model` of the project at `root` names (the
/// commands that open an app's database without serving it: run, db, shell). A
/// project folder, or the folder of a script.
pub fn select_model(path: &Path) -> Result<(), String> {
    let root = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    let options = options(root, None, false)?;
    flin_search::embedder::configure(options.search_model.as_deref())
        .map_err(|err| format!("error: {err}"))
}

/// Every key `flin.toml` knows, by section (cli.md §2).
const KNOWN: &[(&str, &[&str])] = &[
    (
        "server",
        &[
            "port",
            "host",
            "max_body",
            "request_timeout",
            "max_connections",
            "header_timeout",
            "idle_timeout",
            "request_memory",
            "max_inflight_bodies",
            "per_client",
            "trusted_proxies",
        ],
    ),
    ("session", &["idle", "max_age", "secure"]),
    ("database", &["url", "durability", "pool"]),
    ("search", &["model"]),
    ("uploads", &["max_size", "storage_url"]),
    ("jobs", &["timeout"]),
    ("ws", &["max_message", "ping", "timeout"]),
    ("live", &["max_event"]),
    ("auth", &["entity"]),
    ("security", &["headers", "csp"]),
];

/// An unknown section or key is an error naming it and the closest known one (a typo
/// never silently does nothing: cli.md §4).
fn check_keys(table: &toml::Table, path: &Path) -> Result<(), String> {
    let closest = |name: &str, known: &mut dyn Iterator<Item = &str>| -> Option<String> {
        known
            .map(|k| (flin_check::suggest::edit_distance(name, k), k))
            .filter(|(d, k)| *d <= (k.len().max(name.len()) / 2).max(2))
            .min_by_key(|(d, _)| *d)
            .map(|(_, k)| k.to_string())
    };
    for (section, value) in table {
        let Some((_, keys)) = KNOWN.iter().find(|(s, _)| s == section) else {
            let hint = match closest(section, &mut KNOWN.iter().map(|(s, _)| *s)) {
                Some(near) => format!("did you mean `[{near}]`?"),
                None => format!(
                    "the sections are {}",
                    KNOWN
                        .iter()
                        .map(|(s, _)| format!("[{s}]"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err(format!(
                "error: {} has an unknown section `[{section}]`: {hint}",
                path.display()
            ));
        };
        let toml::Value::Table(entries) = value else {
            return Err(format!(
                "error: {}: `{section}` must be a section (`[{section}]`), not a value",
                path.display()
            ));
        };
        for key in entries.keys() {
            if keys.contains(&key.as_str()) {
                continue;
            }
            let hint = match closest(key, &mut keys.iter().copied()) {
                Some(near) => format!("did you mean `{section}.{near}`?"),
                None => format!("`[{section}]` takes {}", keys.join(", ")),
            };
            return Err(format!(
                "error: {} has an unknown key `{section}.{key}`: {hint}",
                path.display()
            ));
        }
    }
    Ok(())
}

fn parse_size(text: &str) -> Option<usize> {
    flin_syntax::units::parse_size(text).and_then(|n| usize::try_from(n).ok())
}

fn parse_duration(text: &str) -> Option<Duration> {
    flin_syntax::units::parse_duration(text).ok()
}

#[cfg(test)]
mod tests {
    // Tests only: an unwrap that fails is the test failing.
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flin_toml_sets_the_server_and_the_port_flag_wins() {
        let dir = std::env::temp_dir().join(format!("flin-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("flin.toml"),
            "[server]\nport = 4010\nmax_body = \"1MB\"\nrequest_timeout = \"500ms\"\nmax_connections = 50\nheader_timeout = \"2s\"\nidle_timeout = \"5s\"\nrequest_memory = \"64MB\"\nmax_inflight_bodies = \"8MB\"\nper_client = 2\ntrusted_proxies = [\"10.0.0.1\"]\n\n[session]\nidle = \"1h\"\nmax_age = \"2d\"\nsecure = true\n\n[security]\nheaders = false\n\n[live]\nmax_event = \"16KB\"\n",
        )
        .unwrap();
        let options = options(&dir, None, false).unwrap();
        assert_eq!(options.port, 4010);
        assert_eq!(options.max_body, 1024 * 1024);
        assert_eq!(options.time_limit, Duration::from_millis(500));
        assert!(!options.security_headers);
        assert_eq!(options.live.max_event, 16 * 1024);
        assert_eq!(options.max_connections, 50);
        assert_eq!(options.header_timeout, Duration::from_secs(2));
        assert_eq!(options.idle_timeout, Duration::from_secs(5));
        assert_eq!(options.request_memory, 64 * 1024 * 1024);
        assert_eq!(options.max_inflight_bodies, 8 * 1024 * 1024);
        assert_eq!(options.per_client, 2);
        assert_eq!(
            options.trusted_proxies,
            vec!["10.0.0.1".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!(options.session.idle, Duration::from_secs(3600));
        assert_eq!(options.session.max_age, Duration::from_secs(2 * 86400));
        assert!(options.session.always_secure);
        assert_eq!(super::options(&dir, Some(5000), false).unwrap().port, 5000);
        std::fs::write(dir.join("flin.toml"), "[server]\nport = \"lots\"\n").unwrap();
        assert!(super::options(&dir, None, false).is_err_and(|e| e.contains("server.port")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
