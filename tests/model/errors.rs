//! A broken model directory is refused with one message naming the file and the problem.

use std::path::Path;

use embedserve::model::EmbeddingModel;
use safetensors::Dtype;

use crate::common::{ModelSpec, write_model_dir, write_safetensors};

/// Writes a valid directory, lets `break_it` damage it, and returns the load error's message.
fn load_error(spec: &ModelSpec, break_it: impl FnOnce(&Path)) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    write_model_dir(dir.path(), spec);
    break_it(dir.path());
    match EmbeddingModel::load(dir.path(), None, None) {
        Ok(_) => panic!("a broken directory loaded"),
        Err(e) => e.to_string(),
    }
}

fn assert_names(message: &str, file: &str, problem: &str) {
    assert!(
        message.contains(file) && message.contains(problem),
        "expected {file:?} and {problem:?} in: {message}"
    );
}

#[test]
fn missing_files() {
    let spec = ModelSpec::default();
    for (file, problem) in [("config.json", "missing"), ("tokenizer.json", "missing")] {
        let message = load_error(&spec, |dir| {
            std::fs::remove_file(dir.join(file)).expect("rm");
        });
        assert_names(&message, file, problem);
    }
    let message = load_error(&spec, |dir| {
        std::fs::remove_file(dir.join("model.safetensors")).expect("rm");
    });
    assert_names(&message, "no weights", "model.safetensors.index.json");
    let message = match EmbeddingModel::load(Path::new("/nonexistent/model"), None, None) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("loaded nothing"),
    };
    assert_names(&message, "/nonexistent/model", "not a directory");
}

#[test]
fn unreadable_json() {
    let spec = ModelSpec::default();
    let message = load_error(&spec, |dir| {
        std::fs::write(dir.join("config.json"), "{\"hidden_size\": ").expect("w");
    });
    assert_names(&message, "config.json", "not valid JSON");
    let message = load_error(&spec, |dir| {
        std::fs::write(dir.join("tokenizer.json"), "{\"model\": 1}").expect("w");
    });
    assert_names(&message, "tokenizer.json", "not a valid tokenizer");
}

#[test]
fn damaged_safetensors() {
    let spec = ModelSpec::default();
    let weights = |dir: &Path| dir.join("model.safetensors");
    let message = load_error(&spec, |dir| {
        let bytes = std::fs::read(weights(dir)).expect("read");
        std::fs::write(weights(dir), &bytes[..bytes.len() - 10]).expect("truncate");
    });
    assert_names(&message, "model.safetensors", "do not match the file size");
    let message = load_error(&spec, |dir| {
        std::fs::write(weights(dir), [1u8, 2, 3]).expect("w");
    });
    assert_names(
        &message,
        "model.safetensors",
        "shorter than the 8-byte header",
    );
    let message = load_error(&spec, |dir| {
        let mut bytes = std::fs::read(weights(dir)).expect("read");
        bytes[..8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        std::fs::write(weights(dir), bytes).expect("w");
    });
    assert_names(&message, "model.safetensors", "header");
    let message = load_error(&spec, |dir| {
        // A header that lies: the tensor claims more bytes than the file holds.
        let header = br#"{"model.embed_tokens.weight":{"dtype":"BF16","shape":[1000,8],"data_offsets":[0,16000]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0u8; 64]);
        std::fs::write(weights(dir), bytes).expect("w");
    });
    assert_names(&message, "model.safetensors", "do not match the file size");
}

#[test]
fn unsupported_dtype_and_wrong_shapes() {
    let message = load_error(&ModelSpec::default(), |dir| {
        let data = vec![0u8; 24 * 8];
        write_safetensors(
            &dir.join("model.safetensors"),
            &[("model.embed_tokens.weight", Dtype::I8, vec![24, 8], &data)],
        );
    });
    assert_names(
        &message,
        "model.safetensors",
        "dtype I8; supported are BF16, F16 and F32",
    );
    let message = load_error(&ModelSpec::default(), |dir| {
        let data = vec![0u8; 24 * 8 * 2];
        write_safetensors(
            &dir.join("model.safetensors"),
            &[(
                "model.embed_tokens.weight",
                Dtype::BF16,
                vec![24, 2, 4],
                &data,
            )],
        );
    });
    assert_names(&message, "model.safetensors", "is 2-D");
    let message = load_error(&ModelSpec::default(), |dir| {
        let config = r#"{"hidden_size": 16, "vocab_size": 24}"#;
        std::fs::write(dir.join("config.json"), config).expect("w");
    });
    assert_names(&message, "model.safetensors", "hidden_size 16");
    let message = load_error(
        &ModelSpec {
            rows: 10,
            ..ModelSpec::default()
        },
        |_| {},
    );
    assert_names(
        &message,
        "model.safetensors",
        "fewer than the tokenizer's 19 tokens",
    );
}

#[test]
fn broken_indexes_and_missing_tensors() {
    let sharded = ModelSpec {
        sharded: true,
        ..ModelSpec::default()
    };
    let message = load_error(&sharded, |dir| {
        std::fs::remove_file(dir.join("model-00002-of-00002.safetensors")).expect("rm");
    });
    assert_names(
        &message,
        "model.safetensors.index.json",
        "model-00002-of-00002.safetensors",
    );
    let message = load_error(&sharded, |dir| {
        let index =
            r#"{"weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors"}}"#;
        std::fs::write(dir.join("model.safetensors.index.json"), index).expect("w");
    });
    assert_names(&message, "model-00001-of-00002.safetensors", "is not there");
    let message = load_error(&sharded, |dir| {
        std::fs::write(dir.join("model.safetensors.index.json"), "[]").expect("w");
    });
    assert_names(
        &message,
        "model.safetensors.index.json",
        "not a valid safetensors index",
    );
    let message = load_error(
        &ModelSpec {
            tensor: "decoder.something",
            ..ModelSpec::default()
        },
        |_| {},
    );
    assert_names(
        &message,
        "model.safetensors",
        "no input-embedding tensor found",
    );
}
