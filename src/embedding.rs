//! From prepared token ids to the vectors a request asks for: the token rows, or one pooled
//! vector, cut to the requested width and L2-normalized when asked.
//!
//! `/embed` and `/v1/embeddings` both compute here, so normalization and pooling are written once.
//! A static-embedding model (model2vec, sentence-transformers `StaticEmbedding`) pools with its
//! library's exact arithmetic ([`EmbeddingModel::sentence_vector_with`]) and normalizes when its
//! configuration says so; a transformer's embedding layer pools in f64 (see [`pool`]).

use ndarray::{Array1, Array2, s};

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
