//! The web: the axum server behind `flin dev` and `flin start`, file-based routing,
//! server-rendered and live pages, API routes, middleware, guards, sessions, static
//! files, uploads and WebSockets (spec/web.md, spec/services.md).
//!
//! Not built yet: this crate is the place for issue "Web".
//!
//! Invariant: only this crate knows HTTP. FLIN code never runs on the async reactor: a
//! request becomes a unit of work handed to the runtime's VM workers.
