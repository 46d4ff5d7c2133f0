//! The FLIN virtual machine: values (at most 16 bytes each), the interpreter loop and the
//! standard library of language.md §12 that needs neither the database nor the web.
//!
//! Not built yet: this crate is the place for issue "Compiler and VM".
//!
//! Invariant: the VM knows nothing of HTTP or SQL. Entities, queries, search, sessions
//! and sockets reach it through one host trait that `flin-runtime` implements, so the VM
//! can run scripts, tests and requests alike and be tested on its own.
