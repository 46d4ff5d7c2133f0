//! `flin build [path] [-o file]` and `flin start app.flinb` (cli.md §4): a project checked
//! and compiled into one file — the bytecode (functions, the pages' static pieces,
//! routes, jobs, sockets), the entities' schema and the sources (for error messages) —
//! with a format version and the compiler's version. A bundle runs without parsing or
//! checking; one from another FLIN version is refused.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use flin_check::Project;
use flin_diagnostics::Sources;
use flin_runtime::Built;
use flin_vm::ProgramCode;

/// Bumped whenever the bundle's layout changes.
const FORMAT: u32 = 1;

/// What a bundle holds after its first line (`flin-bundle <format> <version>`), in
/// postcard (compact binary serde).
#[derive(serde::Serialize, serde::Deserialize)]
struct Bundle {
    single_file: bool,
    /// Each source file's path and text.
    sources: Vec<(String, String)>,
    code: ProgramCode,
}

const MAGIC: &str = "flin-bundle";

/// Whether `path` names a bundle.
pub fn is_bundle(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "flinb")
}

pub fn build(path: &Path, output: Option<PathBuf>) -> ExitCode {
    let built = match crate::run::build(path) {
        Ok(built) => built,
        Err(code) => return code,
    };
    let root = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map_or_else(PathBuf::new, Path::to_path_buf)
    };
    let output = output.unwrap_or_else(|| root.join("dist").join("app.flinb"));
    let bytes = match encode(&built) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(1);
        }
    };
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Err(err) = std::fs::create_dir_all(parent) {
            eprintln!("error: cannot create {}: {err}", parent.display());
            return ExitCode::from(1);
        }
    }
    // Written aside, then moved in place: a server starting meanwhile never reads half.
    let temp = output.with_extension("flinb.part");
    if let Err(err) = std::fs::write(&temp, &bytes).and_then(|()| std::fs::rename(&temp, &output)) {
        let _ = std::fs::remove_file(&temp);
        eprintln!("error: cannot write {}: {err}", output.display());
        return ExitCode::from(1);
    }
    println!(
        "built {} ({} files, {} functions, {:.1} KB); run it with: flin start {}",
        output.display(),
        built.project.sources.len(),
        built.code.functions.len(),
        bytes.len() as f64 / 1024.0,
        output.display()
    );
    ExitCode::SUCCESS
}

/// A built program as a bundle's bytes.
fn encode(built: &Built) -> Result<Vec<u8>, String> {
    let bundle = Bundle {
        single_file: built.project.single_file,
        sources: built
            .project
            .sources
            .iter()
            .map(|s| (s.path.clone(), s.text.clone()))
            .collect(),
        code: (*built.code).clone(),
    };
    let header = format!("{MAGIC} {FORMAT} {}\n", env!("CARGO_PKG_VERSION"));
    let body =
        postcard::to_allocvec(&bundle).map_err(|err| format!("cannot write the bundle: {err}"))?;
    Ok([header.into_bytes(), body].concat())
}

/// Writes a built program as a bundle in the temporary folder, readable by its owner
/// only (`flin start` hands it to the serving process).
pub fn write_temp(built: &Built) -> Result<PathBuf, String> {
    let bytes = encode(built)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let path =
        std::env::temp_dir().join(format!("flin-start-{}-{nanos}.flinb", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, &bytes));
    written.map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    Ok(path)
}

/// Reads a bundle: the program as `flin start` runs it. Its folder is the app's root
/// (its `.flindb/`, `public/`, `flin.toml`).
pub fn load(path: &Path) -> Result<Built, String> {
    let bytes =
        std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let not_a_bundle = || {
        format!(
            "{} is not a FLIN bundle (or it is damaged): make it again with `flin build`",
            path.display()
        )
    };
    let end = bytes
        .iter()
        .take(200)
        .position(|b| *b == b'\n')
        .ok_or_else(not_a_bundle)?;
    let header =
        std::str::from_utf8(bytes.get(..end).unwrap_or_default()).map_err(|_| not_a_bundle())?;
    let mut parts = header.split(' ');
    if parts.next() != Some(MAGIC) {
        return Err(not_a_bundle());
    }
    let format = parts.next().unwrap_or("?");
    let version = parts.next().unwrap_or("?");
    let here = env!("CARGO_PKG_VERSION");
    if format != FORMAT.to_string() || version != here {
        return Err(format!(
            "{} was built by FLIN {version} (bundle format {format}); this is FLIN {here} (format {FORMAT}): build it again with this `flin build`",
            path.display()
        ));
    }
    let bundle: Bundle = postcard::from_bytes(bytes.get(end + 1..).unwrap_or_default())
        .map_err(|_| not_a_bundle())?;
    // Checked as the compiler checks its own output: a bundle edited by hand never
    // reaches the VM.
    flin_vm::verify::verify(&bundle.code).map_err(|err| {
        format!(
            "{} does not verify (function {} at {}: {}): build it again with `flin build`",
            path.display(),
            err.function,
            err.pc,
            err.problem
        )
    })?;
    let mut sources = Sources::new();
    for (file, text) in bundle.sources {
        sources.add(file, text);
    }
    let root = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    Ok(Built {
        project: Project {
            root,
            sources,
            diagnostics: Vec::new(),
            single_file: bundle.single_file,
        },
        code: Arc::new(bundle.code),
        warnings: Vec::new(),
    })
}
