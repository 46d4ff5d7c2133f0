//! A rendered page as a live view sees it (web.md §9): static pieces and holes, nested.
//! A [`Fragment`] is what one stretch of markup rendered: its static pieces (as many as
//! its holes plus one) and its holes; a hole is a value's HTML, a block (an `{if}`'s
//! branch, a component instance) or a list (a `{for}`'s items, by key or position).
//!
//! The same markup always gives the same static pieces, so the pieces of a fragment are
//! a *template*: the browser gets each template once and keeps it; re-renders send only
//! the holes that changed ([`diff`]). Lists are diffed by key: a patch gives the new
//! order of keys and the changes of the items that changed or are new.
//!
//! Wire form (JSON): a fragment is `{"t": template, "d": [hole, …]}`; a hole is a text,
//! a fragment, or a list `{"k": [key, …], "y": 1 if keyed, "i": {key: fragment}}`. A
//! patch of a fragment is a full fragment (its template changed) or `{"d": {"3": patch
//! of hole 3, …}}`; of a list, `{"k": keys, "y": …, "i": {key: patch or fragment}}`
//! with only the items that changed. New templates ride along as `{"T": {id: [piece,
//! …]}}` in the message.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use serde_json::{Map, Value as J, json};

/// What one stretch of markup rendered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fragment {
    pub statics: Vec<String>,
    pub holes: Vec<Hole>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Hole {
    /// A value's HTML (escaped, or trusted), or an attribute's value.
    Html(String),
    /// An `{if}` (the branch taken, or nothing) or a component instance.
    Block(Fragment),
    /// A `{for}`: its items with their keys (positions when not keyed).
    List {
        keyed: bool,
        items: Vec<(String, Fragment)>,
    },
}

impl Fragment {
    /// The template's name: a hash of the static pieces.
    pub fn template(&self) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        self.statics.hash(&mut hasher);
        hasher.finish()
    }

    /// The HTML of the fragment (`keys`: mark each item of a keyed list with its key,
    /// as the browser does, so DOM nodes keep their identity when items move).
    pub fn to_html(&self, out: &mut String) {
        for (idx, piece) in self.statics.iter().enumerate() {
            out.push_str(piece);
            if let Some(hole) = self.holes.get(idx) {
                hole.to_html(out);
            }
        }
    }
}

impl Hole {
    fn to_html(&self, out: &mut String) {
        match self {
            Hole::Html(html) => out.push_str(html),
            Hole::Block(fragment) => fragment.to_html(out),
            Hole::List { items, .. } => {
                for (_, item) in items {
                    item.to_html(out);
                }
            }
        }
    }
}

/// The templates a browser already has, by hash, with the short names it knows them by.
#[derive(Debug, Default)]
pub struct Templates {
    known: HashMap<u64, u32>,
    /// Templates to send with the next message.
    fresh: Map<String, J>,
}

impl Templates {
    fn name(&mut self, fragment: &Fragment) -> u32 {
        let hash = fragment.template();
        if let Some(id) = self.known.get(&hash) {
            return *id;
        }
        let id = self.known.len() as u32;
        self.known.insert(hash, id);
        self.fresh
            .insert(id.to_string(), json!(fragment.statics.clone()));
        id
    }

    /// The templates first used since the last call (`{"id": [pieces]}`).
    pub fn take_fresh(&mut self) -> Option<J> {
        if self.fresh.is_empty() {
            return None;
        }
        Some(J::Object(std::mem::take(&mut self.fresh)))
    }
}

/// A fragment in full.
pub fn full(fragment: &Fragment, templates: &mut Templates) -> J {
    let holes: Vec<J> = fragment
        .holes
        .iter()
        .map(|hole| full_hole(hole, templates))
        .collect();
    json!({ "t": templates.name(fragment), "d": holes })
}

fn full_hole(hole: &Hole, templates: &mut Templates) -> J {
    match hole {
        Hole::Html(html) => J::String(html.clone()),
        Hole::Block(fragment) => full(fragment, templates),
        Hole::List { keyed, items } => {
            let keys: Vec<&str> = items.iter().map(|(k, _)| k.as_str()).collect();
            let mut map = Map::new();
            for (key, item) in items {
                map.insert(key.clone(), full(item, templates));
            }
            json!({ "k": keys, "y": u8::from(*keyed), "i": map })
        }
    }
}

/// What changed from `old` to `new`, or `None` when nothing did.
pub fn diff(old: &Fragment, new: &Fragment, templates: &mut Templates) -> Option<J> {
    if old.statics != new.statics || old.holes.len() != new.holes.len() {
        return Some(full(new, templates));
    }
    let mut changes = Map::new();
    for (idx, (before, after)) in old.holes.iter().zip(&new.holes).enumerate() {
        if let Some(change) = diff_hole(before, after, templates) {
            changes.insert(idx.to_string(), change);
        }
    }
    (!changes.is_empty()).then(|| json!({ "d": changes }))
}

fn diff_hole(old: &Hole, new: &Hole, templates: &mut Templates) -> Option<J> {
    match (old, new) {
        (Hole::Html(a), Hole::Html(b)) => (a != b).then(|| J::String(b.clone())),
        (Hole::Block(a), Hole::Block(b)) => diff(a, b, templates),
        (
            Hole::List {
                keyed: was_keyed,
                items: before,
            },
            Hole::List { keyed, items },
        ) => {
            let previous: HashMap<&str, &Fragment> =
                before.iter().map(|(k, f)| (k.as_str(), f)).collect();
            let mut changed = Map::new();
            for (key, item) in items {
                let change = match previous.get(key.as_str()) {
                    Some(old_item) => diff(old_item, item, templates),
                    None => Some(full(item, templates)),
                };
                if let Some(change) = change {
                    changed.insert(key.clone(), change);
                }
            }
            let same_keys = was_keyed == keyed
                && before.len() == items.len()
                && before.iter().zip(items).all(|((a, _), (b, _))| a == b);
            if same_keys && changed.is_empty() {
                return None;
            }
            let keys: Vec<&str> = items.iter().map(|(k, _)| k.as_str()).collect();
            Some(json!({ "k": keys, "y": u8::from(*keyed), "i": changed }))
        }
        (_, new) => Some(full_hole(new, templates)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pieces: &[&str], holes: Vec<Hole>) -> Fragment {
        Fragment {
            statics: pieces.iter().map(|s| s.to_string()).collect(),
            holes,
        }
    }

    #[test]
    fn only_changed_holes_are_sent_and_templates_once() {
        let mut templates = Templates::default();
        let a = text(
            &["<p>", "</p><i>", "</i>"],
            vec![Hole::Html("1".into()), Hole::Html("x".into())],
        );
        let first = full(&a, &mut templates);
        assert_eq!(first, json!({"t": 0, "d": ["1", "x"]}));
        assert!(templates.take_fresh().is_some());
        let b = text(
            &["<p>", "</p><i>", "</i>"],
            vec![Hole::Html("2".into()), Hole::Html("x".into())],
        );
        assert_eq!(diff(&a, &b, &mut templates), Some(json!({"d": {"0": "2"}})));
        assert_eq!(diff(&b, &b, &mut templates), None);
        assert!(templates.take_fresh().is_none());
    }

    #[test]
    fn keyed_lists_send_the_order_and_the_changed_items() {
        let mut templates = Templates::default();
        let item = |s: &str| text(&["<li>", "</li>"], vec![Hole::Html(s.into())]);
        let list = |items: Vec<(&str, &str)>| {
            text(
                &["<ul>", "</ul>"],
                vec![Hole::List {
                    keyed: true,
                    items: items
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), item(v)))
                        .collect(),
                }],
            )
        };
        let a = list(vec![("1", "a"), ("2", "b")]);
        let _ = full(&a, &mut templates);
        let b = list(vec![("2", "b"), ("1", "a"), ("3", "c")]);
        let patch = diff(&a, &b, &mut templates);
        assert_eq!(
            patch,
            Some(
                json!({"d": {"0": {"k": ["2", "1", "3"], "y": 1, "i": {"3": {"t": 0, "d": ["c"]}}}}})
            )
        );
    }
}
