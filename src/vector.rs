//! Vector arithmetic shared by the embedding model and the word2vec store.

/// Scales `vector` to unit L2 length in place; a zero (or non-finite) vector is left unchanged.
///
/// Length and quotients are computed in f64 and rounded once: in f32, a row of huge values
/// overflows its squares and a row of subnormals loses its digits (found by fuzzing the store
/// reader), while for ordinary rows the result equals gensim's float32 `unitvec` to within an ulp.
pub fn l2_normalize(vector: &mut [f32]) {
    let norm = vector
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt();
    if norm > 0.0 && norm.is_finite() {
        vector
            .iter_mut()
            .for_each(|v| *v = (f64::from(*v) / norm) as f32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
