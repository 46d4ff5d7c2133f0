//! The web: the axum server behind `flin dev` and `flin start`, file-based routing,
//! server-rendered pages, API routes, static files (spec/web.md). Still to come:
//! middleware, guards, sessions, components, live pages, uploads and WebSockets.
//!
//! Invariant: only this crate knows HTTP. FLIN code never runs on the async reactor: a
//! request becomes a unit of work handed to a pool of VM worker threads.

mod config;
mod dev;
mod host;
mod json;
mod page;
pub mod routes;
mod server;
mod session;
mod static_files;
mod unit;
mod validate;

pub use config::options;
pub use server::{App, Options, prepare, serve};
