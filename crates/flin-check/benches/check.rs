//! Type-checking speed (filled in below).
fn main() {}
