//! What the service serves: named models and named word2vec stores, loaded together and
//! replaced together.
//!
//! A [`Catalog`] is immutable. The state holds the current one behind an atomic pointer
//! (`arc-swap`): every request takes one snapshot, an `Arc`, when its work starts and keeps it
//! to the end, so a reload that swaps in a new catalog never changes a request under way, and a
//! replaced model's memory map is released when the last request holding the old catalog ends.
//! A reload ([`load`]) reuses the entries whose settings and files did not change, so only
//! what changed is loaded again.

mod fingerprint;
mod load;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::LoadMode;
use crate::error::AppError;
use crate::model::EmbeddingModel;
use crate::word2vec::WordVectors;

pub use load::{CatalogError, Changes, ReloadReport, load};

use fingerprint::Fingerprint;
use load::{ModelSpec, StoreSpec};

/// The models and stores served at one moment, in the configured order (the first of each is
/// the default).
#[derive(Debug, Default)]
pub struct Catalog {
    models: Vec<Arc<ServedModel>>,
    stores: Vec<Arc<ServedStore>>,
}

/// A served model and what it was loaded from.
#[derive(Debug)]
pub struct ServedModel {
    /// The model; its `name` is the one requests select it by.
    pub model: EmbeddingModel,
    spec: ModelSpec,
    fingerprint: Fingerprint,
    /// Whether a change of its weights file has been logged (once, not per request).
    change_logged: AtomicBool,
}

/// A served word2vec store and what it was loaded from.
#[derive(Debug)]
pub struct ServedStore {
    /// The name requests select it by and answers report.
    pub name: String,
    /// The store.
    pub store: WordVectors,
    spec: StoreSpec,
    fingerprint: Fingerprint,
}

impl ServedModel {
    /// How its matrix is held.
    pub fn load_mode(&self) -> LoadMode {
        self.spec.load_mode
    }

    /// What happened to its memory-mapped weights file, if it changed since it was loaded
    /// (logged once). One `fstat`, far cheaper than the SIGBUS a truncated file would cause.
    pub fn file_change(&self) -> Option<String> {
        let change = self.model.matrix.file_change()?;
        if !self.change_logged.swap(true, Ordering::SeqCst) {
            tracing::error!(
                model = %self.model.name,
                change,
                "the model's weights file changed under the server: its requests are refused \
                 until a reload or restart (write a new file and rename it over the old one, \
                 then reload; or use load_mode = \"read\")"
            );
        }
        Some(change)
    }
}

impl Catalog {
    /// The models, the default first.
    pub fn models(&self) -> &[Arc<ServedModel>] {
        &self.models
    }

    /// The stores, the default first.
    pub fn stores(&self) -> &[Arc<ServedStore>] {
        &self.stores
    }

    /// The first change found in a served model's weights file (see
    /// [`ServedModel::file_change`]).
    pub fn file_change(&self) -> Option<String> {
        self.models.iter().find_map(|served| served.file_change())
    }

    /// The model a request names, or the default (the first) without a name; the error a
    /// model route answers with otherwise. With a single model the name is not checked, as
    /// before there were several: clients send fixed names of their own (`text-embedding-3-small`).
    pub fn model(&self, name: Option<&str>) -> Result<&EmbeddingModel, AppError> {
        let served = select(&self.models, name, |served| &served.model.name).map_err(
            |missing| match missing {
                Missing::NoneConfigured => {
                    AppError::NotConfigured("this server was started without a model (model_dir)")
                }
                Missing::Unknown(name) => AppError::ModelNotFound(name),
            },
        )?;
        match served.file_change() {
            Some(change) => Err(AppError::ModelFileChanged(change)),
            None => Ok(&served.model),
        }
    }

    /// The store a request names, or the default (the first); as [`Catalog::model`] for models.
    pub fn store(&self, name: Option<&str>) -> Result<&ServedStore, AppError> {
        select(&self.stores, name, |served| &served.name)
            .map(Arc::as_ref)
            .map_err(|missing| match missing {
                Missing::NoneConfigured => AppError::NotConfigured(
                    "this server was started without a word2vec store (word2vec)",
                ),
                Missing::Unknown(name) => AppError::StoreNotFound(name),
            })
    }
}

enum Missing {
    NoneConfigured,
    Unknown(String),
}

fn select<'a, T>(
    entries: &'a [Arc<T>],
    name: Option<&str>,
    name_of: impl Fn(&T) -> &str,
) -> Result<&'a Arc<T>, Missing> {
    let first = entries.first().ok_or(Missing::NoneConfigured)?;
    match name {
        Some(name) if entries.len() > 1 => entries
            .iter()
            .find(|entry| name_of(entry) == name)
            .ok_or_else(|| Missing::Unknown(name.to_owned())),
        _ => Ok(first),
    }
}
