//! How long the parts of indexing a 200-word text take (a quick look, not the bench).

#![allow(clippy::unwrap_used)]
fn main() {
    let words = "the quick brown fox jumps over the lazy dog while walking through the ancient forest near a quiet river and hiking boots were waterproof";
    let text: String = words
        .split(' ')
        .cycle()
        .take(200)
        .collect::<Vec<_>>()
        .join(" ");
    let n = 2000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(flin_search::DocTerms::of(&text));
    }
    println!("DocTerms::of: {:?}", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(flin_search::tokens::tokens(&text));
    }
    println!("tokens: {:?}", t.elapsed() / n);
    let model = flin_search::model::builtin().unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(model.token_ids(&text));
    }
    println!("wordpiece ids: {:?}", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(model.chunk_vectors(&text));
    }
    println!("chunk_vectors: {:?}", t.elapsed() / n);
    let q = "waterproof hiking boots for rain";
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(model.embed(q));
    }
    println!("embed 5-word query: {:?}", t.elapsed() / n);
    let ten = "where can I buy waterproof hiking boots for the rainy season";
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(model.embed(ten));
    }
    println!("embed 10-word query: {:?}", t.elapsed() / n);
}
