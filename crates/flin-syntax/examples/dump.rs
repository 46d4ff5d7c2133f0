//! Prints the tree and diagnostics of a `.flin` file: `cargo run -p flin-syntax --example dump -- file.flin`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: dump <file.flin>");
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let parsed = flin_syntax::parse(&text, flin_diagnostics::FileId(0));
    println!("{:#?}", parsed.file);
    for diagnostic in &parsed.diagnostics {
        println!("{diagnostic:?}");
    }
}
