//! `flin lsp` over its stdio protocol, as an editor drives it: diagnostics as a file is
//! edited, hover, go to definition, completion and document symbols.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value as J, json};

struct Lsp {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    next: u64,
}

impl Lsp {
    fn start() -> Lsp {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flin"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Lsp {
            child,
            input,
            output,
            next: 1,
        }
    }

    fn send(&mut self, message: J) {
        let text = message.to_string();
        write!(self.input, "Content-Length: {}\r\n\r\n{text}", text.len()).unwrap();
        self.input.flush().unwrap();
    }

    fn read(&mut self) -> J {
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.output.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.output.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    fn request(&mut self, method: &str, params: J) -> J {
        let id = self.next;
        self.next += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.read();
            if message["id"] == id {
                return message["result"].clone();
            }
        }
    }

    fn notify(&mut self, method: &str, params: J) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<J> {
        loop {
            let message = self.read();
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return message["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }
}

#[test]
fn an_editor_gets_diagnostics_hover_definition_completion_and_symbols() {
    let dir = common::temp();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("entities")).unwrap();
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::write(
        root.join("entities/book.flin"),
        "entity Book {\n    title: text\n    pages: int = 0\n}\n",
    )
    .unwrap();
    let page = root.join("app/index.flin");
    let good = "// The books, by title.\nfn shelf() {\n    Book.order(title)\n}\n\nb = Book { title: \"Dune\" }\ntotal = b.pages + 1\nlisted = shelf()\n\n<h1>{b.title}</h1>\n";
    std::fs::write(&page, good).unwrap();
    let uri = format!("file://{}", page.display());
    let entity_uri = format!("file://{}", root.join("entities/book.flin").display());

    let mut lsp = Lsp::start();
    let init = lsp.request("initialize", json!({ "processId": null, "rootUri": format!("file://{}", root.display()), "capabilities": {} }));
    assert_eq!(init["capabilities"]["hoverProvider"], true, "{init}");
    lsp.notify("initialized", json!({}));

    // A typo as the file is edited: the diagnostic of `flin check`, with its code.
    let broken = good.replace("b.title", "b.titel");
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "flin", "version": 1, "text": broken } }),
    );
    let diagnostics = lsp.diagnostics(&uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "E0302");
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({ "line": 9, "character": 7 })
    );
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `title`?")
    );
    // Fixed in the editor (not saved): the diagnostics clear.
    lsp.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": good }] }),
    );
    assert!(lsp.diagnostics(&uri).is_empty());

    // Hover: the type of the expression under the cursor.
    let hover = lsp.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 6, "character": 11 } }),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(shown.contains("int"), "{hover}");
    // On a function's use: its signature and its doc comment.
    let hover = lsp.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 7, "character": 11 } }),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        shown.contains("fn shelf()") && shown.contains("The books, by title."),
        "{hover}"
    );

    // Definition: `Book` is declared in entities/book.flin.
    let definition = lsp.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 5, "character": 5 } }),
    );
    assert_eq!(definition["uri"], entity_uri, "{definition}");
    assert_eq!(
        definition["range"]["start"],
        json!({ "line": 0, "character": 7 })
    );

    // Definition of a path: the file under app/ that serves it.
    std::fs::create_dir_all(root.join("app/books")).unwrap();
    std::fs::write(root.join("app/books/[id].flin"), "<h1>A book</h1>\n").unwrap();
    let linked = format!("{good}<a href=\"/books/7?tab=notes\">Dune</a>\n");
    lsp.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": linked }] }),
    );
    lsp.diagnostics(&uri);
    let to_route = lsp.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 10, "character": 14 } }),
    );
    assert_eq!(
        to_route["uri"],
        format!("file://{}", root.join("app/books/[id].flin").display()),
        "{to_route}"
    );

    // Completion: an entity's fields after a value of its type; its queries after its name.
    let fields = lsp.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 6, "character": 10 } }),
    );
    let labels: Vec<&str> = fields
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"title") && labels.contains(&"pages"),
        "{labels:?}"
    );
    let queries = lsp.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 2, "character": 9 } }),
    );
    let labels: Vec<&str> = queries
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"where") && labels.contains(&"count"),
        "{labels:?}"
    );

    // Document symbols: the file's declarations.
    let symbols = lsp.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&"shelf") && names.contains(&"b"),
        "{names:?}"
    );

    // Formatting: `flin fmt`'s result as one edit.
    let messy = "x=1+2\n";
    lsp.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 4 }, "contentChanges": [{ "text": messy }] }),
    );
    lsp.diagnostics(&uri);
    let edits = lsp.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(edits[0]["newText"], "x = 1 + 2\n", "{edits}");
    assert_eq!(
        edits[0]["range"]["end"],
        json!({ "line": 1, "character": 0 })
    );

    lsp.request("shutdown", J::Null);
    lsp.notify("exit", J::Null);
    let status = lsp.child.wait().unwrap();
    assert!(status.success());
}

/// The VS Code extension's files are well-formed and point at each other.
#[test]
fn the_vscode_extension_is_well_formed() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../editors/vscode");
    let read = |name: &str| -> J {
        serde_json::from_str(&std::fs::read_to_string(folder.join(name)).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let package = read("package.json");
    let grammar_path = package["contributes"]["grammars"][0]["path"]
        .as_str()
        .unwrap();
    let grammar = read(grammar_path);
    assert_eq!(
        grammar["scopeName"],
        package["contributes"]["grammars"][0]["scopeName"]
    );
    assert!(
        grammar["repository"]["markup"].is_object(),
        "markup is highlighted"
    );
    read("language-configuration.json");
    let main = package["main"].as_str().unwrap();
    let client = std::fs::read_to_string(folder.join(main)).unwrap();
    assert!(client.contains("'lsp'"), "the client starts `flin lsp`");
}
