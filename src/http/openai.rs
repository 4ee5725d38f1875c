//! OpenAI-compatible `POST /v1/embeddings` and `GET /v1/models`, so clients written for OpenAI
//! (the `openai` SDKs, LangChain, LlamaIndex) work by pointing their base URL here.
//!
//! The vector of an input is the mean of its token rows, L2-normalised; `dimensions` keeps the
//! first N values before normalising. The requested `model` name is not enforced (clients send
//! their own defaults); responses name the served model.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::embed::{
    Encoded, EncodingFormat, PreparedInput, TokenIds, check_token_ids, encode_vector, prepare_texts,
};
use super::extract::{Json, present};
use super::tokenize::TokenizeOptions;
use super::{JsonBytes, Usage};
use crate::error::AppError;
use crate::model::EmbeddingModel;
use crate::model::pooling::{Pooling, l2_normalize, pool};
use crate::state::AppState;

/// Body of `POST /v1/embeddings` (OpenAI's shape). `model` and `user` are accepted and not
/// used: other fields are ignored, as clients send their own defaults.
#[derive(Debug, Deserialize)]
pub struct EmbeddingsRequest {
    /// A string, a list of strings, a list of token ids, or a list of id lists.
    pub input: OpenAiInput,
    /// `float` or `base64` (the Python SDK asks for base64 by default).
    #[serde(default)]
    pub encoding_format: EncodingFormat,
    /// Keep the first N values, then normalise.
    #[serde(default, deserialize_with = "present")]
    pub dimensions: Option<usize>,
    /// The client's model name: must be a string, not enforced.
    #[serde(default, rename = "model", deserialize_with = "present")]
    pub _model: Option<String>,
    /// OpenAI's end-user id: must be a string, ignored.
    #[serde(default, rename = "user", deserialize_with = "present")]
    pub _user: Option<String>,
}

/// The forms OpenAI accepts for `input`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OpenAiInput {
    /// One text.
    Text(String),
    /// A batch of texts.
    Texts(Vec<String>),
    /// One input's token ids.
    Ids(Vec<u32>),
    /// A batch of token-id lists.
    IdBatches(Vec<Vec<u32>>),
}

#[derive(Serialize)]
struct EmbeddingsResponse<'a> {
    object: &'static str,
    data: Vec<EmbeddingObject>,
    model: &'a str,
    usage: Usage,
}

#[derive(Serialize)]
struct EmbeddingObject {
    object: &'static str,
    index: usize,
    embedding: Encoded,
}

/// Handler of `POST /v1/embeddings`.
pub async fn embeddings(
    State(state): State<AppState>,
    Json(request): Json<EmbeddingsRequest>,
) -> Result<JsonBytes, AppError> {
    state
        .run(move |worker_state| {
            let model = worker_state.model()?;
            let dimensions = check_dimensions(request.dimensions, model.dimension())?;
            let inputs = prepare(worker_state, model, request.input)?;
            let tokens = inputs.iter().map(|input| input.ids.len()).sum();
            let count = inputs.len();
            let data = inputs
                .into_iter()
                .enumerate()
                .map(|(index, input)| {
                    embed_one(model, index, &input, dimensions, request.encoding_format)
                })
                .collect::<Result<_, _>>()?;
            let response = EmbeddingsResponse {
                object: "list",
                data,
                model: &model.name,
                usage: Usage::of(tokens),
            };
            Ok(JsonBytes::of(&response)?.with_work(tokens, count))
        })
        .await
}

fn check_dimensions(requested: Option<usize>, available: usize) -> Result<usize, AppError> {
    match requested {
        None => Ok(available),
        Some(n) if (1..=available).contains(&n) => Ok(n),
        Some(n) => Err(AppError::validation(
            "dimensions",
            format!("dimensions must be between 1 and {available}, got {n}"),
        )),
    }
}

fn prepare(
    state: &AppState,
    model: &EmbeddingModel,
    input: OpenAiInput,
) -> Result<Vec<PreparedInput>, AppError> {
    let options = TokenizeOptions {
        field: "input",
        ..TokenizeOptions::from_settings(state, false, false)
    };
    let max_batch = state.settings().max_batch_size;
    let rows = model.matrix.rows();
    match input {
        OpenAiInput::Text(text) => prepare_texts(model, vec![text], max_batch, options),
        OpenAiInput::Texts(texts) => prepare_texts(model, texts, max_batch, options),
        OpenAiInput::Ids(ids) => check_token_ids(TokenIds::One(ids), rows, max_batch, options),
        OpenAiInput::IdBatches(batch) => {
            check_token_ids(TokenIds::Many(batch), rows, max_batch, options)
        }
    }
}

fn embed_one(
    model: &EmbeddingModel,
    index: usize,
    input: &PreparedInput,
    dimensions: usize,
    format: EncodingFormat,
) -> Result<EmbeddingObject, AppError> {
    if input.ids.is_empty() {
        return Err(AppError::validation(
            format!("input[{index}]"),
            format!("input[{index}] has no tokens"),
        ));
    }
    let rows = model.matrix.gather(&input.ids);
    let mut vector = pool(rows.view(), Pooling::Mean);
    vector = vector.slice_move(ndarray::s![..dimensions]);
    if let Some(values) = vector.as_slice_mut() {
        l2_normalize(values);
    }
    Ok(EmbeddingObject {
        object: "embedding",
        index,
        embedding: encode_vector(vector, format),
    })
}

#[derive(Serialize)]
struct ModelList<'a> {
    object: &'static str,
    data: Vec<ModelObject<'a>>,
}

#[derive(Serialize)]
struct ModelObject<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'static str,
}

/// Handler of `GET /v1/models`: the served model.
pub async fn models(State(state): State<AppState>) -> Result<JsonBytes, AppError> {
    let model = state.model()?;
    JsonBytes::of(&ModelList {
        object: "list",
        data: vec![ModelObject {
            id: &model.name,
            object: "model",
            created: 0,
            owned_by: "embedserve",
        }],
    })
}
