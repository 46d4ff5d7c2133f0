//! `flin fmt [path] [--check]` (cli.md §4): every `.flin` file of a project (or one
//! file) in the canonical layout. A file with syntax errors is left as it is and
//! reported; `--check` lists the files that would change and exits 1 if any.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use flin_syntax::format::{NotFormatted, format};

pub fn run(path: &Path, check: bool) -> ExitCode {
    let mut files = Vec::new();
    if path.is_dir() {
        collect(path, &mut files);
    } else if path.extension().is_some_and(|e| e == "flin") {
        files.push(path.to_path_buf());
    } else {
        eprintln!(
            "error: `{}` is not a `.flin` file or a folder",
            path.display()
        );
        return ExitCode::from(2);
    }
    files.sort();
    let (mut changed, mut skipped) = (Vec::new(), 0);
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            eprintln!(
                "warning: {} cannot be read as UTF-8 text: left as it is",
                file.display()
            );
            skipped += 1;
            continue;
        };
        match format(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if !check {
                    let temp = file.with_extension("flin.fmt");
                    let written = std::fs::write(&temp, &formatted)
                        .and_then(|()| std::fs::rename(&temp, file));
                    if let Err(err) = written {
                        let _ = std::fs::remove_file(&temp);
                        eprintln!("error: cannot write {}: {err}", file.display());
                        return ExitCode::from(1);
                    }
                }
                changed.push(file.clone());
            }
            Err(NotFormatted::SyntaxErrors) => {
                eprintln!(
                    "warning: {} has syntax errors (`flin check` shows them): left as it is",
                    file.display()
                );
                skipped += 1;
            }
            Err(NotFormatted::WouldChangeMeaning) => {
                eprintln!(
                    "warning: {} cannot be formatted without changing what it means (a bug of `flin fmt`): left as it is",
                    file.display()
                );
                skipped += 1;
            }
        }
    }
    for file in &changed {
        println!(
            "{}{}",
            if check { "would format " } else { "formatted " },
            file.display()
        );
    }
    println!(
        "{} file{}: {} {}{}",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        changed.len(),
        if check { "to format" } else { "formatted" },
        if skipped > 0 {
            format!(", {skipped} left as they are")
        } else {
            String::new()
        }
    );
    if check && !changed.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                collect(&path, out);
            }
        } else if name.ends_with(".flin") {
            out.push(path);
        }
    }
}
