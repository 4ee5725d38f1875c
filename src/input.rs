//! Input preparation: the texts or token ids of a request become validated token ids.
//!
//! This is the one place for the per-request limits (`max_batch_size`, `max_tokens_per_input`,
//! `max_batch_tokens`), truncation, the check that every id is a row of the matrix, and the rule
//! that a pooled vector needs at least one token. Routes hand their inputs here and get back ids
//! the model can gather, or an [`InputError`] naming the offending field (`inputs[2]`,
//! `input_ids[0][5]`), which the HTTP layer answers with 422.

use serde::Deserialize;

use crate::config::Settings;
use crate::model::pooling::Pooling;
use crate::model::{EmbeddingModel, Tokenized};

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

/// The server's limits on one request's inputs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `max_batch_size`: inputs in one request.
    pub max_batch: usize,
    /// `max_tokens_per_input`: tokens in one input.
    pub max_tokens: usize,
    /// `max_batch_tokens`: tokens in all inputs of one request.
    pub max_total_tokens: usize,
    /// `max_input_bytes`: bytes of one text, checked before it is tokenized.
    pub max_text_bytes: usize,
    /// `max_response_bytes`: the estimated size of one response.
    pub max_response_bytes: usize,
}

impl Limits {
    /// The limits the settings configure.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            max_batch: settings.max_batch_size,
            max_tokens: settings.max_tokens_per_input,
            max_total_tokens: settings.max_batch_tokens,
            max_text_bytes: settings.max_input_bytes,
            max_response_bytes: settings.max_response_bytes,
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

/// Which tokens truncation removes (TEI's `truncation_direction`): `Right` keeps the first
/// `max_tokens_per_input` tokens, `Left` the last. TEI spells them `Right`/`right`, `Left`/`left`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum TruncationDirection {
    /// Cut the end: keep the first tokens.
    #[default]
    #[serde(alias = "right")]
    Right,
    /// Cut the start: keep the last tokens.
    #[serde(alias = "left")]
    Left,
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

/// A text's tokens as the limits see them: a count that can be cut.
trait TokenSequence {
    fn count(&self) -> usize;
    fn keep_first(&mut self, max: usize);
    fn keep_last(&mut self, max: usize);

    /// Cuts the sequence to `max` tokens from the end `direction` says.
    fn cut(&mut self, max: usize, direction: TruncationDirection) {
        match direction {
            TruncationDirection::Right => self.keep_first(max),
            TruncationDirection::Left => self.keep_last(max),
        }
    }
}

impl TokenSequence for Tokenized {
    fn count(&self) -> usize {
        self.len()
    }

    fn keep_first(&mut self, max: usize) {
        self.truncate(max);
    }

    fn keep_last(&mut self, max: usize) {
        let cut = self.len().saturating_sub(max);
        self.ids.drain(..cut);
        self.tokens.drain(..cut);
        self.offsets.drain(..cut);
        self.special.drain(..cut);
    }
}

impl TokenSequence for Vec<u32> {
    fn count(&self) -> usize {
        self.len()
    }

    fn keep_first(&mut self, max: usize) {
        self.truncate(max);
    }

    fn keep_last(&mut self, max: usize) {
        self.drain(..self.len().saturating_sub(max));
    }
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

/// The part of `text` that is tokenized: all of it when it fits in `max_bytes`; otherwise, with
/// `truncate`, its longest prefix that fits and ends on a character boundary, and without it an
/// error. Tokenizing costs memory in proportion to the text, so a huge text is refused (or cut)
/// before any of that work. A cut only changes the tokens kept by truncation if the prefix holds
/// fewer than `max_tokens_per_input` tokens, which needs tokens longer than `max_bytes /
/// max_tokens_per_input` bytes on average.
fn within_byte_limit<'a>(
    text: &'a str,
    max_bytes: usize,
    options: InputOptions,
    param: &str,
) -> Result<&'a str, InputError> {
    if text.len() <= max_bytes {
        return Ok(text);
    }
    if !options.truncate {
        return Err(InputError::new(
            param,
            format!(
                "{param} has {} bytes; the limit is {max_bytes} (max_input_bytes; set \"truncate\": true to cut)",
                text.len()
            ),
        ));
    }
    // Truncation from the left keeps the end: the longest suffix that fits.
    if options.truncation_direction == TruncationDirection::Left {
        let start = (text.len() - max_bytes..=text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        return Ok(&text[start..]);
    }
    // A character is at most four bytes: the boundary is at most three bytes back.
    let cut = (0..=max_bytes)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    Ok(&text[..cut])
}

/// Refuses a request whose response would exceed `max_response_bytes`, from its worst-case size
/// (`estimated_bytes`, computed from the shape before any row is gathered).
pub fn check_response_size(
    estimated_bytes: usize,
    limits: Limits,
    field: &str,
) -> Result<(), InputError> {
    if estimated_bytes > limits.max_response_bytes {
        return Err(InputError::new(
            field,
            format!(
                "the response would take up to {estimated_bytes} bytes; the limit is {} (max_response_bytes): ask for fewer tokens, pooled vectors or a base64 encoding",
                limits.max_response_bytes
            ),
        ));
    }
    Ok(())
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

/// Checks a batch: at least one input, at most `max`.
fn check_batch(len: usize, max: usize, field: &str) -> Result<(), InputError> {
    if len == 0 {
        return Err(InputError::new(field, format!("{field} must not be empty")));
    }
    if len > max {
        return Err(InputError::new(
            field,
            format!("{field} has {len} items; the limit is {max} (max_batch_size)"),
        ));
    }
    Ok(())
}

/// Checks that a request's inputs hold at most `max_batch_tokens` tokens in all.
fn check_total_tokens(
    lengths: impl Iterator<Item = usize>,
    limits: Limits,
    field: &str,
) -> Result<(), InputError> {
    let total: usize = lengths.sum();
    if total > limits.max_total_tokens {
        return Err(InputError::new(
            field,
            format!(
                "the request has {total} tokens in all; the limit is {} (max_batch_tokens)",
                limits.max_total_tokens
            ),
        ));
    }
    Ok(())
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
    fn batch_and_total_limits() {
        let limits = Limits {
            max_batch: 2,
            max_tokens: 4,
            max_total_tokens: 5,
            max_text_bytes: 100,
            max_response_bytes: 1000,
        };
        assert_eq!(
            check_batch(0, 2, "inputs").expect_err("empty").param,
            "inputs"
        );
        assert!(check_batch(3, 2, "inputs").is_err());
        assert!(check_batch(2, 2, "inputs").is_ok());
        assert!(check_total_tokens([3, 2].into_iter(), limits, "inputs").is_ok());
        let error = check_total_tokens([3, 3].into_iter(), limits, "inputs").expect_err("over");
        assert!(error.message.contains("6 tokens in all"), "{error}");
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

    #[test]
    fn a_text_over_the_byte_limit_is_refused_or_cut_at_a_character_boundary() {
        // "你" is three bytes: a cut at 4 bytes must fall back to the boundary at 3.
        let text = "你好a";
        let refuse = InputOptions {
            add_special_tokens: false,
            truncate: false,
            truncation_direction: TruncationDirection::Right,
            field: "inputs",
            with_tokens: false,
        };
        let right = InputOptions {
            truncate: true,
            ..refuse
        };
        let left = InputOptions {
            truncation_direction: TruncationDirection::Left,
            ..right
        };
        assert_eq!(within_byte_limit(text, 7, refuse, "inputs[0]"), Ok(text));
        let error = within_byte_limit(text, 4, refuse, "inputs[0]").expect_err("over");
        assert_eq!(error.param, "inputs[0]");
        assert!(error.message.contains("7 bytes"), "{error}");
        assert_eq!(within_byte_limit(text, 4, right, "inputs[0]"), Ok("你"));
        assert_eq!(within_byte_limit(text, 2, right, "inputs[0]"), Ok(""));
        assert_eq!(within_byte_limit(text, 4, left, "inputs[0]"), Ok("好a"));
        assert_eq!(within_byte_limit(text, 2, left, "inputs[0]"), Ok("a"));
    }

    #[test]
    fn the_response_size_is_checked_against_its_limit() {
        let limits = Limits {
            max_batch: 1,
            max_tokens: 1,
            max_total_tokens: 1,
            max_text_bytes: 1,
            max_response_bytes: 1000,
        };
        assert!(check_response_size(1000, limits, "inputs").is_ok());
        let error = check_response_size(1001, limits, "inputs").expect_err("over");
        assert!(error.message.contains("max_response_bytes"), "{error}");
    }
}
