//! The FLIN virtual machine: values (16 bytes each), the instruction set, the
//! interpreter loop and the standard library of language.md §12 that needs neither the
//! database nor the web.
//!
//! Read [`value`] (the value and its layout), then [`opcode`] (every instruction), then
//! [`vm`] (the dispatch loop). [`display`] is the display form of §13; [`builtins`] the
//! library; [`program`] what the compiler hands over.
//!
//! Invariant: the VM knows nothing of HTTP or SQL. Output, entities, queries, sessions
//! and sockets reach it through [`host::Host`], so it runs scripts, tests and requests
//! alike and can be tested on its own. Invariant: it knows nothing of FLIN syntax beyond
//! spans (for errors) and interned names.

pub mod access;
pub mod builtins;
pub mod cycles;
pub mod display;
pub mod entity;
pub mod error;
pub mod file;
pub mod frames;
#[cfg(feature = "arbitrary")]
pub mod fuzzing;
pub mod host;
pub mod html;
pub mod iter;
pub mod json;
pub mod memory;
pub mod opcode;
pub mod ops;
pub mod program;
pub mod query;
pub mod reference;
pub mod snapshot;
pub mod value;
pub mod verify;
pub mod vm;
pub mod writes;

pub use error::RuntimeError;
pub use host::{CaptureHost, Host, HttpCall, HttpReply, PersistOp, SocketOp, StdHost};
pub use opcode::{Constant, Op, TypeTest};
pub use program::{
    CaptureFrom, FunctionCode, JobCode, Program, ProgramCode, RouteCode, Schedule, SocketCode,
    TestCode,
};
pub use value::Value;
pub use vm::{Limits, Vm};
