//! Live pages in a real browser: runs `tests/browser/*.test.mjs` (node's test runner
//! driving headless Chromium through playwright-core) against this build's `flin`
//! binary. The README's counter and notes examples, the todo and notes apps, two
//! browsers seeing each other's edits, focus and caret across patches, keyed lists,
//! reconnects, failures, forms without JavaScript, `on_mount`, login, forged ids; and
//! with FLIN_TEST_POSTGRES_URL, a live page on one server following a write on another.
//!
//! Needs Node.js, Chromium (`apt-get install chromium`, or `CHROMIUM=/path`) and the
//! test's packages (`npm ci --prefix tests/browser`); `.ci/run` installs them. Missing,
//! the test fails and says what to install: a browser test that skips proves nothing.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

#[test]
fn live_pages_work_in_a_real_browser() {
    let browser_tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing: Vec<String> = [
        (
            Command::new("node").arg("--version").output().is_err(),
            "Node.js (`apt-get install nodejs`)".to_string(),
        ),
        (
            !Path::new(&chromium).exists(),
            format!("Chromium at {chromium} (`apt-get install chromium`, or set CHROMIUM)"),
        ),
        (
            !browser_tests.join("node_modules/playwright-core").exists(),
            "the test's packages (`npm ci --prefix tests/browser`)".to_string(),
        ),
    ]
    .into_iter()
    .filter(|(absent, _)| *absent)
    .map(|(_, what)| what)
    .collect();
    assert!(
        missing.is_empty(),
        "the browser tests need: {}",
        missing.join("; ")
    );
    let output = Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(["live.test.mjs", "scale_out.test.mjs"])
        .current_dir(&browser_tests)
        .env("FLIN_BIN", env!("CARGO_BIN_EXE_flin"))
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
    assert!(output.status.success(), "browser tests failed:\n{report}");
    // Tests ran (a runner that found no test passes too).
    let passed = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("ℹ pass "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    assert!(passed >= 20, "{passed} browser tests passed:\n{report}");
}
