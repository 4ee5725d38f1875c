//! `EmbeddingMatrix::open` on arbitrary bytes: the safetensors header, the sharded index and the
//! choice of the embedding tensor must never panic, and an accepted matrix must lie inside its
//! file. Input layout: see `common/inputs.rs` (`WeightsInput`); the checks: `common/invariants.rs`.
#![no_main]

#[path = "common/mod.rs"]
mod common;
#[path = "common/inputs.rs"]
mod inputs;
#[path = "common/invariants.rs"]
mod invariants;

use embedserve::model::EmbeddingMatrix;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = inputs::WeightsInput::parse(data) else {
        return;
    };
    let dir = common::scratch_dir().join("model");
    input.write_to(&dir).expect("write the model directory");
    if let Ok(matrix) = EmbeddingMatrix::open(&dir, input.tensor, input.tied) {
        invariants::check_matrix(&matrix, input.tensor);
    }
});
