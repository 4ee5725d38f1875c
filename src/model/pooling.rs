//! Turning token rows into one vector per input, and L2 normalization.

use ndarray::{Array1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

pub use crate::vector::l2_normalize;

/// How token rows become the response vectors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// One row per token, exactly as stored.
    #[default]
    None,
    /// The mean of the token rows (accumulated in f64, rounded once to f32).
    Mean,
    /// The element-wise maximum of the token rows.
    Max,
}

/// Pools `rows` (tokens x dim, at least one row) into one vector; `Pooling::None` is not a pooling.
pub fn pool(rows: ArrayView2<'_, f32>, pooling: Pooling) -> Array1<f32> {
    match pooling {
        Pooling::Mean => {
            let count = rows.nrows() as f64;
            let mut sums = Array1::<f64>::zeros(rows.ncols());
            for row in rows.axis_iter(Axis(0)) {
                sums.zip_mut_with(&row, |sum, &value| *sum += f64::from(value));
            }
            sums.mapv(|sum| (sum / count) as f32)
        }
        Pooling::Max | Pooling::None => {
            rows.fold_axis(Axis(0), f32::NEG_INFINITY, |a, &b| a.max(b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn mean_and_max_pool_columns() {
        let rows = array![[1.0f32, -2.0, 0.5], [3.0, -4.0, 0.25]];
        assert_eq!(
            pool(rows.view(), Pooling::Mean),
            array![2.0f32, -3.0, 0.375]
        );
        assert_eq!(pool(rows.view(), Pooling::Max), array![3.0f32, -2.0, 0.5]);
    }
}
