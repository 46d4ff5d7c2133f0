//! No leak across units of work (issue: compiler and VM): a million calls, each making
//! texts, lists, maps, records, closures, errors and a reference cycle, leave the
//! process's memory where a hundred thousand calls left it; so do ten thousand script
//! runs, each on a fresh VM.
//!
//! Memory is the resident set read from `/proc/self/statm` (Linux): a leak of even
//! 16 bytes a call would grow it by 16 MB over the run; the bound below is 4 MB.

// Helpers fail the test by panicking, as assertions do.
#![allow(clippy::panic)]
#![cfg(target_os = "linux")]

use std::rc::Rc;

use flin_check::Project;
use flin_vm::{CaptureHost, Limits, Program, Value, Vm};

const WORK: &str = r#"
fn work(i: int) -> int {
    name = "item {i}"
    xs = [i, i + 1, i + 2].map(x => x * 2)
    m = { "a": i, "b": xs.length }
    r = { name: name, size: xs.length }
    add = (y: int) => y + i
    counter = 0
    bump = () => { counter += 1 }
    bump()
    // A closure kept in a variable it captures: a reference cycle.
    again = (n: int) => 0
    again = (n: int) => n <= 0 ? 0 : again(n - 1)
    e = try fail("no {i}")
    lost = match e {
        Ok(_) -> 0
        Err(err) -> err.message.length
    }
    return add(m["a"] ?? 0) + r.size + counter + lost + name.length + again(3)
}
"#;

/// The resident set is the whole process's: tests that measure it take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn built(source: &str) -> flin_runtime::Built {
    match flin_runtime::build(Project::from_text("work.flin", source)) {
        Ok(built) => built,
        Err((_, diagnostics)) => panic!("does not compile: {diagnostics:?}"),
    }
}

#[test]
fn a_million_calls_keep_memory_flat() {
    let _turn = one_at_a_time();
    let built = built(WORK);
    let Some(work) = built
        .code
        .functions
        .iter()
        .position(|f| f.name.is_some_and(|n| n.as_str() == "work"))
    else {
        panic!("no function `work`");
    };
    let program = Rc::new(Program::load(built.code.clone()));
    let mut host = CaptureHost::default();
    let mut vm = Vm::new(program, &mut host);
    vm.limits = Limits::default();
    let mut call = |i: i64| match vm.run_function(work as u32, &[Value::Int(i)]) {
        Ok(Value::Int(n)) => n,
        other => panic!("call {i} gave {other:?}"),
    };
    for i in 0..100_000 {
        call(i);
    }
    let warm = resident_bytes();
    let mut checksum = 0;
    for i in 100_000..1_000_000 {
        checksum += call(i);
    }
    let after = resident_bytes();
    assert!(checksum > 0);
    assert!(
        after <= warm + 4 * 1024 * 1024,
        "memory grew from {warm} to {after} bytes over 900,000 calls"
    );
}

#[test]
fn ten_thousand_script_runs_keep_memory_flat() {
    let _turn = one_at_a_time();
    let built = built(&format!("{WORK}\nprint(work(7))\n"));
    let run = || {
        let mut host = CaptureHost::default();
        match flin_runtime::run_script(&built, &mut host, Limits::default(), None) {
            flin_runtime::ScriptOutcome::Finished => assert_eq!(host.output, "28\n"),
            flin_runtime::ScriptOutcome::Failed(err) => panic!("{err}"),
        }
    };
    for _ in 0..1_000 {
        run();
    }
    let warm = resident_bytes();
    for _ in 0..9_000 {
        run();
    }
    let after = resident_bytes();
    assert!(
        after <= warm + 4 * 1024 * 1024,
        "memory grew from {warm} to {after} bytes over 9,000 runs"
    );
}

#[test]
fn cycles_are_freed_and_live_values_are_kept() {
    let _turn = one_at_a_time();
    // Cycles made by closures kept in variables they capture, one of them still in use
    // when the collector runs.
    let built = built(
        r#"
fn make_cycles() -> int {
    again = (n: int) => 0
    again = (n: int) => n <= 0 ? 0 : again(n - 1)
    return again(5)
}
fn counter() -> () -> int {
    count = 0
    step = () => 0
    step = () => { count += 1; return count > 100 ? step() : count }
    return step
}
keep = counter()
for i in 0..10 { make_cycles() }
keep()
print(keep())
"#,
    );
    let mut host = CaptureHost::default();
    let program = Rc::new(Program::load(built.code.clone()));
    let mut vm = Vm::new(program, &mut host);
    for (_, entry) in &built.code.entries {
        if let Err(err) = vm.run_function(*entry, &[]) {
            panic!("{err}");
        }
    }
    // While the VM lives, `keep` is a global: collecting frees the ten dead cycles but
    // not the live counter, which still counts.
    let collected = flin_vm::cycles::collect();
    assert!(collected.freed >= 10, "{collected:?}");
    let Some(keep) = built
        .code
        .globals
        .iter()
        .position(|(_, name)| name.as_str() == "keep")
    else {
        panic!("no global `keep`");
    };
    let counter = vm.globals[keep].clone();
    match vm.call_value(&counter, &[]) {
        Ok(Value::Int(3)) => {}
        other => panic!("the live counter was broken: {other:?}"),
    }
    drop(vm);
    drop(counter);
    assert_eq!(host.output, "2\n");
    // With the VM gone, the counter's cycle goes too.
    let after = flin_vm::cycles::collect();
    assert_eq!(
        after.freed, 3,
        "a cell, its closure and the count cell: {after:?}"
    );
    assert_eq!(flin_vm::cycles::collect().freed, 0);
}

/// Runs a script with at most `limit` bytes of values.
fn run_limited(source: &str, limit: usize) -> Result<String, flin_vm::RuntimeError> {
    let built = built(source);
    let mut host = CaptureHost::default();
    let limits = Limits {
        max_memory: Some(limit),
        ..Limits::default()
    };
    match flin_runtime::run_script(&built, &mut host, limits, None) {
        flin_runtime::ScriptOutcome::Finished => Ok(host.output),
        flin_runtime::ScriptOutcome::Failed(err) => Err(err),
    }
}

#[test]
fn values_past_the_memory_limit_fail_the_unit_and_garbage_does_not_count() {
    let _turn = one_at_a_time();
    let limit = 32 * 1024 * 1024;
    // Kept values: a list that grows past the limit fails with a clear error (503 in a
    // server) instead of taking the process's memory.
    let kept = run_limited(
        "xs = []\nfor i in 0..10000000 {\n    xs.push(\"item number {i}\")\n}\nprint(xs.length)\n",
        limit,
    );
    let Err(err) = kept else {
        panic!("a 10-million-item list fit in 32 MB: {kept:?}");
    };
    assert_eq!(err.status, Some(503), "{err}");
    assert!(err.message.contains("32 MB"), "{}", err.message);
    // Doubling a text: caught before one allocation takes it all.
    let doubled = run_limited(
        "s = \"x\"\nfor i in 0..40 {\n    s = s + s\n}\nprint(s.length)\n",
        limit,
    );
    assert!(doubled.is_err_and(|e| e.status == Some(503)));
    let repeated = run_limited("print(\"abc\".repeat(20000000).length)\n", limit);
    assert!(repeated.is_err_and(|e| e.status == Some(503)));
    // Values made and dropped (400 MB allocated over the run, little held at once).
    let churn = run_limited(
        "n = 0\nfor i in 0..1000000 {\n    s = \"x\".repeat(300)\n    pair = [s + \"!\", s]\n    n += pair.length\n}\nprint(n)\n",
        limit,
    );
    assert_eq!(churn.unwrap_or_else(|e| panic!("{e}")), "2000000\n");
}
