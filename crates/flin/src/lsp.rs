//! `flin lsp` (cli.md §4): a language server over stdio. Each open file is checked with
//! its project (found by walking up to a folder with `app/`, `entities/`, `lib/` or
//! `flin.toml`; else the file alone), open editors' texts over the files on disk, and the
//! diagnostics of `flin check` are published as the file is edited. Hover shows the type
//! of the expression under the cursor (from the checker's tables), or a declaration's
//! signature; definition goes to the declaration of an entity, function, enum, type,
//! component or layout of the project; completion offers the project's names, keywords,
//! an entity's query methods after `Entity.` and its fields after a value of its type;
//! document symbols list a file's declarations; formatting is `flin fmt`'s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use flin_check::Project;
use flin_diagnostics::{FileId, Severity, Sources};
use flin_syntax::ast::{self, StmtKind};
use lsp_server::{Connection, Message, Notification, Request, Response};
use serde_json::Value as J;

pub fn run() -> ExitCode {
    let (connection, threads) = Connection::stdio();
    let capabilities = serde_json::json!({
        "textDocumentSync": 1,
        "hoverProvider": true,
        "definitionProvider": true,
        "completionProvider": { "triggerCharacters": ["."] },
        "documentSymbolProvider": true,
        "documentFormattingProvider": true,
    });
    if connection.initialize(capabilities).is_err() {
        return ExitCode::from(1);
    }
    let mut server = Server::default();
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request).unwrap_or(true) {
                    break;
                }
                let response = server.request(request);
                if connection.sender.send(Message::Response(response)).is_err() {
                    break;
                }
            }
            Message::Notification(notification) => {
                for out in server.notification(notification) {
                    if connection.sender.send(Message::Notification(out)).is_err() {
                        break;
                    }
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(connection);
    let _ = threads.join();
    ExitCode::SUCCESS
}

#[derive(Default)]
struct Server {
    /// The texts of open files, by path.
    open: HashMap<PathBuf, String>,
}

/// A project as checked now: its sources (open texts over disk) and the checker's view.
struct Checked {
    root: PathBuf,
    sources: Sources,
    checked: flin_check::Checked,
}

impl Server {
    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            "textDocument/hover" => self.hover(&request.params),
            "textDocument/definition" => self.definition(&request.params),
            "textDocument/completion" => self.completion(&request.params),
            "textDocument/documentSymbol" => self.symbols(&request.params),
            "textDocument/formatting" => self.formatting(&request.params),
            _ => {
                return Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("`{}` is not supported", request.method),
                );
            }
        };
        Response::new_ok(id, result)
    }

    fn notification(&mut self, notification: Notification) -> Vec<Notification> {
        let params = &notification.params;
        let uri = params
            .pointer("/textDocument/uri")
            .and_then(J::as_str)
            .unwrap_or("");
        let Some(path) = path_of(uri) else {
            return Vec::new();
        };
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                let text = params
                    .pointer("/textDocument/text")
                    .and_then(J::as_str)
                    .unwrap_or("");
                self.open.insert(path.clone(), text.to_string());
            }
            "textDocument/didChange" => {
                // Full sync: the last change is the whole text.
                let text = params
                    .pointer("/contentChanges")
                    .and_then(J::as_array)
                    .and_then(|c| c.last())
                    .and_then(|c| c.get("text"))
                    .and_then(J::as_str);
                if let Some(text) = text {
                    self.open.insert(path.clone(), text.to_string());
                }
            }
            "textDocument/didClose" => {
                self.open.remove(&path);
                return vec![publish(uri, Vec::new())];
            }
            "textDocument/didSave" => {}
            _ => return Vec::new(),
        }
        self.diagnostics(&path)
    }

    /// The diagnostics of every open file of `path`'s project.
    fn diagnostics(&self, path: &Path) -> Vec<Notification> {
        let Some(project) = self.check(path) else {
            return Vec::new();
        };
        let mut by_file: HashMap<FileId, Vec<J>> = HashMap::new();
        for diagnostic in &project.checked.diagnostics {
            let Some(source) = project.sources.get(diagnostic.file) else {
                continue;
            };
            let mut message = diagnostic.message.clone();
            if let Some(help) = &diagnostic.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            by_file
                .entry(diagnostic.file)
                .or_default()
                .push(serde_json::json!({
                    "range": range(&source.text, diagnostic.span.start, diagnostic.span.end),
                    "severity": if diagnostic.severity == Severity::Error { 1 } else { 2 },
                    "code": diagnostic.code,
                    "source": "flin",
                    "message": message,
                }));
        }
        let mut out = Vec::new();
        for source in project.sources.iter() {
            let full = project.root.join(&source.path);
            let open = self.open.keys().any(|p| same_file(p, &full));
            if !open {
                continue;
            }
            let uri = uri_of(&full);
            out.push(publish(
                &uri,
                by_file.remove(&source.id).unwrap_or_default(),
            ));
        }
        out
    }

    /// Checks the project of `path`, the open texts over the files on disk.
    fn check(&self, path: &Path) -> Option<Checked> {
        let root = project_root(path);
        let project = match &root {
            Some(root) => flin_check::load(root).ok(),
            None => {
                let text = self
                    .open
                    .get(path)
                    .cloned()
                    .or_else(|| std::fs::read_to_string(path).ok())?;
                let mut project = Project::from_text(&path.to_string_lossy(), &text);
                project.root = path.parent().map(Path::to_path_buf).unwrap_or_default();
                Some(project)
            }
        }?;
        let root = root.unwrap_or_else(|| project.root.clone());
        let mut sources = Sources::new();
        let mut seen_path = false;
        for source in project.sources.iter() {
            let full = if project.single_file {
                PathBuf::from(&source.path)
            } else {
                root.join(&source.path)
            };
            seen_path |= same_file(&full, path);
            let text = self
                .open
                .iter()
                .find(|(p, _)| same_file(p, &full))
                .map_or_else(|| source.text.clone(), |(_, t)| t.clone());
            sources.add(source.path.clone(), text);
        }
        // A new file not yet on disk.
        if !seen_path && !project.single_file {
            if let (Some(text), Ok(relative)) = (self.open.get(path), path.strip_prefix(&root)) {
                sources.add(relative.to_string_lossy().replace('\\', "/"), text.clone());
            }
        }
        let project = Project {
            root: root.clone(),
            sources,
            diagnostics: Vec::new(),
            single_file: project.single_file,
        };
        let checked = flin_check::check_for_compile(&project);
        Some(Checked {
            root: if project.single_file {
                PathBuf::new()
            } else {
                root
            },
            sources: project.sources,
            checked,
        })
    }

    /// The project of a request's document, that document's file and the cursor's
    /// offset in it.
    fn at(&self, params: &J) -> Option<(Checked, FileId, u32)> {
        let uri = params.pointer("/textDocument/uri").and_then(J::as_str)?;
        let path = path_of(uri)?;
        let line = params.pointer("/position/line").and_then(J::as_u64)?;
        let character = params.pointer("/position/character").and_then(J::as_u64)?;
        let project = self.check(&path)?;
        let file = project
            .sources
            .iter()
            .find(|s| same_file(&project.root.join(&s.path), &path))?;
        let offset = offset_of(&file.text, line as u32, character as u32);
        let id = file.id;
        Some((project, id, offset))
    }

    fn hover(&self, params: &J) -> J {
        let Some((project, file, offset)) = self.at(params) else {
            return J::Null;
        };
        let Some(source) = project.sources.get(file) else {
            return J::Null;
        };
        // A declared name (where it is declared or used): its signature and the `//`
        // comment above it.
        let word = word_at(&source.text, offset);
        if let Some((signature, doc)) = declaration_named(&project, &word) {
            return hover_doc(&signature, &doc);
        }
        // The smallest expression under the cursor, with its type.
        let found = project
            .checked
            .tables
            .types
            .iter()
            .filter(|((f, start, end), _)| *f == file && *start <= offset && offset <= *end)
            .min_by_key(|((_, start, end), _)| end - start);
        match found {
            Some(((_, start, end), ty)) => {
                let text = source
                    .text
                    .get(*start as usize..*end as usize)
                    .unwrap_or("");
                let shown: String = text.chars().take(60).collect();
                hover_json(
                    &format!("{shown}: {ty}"),
                    Some(range(&source.text, *start, *end)),
                )
            }
            None => J::Null,
        }
    }

    fn definition(&self, params: &J) -> J {
        let Some((project, file, offset)) = self.at(params) else {
            return J::Null;
        };
        let Some(source) = project.sources.get(file) else {
            return J::Null;
        };
        // A path in a text (`"/books/7"`): the file under `app/` that serves it.
        if let Some(path) = quoted_path_at(&source.text, offset) {
            if let Some(found) = route_file(&project, &path) {
                return location(&project.root.join(&found.path), &found.text, 0, 0);
            }
        }
        let word = word_at(&source.text, offset);
        if word.is_empty() {
            return J::Null;
        }
        // Components and layouts are files.
        for candidate in [
            format!("components/{word}.flin"),
            format!("layouts/{word}.flin"),
        ] {
            if let Some(found) = project.sources.iter().find(|s| s.path == candidate) {
                return location(&project.root.join(&found.path), &found.text, 0, 0);
            }
        }
        for (decl_file, tree) in &project.checked.files {
            for stmt in &tree.stmts {
                let Some(name) = declared_name(stmt) else {
                    continue;
                };
                if name.as_str() == word {
                    let Some(found) = project.sources.get(*decl_file) else {
                        continue;
                    };
                    return location(
                        &project.root.join(&found.path),
                        &found.text,
                        name.span.start,
                        name.span.end,
                    );
                }
            }
        }
        J::Null
    }

    fn completion(&self, params: &J) -> J {
        let Some((project, file, offset)) = self.at(params) else {
            return J::Array(Vec::new());
        };
        let Some(source) = project.sources.get(file) else {
            return J::Array(Vec::new());
        };
        let mut items: Vec<(String, u32, String)> = Vec::new();
        let before = source.text.get(..offset as usize).unwrap_or("");
        let typed = before
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .count();
        let typed_bytes: usize = before.chars().rev().take(typed).map(char::len_utf8).sum();
        let head = before.get(..before.len() - typed_bytes).unwrap_or("");
        if let Some(receiver_end) = head.strip_suffix('.') {
            let receiver = word_at(receiver_end, receiver_end.len() as u32);
            let entity = entity_named(&project, &receiver);
            if let Some(entity) = entity {
                // `Entity.`: its queries.
                for method in [
                    "all",
                    "where",
                    "order",
                    "limit",
                    "first",
                    "last",
                    "count",
                    "find",
                    "find_by",
                    "search",
                    "with",
                    "deleted",
                    "with_deleted",
                ] {
                    items.push((
                        method.into(),
                        2,
                        format!("query of {}", entity.name.as_str()),
                    ));
                }
            } else if let Some(entity) =
                self.entity_of_expression(&project, file, receiver_end.len() as u32)
            {
                for field in &entity.fields {
                    items.push((field.name.as_str().to_string(), 5, field_type(field)));
                }
                for meta in [
                    "id",
                    "version",
                    "created_at",
                    "updated_at",
                    "deleted_at",
                    "history",
                ] {
                    items.push((meta.into(), 5, "entity".into()));
                }
            }
        } else {
            for (_, tree) in &project.checked.files {
                for stmt in &tree.stmts {
                    if let Some(name) = declared_name(stmt) {
                        let kind = match stmt.kind {
                            StmtKind::Fn(_) => 3,
                            StmtKind::Entity(_) => 7,
                            StmtKind::Enum(_) => 13,
                            _ => 22,
                        };
                        items.push((name.as_str().to_string(), kind, String::new()));
                    }
                }
            }
            for keyword in KEYWORDS {
                items.push(((*keyword).to_string(), 14, "keyword".into()));
            }
        }
        items.sort();
        items.dedup_by(|a, b| a.0 == b.0);
        J::Array(
            items
                .into_iter()
                .map(|(label, kind, detail)| serde_json::json!({ "label": label, "kind": kind, "detail": detail }))
                .collect(),
        )
    }

    /// The entity whose value ends just before `end` in `file` (`note.` → `Note`).
    fn entity_of_expression<'c>(
        &self,
        project: &'c Checked,
        file: FileId,
        end: u32,
    ) -> Option<&'c ast::EntityDecl> {
        let ty = project
            .checked
            .tables
            .types
            .iter()
            .filter(|((f, _, e), _)| *f == file && *e == end)
            .max_by_key(|((_, s, e), _)| e - s)
            .map(|(_, ty)| ty.to_string())?;
        let name = ty.trim_end_matches('?');
        entity_named(project, name)
    }

    /// `flin fmt` of the open text: one edit replacing the document, none when it is
    /// formatted already or cannot be (syntax errors).
    fn formatting(&self, params: &J) -> J {
        let Some(path) = params
            .pointer("/textDocument/uri")
            .and_then(J::as_str)
            .and_then(path_of)
        else {
            return J::Null;
        };
        let Some(text) = self
            .open
            .get(&path)
            .cloned()
            .or_else(|| std::fs::read_to_string(&path).ok())
        else {
            return J::Null;
        };
        match flin_syntax::format::format(&text) {
            Ok(formatted) if formatted != text => serde_json::json!([{
                "range": range(&text, 0, text.len() as u32),
                "newText": formatted,
            }]),
            _ => J::Array(Vec::new()),
        }
    }

    fn symbols(&self, params: &J) -> J {
        let Some(uri) = params.pointer("/textDocument/uri").and_then(J::as_str) else {
            return J::Null;
        };
        let Some(path) = path_of(uri) else {
            return J::Null;
        };
        let Some(project) = self.check(&path) else {
            return J::Null;
        };
        let Some(source) = project
            .sources
            .iter()
            .find(|s| same_file(&project.root.join(&s.path), &path))
        else {
            return J::Null;
        };
        let Some((_, tree)) = project.checked.files.iter().find(|(f, _)| *f == source.id) else {
            return J::Array(Vec::new());
        };
        let mut symbols = Vec::new();
        for stmt in &tree.stmts {
            let (name, kind) = match &stmt.kind {
                StmtKind::Fn(decl) => (decl.name.as_str().to_string(), 12),
                StmtKind::Entity(decl) => (decl.name.as_str().to_string(), 5),
                StmtKind::Enum(decl) => (decl.name.as_str().to_string(), 10),
                StmtKind::TypeAlias { name, .. } => (name.as_str().to_string(), 26),
                StmtKind::Route { method, .. } => (format!("route {}", method.as_str()), 6),
                StmtKind::Test { name, .. } => (
                    format!("test \"{}\"", name.as_plain().unwrap_or_default()),
                    12,
                ),
                StmtKind::Assign(assign) => match &assign.target.kind {
                    ast::ExprKind::Name(name) => (name.as_str().to_string(), 13),
                    _ => continue,
                },
                _ => continue,
            };
            let whole = range(&source.text, stmt.span.start, stmt.span.end);
            symbols.push(serde_json::json!({
                "name": name,
                "kind": kind,
                "range": whole,
                "selectionRange": whole,
            }));
        }
        J::Array(symbols)
    }
}

const KEYWORDS: &[&str] = &[
    "entity",
    "fn",
    "if",
    "else",
    "for",
    "in",
    "while",
    "return",
    "match",
    "save",
    "delete",
    "restore",
    "destroy",
    "transaction",
    "route",
    "test",
    "assert",
    "guard",
    "validate",
    "response",
    "layout",
    "every",
    "cron",
    "ws",
    "true",
    "false",
    "none",
    "enum",
    "type",
];

fn declared_name(stmt: &ast::Stmt) -> Option<ast::Name> {
    match &stmt.kind {
        StmtKind::Fn(decl) => Some(decl.name),
        StmtKind::Entity(decl) => Some(decl.name),
        StmtKind::Enum(decl) => Some(decl.name),
        StmtKind::TypeAlias { name, .. } => Some(*name),
        _ => None,
    }
}

fn entity_named<'c>(project: &'c Checked, name: &str) -> Option<&'c ast::EntityDecl> {
    project.checked.files.iter().find_map(|(_, tree)| {
        tree.stmts.iter().find_map(|stmt| match &stmt.kind {
            StmtKind::Entity(decl) if decl.name.as_str() == name => Some(decl),
            _ => None,
        })
    })
}

fn field_type(field: &ast::Field) -> String {
    format!("{:?}", field.ty.kind)
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or("")
        .to_string()
}

/// The signature of the declaration named `word` in the project, and its doc comment
/// (the `//` lines right above it).
fn declaration_named(project: &Checked, word: &str) -> Option<(String, String)> {
    if word.is_empty() {
        return None;
    }
    for (file, tree) in &project.checked.files {
        let Some(source) = project.sources.get(*file) else {
            continue;
        };
        for stmt in &tree.stmts {
            let Some(name) = declared_name(stmt) else {
                continue;
            };
            if name.as_str() != word {
                continue;
            }
            let text = source
                .text
                .get(stmt.span.start as usize..stmt.span.end as usize)?;
            let signature = match &stmt.kind {
                StmtKind::Fn(_) => text.split('{').next().unwrap_or(text).trim().to_string(),
                _ => text.lines().take(12).collect::<Vec<_>>().join("\n"),
            };
            let before = source.text.get(..stmt.span.start as usize).unwrap_or("");
            let mut doc: Vec<&str> = before
                .lines()
                .rev()
                .skip(usize::from(!before.ends_with('\n')))
                .take_while(|line| line.trim_start().starts_with("//"))
                .map(|line| line.trim_start().trim_start_matches('/').trim())
                .collect();
            doc.reverse();
            return Some((signature, doc.join("\n")));
        }
    }
    None
}

fn hover_doc(signature: &str, doc: &str) -> J {
    let mut value = format!("```flin\n{signature}\n```");
    if !doc.is_empty() {
        value.push_str("\n\n");
        value.push_str(doc);
    }
    serde_json::json!({ "contents": { "kind": "markdown", "value": value } })
}

fn hover_json(text: &str, range: Option<J>) -> J {
    let mut hover = serde_json::json!({
        "contents": { "kind": "markdown", "value": format!("```flin\n{text}\n```") },
    });
    if let (Some(range), Some(object)) = (range, hover.as_object_mut()) {
        object.insert("range".into(), range);
    }
    hover
}

fn publish(uri: &str, diagnostics: Vec<J>) -> Notification {
    Notification::new(
        "textDocument/publishDiagnostics".into(),
        serde_json::json!({ "uri": uri, "diagnostics": diagnostics }),
    )
}

fn location(path: &Path, text: &str, start: u32, end: u32) -> J {
    serde_json::json!({ "uri": uri_of(path), "range": range(text, start, end) })
}

/// The text literal around `offset`, when it holds a path of the app (`/…`), without its
/// query string.
fn quoted_path_at(text: &str, offset: u32) -> Option<String> {
    let offset = (offset as usize).min(text.len());
    let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text
        .get(offset..)?
        .find('\n')
        .map_or(text.len(), |i| offset + i);
    let before = text.get(line_start..offset)?;
    let open = before.rfind(['"', '\''])?;
    // An even number of quotes before the opening one: it opens a text.
    if before.get(..open)?.matches(['"', '\'']).count() % 2 != 0 {
        return None;
    }
    let after = text.get(offset..line_end)?;
    let close = after.find(['"', '\''])?;
    let inside = format!("{}{}", before.get(open + 1..)?, after.get(..close)?);
    let path = inside.split(['?', '#']).next()?.to_string();
    path.starts_with('/').then_some(path)
}

/// The source of `app/` serving `path`: static segments before `[param]`, before
/// `[...rest]`.
fn route_file<'c>(project: &'c Checked, path: &str) -> Option<&'c flin_diagnostics::SourceFile> {
    let wanted: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut best: Option<(Vec<u8>, &flin_diagnostics::SourceFile)> = None;
    for source in project.sources.iter() {
        let Some(route) = source
            .path
            .strip_prefix("app/")
            .and_then(|p| p.strip_suffix(".flin"))
        else {
            continue;
        };
        let mut segments: Vec<&str> = route.split('/').collect();
        if segments.last() == Some(&"index") {
            segments.pop();
        }
        if segments.iter().any(|s| s.starts_with('_')) {
            continue;
        }
        let mut rank = Vec::new();
        let mut matched = true;
        let mut i = 0;
        for segment in &segments {
            if segment.starts_with("[...") {
                rank.push(0);
                i = wanted.len();
                break;
            }
            let Some(part) = wanted.get(i) else {
                matched = false;
                break;
            };
            if segment.starts_with('[') {
                rank.push(1);
            } else if segment == part {
                rank.push(2);
            } else {
                matched = false;
                break;
            }
            i += 1;
        }
        if matched && i == wanted.len() && best.as_ref().is_none_or(|(r, _)| rank > *r) {
            best = Some((rank, source));
        }
    }
    best.map(|(_, source)| source)
}

/// The identifier around `offset`.
fn word_at(text: &str, offset: u32) -> String {
    let offset = (offset as usize).min(text.len());
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let start = text.get(..offset).map_or(0, |before| {
        before.len()
            - before
                .chars()
                .rev()
                .take_while(|c| is_word(*c))
                .map(char::len_utf8)
                .sum::<usize>()
    });
    let end = text.get(offset..).map_or(offset, |after| {
        offset
            + after
                .chars()
                .take_while(|c| is_word(*c))
                .map(char::len_utf8)
                .sum::<usize>()
    });
    text.get(start..end).unwrap_or("").to_string()
}

/// An LSP range (lines from 0, columns in UTF-16 units) of a byte span.
fn range(text: &str, start: u32, end: u32) -> J {
    let (sl, sc) = position(text, start);
    let (el, ec) = position(text, end);
    serde_json::json!({
        "start": { "line": sl, "character": sc },
        "end": { "line": el, "character": ec },
    })
}

fn position(text: &str, offset: u32) -> (u32, u32) {
    let before = text
        .get(..(offset as usize).min(text.len()))
        .unwrap_or(text);
    let line = before.matches('\n').count() as u32;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before
        .get(line_start..)
        .map_or(0, |s| s.encode_utf16().count() as u32);
    (line, column)
}

fn offset_of(text: &str, line: u32, character: u32) -> u32 {
    let mut offset = 0usize;
    for (i, l) in text.split('\n').enumerate() {
        if i as u32 == line {
            let mut units = 0u32;
            for (at, c) in l.char_indices() {
                if units >= character {
                    return (offset + at) as u32;
                }
                units += c.len_utf16() as u32;
            }
            return (offset + l.len()) as u32;
        }
        offset += l.len() + 1;
    }
    text.len() as u32
}

/// The folder of the project a file belongs to, if any.
fn project_root(path: &Path) -> Option<PathBuf> {
    let mut dir = path.parent();
    while let Some(folder) = dir {
        if ["app", "entities", "lib", "flin.toml"]
            .iter()
            .any(|marker| folder.join(marker).exists())
        {
            return Some(folder.to_path_buf());
        }
        dir = folder.parent();
    }
    None
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || (a.canonicalize().ok().is_some() && a.canonicalize().ok() == b.canonicalize().ok())
}

fn path_of(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    Some(PathBuf::from(percent_decode(rest)))
}

fn uri_of(path: &Path) -> String {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let text = absolute.to_string_lossy().replace(' ', "%20");
    format!("file://{text}")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes.get(i), bytes.get(i + 1..i + 3)) {
            (Some(b'%'), Some(hex)) => {
                match std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            (Some(byte), _) => {
                out.push(*byte);
                i += 1;
            }
            (None, _) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
