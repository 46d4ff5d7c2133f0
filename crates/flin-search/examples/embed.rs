//! Embeds texts with a model folder (or the built-in model) and prints each vector's
//! first components and the time it took: `cargo run --release -p flin-search
//! --example embed -- <folder|builtin> "a text" …`.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "builtin".into());
    let started = Instant::now();
    let loaded = if which == "builtin" {
        flin_search::embedder::builtin()
    } else {
        flin_search::folder::load(std::path::Path::new(&which))
    };
    let model = match loaded {
        Ok(model) => model,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(1);
        }
    };
    println!(
        "{} ({} dims) loaded in {:?}",
        model.id(),
        model.dims(),
        started.elapsed()
    );
    for text in args {
        let started = Instant::now();
        let vector = model.embed(&text);
        let took = started.elapsed();
        let head: Vec<String> = vector.iter().take(6).map(|x| format!("{x:.5}")).collect();
        println!("{took:>10.2?}  [{}]  {text}", head.join(", "));
    }
}
