//! Reading a model folder (`search.model = "models/…"`, search.md §4 "Other models"):
//!
//! - a model2vec static model: `model.safetensors` with one `embeddings` tensor
//!   (tokens × dims) and a WordPiece `tokenizer.json`;
//! - a BERT-family sentence-transformer: `config.json` with `model_type` "bert",
//!   `model.safetensors` with the encoder's weights, and its `tokenizer.json`.
//!
//! A folder that is missing, of an unknown kind, or whose sizes disagree with its files
//! is an error naming the file, said at start-up. A model's id is its kind and the
//! SHA-256 of its weights: moving the folder keeps the vectors, new weights re-embed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use ndarray::{Array1, Array2};
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::bert::{Bert, Config, Gelu, Layer, LayerNorm, Linear};
use crate::embedder::Embedder;
use crate::model::{CHUNK_TOKENS, Model};
use crate::wordpiece::WordPiece;

/// Reads the model in `dir`.
pub fn load(dir: &Path) -> Result<Embedder, String> {
    if !dir.is_dir() {
        return Err(format!(
            "search.model: the folder {} does not exist (give \"builtin\", or a folder holding model.safetensors and tokenizer.json)",
            dir.display()
        ));
    }
    let weights_path = dir.join("model.safetensors");
    let weights = std::fs::read(&weights_path).map_err(|e| {
        format!(
            "search.model: cannot read {}: {e} (a model folder holds model.safetensors and tokenizer.json)",
            weights_path.display()
        )
    })?;
    let tensors = SafeTensors::deserialize(&weights).map_err(|e| {
        format!(
            "search.model: {} is not a safetensors file: {e}",
            weights_path.display()
        )
    })?;
    let hash = Sha256::digest(&weights);
    let hash: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let config_path = dir.join("config.json");
    let config: Option<Value> = match std::fs::read_to_string(&config_path) {
        Ok(text) => Some(serde_json::from_str(&text).map_err(|e| {
            format!(
                "search.model: {} is not valid JSON: {e}",
                config_path.display()
            )
        })?),
        Err(_) => None,
    };
    let model_type = config
        .as_ref()
        .and_then(|c| c.get("model_type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let tokenizer_path = dir.join("tokenizer.json");
    let tokenizer = read_tokenizer(&tokenizer_path)?;
    let weights_name = weights_path.display().to_string();
    let file = Weights {
        tensors: &tensors,
        path: &weights_name,
    };
    if model_type == "bert" {
        let config = config.unwrap_or(Value::Null);
        let bert = read_bert(&file, &config, &config_path, tokenizer, dir, &hash)?;
        return Ok(Arc::new(bert));
    }
    if tensors.names().contains(&"embeddings") {
        return read_static(&file, tokenizer, &hash).map(|m| Arc::new(m) as Embedder);
    }
    Err(format!(
        "search.model: {} is neither a model2vec static model (no `embeddings` tensor in {}) nor a BERT-family transformer ({} does not say \"model_type\": \"bert\"{})",
        dir.display(),
        weights_path.display(),
        config_path.display(),
        if model_type.is_empty() {
            String::new()
        } else {
            format!(", it says \"{model_type}\"")
        }
    ))
}

/// The tensors of a weights file, with its name for errors.
struct Weights<'a> {
    tensors: &'a SafeTensors<'a>,
    path: &'a str,
}

impl Weights<'_> {
    /// A tensor's values as f32, checked against the shape the config implies. BERT
    /// checkpoints name tensors with or without a `bert.` prefix.
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let view = self
            .tensors
            .tensor(name)
            .or_else(|_| self.tensors.tensor(&format!("bert.{name}")))
            .map_err(|_| format!("search.model: {} has no tensor `{name}`", self.path))?;
        if view.shape() != shape {
            return Err(format!(
                "search.model: in {}, `{name}` is {:?} where the model's sizes need {shape:?}: the weights do not match config.json",
                self.path,
                view.shape()
            ));
        }
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes(b.try_into().unwrap_or([0; 2]))))
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|b| {
                    f32::from_bits(
                        u32::from(u16::from_le_bytes(b.try_into().unwrap_or([0; 2]))) << 16,
                    )
                })
                .collect(),
            other => {
                return Err(format!(
                    "search.model: in {}, `{name}` holds {other:?} values; FLIN reads F32, F16 and BF16",
                    self.path
                ));
            }
        };
        Ok(values)
    }

    fn matrix(&self, name: &str, rows: usize, cols: usize) -> Result<Array2<f32>, String> {
        let values = self.get(name, &[rows, cols])?;
        Array2::from_shape_vec((rows, cols), values)
            .map_err(|e| format!("search.model: in {}, `{name}`: {e}", self.path))
    }

    fn vector(&self, name: &str, len: usize) -> Result<Array1<f32>, String> {
        Ok(Array1::from_vec(self.get(name, &[len])?))
    }

    fn linear(&self, name: &str, out: usize, inp: usize) -> Result<Linear, String> {
        Ok(Linear {
            weight: self.matrix(&format!("{name}.weight"), out, inp)?,
            bias: self.vector(&format!("{name}.bias"), out)?,
        })
    }

    /// Layer norms are `weight`/`bias`, or `gamma`/`beta` in older checkpoints.
    fn norm(&self, name: &str, len: usize) -> Result<LayerNorm, String> {
        let gamma = self
            .vector(&format!("{name}.weight"), len)
            .or_else(|_| self.vector(&format!("{name}.gamma"), len))?;
        let beta = self
            .vector(&format!("{name}.bias"), len)
            .or_else(|_| self.vector(&format!("{name}.beta"), len))?;
        Ok(LayerNorm { gamma, beta })
    }
}

/// IEEE half precision to single.
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exponent = u32::from((h >> 10) & 0x1f);
    let mantissa = u32::from(h & 0x3ff);
    let bits = match (exponent, mantissa) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: normalise it.
            let mut e = 127 - 15 + 1;
            let mut m = m;
            while m & 0x400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | (e << 23) | ((m & 0x3ff) << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// A WordPiece tokenizer from `tokenizer.json` (the BERT-family and model2vec
/// vocabularies); other kinds are refused by name.
fn read_tokenizer(path: &Path) -> Result<WordPiece, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "search.model: cannot read {}: {e} (a model folder holds model.safetensors and tokenizer.json)",
            path.display()
        )
    })?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| format!("search.model: {} is not valid JSON: {e}", path.display()))?;
    let model = json.get("model").unwrap_or(&Value::Null);
    let kind = model.get("type").and_then(Value::as_str).unwrap_or("");
    if kind != "WordPiece" {
        return Err(format!(
            "search.model: {} holds a {} tokenizer; FLIN reads WordPiece tokenizers (BERT-family vocabularies)",
            path.display(),
            if kind.is_empty() { "unknown" } else { kind }
        ));
    }
    let vocab = model
        .get("vocab")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("search.model: {} has no vocabulary", path.display()))?;
    let ids: HashMap<String, u32> = vocab
        .iter()
        .filter_map(|(token, id)| Some((token.clone(), u32::try_from(id.as_u64()?).ok()?)))
        .collect();
    let unk = model
        .get("unk_token")
        .and_then(Value::as_str)
        .unwrap_or("[UNK]");
    // BERT's normalizer lower-cases (and strips accents) unless it says otherwise.
    let normalizer = json.get("normalizer").unwrap_or(&Value::Null);
    let uncased = normalizer
        .get("lowercase")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    WordPiece::from_map(ids, unk, uncased).ok_or_else(|| {
        format!(
            "search.model: the vocabulary of {} has no unknown token `{unk}`",
            path.display()
        )
    })
}

fn read_static(file: &Weights<'_>, tokenizer: WordPiece, hash: &str) -> Result<Model, String> {
    let view = file
        .tensors
        .tensor("embeddings")
        .map_err(|e| format!("search.model: {}: {e}", file.path))?;
    let (tokens, dims) = match view.shape() {
        [tokens, dims] if *tokens > 0 && *dims > 0 => (*tokens, *dims),
        other => {
            return Err(format!(
                "search.model: in {}, `embeddings` is {other:?}; a static model's is tokens × dims",
                file.path
            ));
        }
    };
    let values = file.get("embeddings", &[tokens, dims])?;
    if tokenizer.len() > tokens {
        return Err(format!(
            "search.model: the tokenizer has {} tokens but {} holds vectors for {tokens}: the files do not match",
            tokenizer.len(),
            file.path
        ));
    }
    Ok(Model::of_f32(
        format!("model2vec:{hash}"),
        dims,
        tokenizer,
        values,
    ))
}

fn read_bert(
    file: &Weights<'_>,
    json: &Value,
    config_path: &Path,
    tokenizer: WordPiece,
    dir: &Path,
    hash: &str,
) -> Result<Bert, String> {
    let number = |key: &str| -> Result<usize, String> {
        json.get(key)
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                format!(
                    "search.model: {} has no `{key}` (a positive whole number)",
                    config_path.display()
                )
            })
    };
    let hidden = number("hidden_size")?;
    let heads = number("num_attention_heads")?;
    if hidden % heads != 0 {
        return Err(format!(
            "search.model: in {}, hidden_size {hidden} is not a multiple of num_attention_heads {heads}",
            config_path.display()
        ));
    }
    let gelu = match json
        .get("hidden_act")
        .and_then(Value::as_str)
        .unwrap_or("gelu")
    {
        "gelu" => Gelu::Erf,
        "gelu_new" | "gelu_pytorch_tanh" => Gelu::Tanh,
        other => {
            return Err(format!(
                "search.model: {} asks for the activation `{other}`; FLIN runs `gelu` and `gelu_new`",
                config_path.display()
            ));
        }
    };
    let position_kind = json
        .get("position_embedding_type")
        .and_then(Value::as_str)
        .unwrap_or("absolute");
    if position_kind != "absolute" {
        return Err(format!(
            "search.model: {} asks for `{position_kind}` positions; FLIN runs absolute ones",
            config_path.display()
        ));
    }
    let config = Config {
        hidden,
        heads,
        layers: number("num_hidden_layers")?,
        intermediate: number("intermediate_size")?,
        vocab: number("vocab_size")?,
        positions: number("max_position_embeddings")?,
        eps: json
            .get("layer_norm_eps")
            .and_then(Value::as_f64)
            .unwrap_or(1e-12) as f32,
        gelu,
    };
    if tokenizer.len() > config.vocab {
        return Err(format!(
            "search.model: the tokenizer has {} tokens but {} says vocab_size {}: the files do not match",
            tokenizer.len(),
            config_path.display(),
            config.vocab
        ));
    }
    let special = |token: &str| {
        tokenizer.id_of(token).ok_or_else(|| {
            format!(
                "search.model: the vocabulary of {} has no `{token}`",
                dir.join("tokenizer.json").display()
            )
        })
    };
    let (cls, sep) = (special("[CLS]")?, special("[SEP]")?);
    let token_types = file
        .tensors
        .tensor("embeddings.token_type_embeddings.weight")
        .or_else(|_| {
            file.tensors
                .tensor("bert.embeddings.token_type_embeddings.weight")
        })
        .map(|t| t.shape().first().copied().unwrap_or(1))
        .unwrap_or(1);
    let token_type = file
        .matrix(
            "embeddings.token_type_embeddings.weight",
            token_types,
            hidden,
        )?
        .row(0)
        .to_owned();
    let mut layers = Vec::with_capacity(config.layers);
    for n in 0..config.layers {
        let at = |part: &str| format!("encoder.layer.{n}.{part}");
        layers.push(Layer {
            query: file.linear(&at("attention.self.query"), hidden, hidden)?,
            key: file.linear(&at("attention.self.key"), hidden, hidden)?,
            value: file.linear(&at("attention.self.value"), hidden, hidden)?,
            output: file.linear(&at("attention.output.dense"), hidden, hidden)?,
            attention_norm: file.norm(&at("attention.output.LayerNorm"), hidden)?,
            up: file.linear(&at("intermediate.dense"), config.intermediate, hidden)?,
            down: file.linear(&at("output.dense"), hidden, config.intermediate)?,
            output_norm: file.norm(&at("output.LayerNorm"), hidden)?,
        });
    }
    // sentence-transformers cuts texts at its max_seq_length (special tokens
    // included); chunks stay within it and within the model's positions.
    let seq_limit = std::fs::read_to_string(dir.join("sentence_bert_config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("max_seq_length").and_then(Value::as_u64))
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(config.positions);
    let max_tokens = CHUNK_TOKENS.min(seq_limit.min(config.positions).saturating_sub(2).max(1));
    Ok(Bert {
        id: format!("bert:{hash}"),
        word: file.matrix("embeddings.word_embeddings.weight", config.vocab, hidden)?,
        position: file.matrix(
            "embeddings.position_embeddings.weight",
            config.positions,
            hidden,
        )?,
        token_type,
        embedding_norm: file.norm("embeddings.LayerNorm", hidden)?,
        layers,
        tokenizer,
        cls,
        sep,
        max_tokens,
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn halves_widen_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
    }
}
