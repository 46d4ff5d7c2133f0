//! The embedding model an app uses (search.md §3, §4 "Other models"): the built-in
//! static model, or the folder `search.model` names — a model2vec static model or a
//! BERT-family sentence-transformer. One app runs in a process, so the choice is made
//! once at start-up ([`select`]) and every save, search and `embed()` asks
//! [`active`].

use std::sync::{Arc, RwLock};

use crate::bert::Bert;
use crate::model::{CHUNK_TOKENS, Model};

/// What makes vectors of texts.
pub trait Embed: Send + Sync {
    /// Names the model's vectors: stored with them, so vectors of another model are
    /// made anew.
    fn id(&self) -> &str;
    fn dims(&self) -> usize;
    /// The unit-length vector of a text (all zeros when it has no token).
    fn embed(&self, text: &str) -> Vec<f32>;
    /// The vectors of a text's chunks (256 tokens overlapping by 32).
    fn chunk_vectors(&self, text: &str) -> Vec<Vec<f32>>;
    /// Whether embedding takes microseconds (a static model): a save then embeds its
    /// row itself; with a slow model the vectors are made in the background.
    fn is_fast(&self) -> bool;
}

impl Embed for Model {
    fn id(&self) -> &str {
        &self.id
    }
    fn dims(&self) -> usize {
        self.dims
    }
    fn embed(&self, text: &str) -> Vec<f32> {
        Model::embed(self, text)
    }
    fn chunk_vectors(&self, text: &str) -> Vec<Vec<f32>> {
        Model::chunk_vectors(self, text)
    }
    fn is_fast(&self) -> bool {
        true
    }
}

/// The built-in model lives in a static.
impl Embed for &'static Model {
    fn id(&self) -> &str {
        &self.id
    }
    fn dims(&self) -> usize {
        self.dims
    }
    fn embed(&self, text: &str) -> Vec<f32> {
        Model::embed(self, text)
    }
    fn chunk_vectors(&self, text: &str) -> Vec<Vec<f32>> {
        Model::chunk_vectors(self, text)
    }
    fn is_fast(&self) -> bool {
        true
    }
}

impl Embed for Bert {
    fn id(&self) -> &str {
        &self.id
    }
    fn dims(&self) -> usize {
        self.config.hidden
    }
    fn embed(&self, text: &str) -> Vec<f32> {
        Bert::embed(self, text)
    }
    fn chunk_vectors(&self, text: &str) -> Vec<Vec<f32>> {
        let ids = self.token_ids(text);
        crate::model::chunks(&ids, self.max_tokens.min(CHUNK_TOKENS))
            .map(|chunk| self.vector_of(chunk))
            .collect()
    }
    fn is_fast(&self) -> bool {
        false
    }
}

/// A model ready to use.
pub type Embedder = Arc<dyn Embed>;

/// The folder's model; none: the built-in one.
static SELECTED: RwLock<Option<Embedder>> = RwLock::new(None);

/// Makes `model` the one every later [`active`] returns (none: the built-in model).
pub fn select(model: Option<Embedder>) {
    if let Ok(mut slot) = SELECTED.write() {
        *slot = model;
    }
}

/// The model in use.
pub fn active() -> Result<Embedder, String> {
    if let Some(model) = SELECTED.read().ok().and_then(|slot| slot.clone()) {
        return Ok(model);
    }
    builtin()
}

/// The built-in model, read on its first use.
pub fn builtin() -> Result<Embedder, String> {
    static BUILTIN: std::sync::OnceLock<Result<Embedder, String>> = std::sync::OnceLock::new();
    BUILTIN
        .get_or_init(|| crate::model::builtin().map(|m| Arc::new(m) as Embedder))
        .clone()
}
