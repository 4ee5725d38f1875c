//! Liveness, readiness and `GET /info`.

use std::path::Path;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::JsonBytes;
use crate::catalog::{ServedModel, ServedStore};
use crate::config::LoadMode;
use crate::error::AppError;
use crate::model::{ModelKind, StaticEmbedding, StaticInfo};
use crate::state::AppState;
use crate::word2vec::subwords::{NgramSettings, Subwords};

#[derive(Serialize)]
struct Status {
    status: &'static str,
}

/// `GET /health/live`: 200 while the process runs.
pub(super) async fn live() -> Json<impl Serialize> {
    Json(Status { status: "alive" })
}

/// `GET /health/ready`: 200 once every model and store is loaded, 503 before and during shutdown.
pub(super) async fn ready(State(state): State<AppState>) -> Result<Json<impl Serialize>, AppError> {
    if state.is_ready() {
        Ok(Json(Status { status: "ready" }))
    } else {
        Err(AppError::NotReady)
    }
}

/// `GET /health`: the readiness answer, kept for clients of the first API.
pub(super) async fn health(state: State<AppState>) -> Result<Json<impl Serialize>, AppError> {
    ready(state).await
}

#[derive(Serialize)]
struct Info<'a> {
    name: &'static str,
    version: &'static str,
    ready: bool,
    /// The default model (the first of `models`).
    model: Option<ModelInfo<'a>>,
    /// The default store (the first of `stores`).
    word2vec: Option<StoreInfo<'a>>,
    /// Every served model, the default first.
    models: Vec<ModelInfo<'a>>,
    /// Every served store, the default first.
    stores: Vec<StoreInfo<'a>>,
    limits: Limits,
}

#[derive(Clone, Serialize)]
struct ModelInfo<'a> {
    name: &'a str,
    kind: ModelKind,
    path: &'a Path,
    model_type: Option<&'a str>,
    architectures: &'a [String],
    torch_dtype: Option<&'a str>,
    vocab_size: Option<usize>,
    rows: usize,
    hidden_size: usize,
    dtype: &'static str,
    tensor: &'a str,
    weights_file: &'a Path,
    tokenizer_vocab_size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    static_embedding: Option<StaticInfo>,
    /// `mmap` or `read`: how the matrix is held.
    load_mode: LoadMode,
    /// Set when the weights file changed under the server (the model is then not served).
    #[serde(skip_serializing_if = "Option::is_none")]
    weights_file_change: Option<String>,
}

#[derive(Clone, Serialize)]
struct StoreInfo<'a> {
    /// The name requests select it by (`store`).
    name: &'a str,
    path: Option<&'a Path>,
    format: Option<String>,
    words: usize,
    dimension: usize,
    /// A subword (fastText) store's n-gram settings; `null` when words outside the vocabulary
    /// have no vector.
    subwords: Option<&'a NgramSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gensim: Option<GensimInfo>,
    /// How `/similar` answers by default: `approximate` (from an index file's graph; `exact=true`
    /// scans) or `exact` (every row is scanned).
    search: &'static str,
    /// The graph of a store served from an index file; `null` otherwise.
    index: Option<IndexInfo>,
}

/// The approximate-nearest-neighbour graph of an index file.
#[derive(Clone, Serialize)]
struct IndexInfo {
    /// `hnsw` (USearch).
    algorithm: &'static str,
    /// How the graph holds its vectors: `f32` or `f16`; candidates are always rescored with the
    /// stored f32 rows.
    dtype: String,
    connectivity: usize,
    expansion_add: usize,
    expansion_search: usize,
}

/// What gensim recorded in a native model file.
#[derive(Clone, Serialize)]
struct GensimInfo {
    class: &'static str,
    vector_size: usize,
    window: Option<i64>,
    sg: Option<i64>,
    epochs: Option<i64>,
}

#[derive(Serialize)]
struct Limits {
    body_limit_bytes: usize,
    max_batch_size: usize,
    max_tokens_per_input: usize,
    max_topn: usize,
    max_query_words: usize,
    max_input_bytes: usize,
    max_response_bytes: usize,
    max_concurrent_requests: usize,
    max_connections: usize,
}

/// `GET /info`: what is served and with which limits.
pub(super) async fn info(State(state): State<AppState>) -> Result<JsonBytes, AppError> {
    let settings = state.settings();
    let catalog = state.loaded();
    let models: Vec<ModelInfo<'_>> = catalog
        .iter()
        .flat_map(|catalog| catalog.models())
        .map(|served| model_info(served))
        .collect();
    let stores: Vec<StoreInfo<'_>> = catalog
        .iter()
        .flat_map(|catalog| catalog.stores())
        .map(|served| store_info(served))
        .collect();
    JsonBytes::of(&Info {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        ready: state.is_ready(),
        model: models.first().cloned(),
        word2vec: stores.first().cloned(),
        models,
        stores,
        limits: Limits {
            body_limit_bytes: settings.body_limit_bytes,
            max_batch_size: settings.max_batch_size,
            max_tokens_per_input: settings.max_tokens_per_input,
            max_topn: settings.max_topn,
            max_query_words: settings.max_query_words,
            max_input_bytes: settings.max_input_bytes,
            max_response_bytes: settings.max_response_bytes,
            max_concurrent_requests: settings.max_concurrent_requests,
            max_connections: settings.max_connections,
        },
    })
}

fn model_info(served: &ServedModel) -> ModelInfo<'_> {
    let model = &served.model;
    ModelInfo {
        name: &model.name,
        kind: model.kind(),
        path: &model.dir,
        model_type: model.config.model_type.as_deref(),
        architectures: &model.config.architectures,
        torch_dtype: model.config.torch_dtype.as_deref(),
        vocab_size: model.config.vocab_size,
        rows: model.matrix.rows(),
        hidden_size: model.matrix.cols(),
        dtype: model.matrix.dtype().name(),
        tensor: model.matrix.tensor(),
        weights_file: model.matrix.file(),
        tokenizer_vocab_size: model.tokenizer.vocab_size(),
        static_embedding: model.static_embedding.as_ref().map(StaticEmbedding::info),
        load_mode: served.load_mode(),
        weights_file_change: served.file_change(),
    }
}

fn store_info(served: &ServedStore) -> StoreInfo<'_> {
    let store = &served.store;
    StoreInfo {
        name: &served.name,
        path: store.path(),
        format: store.format().map(|format| format.to_string()),
        words: store.len(),
        dimension: store.dim(),
        gensim: store.gensim_params().map(|params| GensimInfo {
            class: params.class.name(),
            vector_size: params.vector_size,
            window: params.window,
            sg: params.sg,
            epochs: params.epochs,
        }),
        subwords: store.subwords().map(Subwords::settings),
        search: if store.ann_params().is_some() {
            "approximate"
        } else {
            "exact"
        },
        index: store.ann_params().map(|params| IndexInfo {
            algorithm: "hnsw",
            dtype: params.dtype.to_string(),
            connectivity: params.connectivity,
            expansion_add: params.expansion_add,
            expansion_search: params.expansion_search,
        }),
    }
}
