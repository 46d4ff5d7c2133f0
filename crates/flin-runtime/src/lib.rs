//! The runtime: units of work (a script run, a request, an event, a job run, a WebSocket
//! message), each on one VM worker inside one database transaction, with a time limit and
//! a step budget; it implements the VM's host trait over `flin-store` and `flin-search`.
//!
//! Not built yet: this crate is the place for issues "Compiler and VM" (scripts) and
//! "FlinDB" (units of work).
//!
//! Invariant: the runtime knows nothing of HTTP. The web crate hands it units of work and
//! turns their results into responses.
