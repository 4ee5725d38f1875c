//! Pooling and L2 normalization against values computed here in f64, on inputs where f32
//! accumulation gives another answer, and with the direction of every unit vector checked, not
//! only its length.

use embedserve::model::pooling::{Pooling, l2_normalize, pool};
use ndarray::Array2;

/// Rows whose column sums lose digits in f32: a large value, then many small ones, then its
/// negation, with values distinct in every row.
fn cancelling_rows(rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(r, c)| match r {
        0 => 3.0e7 + c as f32 * 4.0,
        r if r + 1 == rows => -(3.0e7 + c as f32 * 4.0),
        r => 0.3 + (r * cols + c) as f32 * 1.0e-3,
    })
}

/// The column means accumulated in f64 and rounded once.
fn mean_f64(rows: &Array2<f32>) -> Vec<f32> {
    (0..rows.ncols())
        .map(|c| {
            let sum: f64 = rows.column(c).iter().map(|&v| f64::from(v)).sum();
            (sum / rows.nrows() as f64) as f32
        })
        .collect()
}

#[test]
fn the_mean_is_accumulated_in_f64_and_rounded_once() {
    let rows = cancelling_rows(200, 7);
    let got = pool(rows.view(), Pooling::Mean).to_vec();
    let want = mean_f64(&rows);
    assert_eq!(got, want);
    // The input discriminates: an f32 running sum gives another answer.
    let f32_mean: Vec<f32> = (0..rows.ncols())
        .map(|c| rows.column(c).iter().sum::<f32>() / rows.nrows() as f32)
        .collect();
    assert_ne!(f32_mean, want, "f32 accumulation must differ on these rows");
}

#[test]
fn max_pooling_takes_each_columns_maximum_wherever_it_is() {
    let rows = Array2::from_shape_fn((9, 5), |(r, c)| {
        // Column c peaks at row (2c + 3) mod 9; values are all distinct and mostly negative.
        let peak = (2 * c + 3) % 9;
        if r == peak {
            10.0 + c as f32
        } else {
            -((r * 5 + c) as f32) - 0.5
        }
    });
    let got = pool(rows.view(), Pooling::Max).to_vec();
    assert_eq!(got, [10.0, 11.0, 12.0, 13.0, 14.0]);
    let single = Array2::from_shape_vec((1, 3), vec![-1.0f32, 0.0, 2.5]).unwrap();
    assert_eq!(pool(single.view(), Pooling::Max).to_vec(), [-1.0, 0.0, 2.5]);
    assert_eq!(
        pool(single.view(), Pooling::Mean).to_vec(),
        [-1.0, 0.0, 2.5]
    );
}

#[test]
fn normalization_keeps_the_direction_to_the_bit() {
    let vectors: [&[f32]; 5] = [
        &[3.0, -4.0, 12.0],
        &[
            1.0e-3, 7.0, -0.25, 0.5, 1.0e3, -3.5, 2.0, 0.0, 9.0, -1.0, 4.0, 8.0, -6.0, 5.0, 0.1,
            0.2, 0.3,
        ],
        &[2.0e38, -3.0e38, 1.0e38],
        &[3.0e-42, -4.0e-42, 1.0e-45],
        &[-5.0],
    ];
    for vector in vectors {
        let norm = vector
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt();
        let want: Vec<f32> = vector
            .iter()
            .map(|&v| (f64::from(v) / norm) as f32)
            .collect();
        let mut got = vector.to_vec();
        l2_normalize(&mut got);
        assert_eq!(got, want, "{vector:?}");
    }
    let mut zero = [0.0f32; 4];
    l2_normalize(&mut zero);
    assert_eq!(zero, [0.0; 4]);
    let mut infinite = [f32::INFINITY, 1.0];
    l2_normalize(&mut infinite);
    assert_eq!(infinite, [f32::INFINITY, 1.0], "left unchanged");
}
