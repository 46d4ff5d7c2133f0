//! What one server commits reaches the others (data.md §10), through PostgreSQL's
//! notifications and nothing else:
//!
//! - a unit of work that wrote sends, inside its transaction, a notification naming the
//!   entity types it changed and the searchable rows it wrote (`NOTIFY` is delivered
//!   only if the transaction commits, and only once it has);
//! - every server listens on a connection of its own: for another server's commit it
//!   reads those rows' index entries into its search memory, then tells the commit
//!   listener, so its live pages re-run what read them (web.md §9);
//! - `broadcast` to a socket room travels the same way (services.md §3); a message too
//!   long for a notification goes through a table and the notification carries its row.
//!
//! A listener that loses the database reconnects; since notifications sent meanwhile are
//! lost, it then reloads its search memory and tells the listener every entity changed.
//! On SQLite there is one server: nothing here runs.

use std::sync::{Arc, Weak};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use serde_json::{Value as Json, json};

use crate::error::{Result, StoreError};
use crate::search::FieldKey;
use crate::store::{Location, Store};

/// The notification channel of the servers on one database (or one schema of it).
pub(crate) fn channel(location: &Location) -> String {
    match crate::store::schema_of(location) {
        Some(schema) => format!("flin_{schema}"),
        None => "flin".into(),
    }
}

/// PostgreSQL refuses notifications of 8,000 bytes or more.
const MAX_PAYLOAD: usize = 7_900;

/// Told `(room, text)` of each broadcast another server made.
pub type BroadcastListener = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// The payload that tells other servers about a commit: the entity types it changed
/// and the searchable rows it wrote (or, when they do not fit, that they should reload
/// their search memory).
pub(crate) fn commit_payload(
    server: &str,
    entities: &[String],
    docs: &[(FieldKey, i64)],
) -> String {
    let rows: Vec<Json> = docs
        .iter()
        .map(|((entity, field), id)| json!([entity, field, id]))
        .collect();
    let full = json!({ "s": server, "c": entities, "d": rows }).to_string();
    if full.len() <= MAX_PAYLOAD {
        return full;
    }
    json!({ "s": server, "c": entities, "reload": true }).to_string()
}

/// Starts the thread that listens for other servers' commits and broadcasts (on
/// PostgreSQL; nothing on SQLite). It ends when the store is dropped.
pub fn listen(store: &Arc<Store>) {
    let Location::Postgres { url, .. } = store.location() else {
        return;
    };
    let url = url.clone();
    let channel = channel(store.location());
    let weak = Arc::downgrade(store);
    let spawned = std::thread::Builder::new()
        .name("flin-listen".into())
        .spawn(move || listen_loop(&url, &channel, &weak));
    if let Err(err) = spawned {
        eprintln!("error: cannot start the database listener: {err}");
    }
}

fn listen_loop(url: &str, channel: &str, store: &Weak<Store>) {
    let mut connected_before = false;
    loop {
        let client = crate::engine::tls_connector()
            .ok()
            .and_then(|tls| postgres::Client::connect(url, tls).ok())
            .and_then(|mut client| {
                client
                    .batch_execute(&format!("LISTEN {}", crate::columns::quote(channel)))
                    .ok()?;
                Some(client)
            });
        let Some(mut client) = client else {
            if store.strong_count() == 0 {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
            continue;
        };
        if connected_before {
            // Notifications sent while this server was not listening are lost.
            match store.upgrade() {
                Some(store) => store.remote_changes_lost(),
                None => return,
            }
        }
        connected_before = true;
        loop {
            let Some(store) = store.upgrade() else {
                return;
            };
            let mut failed = false;
            {
                let mut notifications = client.notifications();
                let mut waiting = notifications.timeout_iter(Duration::from_millis(500));
                loop {
                    match waiting.next() {
                        Ok(Some(note)) => store.remote(note.payload()),
                        Ok(None) => break,
                        Err(_) => {
                            failed = true;
                            break;
                        }
                    }
                }
            }
            if failed || client.is_closed() {
                break;
            }
        }
    }
}

impl Store {
    /// Tells `listener` the broadcasts other servers make.
    pub fn on_broadcast(&self, listener: BroadcastListener) {
        if let Ok(mut slot) = self.broadcasts.write() {
            *slot = Some(listener);
        }
    }

    /// Sends a broadcast to the other servers' sockets (nothing on SQLite).
    pub fn publish_broadcast(&self, room: &str, text: &str) -> Result<()> {
        if !matches!(self.location(), Location::Postgres { .. }) {
            return Ok(());
        }
        let payload = json!({ "s": self.server, "b": room, "t": text }).to_string();
        self.with_notifier(|conn| {
            let payload = if payload.len() <= MAX_PAYLOAD {
                payload
            } else {
                // Too long for a notification: the text waits in a table (a minute).
                conn.execute(
                    "DELETE FROM \"_flin_broadcasts\" WHERE at < ?1",
                    &[crate::store::wall_clock() - 60_000_000],
                )?;
                let id = conn
                    .insert_returning(
                        "INSERT INTO \"_flin_broadcasts\" (at, body) VALUES (?1, ?2) RETURNING id",
                        rusqlite::params![crate::store::wall_clock(), text],
                    )?
                    .ok_or_else(|| StoreError::Database("the broadcast was not stored".into()))?;
                json!({ "s": self.server, "b": room, "ref": id }).to_string()
            };
            conn.execute(
                "SELECT pg_notify(?1, ?2)",
                rusqlite::params![channel(self.location()), payload],
            )?;
            Ok(())
        })
    }

    /// `rate_limit` across servers (PostgreSQL): counts a request under `key` in the
    /// window of `window` µs that began at or after `now - window`, and returns the
    /// count and when that window began. `None` on SQLite (one server counts alone).
    pub fn count_request(
        &self,
        key: &str,
        now: i64,
        window: i64,
        count: bool,
    ) -> Result<Option<(i64, i64)>> {
        if !matches!(self.location(), Location::Postgres { .. }) {
            return Ok(None);
        }
        let add = i64::from(count);
        self.with_notifier(|conn| {
            // One statement: the row lock orders requests from every server.
            conn.query_row(
                "INSERT INTO \"_flin_rates\" (key, start, n) VALUES (?1, ?2, ?4)
                 ON CONFLICT (key) DO UPDATE SET
                     n = CASE WHEN \"_flin_rates\".start <= ?3 THEN ?4 ELSE \"_flin_rates\".n + ?4 END,
                     start = CASE WHEN \"_flin_rates\".start <= ?3 THEN ?2 ELSE \"_flin_rates\".start END
                 RETURNING n, start",
                rusqlite::params![key, now, now - window, add],
                |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?)),
            )
            .map(Some)
        })
    }

    /// One notification from the channel.
    fn remote(&self, payload: &str) {
        let Ok(message) = serde_json::from_str::<Json>(payload) else {
            return;
        };
        if message.get("s").and_then(Json::as_str) == Some(self.server.as_str()) {
            return;
        }
        if let Some(room) = message.get("b").and_then(Json::as_str) {
            let text = match (message.get("t").and_then(Json::as_str), message.get("ref")) {
                (Some(text), _) => Some(text.to_string()),
                (None, Some(id)) => self.stored_broadcast(id.as_i64().unwrap_or(0)),
                _ => None,
            };
            let listener = self.broadcasts.read().ok().and_then(|l| l.clone());
            if let (Some(text), Some(listener)) = (text, listener) {
                listener(room, &text);
            }
            return;
        }
        let entities: Vec<String> = message
            .get("c")
            .and_then(Json::as_array)
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if message.get("reload").is_some() {
            self.reload_search();
        } else if let Some(rows) = message.get("d").and_then(Json::as_array) {
            let docs: Vec<(FieldKey, i64)> = rows
                .iter()
                .filter_map(|row| {
                    let row = row.as_array()?;
                    let entity = row.first()?.as_str()?.to_string();
                    let field = row.get(1)?.as_str()?.to_string();
                    Some(((entity, field), row.get(2)?.as_i64()?))
                })
                .collect();
            if !docs.is_empty() {
                self.refresh_docs(&docs);
            }
        }
        if !entities.is_empty() {
            self.tell_committed(&entities);
        }
    }

    fn stored_broadcast(&self, id: i64) -> Option<String> {
        self.with_notifier(|conn| {
            conn.query_opt(
                "SELECT body FROM \"_flin_broadcasts\" WHERE id = ?1",
                &[id],
                |r| r.get::<String>(0),
            )
        })
        .ok()
        .flatten()
    }

    /// Reads the committed index entries of these rows into memory.
    fn refresh_docs(&self, docs: &[(FieldKey, i64)]) {
        let delta = self.read_unit().and_then(|unit| {
            let delta = unit.db()?.delta(docs);
            unit.rollback()?;
            delta
        });
        match delta {
            Ok(delta) => self.apply_delta(delta),
            Err(_) => self.reload_search(),
        }
    }

    /// The listener was away: everything may have changed.
    fn remote_changes_lost(&self) {
        self.reload_search();
        let all: Vec<String> = self.entities().iter().map(|e| e.name.clone()).collect();
        self.tell_committed(&all);
    }
}
