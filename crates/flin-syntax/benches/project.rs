//! A generated FLIN project for benchmarks: 210 files of 486 lines (102,060 lines) that
//! mix entities, functions, routes, jobs and markup pages, plus one file of shared
//! entities. Every file parses and type-checks without a diagnostic, so the benchmarks
//! measure the full work. Shared by the parse and check benchmarks (`#[path]` module).

#![allow(dead_code)]

use std::fmt::Write;

/// The shared declarations the generated pages use (`entities/common.flin`).
pub const COMMON: &str = "enum Status { Draft, Published, Archived }\nentity User {\n    name: text\n}\nentity Tag {\n    name: text\n}\n";

pub const N_FILES: usize = 210;

/// One file of the generated project; `n` makes its names unique.
pub fn generated_file(n: usize) -> String {
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
    Item{id}.where(quantity > (to_int(query.min ?? "0") ?? 0)).limit(50)
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

pub fn project() -> Vec<String> {
    (0..N_FILES).map(generated_file).collect()
}

pub fn count_lines(files: &[String]) -> usize {
    files.iter().map(|f| f.lines().count()).sum()
}
