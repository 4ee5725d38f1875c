//! Vector arithmetic shared by the embedding model, the word2vec store and the word2vec trainer:
//! L2 normalization and the 16-lane dot product.

/// Scales `vector` to unit L2 length in place; a zero (or non-finite) vector is left unchanged.
///
/// Length and quotients are computed in f64 and rounded once: in f32, a row of huge values
/// overflows its squares and a row of subnormals loses its digits (found by fuzzing the store
/// reader), while for ordinary rows the result equals gensim's float32 `unitvec` to within an ulp.
pub fn l2_normalize(vector: &mut [f32]) {
    let norm = l2_norm(vector);
    if norm > 0.0 && norm.is_finite() {
        vector
            .iter_mut()
            .for_each(|v| *v = (f64::from(*v) / norm) as f32);
    }
}

/// Euclidean length of `vector`, summed in f64 (the length [`l2_normalize`] divides by).
pub fn l2_norm(vector: &[f32]) -> f64 {
    vector
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt()
}

/// How `a * b + c` is computed by [`dot`]: [`Separate`] everywhere, [`Fused`] (one FMA
/// instruction) only inside code compiled with the `fma` target feature, where it is fast.
pub trait MulAdd {
    /// `a * b + c`.
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
}

/// A multiplication then an addition (two roundings).
pub struct Separate;

impl MulAdd for Separate {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// A fused multiply-add (one rounding); slow unless compiled with the `fma` target feature.
pub struct Fused;

impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// Independent partial sums in [`dot`]: enough to fill the vector units' pipelines and let LLVM
/// keep them in SIMD registers (16 f32 = four SSE or two AVX registers), so that consecutive
/// additions do not wait for each other.
pub const DOT_LANES: usize = 16;

/// Where [`dot`] adds the products of the last `len % 16` elements. Float addition is not
/// associative, so the two orders round differently; each caller keeps the order its results
/// (similarity scores, trained stores) have always had, bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DotTail {
    /// Summed on their own, in order, and added after the lanes: `Σ lanes + Σ tail` (queries and
    /// evaluation).
    Apart,
    /// Accumulated into the first lanes, then the lanes summed: `Σ (lane + tail)` (training).
    InLanes,
}

/// Dot product of `a` and `b` (up to the shorter length), written so that LLVM auto-vectorizes
/// it: [`DOT_LANES`] independent accumulators over fixed-width blocks (a single running sum would
/// serialize every addition), each product added with `M`, the remainder added as `tail` says.
#[inline(always)]
pub fn dot<M: MulAdd>(a: &[f32], b: &[f32], tail: DotTail) -> f32 {
    let mut lanes = [0.0f32; DOT_LANES];
    let (a_blocks, b_blocks) = (a.chunks_exact(DOT_LANES), b.chunks_exact(DOT_LANES));
    let (a_tail, b_tail) = (a_blocks.remainder(), b_blocks.remainder());
    for (x, y) in a_blocks.zip(b_blocks) {
        for lane in 0..DOT_LANES {
            lanes[lane] = M::mul_add(x[lane], y[lane], lanes[lane]);
        }
    }
    match tail {
        DotTail::Apart => {
            let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
            lanes.iter().sum::<f32>() + tail
        }
        DotTail::InLanes => {
            for (lane, (x, y)) in a_tail.iter().zip(b_tail).enumerate() {
                lanes[lane] = M::mul_add(*x, *y, lanes[lane]);
            }
            lanes.iter().sum()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_of_every_length_up_to_three_blocks() {
        for len in 0..=48 {
            let a: Vec<f32> = (0..len).map(|i| i as f32 * 0.5 - 3.0).collect();
            let b: Vec<f32> = (0..len).map(|i| 1.0 - i as f32 * 0.25).collect();
            let exact: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(x * y)).sum();
            for tail in [DotTail::Apart, DotTail::InLanes] {
                let got = dot::<Separate>(&a, &b, tail);
                assert!((f64::from(got) - exact).abs() < 1e-3, "{len} {tail:?}");
                assert!((f64::from(dot::<Fused>(&a, &b, tail)) - exact).abs() < 1e-3);
            }
        }
    }

    #[test]
    fn the_tail_orders_round_differently() {
        // Apart, the tail 1e8 - 1e8 cancels before meeting the lanes' 16; in the lanes, it
        // swallows the ones of the first two lanes.
        let mut a = vec![1.0f32; 16];
        a.extend([1.0e8, -1.0e8]);
        let b = vec![1.0f32; 18];
        assert_eq!(dot::<Separate>(&a, &b, DotTail::Apart), 16.0);
        assert_eq!(dot::<Separate>(&a, &b, DotTail::InLanes), 14.0);
    }

    #[test]
    fn unit_length_for_ordinary_huge_and_subnormal_rows() {
        let mut v = [3.0f32, 4.0];
        l2_normalize(&mut v);
        assert_eq!(v, [0.6, 0.8]);
        for mut row in [[3.0e37f32, 4.0e37], [3.0e-42, 4.0e-42]] {
            l2_normalize(&mut row);
            let length: f64 = row
                .iter()
                .map(|&x| f64::from(x).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!((length - 1.0).abs() < 1e-6, "{row:?}");
        }
        let mut zero = [0.0f32; 3];
        l2_normalize(&mut zero);
        assert_eq!(zero, [0.0; 3]);
    }
}
