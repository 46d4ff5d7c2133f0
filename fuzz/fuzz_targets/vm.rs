//! Fuzzes the bytecode verifier and the VM: random functions of arbitrary
//! instructions (`flin_vm::fuzzing`); whatever the verifier accepts must run without
//! a panic, to its end, an error, or its step, depth, time or memory limit.
//!
//! Run: `fuzz/run vm` (see fuzz/README.md).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(code) = flin_vm::fuzzing::program(&mut u) {
        flin_vm::fuzzing::verify_and_run(code);
    }
});
