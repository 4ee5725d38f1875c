//! `POST /embed`: tokenize, map to ids and gather the rows of the input-embedding matrix,
//! optionally pooled and normalized.

use axum::extract::State;

use super::JsonBytes;
use super::extract::Json;
use super::types::{EmbedRequest, EmbedResponse, EmbeddedInput, Usage};
use crate::embedding::{pooled_vector, token_rows};
use crate::encoding::Encoded;
use crate::error::AppError;
use crate::input::{self, InputError, InputOptions, Inputs, Limits, TruncationDirection};
use crate::model::pooling::Pooling;
use crate::state::AppState;

/// Handler of `POST /embed`.
pub(super) async fn embed(
    State(state): State<AppState>,
    Json(mut request): Json<EmbedRequest>,
) -> Result<JsonBytes, AppError> {
    state
        .run_blocking(move |worker_state| {
            let catalog = worker_state.catalog()?;
            let model = catalog.model(request.model.as_deref())?;
            let (inputs, options) = request_inputs(&mut request)?;
            let limits = Limits::from_settings(worker_state.settings());
            let prepared = input::prepare(model, inputs, limits, options)?;
            input::require_tokens(model, request.pooling, &prepared, "inputs")?;
            let usage = Usage::of(prepared.iter().map(|input| input.ids.len()).sum());
            let vectors = match request.pooling {
                Pooling::None => usage.prompt_tokens,
                _ => prepared.len(),
            };
            let values = vectors.saturating_mul(model.dimension());
            input::check_response_size(
                request.encoding_format.max_bytes(values),
                limits,
                "inputs",
            )?;
            let count = prepared.len();
            let data = prepared
                .into_iter()
                .enumerate()
                .map(|(index, input)| {
                    let (shape, embedding) = if request.pooling == Pooling::None {
                        let rows = token_rows(model, &input.ids, request.normalize);
                        (
                            vec![rows.nrows(), rows.ncols()],
                            Encoded::rows(rows, request.encoding_format),
                        )
                    } else {
                        let vector = pooled_vector(
                            model,
                            &input.ids,
                            request.pooling,
                            model.dimension(),
                            request.normalize,
                        );
                        (
                            vec![vector.len()],
                            Encoded::vector(vector, request.encoding_format),
                        )
                    };
                    EmbeddedInput {
                        index,
                        ids: input.ids,
                        tokens: input.tokens,
                        shape,
                        embedding,
                    }
                })
                .collect();
            let response = EmbedResponse {
                model: &model.name,
                dtype: model.matrix.dtype().name(),
                dimension: model.dimension(),
                pooling: request.pooling,
                encoding_format: request.encoding_format,
                data,
                usage,
            };
            Ok(JsonBytes::of(&response)?
                .with_work(usage.prompt_tokens, count)
                .answered_by(&model.name))
        })
        .await
}

/// The request's inputs (exactly one of `inputs` and `input_ids`, moved out of it) and how to
/// prepare them.
fn request_inputs(request: &mut EmbedRequest) -> Result<(Inputs, InputOptions), InputError> {
    let options = InputOptions {
        add_special_tokens: request.add_special_tokens,
        truncate: request.truncate,
        truncation_direction: TruncationDirection::Right,
        field: "inputs",
        with_tokens: true,
    };
    match (request.inputs.take(), request.input_ids.take()) {
        (Some(texts), None) => Ok((Inputs::Texts(texts.into_vec()), options)),
        (None, Some(ids)) => Ok((
            ids.into(),
            InputOptions {
                add_special_tokens: false,
                field: "input_ids",
                ..options
            },
        )),
        (Some(_), Some(_)) => Err(InputError::new(
            "input_ids",
            "give either inputs or input_ids, not both",
        )),
        (None, None) => Err(InputError::new(
            "inputs",
            "one of inputs or input_ids is required",
        )),
    }
}
