//! Markup to code (web.md §2): a page, layout or component renders by running its
//! top-level code, in which every piece of markup appends HTML through the host. Static
//! HTML becomes text constants (`Emit`); each `{expr}` and dynamic attribute is a hole
//! (`EmitValue`, escaped, or `EmitRaw` for `raw(…)` and `{children}`). `{if}` and `{for}`
//! compile to the same control flow as the statements, so a view is static pieces and
//! holes in order: the shape the live-update diffing needs.
//!
//! Event attributes (`click={…}`) and `bind` render as `data-flin-*` markers naming the
//! handler, for the client runtime of the live-pages work; their code runs there.

use flin_syntax::ast::{self, AttrValue, Element, Expr, ExprKind, Markup, MarkupKind, TextPart};
use flin_vm::{Constant, Op};

use crate::compiler::ModuleCompiler;

/// Attributes whose `{…}` holds statements run when the event fires.
const EVENTS: &[&str] = &[
    "click",
    "submit",
    "input",
    "change",
    "keydown",
    "keyup",
    "blur",
    "focus",
    "dblclick",
    "mouseenter",
    "mouseleave",
];

impl ModuleCompiler<'_> {
    /// Appends static HTML.
    fn emit_html(&mut self, html: &str) {
        if html.is_empty() {
            return;
        }
        let k = self.constant(Constant::Text(html.into()));
        self.emit(Op::Emit { k });
    }

    /// Appends a value, escaped (or as trusted HTML).
    fn emit_expr(&mut self, expr: &Expr, raw: bool) {
        let reg = self.expr_reg(expr);
        if raw {
            self.emit(Op::EmitRaw { a: reg });
        } else {
            self.emit(Op::EmitValue { a: reg });
        }
    }

    pub fn markup(&mut self, markup: &Markup) {
        let keep = self.b().free;
        match &markup.kind {
            MarkupKind::Text(text) | MarkupKind::Raw(text) => self.emit_html(text),
            MarkupKind::Expr(expr) => match raw_argument(expr) {
                Some(inner) => self.emit_expr(inner, true),
                None => {
                    let trusted =
                        matches!(&expr.kind, ExprKind::Name(n) if n.as_str() == "children");
                    self.emit_expr(expr, trusted);
                }
            },
            MarkupKind::Element(element) => self.element(element),
            MarkupKind::If {
                branches,
                else_body,
            } => self.markup_if(branches, else_body.as_deref()),
            MarkupKind::For(for_loop) => self.markup_for(for_loop, markup.span),
        }
        self.b().free = keep;
    }

    fn markup_list(&mut self, items: &[Markup]) {
        for item in items {
            self.markup(item);
        }
    }

    fn markup_if(&mut self, branches: &[ast::MarkupBranch], else_body: Option<&[Markup]>) {
        let mut to_end = Vec::new();
        for branch in branches {
            let test = self.expr_reg(&branch.cond);
            let skip = self.emit(Op::JumpIfNot { a: test, target: 0 });
            self.markup_list(&branch.body);
            to_end.push(self.emit(Op::Jump { target: 0 }));
            self.b().patch(skip);
        }
        if let Some(body) = else_body {
            self.markup_list(body);
        }
        for jump in to_end {
            self.b().patch(jump);
        }
    }

    /// `{for x, i in xs key k}…{empty}…{/for}`: the loop of a `for` statement whose body
    /// is the markup; `{empty}` renders when the loop ran no iteration.
    fn markup_for(&mut self, for_loop: &ast::MarkupFor, span: flin_diagnostics::Span) {
        let stmts = for_loop
            .body
            .iter()
            .map(|m| ast::Stmt {
                kind: ast::StmtKind::Markup(m.clone()),
                span: m.span,
            })
            .collect();
        let statement = ast::For {
            item: for_loop.item,
            index: for_loop.index,
            iter: for_loop.iter.clone(),
            body: ast::Block { stmts, span },
        };
        match &for_loop.empty {
            None => self.for_stmt(&statement),
            Some(empty) => {
                // Whether the loop ran, kept in a register of its own.
                let ran = self.b().temp();
                self.emit(Op::LoadBool {
                    a: ran,
                    value: false,
                });
                self.loop_flag = Some(ran);
                self.for_stmt(&statement);
                self.loop_flag = None;
                let skip = self.emit(Op::JumpIf { a: ran, target: 0 });
                self.markup_list(empty);
                self.b().patch(skip);
            }
        }
    }

    fn element(&mut self, element: &Element) {
        let name = element.name.as_str();
        if element.is_component {
            self.component(element);
            return;
        }
        if name == "slot" {
            self.slot(element);
            return;
        }
        if name == "head" {
            // `<head>` content goes to the document head (the host keeps it apart).
            self.emit_html("<!--flin:head-->");
            self.markup_list(&element.children);
            self.emit_html("<!--/flin:head-->");
            return;
        }
        if name == "style" {
            self.style(element);
            return;
        }
        match &self.style_scope {
            Some(scope) => {
                let open = format!("<{name} {scope}");
                self.emit_html(&open);
            }
            None => self.emit_html(&format!("<{name}")),
        }
        let mut classes: Vec<(&str, &Expr)> = Vec::new();
        let mut class_text: Option<&ast::Text> = None;
        for attr in &element.attrs {
            match (&attr.namespace, &attr.value) {
                (Some(ns), AttrValue::Code(block)) if ns.as_str() == "class" => {
                    if let Some(expr) = block_expr(block) {
                        classes.push((attr.name.as_str(), expr));
                    }
                }
                (Some(ns), value) if ns.as_str() == "style" => {
                    self.emit_html(&format!(" style=\"{}:", attr.name.as_str()));
                    self.attr_value(value);
                    self.emit_html("\"");
                }
                (None, AttrValue::Text(text)) if attr.name.as_str() == "class" => {
                    class_text = Some(text);
                }
                // `slot="name"` placed this element in a component's slot.
                (None, AttrValue::Text(_)) if attr.name.as_str() == "slot" => {}
                (None, value) => self.attribute(attr.name.as_str(), &attr.modifiers, value),
                (Some(ns), _) => {
                    let _ = ns;
                }
            }
        }
        if let (None, [(class, flag)]) = (class_text, classes.as_slice()) {
            // One `class:x` alone: the attribute is there only when the flag holds.
            let test = self.expr_reg(flag);
            let skip = self.emit(Op::JumpIfNot { a: test, target: 0 });
            self.emit_html(&format!(" class=\"{class}\""));
            self.b().patch(skip);
        } else if class_text.is_some() || !classes.is_empty() {
            self.emit_html(" class=\"");
            if let Some(text) = class_text {
                self.text_value(text);
            }
            for (class, flag) in classes {
                let test = self.expr_reg(flag);
                let skip = self.emit(Op::JumpIfNot { a: test, target: 0 });
                self.emit_html(&format!(" {class}"));
                self.b().patch(skip);
            }
            self.emit_html("\"");
        }
        if element.self_closing {
            self.emit_html(if flin_syntax::lexer::is_void_element(name) {
                ">"
            } else {
                "/>"
            });
            return;
        }
        self.emit_html(">");
        self.markup_list(&element.children);
        self.emit_html(&format!("</{name}>"));
    }

    /// `<Card title="x" count={n}>children</Card>`: the component renders with its
    /// attributes as `props` and its content, rendered first, as `{children}`.
    fn component(&mut self, element: &Element) {
        let attrs: Vec<&ast::Attribute> = element
            .attrs
            .iter()
            .filter(|a| a.namespace.is_none())
            .collect();
        // Children marked `slot="name"` fill the component's named slots; the others
        // are its `{children}`.
        let (slotted, children): (Vec<(String, &Markup)>, Vec<&Markup>) = {
            let mut slotted = Vec::new();
            let mut rest = Vec::new();
            for child in &element.children {
                match slot_name(child) {
                    Some(name) => slotted.push((name, child)),
                    None => rest.push(child),
                }
            }
            (slotted, rest)
        };
        let base = self.b().temps(2);
        let n_pairs = attrs.len() + slotted.len();
        let pairs = self.b().temps((n_pairs * 2).max(1) as u16);
        for (idx, (name, child)) in slotted.iter().enumerate() {
            let key = pairs + ((attrs.len() + idx) * 2) as u16;
            self.load_text(&format!("$slot:{name}"), key);
            self.emit(Op::CaptureBegin);
            self.markup(child);
            self.emit(Op::CaptureEnd { a: key + 1 });
        }
        for (idx, attr) in attrs.iter().enumerate() {
            let key = pairs + (idx * 2) as u16;
            self.load_text(attr.name.as_str(), key);
            match &attr.value {
                AttrValue::Present => {
                    self.emit(Op::LoadBool {
                        a: key + 1,
                        value: true,
                    });
                }
                AttrValue::Text(text) => match text.as_plain() {
                    Some(plain) => self.load_text(&plain, key + 1),
                    None => {
                        // Interpolated: rendered into a text of its own.
                        self.emit(Op::CaptureBegin);
                        for part in &text.parts {
                            match part {
                                TextPart::Str(s) => self.emit_html(s),
                                TextPart::Interp(expr) => self.emit_expr(expr, true),
                            }
                        }
                        self.emit(Op::CaptureEnd { a: key + 1 });
                    }
                },
                AttrValue::Code(block) => match block_expr(block) {
                    Some(expr) => self.expr_to(expr, key + 1),
                    None => {
                        self.emit(Op::LoadNone { a: key + 1 });
                    }
                },
            }
        }
        self.emit(Op::NewMap {
            a: base,
            b: pairs,
            c: n_pairs as u16,
        });
        self.emit(Op::CaptureBegin);
        for child in children {
            self.markup(child);
        }
        self.emit(Op::CaptureEnd { a: base + 1 });
        let k = self.constant(Constant::Name(element.name.sym));
        self.emit(Op::RenderComponent { a: base, k });
    }

    /// `<style>`: its CSS scoped to this file's elements (`<style global>`: as written).
    fn style(&mut self, element: &Element) {
        let global = element.attrs.iter().any(|a| a.name.as_str() == "global");
        let css: String = element
            .children
            .iter()
            .filter_map(|c| match &c.kind {
                MarkupKind::Raw(text) | MarkupKind::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let css = match (&self.style_scope, global) {
            (Some(scope), false) => crate::scoped_css::scope(&css, scope),
            _ => css,
        };
        // Into the document head, once however many instances render it.
        self.emit_html(&format!(
            "<!--flin:head--><style>{css}</style><!--/flin:head-->"
        ));
    }

    /// `<slot name="x">fallback</slot>` in a component: what the caller put in slot `x`,
    /// else the fallback; `<slot>` without a name is `{children}`.
    fn slot(&mut self, element: &Element) {
        let name = element.attrs.iter().find_map(|a| match &a.value {
            AttrValue::Text(text) if a.name.as_str() == "name" => text.as_plain(),
            _ => None,
        });
        let context = match &name {
            Some(name) => format!("slot:{name}"),
            None => "children".to_string(),
        };
        let reg = self.b().temp();
        let k = self.constant(Constant::Name(flin_syntax::Symbol::intern(&context)));
        self.emit(Op::LoadContext { a: reg, k });
        let fallback = self.emit(Op::JumpIfNone { a: reg, target: 0 });
        self.emit(Op::EmitRaw { a: reg });
        let end = self.emit(Op::Jump { target: 0 });
        self.b().patch(fallback);
        self.markup_list(&element.children);
        self.b().patch(end);
    }

    fn attribute(&mut self, name: &str, modifiers: &[ast::Modifier], value: &AttrValue) {
        if EVENTS.contains(&name) {
            // The handler runs in the live runtime; the marker names it.
            let mut marker = format!(" data-flin-{name}");
            for modifier in modifiers {
                marker.push('.');
                marker.push_str(modifier.name.as_str());
            }
            self.emit_html(&marker);
            return;
        }
        match value {
            AttrValue::Present => self.emit_html(&format!(" {name}")),
            AttrValue::Text(text) => {
                self.emit_html(&format!(" {name}=\""));
                self.text_value(text);
                self.emit_html("\"");
            }
            AttrValue::Code(block) => {
                let Some(expr) = block_expr(block) else {
                    return;
                };
                if name == "bind" {
                    // The bound value shows as the element's value.
                    self.emit_html(" data-flin-bind value=\"");
                    self.emit_expr(expr, false);
                    self.emit_html("\"");
                    return;
                }
                if matches!(self.ty(expr), Some(flin_check::Ty::Bool)) {
                    // A bool attribute is present or absent.
                    let test = self.expr_reg(expr);
                    let skip = self.emit(Op::JumpIfNot { a: test, target: 0 });
                    self.emit_html(&format!(" {name}"));
                    self.b().patch(skip);
                    return;
                }
                self.emit_html(&format!(" {name}=\""));
                self.emit_expr(expr, false);
                self.emit_html("\"");
            }
        }
    }

    fn attr_value(&mut self, value: &AttrValue) {
        match value {
            AttrValue::Present => {}
            AttrValue::Text(text) => self.text_value(text),
            AttrValue::Code(block) => {
                if let Some(expr) = block_expr(block) {
                    self.emit_expr(expr, false);
                }
            }
        }
    }

    /// A quoted attribute's text: static parts as written, `{…}` escaped.
    fn text_value(&mut self, text: &ast::Text) {
        for part in &text.parts {
            match part {
                TextPart::Str(s) => self.emit_html(&flin_vm::html::escape(s)),
                TextPart::Interp(expr) => self.emit_expr(expr, false),
            }
        }
    }
}

/// The expression of a `{…}` holding exactly one.
fn block_expr(block: &ast::Block) -> Option<&Expr> {
    match block.stmts.as_slice() {
        [
            ast::Stmt {
                kind: ast::StmtKind::Expr(expr),
                ..
            },
        ] => Some(expr),
        _ => None,
    }
}

/// The slot a component's child fills (`<div slot="footer">`).
fn slot_name(markup: &Markup) -> Option<String> {
    let MarkupKind::Element(element) = &markup.kind else {
        return None;
    };
    element.attrs.iter().find_map(|a| match &a.value {
        AttrValue::Text(text) if a.name.as_str() == "slot" && a.namespace.is_none() => {
            text.as_plain()
        }
        _ => None,
    })
}

/// `x` of `raw(x)`.
fn raw_argument(expr: &Expr) -> Option<&Expr> {
    match &expr.kind {
        ExprKind::Call { callee, args } => match (&callee.kind, args.as_slice()) {
            (ExprKind::Name(name), [arg]) if name.as_str() == "raw" => Some(&arg.value),
            _ => None,
        },
        _ => None,
    }
}
