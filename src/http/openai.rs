//! OpenAI-compatible `POST /v1/embeddings` and `GET /v1/models`, so clients written for OpenAI
//! (the `openai` SDKs, LangChain, LlamaIndex) work by pointing their base URL here.
//!
//! The vector of an input is the mean of its token rows, L2-normalized; `dimensions` keeps the
//! first N values before normalizing. A static-embedding model answers with its library's exact
//! sentence embedding (see [`crate::embedding`]). The requested `model` name is not enforced (clients send
//! their own defaults); responses name the served model.

use axum::extract::State;

use super::JsonBytes;
use super::extract::Json;
use super::types::{
    EmbeddingObject, EmbeddingsRequest, EmbeddingsResponse, ModelList, ModelObject, Usage,
};
use crate::embedding::pooled_vector;
use crate::encoding::Encoded;
use crate::error::AppError;
use crate::input::{self, InputOptions, Limits};
use crate::model::pooling::Pooling;
use crate::state::AppState;

/// Handler of `POST /v1/embeddings`.
pub(super) async fn embeddings(
    State(state): State<AppState>,
    Json(request): Json<EmbeddingsRequest>,
) -> Result<JsonBytes, AppError> {
    state
        .run_blocking(move |worker_state| {
            let model = worker_state.model()?;
            let dimensions = input::check_dimensions(request.dimensions, model.dimension())?;
            let options = InputOptions {
                add_special_tokens: false,
                truncate: false,
                field: "input",
                with_tokens: false,
            };
            let limits = Limits::from_settings(worker_state.settings());
            let prepared = input::prepare(model, request.input.into(), limits, options)?;
            input::require_tokens(model, Pooling::Mean, &prepared, "input")?;
            let values = prepared.len().saturating_mul(dimensions);
            input::check_response_size(request.encoding_format.max_bytes(values), limits, "input")?;
            // OpenAI's vectors have unit length; a static model answers as its library's `encode`
            // does, normalized exactly when its configuration says so.
            let normalize = !model.kind().is_static();
            let tokens = prepared.iter().map(|input| input.ids.len()).sum();
            let count = prepared.len();
            let data = prepared
                .iter()
                .enumerate()
                .map(|(index, input)| EmbeddingObject {
                    object: "embedding",
                    index,
                    embedding: Encoded::vector(
                        pooled_vector(model, &input.ids, Pooling::Mean, dimensions, normalize),
                        request.encoding_format,
                    ),
                })
                .collect();
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

/// Handler of `GET /v1/models`: the served model.
pub(super) async fn models(State(state): State<AppState>) -> Result<JsonBytes, AppError> {
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
