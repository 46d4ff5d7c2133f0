//! The `flin` command as a user runs it: `flin check` on files and projects, its human
//! and JSON output and exit codes, and the commands that are not built yet. `flin run`
//! and `flin test` are in `run.rs`.

// Helpers fail the test by panicking, as assertions do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::{flin, stderr, stdout, temp};

fn write(dir: &std::path::Path, path: &str, text: &[u8]) {
    let full = dir.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).unwrap_or_default();
    }
    std::fs::write(full, text).unwrap_or_default();
}

#[test]
fn check_accepts_a_valid_file() {
    let dir = temp();
    write(
        dir.path(),
        "hello.flin",
        b"name = \"world\"\nprint(\"hello {name}\")\n",
    );
    let output = flin(&["check", "hello.flin"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "checked 1 file: no problems\n");
}

#[test]
fn check_reports_every_error_of_a_project_with_paths_and_positions() {
    let dir = temp();
    write(dir.path(), "app/index.flin", b"<h1>Hello</h1>\n");
    write(
        dir.path(),
        "entities/Note.flin",
        b"entity Note {\n    body: text @required\n}\n",
    );
    write(dir.path(), "lib/broken.flin", b"x = (1 +\ny = \"open\n");
    write(
        dir.path(),
        "app/about.flin",
        b"<ul>\n    {for n in notes}\n        <li>{n}</li>\n</ul>\n",
    );
    write(dir.path(), ".flindb/ignored.flin", b"this is not read (");
    let output = flin(&["check", "."], dir.path());
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("--> lib/broken.flin:1:9"), "{text}");
    assert!(
        text.contains("error[E0104]: text is not closed on its line\n  --> lib/broken.flin:2:5"),
        "{text}"
    );
    assert!(
        text.contains("error[E0125]: `{for}` block is not closed\n  --> app/about.flin:2:5"),
        "{text}"
    );
    assert!(
        text.contains("= help: add `{/for}` where the block ends"),
        "{text}"
    );
    assert!(text.ends_with("checked 4 files: 3 errors\n"), "{text}");
}

#[test]
fn check_prints_json_lines_for_editors() {
    let dir = temp();
    write(dir.path(), "a.flin", b"ok = 1\nbad = 1 < 2 < 3\n");
    let output = flin(&["check", "a.flin", "--format", "json"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let first = &lines[0];
    assert_eq!(first["code"], "E0112");
    assert_eq!(first["file"], "a.flin");
    assert_eq!(first["line"], 2);
    assert_eq!(first["column"], 13);
    assert_eq!(first["severity"], "error");
    assert!(
        first["help"]
            .as_str()
            .is_some_and(|help| help.contains("&&"))
    );
    // Exactly the keys of cli.md §4.
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "code",
            "column",
            "end_column",
            "end_line",
            "file",
            "help",
            "labels",
            "line",
            "message",
            "notes",
            "severity"
        ]
    );
    let label = &first["labels"][0];
    assert_eq!(label["file"], "a.flin");
    assert_eq!(label["line"], 2);
    assert!(
        label["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{label}"
    );
    assert!(first["notes"].is_array());
    // The end of the span, in characters.
    write(dir.path(), "b.flin", b"x: int = \"a\"\n");
    let output = flin(&["check", "b.flin", "--format", "json"], dir.path());
    let line: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["code"], "E0320");
    assert_eq!(line["end_column"], 13);
}

#[test]
fn check_reports_a_file_that_is_not_utf8() {
    let dir = temp();
    write(dir.path(), "bad.flin", b"x = \"caf\xe9\"\n");
    let output = flin(&["check", "bad.flin"], dir.path());
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error[E0001]: file is not valid UTF-8\n  --> bad.flin:1:9"),
        "{text}"
    );
}

#[test]
fn check_says_when_the_path_does_not_exist() {
    let dir = temp();
    let output = flin(&["check", "missing"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), "error: no file or folder at `missing`\n");
    write(dir.path(), "notes.txt", b"x");
    let output = flin(&["check", "notes.txt"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is not a `.flin` file"));
}

#[test]
fn bench_runs_the_reference_workload_and_prints_figures_with_targets() {
    let dir = temp();
    let output = flin(
        &[
            "bench",
            "--rows",
            "200",
            "--requests",
            "50",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = lines.iter().filter_map(|l| l["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "simple page render",
            "entity list, 100 items",
            "full-text search",
            "hybrid search",
            "single-row saves (per save)",
            "compile a 10-file app",
            "compile a 50-file app",
            "compile a 500-file app",
            "idle server RSS",
            "RSS after a semantic search",
            "simple page, loopback 1 conn",
            "simple page, loopback 32 conn",
            "entity list, loopback 1 conn",
            "entity list, loopback 32 conn"
        ]
    );
    for line in &lines {
        // Times in ms; the server's memory in MB (a real process: more than 1 MB).
        assert!(
            line["p50_ms"].as_f64().is_some_and(|ms| ms > 0.0)
                || line["mb"].as_f64().is_some_and(|mb| mb > 1.0),
            "{line}"
        );
        // Figures with a target say whether it is met; the others are reported.
        let reported = line["target"] == "(reported)";
        assert!(
            line["target"].as_str().is_some()
                && (line["met"].is_boolean() != reported)
                && (!reported || line["met"].is_null()),
            "{line}"
        );
    }
    let one = flin(
        &["bench", "page", "list", "--rows", "10", "--requests", "20"],
        dir.path(),
    );
    let table = String::from_utf8_lossy(&one.stdout).into_owned();
    assert!(
        table.contains("simple page render")
            && table.contains("entity list, 100 items")
            && !table.contains("hybrid")
            && !table.contains("compile"),
        "{table}{}",
        stderr(&one)
    );
    assert_eq!(
        flin(&["bench", "nothing"], dir.path()).status.code(),
        Some(2)
    );
}

#[test]
fn help_lists_every_command_of_the_spec() {
    let dir = temp();
    let output = flin(&["--help"], dir.path());
    let text = String::from_utf8_lossy(&output.stdout);
    for command in [
        "new", "dev", "start", "run", "check", "test", "fmt", "build", "db", "jobs", "bench",
    ] {
        assert!(
            text.contains(&format!("\n  {command} ")),
            "`{command}` missing from:\n{text}"
        );
    }
}

#[test]
fn the_examples_check_cleanly() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut n_apps = 0;
    for entry in std::fs::read_dir(&examples).into_iter().flatten().flatten() {
        if entry.path().is_dir() {
            n_apps += 1;
            let output = flin(&["check", "."], &entry.path());
            assert_eq!(
                output.status.code(),
                Some(0),
                "{}: {}",
                entry.path().display(),
                stderr(&output)
            );
        }
    }
    assert!(n_apps >= 1, "no example apps under {}", examples.display());
}

#[test]
fn new_writes_a_project_that_checks_cleanly_from_each_template() {
    let dir = temp();
    for template in ["minimal", "todo", "blog"] {
        let name = format!("app_{template}");
        let output = flin(&["new", &name, "--template", template], dir.path());
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let check = flin(&["check", &name], dir.path());
        assert_eq!(
            check.status.code(),
            Some(0),
            "{template}: {}",
            stderr(&check)
        );
        assert!(dir.path().join(&name).join(".gitignore").exists());
    }
    // The templates hold every file of the examples they come from.
    for template in ["todo", "blog"] {
        let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(template);
        let mut expected = Vec::new();
        list(&example, &example, &mut expected);
        let mut written = Vec::new();
        let created = dir.path().join(format!("app_{template}"));
        list(&created, &created, &mut written);
        written.retain(|p| p != ".gitignore");
        expected.sort();
        written.sort();
        assert_eq!(
            written, expected,
            "template {template} is out of date with examples/"
        );
    }
    let again = flin(&["new", "app_todo"], dir.path());
    assert_eq!(again.status.code(), Some(2));
}

fn list(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == ".flindb") {
            continue;
        }
        if path.is_dir() {
            list(root, &path, out);
        } else if let Ok(relative) = path.strip_prefix(root) {
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn a_huge_literal_compiles_and_a_diagnostic_in_it_stays_short() {
    let dir = temp();
    let items: Vec<String> = (0..70_000).map(|i| i.to_string()).collect();
    write(
        dir.path(),
        "big.flin",
        format!(
            "xs = [{}]\nprint(xs.length)\nm = {{ {} }}\nprint(m.length)\n",
            items.join(", "),
            (0..2_000)
                .map(|i| format!("\"k{i}\": {i}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .as_bytes(),
    );
    let run = flin(&["run", "big.flin"], dir.path());
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(common::stdout(&run), "70000\n2000\n");
    write(
        dir.path(),
        "bad.flin",
        format!("xs = [{}, \"x\"]\n", items.join(", ")).as_bytes(),
    );
    let check = flin(&["check", "bad.flin"], dir.path());
    let text = stderr(&check);
    assert!(
        text.contains("error[E0320]"),
        "{}",
        &text[..text.len().min(500)]
    );
    assert!(
        text.len() < 1_000,
        "{} bytes: {}",
        text.len(),
        &text[..text.len().min(500)]
    );
    assert!(
        text.contains("1 | …") && text.contains("69999, \"x\"]"),
        "{text}"
    );
}

/// First-run rough edges (cli.md §4): each a clear message naming what is wrong.
#[test]
fn unknown_flin_toml_keys_are_errors_naming_the_closest_key() {
    let dir = temp();
    write(dir.path(), "app/index.flin", b"<h1>Hi</h1>\n");
    write(dir.path(), "flin.toml", b"[server]\nprot = 3000\n");
    let output = flin(&["start", ".", "--port", "0"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("unknown key `server.prot`") && err.contains("did you mean `server.port`?"),
        "{err}"
    );
    write(dir.path(), "flin.toml", b"[sever]\nport = 3000\n");
    let err = stderr(&flin(&["start", ".", "--port", "0"], dir.path()));
    assert!(
        err.contains("unknown section `[sever]`: did you mean `[server]`?"),
        "{err}"
    );
}

#[test]
fn project_names_must_be_simple_folder_names() {
    let dir = temp();
    for bad in ["bad name", "a/b", ".hidden", ""] {
        let output = flin(&["new", bad], dir.path());
        assert_eq!(output.status.code(), Some(2), "flin new {bad:?}");
        assert!(stderr(&output).contains("cannot name a project"), "{bad:?}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing created"
    );
    assert!(flin(&["new", "my-app_2"], dir.path()).status.success());
}

#[test]
fn a_time_limit_must_be_above_zero() {
    let dir = temp();
    write(dir.path(), "s.flin", b"print(1)\n");
    for args in [
        &["test", "--time-limit", "0s", "."][..],
        &["run", "--time-limit", "0ms", "s.flin"],
    ] {
        let output = flin(args, dir.path());
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains("above zero"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn a_port_in_use_is_named_with_a_hint() {
    let dir = temp();
    write(dir.path(), "app/index.flin", b"<h1>Hi</h1>\n");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = flin(&["start", ".", "--port", &port], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains(&format!("port {port} is in use")) && err.contains("--port"),
        "{err}"
    );
}

#[test]
fn a_damaged_database_is_named_with_the_restore_command() {
    let dir = temp();
    write(
        dir.path(),
        "entities/note.flin",
        b"entity Note {\n    body: text\n}\n",
    );
    write(dir.path(), "app/index.flin", b"<h1>Hi</h1>\n");
    write(dir.path(), ".flindb/flin.db", &[0x5a; 8192]);
    let output = flin(&["start", ".", "--port", "0"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains(".flindb/flin.db") && err.contains("flin db restore"),
        "{err}"
    );
}

/// Every command's help describes each of its arguments and shows an example.
#[test]
fn every_command_describes_its_arguments_with_an_example() {
    let dir = temp();
    let commands: &[&[&str]] = &[
        &["new"],
        &["dev"],
        &["start"],
        &["run"],
        &["check"],
        &["test"],
        &["fmt"],
        &["build"],
        &["jobs"],
        &["db", "schema"],
        &["db", "backup"],
        &["db", "restore"],
        &["db", "prune"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let output = flin(&args, dir.path());
        let help = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{command:?}: {help}");
        assert!(
            help.contains("Example: flin "),
            "{command:?} has no example:\n{help}"
        );
        let mut section = "";
        for line in help.lines() {
            if line.ends_with(':') && !line.starts_with(' ') {
                section = line;
                continue;
            }
            // A line indented deeper continues the description above it (wrapped).
            let continued = line.len() - line.trim_start().len() > 8;
            if (section == "Arguments:" || section == "Options:")
                && line.starts_with("  ")
                && !continued
            {
                // `  --port <PORT>  Port to listen on…`: a name, two spaces, words.
                let described = line
                    .trim_start()
                    .split("  ")
                    .filter(|p| !p.trim().is_empty())
                    .count()
                    >= 2;
                assert!(
                    described,
                    "{command:?}: `{line}` has no description:\n{help}"
                );
            }
        }
    }
}

/// `flin explain` has an entry, with a fix, for every code of the docs' table.
#[test]
fn every_code_is_explained() {
    let dir = temp();
    let table = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/architecture.md"),
    )
    .unwrap();
    let codes: Vec<&str> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| E"))
        .filter_map(|l| l.get(..4))
        .collect();
    assert!(codes.len() > 50, "{codes:?}");
    for digits in codes {
        let output = flin(&["explain", &format!("E{digits}")], dir.path());
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "E{digits}: {}", stderr(&output));
        assert!(
            text.starts_with(&format!("## E{digits}\n")) && text.contains("Fix:"),
            "{text}"
        );
    }
    let output = flin(&["explain", "302"], dir.path());
    assert!(String::from_utf8_lossy(&output.stdout).contains("unknown field `titel`"));
    assert_eq!(
        flin(&["explain", "E9999"], dir.path()).status.code(),
        Some(2)
    );
}

/// A database the app cannot use stops start-up with a reason: another kind than
/// SQLite or PostgreSQL, or PostgreSQL without the secret key servers must share.
#[test]
fn a_database_url_flin_cannot_use_is_refused_at_start() {
    let dir = temp();
    write(dir.path(), "app/index.flin", b"<h1>Hi</h1>\n");
    write(
        dir.path(),
        "flin.toml",
        b"[database]\nurl = \"mysql://db/app\"\n",
    );
    let output = flin(&["start", ".", "--port", "0"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("database.url") && stderr(&output).contains("postgres://"),
        "{}",
        stderr(&output)
    );
    write(
        dir.path(),
        "flin.toml",
        b"[database]\nurl = \"postgres://flin@127.0.0.1:1/app\"\n",
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(["start", ".", "--port", "0"])
        .current_dir(dir.path())
        .env_remove("FLIN_SECRET_KEY")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = format!("{}{}", stderr(&output), stdout(&output));
    assert!(said.contains("FLIN_SECRET_KEY must be set"), "{said}");
}

/// `database.url = "sqlite:PATH"` puts the database where it says.
#[test]
fn a_sqlite_url_names_the_database_file() {
    let dir = temp();
    write(
        dir.path(),
        "flin.toml",
        b"[database]\nurl = \"sqlite:data/app.db\"\n",
    );
    write(
        dir.path(),
        "notes.flin",
        b"entity Note {\n    body: text\n}\n\nsave Note { body: \"hi\" }\nprint(Note.count)\n",
    );
    let run = flin(&["run", "notes.flin"], dir.path());
    assert_eq!(stdout(&run), "1\n", "{}", stderr(&run));
    assert!(dir.path().join("data/app.db").exists());
    assert!(!dir.path().join(".flindb/flin.db").exists());
    let schema = flin(&["db", "schema", "."], dir.path());
    assert!(
        stdout(&schema).contains("entity Note {"),
        "{}",
        stderr(&schema)
    );
}

/// `flin fmt`: `--check` lists what would change (exit 1); formatting writes the
/// canonical layout; a file with syntax errors is reported and left as it is.
#[test]
fn fmt_formats_checks_and_leaves_broken_files_alone() {
    let dir = temp();
    write(
        dir.path(),
        "app/index.flin",
        b"fn f() {\nif true {\n  print(1)\n      }\n}\n\n\n\nx = 1\n",
    );
    write(dir.path(), "app/broken.flin", b"fn (\n");
    let check = flin(&["fmt", ".", "--check"], dir.path());
    assert_eq!(check.status.code(), Some(1));
    let listed = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(listed.contains("would format ./app/index.flin"), "{listed}");
    assert!(
        stderr(&check).contains("broken.flin has syntax errors"),
        "{}",
        stderr(&check)
    );
    let before = std::fs::read_to_string(dir.path().join("app/index.flin")).unwrap();
    assert_eq!(before.lines().count(), 9, "--check changes nothing");
    assert!(flin(&["fmt", "."], dir.path()).status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("app/index.flin")).unwrap(),
        "fn f() {\n    if true {\n        print(1)\n    }\n}\n\nx = 1\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("app/broken.flin")).unwrap(),
        "fn (\n"
    );
    assert_eq!(
        flin(&["fmt", ".", "--check"], dir.path()).status.code(),
        Some(0)
    );
}
