//! The runtime: turns a project into running units of work — a script run, a test
//! (later a request, an event, a job run, a socket message) — each on a VM with its own
//! limits, and reports what happened.
//!
//! Invariant: the runtime knows nothing of HTTP. The web crate hands it units of work
//! and turns their results into responses.

mod db_host;
mod script;

pub use db_host::{DbHost, from_datum, store_error};
pub use flin_store::{Durability, Location, Store};
pub use script::{
    Built, ScriptOutcome, TestApp, TestClient, TestOutcome, TestResult, build, run_script,
    run_tests,
};
