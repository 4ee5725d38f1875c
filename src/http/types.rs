//! Every request body and response body of the API, in one place (as `openapi.yaml` lists them).
//!
//! Request types parse into validated shapes at the edge: unknown fields are refused where the
//! route owns its schema, and an optional field sent as `null` is a 422 (see [`non_null`] and [`present`]).
//! Response types borrow from the loaded model or store, so answering copies no vocabulary.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use super::extract::{non_null, present};
use crate::encoding::{Encoded, EncodingFormat};
use crate::input::{Inputs, TruncationDirection};
use crate::model::pooling::Pooling;

/// One text or a batch of texts.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum Texts {
    /// A single text.
    One(String),
    /// A batch of texts.
    Many(Vec<String>),
}

impl Texts {
    /// The texts as a list.
    pub(super) fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(text) => vec![text],
            Self::Many(texts) => texts,
        }
    }
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

impl From<TokenIds> for Inputs {
    fn from(ids: TokenIds) -> Self {
        match ids {
            TokenIds::One(ids) => Self::Ids {
                batch: vec![ids],
                nested: false,
            },
            TokenIds::Many(batch) => Self::Ids {
                batch,
                nested: true,
            },
        }
    }
}

/// Token counts of a request.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Usage {
    /// Tokens in the inputs.
    pub prompt_tokens: usize,
    /// Tokens processed in all (the same: nothing is generated).
    pub total_tokens: usize,
}

impl Usage {
    /// Usage for `tokens` input tokens.
    pub(super) fn of(tokens: usize) -> Self {
        Self {
            prompt_tokens: tokens,
            total_tokens: tokens,
        }
    }
}

/// Body of `POST /tokenize`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenizeRequest {
    /// A text or a list of texts.
    pub inputs: Texts,
    /// The model to use (see [`crate::catalog::Catalog::model`]); the default without one.
    #[serde(default, deserialize_with = "non_null")]
    pub model: Option<String>,
    /// Add the model's special tokens (e.g. `[CLS]`); off, like `tokenizer.tokenize`.
    #[serde(default, deserialize_with = "present")]
    pub add_special_tokens: bool,
    /// Cut inputs longer than `max_tokens_per_input` instead of refusing them.
    #[serde(default, deserialize_with = "present")]
    pub truncate: bool,
}

/// Answer of `POST /tokenize`.
#[derive(Debug, Serialize)]
pub(super) struct TokenizeResponse<'a> {
    /// The model's name.
    pub model: &'a str,
    /// One entry per input, in order.
    pub data: Vec<TokenizedInput<'a>>,
    /// Tokens in all inputs.
    pub usage: Usage,
}

/// The tokens of one input.
#[derive(Debug, Serialize)]
pub(super) struct TokenizedInput<'a> {
    /// Position of the input in the request.
    pub index: usize,
    /// Token ids.
    pub ids: &'a [u32],
    /// Each token described.
    pub tokens: Vec<TokenInfo<'a>>,
}

/// One token of a tokenized input.
#[derive(Debug, Serialize)]
pub(super) struct TokenInfo<'a> {
    /// Token id.
    pub id: u32,
    /// Vocabulary piece, e.g. `Ġ`.
    pub token: &'a str,
    /// The slice of the input the token covers.
    pub text: &'a str,
    /// Character offset where the token starts.
    pub start: usize,
    /// Character offset where the token ends (exclusive).
    pub end: usize,
    /// Whether the post-processor added it.
    pub special: bool,
}

/// Body of `POST /embed`: exactly one of `inputs` and `input_ids`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EmbedRequest {
    /// The model to use (see [`crate::catalog::Catalog::model`]); the default without one.
    #[serde(default, deserialize_with = "non_null")]
    pub model: Option<String>,
    /// A text or a list of texts, tokenized by the model's tokenizer.
    #[serde(default, deserialize_with = "non_null")]
    pub inputs: Option<Texts>,
    /// Token ids: one list, or a list of lists.
    #[serde(default, deserialize_with = "non_null")]
    pub input_ids: Option<TokenIds>,
    /// Add the model's special tokens when tokenizing.
    #[serde(default, deserialize_with = "present")]
    pub add_special_tokens: bool,
    /// `none` (a row per token), `mean` or `max`.
    #[serde(default, deserialize_with = "present")]
    pub pooling: Pooling,
    /// Scale each returned vector to unit L2 norm.
    #[serde(default, deserialize_with = "present")]
    pub normalize: bool,
    /// `float` (JSON numbers) or `base64` (little-endian f32 bytes).
    #[serde(default, deserialize_with = "present")]
    pub encoding_format: EncodingFormat,
    /// Cut inputs longer than `max_tokens_per_input` instead of refusing them.
    #[serde(default, deserialize_with = "present")]
    pub truncate: bool,
}

/// Answer of `POST /embed`.
#[derive(Debug, Serialize)]
pub(super) struct EmbedResponse<'a> {
    /// The model's name.
    pub model: &'a str,
    /// The stored element type of the matrix.
    pub dtype: &'static str,
    /// Width of every vector.
    pub dimension: usize,
    /// The pooling applied.
    pub pooling: Pooling,
    /// How `embedding` is written.
    pub encoding_format: EncodingFormat,
    /// One entry per input, in order.
    pub data: Vec<EmbeddedInput>,
    /// Tokens in all inputs.
    pub usage: Usage,
}

/// The embedding of one input.
#[derive(Debug, Serialize)]
pub(super) struct EmbeddedInput {
    /// Position of the input in the request.
    pub index: usize,
    /// Token ids embedded.
    pub ids: Vec<u32>,
    /// Vocabulary pieces, when the input was text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<String>>,
    /// Shape of `embedding`: `[tokens, dimension]` or `[dimension]`.
    pub shape: Vec<usize>,
    /// The vectors.
    pub embedding: Encoded,
}

/// Body of `POST /v1/embeddings` (OpenAI's shape). `model` selects a model; `user` is
/// type-checked and not used; other fields are ignored, as clients send their own defaults.
#[derive(Debug, Deserialize)]
pub(super) struct EmbeddingsRequest {
    /// A string, a list of strings, a list of token ids, or a list of id lists.
    pub input: OpenAiInput,
    /// `float` or `base64` (the Python SDK asks for base64 by default).
    #[serde(default, deserialize_with = "present")]
    pub encoding_format: EncodingFormat,
    /// Keep the first N values, then normalize.
    #[serde(default, deserialize_with = "non_null")]
    pub dimensions: Option<usize>,
    /// The model to use (see [`crate::catalog::Catalog::model`]); the default without one.
    #[serde(default, deserialize_with = "non_null")]
    pub model: Option<String>,
    /// OpenAI's end-user id: must be a string, ignored.
    #[serde(default, rename = "user", deserialize_with = "non_null")]
    pub _user: Option<String>,
}

/// The forms OpenAI accepts for `input`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OpenAiInput {
    /// One text.
    Text(String),
    /// A batch of texts.
    Texts(Vec<String>),
    /// One input's token ids.
    Ids(Vec<u32>),
    /// A batch of token-id lists.
    IdBatches(Vec<Vec<u32>>),
}

impl From<OpenAiInput> for Inputs {
    fn from(input: OpenAiInput) -> Self {
        match input {
            OpenAiInput::Text(text) => Self::Texts(vec![text]),
            OpenAiInput::Texts(texts) => Self::Texts(texts),
            OpenAiInput::Ids(ids) => TokenIds::One(ids).into(),
            OpenAiInput::IdBatches(batch) => TokenIds::Many(batch).into(),
        }
    }
}

/// Answer of `POST /v1/embeddings`.
#[derive(Debug, Serialize)]
pub(super) struct EmbeddingsResponse<'a> {
    /// Always `list`.
    pub object: &'static str,
    /// One entry per input, in order.
    pub data: Vec<EmbeddingObject>,
    /// The served model's name.
    pub model: &'a str,
    /// Tokens in all inputs.
    pub usage: Usage,
}

/// One input's vector in OpenAI's shape.
#[derive(Debug, Serialize)]
pub(super) struct EmbeddingObject {
    /// Always `embedding`.
    pub object: &'static str,
    /// Position of the input in the request.
    pub index: usize,
    /// The vector.
    pub embedding: Encoded,
}

/// Answer of `GET /v1/models`.
#[derive(Debug, Serialize)]
pub(super) struct ModelList<'a> {
    /// Always `list`.
    pub object: &'static str,
    /// The served models.
    pub data: Vec<ModelObject<'a>>,
}

/// One model in OpenAI's shape.
#[derive(Debug, Serialize)]
pub(super) struct ModelObject<'a> {
    /// The model's name.
    pub id: &'a str,
    /// Always `model`.
    pub object: &'static str,
    /// Creation time; 0 (unknown).
    pub created: u64,
    /// Always `embedserve`.
    pub owned_by: &'static str,
}

/// Body of TEI's `POST /embed` (served at `POST /`, `/tei` and `/tei/embed`), with TEI's
/// fields and defaults. As in TEI, unknown fields are ignored and the optional ones may be `null`.
#[derive(Debug, Deserialize)]
pub(super) struct TeiEmbedRequest {
    /// A text or a list of texts.
    pub inputs: Texts,
    /// Cut inputs longer than `max_tokens_per_input` instead of refusing them; `null` is `false`.
    #[serde(default)]
    pub truncate: Option<bool>,
    /// Which end a cut input keeps: `right` (the first tokens, the default) or `left`.
    #[serde(default)]
    pub truncation_direction: TruncationDirection,
    /// A sentence-transformers prompt name: refused unless `null` (no prompts are configured).
    #[serde(default)]
    pub prompt_name: Option<String>,
    /// Scale each vector to unit L2 norm; TEI's default is `true`.
    #[serde(default = "tei_normalizes")]
    pub normalize: bool,
    /// Keep the first N values (then normalize).
    #[serde(default)]
    pub dimensions: Option<usize>,
}

/// TEI normalizes unless asked not to.
fn tei_normalizes() -> bool {
    true
}

/// Answer of TEI's `POST /embed`: a bare array of vectors, one per input.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(super) struct TeiEmbedResponse(pub Vec<Encoded>);

/// Body of `POST /similar`: words (as `GET` takes them) or a raw `vector`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SimilarRequest {
    /// The word2vec store to search (see [`crate::catalog::Catalog::store`]); the default
    /// without one.
    #[serde(default, deserialize_with = "non_null")]
    pub store: Option<String>,
    /// Words pulling the query towards them.
    #[serde(default, deserialize_with = "non_null")]
    pub positive: Option<Texts>,
    /// Words pushing the query away.
    #[serde(default, deserialize_with = "non_null")]
    pub negative: Option<Texts>,
    /// A raw query vector instead of words (gensim `similar_by_vector`); read as f64 so values
    /// beyond f32's range are refused as non-finite rather than as bad JSON.
    #[serde(default, deserialize_with = "non_null")]
    pub vector: Option<Vec<f64>>,
    /// Number of results; default 10.
    #[serde(default, deserialize_with = "non_null")]
    pub topn: Option<usize>,
    /// Search only the first N words of the store (the most frequent).
    #[serde(default, deserialize_with = "non_null")]
    pub restrict_vocab: Option<usize>,
    /// Scan every row instead of asking the approximate-nearest-neighbour graph of a store
    /// served from an index file (always exact without one).
    #[serde(default, deserialize_with = "non_null")]
    pub exact: Option<bool>,
}

/// Body of `POST /vectors`: the vectors of many words at once.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VectorsRequest {
    /// The words, at most `max_topn` of them; every one must be in the store.
    pub words: Vec<String>,
    /// The word2vec store to read (see [`crate::catalog::Catalog::store`]); the default without
    /// one.
    #[serde(default, deserialize_with = "non_null")]
    pub store: Option<String>,
    /// Return unit-length vectors.
    #[serde(default)]
    pub norm: bool,
}

/// The answer of every word2vec route: the store's name and one item per result.
#[derive(Debug, Serialize)]
pub(super) struct StoreAnswer<'a, T> {
    /// The store's name.
    pub model: &'a str,
    /// The results, in order.
    pub data: Vec<T>,
}

/// A neighbour and its cosine similarity (`/similar`).
#[derive(Debug, Serialize)]
pub(super) struct ScoredWord<'a> {
    /// Rank, from 0.
    pub index: usize,
    /// The neighbour.
    pub word: &'a str,
    /// Cosine similarity to the query.
    pub score: f32,
}

/// The similarity of two words (`/similarity`).
#[derive(Debug, Serialize)]
pub(super) struct WordPair<'a> {
    /// Always 0.
    pub index: usize,
    /// The first word.
    pub word1: &'a str,
    /// The second word.
    pub word2: &'a str,
    /// Their cosine similarity.
    pub score: f32,
}

/// A word's vector (`/vector`, `/vectors`).
#[derive(Debug, Serialize)]
pub(super) struct WordVector<'a> {
    /// Position of the word in the request (always 0 for `/vector`).
    pub index: usize,
    /// The word.
    pub word: &'a str,
    /// Whether the vector was scaled to unit length.
    pub norm: bool,
    /// Whether the vocabulary holds the word; `false`: a subword store built it from n-grams.
    pub in_vocabulary: bool,
    /// The vector (borrowed from the store, or built from n-grams).
    pub embedding: Cow<'a, [f32]>,
}

/// The word that fits the others least (`/doesnt_match`).
#[derive(Debug, Serialize)]
pub(super) struct OddOneOut<'a> {
    /// Always 0.
    pub index: usize,
    /// The word furthest from the mean of the others.
    pub word: &'a str,
}
