//! Search through a real server (search.md §2): a JSON route and a page ask for hits
//! of rows saved through other requests; a page's search is a live value that re-runs
//! when a commit changes what it searched.

// Helpers fail the test by panicking, as assertions do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use common::*;

fn app() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "entities/note.flin",
            "entity Note {\n    title: text @search\n    body: semantic text\n    draft: bool = false\n}\n",
        ),
        (
            "app/api/notes.flin",
            "route POST {\n    validate {\n        title: text @required\n        body: text @required\n    }\n    n = Note { title: body.title, body: body.body }\n    save n\n    n\n}\n",
        ),
        (
            "app/api/search.flin",
            "route GET {\n    q = query.q ?? \"\"\n    hits = search q in Note by body where (draft == false) limit 5\n    hits.map(h => { title: h.entity.title, score: h.score })\n}\n",
        ),
        (
            "app/api/titles.flin",
            "route GET {\n    q = query.q ?? \"\"\n    (search q in Note by title).map(h => h.entity.title)\n}\n",
        ),
        (
            "app/index.flin",
            "q = query.q ?? \"boots\"\nhits = search q in Note by body using keyword\n\n<h1>{hits.length} found</h1>\n<ul>\n{for h in hits}\n<li>{h.entity.title}</li>\n{/for}\n</ul>\n",
        ),
    ]
}

#[test]
fn routes_and_pages_search_what_other_requests_saved() {
    let server = serve(&app(), flin_web::Options::default());
    for (title, body) in [
        ("Boots", "Waterproof hiking boots for wet mountain trails"),
        ("Jacket", "A rain jacket that keeps you dry in storms"),
        ("Pan", "Cast iron frying pan for the kitchen"),
    ] {
        let saved = post_json(
            &server,
            "/api/notes",
            &serde_json::json!({ "title": title, "body": body }).to_string(),
        );
        assert_eq!(saved.status, 200, "{}", saved.body);
    }
    let hits = get(&server, "/api/search?q=hiking+boots").json();
    assert_eq!(hits[0]["title"], "Boots", "{hits}");
    assert!(hits[0]["score"].as_f64().unwrap() > 0.0);
    // Hybrid finds rows the keyword ranking alone does not: every row comes back.
    assert_eq!(hits.as_array().unwrap().len(), 3);
    // Keyword on a @search field, with a prefix.
    assert_eq!(
        get(&server, "/api/titles?q=jack").json(),
        serde_json::json!(["Jacket"])
    );
    // Any text is a query.
    let odd = get(&server, "/api/search?q=%22%29%28-%2A%3A");
    assert_eq!(odd.status, 200, "{}", odd.body);
    assert_eq!(odd.json(), serde_json::json!([]));
    let page = get(&server, "/?q=boots");
    assert!(page.body.contains("<h1>1 found</h1>"), "{}", page.body);
    assert!(page.body.contains("<li>Boots</li>"), "{}", page.body);
}
