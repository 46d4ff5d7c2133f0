//! `flin db shell` as a user runs it, with piped input: each input a unit of work on the
//! project's database, values in display form, entity lists as tables, `--read-only`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::temp;

fn shell(dir: &std::path::Path, args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flin"))
        .args(["db", "shell"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn project() -> tempfile::TempDir {
    let dir = temp();
    std::fs::create_dir_all(dir.path().join("entities")).unwrap();
    std::fs::create_dir_all(dir.path().join("lib")).unwrap();
    std::fs::write(
        dir.path().join("entities/todo.flin"),
        "entity Todo {\n    title: text\n    done: bool = false\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("lib/todos.flin"),
        "fn open_todos() {\n    Todo.where(done == false)\n}\n",
    )
    .unwrap();
    dir
}

#[test]
fn inputs_run_on_the_database_and_show_their_values() {
    let dir = project();
    let (code, out, err) = shell(
        dir.path(),
        &["."],
        "save Todo { title: \"Buy milk\" }\nsave Todo { title: \"Walk the dog\", done: true }\nTodo.count\nopen_todos()\nfn shout(t: text) -> text {\n    t.upper\n}\nshout(\"hi\")\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out, "2\nid | title    | done\n---+----------+------\n1  | Buy milk | false\n(1 row)\nHI\n",
        "{err}"
    );
    // The writes are in the database, for the next session.
    let (_, out, _) = shell(dir.path(), &["."], "Todo.where(done).first?.title\n");
    assert_eq!(out, "Walk the dog\n");
}

#[test]
fn a_read_only_shell_refuses_writes_and_errors_stop_piped_input() {
    let dir = project();
    shell(dir.path(), &["."], "save Todo { title: \"a\" }\n");
    let (code, out, err) = shell(
        dir.path(),
        &["--read-only", "."],
        "Todo.count\nsave Todo { title: \"b\" }\nTodo.count\n",
    );
    assert_eq!(code, 1);
    assert_eq!(out, "1\n", "stops at the refused write");
    assert!(err.contains("read-only"), "{err}");
    let (code, _, err) = shell(dir.path(), &["."], "Todo.cont\n");
    assert_eq!(code, 1);
    assert!(
        err.contains("E0312") && err.contains("did you mean `count`?"),
        "{err}"
    );
    // A failing input keeps none of its writes.
    let (code, _, err) = shell(
        dir.path(),
        &["."],
        "save Todo { title: \"c\" }\nfail(\"no\")\n",
    );
    assert_eq!(
        code, 1,
        "two inputs: the save is kept, the failure ends the session"
    );
    assert!(err.contains("no"), "{err}");
    let (_, out, _) = shell(
        dir.path(),
        &["."],
        "{\n    save Todo { title: \"d\" }\n    fail(\"no\")\n}\n",
    );
    assert_eq!(out, "");
    let (_, out, _) = shell(dir.path(), &["."], "Todo.count\n");
    assert_eq!(out, "2\n", "the block's save was undone with it");
}
