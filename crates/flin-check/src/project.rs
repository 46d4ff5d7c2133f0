//! Loading a project: one `.flin` file, or every `.flin` file under a folder.
//!
//! Files are sorted by path so ids, and therefore diagnostics, come out in the same
//! order on every machine. Folders that hold data or tools rather than source
//! (`.flindb`, hidden folders, `target`, `node_modules`) are skipped.

use std::fmt;
use std::path::{Path, PathBuf};

use flin_diagnostics::{Diagnostic, Sources, Span};

/// The source files of one program.
#[derive(Debug)]
pub struct Project {
    /// The folder the program lives in (for a single file, its folder).
    pub root: PathBuf,
    pub sources: Sources,
    /// Problems found while reading files (a file that is not UTF-8).
    pub diagnostics: Vec<Diagnostic>,
    /// A single file checked on its own: every declaration in it is visible in it, and
    /// it has no components or layouts.
    pub single_file: bool,
}

#[derive(Debug)]
pub enum LoadError {
    NotFound(PathBuf),
    NotFlin(PathBuf),
    Io(PathBuf, std::io::Error),
    TooLarge(PathBuf),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound(path) => write!(f, "no file or folder at `{}`", path.display()),
            LoadError::NotFlin(path) => write!(f, "`{}` is not a `.flin` file", path.display()),
            LoadError::Io(path, err) => write!(f, "cannot read `{}`: {err}", path.display()),
            LoadError::TooLarge(path) => write!(f, "`{}` is larger than 4 GiB", path.display()),
        }
    }
}

impl std::error::Error for LoadError {}

impl Project {
    /// A program of one file given as text (a script held in memory, a test).
    pub fn from_text(name: &str, text: &str) -> Project {
        let mut sources = Sources::new();
        sources.add(name.to_string(), text.to_string());
        Project {
            root: PathBuf::new(),
            sources,
            diagnostics: Vec::new(),
            single_file: true,
        }
    }
}

/// Reads the program at `path`: a `.flin` file or a project folder.
pub fn load(path: &Path) -> Result<Project, LoadError> {
    let metadata = std::fs::metadata(path).map_err(|_| LoadError::NotFound(path.to_path_buf()))?;
    let (root, mut files) = if metadata.is_dir() {
        let mut files = Vec::new();
        collect(path, &mut files)?;
        (path.to_path_buf(), files)
    } else {
        if path.extension().and_then(|e| e.to_str()) != Some("flin") {
            return Err(LoadError::NotFlin(path.to_path_buf()));
        }
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (root, vec![path.to_path_buf()])
    };
    files.sort();
    let mut sources = Sources::new();
    let mut diagnostics = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).map_err(|err| LoadError::Io(file.clone(), err))?;
        if bytes.len() >= u32::MAX as usize {
            return Err(LoadError::TooLarge(file));
        }
        let shown = file.strip_prefix(&root).unwrap_or(&file);
        let shown = if metadata.is_dir() {
            shown.to_path_buf()
        } else {
            file.clone()
        };
        let shown = shown.to_string_lossy().replace('\\', "/");
        match String::from_utf8(bytes) {
            Ok(text) => {
                sources.add(shown, text);
            }
            Err(err) => {
                let valid_up_to = err.utf8_error().valid_up_to() as u32;
                let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
                let id = sources.add(shown, text);
                diagnostics.push(
                    Diagnostic::error(
                        "E0001",
                        id,
                        Span::new(valid_up_to, valid_up_to + 1),
                        "file is not valid UTF-8",
                    )
                    .with_label("invalid bytes start here")
                    .with_help("save the file as UTF-8"),
                );
            }
        }
    }
    Ok(Project {
        root,
        sources,
        diagnostics,
        single_file: !metadata.is_dir(),
    })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|err| LoadError::Io(dir.to_path_buf(), err))?;
    for entry in entries {
        let entry = entry.map_err(|err| LoadError::Io(dir.to_path_buf(), err))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            collect(&path, out)?;
        } else if path.extension().and_then(|e| e.to_str()) == Some("flin") {
            out.push(path);
        }
    }
    Ok(())
}
