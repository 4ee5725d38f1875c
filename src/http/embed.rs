//! `POST /embed`: tokenize, map to ids and gather the rows of the input-embedding matrix.

use axum::extract::State;
use base64::Engine;
use ndarray::{Array1, Array2, ArrayView1};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use super::extract::{Json, present};
use super::tokenize::{TokenizeOptions, tokenize_texts};
use super::{JsonBytes, Texts, Usage, check_batch, check_total_tokens};
use crate::error::AppError;
use crate::model::EmbeddingModel;
use crate::model::pooling::{Pooling, l2_normalize, pool};
use crate::state::AppState;

/// Body of `POST /embed`: exactly one of `inputs` and `input_ids`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedRequest {
    /// A text or a list of texts, tokenized by the model's tokenizer.
    #[serde(default, deserialize_with = "present")]
    pub inputs: Option<Texts>,
    /// Token ids: one list, or a list of lists.
    #[serde(default, deserialize_with = "present")]
    pub input_ids: Option<TokenIds>,
    /// Add the model's special tokens when tokenizing.
    #[serde(default)]
    pub add_special_tokens: bool,
    /// `none` (a row per token), `mean` or `max`.
    #[serde(default)]
    pub pooling: Pooling,
    /// Scale each returned vector to unit L2 norm.
    #[serde(default)]
    pub normalize: bool,
    /// `float` (JSON numbers) or `base64` (little-endian f32 bytes).
    #[serde(default)]
    pub encoding_format: EncodingFormat,
    /// Cut inputs longer than `max_tokens_per_input` instead of refusing them.
    #[serde(default)]
    pub truncate: bool,
}

/// Token ids of one input or of a batch.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TokenIds {
    /// One input's ids.
    One(Vec<u32>),
    /// A batch of inputs' ids.
    Many(Vec<Vec<u32>>),
}

/// How vectors are written in the response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    /// JSON numbers that parse back to the exact f32.
    #[default]
    Float,
    /// Base64 of the little-endian f32 bytes, row-major.
    Base64,
}

/// One input ready to embed: its ids and, when it came as text, its tokens.
#[derive(Debug)]
pub struct PreparedInput {
    /// Token ids, all below the matrix's row count.
    pub ids: Vec<u32>,
    /// Vocabulary pieces, when the input was text.
    pub tokens: Option<Vec<String>>,
}

#[derive(Serialize)]
struct EmbedResponse<'a> {
    model: &'a str,
    dtype: &'static str,
    dimension: usize,
    pooling: Pooling,
    encoding_format: EncodingFormat,
    data: Vec<EmbeddedInput>,
    usage: Usage,
}

#[derive(Serialize)]
struct EmbeddedInput {
    index: usize,
    ids: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens: Option<Vec<String>>,
    shape: Vec<usize>,
    embedding: Encoded,
}

/// Handler of `POST /embed`.
pub async fn embed(
    State(state): State<AppState>,
    Json(request): Json<EmbedRequest>,
) -> Result<JsonBytes, AppError> {
    state
        .run(move |worker_state| {
            let model = worker_state.model()?;
            let inputs = prepare_inputs(worker_state, model, &request)?;
            let usage = Usage::of(inputs.iter().map(|input| input.ids.len()).sum());
            let count = inputs.len();
            let data = inputs
                .into_iter()
                .enumerate()
                .map(|(index, input)| embed_one(model, index, input, &request))
                .collect::<Result<_, _>>()?;
            let response = EmbedResponse {
                model: &model.name,
                dtype: model.matrix.dtype().name(),
                dimension: model.dimension(),
                pooling: request.pooling,
                encoding_format: request.encoding_format,
                data,
                usage,
            };
            Ok(JsonBytes::of(&response)?.with_work(usage.prompt_tokens, count))
        })
        .await
}

/// Validates the request's inputs and turns them into token ids.
fn prepare_inputs(
    state: &AppState,
    model: &EmbeddingModel,
    request: &EmbedRequest,
) -> Result<Vec<PreparedInput>, AppError> {
    let max_batch = state.settings().max_batch_size;
    match (&request.inputs, &request.input_ids) {
        (Some(texts), None) => {
            let options =
                TokenizeOptions::from_settings(state, request.add_special_tokens, request.truncate);
            prepare_texts(model, texts.clone().into_vec(), max_batch, options)
        }
        (None, Some(ids)) => {
            let options = TokenizeOptions {
                field: "input_ids",
                ..TokenizeOptions::from_settings(state, false, request.truncate)
            };
            check_token_ids(ids.clone(), model.matrix.rows(), max_batch, options)
        }
        (Some(_), Some(_)) => Err(AppError::validation(
            "input_ids",
            "give either inputs or input_ids, not both",
        )),
        (None, None) => Err(AppError::validation(
            "inputs",
            "one of inputs or input_ids is required",
        )),
    }
}

/// Checks the batch and tokenizes each text.
pub fn prepare_texts(
    model: &EmbeddingModel,
    texts: Vec<String>,
    max_batch: usize,
    options: TokenizeOptions,
) -> Result<Vec<PreparedInput>, AppError> {
    check_batch(texts.len(), max_batch, options.field)?;
    Ok(tokenize_texts(model, &texts, options)?
        .into_iter()
        .map(|tokenized| PreparedInput {
            ids: tokenized.ids,
            tokens: Some(tokenized.tokens),
        })
        .collect())
}

/// Checks raw token ids: batch size, length limit, and every id inside the matrix.
pub fn check_token_ids(
    ids: TokenIds,
    rows: usize,
    max_batch: usize,
    options: TokenizeOptions,
) -> Result<Vec<PreparedInput>, AppError> {
    let (batch, nested) = match ids {
        TokenIds::One(ids) => (vec![ids], false),
        TokenIds::Many(batch) => (batch, true),
    };
    let field = options.field;
    check_batch(batch.len(), max_batch, field)?;
    let prepared = batch
        .into_iter()
        .enumerate()
        .map(|(i, mut ids)| {
            let param = |j: Option<usize>| match (nested, j) {
                (true, Some(j)) => format!("{field}[{i}][{j}]"),
                (true, None) => format!("{field}[{i}]"),
                (false, Some(j)) => format!("{field}[{j}]"),
                (false, None) => field.to_owned(),
            };
            if ids.is_empty() {
                return Err(AppError::validation(
                    param(None),
                    format!("{} must not be empty", param(None)),
                ));
            }
            if ids.len() > options.max_tokens {
                if !options.truncate {
                    return Err(AppError::validation(
                        param(None),
                        format!(
                            "{} has {} ids; the limit is {} (max_tokens_per_input)",
                            param(None),
                            ids.len(),
                            options.max_tokens
                        ),
                    ));
                }
                ids.truncate(options.max_tokens);
            }
            if let Some((j, id)) = ids.iter().enumerate().find(|(_, id)| **id as usize >= rows) {
                return Err(AppError::validation(
                    param(Some(j)),
                    format!("token id {id} is outside the embedding matrix (rows 0..{rows})"),
                ));
            }
            Ok(PreparedInput { ids, tokens: None })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let total = prepared.iter().map(|input| input.ids.len()).sum();
    check_total_tokens(total, options.max_total_tokens, field)?;
    Ok(prepared)
}

fn embed_one(
    model: &EmbeddingModel,
    index: usize,
    input: PreparedInput,
    request: &EmbedRequest,
) -> Result<EmbeddedInput, AppError> {
    let mut rows = model.matrix.gather(&input.ids);
    let (shape, embedding) = match request.pooling {
        Pooling::None => {
            if request.normalize {
                rows.rows_mut()
                    .into_iter()
                    .for_each(|mut row| normalize_row(row.view_mut()));
            }
            (
                vec![rows.nrows(), rows.ncols()],
                encode_rows(rows, request.encoding_format),
            )
        }
        pooling => {
            if input.ids.is_empty() {
                return Err(AppError::validation(
                    format!("inputs[{index}]"),
                    format!("inputs[{index}] has no tokens to pool"),
                ));
            }
            let mut vector = pool(rows.view(), pooling);
            if request.normalize {
                normalize_row(vector.view_mut());
            }
            (
                vec![vector.len()],
                encode_vector(vector, request.encoding_format),
            )
        }
    };
    Ok(EmbeddedInput {
        index,
        ids: input.ids,
        tokens: input.tokens,
        shape,
        embedding,
    })
}

fn normalize_row(mut row: ndarray::ArrayViewMut1<'_, f32>) {
    if let Some(values) = row.as_slice_mut() {
        l2_normalize(values);
    }
}

/// Vectors as they go into the JSON body.
pub enum Encoded {
    /// One JSON array per token row.
    Rows(Array2<f32>),
    /// One JSON array.
    Vector(Array1<f32>),
    /// Base64 of little-endian f32 bytes.
    Base64(String),
}

/// Encodes a tokens x dim matrix in `format`.
pub fn encode_rows(rows: Array2<f32>, format: EncodingFormat) -> Encoded {
    match format {
        EncodingFormat::Float => Encoded::Rows(rows),
        EncodingFormat::Base64 => Encoded::Base64(base64_f32(rows.iter())),
    }
}

/// Encodes one vector in `format`.
pub fn encode_vector(vector: Array1<f32>, format: EncodingFormat) -> Encoded {
    match format {
        EncodingFormat::Float => Encoded::Vector(vector),
        EncodingFormat::Base64 => Encoded::Base64(base64_f32(vector.iter())),
    }
}

fn base64_f32<'a>(values: impl ExactSizeIterator<Item = &'a f32>) -> String {
    let mut bytes = Vec::with_capacity(values.len() * 4);
    values.for_each(|value| bytes.extend_from_slice(&value.to_le_bytes()));
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Serialize for Encoded {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Rows(rows) => {
                let mut seq = serializer.serialize_seq(Some(rows.nrows()))?;
                for row in rows.rows() {
                    seq.serialize_element(&Row(row))?;
                }
                seq.end()
            }
            Self::Vector(vector) => Row(vector.view()).serialize(serializer),
            Self::Base64(text) => serializer.serialize_str(text),
        }
    }
}

struct Row<'a>(ArrayView1<'a, f32>);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter())
    }
}
