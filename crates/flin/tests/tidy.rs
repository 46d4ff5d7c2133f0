//! House rules that a test can check (STYLE.md): every Rust module opens with a `//!`
//! comment saying what it owns, and every crate takes the workspace lints (which deny
//! `unwrap`, `expect`, `panic` and unchecked indexing in code user input can reach).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn crates_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_module_opens_with_a_doc_comment() {
    let mut files = Vec::new();
    for krate in std::fs::read_dir(crates_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        for sub in ["src", "tests", "benches", "examples"] {
            rust_files(&krate.path().join(sub), &mut files);
        }
    }
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|file| {
            !std::fs::read_to_string(file)
                .unwrap_or_default()
                .starts_with("//!")
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a `//!` comment saying what they own:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_crate_uses_the_workspace_lints() {
    let mut without = Vec::new();
    for krate in std::fs::read_dir(crates_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let manifest = std::fs::read_to_string(krate.path().join("Cargo.toml")).unwrap_or_default();
        if !manifest.contains("[lints]\nworkspace = true") {
            without.push(krate.path().display().to_string());
        }
    }
    assert!(
        without.is_empty(),
        "crates without `[lints] workspace = true`: {without:?}"
    );
}
