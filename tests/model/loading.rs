//! Generated model directories load, and rows come back exactly as stored.

use embedserve::model::{EmbeddingModel, StoredDtype};
use safetensors::Dtype;

use crate::common::{ModelSpec, stored, test_value, write_model_dir};

fn load(spec: &ModelSpec) -> EmbeddingModel {
    let dir = tempfile::tempdir().expect("tempdir");
    write_model_dir(dir.path(), spec);
    let model = EmbeddingModel::load(dir.path(), None, None).expect("model loads");
    // The map stays valid after the directory handle goes: the file is open and mapped.
    std::mem::forget(dir);
    model
}

#[test]
fn every_dtype_and_layout_gathers_exact_rows() {
    for (dtype, expected) in [
        (Dtype::BF16, StoredDtype::Bf16),
        (Dtype::F16, StoredDtype::F16),
        (Dtype::F32, StoredDtype::F32),
    ] {
        for sharded in [false, true] {
            let spec = ModelSpec {
                dtype,
                sharded,
                ..ModelSpec::default()
            };
            let model = load(&spec);
            assert_eq!(model.matrix.dtype(), expected);
            assert_eq!(
                (model.matrix.rows(), model.matrix.cols()),
                (spec.rows, spec.dim)
            );
            let ids = [0u32, 5, 23, 5];
            let rows = model.matrix.gather(&ids);
            for (i, &id) in ids.iter().enumerate() {
                for col in 0..spec.dim {
                    let want = stored(dtype, test_value(id as usize, col));
                    assert_eq!(
                        rows[[i, col]].to_bits(),
                        want.to_bits(),
                        "{dtype:?} sharded={sharded} row {id} col {col}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_name_defaults_to_the_directory_and_config_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model_dir = dir.path().join("Tiny-Model");
    write_model_dir(&model_dir, &ModelSpec::default());
    let model = EmbeddingModel::load(&model_dir, None, None).expect("loads");
    assert_eq!(model.name, "Tiny-Model");
    assert_eq!(model.config.model_type.as_deref(), Some("test"));
    let named = EmbeddingModel::load(&model_dir, None, Some("served-name")).expect("loads");
    assert_eq!(named.name, "served-name");
}

#[test]
fn known_tensor_names_are_discovered_and_a_configured_one_is_used() {
    for tensor in [
        "embeddings.word_embeddings.weight",
        "wte.weight",
        "gpt_neox.embed_in.weight",
        "embeddings",
        "lm_head.weight",
    ] {
        let model = load(&ModelSpec {
            tensor,
            ..ModelSpec::default()
        });
        assert_eq!(model.matrix.tensor(), tensor);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    write_model_dir(
        dir.path(),
        &ModelSpec {
            tensor: "custom.table",
            ..ModelSpec::default()
        },
    );
    let model =
        EmbeddingModel::load(dir.path(), Some("custom.table"), None).expect("configured name");
    assert_eq!(model.matrix.tensor(), "custom.table");
}

#[test]
fn padding_and_truncation_stored_in_tokenizer_json_are_ignored() {
    let model = load(&ModelSpec::default());
    let tokens = model
        .tokenizer
        .encode("the quick brown fox jumps over the lazy dog", true)
        .expect("encodes");
    assert_eq!(
        tokens.len(),
        11,
        "all nine words plus [CLS] and [SEP]: {:?}",
        tokens.tokens
    );
    assert_eq!(tokens.tokens.first().map(String::as_str), Some("[CLS]"));
    assert_eq!(
        tokens.special,
        [[true].as_slice(), &[false; 9], &[true]].concat()
    );
}
