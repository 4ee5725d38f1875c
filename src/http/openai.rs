//! OpenAI-compatible `POST /v1/embeddings` and `GET /v1/models`, so clients written for OpenAI
//! (the `openai` SDKs, LangChain, LlamaIndex, Haystack) work by pointing their base URL here.
//!
//! The vector of an input is the mean of its token rows, L2-normalized; `dimensions` keeps the
//! first N values before normalizing. A static-embedding model answers with its library's exact
//! sentence embedding (see [`crate::embedding`]). `model` selects one of the served models, the
//! first without one; with a single model the name is not checked (clients send fixed names of
//! their own), with several an unknown name is a 404 `model_not_found`, as OpenAI answers.
//! Responses name the model that answered.
//!
//! Token ids as `input` are refused unless `openai_token_ids` is set: OpenAI clients that send
//! ids (LangChain's `OpenAIEmbeddings` by default) tokenize with OpenAI's tiktoken, whose ids
//! index another vocabulary than this model's, so serving them would answer wrong vectors silently.

use axum::extract::State;

use super::JsonBytes;
use super::extract::Json;
use super::types::{
    EmbeddingObject, EmbeddingsRequest, EmbeddingsResponse, ModelList, ModelObject, OpenAiInput,
    Usage,
};
use crate::embedding::SentenceEmbeddings;
use crate::encoding::Encoded;
use crate::error::AppError;
use crate::input::{self, InputError, InputOptions, Limits, TruncationDirection};
use crate::state::AppState;

/// Handler of `POST /v1/embeddings`.
pub(super) async fn embeddings(
    State(state): State<AppState>,
    Json(request): Json<EmbeddingsRequest>,
) -> Result<JsonBytes, AppError> {
    state
        .run_blocking(move |worker_state| {
            let catalog = worker_state.catalog()?;
            let model = catalog.model(request.model.as_deref())?;
            check_token_ids(&request.input, worker_state.settings().openai_token_ids)?;
            let dimensions = input::check_dimensions(request.dimensions, model.dimension())?;
            let options = InputOptions {
                add_special_tokens: false,
                truncate: false,
                truncation_direction: TruncationDirection::Right,
                field: "input",
                with_tokens: false,
            };
            let limits = Limits::from_settings(worker_state.settings());
            // OpenAI's vectors have unit length; a static model answers as its library's `encode`
            // does, normalized exactly when its configuration says so.
            let normalize = !model.kind().is_static();
            let embeddings = SentenceEmbeddings::of(
                model,
                request.input.into(),
                limits,
                options,
                dimensions,
                normalize,
                request.encoding_format,
            )?;
            let count = embeddings.vectors.len();
            let data = embeddings
                .vectors
                .into_iter()
                .enumerate()
                .map(|(index, vector)| EmbeddingObject {
                    object: "embedding",
                    index,
                    embedding: Encoded::vector(vector, request.encoding_format),
                })
                .collect();
            let response = EmbeddingsResponse {
                object: "list",
                data,
                model: &model.name,
                usage: Usage::of(embeddings.tokens),
            };
            Ok(JsonBytes::of(&response)?
                .with_work(embeddings.tokens, count)
                .answered_by(&model.name))
        })
        .await
}

/// Refuses token ids unless the server accepts them (`openai_token_ids`), naming the fix.
fn check_token_ids(input: &OpenAiInput, accepted: bool) -> Result<(), InputError> {
    let is_ids = matches!(input, OpenAiInput::Ids(_) | OpenAiInput::IdBatches(_));
    if !is_ids || accepted {
        return Ok(());
    }
    Err(InputError::new(
        "input",
        "input holds token ids, which this server refuses on /v1/embeddings: OpenAI clients \
         send ids of OpenAI's tiktoken tokenizer, not of this model's, and would get wrong \
         vectors. Send text instead (LangChain's OpenAIEmbeddings: check_embedding_ctx_length=False), \
         or, if the ids come from this model's tokenizer, use POST /embed with input_ids or start \
         the server with openai_token_ids = true (EMBEDSERVE_OPENAI_TOKEN_IDS)",
    ))
}

/// Handler of `GET /v1/models`: every served model, the default first.
pub(super) async fn models(State(state): State<AppState>) -> Result<JsonBytes, AppError> {
    let catalog = state.catalog()?;
    // Without any model this answers as the model routes do (503 not_configured).
    catalog.model(None)?;
    JsonBytes::of(&ModelList {
        object: "list",
        data: catalog
            .models()
            .iter()
            .map(|served| ModelObject {
                id: &served.model.name,
                object: "model",
                created: 0,
                owned_by: "embedserve",
            })
            .collect(),
    })
}
