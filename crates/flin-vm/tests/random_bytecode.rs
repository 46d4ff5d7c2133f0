//! Random bytecode through the verifier, and what it accepts through the VM (STYLE.md
//! rule 14): no panic, whatever the instructions. `fuzz/fuzz_targets/vm.rs` runs the
//! same property under libFuzzer without limit; this runs 20,000 programs from fixed
//! seeds on every `cargo test`.

use arbitrary::Unstructured;

/// A small xorshift generator: the same bytes on every run.
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

#[test]
fn whatever_the_verifier_accepts_runs_without_a_panic() {
    // On a stack as large as a server's VM worker has (calls through built-ins nest
    // the interpreter on it).
    let run = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(run_random_programs)
        .unwrap_or_else(|e| panic!("{e}"));
    if let Err(panic) = run.join() {
        std::panic::resume_unwind(panic);
    }
}

fn run_random_programs() {
    let mut accepted = 0;
    let only: Option<u64> = std::env::var("FLIN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok());
    for seed in 0..20_000u64 {
        if only.is_some_and(|o| o != seed) {
            continue;
        }
        let data = bytes(seed, 1024);
        let mut u = Unstructured::new(&data);
        let Ok(code) = flin_vm::fuzzing::program(&mut u) else {
            continue;
        };
        if std::env::var("FLIN_FUZZ_TRACE").is_ok() {
            eprintln!("seed {seed}\n{code}");
        }
        if flin_vm::fuzzing::verify_and_run(code) {
            accepted += 1;
        }
    }
    eprintln!("{accepted} of 20,000 random programs were accepted and ran");
    // The property is only tested if some programs get through.
    assert!(
        accepted > 100,
        "only {accepted} random programs were accepted"
    );
}
