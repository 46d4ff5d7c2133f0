//! Markup to code (web.md §2, §9): a page, layout or component renders by running its
//! `render` function, in which every piece of markup appends HTML through the host.
//! Static HTML becomes text constants (`Emit`); each `{expr}` and dynamic attribute is a
//! hole (`EmitValue`, escaped, or `EmitRaw` for `raw(…)` and `{children}`). `{if}` and
//! `{for}` compile to the same control flow as the statements, bracketed by `Mark`s
//! (a block, a list and its items, keyed or by position), so a live view sees the page
//! as static pieces and holes in a tree it can diff.
//!
//! Event attributes (`click={…}`) compile to closures handed to the host
//! (`EmitHandler`), which names them in the page; `bind={x}` to a setter closure
//! (`EmitBind`) plus the value, `checked` or `selected` the element shows now.

use flin_syntax::ast::{self, AttrValue, Element, Expr, ExprKind, Markup, MarkupKind, TextPart};
use flin_vm::host::Mark;
use flin_vm::opcode::NO_REG;
use flin_vm::{Constant, Op};

use crate::compiler::ModuleCompiler;

/// Attributes whose `{…}` holds statements run when the event fires.
pub use flin_check::EVENTS;

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
        if let (Some(declarations), false) = (self.css_values, raw) {
            // A value inside a `style` attribute: CSS text, never CSS code (web.md §7).
            let base = self.b().temps(3);
            self.expr_to(expr, base + 1);
            self.emit(Op::LoadBool {
                a: base + 2,
                value: declarations,
            });
            self.builtin_call("", "$css_text", base, 2);
            self.emit(Op::EmitValue { a: base });
            return;
        }
        let reg = self.expr_reg(expr);
        if raw {
            self.emit(Op::EmitRaw { a: reg });
        } else {
            self.emit(Op::EmitValue { a: reg });
        }
    }

    fn mark(&mut self, mark: Mark, key: Option<u16>) {
        self.emit(Op::Mark {
            a: key.unwrap_or(NO_REG),
            kind: mark.code(),
        });
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
        // The whole `{if}` is one hole: the branch taken is a block inside it.
        self.mark(Mark::BlockOpen, None);
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
        self.mark(Mark::BlockClose, None);
    }

    /// `{for x, i in xs key k}…{empty}…{/for}`: the loop of a `for` statement whose body
    /// is the markup, each iteration an item of a list (keyed by `k`, or by position);
    /// `{empty}` renders, in a block of its own, when the loop ran no iteration.
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
        self.mark(Mark::ListOpen, None);
        // The loop body marks each iteration as an item (see `loop_body`).
        self.item_mark = Some(for_loop.key.clone());
        match &for_loop.empty {
            None => {
                self.for_stmt(&statement);
                self.item_mark = None;
                self.mark(Mark::ListClose, None);
            }
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
                self.item_mark = None;
                self.mark(Mark::ListClose, None);
                self.mark(Mark::BlockOpen, None);
                let skip = self.emit(Op::JumpIf { a: ran, target: 0 });
                self.markup_list(empty);
                self.b().patch(skip);
                self.mark(Mark::BlockClose, None);
            }
        }
    }

    /// The start of one iteration of a markup `{for}` (called by the loop body once the
    /// item is declared): an item, keyed when the loop has `key`.
    pub fn open_item(&mut self, key: Option<&Expr>) {
        match key {
            Some(key) => {
                let reg = self.expr_reg(key);
                self.mark(Mark::ItemOpen, Some(reg));
            }
            None => self.mark(Mark::ItemOpen, None),
        }
    }

    pub fn close_item(&mut self) {
        self.mark(Mark::ItemClose, None);
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
            // `<head>` content goes to the document head.
            let reg = self.b().temp();
            self.emit(Op::CaptureBegin);
            self.markup_list(&element.children);
            self.emit(Op::CaptureEnd { a: reg });
            self.emit(Op::EmitHead { a: reg });
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
        let bind = element.attrs.iter().find_map(|attr| match &attr.value {
            AttrValue::Code(block) if attr.name.as_str() == "bind" && attr.namespace.is_none() => {
                block_expr(block)
            }
            _ => None,
        });
        let input_type = static_attribute(element, "type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let submits = name == "form"
            && element
                .attrs
                .iter()
                .any(|a| a.namespace.is_none() && a.name.as_str() == "submit");
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
                    let outer = self.css_values.replace(false);
                    self.attr_value(value);
                    self.css_values = outer;
                    self.emit_html("\"");
                }
                (None, AttrValue::Text(text)) if attr.name.as_str() == "class" => {
                    class_text = Some(text);
                }
                // `slot="name"` placed this element in a component's slot.
                (None, AttrValue::Text(_)) if attr.name.as_str() == "slot" => {}
                // The bound value is the element's value.
                (None, _)
                    if attr.name.as_str() == "value"
                        && bind.is_some()
                        && !matches!(input_type.as_str(), "radio" | "checkbox") => {}
                (None, value) if attr.name.as_str() == "bind" => {
                    if let Some(target) = bind {
                        self.bind_attribute(name, &input_type, element, target);
                    } else {
                        let _ = value;
                    }
                }
                (None, value) if EVENTS.contains(&attr.name.as_str()) => {
                    self.event_attribute(attr, value);
                }
                (None, value) => self.attribute(attr.name.as_str(), value),
                (Some(_), _) => {}
            }
        }
        if name == "option" {
            self.option_selected(element);
        }
        // A form with a `submit` handler posts to its page without JavaScript.
        if submits && static_attribute(element, "method").is_none() {
            self.emit_html(" method=\"post\"");
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
        // Every form gets FLIN's hidden fields: the cross-site token, and the handler
        // a `submit` form names.
        if name == "form" {
            self.mark(Mark::FormFields, None);
        }
        match (name, bind) {
            // A bound textarea shows the value, whatever it was written with.
            ("textarea", Some(target)) => self.emit_expr(target, false),
            // Its options are selected by the bound value.
            ("select", Some(target)) => {
                let shown = self.b().temps(2);
                self.expr_to(target, shown + 1);
                self.builtin_call("", "to_text", shown, 1);
                let outer = self.select_value.replace(shown);
                self.markup_list(&element.children);
                self.select_value = outer;
            }
            _ => self.markup_list(&element.children),
        }
        self.emit_html(&format!("</{name}>"));
    }

    /// `click={…}`, `keydown.enter={…}`: the handler as a closure, named in the page by
    /// the host.
    fn event_attribute(&mut self, attr: &ast::Attribute, value: &AttrValue) {
        let AttrValue::Code(block) = value else {
            return;
        };
        let handler = self.b().temp();
        self.handler_closure(block, attr.span, handler);
        let mut event = attr.name.as_str().to_string();
        for modifier in &attr.modifiers {
            event.push('.');
            event.push_str(modifier.name.as_str());
            if let Some(arg) = modifier.arg {
                event.push_str(&format!("({arg})"));
            }
        }
        let k = self.constant(Constant::Text(event.into()));
        self.emit(Op::EmitHandler { a: handler, k });
    }

    /// A handler's statements as a closure of no argument in `dst` (`event` is a
    /// context value while it runs).
    fn handler_closure(&mut self, block: &ast::Block, span: flin_diagnostics::Span, dst: u16) {
        let mut code = self.function(None, &[], crate::compiler::FnBody::Block(block), span);
        code.handler = true;
        let id = self.add_extra(code);
        let k = self.constant(Constant::Function(id));
        self.emit(Op::Closure { a: dst, k });
    }

    /// `bind={x}`: a setter closure the browser's value goes through, and what the
    /// element shows of `x` now (its value, `checked`; a select's options and a
    /// textarea's content are done with the children).
    fn bind_attribute(&mut self, tag: &str, input_type: &str, element: &Element, target: &Expr) {
        let setter = self.b().temp();
        self.bind_setter(target, setter);
        // The kind, and the field the element posts under (forms without JavaScript
        // set the variable from it).
        let mut kind = bind_kind(self.ty(target), tag, input_type);
        if let Some(name) = static_attribute(element, "name") {
            kind.push(' ');
            kind.push_str(&name);
        }
        let k = self.constant(Constant::Text(kind.into()));
        self.emit(Op::EmitBind { a: setter, k });
        match (tag, input_type) {
            ("input", "checkbox") => {
                let test = self.expr_reg(target);
                let skip = self.emit(Op::JumpIfNot { a: test, target: 0 });
                self.emit_html(" checked");
                self.b().patch(skip);
            }
            ("input", "radio") => {
                let Some(value) = element
                    .attrs
                    .iter()
                    .find(|a| a.namespace.is_none() && a.name.as_str() == "value")
                else {
                    return;
                };
                let shown = self.b().temps(2);
                self.expr_to(target, shown + 1);
                self.builtin_call("", "to_text", shown, 1);
                self.emit_if_value(&value.value, shown, " checked");
            }
            // A file input shows no value (browsers allow none).
            ("textarea" | "select", _) | ("input", "file") => {}
            _ => {
                self.emit_html(" value=\"");
                let shown = self.b().temps(2);
                self.expr_to(target, shown + 1);
                self.builtin_call("", "to_text", shown, 1);
                self.emit(Op::EmitValue { a: shown });
                self.emit_html("\"");
            }
        }
    }

    /// The setter of `bind={target}`: a closure of one value that assigns it.
    fn bind_setter(&mut self, target: &Expr, dst: u16) {
        let mut builder = crate::func::FnBuilder::new(None, self.file, target.span);
        builder.arity = 1;
        builder.param_names = vec![flin_syntax::Symbol::intern("value")];
        self.stack.push(builder);
        let value = self.b().temps(1);
        match &target.kind {
            ExprKind::Name(name) => {
                if let Some(slot) = self.resolve_var(name.sym) {
                    self.write_slot(slot, value);
                }
            }
            ExprKind::Member {
                object,
                member: ast::Member::Named(field),
                ..
            } => {
                let object = self.expr_reg(object);
                self.set_field(object, field.sym, value);
            }
            ExprKind::Index { object, index } => {
                let object = self.expr_reg(object);
                let index = self.expr_reg(index);
                self.emit(Op::SetIndex {
                    a: object,
                    b: index,
                    c: value,
                });
            }
            _ => {}
        }
        let result = self.b().temp();
        self.emit(Op::LoadNone { a: result });
        self.emit(Op::Return { a: result });
        let builder = self.stack.pop();
        let code = match builder {
            Some(builder) => flin_vm::program::FunctionCode {
                handler: true,
                ..builder.finish()
            },
            None => return,
        };
        let id = self.add_extra(code);
        let k = self.constant(Constant::Function(id));
        self.emit(Op::Closure { a: dst, k });
    }

    /// `<option value="v">` inside a bound `<select>`: selected when `v` is the bound
    /// value.
    fn option_selected(&mut self, element: &Element) {
        let Some(shown) = self.select_value else {
            return;
        };
        let Some(value) = element
            .attrs
            .iter()
            .find(|a| a.namespace.is_none() && a.name.as_str() == "value")
        else {
            return;
        };
        self.emit_if_value(&value.value, shown, " selected");
    }

    /// Appends `html` when the attribute value `value` (as text) is the text in
    /// register `shown` (a radio or an option of the bound value).
    fn emit_if_value(&mut self, value: &AttrValue, shown: u16, html: &str) {
        let base = self.b().temps(2);
        self.emit(Op::CaptureBegin);
        self.attr_value(value);
        self.emit(Op::CaptureEnd { a: base });
        self.emit(Op::Eq {
            a: base + 1,
            b: base,
            c: shown,
        });
        let skip = self.emit(Op::JumpIfNot {
            a: base + 1,
            target: 0,
        });
        self.emit_html(html);
        self.b().patch(skip);
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
                    // `onPress={archive(b)}`: a function prop, called by the component
                    // (web.md §3), never while rendering.
                    Some(_) if is_function_prop(attr.name.as_str()) => {
                        self.handler_closure(block, attr.span, key + 1);
                    }
                    Some(expr) => self.expr_to(expr, key + 1),
                    None => self.handler_closure(block, attr.span, key + 1),
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
        let reg = self.b().temp();
        self.load_text(&format!("<style>{css}</style>"), reg);
        self.emit(Op::EmitHead { a: reg });
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

    fn attribute(&mut self, name: &str, value: &AttrValue) {
        // A URL built from data renders only safe schemes; a style from data is CSS
        // text (web.md §7 "URLs in markup").
        if URL_ATTRIBUTES.contains(&name) && scheme_from_data(value) {
            self.emit_html(&format!(" {name}=\""));
            let base = self.b().temps(3);
            self.emit(Op::CaptureBegin);
            self.attr_value(value);
            self.emit(Op::CaptureEnd { a: base + 1 });
            self.emit(Op::LoadBool {
                a: base + 2,
                value: matches!(name, "src" | "poster"),
            });
            self.builtin_call("", "$safe_url", base, 2);
            self.emit(Op::EmitRaw { a: base });
            self.emit_html("\"");
            return;
        }
        if name == "style" {
            let outer = self.css_values.replace(matches!(value, AttrValue::Code(_)));
            self.attribute_value(name, value);
            self.css_values = outer;
            return;
        }
        self.attribute_value(name, value);
    }

    fn attribute_value(&mut self, name: &str, value: &AttrValue) {
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

/// A component attribute that is a function prop: an event name or `onSomething`.
fn is_function_prop(name: &str) -> bool {
    EVENTS.contains(&name)
        || (name.starts_with("on") && name.chars().nth(2).is_some_and(char::is_uppercase))
}

/// The text of an attribute written without `{…}` (`type="checkbox"`).
fn static_attribute(element: &Element, name: &str) -> Option<String> {
    element.attrs.iter().find_map(|a| match &a.value {
        AttrValue::Text(text) if a.namespace.is_none() && a.name.as_str() == name => {
            text.as_plain()
        }
        _ => None,
    })
}

/// How the browser's value of a bound element converts to the variable's type:
/// `text`, `int`, `number` or `bool`, with `?` when the variable may be `none` (an
/// empty field is then `none`).
fn bind_kind(ty: Option<&flin_check::Ty>, tag: &str, input_type: &str) -> String {
    use flin_check::Ty;
    let (inner, optional) = match ty {
        Some(Ty::Optional(inner)) => (Some(&**inner), true),
        other => (other, false),
    };
    let base = match inner {
        Some(Ty::Int) => "int",
        Some(Ty::Number) => "number",
        Some(Ty::Bool) => "bool",
        Some(Ty::File) => "file",
        _ if tag == "input" && input_type == "checkbox" => "bool",
        _ => "text",
    };
    if optional {
        format!("{base}?")
    } else {
        base.to_string()
    }
}

/// Attributes that hold a URL (web.md §7 "URLs in markup").
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "poster",
    "cite",
    "background",
    "data",
    "manifest",
    "ping",
    "longdesc",
    "codebase",
    "icon",
];

/// Whether data can choose a URL's scheme: the value starts with a hole, or with
/// static text that does not fix the scheme (no `:`, and no `/`, `?` or `#` that would
/// make what follows a path).
fn scheme_from_data(value: &AttrValue) -> bool {
    match value {
        AttrValue::Present => false,
        AttrValue::Code(_) => true,
        AttrValue::Text(text) => match text.parts.first() {
            None => false,
            Some(TextPart::Interp(_)) => true,
            Some(TextPart::Str(prefix)) => {
                text.parts.len() > 1 && !prefix.contains([':', '/', '?', '#'])
            }
        },
    }
}
