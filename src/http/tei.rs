//! text-embeddings-inference (TEI) compatible embeddings, for clients built for TEI
//! (`huggingface_hub`'s `InferenceClient.feature_extraction`, LangChain's
//! `HuggingFaceEndpointEmbeddings`, Haystack's TEI embedders, LlamaIndex's
//! `TextEmbeddingsInference`).
//!
//! TEI's `POST /embed` is served at `POST /` (where TEI clients post when given the server's URL)
//! and under the `/tei` prefix, `POST /tei` and `POST /tei/embed`, so `http://host:8080/tei` is a
//! TEI base URL for every client, including those that post to `{base}/embed`. The answer is
//! TEI's bare nested array, one vector per input (also for a single string); errors keep the
//! service's JSON body, with TEI's statuses where they exist (413, 422, 429; a model-less server
//! is 503 where TEI's backend failure is 424).
//!
//! The vector is the one `/v1/embeddings` gives for the same text (the mean of the token rows,
//! or a static model's own sentence embedding), normalized unless `normalize` is false.

use axum::extract::State;

use super::JsonBytes;
use super::extract::Json;
use super::types::{TeiEmbedRequest, TeiEmbedResponse};
use crate::embedding::SentenceEmbeddings;
use crate::encoding::{Encoded, EncodingFormat};
use crate::error::AppError;
use crate::input::{self, InputError, InputOptions, Inputs, Limits};
use crate::state::AppState;

/// Handler of TEI's `POST /embed` at `POST /`, `POST /tei` and `POST /tei/embed`.
pub(super) async fn embed(
    State(state): State<AppState>,
    Json(request): Json<TeiEmbedRequest>,
) -> Result<JsonBytes, AppError> {
    state
        .run_blocking(move |worker_state| {
            // TEI's request names no model: the default answers.
            let catalog = worker_state.catalog()?;
            let model = catalog.model(None)?;
            if request.prompt_name.is_some() {
                return Err(InputError::new(
                    "prompt_name",
                    "prompt_name is not supported: prepend the prompt's text to each input",
                )
                .into());
            }
            let dimensions = input::check_dimensions(request.dimensions, model.dimension())?;
            let options = InputOptions {
                add_special_tokens: false,
                truncate: request.truncate.unwrap_or(false),
                truncation_direction: request.truncation_direction,
                field: "inputs",
                with_tokens: false,
            };
            let limits = Limits::from_settings(worker_state.settings());
            let embeddings = SentenceEmbeddings::of(
                model,
                Inputs::Texts(request.inputs.into_vec()),
                limits,
                options,
                dimensions,
                request.normalize,
                EncodingFormat::Float,
            )?;
            let count = embeddings.vectors.len();
            let response = TeiEmbedResponse(
                embeddings
                    .vectors
                    .into_iter()
                    .map(|vector| Encoded::vector(vector, EncodingFormat::Float))
                    .collect(),
            );
            Ok(JsonBytes::of(&response)?
                .with_work(embeddings.tokens, count)
                .answered_by(&model.name))
        })
        .await
}
