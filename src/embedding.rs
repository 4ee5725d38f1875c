//! From prepared token ids to the vectors a request asks for: the token rows, or one pooled
//! vector, cut to the requested width and L2-normalized when asked.
//!
//! `/embed`, `/v1/embeddings` and TEI's `/embed` all compute here, so normalization and pooling are written once.
//! A static-embedding model (model2vec, sentence-transformers `StaticEmbedding`) pools with its
//! library's exact arithmetic ([`EmbeddingModel::sentence_vector_with`]) and normalizes when its
//! configuration says so; a transformer's embedding layer pools in f64 (see [`pool`]).

use ndarray::{Array1, Array2, s};

use crate::encoding::EncodingFormat;
use crate::input::{self, InputError, InputOptions, Inputs, Limits};
use crate::model::EmbeddingModel;
use crate::model::pooling::{Pooling, pool};
use crate::vector::l2_normalize;

/// The rows of `ids` (after a static model's `mapping` and `weights`), each scaled to unit
/// length when `normalize` is set.
pub fn token_rows(model: &EmbeddingModel, ids: &[u32], normalize: bool) -> Array2<f32> {
    let mut rows = model.rows(ids);
    if normalize {
        for mut row in rows.rows_mut() {
            if let Some(values) = row.as_slice_mut() {
                l2_normalize(values);
            }
        }
    }
    rows
}

/// One vector for `ids`: the rows pooled by `pooling`, then its first `dimensions` values, then
/// scaled to unit length when `normalize` is set (in that order, so a shortened vector is a unit
/// vector again, as OpenAI's `dimensions` promises).
///
/// A static model's mean is its sentence embedding, normalized when the model's configuration
/// or `normalize` asks, exactly as model2vec's `encode` computes it; cut to fewer `dimensions`,
/// it is normalized again (model2vec's PCA puts the most variance first, so a prefix is
/// meaningful). Transformer inputs need at least one id (see [`crate::input::require_tokens`]).
pub fn pooled_vector(
    model: &EmbeddingModel,
    ids: &[u32],
    pooling: Pooling,
    dimensions: usize,
    normalize: bool,
) -> Array1<f32> {
    let full_width = dimensions >= model.dimension();
    if model.kind().is_static() && pooling == Pooling::Mean {
        let normalized = normalize || model.normalize();
        let vector = model.sentence_vector_with(ids, normalized);
        return if full_width {
            vector
        } else {
            prefix(vector, dimensions, normalized)
        };
    }
    let vector = pool(model.rows(ids).view(), pooling);
    if full_width && !normalize {
        return vector;
    }
    prefix(vector, dimensions, normalize)
}

/// One sentence vector per input, as the sentence-embedding routes (`/v1/embeddings`, TEI's
/// `/embed`) answer: the inputs prepared under `limits`, each the mean of its token rows (a static
/// model's own sentence embedding) cut to `dimensions` and normalized when `normalize` is set.
#[derive(Debug)]
pub struct SentenceEmbeddings {
    /// One vector per input, in order.
    pub vectors: Vec<Array1<f32>>,
    /// Tokens in all inputs.
    pub tokens: usize,
}

impl SentenceEmbeddings {
    /// Prepares `inputs` for `model` and pools each; the error names the offending input. The
    /// response's size in `encoding` is checked against `max_response_bytes` before pooling.
    pub fn of(
        model: &EmbeddingModel,
        inputs: Inputs,
        limits: Limits,
        options: InputOptions,
        dimensions: usize,
        normalize: bool,
        encoding: EncodingFormat,
    ) -> Result<Self, InputError> {
        let prepared = input::prepare(model, inputs, limits, options)?;
        input::require_tokens(model, Pooling::Mean, &prepared, options.field)?;
        let values = prepared.len().saturating_mul(dimensions);
        input::check_response_size(encoding.max_bytes(values), limits, options.field)?;
        Ok(Self {
            tokens: prepared.iter().map(|input| input.ids.len()).sum(),
            vectors: prepared
                .iter()
                .map(|input| pooled_vector(model, &input.ids, Pooling::Mean, dimensions, normalize))
                .collect(),
        })
    }
}

/// The first `dimensions` values of `vector`, scaled to unit length when `normalize` is set.
fn prefix(vector: Array1<f32>, dimensions: usize, normalize: bool) -> Array1<f32> {
    let mut vector = if dimensions < vector.len() {
        vector.slice_move(s![..dimensions])
    } else {
        vector
    };
    if normalize {
        if let Some(values) = vector.as_slice_mut() {
            l2_normalize(values);
        }
    }
    vector
}
