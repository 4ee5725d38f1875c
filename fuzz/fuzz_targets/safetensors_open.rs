//! `EmbeddingMatrix::open` on arbitrary bytes: the safetensors header, the sharded index and the
//! choice of the embedding tensor must never panic, and an accepted matrix must lie inside its
//! file. Input layout: see `common/inputs.rs` (`WeightsInput`).
#![no_main]

#[path = "common/mod.rs"]
mod common;
#[path = "common/inputs.rs"]
mod inputs;

use embedserve::model::EmbeddingMatrix;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = inputs::WeightsInput::parse(data) else {
        return;
    };
    let dir = common::scratch_dir().join("model");
    input.write_to(&dir).expect("write the model directory");
    let Ok(matrix) = EmbeddingMatrix::open(&dir, input.tensor, input.tied) else {
        return;
    };
    let (rows, cols) = (matrix.rows(), matrix.cols());
    assert!(
        rows > 0 && cols > 0,
        "accepted an empty matrix {rows} x {cols}"
    );
    if let Some(wanted) = input.tensor {
        assert_eq!(
            matrix.tensor(),
            wanted,
            "ignored the configured tensor name"
        );
    }
    let file_len = std::fs::metadata(matrix.file())
        .expect("the mapped file")
        .len();
    let matrix_bytes = (rows as u64) * (cols as u64) * (matrix.dtype().size() as u64);
    assert!(
        matrix_bytes <= file_len,
        "a {rows} x {cols} matrix cannot fit in {file_len} bytes"
    );
    // Reading the first and the last row touches both ends of the data: out of bounds panics.
    let mut out = vec![0.0f32; cols];
    matrix.row_into(0, &mut out);
    matrix.row_into(rows - 1, &mut out);
    let last = u32::try_from(rows - 1).unwrap_or(u32::MAX);
    assert_eq!(matrix.gather(&[0, last]).shape(), [2, cols]);
});
