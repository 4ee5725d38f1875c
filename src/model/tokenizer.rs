//! The model's `tokenizer.json`, with offsets in characters as Python's `tokenizers` reports them.

use std::path::Path;

use tokenizers::Tokenizer;

use super::LoadError;

/// A Hugging Face tokenizer loaded from `tokenizer.json`, with padding and truncation disabled.
pub struct TextTokenizer {
    inner: Tokenizer,
}

/// One input split into tokens.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tokenized {
    /// Token ids.
    pub ids: Vec<u32>,
    /// Vocabulary pieces, e.g. `Ġ` for a byte-level space.
    pub tokens: Vec<String>,
    /// Character offsets `[start, end)` into the input of each token.
    pub offsets: Vec<(usize, usize)>,
    /// Whether each token is a special token added by the post-processor.
    pub special: Vec<bool>,
}

impl Tokenized {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the input produced no token.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Keeps the first `max` tokens.
    pub fn truncate(&mut self, max: usize) {
        self.ids.truncate(max);
        self.tokens.truncate(max);
        self.offsets.truncate(max);
        self.special.truncate(max);
    }

    /// Keeps the tokens whose id satisfies `keep`, in order.
    pub fn retain_ids(&mut self, keep: impl Fn(u32) -> bool) {
        let all = std::mem::take(self);
        let tokens = all
            .ids
            .into_iter()
            .zip(all.tokens)
            .zip(all.offsets)
            .zip(all.special);
        for (((id, token), offset), special) in tokens.filter(|(((id, _), _), _)| keep(*id)) {
            self.ids.push(id);
            self.tokens.push(token);
            self.offsets.push(offset);
            self.special.push(special);
        }
    }
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer")
            .field("vocab_size", &self.vocab_size())
            .finish()
    }
}

impl TextTokenizer {
    /// Loads `tokenizer.json`; padding and truncation stored in the file are switched off so
    /// each input is encoded exactly as written.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        if !path.is_file() {
            return Err(LoadError::new(
                path,
                "missing: a model directory needs tokenizer.json",
            ));
        }
        let mut inner = Tokenizer::from_file(path)
            .map_err(|e| LoadError::new(path, format!("not a valid tokenizer: {e}")))?;
        inner
            .with_padding(None)
            .with_truncation(None)
            .map_err(|e| LoadError::new(path, format!("cannot disable truncation: {e}")))?;
        Ok(Self { inner })
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// One past the largest token id (added tokens included): the ids a lookup table must cover.
    pub fn id_limit(&self) -> usize {
        self.inner
            .get_vocab(true)
            .values()
            .max()
            .map_or(0, |&id| id as usize + 1)
    }

    /// The id of the model's unknown token, found as model2vec 0.10.0 finds it
    /// (`_get_unk_token_id`, model.py:623-633): the model's `unk_token` (WordPiece, BPE, WordLevel;
    /// none if it is null or not in the vocabulary), else Unigram's `unk_id`.
    pub fn unknown_token_id(&self) -> Option<u32> {
        let model = serde_json::to_value(self.inner.get_model()).ok()?;
        match model.get("unk_token") {
            Some(token) => token.as_str().and_then(|t| self.inner.token_to_id(t)),
            None => model
                .get("unk_id")
                .and_then(serde_json::Value::as_u64)
                .and_then(|id| u32::try_from(id).ok()),
        }
    }

    /// The median length in characters of the vocabulary's tokens, rounded down, as model2vec
    /// computes it (`int(np.median(...))`, model.py:86); 0 for an empty vocabulary.
    pub fn median_token_length(&self) -> usize {
        let mut lengths: Vec<usize> = self
            .inner
            .get_vocab(true)
            .keys()
            .map(|token| token.chars().count())
            .collect();
        lengths.sort_unstable();
        let n = lengths.len();
        match n {
            0 => 0,
            // np.median averages the two middle values of an even count; int() floors.
            _ if n % 2 == 0 => (lengths[n / 2 - 1] + lengths[n / 2]) / 2,
            _ => lengths[n / 2],
        }
    }

    /// Tokenizes `text`, optionally adding the model's special tokens.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Tokenized, String> {
        let encoding = self
            .inner
            .encode_char_offsets(text, add_special_tokens)
            .map_err(|e| e.to_string())?;
        Ok(Tokenized {
            ids: encoding.get_ids().to_vec(),
            tokens: encoding.get_tokens().to_vec(),
            offsets: encoding.get_offsets().to_vec(),
            special: encoding
                .get_special_tokens_mask()
                .iter()
                .map(|&m| m == 1)
                .collect(),
        })
    }

    /// Only the token ids of `text`: the tokenizer's fast path, which tracks no offsets, for
    /// routes that answer with vectors alone (the ids equal [`Self::encode`]'s).
    pub fn encode_ids(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, String> {
        let encoding = self
            .inner
            .encode_fast(text, add_special_tokens)
            .map_err(|e| e.to_string())?;
        Ok(encoding.get_ids().to_vec())
    }
}

/// Maps character offsets of one text to byte offsets, to cut out the text a token covers.
pub struct CharIndex<'a> {
    text: &'a str,
    byte_of_char: Vec<usize>,
}

impl<'a> CharIndex<'a> {
    /// Indexes `text` once (linear), so every token's slice is then O(1).
    pub fn new(text: &'a str) -> Self {
        let mut byte_of_char: Vec<usize> = text.char_indices().map(|(byte, _)| byte).collect();
        byte_of_char.push(text.len());
        Self { text, byte_of_char }
    }

    /// The text between character offsets `start` and `end` (empty if out of range).
    pub fn slice(&self, start: usize, end: usize) -> &'a str {
        let byte = |char_offset: usize| self.byte_of_char.get(char_offset).copied();
        match (byte(start), byte(end)) {
            (Some(from), Some(to)) if from <= to => &self.text[from..to],
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_offsets_cut_multibyte_text() {
        let index = CharIndex::new("Hi, 你好~");
        assert_eq!(index.slice(3, 4), " ");
        assert_eq!(index.slice(4, 6), "你好");
        assert_eq!(index.slice(6, 7), "~");
        assert_eq!(index.slice(0, 0), "");
        assert_eq!(index.slice(6, 99), "");
    }
}
