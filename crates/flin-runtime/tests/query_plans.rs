//! Query chains compile to query plans (data.md §4): one shape per chain, every value a
//! parameter computed before the query runs. The program runs on the real compiler and
//! VM; the host records the plan of each query the VM asks it to run (the store that
//! answers them is the database's business) and answers with no rows.

// Helpers fail the test by panicking, as assertions do.
#![allow(clippy::panic)]

use flin_check::Project;
use flin_query::{QueryPlan, Terminal};
use flin_vm::{Host, Limits, RuntimeError, Value};

#[derive(Default)]
struct PlanRecorder {
    output: String,
    plans: Vec<String>,
    /// Where each plan's shape lives: the same address is the same prepared shape.
    shapes: Vec<usize>,
}

impl Host for PlanRecorder {
    fn print(&mut self, line: &str) {
        self.output.push_str(line);
        self.output.push('\n');
    }

    fn log(&mut self, _: &'static str, _: &str) {}

    fn query(&mut self, plan: &QueryPlan, terminal: &Terminal) -> Result<Value, RuntimeError> {
        self.plans.push(format!("{terminal}: {plan}"));
        self.shapes
            .push(std::sync::Arc::as_ptr(&plan.shape) as usize);
        Ok(match terminal {
            Terminal::Rows => Value::list(Vec::new()),
            Terminal::Count | Terminal::Sum(_) => Value::Int(0),
            Terminal::Exists => Value::Bool(false),
            _ => Value::None,
        })
    }
}

const ENTITIES: &str = r#"
enum Status { Draft, Published, Archived }

entity Writer {
    name: text @required
}

entity Tag {
    label: text
}

entity Book {
    title: text @required
    pages: int = 1
    rating: number = 0.0
    status: Status = Status.Draft
    published: time?
    author: Writer
    tags: [Tag]
    labels: [text]
}
"#;

/// Runs `script` after the entity declarations; gives what it printed and the plans.
fn plans_of(script: &str) -> (String, Vec<String>) {
    let host = run(script);
    (host.output, host.plans)
}

fn run(script: &str) -> PlanRecorder {
    let source = format!("{ENTITIES}\n{script}");
    let built = match flin_runtime::build(Project::from_text("plans.flin", &source)) {
        Ok(built) => built,
        Err((project, diagnostics)) => panic!(
            "does not compile:\n{}",
            flin_diagnostics::render_human(
                &project.sources,
                &diagnostics,
                flin_diagnostics::Color::Never
            )
        ),
    };
    let mut host = PlanRecorder::default();
    match flin_runtime::run_script(&built, &mut host, Limits::default(), None) {
        flin_runtime::ScriptOutcome::Finished => {}
        flin_runtime::ScriptOutcome::Failed(err) => panic!("runtime error: {err}"),
    }
    host
}

fn plans(script: &str) -> Vec<String> {
    plans_of(script).1
}

#[test]
fn a_chain_is_one_plan_with_its_values_as_parameters() {
    assert_eq!(
        plans(
            r#"
word = "Rust"
found = Book.where(pages > 100 && status == Status.Published)
    .where(title.contains(word))
    .order(published, "desc")
    .order(title)
    .limit(20).offset(40)
for book in found { print(book) }
"#
        ),
        [
            "rows: Book where pages > $1 and status == $2 and title contains $3 order by published desc, title limit $4 offset $5; $1 = 100, $2 = Published, $3 = \"Rust\", $4 = 20, $5 = 40"
        ]
    );
}

#[test]
fn terminals_ask_the_store_for_counts_aggregates_and_single_rows() {
    let (output, plans) = plans_of(
        r#"
w = "Ada"
print(Book.where(pages > 10).count)
print(Book.all.exists)
print(Book.where(status == Status.Draft).sum(pages))
print(Book.avg(rating))
print(Book.max(published))
print(Book.find(7))
print(Book.where(pages > 10).first)
print(Book.all.length)
"#,
    );
    assert_eq!(output, "0\nfalse\n0\nnone\nnone\nnone\nnone\n0\n");
    assert_eq!(
        plans,
        [
            "count: Book where pages > $1; $1 = 10",
            "exists: Book",
            "sum(pages): Book where status == $1; $1 = Draft",
            "avg(rating): Book",
            "max(published): Book",
            "first: Book where id == $1; $1 = 7",
            "first: Book where pages > $1; $1 = 10",
            "count: Book",
        ]
    );
}

#[test]
fn a_query_is_a_value_that_runs_when_used_and_can_be_extended() {
    let (output, plans) = plans_of(
        r#"
long = Book.where(pages > 300)
print("built")
recent = long.order(published, "desc").limit(5)
print(long.count)
for b in recent { print(b.title) }
print(recent.where(rating >= 4.5).exists)
"#,
    );
    assert_eq!(output, "built\n0\nfalse\n");
    assert_eq!(
        plans,
        [
            "count: Book where pages > $1; $1 = 300",
            "rows: Book where pages > $1 order by published desc limit $2; $1 = 300, $2 = 5",
            "exists: Book where pages > $1 and rating >= $3 order by published desc limit $2; $1 = 300, $2 = 5, $3 = 4.5",
        ]
    );
}

#[test]
fn conditions_translate_every_form_the_spec_allows() {
    assert_eq!(
        plans(
            r#"
prefix = "The"
statuses = [Status.Draft, Status.Archived]
print(Book.where(published == none || !(pages < 5)).count)
print(Book.where(published != none && status in statuses).count)
print(Book.where(title.lower.starts_with(prefix.lower) || title.ends_with("!")).count)
print(Book.where(labels.contains("classic")).count)
print(Book.where(pages * 2 > 100 - 10).count)
"#
        ),
        [
            "count: Book where published is none or not (pages < $1); $1 = 5",
            "count: Book where published is not none and status in $1; $1 = [Draft, Archived]",
            "count: Book where title.lower starts_with $1 or title ends_with $2; $1 = \"the\", $2 = \"!\"",
            "count: Book where labels has $1; $1 = \"classic\"",
            "count: Book where (pages * $1) > $2; $1 = 2, $2 = 90",
        ]
    );
}

#[test]
fn rows_selection_and_groups() {
    assert_eq!(
        plans(
            r#"
print(Book.with_deleted.where(pages > 10).count)
print(Book.only_deleted.count)
print(Book.where(pages > 10).group_by(status).count)
"#
        ),
        [
            "count: Book with deleted where pages > $1; $1 = 10",
            "count: Book only deleted",
            "count by status: Book where pages > $1; $1 = 10",
        ]
    );
}

#[test]
fn the_same_chain_shares_one_shape_between_runs() {
    let host = run(r#"
fn heavy(n: int) -> int { Book.where(pages > n).count }
print(heavy(1) + heavy(2))
print(Book.where(pages > 3).count)
"#);
    assert_eq!(
        host.plans,
        [
            "count: Book where pages > $1; $1 = 1",
            "count: Book where pages > $1; $1 = 2",
            "count: Book where pages > $1; $1 = 3",
        ]
    );
    // Both runs of the function's chain use its one shape; the other chain has its own.
    assert_eq!(host.shapes[0], host.shapes[1]);
    assert_ne!(host.shapes[0], host.shapes[2]);
}

#[test]
fn a_query_used_as_a_list_runs_once_for_its_rows() {
    let (output, plans) = plans_of(
        r#"
fn titles(books: [Book]) -> [text] { books.map(b => b.title) }
print(titles(Book.where(pages > 1)))
print(Book.all.map(b => b.pages))
print("{Book.all}")
"#,
    );
    assert_eq!(output, "[]\n[]\n[]\n");
    assert_eq!(
        plans,
        [
            "rows: Book where pages > $1; $1 = 1",
            "rows: Book",
            "rows: Book",
        ]
    );
}
