//! Walking the syntax tree: a [`Visitor`] with a default walk for every node, in source
//! order. Passes override the nodes they care about and call the `walk_*` function to go
//! on into children.

use crate::ast::*;

pub trait Visitor {
    fn visit_stmt(&mut self, stmt: &Stmt) {
        walk_stmt(self, stmt);
    }
    fn visit_expr(&mut self, expr: &Expr) {
        walk_expr(self, expr);
    }
    fn visit_type(&mut self, ty: &Type) {
        walk_type(self, ty);
    }
    fn visit_pattern(&mut self, pattern: &Pattern) {
        walk_pattern(self, pattern);
    }
    fn visit_markup(&mut self, markup: &Markup) {
        walk_markup(self, markup);
    }
    fn visit_block(&mut self, block: &Block) {
        walk_block(self, block);
    }
    fn visit_name(&mut self, _name: &Name) {}
}

pub fn walk_file<V: Visitor + ?Sized>(v: &mut V, file: &File) {
    for stmt in &file.stmts {
        v.visit_stmt(stmt);
    }
}

pub fn walk_block<V: Visitor + ?Sized>(v: &mut V, block: &Block) {
    for stmt in &block.stmts {
        v.visit_stmt(stmt);
    }
}

fn walk_text<V: Visitor + ?Sized>(v: &mut V, text: &Text) {
    for part in &text.parts {
        if let TextPart::Interp(expr) = part {
            v.visit_expr(expr);
        }
    }
}

fn walk_field<V: Visitor + ?Sized>(v: &mut V, field: &Field) {
    v.visit_name(&field.name);
    v.visit_type(&field.ty);
    for decorator in &field.decorators {
        v.visit_name(&decorator.name);
        for arg in &decorator.args {
            v.visit_expr(arg);
        }
    }
    if let Some(default) = &field.default {
        v.visit_expr(default);
    }
}

fn walk_params<V: Visitor + ?Sized>(v: &mut V, params: &[Param]) {
    for param in params {
        v.visit_name(&param.name);
        if let Some(ty) = &param.ty {
            v.visit_type(ty);
        }
        if let Some(default) = &param.default {
            v.visit_expr(default);
        }
    }
}

fn walk_args<V: Visitor + ?Sized>(v: &mut V, args: &[Arg]) {
    for arg in args {
        if let Some(name) = &arg.name {
            v.visit_name(name);
        }
        v.visit_expr(&arg.value);
    }
}

fn walk_if<V: Visitor + ?Sized>(v: &mut V, branch: &If) {
    v.visit_expr(&branch.cond);
    v.visit_block(&branch.then_block);
    match &branch.else_branch {
        Some(Else::If(inner, _)) => walk_if(v, inner),
        Some(Else::Block(block)) => v.visit_block(block),
        None => {}
    }
}

pub fn walk_stmt<V: Visitor + ?Sized>(v: &mut V, stmt: &Stmt) {
    match &stmt.kind {
        StmtKind::Expr(expr) | StmtKind::Assert(expr) => v.visit_expr(expr),
        StmtKind::Assign(assign) => {
            v.visit_expr(&assign.target);
            if let Some(ty) = &assign.ty {
                v.visit_type(ty);
            }
            v.visit_expr(&assign.value);
        }
        StmtKind::Step { target, .. } => v.visit_expr(target),
        StmtKind::If(branch) => walk_if(v, branch),
        StmtKind::For(for_loop) => {
            v.visit_name(&for_loop.item);
            if let Some(index) = &for_loop.index {
                v.visit_name(index);
            }
            v.visit_expr(&for_loop.iter);
            v.visit_block(&for_loop.body);
        }
        StmtKind::While { cond, body } => {
            v.visit_expr(cond);
            v.visit_block(body);
        }
        StmtKind::Break | StmtKind::Continue | StmtKind::Error | StmtKind::Layout(None) => {}
        StmtKind::Return(value) => {
            if let Some(value) = value {
                v.visit_expr(value);
            }
        }
        StmtKind::Persist { target, .. } => v.visit_expr(target),
        StmtKind::Transaction(block) | StmtKind::Block(block) | StmtKind::Middleware(block) => {
            v.visit_block(block)
        }
        StmtKind::Entity(entity) => {
            v.visit_name(&entity.name);
            for field in &entity.fields {
                walk_field(v, field);
            }
        }
        StmtKind::Enum(decl) => {
            v.visit_name(&decl.name);
            for variant in &decl.variants {
                v.visit_name(&variant.name);
                for ty in &variant.payload {
                    v.visit_type(ty);
                }
            }
        }
        StmtKind::TypeAlias { name, ty } => {
            v.visit_name(name);
            v.visit_type(ty);
        }
        StmtKind::Fn(decl) => {
            v.visit_name(&decl.name);
            for generic in &decl.generics {
                v.visit_name(generic);
            }
            walk_params(v, &decl.params);
            if let Some(ret) = &decl.ret {
                v.visit_type(ret);
            }
            v.visit_block(&decl.body);
        }
        StmtKind::Test { name, body } => {
            walk_text(v, name);
            v.visit_block(body);
        }
        StmtKind::Route { body, .. } => v.visit_block(body),
        StmtKind::Validate(fields) => {
            for field in fields {
                walk_field(v, field);
            }
        }
        StmtKind::Guard(guard) => {
            v.visit_name(&guard.name);
            if let Some(args) = &guard.args {
                walk_args(v, args);
            }
        }
        StmtKind::GuardDefinition { name, params, body } => {
            v.visit_name(name);
            walk_params(v, params);
            v.visit_block(body);
        }
        StmtKind::Layout(Some(text)) => walk_text(v, text),
        StmtKind::Ws(handlers) => {
            for handler in handlers {
                v.visit_name(&handler.event);
                if let Some(param) = &handler.param {
                    v.visit_name(param);
                }
                v.visit_block(&handler.body);
            }
        }
        StmtKind::Every { interval, at, body } => {
            v.visit_expr(interval);
            if let Some(at) = at {
                walk_text(v, at);
            }
            v.visit_block(body);
        }
        StmtKind::Cron { schedule, body } => {
            walk_text(v, schedule);
            v.visit_block(body);
        }
        StmtKind::Lifecycle { body, .. } => v.visit_block(body),
        StmtKind::Markup(markup) => v.visit_markup(markup),
    }
}

pub fn walk_expr<V: Visitor + ?Sized>(v: &mut V, expr: &Expr) {
    match &expr.kind {
        ExprKind::Int(_)
        | ExprKind::Number(_)
        | ExprKind::Money { .. }
        | ExprKind::Duration { .. }
        | ExprKind::Bool(_)
        | ExprKind::None
        | ExprKind::Error => {}
        ExprKind::Text(text) => walk_text(v, text),
        ExprKind::Name(name) => v.visit_name(name),
        ExprKind::List(items) | ExprKind::Tuple(items) => {
            for item in items {
                v.visit_expr(item);
            }
        }
        ExprKind::Map(entries) => {
            for (key, value) in entries {
                v.visit_expr(key);
                v.visit_expr(value);
            }
        }
        ExprKind::Record(fields) | ExprKind::Response(fields) => {
            for (name, value) in fields {
                v.visit_name(name);
                v.visit_expr(value);
            }
        }
        ExprKind::EntityLit { entity, fields } => {
            v.visit_name(entity);
            for (name, value) in fields {
                v.visit_name(name);
                v.visit_expr(value);
            }
        }
        ExprKind::Unary { operand, .. } | ExprKind::Try(operand) => v.visit_expr(operand),
        ExprKind::Binary { lhs, rhs, .. } => {
            v.visit_expr(lhs);
            v.visit_expr(rhs);
        }
        ExprKind::Conditional {
            cond,
            then_value,
            else_value,
        } => {
            v.visit_expr(cond);
            v.visit_expr(then_value);
            v.visit_expr(else_value);
        }
        ExprKind::Is { value, ty } => {
            v.visit_expr(value);
            v.visit_type(ty);
        }
        ExprKind::Range { start, end, .. } => {
            v.visit_expr(start);
            v.visit_expr(end);
        }
        ExprKind::Call { callee, args } => {
            v.visit_expr(callee);
            walk_args(v, args);
        }
        ExprKind::Member { object, member, .. } => {
            v.visit_expr(object);
            if let Member::Named(name) = member {
                v.visit_name(name);
            }
        }
        ExprKind::Index { object, index } => {
            v.visit_expr(object);
            v.visit_expr(index);
        }
        ExprKind::Slice { object, start, end } => {
            v.visit_expr(object);
            if let Some(start) = start {
                v.visit_expr(start);
            }
            if let Some(end) = end {
                v.visit_expr(end);
            }
        }
        ExprKind::TimeTravel { entity, at } => {
            v.visit_expr(entity);
            v.visit_expr(at);
        }
        ExprKind::Lambda(lambda) => {
            walk_params(v, &lambda.params);
            if let Some(ret) = &lambda.ret {
                v.visit_type(ret);
            }
            v.visit_expr(&lambda.body);
        }
        ExprKind::Match { scrutinee, arms } => {
            v.visit_expr(scrutinee);
            for arm in arms {
                v.visit_pattern(&arm.pattern);
                if let Some(guard) = &arm.guard {
                    v.visit_expr(guard);
                }
                v.visit_expr(&arm.body);
            }
        }
        ExprKind::Search(search) => {
            v.visit_expr(&search.query);
            v.visit_name(&search.entity);
            v.visit_name(&search.field);
            if let Some(SearchMode::Hybrid {
                weights: Some((keyword, semantic)),
                ..
            }) = &search.mode
            {
                v.visit_expr(keyword);
                v.visit_expr(semantic);
            }
            if let Some(filter) = &search.filter {
                v.visit_expr(filter);
            }
            if let Some(limit) = &search.limit {
                v.visit_expr(limit);
            }
        }
        ExprKind::Block(block) => v.visit_block(block),
    }
}

pub fn walk_type<V: Visitor + ?Sized>(v: &mut V, ty: &Type) {
    match &ty.kind {
        TypeKind::Named { name, args } => {
            v.visit_name(name);
            for arg in args {
                v.visit_type(arg);
            }
        }
        TypeKind::SemanticText | TypeKind::Error => {}
        TypeKind::Optional(inner) | TypeKind::List(inner) => v.visit_type(inner),
        TypeKind::Map(key, value) => {
            v.visit_type(key);
            v.visit_type(value);
        }
        TypeKind::Record(fields) => {
            for (name, field_ty) in fields {
                v.visit_name(name);
                v.visit_type(field_ty);
            }
        }
        TypeKind::Tuple(items) => {
            for item in items {
                v.visit_type(item);
            }
        }
        TypeKind::Function { params, ret } => {
            for param in params {
                v.visit_type(param);
            }
            v.visit_type(ret);
        }
    }
}

pub fn walk_pattern<V: Visitor + ?Sized>(v: &mut V, pattern: &Pattern) {
    match &pattern.kind {
        PatternKind::Wildcard | PatternKind::Error => {}
        PatternKind::Literal(expr) => v.visit_expr(expr),
        PatternKind::Range { start, end, .. } => {
            v.visit_expr(start);
            v.visit_expr(end);
        }
        PatternKind::Binding(name) => v.visit_name(name),
        PatternKind::Variant { path, args } => {
            for name in path {
                v.visit_name(name);
            }
            for arg in args.iter().flatten() {
                v.visit_pattern(arg);
            }
        }
        PatternKind::Tuple(items) | PatternKind::Or(items) => {
            for item in items {
                v.visit_pattern(item);
            }
        }
        PatternKind::List { items, rest } => {
            for item in items {
                v.visit_pattern(item);
            }
            if let Some(Some(name)) = rest {
                v.visit_name(name);
            }
        }
    }
}

pub fn walk_markup<V: Visitor + ?Sized>(v: &mut V, markup: &Markup) {
    match &markup.kind {
        MarkupKind::Element(element) => {
            v.visit_name(&element.name);
            for attr in &element.attrs {
                if let Some(namespace) = &attr.namespace {
                    v.visit_name(namespace);
                }
                v.visit_name(&attr.name);
                for modifier in &attr.modifiers {
                    v.visit_name(&modifier.name);
                }
                match &attr.value {
                    AttrValue::Present => {}
                    AttrValue::Text(text) => walk_text(v, text),
                    AttrValue::Code(block) => v.visit_block(block),
                }
            }
            for child in &element.children {
                v.visit_markup(child);
            }
        }
        MarkupKind::Text(_) | MarkupKind::Raw(_) => {}
        MarkupKind::Expr(expr) => v.visit_expr(expr),
        MarkupKind::If {
            branches,
            else_body,
        } => {
            for branch in branches {
                v.visit_expr(&branch.cond);
                for node in &branch.body {
                    v.visit_markup(node);
                }
            }
            for node in else_body.iter().flatten() {
                v.visit_markup(node);
            }
        }
        MarkupKind::For(for_block) => {
            v.visit_name(&for_block.item);
            if let Some(index) = &for_block.index {
                v.visit_name(index);
            }
            v.visit_expr(&for_block.iter);
            if let Some(key) = &for_block.key {
                v.visit_expr(key);
            }
            for node in &for_block.body {
                v.visit_markup(node);
            }
            for node in for_block.empty.iter().flatten() {
                v.visit_markup(node);
            }
        }
    }
}
