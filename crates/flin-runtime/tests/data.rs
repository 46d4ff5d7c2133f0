//! Units of work on a real store (data.md §4, §7): listing rows and what they refer to
//! costs a fixed number of statements however many rows there are (batch loading), a
//! unit that fails keeps none of its writes, and a reader never sees a writer's
//! uncommitted work.

// Helpers fail the test by panicking, as assertions do.
#![allow(clippy::panic)]

use flin_check::Project;
use flin_runtime::{Built, ScriptOutcome, Store};
use flin_store::{Durability, Location};
use flin_vm::{CaptureHost, Limits};

const ENTITIES: &str = "
entity Writer { name: text }
entity Tag { label: text }
entity Book {
    title: text
    author: Writer
    editor: Writer?
    tags: [Tag]
}
";

fn build(script: &str) -> Built {
    match flin_runtime::build(Project::from_text(
        "app.flin",
        &format!("{ENTITIES}\n{script}"),
    )) {
        Ok(built) => built,
        Err((project, diagnostics)) => panic!(
            "does not compile:\n{}",
            flin_diagnostics::render_human(
                &project.sources,
                &diagnostics,
                flin_diagnostics::Color::Never
            )
        ),
    }
}

fn run(store: &Store, script: &str) -> String {
    let built = build(script);
    let mut host = CaptureHost::default();
    match flin_runtime::run_script(&built, &mut host, Limits::default(), Some(store)) {
        ScriptOutcome::Finished => host.output,
        ScriptOutcome::Failed(err) => {
            panic!("runtime error: {err}\noutput so far:\n{}", host.output)
        }
    }
}

fn store() -> Store {
    let built = build("");
    match Store::memory(&built.code.entities) {
        Ok(store) => store,
        Err(err) => panic!("cannot open the store: {err}"),
    }
}

/// Statements run by listing every book with its author's name and its tags.
fn statements_to_list(books: usize) -> (u64, usize) {
    let store = store();
    run(
        &store,
        &format!(
            "tags = [Tag {{ label: \"a\" }}, Tag {{ label: \"b\" }}]\nsave tags\nfor i in 0..{books} {{\n  w = Writer {{ name: \"w{{i}}\" }}\n  save w\n  save Book {{ title: \"t{{i}}\", author: w, tags: tags }}\n}}\n"
        ),
    );
    let before = store.statements_run();
    let output = run(
        &store,
        "for b in Book.all { print(b.title, b.author.name, b.tags.length, b.tags[0].label) }",
    );
    (store.statements_run() - before, output.lines().count())
}

#[test]
fn listing_rows_and_their_references_is_a_fixed_number_of_statements() {
    let (few, few_lines) = statements_to_list(5);
    let (many, many_lines) = statements_to_list(200);
    assert_eq!((few_lines, many_lines), (5, 200));
    assert_eq!(
        few, many,
        "5 books took {few} statements, 200 books {many}: references are loaded one by one"
    );
    // The books, their authors, their tag memberships, the tags.
    assert!(many <= 4, "{many} statements");
}

#[test]
fn a_failed_unit_of_work_keeps_none_of_its_writes() {
    let store = store();
    run(&store, "save Writer { name: \"kept\" }");
    let built = build(
        "for w in Writer.all {\n  w.name = \"changed\"\n  save w\n}\nsave Writer { name: \"lost\" }\nfail(\"no\")",
    );
    let mut host = CaptureHost::default();
    let outcome = flin_runtime::run_script(&built, &mut host, Limits::default(), Some(&store));
    assert!(matches!(outcome, ScriptOutcome::Failed(_)));
    assert_eq!(
        run(&store, "for w in Writer.all { print(w.name, w.version) }"),
        "kept 1\n"
    );
}

#[test]
fn a_transaction_block_left_by_an_error_is_undone_but_the_unit_goes_on() {
    let store = store();
    let output = run(
        &store,
        "fn risky() {\n  transaction {\n    save Writer { name: \"inside\" }\n    fail(\"boom\")\n  }\n}\nsave Writer { name: \"before\" }\nr = try risky()\nprint(r)\nsave Writer { name: \"after\" }\nfor w in Writer.all { print(w.name) }",
    );
    assert_eq!(output, "Err(Error(runtime: boom))\nbefore\nafter\n");
}

#[test]
fn a_reader_sees_committed_data_only() {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(err) => panic!("{err}"),
    };
    let built = build("");
    let store = match Store::open(
        Location::File(dir.path().join("flin.db")),
        &built.code.entities,
        Durability::Full,
    ) {
        Ok(store) => store,
        Err(err) => panic!("{err}"),
    };
    let writer = match store.unit() {
        Ok(unit) => unit,
        Err(err) => panic!("{err}"),
    };
    let saved = writer.db().and_then(|db| {
        db.save(
            "Writer",
            None,
            vec![flin_query::Datum::Text("unseen".into())],
        )
    });
    assert!(saved.is_ok(), "{saved:?}");
    let count = |store: &Store| -> i64 {
        let reader = match store.read_unit() {
            Ok(unit) => unit,
            Err(err) => panic!("{err}"),
        };
        let plan = flin_query::QueryPlan {
            shape: std::sync::Arc::new(flin_query::QueryShape::all("Writer")),
            params: Vec::new(),
        };
        match reader
            .db()
            .and_then(|db| db.query(&plan, &flin_query::Terminal::Count))
        {
            Ok(flin_store::QueryResult::Count(n)) => n,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(count(&store), 0, "a reader saw uncommitted data");
    assert!(writer.commit().is_ok());
    assert_eq!(count(&store), 1);
}
