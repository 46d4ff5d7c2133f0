//! A BERT-family sentence-transformer run on the CPU (search.md §4 "Other models"):
//! the encoder of `config.json` (`model_type` "bert": all-MiniLM-L6-v2, BGE, E5 …)
//! with the weights of `model.safetensors`, then mean pooling over the tokens and a
//! unit-length vector, as sentence-transformers computes it.
//!
//! Only inference, one text at a time, in f32. The matrix products go through
//! `ndarray` (matrixmultiply's kernels, which pick AVX/FMA at run time): a chunk of
//! 256 tokens takes tens of milliseconds, so the store embeds with a transformer in
//! the background, never inside a save (search.md §4).

use ndarray::{Array1, Array2, ArrayView2, Axis, Slice};

use crate::wordpiece::WordPiece;

/// The numbers `config.json` gives.
#[derive(Clone, Debug)]
pub struct Config {
    pub hidden: usize,
    pub heads: usize,
    pub layers: usize,
    pub intermediate: usize,
    pub vocab: usize,
    pub positions: usize,
    pub eps: f32,
    pub gelu: Gelu,
}

/// The activation of the feed-forward layers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gelu {
    /// `gelu`: x·Φ(x), with the error function.
    Erf,
    /// `gelu_new` / `gelu_pytorch_tanh`: the tanh approximation.
    Tanh,
}

pub(crate) struct Linear {
    /// `[out, in]`, as PyTorch stores it.
    pub weight: Array2<f32>,
    pub bias: Array1<f32>,
}

impl Linear {
    fn apply(&self, x: &ArrayView2<f32>) -> Array2<f32> {
        let mut y = x.dot(&self.weight.t());
        y += &self.bias;
        y
    }
}

pub(crate) struct LayerNorm {
    pub gamma: Array1<f32>,
    pub beta: Array1<f32>,
}

impl LayerNorm {
    fn apply(&self, x: &mut Array2<f32>, eps: f32) {
        for mut row in x.axis_iter_mut(Axis(0)) {
            let n = row.len() as f32;
            let mean = row.sum() / n;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            let inv = 1.0 / (var + eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = (*v - mean) * inv * g + b;
            }
        }
    }
}

pub(crate) struct Layer {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub output: Linear,
    pub attention_norm: LayerNorm,
    pub up: Linear,
    pub down: Linear,
    pub output_norm: LayerNorm,
}

/// A loaded transformer.
pub struct Bert {
    pub id: String,
    pub config: Config,
    pub(crate) tokenizer: WordPiece,
    pub(crate) cls: u32,
    pub(crate) sep: u32,
    pub(crate) word: Array2<f32>,
    pub(crate) position: Array2<f32>,
    /// The embedding of token type 0 (one text, no pair).
    pub(crate) token_type: Array1<f32>,
    pub(crate) embedding_norm: LayerNorm,
    pub(crate) layers: Vec<Layer>,
    /// Tokens of text per chunk (the spec's 256, less where the model's positions end).
    pub max_tokens: usize,
}

impl Bert {
    /// The token ids of a text (no special tokens).
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        self.tokenizer.ids(text)
    }

    /// The unit-length vector of a text's first `max_tokens` tokens.
    pub fn embed(&self, text: &str) -> Vec<f32> {
        let ids = self.token_ids(text);
        self.vector_of(ids.get(..ids.len().min(self.max_tokens)).unwrap_or(&[]))
    }

    /// The vector of some tokens: `[CLS] tokens [SEP]` through the encoder, the mean
    /// of the outputs, normalised. All zeros for no tokens.
    pub fn vector_of(&self, ids: &[u32]) -> Vec<f32> {
        if ids.is_empty() {
            return vec![0.0; self.config.hidden];
        }
        let mut sequence = Vec::with_capacity(ids.len() + 2);
        sequence.push(self.cls);
        sequence.extend_from_slice(ids);
        sequence.push(self.sep);
        let hidden = self.encode(&sequence);
        let mut mean = hidden
            .mean_axis(Axis(0))
            .map(|m| m.to_vec())
            .unwrap_or_else(|| vec![0.0; self.config.hidden]);
        crate::vectors::normalize(&mut mean);
        mean
    }

    /// The encoder's last hidden states, one row per token.
    fn encode(&self, ids: &[u32]) -> Array2<f32> {
        let config = &self.config;
        let n = ids.len().min(config.positions);
        let mut x = Array2::<f32>::zeros((n, config.hidden));
        for (i, (mut row, &id)) in x.axis_iter_mut(Axis(0)).zip(ids).enumerate() {
            let id = (id as usize).min(config.vocab.saturating_sub(1));
            row.assign(&self.word.row(id));
            row += &self.position.row(i);
            row += &self.token_type;
        }
        self.embedding_norm.apply(&mut x, config.eps);
        let head = config.hidden / config.heads;
        let scale = 1.0 / (head as f32).sqrt();
        for layer in &self.layers {
            let q = layer.query.apply(&x.view());
            let k = layer.key.apply(&x.view());
            let v = layer.value.apply(&x.view());
            let mut context = Array2::<f32>::zeros((n, config.hidden));
            for h in 0..config.heads {
                let cols = Slice::from(h * head..(h + 1) * head);
                let mut scores = q
                    .slice_axis(Axis(1), cols)
                    .dot(&k.slice_axis(Axis(1), cols).t());
                scores *= scale;
                for mut row in scores.axis_iter_mut(Axis(0)) {
                    let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                    row.mapv_inplace(|v| (v - max).exp());
                    let sum = row.sum();
                    row.mapv_inplace(|v| v / sum);
                }
                context
                    .slice_axis_mut(Axis(1), cols)
                    .assign(&scores.dot(&v.slice_axis(Axis(1), cols)));
            }
            let mut attended = layer.output.apply(&context.view());
            attended += &x;
            layer.attention_norm.apply(&mut attended, config.eps);
            let mut up = layer.up.apply(&attended.view());
            match config.gelu {
                Gelu::Erf => {
                    up.mapv_inplace(|v| 0.5 * v * (1.0 + erf(v / std::f32::consts::SQRT_2)))
                }
                Gelu::Tanh => up.mapv_inplace(|v| {
                    let c = (2.0 / std::f32::consts::PI).sqrt();
                    0.5 * v * (1.0 + (c * (v + 0.044715 * v * v * v)).tanh())
                }),
            }
            let mut out = layer.down.apply(&up.view());
            out += &attended;
            layer.output_norm.apply(&mut out, config.eps);
            x = out;
        }
        x
    }
}

/// The error function, to 1.2e-7 (Numerical Recipes' `erfc` by Chebyshev fitting):
/// f32 needs no more.
fn erf(x: f32) -> f32 {
    let x = f64::from(x);
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    let value = if x >= 0.0 { 1.0 - erfc } else { erfc - 1.0 };
    value as f32
}

#[cfg(test)]
mod tests {
    use super::erf;

    #[test]
    fn erf_matches_known_values() {
        for (x, want) in [
            (0.0f32, 0.0f32),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (-1.0, -0.842_700_8),
            (2.0, 0.995_322_3),
            (-3.0, -0.999_977_9),
        ] {
            assert!((erf(x) - want).abs() < 1e-6, "erf({x}) = {}", erf(x));
        }
    }
}
