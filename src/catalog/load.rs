//! Loading a [`Catalog`] from the settings, reusing from the one serving every model and store
//! whose settings and files are unchanged.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use super::{Catalog, Fingerprint, ServedModel, ServedStore};
use crate::config::{LoadMode, Settings, StoreFormatSetting};
use crate::model::{EmbeddingModel, LoadError};
use crate::word2vec::store::StoreError;
use crate::word2vec::{LoadOptions, WordVectors};

/// How one model is loaded: an entry of `models`, or the single `model_dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ModelSpec {
    /// The configured name; `None` for `model_dir`, named by `model_name` or the directory.
    name: Option<String>,
    dir: PathBuf,
    tensor: Option<String>,
    pub(super) load_mode: LoadMode,
}

/// How one store is loaded: an entry of `stores`, or the single `word2vec`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StoreSpec {
    /// The configured name; `None` for `word2vec`, named by its file name.
    name: Option<String>,
    path: PathBuf,
    format: StoreFormatSetting,
    limit: usize,
    lossy_utf8: bool,
}

/// Why a catalog could not be loaded; names the model or store and the file.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A model directory could not be loaded.
    #[error("{}{source}", label("model", name.as_deref()))]
    Model {
        /// Its configured name (`None` for the single `model_dir`).
        name: Option<String>,
        /// What is wrong, with the file.
        source: LoadError,
    },
    /// A word2vec store could not be loaded.
    #[error("{}{source}", label("store", name.as_deref()))]
    Store {
        /// Its configured name (`None` for the single `word2vec`).
        name: Option<String>,
        /// What is wrong, with the file.
        source: StoreError,
    },
}

/// `model "potion": ` before a named resource's error; nothing for the single one, whose
/// message names its file as it always has.
fn label(kind: &str, name: Option<&str>) -> String {
    name.map_or_else(String::new, |name| format!("{kind} {name:?}: "))
}

/// What a load did, by name.
#[derive(Debug, Default, Serialize)]
pub struct Changes {
    /// Loaded from their files (new, or changed since the last load).
    pub loaded: Vec<String>,
    /// Kept as they were: same settings, same files.
    pub unchanged: Vec<String>,
    /// Served before, no longer configured.
    pub removed: Vec<String>,
}

/// What a load did to the models and to the stores.
#[derive(Debug, Default, Serialize)]
pub struct ReloadReport {
    /// The models.
    pub models: Changes,
    /// The word2vec stores.
    pub stores: Changes,
}

/// Loads what `settings` name, reusing the entries of `previous` whose settings and files are
/// unchanged. Blocking (files are read and mapped): call it off the async executor.
pub fn load(
    settings: &Settings,
    previous: Option<&Catalog>,
) -> Result<(Catalog, ReloadReport), CatalogError> {
    let mut report = ReloadReport::default();
    let mut catalog = Catalog::default();
    for spec in model_specs(settings) {
        let fingerprint = Fingerprint::of_dir(&spec.dir);
        let kept = previous.and_then(|previous| {
            previous.models.iter().find(|served| {
                served.spec == spec
                    && served.fingerprint == fingerprint
                    && served.model.matrix.file_change().is_none()
            })
        });
        let served = match kept {
            Some(served) => {
                report.models.unchanged.push(served.model.name.clone());
                Arc::clone(served)
            }
            None => {
                let model = load_model(&spec).map_err(|source| CatalogError::Model {
                    name: spec.name.clone(),
                    source,
                })?;
                report.models.loaded.push(model.name.clone());
                Arc::new(ServedModel {
                    model,
                    spec,
                    fingerprint,
                    change_logged: AtomicBool::new(false),
                })
            }
        };
        catalog.models.push(served);
    }
    for spec in store_specs(settings) {
        let fingerprint = Fingerprint::of_file(&spec.path);
        let kept = previous.and_then(|previous| {
            previous
                .stores
                .iter()
                .find(|served| served.spec == spec && served.fingerprint == fingerprint)
        });
        let served = match kept {
            Some(served) => {
                report.stores.unchanged.push(served.name.clone());
                Arc::clone(served)
            }
            None => {
                let store = load_store(&spec).map_err(|source| CatalogError::Store {
                    name: spec.name.clone(),
                    source,
                })?;
                let name = spec.name.clone().unwrap_or_else(|| store.name());
                report.stores.loaded.push(name.clone());
                Arc::new(ServedStore {
                    name,
                    store,
                    spec,
                    fingerprint,
                })
            }
        };
        catalog.stores.push(served);
    }
    if let Some(previous) = previous {
        report.models.removed = removed(
            previous.models.iter().map(|served| &served.model.name),
            catalog.models.iter().map(|served| &served.model.name),
        );
        report.stores.removed = removed(
            previous.stores.iter().map(|served| &served.name),
            catalog.stores.iter().map(|served| &served.name),
        );
    }
    Ok((catalog, report))
}

fn removed<'a>(
    before: impl Iterator<Item = &'a String>,
    after: impl Iterator<Item = &'a String> + Clone,
) -> Vec<String> {
    before
        .filter(|name| !after.clone().any(|kept| kept == *name))
        .cloned()
        .collect()
}

/// The models of the settings: the `models` list, or else the single `model_dir`.
fn model_specs(settings: &Settings) -> Vec<ModelSpec> {
    if settings.models.is_empty() {
        return settings
            .model_dir()
            .map(|dir| ModelSpec {
                name: settings.model_name.clone(),
                dir: dir.to_owned(),
                tensor: settings.embedding_tensor.clone(),
                load_mode: settings.load_mode,
            })
            .into_iter()
            .collect();
    }
    settings
        .models
        .iter()
        .map(|entry| ModelSpec {
            name: Some(entry.name.clone()),
            dir: entry.path.clone(),
            tensor: entry.embedding_tensor.clone(),
            load_mode: settings.load_mode,
        })
        .collect()
}

/// The stores of the settings: the `stores` list, or else the single `word2vec`.
fn store_specs(settings: &Settings) -> Vec<StoreSpec> {
    let spec = |name: Option<&str>, path: PathBuf, format: Option<StoreFormatSetting>| StoreSpec {
        name: name.map(str::to_owned),
        path,
        format: format.unwrap_or(settings.word2vec_format),
        limit: settings.word2vec_limit,
        lossy_utf8: settings.word2vec_lossy_utf8,
    };
    if settings.stores.is_empty() {
        return settings
            .word2vec()
            .map(|path| spec(None, path.to_owned(), None))
            .into_iter()
            .collect();
    }
    settings
        .stores
        .iter()
        .map(|entry| spec(Some(&entry.name), entry.path.clone(), entry.format))
        .collect()
}

fn load_model(spec: &ModelSpec) -> Result<EmbeddingModel, LoadError> {
    let mut model = EmbeddingModel::load(&spec.dir, spec.tensor.as_deref(), spec.name.as_deref())?;
    if spec.load_mode == LoadMode::Read {
        model.matrix = model.matrix.into_memory()?;
    }
    tracing::info!(
        model = %model.name,
        rows = model.matrix.rows(),
        dim = model.dimension(),
        dtype = model.matrix.dtype().name(),
        "model loaded"
    );
    Ok(model)
}

fn load_store(spec: &StoreSpec) -> Result<WordVectors, StoreError> {
    let options = LoadOptions {
        format: spec.format.store_format(),
        limit: (spec.limit > 0).then_some(spec.limit),
        lossy_utf8: spec.lossy_utf8,
    };
    let store = WordVectors::load(&spec.path, &options)?;
    tracing::info!(
        store = %spec.path.display(),
        words = store.len(),
        dim = store.dim(),
        "word2vec store loaded"
    );
    Ok(store)
}
