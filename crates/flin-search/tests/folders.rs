//! Model folders (search.md §4 "Other models"): the tiny models of
//! `tests/models/` (made by tools/search-fixtures/make.py) give the vectors their
//! reference implementations give, and bad folders are refused naming the file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use flin_search::folder;
use serde_json::Value;

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models")
}

fn expected(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(models().join(name).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn close(got: &[f32], want: &Value, what: &str) {
    let want: Vec<f32> = want
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(got.len(), want.len(), "{what}: dimensions");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() < 2e-4,
            "{what}: component {i} is {g}, the reference {w}"
        );
    }
}

#[test]
fn a_bert_folder_gives_the_reference_vectors_chunk_by_chunk() {
    let model = folder::load(&models().join("tiny-bert")).unwrap();
    assert!(model.id().starts_with("bert:"));
    assert_eq!(model.dims(), 32);
    assert!(!model.is_fast());
    for case in expected("tiny-bert") {
        let text = case["text"].as_str().unwrap();
        let chunks = model.chunk_vectors(text);
        let want = case["chunks"].as_array().unwrap();
        assert_eq!(chunks.len(), want.len(), "chunks of {text:?}");
        for (n, (got, want)) in chunks.iter().zip(want).enumerate() {
            close(got, want, &format!("{text:?} chunk {n}"));
        }
        // A query's vector is its first chunk's.
        close(&model.embed(text), &want[0], &format!("embed({text:?})"));
    }
}

#[test]
fn a_model2vec_folder_gives_the_reference_vectors() {
    let model = folder::load(&models().join("tiny-static")).unwrap();
    assert!(model.id().starts_with("model2vec:"));
    assert_eq!(model.dims(), 8);
    assert!(model.is_fast());
    for case in expected("tiny-static") {
        let text = case["text"].as_str().unwrap();
        close(&model.embed(text), &case["vector"], text);
    }
}

#[test]
fn the_id_follows_the_weights_not_the_path() {
    let dir = tempfile::tempdir().unwrap();
    copy(&models().join("tiny-static"), dir.path());
    let here = folder::load(dir.path()).unwrap();
    let there = folder::load(&models().join("tiny-static")).unwrap();
    assert_eq!(here.id(), there.id());
    let bert = folder::load(&models().join("tiny-bert")).unwrap();
    assert_ne!(here.id(), bert.id());
}

fn copy(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn refused(dir: &Path) -> String {
    match folder::load(dir) {
        Ok(model) => panic!("{} loaded as {}", dir.display(), model.id()),
        Err(message) => message,
    }
}

#[test]
fn bad_folders_are_refused_naming_the_file() {
    let missing = refused(Path::new("/nonexistent/model"));
    assert!(
        missing.contains("/nonexistent/model does not exist"),
        "{missing}"
    );

    let dir = tempfile::tempdir().unwrap();
    let empty = refused(dir.path());
    assert!(empty.contains("model.safetensors"), "{empty}");

    copy(&models().join("tiny-bert"), dir.path());
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let no_tokenizer = refused(dir.path());
    assert!(no_tokenizer.contains("tokenizer.json"), "{no_tokenizer}");

    // Sizes in config.json that the weights do not have.
    copy(&models().join("tiny-bert"), dir.path());
    let config = dir.path().join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("\"hidden_size\": 32", "\"hidden_size\": 64"),
    )
    .unwrap();
    let mismatch = refused(dir.path());
    assert!(mismatch.contains("model.safetensors"), "{mismatch}");
    assert!(mismatch.contains("do not match config.json"), "{mismatch}");

    // Another kind of transformer.
    std::fs::write(&config, text.replace("\"bert\"", "\"gpt2\"")).unwrap();
    let kind = refused(dir.path());
    assert!(kind.contains("config.json"), "{kind}");
    assert!(kind.contains("gpt2"), "{kind}");

    // Not a weights file at all.
    std::fs::write(dir.path().join("model.safetensors"), b"not weights").unwrap();
    let garbage = refused(dir.path());
    assert!(garbage.contains("is not a safetensors file"), "{garbage}");

    // A tokenizer of another kind.
    copy(&models().join("tiny-static"), dir.path());
    std::fs::write(
        dir.path().join("tokenizer.json"),
        r#"{"model": {"type": "Unigram", "vocab": []}}"#,
    )
    .unwrap();
    let unigram = refused(dir.path());
    assert!(unigram.contains("Unigram tokenizer"), "{unigram}");
}
