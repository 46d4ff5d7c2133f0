//! Views (web.md §2): expressions in markup, `{if}` and `{for … key …}` blocks, every
//! attribute form (bool attributes, `class:x`, `style:x`, event handlers with `event` in
//! scope, `bind` to an assignable place), and components found by file name.

use flin_syntax::Symbol;
use flin_syntax::ast::{
    AttrValue, Attribute, Block, Element, ExprKind, Markup, MarkupKind, StmtKind,
};

use super::{Checker, FrameKind};
use crate::error::CheckError;
use crate::ty::Ty;

/// DOM events whose attribute holds statements run when the event fires (the compiler
/// and the live runtime use the same list).
pub const EVENTS: &[&str] = &[
    "click",
    "dblclick",
    "submit",
    "input",
    "change",
    "keydown",
    "keyup",
    "keypress",
    "blur",
    "focus",
    "mouseenter",
    "mouseleave",
    "mouseover",
    "mouseout",
    "mousedown",
    "mouseup",
    "scroll",
    "contextmenu",
    "touchstart",
    "touchend",
    "paste",
    "copy",
    "cut",
    "drop",
    "dragover",
];

/// Attributes that are present or absent.
const BOOL_ATTRIBUTES: &[&str] = &[
    "disabled",
    "checked",
    "selected",
    "hidden",
    "readonly",
    "required",
    "autofocus",
    "multiple",
    "open",
];

impl Checker<'_, '_> {
    pub fn markup(&mut self, markup: &Markup) {
        match &markup.kind {
            MarkupKind::Element(element) => self.element(element),
            MarkupKind::Text(_) | MarkupKind::Raw(_) => {}
            MarkupKind::Expr(expr) => {
                self.infer(expr);
            }
            MarkupKind::If {
                branches,
                else_body,
            } => {
                let mut negatives = Vec::new();
                for branch in branches {
                    let narrowing = self.with_narrowed(&negatives, |c| c.condition(&branch.cond));
                    let mut narrowed = negatives.clone();
                    narrowed.extend(narrowing.when_true);
                    self.with_narrowed(&narrowed, |c| {
                        for node in &branch.body {
                            c.markup(node);
                        }
                    });
                    negatives.extend(narrowing.when_false);
                }
                if let Some(else_body) = else_body {
                    self.with_narrowed(&negatives, |c| {
                        for node in else_body {
                            c.markup(node);
                        }
                    });
                }
            }
            MarkupKind::For(for_block) => {
                let iter_ty = self.infer(&for_block.iter);
                let item_ty = self.element_of(&iter_ty, for_block.iter.span);
                self.push_scope();
                self.bind(for_block.item.sym, item_ty, for_block.item.span);
                if let Some(index) = &for_block.index {
                    self.bind(index.sym, Ty::Int, index.span);
                }
                if let Some(key) = &for_block.key {
                    self.infer(key);
                }
                for node in &for_block.body {
                    self.markup(node);
                }
                self.pop_scope();
                for node in for_block.empty.iter().flatten() {
                    self.markup(node);
                }
            }
        }
    }

    fn element(&mut self, element: &Element) {
        if element.is_component && !self.components.contains(&element.name.sym) {
            self.error(CheckError::UnknownComponent {
                span: element.name.span,
                name: element.name.sym,
                candidates: self.components.to_vec(),
            });
        }
        if let Some(props) = self.component_props.get(&element.name.sym) {
            for attr in &element.attrs {
                let name = attr.name.as_str();
                let generic = attr.namespace.is_some()
                    || matches!(name, "class" | "id" | "style" | "slot" | "key" | "title")
                    || name.starts_with("data-")
                    || name.starts_with("aria-")
                    || EVENTS.contains(&name);
                if !generic && !props.contains(&attr.name.sym) {
                    self.error(CheckError::UnknownProp {
                        span: attr.name.span,
                        prop: attr.name.sym,
                        component: element.name.sym,
                        candidates: props.clone(),
                    });
                }
            }
        }
        for attr in &element.attrs {
            self.attribute(attr, element.is_component);
        }
        for child in &element.children {
            self.markup(child);
        }
    }

    fn attribute(&mut self, attr: &Attribute, on_component: bool) {
        let name = attr.name.as_str();
        let block = match &attr.value {
            AttrValue::Present => return,
            AttrValue::Text(text) => {
                for part in &text.parts {
                    if let flin_syntax::ast::TextPart::Interp(expr) = part {
                        self.infer(expr);
                    }
                }
                return;
            }
            AttrValue::Code(block) => block,
        };
        let single = single_expression(block);
        let namespace = attr.namespace.map(|n| n.as_str());
        if namespace == Some("class")
            || (namespace.is_none() && BOOL_ATTRIBUTES.contains(&name) && !on_component)
        {
            match single {
                Some(expr) => {
                    self.check_expr(expr, &Ty::Bool, "a present-or-absent attribute");
                }
                None => self.handler(block),
            }
            return;
        }
        if namespace.is_none() && name == "bind" {
            match single {
                Some(expr) if matches!(expr.kind, ExprKind::Name(_) | ExprKind::Index { .. }) => {
                    let ty = self.assign_target(expr);
                    self.record_bind(expr, ty);
                }
                Some(
                    expr @ flin_syntax::ast::Expr {
                        kind:
                            ExprKind::Member {
                                object,
                                optional: false,
                                ..
                            },
                        ..
                    },
                ) => {
                    let object_ty = self.infer(object);
                    let owner = self.shallow(&object_ty);
                    if super::stmt::has_fields(&owner) {
                        let ty = self.assign_target(expr);
                        self.record_bind(expr, ty);
                    } else {
                        self.error(CheckError::BindNotAssignable { span: expr.span });
                    }
                }
                Some(expr) => self.error(CheckError::BindNotAssignable { span: expr.span }),
                None => self.error(CheckError::BindNotAssignable { span: block.span }),
            }
            return;
        }
        let is_event = namespace.is_none()
            && (EVENTS.contains(&name)
                || (on_component
                    && name.starts_with("on")
                    && name.chars().nth(2).is_some_and(char::is_uppercase))
                || single.is_none());
        if is_event {
            self.handler(block);
        } else if let Some(expr) = single {
            self.infer(expr);
        }
    }

    /// The type of a `bind` target, for the compiler: how the browser's value converts.
    fn record_bind(&mut self, target: &flin_syntax::ast::Expr, ty: Ty) {
        if self.record {
            self.expr_types.push((self.file, target.span, ty));
        }
    }

    /// An event handler: statements run when the event fires, with `event` in scope.
    fn handler(&mut self, block: &Block) {
        let event = Ty::Record(vec![
            (Symbol::intern("value"), Ty::Text),
            (Symbol::intern("key"), Ty::Text),
            (Symbol::intern("checked"), Ty::Bool),
            (Symbol::intern("form"), Ty::map(Ty::Text, Ty::Text)),
        ]);
        let saved = self.context.insert(Symbol::intern("event"), event);
        self.handler_block(block, FrameKind::Handler);
        match saved {
            Some(previous) => {
                self.context.insert(Symbol::intern("event"), previous);
            }
            None => {
                self.context.remove(&Symbol::intern("event"));
            }
        }
    }
}

fn single_expression(block: &Block) -> Option<&flin_syntax::ast::Expr> {
    match block.stmts.as_slice() {
        [stmt] => match &stmt.kind {
            StmtKind::Expr(expr) => Some(expr),
            _ => None,
        },
        _ => None,
    }
}
