//! Source positions and diagnostics: the vocabulary every phase of FLIN reports in.
//!
//! A [`SourceFile`] is a path plus its text; a [`Span`] is a byte range inside one file;
//! a [`Diagnostic`] is an error or warning with a stable code, a primary span, optional
//! secondary labels and a help line. [`render`] prints diagnostics rustc-style for people
//! and as JSON lines for editors (spec/cli.md §3).
//!
//! Invariant: this crate knows nothing of FLIN's syntax, types or runtime. Every other
//! crate (the parser, the checker, the VM for runtime errors) reports through it, so it
//! must stay the lowest crate in the workspace.

mod diagnostic;
mod render;
mod source;
mod span;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use render::{Color, render_human, render_json};
pub use source::{FileId, LineCol, SourceFile, Sources};
pub use span::Span;
