//! Static-embedding models over HTTP: every route answers with model2vec 0.10.0's own values
//! (`tests/fixtures/model2vec/*.json`, made by `tests/fixtures/make_model2vec_reference.py`) for
//! the real fixture models, and the packed sign-bit encodings match `numpy.packbits`.

use base64::Engine;
use serde_json::{Value, json};

use crate::common::shared_fixture;
use crate::helpers::{TestApp, floats, spawn_app_configured};

/// The five fixture models of `../shared/fixtures/model2vec/`.
const MODELS: &[&str] = &[
    "test-model-float32",
    "test-model-float16",
    "test-model-int8",
    "test-model-vocab-quantized",
    "test-model-sentence-transformers",
];

/// Starts a server on fixture model `name` with its reference answers; `None` without fixtures.
async fn spawn_static_app(name: &str) -> Option<(TestApp, Value)> {
    let dir = shared_fixture(&format!("model2vec/{name}"))?;
    let reference_path = format!(
        "{}/tests/fixtures/model2vec/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(reference_path).expect("reference"))
            .expect("reference JSON");
    let app = spawn_app_configured(|settings| {
        settings.model_dir = dir;
        settings.max_batch_size = 64;
    })
    .await;
    Some((app, reference))
}

/// The reference's values (f64 holding exact float32 or float16 values) as f32.
fn reference_floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_f64().expect("number") as f32)
        .collect()
}

fn texts(reference: &Value) -> Vec<&str> {
    reference["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|case| case["text"].as_str().expect("text"))
        .collect()
}

#[tokio::test]
async fn openai_vectors_are_model2vecs_to_the_last_bit() {
    for name in MODELS {
        let Some((app, reference)) = spawn_static_app(name).await else {
            return;
        };
        let texts = texts(&reference);
        let reply = app
            .post("/v1/embeddings", &json!({"input": texts, "model": name}))
            .await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let data = reply.body["data"].as_array().expect("data");
        assert_eq!(data.len(), texts.len(), "{name}");
        for (item, case) in data
            .iter()
            .zip(reference["cases"].as_array().expect("cases"))
        {
            assert_eq!(
                floats(&item["embedding"]),
                reference_floats(&case["vector"]),
                "{name}: {:?}",
                case["text"]
            );
        }
    }
}

#[tokio::test]
async fn embed_and_tokenize_follow_the_librarys_rules() {
    for name in ["test-model-vocab-quantized", "test-model-int8"] {
        let Some((app, reference)) = spawn_static_app(name).await else {
            return;
        };
        let info = app.get("/info").await;
        assert_eq!(info.body["model"]["kind"], "model2vec", "{name}");
        assert!(info.body["model"]["static_embedding"]["normalize"].is_boolean());
        for case in reference["cases"].as_array().expect("cases") {
            let text = case["text"].as_str().expect("text");
            let tokens = app.post("/tokenize", &json!({"inputs": text})).await;
            assert_eq!(tokens.status, 200, "{name} {text:?}: {}", tokens.body);
            assert_eq!(
                tokens.body["data"][0]["ids"], case["ids"],
                "{name} {text:?}"
            );
            let pooled = app
                .post("/embed", &json!({"inputs": text, "pooling": "mean"}))
                .await;
            assert_eq!(pooled.status, 200, "{name} {text:?}: {}", pooled.body);
            assert_eq!(
                floats(&pooled.body["data"][0]["embedding"]),
                reference_floats(&case["vector"]),
                "{name} {text:?}"
            );
            let Some(rows) = case["rows"].as_array() else {
                continue;
            };
            let served = app.post("/embed", &json!({"inputs": text})).await;
            assert_eq!(served.status, 200, "{name} {text:?}: {}", served.body);
            let served_rows = served.body["data"][0]["embedding"]
                .as_array()
                .expect("rows");
            assert_eq!(served_rows.len(), rows.len(), "{name} {text:?}");
            for (got, want) in served_rows.iter().zip(rows) {
                assert_eq!(floats(got), reference_floats(want), "{name} {text:?}");
            }
        }
    }
}

/// `numpy.packbits(vector > 0)`, written independently of the server's packing.
fn packbits(vector: &[f32]) -> Vec<u8> {
    vector
        .chunks(8)
        .map(|chunk| {
            chunk
                .iter()
                .enumerate()
                .filter(|(_, value)| **value > 0.0)
                .map(|(bit, _)| 0x80u8 >> bit)
                .sum()
        })
        .collect()
}

#[tokio::test]
async fn binary_and_ubinary_pack_the_sign_bits() {
    let Some((app, reference)) = spawn_static_app("test-model-vocab-quantized").await else {
        return;
    };
    let case = &reference["cases"][0];
    let text = case["text"].as_str().expect("text");
    let vector = reference_floats(&case["vector"]);
    let decode = |reply: &Value| {
        base64::engine::general_purpose::STANDARD
            .decode(reply["data"][0]["embedding"].as_str().expect("base64 text"))
            .expect("base64")
    };
    let ubinary = app
        .post(
            "/v1/embeddings",
            &json!({"input": text, "encoding_format": "ubinary"}),
        )
        .await;
    assert_eq!(ubinary.status, 200, "{}", ubinary.body);
    let expected = packbits(&vector);
    assert_eq!(expected.len(), vector.len().div_ceil(8));
    assert_eq!(decode(&ubinary.body), expected);
    let binary = app
        .post(
            "/embed",
            &json!({"inputs": text, "pooling": "mean", "encoding_format": "binary"}),
        )
        .await;
    assert_eq!(binary.status, 200, "{}", binary.body);
    let signed: Vec<u8> = expected
        .iter()
        .map(|&byte| (i16::from(byte) - 128) as i8 as u8)
        .collect();
    assert_eq!(decode(&binary.body), signed);
}
