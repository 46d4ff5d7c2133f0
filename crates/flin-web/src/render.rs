//! The page being rendered (web.md §2, §9): what the VM's markup code emits becomes HTML
//! (a plain page) or a tree of static pieces and holes (a live view, `live/tree.rs`).
//! Either way, it names what the page's markup makes interactive, the same way on every
//! render:
//!
//! - a *handler* (an event attribute or `bind`) by where it is (its instance, its site in
//!   the code, the `{for}` items around it) and what its closure captured (an entity by
//!   its id), so a re-render gives an unchanged handler the same name and a click on a
//!   handler that changed meaning (the list moved under it) is refused, not misapplied;
//! - a *component instance* by its place in its parent's markup and, inside `{for}`
//!   items, their keys (or positions), so a live view gives it its state back.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use flin_vm::Value;
use flin_vm::host::{KeptInstance, Mark, Site};
use flin_vm::snapshot::{Fingerprint, fingerprint};

use crate::live::tree::{Fragment, Hole, List};

/// What the browser can trigger: an event handler or a `bind` setter.
#[derive(Clone, Debug)]
pub struct Handler {
    /// A closure: of no argument (an event), or of the new value (`bind`).
    pub callee: Value,
    /// The component instance whose state it runs with (`""`: the page).
    pub instance: Rc<str>,
    pub kind: HandlerKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandlerKind {
    /// `click`, `submit` …
    Event,
    /// `bind`: how the browser's value converts (`text`, `int?` …), and the form field
    /// the element posts under.
    Bind { kind: Box<str>, field: Box<str> },
}

/// A component instance: its state and what it was last rendered with.
#[derive(Clone, Debug)]
pub struct Instance {
    /// The instance it renders in (`""`: the page).
    pub parent: String,
    /// Its view (an index into the program's views).
    pub view: Option<u32>,
    pub state: Vec<Value>,
    pub props: Value,
    pub children: Value,
    pub props_print: u64,
    /// Made by this render (its `on_mount` is due).
    pub new: bool,
}

/// One component instance being rendered.
struct Scope {
    id: String,
    parent: String,
    view: Option<u32>,
    props: Value,
    children: Value,
    props_print: u64,
    fresh: bool,
    /// The enclosing `{for}` lists: how many items each has had so far.
    lists: Vec<usize>,
    /// The labels of the enclosing items (keys, or positions).
    items: Vec<String>,
    /// Keys already used in the lists being built (a duplicate key gets a suffix).
    used_keys: Vec<HashSet<String>>,
}

impl Scope {
    fn new(id: String) -> Scope {
        Scope {
            id,
            parent: String::new(),
            view: None,
            props: Value::None,
            children: Value::None,
            props_print: 0,
            fresh: true,
            lists: Vec::new(),
            items: Vec::new(),
            used_keys: Vec::new(),
        }
    }
}

/// A fragment being built.
struct Building {
    statics: Vec<String>,
    current: String,
    holes: Vec<Hole>,
    /// The item's key, for an item of a list.
    key: Option<String>,
}

impl Building {
    fn new(key: Option<String>) -> Building {
        Building {
            statics: Vec::new(),
            current: String::new(),
            holes: Vec::new(),
            key,
        }
    }

    fn hole(&mut self, hole: Hole) {
        self.statics.push(std::mem::take(&mut self.current));
        self.holes.push(hole);
    }

    fn finish(mut self) -> Fragment {
        self.statics.push(self.current);
        self.holes.shrink_to_fit();
        Fragment {
            statics: crate::live::tree::intern(self.statics),
            holes: self.holes,
        }
    }
}

enum Frame {
    Fragment(Building),
    List {
        keyed: bool,
        items: Vec<(Box<str>, Fragment)>,
    },
}

/// The cross-site token of the page's forms: made (an HMAC) when its first form renders,
/// so a page without forms costs nothing.
#[derive(Clone)]
enum FormToken {
    Pending {
        signer: crate::live::token::Signer,
        binding: String,
    },
    Made(String),
}

pub struct PageRender {
    /// Build the tree of a live view (else only HTML).
    tree: bool,
    frames: Vec<Frame>,
    head: String,
    scopes: Vec<Scope>,
    /// The instances the view kept from its last render (taken as they render again).
    pub kept: HashMap<String, Instance>,
    /// The instances of this render.
    pub rendered: HashMap<String, Instance>,
    pub handlers: HashMap<String, Handler>,
    /// Something on the page needs the live runtime (a handler, `bind`, a live value).
    pub live: bool,
    /// The last `submit` handler, for the hidden field of its form.
    form_handler: Option<String>,
    /// Signs the hidden field of forms (path of the page and the signer).
    form_signer: Option<(String, crate::live::token::Signer)>,
    /// The cross-site token every form carries (web.md §7).
    form_token: Option<FormToken>,
    /// The props and children of the instance whose handler runs (its `props`).
    pub handler_instance: Option<(Value, Value)>,
    /// The page's tree while its layout renders (a live view).
    children: Option<Fragment>,
}

/// What a layout's `{children}` holds while a live view renders: a text no page can
/// produce, replaced by the page's tree where the layout places it.
const CHILDREN: &str = "\u{1}flin:children\u{1}";

impl PageRender {
    /// A renderer of HTML (`tree`: and of the tree a live view diffs).
    pub fn new(tree: bool) -> PageRender {
        PageRender {
            tree,
            frames: vec![Frame::Fragment(Building::new(None))],
            head: String::new(),
            scopes: vec![Scope::new(String::new())],
            kept: HashMap::new(),
            rendered: HashMap::new(),
            handlers: HashMap::new(),
            live: false,
            form_handler: None,
            form_signer: None,
            form_token: None,
            handler_instance: None,
            children: None,
        }
    }

    /// Forms with a `submit` handler get a signed hidden field naming it (for posts
    /// without JavaScript to the page at `path`).
    pub fn sign_forms(&mut self, path: &str, signer: crate::live::token::Signer) {
        self.form_signer = Some((path.to_string(), signer));
    }

    /// Every form gets a hidden field with the session's cross-site `token`.
    pub fn form_token(&mut self, signer: crate::live::token::Signer, binding: String) {
        self.form_token = Some(FormToken::Pending { signer, binding });
    }

    fn building(&mut self) -> Option<&mut Building> {
        match self.frames.last_mut() {
            Some(Frame::Fragment(building)) => Some(building),
            _ => None,
        }
    }

    fn scope(&mut self) -> &mut Scope {
        if self.scopes.is_empty() {
            self.scopes.push(Scope::new(String::new()));
        }
        let last = self.scopes.len() - 1;
        #[allow(clippy::indexing_slicing)] // `last` is below the length, just ensured.
        &mut self.scopes[last]
    }

    pub fn emit(&mut self, html: &str) {
        if let Some(building) = self.building() {
            building.current.push_str(html);
        }
    }

    pub fn hole(&mut self, html: &str) {
        let tree = self.tree;
        // A layout's `{children}` in a live view: the page's own tree.
        if tree && html == CHILDREN {
            if let Some(children) = self.children.take() {
                if let Some(building) = self.building() {
                    building.hole(Hole::Block(Box::new(children)));
                }
                return;
            }
        }
        if let Some(building) = self.building() {
            if tree {
                building.hole(Hole::Html(html.into()));
            } else {
                building.current.push_str(html);
            }
        }
    }

    /// The page rendered so far becomes a layout's `{children}`: its HTML (a plain
    /// render), or a stand-in that brings the page's tree back whole where the layout
    /// places it (a live view).
    pub fn wrap_children(&mut self) -> String {
        if self.tree {
            self.children = self.take_tree();
            CHILDREN.to_string()
        } else {
            self.take_html()
        }
    }

    pub fn head(&mut self, html: &str) {
        // A component rendered many times brings its `<style>` once.
        if !self.head.contains(html) {
            self.head.push_str(html);
        }
    }

    pub fn head_html(&self) -> &str {
        &self.head
    }

    pub fn mark(&mut self, mark: Mark, key: Option<&Value>) {
        match mark {
            Mark::BlockOpen if self.tree => self.frames.push(Frame::Fragment(Building::new(None))),
            Mark::BlockClose if self.tree => self.close_block(),
            Mark::ListOpen => {
                let scope = self.scope();
                scope.lists.push(0);
                scope.used_keys.push(HashSet::new());
                if self.tree {
                    self.frames.push(Frame::List {
                        keyed: key.is_some(),
                        items: Vec::new(),
                    });
                }
            }
            Mark::ItemOpen => {
                let tree = self.tree;
                let scope = self.scope();
                let position = scope.lists.last().copied().unwrap_or(0);
                if let Some(count) = scope.lists.last_mut() {
                    *count += 1;
                }
                let mut label = match key {
                    Some(key) => flin_vm::display::display(key),
                    // Positions never repeat within a list: nothing to check.
                    None => position.to_string(),
                };
                if key.is_some() {
                    if let Some(used) = scope.used_keys.last_mut() {
                        if !used.insert(label.clone()) {
                            label = format!("{label}\u{1}{position}");
                            used.insert(label.clone());
                        }
                    }
                }
                if !tree {
                    scope.items.push(label);
                    return;
                }
                scope.items.push(label.clone());
                if let Some(Frame::List { keyed, .. }) = self.frames.last_mut() {
                    *keyed = key.is_some();
                }
                self.frames
                    .push(Frame::Fragment(Building::new(Some(label))));
            }
            Mark::ItemClose => {
                self.scope().items.pop();
                if self.tree {
                    if let Some(Frame::Fragment(building)) = self.frames.pop() {
                        let key = building.key.clone().unwrap_or_default();
                        if let Some(Frame::List { items, .. }) = self.frames.last_mut() {
                            items.push((key.into(), building.finish()));
                        }
                    }
                }
            }
            Mark::ListClose => {
                let scope = self.scope();
                scope.lists.pop();
                scope.used_keys.pop();
                if self.tree {
                    if let Some(Frame::List { keyed, items }) = self.frames.pop() {
                        if let Some(building) = self.building() {
                            building.hole(Hole::List(Box::new(List { keyed, items })));
                        }
                    }
                }
            }
            Mark::FormFields => {
                if let Some(FormToken::Pending { signer, binding }) = &self.form_token {
                    self.form_token = Some(FormToken::Made(signer.form_token(binding)));
                }
                if let Some(FormToken::Made(token)) = self.form_token.clone() {
                    self.emit(&format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"",
                        crate::csrf::FIELD
                    ));
                    self.hole(&token);
                    self.emit("\">");
                }
                let Some(handler) = self.form_handler.take() else {
                    return;
                };
                let Some((path, signer)) = &self.form_signer else {
                    return;
                };
                let field = signer.form_field(path, &handler);
                self.emit(&format!(
                    "<input type=\"hidden\" name=\"{}\" value=\"",
                    crate::live::FORM_FIELD
                ));
                self.hole(&field);
                self.emit("\">");
            }
            Mark::BlockOpen | Mark::BlockClose => {}
        }
    }

    fn close_block(&mut self) {
        if let Some(Frame::Fragment(building)) = self.frames.pop() {
            let fragment = building.finish();
            if let Some(parent) = self.building() {
                parent.hole(Hole::Block(Box::new(fragment)));
            }
        }
    }

    /// Rendering goes to a buffer of its own (a component's children, an attribute).
    pub fn capture_begin(&mut self) {
        self.frames.push(Frame::Fragment(Building::new(None)));
    }

    /// The HTML rendered since `capture_begin`.
    pub fn capture_end(&mut self) -> String {
        match self.frames.pop() {
            Some(Frame::Fragment(building)) => {
                let mut html = String::new();
                building.finish().to_html(&mut html);
                html
            }
            Some(list @ Frame::List { .. }) => {
                self.frames.push(list);
                String::new()
            }
            None => String::new(),
        }
    }

    /// The HTML rendered so far (the whole page, or a layout's children), leaving the
    /// renderer empty.
    pub fn take_html(&mut self) -> String {
        let mut html = String::new();
        if let Some(fragment) = self.take_tree() {
            fragment.to_html(&mut html);
        }
        html
    }

    /// The tree rendered so far, leaving the renderer empty.
    pub fn take_tree(&mut self) -> Option<Fragment> {
        // Anything left open (an error stopped the render) closes here.
        while self.frames.len() > 1 {
            match self.frames.last() {
                Some(Frame::Fragment(_)) => self.close_block(),
                _ => {
                    self.frames.pop();
                }
            }
        }
        match self.frames.pop() {
            Some(Frame::Fragment(building)) => {
                self.frames.push(Frame::Fragment(Building::new(None)));
                Some(building.finish())
            }
            _ => {
                self.frames.push(Frame::Fragment(Building::new(None)));
                None
            }
        }
    }

    /// A handler at `site`: registers it and gives its name.
    fn register(&mut self, site: Site, callee: &Value, kind: HandlerKind) -> String {
        self.live = true;
        let scope = self.scope();
        let mut hasher = std::hash::DefaultHasher::new();
        scope.id.hash(&mut hasher);
        site.hash(&mut hasher);
        scope.items.hash(&mut hasher);
        fingerprint(callee, Fingerprint::Identity).hash(&mut hasher);
        let instance: Rc<str> = scope.id.as_str().into();
        let base = base36(hasher.finish());
        let mut id = base.clone();
        let mut n = 1;
        while self.handlers.contains_key(&id) {
            n += 1;
            id = format!("{base}-{n}");
        }
        self.handlers.insert(
            id.clone(),
            Handler {
                callee: callee.clone(),
                instance,
                kind,
            },
        );
        id
    }

    /// `click={…}` …: the attribute that lets the browser trigger the handler
    /// (`data-flin-click="id modifiers…"`).
    pub fn handler(&mut self, site: Site, event: &str, callee: &Value) {
        let mut parts = event.split('.');
        let name = parts.next().unwrap_or("click").to_string();
        let modifiers: Vec<&str> = parts.collect();
        let id = self.register(site, callee, HandlerKind::Event);
        if name == "submit" {
            self.form_handler = Some(id.clone());
        }
        self.emit(&format!(" data-flin-{name}=\""));
        let mut value = id;
        for modifier in modifiers {
            value.push(' ');
            value.push_str(&flin_vm::html::escape(modifier));
        }
        self.hole(&value);
        self.emit("\"");
    }

    /// `bind={x}`: `data-flin-bind="id kind"`; an element without a `name` gets one,
    /// so a form posted without JavaScript carries its value.
    pub fn bind(&mut self, site: Site, spec: &str, setter: &Value) {
        let (kind, field) = spec.split_once(' ').unwrap_or((spec, ""));
        let id = self.register(
            site,
            setter,
            HandlerKind::Bind {
                kind: kind.into(),
                field: field.into(),
            },
        );
        if field.is_empty() {
            let field = format!("{}{id}", crate::live::BIND_FIELD);
            if let Some(handler) = self.handlers.get_mut(&id) {
                handler.kind = HandlerKind::Bind {
                    kind: kind.into(),
                    field: field.as_str().into(),
                };
            }
            self.emit(" name=\"");
            self.hole(&field);
            self.emit("\"");
        }
        self.emit(" data-flin-bind=\"");
        self.hole(&format!("{id} {}", flin_vm::html::escape(kind)));
        self.emit("\"");
    }

    /// A component instance starts at `site`: its name, and its kept state if the view
    /// had it.
    pub fn component_begin(
        &mut self,
        view: Option<u32>,
        site: Site,
        props: Value,
        children: Value,
    ) -> Option<KeptInstance> {
        let parent = self.scope();
        let base = format!("{}/{site:x}@{}", parent.id, parent.items.join(","));
        let mut id = base.clone();
        let mut n = 1;
        while self.rendered.contains_key(&id) || self.scopes.iter().any(|s| s.id == id) {
            n += 1;
            id = format!("{base}#{n}");
        }
        let props_print = fingerprint(&props, Fingerprint::Content);
        let kept = self.kept.remove(&id).map(|instance| KeptInstance {
            props_changed: instance.props_print != props_print,
            state: instance.state,
        });
        let parent = self.scope().id.clone();
        let mut scope = Scope::new(id);
        scope.parent = parent;
        scope.view = view;
        scope.props = props;
        scope.children = children;
        scope.props_print = props_print;
        scope.fresh = kept.is_none();
        self.scopes.push(scope);
        if self.tree {
            self.frames.push(Frame::Fragment(Building::new(None)));
        }
        kept
    }

    /// The instance begun last has rendered, with this state.
    pub fn component_end(&mut self, state: Vec<Value>) {
        if self.scopes.len() > 1 {
            if let Some(scope) = self.scopes.pop() {
                self.rendered.insert(
                    scope.id,
                    Instance {
                        parent: scope.parent,
                        view: scope.view,
                        state,
                        props: scope.props,
                        children: scope.children,
                        props_print: scope.props_print,
                        new: scope.fresh,
                    },
                );
            }
        }
        if self.tree {
            self.close_block();
        }
    }
}

/// A 64-bit number in base 36 (a handler's name).
fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS.get((n % 36) as usize).copied().unwrap_or(b'0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_render_is_html_and_a_live_one_a_tree() {
        for tree in [false, true] {
            let mut page = PageRender::new(tree);
            page.emit("<ul>");
            page.mark(Mark::ListOpen, None);
            for (key, text) in [(1, "a"), (2, "b")] {
                page.mark(Mark::ItemOpen, Some(&Value::Int(key)));
                page.emit("<li>");
                page.hole(text);
                page.emit("</li>");
                page.mark(Mark::ItemClose, None);
            }
            page.mark(Mark::ListClose, None);
            page.emit("</ul>");
            let fragment = page.take_tree();
            let mut html = String::new();
            if let Some(fragment) = &fragment {
                fragment.to_html(&mut html);
            }
            assert_eq!(html, "<ul><li>a</li><li>b</li></ul>");
            if tree {
                let Some(Fragment { holes, .. }) = fragment else {
                    unreachable!()
                };
                assert!(matches!(
                    holes.as_slice(),
                    [Hole::List(list)] if list.keyed && list.items.len() == 2
                ));
            }
        }
    }

    #[test]
    fn handler_names_are_the_same_on_every_render() {
        let name = |items: &[i64]| {
            let mut page = PageRender::new(true);
            page.mark(Mark::ListOpen, None);
            for key in items {
                page.mark(Mark::ItemOpen, Some(&Value::Int(*key)));
                page.handler(7, "click", &Value::Int(*key));
                page.mark(Mark::ItemClose, None);
            }
            page.mark(Mark::ListClose, None);
            let mut names: Vec<(String, i64)> = page
                .handlers
                .iter()
                .map(|(id, h)| {
                    let Value::Int(n) = h.callee else {
                        unreachable!()
                    };
                    (id.clone(), n)
                })
                .collect();
            names.sort();
            names
        };
        let first = name(&[1, 2, 3]);
        let moved = name(&[3, 1, 2]);
        assert_eq!(first, moved);
    }
}
