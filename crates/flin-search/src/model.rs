//! Embedding models (search.md §3, §4 "The built-in model"): a static model holds one
//! vector per token of its WordPiece vocabulary; a text's vector is the mean of its
//! tokens' vectors, normalised to unit length. The built-in one, distilled from
//! all-MiniLM-L6-v2 (tools/distill), ships inside the binary as int8 rows with one
//! scale each; its bytes are part of the executable's read-only data, so an idle
//! server that never embeds holds none of them in memory, and its vocabulary is read
//! on the first use.
//!
//! File format (`.flinemb`, little-endian): `FLINEMB1`, u32 dims, u32 tokens, each
//! token as u16 length + UTF-8, a f32 scale per token, then tokens × dims i8 values.

use std::sync::OnceLock;

use crate::wordpiece::WordPiece;

/// Tokens per chunk of a long text (search.md §4 "Chunks").
pub const CHUNK_TOKENS: usize = 256;
/// Tokens shared by consecutive chunks.
pub const CHUNK_OVERLAP: usize = 32;

/// The id of the built-in model's vectors.
pub const BUILTIN_ID: &str = "builtin:minilm-l6-v2-256";

static BUILTIN_BYTES: &[u8] = include_bytes!("../model/minilm-l6-v2-256.flinemb");

/// A static embedding model.
pub struct Model {
    /// What names the model's vectors (stored with them: other vectors are re-made).
    pub id: String,
    pub dims: usize,
    tokenizer: WordPiece,
    rows: Rows,
}

/// The token vectors.
enum Rows {
    /// int8 values with one scale per row (the built-in model, in the binary).
    Int8 {
        scales: Vec<f32>,
        values: &'static [u8],
    },
    /// f32 values, tokens × dims (a model2vec folder).
    F32(Vec<f32>),
}

/// The built-in model, read on first use.
pub fn builtin() -> Result<&'static Model, String> {
    shared_builtin().map(|model| &**model)
}

/// The built-in model, read on first use, as the embedder hands it out.
pub(crate) fn shared_builtin() -> Result<&'static std::sync::Arc<Model>, String> {
    static MODEL: OnceLock<Result<std::sync::Arc<Model>, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| Model::read(BUILTIN_BYTES, BUILTIN_ID).map(std::sync::Arc::new))
        .as_ref()
        .map_err(Clone::clone)
}

impl Model {
    /// Reads a model in the `.flinemb` format.
    pub fn read(bytes: &'static [u8], id: &str) -> Result<Model, String> {
        let bad = |what: &str| format!("the embedding model is damaged: {what}");
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&'static [u8], String> {
            let slice = bytes.get(at..at + n).ok_or_else(|| bad("it ends early"))?;
            at += n;
            Ok(slice)
        };
        if take(8)? != b"FLINEMB1" {
            return Err(bad("not a FLIN embedding file"));
        }
        let u32_of = |b: &[u8]| -> usize {
            let mut four = [0u8; 4];
            four.copy_from_slice(b.get(..4).unwrap_or(&[0; 4]));
            u32::from_le_bytes(four) as usize
        };
        let dims = u32_of(take(4)?);
        let n_tokens = u32_of(take(4)?);
        if dims == 0 || dims > 4096 || n_tokens == 0 || n_tokens > 1_000_000 {
            return Err(bad("its sizes are out of range"));
        }
        let mut vocab = Vec::with_capacity(n_tokens);
        for _ in 0..n_tokens {
            let len = take(2)?;
            let len = usize::from(u16::from_le_bytes([
                len.first().copied().unwrap_or(0),
                len.get(1).copied().unwrap_or(0),
            ]));
            let text = std::str::from_utf8(take(len)?).map_err(|_| bad("a token is not UTF-8"))?;
            vocab.push(text.to_string());
        }
        let scales: Vec<f32> = take(4 * n_tokens)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
            .collect();
        let values = take(dims * n_tokens)?;
        let tokenizer = WordPiece::new(&vocab).ok_or_else(|| bad("no [UNK] token"))?;
        Ok(Model {
            id: id.to_string(),
            dims,
            tokenizer,
            rows: Rows::Int8 { scales, values },
        })
    }

    /// A model of f32 token vectors (`values`: one row of `dims` per token id).
    pub fn of_f32(id: String, dims: usize, tokenizer: WordPiece, values: Vec<f32>) -> Model {
        Model {
            id,
            dims,
            tokenizer,
            rows: Rows::F32(values),
        }
    }

    /// The token ids of a text (no special tokens).
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        self.tokenizer.ids(text)
    }

    /// The unit-length vector of `text` (all zeros when it has no token).
    pub fn embed(&self, text: &str) -> Vec<f32> {
        self.vector_of(&self.token_ids(text))
    }

    /// The vectors of a text's chunks: 256 tokens each, overlapping by 32; one chunk
    /// for a short text, none for a text without tokens.
    pub fn chunk_vectors(&self, text: &str) -> Vec<Vec<f32>> {
        chunks(&self.token_ids(text), CHUNK_TOKENS)
            .map(|ids| self.vector_of(ids))
            .collect()
    }

    /// The normalised mean of the tokens' vectors; unknown tokens carry no meaning and
    /// are left out (as model2vec does).
    fn vector_of(&self, ids: &[u32]) -> Vec<f32> {
        let mut sum = vec![0f32; self.dims];
        let mut n = 0usize;
        let unk = self.tokenizer.unk();
        for &id in ids.iter().filter(|id| **id != unk) {
            let id = id as usize;
            let row = id * self.dims..(id + 1) * self.dims;
            match &self.rows {
                Rows::Int8 { scales, values } => {
                    let (Some(&scale), Some(row)) = (scales.get(id), values.get(row)) else {
                        continue;
                    };
                    for (s, &v) in sum.iter_mut().zip(row) {
                        *s += f32::from(v as i8) * scale;
                    }
                }
                Rows::F32(values) => {
                    let Some(row) = values.get(row) else {
                        continue;
                    };
                    for (s, &v) in sum.iter_mut().zip(row) {
                        *s += v;
                    }
                }
            }
            n += 1;
        }
        if n > 0 {
            let inv = 1.0 / n as f32;
            sum.iter_mut().for_each(|s| *s *= inv);
        }
        crate::vectors::normalize(&mut sum);
        sum
    }
}

/// A text's tokens cut into chunks of `size` overlapping by [`CHUNK_OVERLAP`]: one
/// chunk for a short text, none for no tokens.
pub fn chunks(ids: &[u32], size: usize) -> impl Iterator<Item = &[u32]> {
    let size = size.max(CHUNK_OVERLAP + 1);
    let step = size - CHUNK_OVERLAP;
    let mut start = 0;
    let mut done = ids.is_empty();
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let end = (start + size).min(ids.len());
        let chunk = ids.get(start..end).unwrap_or(&[]);
        if end == ids.len() {
            done = true;
        }
        start += step;
        Some(chunk)
    })
}
