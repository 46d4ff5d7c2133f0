//! The embedding model an app uses (search.md §3, §4 "Other models"): the built-in
//! static model, or the folder `search.model` names — a model2vec static model or a
//! BERT-family sentence-transformer. One app runs in a process, so the choice is made
//! once at start-up ([`select`]) and every save, search and `embed()` asks
//! [`active`].

use std::path::{Path, PathBuf};
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

/// The folder's model and the folder; none: the built-in one.
static SELECTED: RwLock<Option<(PathBuf, Embedder)>> = RwLock::new(None);

/// Uses the model of `folder` (`search.model`), or the built-in one for none. A
/// folder already in use is not read again (a `flin dev` reload keeps it).
pub fn configure(folder: Option<&Path>) -> Result<(), String> {
    let Some(folder) = folder else {
        if let Ok(mut slot) = SELECTED.write() {
            *slot = None;
        }
        return Ok(());
    };
    let same = SELECTED
        .read()
        .ok()
        .is_some_and(|slot| slot.as_ref().is_some_and(|(path, _)| path == folder));
    if same {
        return Ok(());
    }
    let model = crate::folder::load(folder)?;
    if let Ok(mut slot) = SELECTED.write() {
        *slot = Some((folder.to_path_buf(), model));
    }
    Ok(())
}

/// The model in use.
pub fn active() -> Result<Embedder, String> {
    match selected() {
        Some(model) => Ok(model),
        None => builtin(),
    }
}

/// The id of the model in use, without reading the built-in model (an app that never
/// embeds must not pay for it).
pub fn active_id() -> String {
    selected()
        .map(|model| model.id().to_string())
        .unwrap_or_else(|| crate::model::BUILTIN_ID.to_string())
}

/// Whether the model in use embeds in microseconds (the built-in one does).
pub fn active_is_fast() -> bool {
    selected().is_none_or(|model| model.is_fast())
}

fn selected() -> Option<Embedder> {
    SELECTED
        .read()
        .ok()
        .and_then(|slot| slot.as_ref().map(|(_, model)| model.clone()))
}

/// The built-in model, read on its first use.
pub fn builtin() -> Result<Embedder, String> {
    crate::model::shared_builtin().map(|model| model.clone() as Embedder)
}
