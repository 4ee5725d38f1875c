//! Input preparation: the texts or token ids of a request become validated token ids.
//!
//! This is the one place for the check that every id is a row of the matrix and the rule that a
//! pooled vector needs at least one token, applying the per-request limits and truncation of
//! `limits.rs` (`max_batch_size`, `max_tokens_per_input`, `max_batch_tokens`, `max_input_bytes`,
//! `max_response_bytes`). Routes hand their inputs here and get back ids the model can gather,
//! or an [`InputError`] naming the offending field (`inputs[2]`, `input_ids[0][5]`), which the
//! HTTP layer answers with 422.

mod limits;

pub use limits::{Limits, TruncationDirection, check_response_size};

use crate::model::pooling::Pooling;
use crate::model::{EmbeddingModel, Tokenized};
use limits::{TokenSequence, check_batch, check_total_tokens, within_byte_limit};

/// A request input that cannot be served: the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    /// The offending field and index, e.g. `input_ids[1][3]`.
    pub param: String,
    /// What is wrong with it.
    pub message: String,
}

impl InputError {
    /// A problem with `param`.
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            param: param.into(),
            message: message.into(),
        }
    }
}

/// What a request asks of the preparation.
#[derive(Debug, Clone, Copy)]
pub struct InputOptions {
    /// Add the model's special tokens when tokenizing.
    pub add_special_tokens: bool,
    /// Cut inputs longer than `max_tokens_per_input` instead of refusing them.
    pub truncate: bool,
    /// Which end a cut input keeps.
    pub truncation_direction: TruncationDirection,
    /// The request field holding the inputs, for error messages (`inputs`, `input_ids`, `input`).
    pub field: &'static str,
    /// Keep each text's vocabulary pieces; without them, texts take the tokenizer's faster
    /// ids-only path (the ids are the same).
    pub with_tokens: bool,
}

/// A request's inputs before preparation.
#[derive(Debug, Clone)]
pub enum Inputs {
    /// Texts, tokenized by the model's tokenizer.
    Texts(Vec<String>),
    /// Token ids per input; `nested` when the request sent a list of lists, so error fields
    /// read `input_ids[1][3]` rather than `input_ids[3]`.
    Ids {
        /// One id list per input.
        batch: Vec<Vec<u32>>,
        /// Whether the request nested the lists.
        nested: bool,
    },
}

/// One input ready to embed: its ids and, when it came as text, its tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedInput {
    /// Token ids, all rows of the model's matrix.
    pub ids: Vec<u32>,
    /// Vocabulary pieces, when the input was text.
    pub tokens: Option<Vec<String>>,
}

/// Validates `inputs` against `limits` and turns them into token ids for `model`.
pub fn prepare(
    model: &EmbeddingModel,
    inputs: Inputs,
    limits: Limits,
    options: InputOptions,
) -> Result<Vec<PreparedInput>, InputError> {
    match inputs {
        Inputs::Texts(texts) if options.with_tokens => {
            Ok(tokenize(model, &texts, limits, options)?
                .into_iter()
                .map(|tokenized| PreparedInput {
                    ids: tokenized.ids,
                    tokens: Some(tokenized.tokens),
                })
                .collect())
        }
        Inputs::Texts(texts) => {
            let encode = |text: &str| model.token_ids(text, options.add_special_tokens);
            Ok(tokenize_each(&texts, limits, options, encode)?
                .into_iter()
                .map(|ids| PreparedInput { ids, tokens: None })
                .collect())
        }
        Inputs::Ids { batch, nested } => {
            check_ids(batch, nested, model.token_id_limit(), limits, options)
        }
    }
}

/// Tokenizes every text, enforcing the batch size, the per-input token limit (or truncating to
/// it) and the per-request token limit.
pub fn tokenize(
    model: &EmbeddingModel,
    texts: &[String],
    limits: Limits,
    options: InputOptions,
) -> Result<Vec<Tokenized>, InputError> {
    let encode = |text: &str| model.tokenize(text, options.add_special_tokens);
    tokenize_each(texts, limits, options, encode)
}

/// [`tokenize`] with the encoding of one text given: full tokens or ids alone.
fn tokenize_each<T: TokenSequence>(
    texts: &[String],
    limits: Limits,
    options: InputOptions,
    encode: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, InputError> {
    check_batch(texts.len(), limits.max_batch, options.field)?;
    let tokenized = texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let param = format!("{}[{index}]", options.field);
            let text = within_byte_limit(text, limits.max_text_bytes, options, &param)?;
            let mut tokens =
                encode(text).map_err(|e| InputError::new(&param, format!("cannot tokenize: {e}")))?;
            if tokens.count() > limits.max_tokens {
                if !options.truncate {
                    return Err(InputError::new(
                        &param,
                        format!(
                            "{param} has {} tokens; the limit is {} (max_tokens_per_input; set \"truncate\": true to cut)",
                            tokens.count(),
                            limits.max_tokens
                        ),
                    ));
                }
                tokens.cut(limits.max_tokens, options.truncation_direction);
            }
            Ok(tokens)
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_total_tokens(tokenized.iter().map(T::count), limits, options.field)?;
    Ok(tokenized)
}

/// Checks raw token ids: batch size, length limit, and every id below `id_limit` (the matrix's
/// rows, or the vocabulary of a static model whose `mapping` shares rows between tokens).
fn check_ids(
    batch: Vec<Vec<u32>>,
    nested: bool,
    id_limit: usize,
    limits: Limits,
    options: InputOptions,
) -> Result<Vec<PreparedInput>, InputError> {
    let field = options.field;
    check_batch(batch.len(), limits.max_batch, field)?;
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
                return Err(InputError::new(
                    param(None),
                    format!("{} must not be empty", param(None)),
                ));
            }
            if ids.len() > limits.max_tokens {
                if !options.truncate {
                    return Err(InputError::new(
                        param(None),
                        format!(
                            "{} has {} ids; the limit is {} (max_tokens_per_input)",
                            param(None),
                            ids.len(),
                            limits.max_tokens
                        ),
                    ));
                }
                ids.cut(limits.max_tokens, options.truncation_direction);
            }
            if let Some((j, id)) = ids
                .iter()
                .enumerate()
                .find(|(_, id)| **id as usize >= id_limit)
            {
                return Err(InputError::new(
                    param(Some(j)),
                    format!("token id {id} is outside the model's vocabulary (ids 0..{id_limit})"),
                ));
            }
            Ok(PreparedInput { ids, tokens: None })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_total_tokens(prepared.iter().map(|input| input.ids.len()), limits, field)?;
    Ok(prepared)
}

/// The rule for pooled vectors: every input needs at least one token, since a mean or maximum
/// of nothing is no vector. `field` names the inputs in the error (`inputs[3] has no tokens to
/// pool`). Rows (`Pooling::None`) need no token, and a static-embedding model's mean answers the
/// zero vector, as model2vec's `encode` does for a text whose every token is unknown.
pub fn require_tokens(
    model: &EmbeddingModel,
    pooling: Pooling,
    inputs: &[PreparedInput],
    field: &str,
) -> Result<(), InputError> {
    if pooling == Pooling::None || (pooling == Pooling::Mean && model.kind().is_static()) {
        return Ok(());
    }
    match inputs.iter().position(|input| input.ids.is_empty()) {
        Some(index) => Err(InputError::new(
            format!("{field}[{index}]"),
            format!("{field}[{index}] has no tokens to pool"),
        )),
        None => Ok(()),
    }
}

/// Checks a requested output width (`dimensions`): between 1 and the model's `available`;
/// none asks for all of them.
pub fn check_dimensions(requested: Option<usize>, available: usize) -> Result<usize, InputError> {
    match requested {
        None => Ok(available),
        Some(n) if (1..=available).contains(&n) => Ok(n),
        Some(n) => Err(InputError::new(
            "dimensions",
            format!("dimensions must be between 1 and {available}, got {n}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(ids: &[u32]) -> PreparedInput {
        PreparedInput {
            ids: ids.to_vec(),
            tokens: None,
        }
    }

    #[test]
    fn ids_are_checked_against_the_rows_with_their_position() {
        let limits = Limits {
            max_batch: 4,
            max_tokens: 3,
            max_total_tokens: 100,
            max_text_bytes: 100,
            max_response_bytes: 1000,
        };
        let options = InputOptions {
            add_special_tokens: false,
            truncate: false,
            truncation_direction: TruncationDirection::Right,
            field: "input_ids",
            with_tokens: false,
        };
        let error = check_ids(vec![vec![1], vec![2, 10]], true, 10, limits, options)
            .expect_err("id 10 is past the rows");
        assert_eq!(error.param, "input_ids[1][1]");
        let error =
            check_ids(vec![vec![1, 2, 3, 4]], false, 10, limits, options).expect_err("too long");
        assert_eq!(error.param, "input_ids");
        let truncating = InputOptions {
            truncate: true,
            ..options
        };
        let prepared =
            check_ids(vec![vec![1, 2, 3, 4]], false, 10, limits, truncating).expect("truncated");
        assert_eq!(prepared, vec![self::prepared(&[1, 2, 3])]);
        let from_the_left = InputOptions {
            truncation_direction: TruncationDirection::Left,
            ..truncating
        };
        let prepared =
            check_ids(vec![vec![1, 2, 3, 4]], false, 10, limits, from_the_left).expect("cut");
        assert_eq!(prepared, vec![self::prepared(&[2, 3, 4])]);
    }
}
