//! The seeds of the `safetensors_open` and `model_config` fuzz targets (fuzz/), read and checked
//! exactly as the targets do (`fuzz/fuzz_targets/common/`): the shared invariants hold on them.

use std::path::PathBuf;

use embedserve::model::{EmbeddingMatrix, ModelConfig};

use crate::common::fuzz_inputs;

#[path = "../../fuzz/fuzz_targets/common/inputs.rs"]
mod inputs;
#[path = "../../fuzz/fuzz_targets/common/invariants.rs"]
mod invariants;

/// The seeds of fuzz target `target` with their bytes.
fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    fuzz_inputs("seeds", target)
        .into_iter()
        .map(|file| {
            let data = std::fs::read(&file).expect("a seed");
            (file, data)
        })
        .collect()
}

#[test]
fn safetensors_open_seeds_keep_the_fuzz_invariants() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut opened = 0;
    for (file, data) in seeds("safetensors_open") {
        let input = inputs::WeightsInput::parse(&data)
            .unwrap_or_else(|| panic!("{}: an empty seed", file.display()));
        let dir = scratch.path().join("model");
        input.write_to(&dir).expect("write the model directory");
        if let Ok(matrix) = EmbeddingMatrix::open(&dir, input.tensor, input.tied) {
            invariants::check_matrix(&matrix, input.tensor);
            opened += 1;
        }
    }
    assert!(opened > 0, "no seed opens: the seeds start nowhere");
}

#[test]
fn model_config_seeds_keep_the_fuzz_invariants() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let path = scratch.path().join("config.json");
    for (_, data) in seeds("model_config") {
        std::fs::write(&path, &data).expect("write config.json");
        invariants::check_config(&path, &data, &ModelConfig::load(&path));
    }
}
