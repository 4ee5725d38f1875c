//! `POST /tokenize`: the tokens of each input with ids, vocabulary pieces and character offsets.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::extract::Json;
use super::{JsonBytes, Texts, Usage, check_batch, check_total_tokens};
use crate::error::AppError;
use crate::model::{CharIndex, EmbeddingModel, Tokenized};
use crate::state::AppState;

/// Body of `POST /tokenize`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizeRequest {
    /// A text or a list of texts.
    pub inputs: Texts,
    /// Add the model's special tokens (e.g. `[CLS]`); off, like `tokenizer.tokenize`.
    #[serde(default)]
    pub add_special_tokens: bool,
    /// Cut inputs longer than `max_tokens_per_input` instead of refusing them.
    #[serde(default)]
    pub truncate: bool,
}

#[derive(Serialize)]
struct TokenizeResponse<'a> {
    model: &'a str,
    data: Vec<TokenizedInput<'a>>,
    usage: Usage,
}

#[derive(Serialize)]
struct TokenizedInput<'a> {
    index: usize,
    ids: &'a [u32],
    tokens: Vec<Token<'a>>,
}

#[derive(Serialize)]
struct Token<'a> {
    id: u32,
    token: &'a str,
    text: &'a str,
    start: usize,
    end: usize,
    special: bool,
}

/// Handler of `POST /tokenize`.
pub async fn tokenize(
    State(state): State<AppState>,
    Json(request): Json<TokenizeRequest>,
) -> Result<JsonBytes, AppError> {
    let texts = request.inputs.into_vec();
    check_batch(texts.len(), state.settings().max_batch_size, "inputs")?;
    state
        .run(move |worker_state| {
            let model = worker_state.model()?;
            let options = TokenizeOptions::from_settings(
                worker_state,
                request.add_special_tokens,
                request.truncate,
            );
            let tokenized = tokenize_texts(model, &texts, options)?;
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
            Ok(JsonBytes::of(&response)?.with_work(usage.prompt_tokens, texts.len()))
        })
        .await
}

fn describe<'a>(index: usize, text: &'a str, tokenized: &'a Tokenized) -> TokenizedInput<'a> {
    let chars = CharIndex::new(text);
    let tokens = (0..tokenized.len())
        .map(|i| {
            let (start, end) = tokenized.offsets[i];
            Token {
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

/// How texts are tokenized for a request.
#[derive(Debug, Clone, Copy)]
pub struct TokenizeOptions {
    /// Add the model's special tokens.
    pub add_special_tokens: bool,
    /// Cut long inputs to `max_tokens` instead of refusing them.
    pub truncate: bool,
    /// `max_tokens_per_input`.
    pub max_tokens: usize,
    /// `max_batch_tokens`.
    pub max_total_tokens: usize,
    /// The request field holding the texts, for error messages (`inputs`, or `input` on /v1).
    pub field: &'static str,
}

impl TokenizeOptions {
    /// Options from the request flags and the server's limit.
    pub fn from_settings(state: &AppState, add_special_tokens: bool, truncate: bool) -> Self {
        Self {
            add_special_tokens,
            truncate,
            max_tokens: state.settings().max_tokens_per_input,
            max_total_tokens: state.settings().max_batch_tokens,
            field: "inputs",
        }
    }
}

/// Tokenizes every text, enforcing (or truncating to) the per-input token limit and the
/// per-request token limit.
pub fn tokenize_texts(
    model: &EmbeddingModel,
    texts: &[String],
    options: TokenizeOptions,
) -> Result<Vec<Tokenized>, AppError> {
    let tokenized = texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let param = || format!("{}[{index}]", options.field);
            let mut tokenized = model
                .tokenizer
                .encode(text, options.add_special_tokens)
                .map_err(|e| AppError::validation(param(), format!("cannot tokenize: {e}")))?;
            if tokenized.len() > options.max_tokens {
                if !options.truncate {
                    return Err(AppError::validation(
                        param(),
                        format!(
                            "{} has {} tokens; the limit is {} (max_tokens_per_input; set \"truncate\": true to cut)",
                            param(),
                            tokenized.len(),
                            options.max_tokens
                        ),
                    ));
                }
                tokenized.truncate(options.max_tokens);
            }
            Ok(tokenized)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let total = tokenized.iter().map(Tokenized::len).sum();
    check_total_tokens(total, options.max_total_tokens, options.field)?;
    Ok(tokenized)
}
