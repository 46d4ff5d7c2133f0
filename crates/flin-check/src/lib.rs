//! Checking a FLIN program: loading a project's files, parsing them in parallel, and
//! (to come) resolving names and inferring types (spec/language.md §3, §11).
//!
//! [`load`] reads a single `.flin` file or every `.flin` file under a project folder;
//! [`check`] parses each file on the rayon pool and returns the trees with every
//! diagnostic, sorted by file and position.
//!
//! Invariant: this crate knows nothing of bytecode, the VM, the database or HTTP. It
//! answers "is this program well-formed, and what does each name mean"; later phases
//! trust its answer.

mod project;

use std::sync::OnceLock;

use flin_diagnostics::{Diagnostic, FileId};
use flin_syntax::ast;
use rayon::prelude::*;

pub use project::{LoadError, Project, load};

/// The parsed files of a project and every diagnostic found.
#[derive(Debug)]
pub struct Checked {
    pub files: Vec<(FileId, ast::File)>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
}

/// Parses every file of the project, in parallel.
pub fn check(project: &Project) -> Checked {
    let files: Vec<_> = project.sources.iter().collect();
    let parse_all = || {
        files
            .par_iter()
            .map(|source| {
                let parsed = flin_syntax::parse(&source.text, source.id);
                ((source.id, parsed.file), parsed.diagnostics)
            })
            .collect::<Vec<_>>()
    };
    let results = match pool() {
        Some(pool) => pool.install(parse_all),
        None => parse_all(),
    };
    let mut diagnostics = project.diagnostics.clone();
    let mut trees = Vec::with_capacity(results.len());
    for (tree, mut file_diagnostics) in results {
        trees.push(tree);
        diagnostics.append(&mut file_diagnostics);
    }
    diagnostics.sort_by_key(Diagnostic::sort_key);
    Checked {
        files: trees,
        diagnostics,
    }
}

/// The compile pool: rayon's threads with a stack deep enough for the parser's nesting
/// limit in debug builds too.
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(32 * 1024 * 1024)
            .thread_name(|idx| format!("flin-compile-{idx}"))
            .build()
            .ok()
    })
    .as_ref()
}
