//! Type-checking speed, end to end as `flin check` runs it: read the files, parse them and
//! check them on all cores. Two workloads (performance.md §1, §3):
//! - `check_project`: the generated project of 211 files and 102,066 lines (target at
//!   least 300,000 lines per second on 2 cores);
//! - `check_50_files`: an app of 50 such files (target at most 25 ms).
//!
//! Run: `cargo bench -p flin-check --bench check`.

#![allow(clippy::panic)] // a benchmark fails loudly on broken input

use std::path::Path;

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};

#[path = "../../flin-syntax/benches/project.rs"]
mod project;

fn main() {
    divan::main();
}

/// Writes the first `n_files` generated pages and the shared entities under `dir`.
fn write_project(dir: &Path, n_files: usize) -> usize {
    let _ = std::fs::create_dir_all(dir.join("app"));
    let _ = std::fs::create_dir_all(dir.join("entities"));
    let _ = std::fs::write(dir.join("entities/common.flin"), project::COMMON);
    let mut lines = project::COMMON.lines().count();
    for idx in 0..n_files {
        let text = project::generated_file(idx);
        lines += text.lines().count();
        let _ = std::fs::write(dir.join(format!("app/page_{idx}.flin")), text);
    }
    lines
}

fn run(bencher: Bencher, n_files: usize) {
    let dir =
        std::env::temp_dir().join(format!("flin-bench-check-{n_files}-{}", std::process::id()));
    let lines = write_project(&dir, n_files);
    let project = flin_check::load(&dir).unwrap_or_else(|err| panic!("{err}"));
    let checked = flin_check::check(&project);
    assert!(
        checked.diagnostics.is_empty(),
        "the generated project has diagnostics: {:?}",
        checked.diagnostics.first()
    );
    bencher.counter(ItemsCount::new(lines)).bench(|| {
        let project = flin_check::load(black_box(&dir)).unwrap_or_else(|err| panic!("{err}"));
        black_box(flin_check::check(&project))
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[divan::bench(sample_count = 30)]
fn check_project(bencher: Bencher) {
    run(bencher, project::N_FILES);
}

#[divan::bench(sample_count = 100)]
fn check_50_files(bencher: Bencher) {
    run(bencher, 50);
}
