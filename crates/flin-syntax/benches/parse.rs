//! Lexing and parsing speed on a generated project: 210 files of 486 lines each
//! (102,060 lines) mixing entities, functions, routes, jobs and markup pages.
//! Throughput is in lines ("items") per second, on one core.
//!
//! Run: `cargo bench -p flin-syntax --bench parse`. The target (performance.md §3) is at
//! least 1,000,000 lines per second for parsing.

use std::fmt::Write;

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use flin_diagnostics::FileId;

fn main() {
    divan::main();
}

const N_FILES: usize = 210;

/// One file of the generated project; `n` makes its names unique.
fn generated_file(n: usize) -> String {
    let mut out = String::with_capacity(24_000);
    for block in 0..6 {
        let id = n * 10 + block;
        let _ = write!(
            out,
            r#"// Section {id}: an entity, its functions, an API and a page.
entity Item{id} {{
    title: text @required @maxLength(200) @search
    body: text? @hidden
    price: money = 0 EUR
    quantity: int @min(0) = 0
    status: Status = Status.Draft
    owner: User?
    tags: [Tag]
    published: time?
}}

fn total{id}(items: [Item{id}], discount: number = 0.0) -> number {{
    sum = 0.0
    for item, i in items {{
        if item.quantity > 0 && item.status == Status.Published {{
            sum += item.quantity * 1.5 - discount
        }} else if i % 2 == 0 {{
            log_info("skipping {{item.title}} at {{i}}")
        }}
    }}
    label = match sum {{
        0.0 -> "empty"
        n if n > 100.0 -> "large"
        _ -> "small"
    }}
    return sum
}}

fn recent{id}(word: text) {{
    Item{id}.where(title.contains(word) && published > now - 7.days)
        .order(published, "desc")
        .limit(20)
}}

route GET {{
    Item{id}.where(quantity > to_int(query.min ?? "0") ?? 0).limit(50)
}}

route POST {{
    validate {{
        title: text @required @maxLength(200)
        quantity: int @min(0)
    }}
    item = Item{id} {{ title: body.title, quantity: body.quantity }}
    save item
    response {{ status: 201, body: item }}
}}

every 1.hours {{
    for old in Item{id}.where(status == Status.Archived) {{ delete old }}
}}

hits{id} = search "blue boots" in Item{id} by title limit 10
items{id} = Item{id}.all
draft{id} = ""
open{id} = false

<section class="items items-{id}" class:open={{open{id}}}>
    <h2>{{items{id}.length}} items</h2>
    <form submit={{save Item{id} {{ title: draft{id} }}; draft{id} = ""}}>
        <input bind={{draft{id}}} placeholder="New item" />
        <button disabled={{draft{id} == ""}}>Add</button>
    </form>
    <ul>
        {{for item, i in items{id} key item.id}}
            <li class={{item.quantity > 0 ? "in-stock" : "out"}}>
                <strong>{{i + 1}}. {{item.title}}</strong>
                <span>{{item.price}}</span>
                <button click={{delete item}}>Remove</button>
            </li>
        {{empty}}
            <li>Nothing yet.</li>
        {{/for}}
    </ul>
    {{if open{id}}}
        <p>Open</p>
    {{else}}
        <p>Closed</p>
    {{/if}}
</section>
"#
        );
    }
    out
}

fn project() -> Vec<String> {
    (0..N_FILES).map(generated_file).collect()
}

fn count_lines(files: &[String]) -> usize {
    files.iter().map(|f| f.lines().count()).sum()
}

#[divan::bench]
fn lex(bencher: Bencher) {
    let files = project();
    let lines = count_lines(&files);
    let bytes: usize = files.iter().map(String::len).sum();
    bencher
        .counter(ItemsCount::new(lines))
        .counter(BytesCount::new(bytes))
        .bench(|| {
            for file in &files {
                black_box(flin_syntax::lexer::lex(file, FileId(0)));
            }
        });
}

#[divan::bench]
fn parse(bencher: Bencher) {
    let files = project();
    let lines = count_lines(&files);
    assert!(lines >= 100_000, "the generated project has {lines} lines");
    for file in &files {
        let parsed = flin_syntax::parse(file, FileId(0));
        assert!(
            parsed.diagnostics.is_empty(),
            "{:?}",
            parsed.diagnostics.first()
        );
    }
    let bytes: usize = files.iter().map(String::len).sum();
    bencher
        .counter(ItemsCount::new(lines))
        .counter(BytesCount::new(bytes))
        .bench(|| {
            for file in &files {
                black_box(flin_syntax::parse(file, FileId(0)));
            }
        });
}
