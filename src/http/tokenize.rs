//! `POST /tokenize`: the tokens of each input with ids, vocabulary pieces and character offsets.

use axum::extract::State;

use super::JsonBytes;
use super::extract::Json;
use super::types::{TokenInfo, TokenizeRequest, TokenizeResponse, TokenizedInput, Usage};
use crate::error::AppError;
use crate::input::{self, InputOptions, Limits, TruncationDirection};
use crate::model::{CharIndex, Tokenized};
use crate::state::AppState;

/// Handler of `POST /tokenize`.
pub(super) async fn tokenize(
    State(state): State<AppState>,
    Json(request): Json<TokenizeRequest>,
) -> Result<JsonBytes, AppError> {
    state
        .run_blocking(move |worker_state| {
            let catalog = worker_state.catalog()?;
            let model = catalog.model(request.model.as_deref())?;
            let texts = request.inputs.into_vec();
            let options = InputOptions {
                add_special_tokens: request.add_special_tokens,
                truncate: request.truncate,
                truncation_direction: TruncationDirection::Right,
                field: "inputs",
                with_tokens: true,
            };
            let limits = Limits::from_settings(worker_state.settings());
            let tokenized = input::tokenize(model, &texts, limits, options)?;
            let usage = Usage::of(tokenized.iter().map(Tokenized::len).sum());
            let data = texts
                .iter()
                .zip(&tokenized)
                .enumerate()
                .map(|(index, (text, tokens))| describe(index, text, tokens))
                .collect();
            let response = TokenizeResponse {
                model: &model.name,
                data,
                usage,
            };
            Ok(JsonBytes::of(&response)?
                .with_work(usage.prompt_tokens, texts.len())
                .answered_by(&model.name))
        })
        .await
}

fn describe<'a>(index: usize, text: &'a str, tokenized: &'a Tokenized) -> TokenizedInput<'a> {
    let chars = CharIndex::new(text);
    let tokens = (0..tokenized.len())
        .map(|i| {
            let (start, end) = tokenized.offsets[i];
            TokenInfo {
                id: tokenized.ids[i],
                token: &tokenized.tokens[i],
                text: chars.slice(start, end),
                start,
                end,
                special: tokenized.special[i],
            }
        })
        .collect();
    TokenizedInput {
        index,
        ids: &tokenized.ids,
        tokens,
    }
}
