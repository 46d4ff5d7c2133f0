//! The built-in model computes what the distilling tool says it should
//! (tools/distill): the same WordPiece token ids as the original tokenizer, and
//! the same vectors as the tool's own reading of the quantized table.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

#[test]
fn token_ids_and_vectors_match_the_reference() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/model/reference.json"))
            .unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let model = flin_search::model::builtin().unwrap();
    assert_eq!(model.dims, 256);
    let sentences = reference["sentences"].as_array().unwrap();
    assert!(sentences.len() >= 20);
    for sentence in sentences {
        let text = sentence["text"].as_str().unwrap();
        let ids: Vec<u32> = sentence["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(model.token_ids(text), ids, "token ids of {text:?}");
        // model2vec cuts a text at 512 tokens; FLIN averages them all (its chunks do
        // the cutting): for a longer text the reference gives both.
        let key = if sentence.get("quantized_embedding_untruncated").is_some() {
            "quantized_embedding_untruncated"
        } else {
            "quantized_embedding"
        };
        let expected: Vec<f32> = sentence[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let vector = model.embed(text);
        let zero = expected.iter().all(|x| *x == 0.0);
        if zero {
            assert!(
                vector.iter().all(|x| *x == 0.0),
                "{text:?} should have no vector"
            );
            continue;
        }
        let cosine = flin_search::vectors::cosine(&vector, &expected);
        assert!(cosine > 0.99999, "{text:?}: cosine {cosine}");
    }
}
