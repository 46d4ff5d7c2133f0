//! Entities as a user runs them (data.md): data kept in `.flindb/` beside a script and
//! found again by the next run, a failed run leaving nothing behind, `--memory`, a fresh
//! database per test, schema evolution at start-up and its errors, the `flin db` tools,
//! and a damaged or locked database file.

// Helpers fail the test by panicking, as assertions do.
#![allow(clippy::panic)]

mod common;

use common::{flin, stderr, stdout, temp};

use std::path::Path;
use std::process::Output;

fn write(dir: &Path, name: &str, text: &str) {
    if let Err(err) = std::fs::write(dir.join(name), text) {
        panic!("cannot write {name}: {err}");
    }
}

/// Runs `text` as `app.flin` in `dir`; returns the output.
fn run(dir: &Path, text: &str) -> Output {
    write(dir, "app.flin", text);
    flin(&["run", "app.flin"], dir)
}

fn ok(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    stdout(output)
}

const NOTE: &str = "entity Note { body: text @required }\n";

#[test]
fn data_stays_beside_the_script_and_the_next_run_finds_it() {
    let dir = temp();
    let script = format!("{NOTE}save Note {{ body: \"hello\" }}\nprint(Note.count)\n");
    assert_eq!(ok(&run(dir.path(), &script)), "1\n");
    assert_eq!(ok(&run(dir.path(), &script)), "2\n");
    assert!(dir.path().join(".flindb").join("flin.db").exists());
}

#[test]
fn memory_keeps_nothing_on_disk() {
    let dir = temp();
    write(
        dir.path(),
        "app.flin",
        &format!("{NOTE}save Note {{ body: \"hello\" }}\nprint(Note.count)\n"),
    );
    assert_eq!(
        ok(&flin(&["run", "--memory", "app.flin"], dir.path())),
        "1\n"
    );
    assert_eq!(
        ok(&flin(&["run", "--memory", "app.flin"], dir.path())),
        "1\n"
    );
    assert!(!dir.path().join(".flindb").exists());
}

#[test]
fn a_script_that_fails_leaves_none_of_its_writes() {
    let dir = temp();
    let failing = format!(
        "{NOTE}save Note {{ body: \"a\" }}\nsave Note {{ body: \"b\" }}\nprint(Note.count)\nfail(\"stop\")\n"
    );
    let output = run(dir.path(), &failing);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "2\n");
    assert!(stderr(&output).contains("stop"), "{}", stderr(&output));
    assert_eq!(
        ok(&run(dir.path(), &format!("{NOTE}print(Note.count)\n"))),
        "0\n"
    );
}

#[test]
fn a_validation_error_names_the_field_and_saves_nothing() {
    let dir = temp();
    let output = run(
        dir.path(),
        &format!("{NOTE}save Note {{ body: \"ok\" }}\nsave Note {{ body: \"  \" }}\n"),
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("error[validation]: body is required"), "{err}");
    assert!(err.contains("app.flin:3"), "{err}");
    assert_eq!(
        ok(&run(dir.path(), &format!("{NOTE}print(Note.count)\n"))),
        "0\n"
    );
}

#[test]
fn each_test_gets_a_fresh_database() {
    let dir = temp();
    write(
        dir.path(),
        "notes.flin",
        &format!(
            "{NOTE}test \"one\" {{\n  save Note {{ body: \"x\" }}\n  assert_eq(Note.count, 1)\n}}\ntest \"two\" {{\n  save Note {{ body: \"y\" }}\n  save Note {{ body: \"z\" }}\n  assert_eq(Note.count, 2)\n}}\n"
        ),
    );
    let output = flin(&["test", "notes.flin"], dir.path());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(!dir.path().join(".flindb").exists());
}

#[test]
fn schema_changes_apply_at_start_up_and_unsafe_ones_stop_it_with_the_fix() {
    let dir = temp();
    ok(&run(
        dir.path(),
        "entity Note { body: text }\nsave Note { body: \"one\" }\nsave Note { body: \"two\" }\n",
    ));
    // New optional and defaulted fields: applied; existing rows get the default.
    assert_eq!(
        ok(&run(
            dir.path(),
            "entity Note { body: text; pinned: bool = false; tag: text? }\nfor n in Note.all { print(n.body, n.pinned, n.tag) }\n"
        )),
        "one false none\ntwo false none\n"
    );
    // A new required field without a default on rows that exist: stops, says why and how.
    let output = run(
        dir.path(),
        "entity Note { body: text; pinned: bool = false; tag: text?; owner: text }\nprint(Note.count)\n",
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("entity Note"), "{err}");
    assert!(err.contains("`owner`"), "{err}");
    assert!(err.contains("2 existing rows"), "{err}");
    assert!(err.contains("help: give it a default"), "{err}");
    assert_eq!(stdout(&output), "");
    // A rename keeps the data.
    assert_eq!(
        ok(&run(
            dir.path(),
            "entity Note { text: text @renamed_from(\"body\"); pinned: bool = false; tag: text? }\nfor n in Note.all { print(n.text) }\n"
        )),
        "one\ntwo\n"
    );
    // A type change that loses data stops start-up.
    let output = run(
        dir.path(),
        "entity Note { text: int; pinned: bool = false; tag: text? }\nprint(Note.count)\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("changes type from text to int"),
        "{}",
        stderr(&output)
    );
    // A removed field keeps its data: declaring it again brings it back.
    assert_eq!(
        ok(&run(
            dir.path(),
            "entity Note { text: text }\nprint(Note.count)\n"
        )),
        "2\n"
    );
    assert_eq!(
        ok(&run(
            dir.path(),
            "entity Note { text: text; tag: text? }\nfor n in Note.all { print(n.text) }\n"
        )),
        "one\ntwo\n"
    );
    // A new @unique that rows violate stops start-up.
    ok(&run(
        dir.path(),
        "entity Note { text: text; tag: text? }\nsave Note { text: \"one\" }\n",
    ));
    let output = run(
        dir.path(),
        "entity Note { text: text @unique; tag: text? }\nprint(Note.count)\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("is now @unique"),
        "{}",
        stderr(&output)
    );
    // `flin db prune` deletes what is no longer declared (the field `pinned`).
    write(
        dir.path(),
        "app.flin",
        "entity Note { text: text; tag: text? }\n",
    );
    let pruned = ok(&flin(&["db", "prune", "app.flin"], dir.path()));
    assert!(pruned.contains("pruned removed field pinned"), "{pruned}");
    let again = ok(&flin(&["db", "prune", "app.flin"], dir.path()));
    assert!(again.contains("nothing to prune"), "{again}");
    // Every applied change is recorded.
    let schema = ok(&flin(&["db", "schema", "app.flin"], dir.path()));
    for change in [
        "created entity Note",
        "added field pinned: bool",
        "renamed field body to text",
        "removed field pinned",
        "pruned removed field pinned",
    ] {
        assert!(
            schema.contains(change),
            "`{change}` missing from:\n{schema}"
        );
    }
}

#[test]
fn backup_and_restore_bring_the_data_back() {
    let dir = temp();
    ok(&run(
        dir.path(),
        &format!("{NOTE}save Note {{ body: \"kept\" }}\n"),
    ));
    ok(&flin(&["db", "backup", "copy.db", "app.flin"], dir.path()));
    assert_eq!(
        ok(&run(
            dir.path(),
            &format!("{NOTE}for n in Note.all {{ destroy n }}\nprint(Note.count)\n")
        )),
        "0\n"
    );
    // A backup never overwrites a file.
    let again = flin(&["db", "backup", "copy.db", "app.flin"], dir.path());
    assert_eq!(again.status.code(), Some(1));
    ok(&flin(&["db", "restore", "copy.db", "app.flin"], dir.path()));
    assert_eq!(
        ok(&run(
            dir.path(),
            &format!("{NOTE}for n in Note.all {{ print(n.body) }}\n")
        )),
        "kept\n"
    );
    // A file that is not a backup is refused, and the database is untouched.
    write(dir.path(), "junk.db", "not a database at all, just text");
    let refused = flin(&["db", "restore", "junk.db", "app.flin"], dir.path());
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("junk.db"), "{}", stderr(&refused));
    assert_eq!(
        ok(&run(dir.path(), &format!("{NOTE}print(Note.count)\n"))),
        "1\n"
    );
}

#[test]
fn a_damaged_database_file_is_a_clear_error_and_is_left_alone() {
    let dir = temp();
    let flindb = dir.path().join(".flindb");
    if let Err(err) = std::fs::create_dir_all(&flindb) {
        panic!("{err}");
    }
    let junk = "this is not an SQLite database ".repeat(200);
    write(&flindb, "flin.db", &junk);
    let output = run(dir.path(), &format!("{NOTE}print(Note.count)\n"));
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("damaged") || err.contains("not a FLIN database"),
        "{err}"
    );
    assert!(err.contains("flin db restore"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        std::fs::read_to_string(flindb.join("flin.db"))
            .ok()
            .as_deref(),
        Some(junk.as_str())
    );
}

#[test]
fn db_tools_without_a_database_say_so() {
    let dir = temp();
    let output = flin(&["db", "schema"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("there is no database"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_example_library_remembers_between_runs_and_its_tests_pass() {
    let dir = temp();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scripts/library.flin");
    let text = match std::fs::read_to_string(&example) {
        Ok(text) => text,
        Err(err) => panic!("{err}"),
    };
    let first = ok(&run(dir.path(), &text));
    for line in [
        "Stocked 3 books by 2 writers.",
        "Lent \"Frankenstein\" (now borrowed 1 times, version 2).",
        "  Frankenstein                     Mary Shelley   Genre.Novel  1 loans",
        "Pages on the shelves: 826; most expensive: 14.25 EUR",
        "Books per genre: {Genre.Novel: 2, Genre.Science: 1}",
        "Frankenstein has 2 versions; before the last save it had 0 loans.",
    ] {
        assert!(first.contains(line), "missing `{line}` in:\n{first}");
    }
    let second = ok(&run(dir.path(), &text));
    assert!(!second.contains("Stocked"), "{second}");
    assert!(
        second
            .contains("Lent \"Notes on the Analytical Engine\" (now borrowed 1 times, version 2)."),
        "{second}"
    );
    let tests = flin(&["test", "app.flin"], dir.path());
    assert_eq!(tests.status.code(), Some(0), "{}", stdout(&tests));
    assert!(stdout(&tests).ends_with("2 tests: 2 passed, 0 failed\n"));
}

#[test]
fn a_database_held_by_another_writer_is_a_clear_error_after_waiting() {
    let dir = temp();
    ok(&run(
        dir.path(),
        &format!("{NOTE}save Note {{ body: \"first\" }}\n"),
    ));
    // Another process (here: this test) holds the write lock.
    let holder = match rusqlite::Connection::open(dir.path().join(".flindb").join("flin.db")) {
        Ok(conn) => conn,
        Err(err) => panic!("{err}"),
    };
    if let Err(err) = holder.execute_batch("BEGIN IMMEDIATE") {
        panic!("{err}");
    }
    let output = run(
        dir.path(),
        &format!("{NOTE}save Note {{ body: \"second\" }}\n"),
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("locked by another process"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    if let Err(err) = holder.execute_batch("ROLLBACK") {
        panic!("{err}");
    }
    drop(holder);
    assert_eq!(
        ok(&run(dir.path(), &format!("{NOTE}print(Note.count)\n"))),
        "1\n"
    );
}

#[test]
fn a_place_the_database_cannot_be_made_is_a_clear_error() {
    let dir = temp();
    // `.flindb` is a file, not a folder.
    write(dir.path(), ".flindb", "in the way");
    let output = run(dir.path(), &format!("{NOTE}print(Note.count)\n"));
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains(".flindb"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
