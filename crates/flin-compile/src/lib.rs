//! Compiling checked FLIN to a `Program`: bytecode for code, static pieces and dynamic
//! holes for views, and query plans for `where`/`order`/`limit` chains (DESIGN.md).
//! Files compile in parallel, one module each.
//!
//! Not built yet: this crate is the place for issue "Compiler and VM".
//!
//! Invariant: the compiler knows nothing of how the VM executes, of SQL or of HTTP. It
//! emits instructions defined by `flin-vm`'s opcode table and query plans the store turns
//! into SQL, so each back end can change without touching it.
