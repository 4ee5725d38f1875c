//! The per-request limits on inputs and what truncation keeps: the batch size, the tokens of
//! one input and of the whole request, the bytes of a text (checked before it is tokenized) and
//! the estimated size of the response.

use serde::Deserialize;

use super::{InputError, InputOptions};
use crate::config::Settings;
use crate::model::Tokenized;

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

/// A text's tokens as the limits see them: a count that can be cut.
pub(super) trait TokenSequence {
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

/// The part of `text` that is tokenized: all of it when it fits in `max_bytes`; otherwise, with
/// `truncate`, its longest prefix that fits and ends on a character boundary, and without it an
/// error. Tokenizing costs memory in proportion to the text, so a huge text is refused (or cut)
/// before any of that work. A cut only changes the tokens kept by truncation if the prefix holds
/// fewer than `max_tokens_per_input` tokens, which needs tokens longer than `max_bytes /
/// max_tokens_per_input` bytes on average.
pub(super) fn within_byte_limit<'a>(
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

/// Checks a batch: at least one input, at most `max`.
pub(super) fn check_batch(len: usize, max: usize, field: &str) -> Result<(), InputError> {
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
pub(super) fn check_total_tokens(
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
