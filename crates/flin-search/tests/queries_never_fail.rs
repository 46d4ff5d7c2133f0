//! search.md §4 "Queries never fail": any text — random Unicode, the query syntax's own
//! characters in any order, very long input — parses and runs against an index
//! without a panic, and a query's results are always rows of the index, best first.

#![allow(clippy::indexing_slicing)]

use std::collections::HashSet;

use flin_search::keyword::View;
use flin_search::{DocTerms, KeywordIndex};
use proptest::prelude::*;

fn index() -> KeywordIndex {
    let mut index = KeywordIndex::new();
    let texts = [
        "Waterproof hiking boots for wet mountain trails",
        "A rain jacket that keeps you dry",
        "Café crème at the corner — 24/7",
        "C++ and C# for beginners",
        "日本語のテキスト",
        "red boots, red laces, \"quoted\" words",
    ];
    for (doc, text) in texts.iter().enumerate() {
        index.set(doc as i64 + 1, DocTerms::of(text));
    }
    index
}

fn check(text: &str) {
    let base = index();
    let own = KeywordIndex::new();
    let hidden = HashSet::new();
    let view = View {
        base: &base,
        own: &own,
        hidden: &hidden,
    };
    let query = flin_search::parse(text);
    let terms_of = |_: i64| None;
    let hits = view.search(&query, 10, |_| true, &terms_of);
    assert!(hits.len() <= 10);
    assert!(
        hits.iter()
            .all(|(doc, score)| (1..=6).contains(doc) && score.is_finite())
    );
    assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_unicode_text(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn the_syntax_characters_in_any_order(text in "[\"\\- a-zA-Z0-9*:()^~&|+!.]{0,60}") {
        check(&text);
    }
}

#[test]
fn very_long_queries() {
    check(&"boots ".repeat(5_000));
    check(&"\"".repeat(10_000));
    check(&"-".repeat(10_000));
    check(&"🙂".repeat(3_000));
}
