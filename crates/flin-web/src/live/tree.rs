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

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use serde_json::{Map, Value as J, json};

/// What one stretch of markup rendered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fragment {
    pub statics: Statics,
    pub holes: Vec<Hole>,
}

/// The static pieces of a fragment: shared by every fragment of the same template on a
/// worker (the items of a list, the views of a page), so a thousand open pages hold
/// their markup once.
pub type Statics = Rc<[Box<str>]>;

thread_local! {
    static TEMPLATES: RefCell<HashMap<u64, Vec<Statics>>> = RefCell::new(HashMap::new());
}

/// The shared copy of these static pieces.
pub fn intern(pieces: Vec<String>) -> Statics {
    let mut hasher = std::hash::DefaultHasher::new();
    pieces.hash(&mut hasher);
    let hash = hasher.finish();
    TEMPLATES.with(|templates| {
        let mut templates = templates.borrow_mut();
        let same = templates.entry(hash).or_default();
        if let Some(found) = same
            .iter()
            .find(|s| s.len() == pieces.len() && s.iter().zip(&pieces).all(|(a, b)| **a == **b))
        {
            return found.clone();
        }
        let statics: Statics = pieces.into_iter().map(String::into_boxed_str).collect();
        same.push(statics.clone());
        statics
    })
}

/// 16 bytes: a view holds many (a thousand open pages, many thousands).
#[derive(Clone, Debug, PartialEq)]
pub enum Hole {
    /// A value's HTML (escaped, or trusted), or an attribute's value.
    Html(Box<str>),
    /// An `{if}` (the branch taken, or nothing) or a component instance.
    Block(Box<Fragment>),
    /// A `{for}`: its items with their keys (positions when not keyed).
    List(Box<List>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct List {
    pub keyed: bool,
    pub items: Vec<(Box<str>, Fragment)>,
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
            Hole::List(list) => {
                for (_, item) in &list.items {
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
    fresh: Vec<(u32, Statics)>,
}

impl Templates {
    fn name(&mut self, fragment: &Fragment) -> u32 {
        let hash = fragment.template();
        if let Some(id) = self.known.get(&hash) {
            return *id;
        }
        let id = self.known.len() as u32;
        self.known.insert(hash, id);
        self.fresh.push((id, fragment.statics.clone()));
        id
    }

    /// The templates first used since the last call (`{"id": [pieces]}`).
    pub fn take_fresh(&mut self) -> Option<J> {
        if self.fresh.is_empty() {
            return None;
        }
        let mut map = Map::new();
        for (id, statics) in std::mem::take(&mut self.fresh) {
            map.insert(id.to_string(), json!(&*statics));
        }
        Some(J::Object(map))
    }

    /// The same, written as JSON text (no value tree in between).
    pub fn take_fresh_text(&mut self) -> Option<String> {
        if self.fresh.is_empty() {
            return None;
        }
        let mut out = String::from("{");
        for (n, (id, statics)) in std::mem::take(&mut self.fresh).into_iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&format!("\"{id}\":["));
            for (m, piece) in statics.iter().enumerate() {
                if m > 0 {
                    out.push(',');
                }
                push_json_str(&mut out, piece);
            }
            out.push(']');
        }
        out.push('}');
        Some(out)
    }
}

/// A fragment in full.
pub fn full(fragment: &Fragment, templates: &mut Templates) -> J {
    let template = templates.name(fragment);
    let holes: Vec<J> = fragment
        .holes
        .iter()
        .map(|hole| full_hole(hole, templates))
        .collect();
    json!({ "t": template, "d": holes })
}

fn full_hole(hole: &Hole, templates: &mut Templates) -> J {
    match hole {
        Hole::Html(html) => J::String(html.to_string()),
        Hole::Block(fragment) => full(fragment, templates),
        Hole::List(list) => {
            let keys: Vec<&str> = list.items.iter().map(|(k, _)| &**k).collect();
            let mut map = Map::new();
            for (key, item) in &list.items {
                map.insert(key.to_string(), full(item, templates));
            }
            json!({ "k": keys, "y": u8::from(list.keyed), "i": map })
        }
    }
}

/// A fragment in full, written as JSON text: the same as [`full`], without a value
/// tree in between (a mount writes a whole page).
pub fn full_text(fragment: &Fragment, templates: &mut Templates, out: &mut String) {
    let template = templates.name(fragment);
    out.push_str(&format!("{{\"t\":{template},\"d\":["));
    for (n, hole) in fragment.holes.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        match hole {
            Hole::Html(html) => push_json_str(out, html),
            Hole::Block(inner) => full_text(inner, templates, out),
            Hole::List(list) => {
                out.push_str("{\"k\":[");
                for (m, (key, _)) in list.items.iter().enumerate() {
                    if m > 0 {
                        out.push(',');
                    }
                    push_json_str(out, key);
                }
                out.push_str(&format!("],\"y\":{},\"i\":{{", u8::from(list.keyed)));
                for (m, (key, item)) in list.items.iter().enumerate() {
                    if m > 0 {
                        out.push(',');
                    }
                    push_json_str(out, key);
                    out.push(':');
                    full_text(item, templates, out);
                }
                out.push_str("}}");
            }
        }
    }
    out.push_str("]}");
}

/// `text` as a JSON string.
pub fn push_json_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What changed from `old` to `new`, or `None` when nothing did.
pub fn diff(old: &Fragment, new: &Fragment, templates: &mut Templates) -> Option<J> {
    let same_template = Rc::ptr_eq(&old.statics, &new.statics) || old.statics == new.statics;
    if !same_template || old.holes.len() != new.holes.len() {
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
        (Hole::Html(a), Hole::Html(b)) => (a != b).then(|| J::String(b.to_string())),
        (Hole::Block(a), Hole::Block(b)) => diff(a, b, templates),
        (Hole::List(before), Hole::List(after)) => {
            let previous: HashMap<&str, &Fragment> =
                before.items.iter().map(|(k, f)| (&**k, f)).collect();
            let mut changed = Map::new();
            for (key, item) in &after.items {
                let change = match previous.get(&**key) {
                    Some(old_item) => diff(old_item, item, templates),
                    None => Some(full(item, templates)),
                };
                if let Some(change) = change {
                    changed.insert(key.to_string(), change);
                }
            }
            let same_keys = before.keyed == after.keyed
                && before.items.len() == after.items.len()
                && before
                    .items
                    .iter()
                    .zip(&after.items)
                    .all(|((a, _), (b, _))| a == b);
            if same_keys && changed.is_empty() {
                return None;
            }
            let keys: Vec<&str> = after.items.iter().map(|(k, _)| &**k).collect();
            Some(json!({ "k": keys, "y": u8::from(after.keyed), "i": changed }))
        }
        (_, new) => Some(full_hole(new, templates)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pieces: &[&str], holes: Vec<Hole>) -> Fragment {
        Fragment {
            statics: intern(pieces.iter().map(|s| s.to_string()).collect()),
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
    fn the_text_form_is_the_value_form() {
        let page = text(
            &["<p a=\"", "\">", "</p>"],
            vec![
                Hole::Html("x\"y\\z\n\u{1}".into()),
                Hole::List(Box::new(List {
                    keyed: true,
                    items: vec![(
                        "k\"1".into(),
                        text(&["<i>", "</i>"], vec![Hole::Html("1".into())]),
                    )],
                })),
            ],
        );
        let mut written = String::new();
        full_text(&page, &mut Templates::default(), &mut written);
        let parsed: J = serde_json::from_str(&written).unwrap_or_default();
        assert_eq!(parsed, full(&page, &mut Templates::default()));
        let mut templates = Templates::default();
        full_text(&page, &mut templates, &mut String::new());
        let fresh: J = serde_json::from_str(&templates.take_fresh_text().unwrap_or_default())
            .unwrap_or_default();
        let mut again = Templates::default();
        full(&page, &mut again);
        assert_eq!(Some(fresh), again.take_fresh());
    }

    #[test]
    fn keyed_lists_send_the_order_and_the_changed_items() {
        let mut templates = Templates::default();
        let item = |s: &str| text(&["<li>", "</li>"], vec![Hole::Html(s.into())]);
        let list = |items: Vec<(&str, &str)>| {
            text(
                &["<ul>", "</ul>"],
                vec![Hole::List(Box::new(List {
                    keyed: true,
                    items: items
                        .into_iter()
                        .map(|(k, v)| (k.into(), item(v)))
                        .collect(),
                }))],
            )
        };
        let a = list(vec![("1", "a"), ("2", "b")]);
        let _ = full(&a, &mut templates);
        let b = list(vec![("2", "b"), ("1", "a"), ("3", "c")]);
        let patch = diff(&a, &b, &mut templates);
        assert_eq!(
            patch,
            Some(
                json!({"d": {"0": {"k": ["2", "1", "3"], "y": 1, "i": {"3": {"t": 1, "d": ["c"]}}}}})
            )
        );
    }
}
