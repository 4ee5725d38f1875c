//! From prepared token ids to the vectors a request asks for: the token rows, or one pooled
//! vector, cut to the requested width and L2-normalized when asked.
//!
//! `/embed` and `/v1/embeddings` both compute here, so normalization and pooling are written once.

use ndarray::{Array1, Array2, s};

use crate::model::EmbeddingModel;
use crate::model::pooling::{Pooling, pool};
use crate::vector::l2_normalize;

/// The rows of `ids` as stored, each scaled to unit length when `normalize` is set.
pub fn token_rows(model: &EmbeddingModel, ids: &[u32], normalize: bool) -> Array2<f32> {
    let mut rows = model.matrix.gather(ids);
    if normalize {
        for mut row in rows.rows_mut() {
            if let Some(values) = row.as_slice_mut() {
                l2_normalize(values);
            }
        }
    }
    rows
}

/// One vector for `ids` (at least one id): the rows pooled by `pooling`, then its first
/// `dimensions` values, then scaled to unit length when `normalize` is set (in that order, so a
/// shortened vector is a unit vector again, as OpenAI's `dimensions` promises).
pub fn pooled_vector(
    model: &EmbeddingModel,
    ids: &[u32],
    pooling: Pooling,
    dimensions: usize,
    normalize: bool,
) -> Array1<f32> {
    let rows = model.matrix.gather(ids);
    let mut vector = pool(rows.view(), pooling);
    if dimensions < vector.len() {
        vector = vector.slice_move(s![..dimensions]);
    }
    if normalize {
        if let Some(values) = vector.as_slice_mut() {
            l2_normalize(values);
        }
    }
    vector
}
