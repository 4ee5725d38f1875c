//! Static-embedding models: the five real fixtures against model2vec 0.10.0's own answers
//! (`tests/fixtures/model2vec/*.json`, made by `tests/fixtures/make_model2vec_reference.py`), the
//! detection of every layout, and a clean startup error for each inconsistency.

use std::path::Path;

use embedserve::model::{EmbeddingModel, ModelKind, StoredDtype};
use safetensors::Dtype;

use crate::common::{ModelSpec, shared_fixture, test_tokenizer_json, write_model_dir};

#[derive(serde::Deserialize)]
struct Reference {
    normalize: bool,
    max_length: Option<usize>,
    median_token_length: usize,
    unk_token_id: Option<u32>,
    dim: usize,
    rows: usize,
    tokens: usize,
    embedding_dtype: String,
    has_mapping: bool,
    has_weights: bool,
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    tokens: Vec<String>,
    offsets: Vec<(usize, usize)>,
    vector: Vec<f64>,
    vector_unnormalized: Vec<f64>,
    rows: Option<Vec<Vec<f64>>>,
}

/// Asserts that `got` equals model2vec's float32 (or float16) values exactly.
fn assert_exact(got: &[f32], want: &[f64], context: &str) {
    let want: Vec<f32> = want.iter().map(|&v| v as f32).collect();
    assert_eq!(got, want.as_slice(), "{context}");
}

fn check_fixture(name: &str, kind: ModelKind) {
    let Some(dir) = shared_fixture(&format!("model2vec/{name}")) else {
        return;
    };
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/model2vec/{name}.json"));
    let text = std::fs::read_to_string(&path).expect("committed reference");
    let reference: Reference = serde_json::from_str(&text).expect("reference JSON");
    let model = EmbeddingModel::load(&dir, None, None).expect("static model loads");
    assert_eq!(model.kind(), kind, "{name}");
    let dtype = match reference.embedding_dtype.as_str() {
        "float16" => StoredDtype::F16,
        "int8" => StoredDtype::I8,
        _ => StoredDtype::F32,
    };
    assert_eq!(model.matrix.dtype(), dtype, "{name}");
    assert_eq!(model.normalize(), reference.normalize, "{name}");
    assert_eq!(
        (
            model.dimension(),
            model.matrix.rows(),
            model.token_id_limit()
        ),
        (reference.dim, reference.rows, reference.tokens),
        "{name}"
    );
    let info = model
        .static_embedding
        .as_ref()
        .expect("static rules")
        .info();
    assert_eq!(info.max_length, reference.max_length, "{name}");
    assert_eq!(
        info.median_token_length, reference.median_token_length,
        "{name}"
    );
    assert_eq!(info.unknown_token_id, reference.unk_token_id, "{name}");
    assert_eq!(
        (info.mapping, info.weights),
        (reference.has_mapping, reference.has_weights)
    );
    for case in &reference.cases {
        let context = format!(
            "{name}: {:?}",
            case.text.chars().take(40).collect::<String>()
        );
        let tokens = model.tokenize(&case.text, true).expect("tokenizes");
        assert_eq!(tokens.ids, case.ids, "ids of {context}");
        assert_eq!(tokens.tokens, case.tokens, "tokens of {context}");
        assert_eq!(tokens.offsets, case.offsets, "offsets of {context}");
        let vector = model.sentence_vector(&tokens.ids);
        assert_exact(
            vector.as_slice().expect("contiguous"),
            &case.vector,
            &context,
        );
        let raw = model.sentence_vector_with(&tokens.ids, false);
        assert_exact(
            raw.as_slice().expect("contiguous"),
            &case.vector_unnormalized,
            &context,
        );
        if let Some(rows) = &case.rows {
            let got = model.rows(&tokens.ids);
            assert_eq!(got.nrows(), rows.len(), "{context}");
            for (got_row, want_row) in got.outer_iter().zip(rows) {
                assert_exact(got_row.as_slice().expect("row"), want_row, &context);
            }
        }
    }
}

#[test]
fn float32_model_matches_model2vec() {
    check_fixture("test-model-float32", ModelKind::Model2vec);
}

#[test]
fn float16_model_matches_model2vec() {
    check_fixture("test-model-float16", ModelKind::Model2vec);
}

#[test]
fn int8_model_matches_model2vec() {
    check_fixture("test-model-int8", ModelKind::Model2vec);
}

#[test]
fn vocabulary_quantized_model_matches_model2vec() {
    check_fixture("test-model-vocab-quantized", ModelKind::Model2vec);
}

#[test]
fn sentence_transformers_layout_matches_model2vec() {
    check_fixture(
        "test-model-sentence-transformers",
        ModelKind::SentenceTransformersStatic,
    );
}

/// A small static model: the common 19-token word-level tokenizer and `rows x 4` vectors.
struct StaticSpec {
    dtype: Dtype,
    rows: usize,
    mapping: Option<(Dtype, Vec<i64>)>,
    weights: Option<(Dtype, usize)>,
    normalize: bool,
}

impl Default for StaticSpec {
    fn default() -> Self {
        Self {
            dtype: Dtype::F32,
            rows: 19,
            mapping: None,
            weights: None,
            normalize: true,
        }
    }
}

const DIM: usize = 4;

fn stored_value(row: usize, col: usize) -> f32 {
    (row * DIM + col) as f32 - 20.0
}

/// The bytes of `values` stored as `dtype` (integers for integer dtypes).
fn bytes_of(dtype: Dtype, values: impl Iterator<Item = f64>) -> Vec<u8> {
    values
        .flat_map(|v| match dtype {
            Dtype::I8 => vec![v as i8 as u8],
            Dtype::I32 => (v as i32).to_le_bytes().to_vec(),
            Dtype::I64 => (v as i64).to_le_bytes().to_vec(),
            Dtype::F16 => half::f16::from_f64(v).to_le_bytes().to_vec(),
            Dtype::F64 => v.to_le_bytes().to_vec(),
            _ => (v as f32).to_le_bytes().to_vec(),
        })
        .collect()
}

/// Writes `spec` as a model2vec directory in `dir` (or in `dir/0_StaticEmbedding`, listed in
/// `modules.json`, for the sentence-transformers layout).
fn write_static(dir: &Path, spec: &StaticSpec, sentence_transformers: bool) {
    let module = if sentence_transformers {
        dir.join("0_StaticEmbedding")
    } else {
        dir.to_owned()
    };
    std::fs::create_dir_all(&module).expect("dir");
    std::fs::write(module.join("tokenizer.json"), test_tokenizer_json()).expect("tokenizer");
    let vectors = (0..spec.rows * DIM).map(|i| f64::from(stored_value(i / DIM, i % DIM)));
    let vectors = bytes_of(spec.dtype, vectors);
    let name = if sentence_transformers {
        "embedding.weight"
    } else {
        "embeddings"
    };
    let mut tensors = vec![(name, spec.dtype, vec![spec.rows, DIM], vectors)];
    if let Some((dtype, rows)) = &spec.mapping {
        let data = bytes_of(*dtype, rows.iter().map(|&r| r as f64));
        tensors.push(("mapping", *dtype, vec![rows.len()], data));
    }
    if let Some((dtype, len)) = spec.weights {
        let data = bytes_of(dtype, (0..len).map(|i| 0.5 + i as f64 / 8.0));
        tensors.push(("weights", dtype, vec![len], data));
    }
    let views: Vec<_> = tensors
        .iter()
        .map(|(n, d, s, b)| (*n, *d, s.clone(), b.as_slice()))
        .collect();
    crate::common::write_safetensors(&module.join("model.safetensors"), &views);
    if sentence_transformers {
        std::fs::write(dir.join("config_sentence_transformers.json"), "{}").expect("config");
        let mut modules = vec![
            serde_json::json!({"idx": 0, "name": "0", "path": "0_StaticEmbedding",
            "type": "sentence_transformers.models.StaticEmbedding"}),
        ];
        if spec.normalize {
            modules.push(
                serde_json::json!({"idx": 1, "name": "1", "path": "1_Normalize",
                "type": "sentence_transformers.models.Normalize"}),
            );
        }
        std::fs::write(
            dir.join("modules.json"),
            serde_json::Value::from(modules).to_string(),
        )
        .expect("modules");
    } else {
        let config = serde_json::json!({"model_type": "model2vec", "architectures": ["StaticModel"],
            "hidden_dim": 256, "normalize": spec.normalize});
        std::fs::write(dir.join("config.json"), config.to_string()).expect("config");
    }
}

fn load_static(spec: &StaticSpec, sentence_transformers: bool) -> Result<EmbeddingModel, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    write_static(dir.path(), spec, sentence_transformers);
    let loaded = EmbeddingModel::load(dir.path(), None, None).map_err(|e| e.to_string());
    // The memory map stays valid after the directory goes; keep the files for the test's life.
    std::mem::forget(dir);
    loaded
}

#[test]
fn layouts_are_told_apart_and_transformers_stay_transformers() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_model_dir(
        dir.path(),
        &ModelSpec {
            tensor: "embeddings",
            ..ModelSpec::default()
        },
    );
    let transformer = EmbeddingModel::load(dir.path(), None, None).expect("loads");
    assert_eq!(
        (transformer.kind(), transformer.normalize()),
        (ModelKind::Transformer, false)
    );
    assert_eq!(transformer.token_id_limit(), 24);
    assert_eq!(
        serde_json::to_value(ModelKind::SentenceTransformersStatic).expect("json"),
        "sentence_transformers_static"
    );

    let model2vec = load_static(&StaticSpec::default(), false).expect("model2vec loads");
    assert_eq!(
        (model2vec.kind(), model2vec.normalize()),
        (ModelKind::Model2vec, true)
    );
    assert_eq!(
        model2vec.dimension(),
        DIM,
        "the tensor wins over hidden_dim"
    );
    for normalize in [true, false] {
        let spec = StaticSpec {
            normalize,
            ..StaticSpec::default()
        };
        let nested = load_static(&spec, true).expect("nested sentence-transformers loads");
        assert_eq!(nested.kind(), ModelKind::SentenceTransformersStatic);
        assert_eq!(
            nested.normalize(),
            normalize,
            "a Normalize module normalises"
        );
    }
}

#[test]
fn int8_rows_mapping_and_weights_are_applied_per_token() {
    let spec = StaticSpec {
        dtype: Dtype::I8,
        rows: 3,
        mapping: Some((Dtype::I64, (0..19).map(|id| id % 3).collect())),
        weights: Some((Dtype::F32, 19)),
        normalize: false,
    };
    let model = load_static(&spec, false).expect("loads");
    assert_eq!(
        (model.matrix.dtype(), model.token_id_limit()),
        (StoredDtype::I8, 19)
    );
    // "hello" is id 3, "world" id 4; the unknown word is dropped; no [CLS]/[SEP] are added.
    let tokens = model
        .tokenize("Hello unknownword world", true)
        .expect("tokenizes");
    assert_eq!(tokens.ids, [3, 4]);
    let rows = model.rows(&tokens.ids);
    for (i, id) in [3usize, 4].into_iter().enumerate() {
        let weight = 0.5 + id as f32 / 8.0;
        for col in 0..DIM {
            assert_eq!(rows[[i, col]], stored_value(id % 3, col) * weight);
        }
    }
    let mean = model.sentence_vector(&tokens.ids);
    for col in 0..DIM {
        assert_eq!(mean[col], (rows[[0, col]] + rows[[1, col]]) / 2.0);
    }
    assert!(model.sentence_vector(&[]).iter().all(|&v| v == 0.0));
}

fn static_error(spec: &StaticSpec, damage: impl FnOnce(&Path)) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    write_static(dir.path(), spec, false);
    damage(dir.path());
    match EmbeddingModel::load(dir.path(), None, None) {
        Ok(_) => panic!("an inconsistent static model loaded"),
        Err(e) => e.to_string(),
    }
}

fn assert_says(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "expected {part:?} in: {message}");
    }
}

#[test]
fn inconsistent_static_models_are_refused_naming_the_file() {
    let quantized = |mapping: Vec<i64>, weights: usize| StaticSpec {
        rows: 3,
        mapping: Some((Dtype::I32, mapping)),
        weights: Some((Dtype::F64, weights)),
        ..StaticSpec::default()
    };
    let ok_mapping = || (0..19).map(|id| id % 3).collect::<Vec<i64>>();
    let past = (0..19).map(|id| if id == 7 { 3 } else { 0 }).collect();
    let message = static_error(&quantized(past, 19), |_| {});
    assert_says(
        &message,
        &["model.safetensors", "mapping[7] = 3 points past the 3 rows"],
    );
    let negative = (0..19).map(|id| if id == 2 { -1 } else { 0 }).collect();
    let message = static_error(&quantized(negative, 19), |_| {});
    assert_says(
        &message,
        &["model.safetensors", "mapping[2] = -1 is not a row index"],
    );
    let message = static_error(&quantized(vec![0; 5], 19), |_| {});
    assert_says(
        &message,
        &[
            "model.safetensors",
            "\"mapping\" has 5 entries",
            "19 token ids",
        ],
    );
    let message = static_error(&quantized(ok_mapping(), 18), |_| {});
    assert_says(
        &message,
        &["model.safetensors", "\"weights\" has 18 entries"],
    );
    let float_mapping = StaticSpec {
        mapping: Some((Dtype::F32, ok_mapping())),
        ..quantized(vec![], 19)
    };
    let message = static_error(&float_mapping, |_| {});
    assert_says(
        &message,
        &["model.safetensors", "\"mapping\" has dtype F32"],
    );
    let int_weights = StaticSpec {
        weights: Some((Dtype::I32, 19)),
        ..StaticSpec::default()
    };
    let message = static_error(&int_weights, |_| {});
    assert_says(
        &message,
        &["model.safetensors", "\"weights\" has dtype I32"],
    );
    let message = static_error(
        &StaticSpec {
            rows: 12,
            ..StaticSpec::default()
        },
        |_| {},
    );
    assert_says(
        &message,
        &[
            "model.safetensors",
            "12 rows",
            "19 token ids",
            "no \"mapping\"",
        ],
    );
}

#[test]
fn impossible_shapes_and_settings_are_refused() {
    let spec = StaticSpec::default();
    let message = static_error(&spec, |dir| {
        let data = vec![0u8; 19 * 4 * 2 * 4];
        crate::common::write_safetensors(
            &dir.join("model.safetensors"),
            &[("embeddings", Dtype::F32, vec![19, 4, 2], &data)],
        );
    });
    assert_says(&message, &["model.safetensors", "is 2-D"]);
    let message = static_error(&spec, |dir| {
        let data = vec![0u8; 19 * 4];
        crate::common::write_safetensors(
            &dir.join("model.safetensors"),
            &[("vectors", Dtype::F32, vec![19, 1], &data)],
        );
    });
    assert_says(
        &message,
        &["model.safetensors", "no tensor named \"embeddings\""],
    );
    let message = static_error(&spec, |dir| {
        let data = vec![0u8; 19 * 4];
        crate::common::write_safetensors(
            &dir.join("model.safetensors"),
            &[("embeddings", Dtype::U32, vec![19, 1], &data)],
        );
    });
    assert_says(
        &message,
        &[
            "model.safetensors",
            "dtype U32; supported are BF16, F16, F32 and I8",
        ],
    );
    let message = static_error(&spec, |dir| {
        let config = r#"{"model_type": "model2vec", "max_length": 0}"#;
        std::fs::write(dir.join("config.json"), config).expect("config");
    });
    assert_says(
        &message,
        &["config.json", "max_length must be a positive integer"],
    );
    let message = static_error(&spec, |dir| {
        std::fs::remove_file(dir.join("tokenizer.json")).expect("rm");
    });
    assert_says(&message, &["tokenizer.json", "missing"]);
    let dir = tempfile::tempdir().expect("tempdir");
    write_static(dir.path(), &spec, false);
    let message = EmbeddingModel::load(dir.path(), Some("other"), None)
        .expect_err("refused")
        .to_string();
    assert_says(
        &message,
        &["embedding_tensor is \"other\"", "\"embeddings\""],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    write_static(dir.path(), &spec, true);
    let modules = r#"[{"idx": 0, "path": "../elsewhere", "type": "sentence_transformers.models.StaticEmbedding"}]"#;
    std::fs::write(dir.path().join("modules.json"), modules).expect("modules");
    let message = EmbeddingModel::load(dir.path(), None, None)
        .expect_err("refused")
        .to_string();
    assert_says(
        &message,
        &["modules.json", "must stay inside the model directory"],
    );
}
