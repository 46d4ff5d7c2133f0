//! The web: the axum server behind `flin dev` and `flin start`, file-based routing,
//! server-rendered pages that stay live in the browser, API routes, middleware, guards,
//! sessions, static files (spec/web.md), file uploads (spec/services.md §2). Still to
//! come: WebSockets.
//!
//! Invariant: only this crate knows HTTP. FLIN code never runs on the async reactor: a
//! request becomes a unit of work handed to a pool of VM worker threads.

mod blobs;
mod config;
mod connections;
mod csrf;
mod dev;
mod error_page;
mod files;
#[doc(hidden)]
pub mod fuzzing;
mod host;
pub mod jobs;
mod json;
mod live;
mod logs;
mod page;
mod render;
pub mod routes;
mod server;
mod session;
mod sockets;
mod static_files;
pub mod testing;
mod unit;
mod uploads;
mod validate;
mod workers;
pub use workers::{NETWORK_STACK, NETWORK_THREAD};

pub use config::{options, select_model, sqlite_file};
pub use live::LiveSettings;
pub use logs::{flush as flush_logs, line as log};
pub use server::{App, Options, prepare, serve};
pub use session::SessionSettings;
pub use sockets::SocketSettings;
