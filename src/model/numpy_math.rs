//! The float arithmetic of model2vec 0.10.0's `encode`, reproduced operation by operation.
//!
//! model2vec does its arithmetic with numpy (2.x, NEP 50 promotion), so the exact result depends on
//! the numpy dtype of every intermediate. The rules, from `model2vec/model.py` (0.10.0) and
//! `numpy/_core/_methods.py::_mean`:
//!
//! * **Product** (`_encode_helper`, model.py:446-455): a token's row is
//!   `embedding[mapping[id]] * weights[id]`, computed in the promoted dtype of the two arrays
//!   (`int8 x float64 -> float64`, `float16 x float32 -> float32`, ...); without `weights` the row
//!   stays in the embedding's dtype.
//! * **Mean** (model.py:465-477, `.mean(axis=1)` / `.mean(axis=0)`): numpy reduces over the token
//!   axis, which is not the contiguous one, so each column is a plain left-to-right running sum (no
//!   pairwise summation; checked against numpy). The accumulator is float64 for integer rows,
//!   float32 for float16 and float32 rows, float64 for float64 rows. The sum is then divided by the
//!   token count, an `np.intp`, which promotes the division to float64, and stored back: float16
//!   rows thus round float64 -> float32 -> float16.
//! * **Output dtype** (model.py:460-463): the embedding's dtype, except int8, which gives float32.
//!   The mean is cast to it (`out[i] = ...`).
//! * **Normalization** (model.py:479-482): `out32 = out.astype(float32)`;
//!   `norm = np.linalg.norm(out32, axis=1) + 1e-32`, where the norm is
//!   `sqrt(add.reduce(x * x))` in float32 with numpy's pairwise summation along the row, started
//!   from 0, and `1e-32` is rounded to float32 (a weak Python scalar); `out32 / norm` in float32,
//!   cast back to the output dtype.
//!
//! bfloat16 matrices have no numpy dtype (model2vec cannot load them); embedserve computes them as
//! the exactly widened float32 matrix.

use half::f16;

/// A numpy dtype that takes part in the computation, ordered so that `max` is numpy's promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum NpType {
    /// `int8` (only as the embedding's dtype).
    I8,
    /// `float16`.
    F16,
    /// `float32`.
    F32,
    /// `float64` (model2vec stores `weights` as float64).
    F64,
}

/// The dtypes of one model's computation: derived once at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Arithmetic {
    /// The dtype of a token's contribution (embedding promoted with weights).
    product: NpType,
    /// The dtype `encode` returns.
    output: NpType,
    /// Whether per-token weights multiply the rows.
    weighted: bool,
}

impl Arithmetic {
    /// The arithmetic for an embedding of dtype `embedding` and optional weights of dtype `weights`.
    pub(super) fn new(embedding: NpType, weights: Option<NpType>) -> Self {
        Self {
            product: weights.map_or(embedding, |w| w.max(embedding)),
            output: if embedding == NpType::I8 {
                NpType::F32
            } else {
                embedding
            },
            weighted: weights.is_some(),
        }
    }

    /// One element of a token's row: stored value `value` times the token's `weight`, rounded
    /// as numpy rounds it. Every value of every dtype here is exact in f64.
    pub(super) fn product(self, value: f32, weight: f64) -> f64 {
        if !self.weighted {
            return f64::from(value);
        }
        match self.product {
            // A float16 product is computed in float32 (exact for two halves) and rounded once.
            NpType::F16 => f64::from(f16::from_f32(value * weight as f32)),
            NpType::F32 => f64::from(value * weight as f32),
            NpType::I8 | NpType::F64 => f64::from(value) * weight,
        }
    }

    /// Whether the column sums are plain float32 running sums of the stored values: no weights,
    /// and a float16 or float32 embedding (the common case, which has a tight loop).
    pub(super) fn sums_stored_f32(self) -> bool {
        !self.weighted && matches!(self.product, NpType::F16 | NpType::F32)
    }

    /// Adds `value` (a product) to the running column sum `sum`, in the accumulator's precision.
    pub(super) fn accumulate(self, sum: f64, value: f64) -> f64 {
        match self.product {
            // float32 accumulation: both operands are exact float32 values held in f64.
            NpType::F16 | NpType::F32 => f64::from(sum as f32 + value as f32),
            NpType::I8 | NpType::F64 => sum + value,
        }
    }

    /// The mean of a column from its sum over `count` tokens, in the output dtype (as f32, exact).
    pub(super) fn mean(self, sum: f64, count: usize) -> f32 {
        // The count is an np.intp, so numpy divides in float64 whatever the accumulator.
        let quotient = sum / count as f64;
        let in_product_dtype = match self.product {
            NpType::F16 => f64::from(f16::from_f32(quotient as f32)),
            NpType::F32 => f64::from(quotient as f32),
            NpType::I8 | NpType::F64 => quotient,
        };
        self.to_output(in_product_dtype)
    }

    /// Rounds `value` to the output dtype, returned as the (exactly equal) f32.
    fn to_output(self, value: f64) -> f32 {
        match self.output {
            NpType::F16 => f16::from_f64(value).to_f32(),
            _ => value as f32,
        }
    }

    /// L2-normalizes `vector` (already in the output dtype) exactly as model.py:479-482 does.
    pub(super) fn normalize(self, vector: &mut [f32]) {
        let squares: Vec<f32> = vector.iter().map(|x| x * x).collect();
        // add.reduce starts from the identity 0 and adds the pairwise sum of the row.
        let norm = (0.0f32 + pairwise_sum(&squares)).sqrt() + 1e-32f32;
        for value in vector.iter_mut() {
            *value = self.to_output(f64::from(*value / norm));
        }
    }
}

/// numpy's `FLOAT_pairwise_sum` (`loops_utils.h.src`): blocks of up to 128 summed with eight
/// running partial sums, larger arrays split in halves at a multiple of eight.
fn pairwise_sum(values: &[f32]) -> f32 {
    let n = values.len();
    if n < 8 {
        values.iter().fold(0.0f32, |sum, &value| sum + value)
    } else if n <= 128 {
        let mut partial = [0.0f32; 8];
        partial.copy_from_slice(&values[..8]);
        let whole = n - n % 8;
        for block in values[8..whole].chunks_exact(8) {
            for (sum, &value) in partial.iter_mut().zip(block) {
                *sum += value;
            }
        }
        let [r0, r1, r2, r3, r4, r5, r6, r7] = partial;
        let head = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
        values[whole..].iter().fold(head, |sum, &value| sum + value)
    } else {
        let half = n / 2;
        let half = half - half % 8;
        pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_follows_numpy() {
        let f16_f64 = Arithmetic::new(NpType::F16, Some(NpType::F64));
        assert_eq!(
            (f16_f64.product, f16_f64.output),
            (NpType::F64, NpType::F16)
        );
        let int8 = Arithmetic::new(NpType::I8, None);
        assert_eq!((int8.product, int8.output), (NpType::I8, NpType::F32));
        let int8_f32 = Arithmetic::new(NpType::I8, Some(NpType::F32));
        assert_eq!(int8_f32.product, NpType::F32);
    }

    #[test]
    fn pairwise_sum_differs_from_a_running_sum_where_numpy_does() {
        // 1 + 2^-24 * 15 ones: a running sum loses every small term, eight partials keep some.
        let mut values = vec![1.0f32];
        values.extend(std::iter::repeat_n(f32::EPSILON / 2.0, 15));
        let running: f32 = values.iter().sum();
        assert_eq!(running, 1.0);
        assert!(pairwise_sum(&values) > 1.0);
        assert_eq!(pairwise_sum(&[1.0, 2.0, 3.0]), 6.0);
    }

    #[test]
    fn float16_means_round_three_times() {
        let arithmetic = Arithmetic::new(NpType::F16, None);
        let mean = arithmetic.mean(1.0 + f64::from(f16::EPSILON.to_f32()) / 2.0, 1);
        assert_eq!(
            mean,
            f16::from_f32(1.0 + f16::EPSILON.to_f32() / 2.0).to_f32()
        );
        let mut zero = [0.0f32, 0.0];
        arithmetic.normalize(&mut zero);
        assert_eq!(zero, [0.0, 0.0]);
    }
}
