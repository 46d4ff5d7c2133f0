//! `flin fmt` over every `.flin` file of the repository (examples, conformance programs,
//! fixtures, fuzz seeds): the formatted text parses to the same syntax tree (the
//! formatter refuses otherwise, and no file is refused), and formatting it again
//! changes nothing.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use flin_syntax::format::{NotFormatted, format};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.')
                && name != "target"
                && name != "node_modules"
                && name != "corpus"
            {
                files(&path, out);
            }
        } else if name.ends_with(".flin") {
            out.push(path);
        }
    }
}

#[test]
fn every_file_formats_to_the_same_tree_and_formatting_is_idempotent() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut all = Vec::new();
    files(&root, &mut all);
    assert!(all.len() > 300, "{} files", all.len());
    let mut formatted_count = 0;
    for path in &all {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        match format(&text) {
            Ok(once) => {
                formatted_count += 1;
                let twice = format(&once)
                    .unwrap_or_else(|e| panic!("{}: {e:?} the second time", path.display()));
                assert_eq!(
                    twice,
                    once,
                    "{}: a second format changed it",
                    path.display()
                );
            }
            Err(NotFormatted::SyntaxErrors) => {}
            Err(NotFormatted::WouldChangeMeaning) => {
                panic!("{}: formatting would change its meaning", path.display())
            }
        }
    }
    assert!(formatted_count > 300, "{formatted_count} formatted");
}
