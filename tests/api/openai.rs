//! The OpenAI-compatible routes (`src/http/openai.rs`): `POST /v1/embeddings` (mean-pooled,
//! normalised, float or base64, `dimensions`), its errors in OpenAI's shape, `GET /v1/models`.
//!
//! Then the official `openai` Python SDK's requests, replayed: `scripts/openai-sdk-check.py
//! --record` captured what `client.embeddings.create(...)` sends (method, path, headers, exact
//! body) into `tests/fixtures/openai-sdk/*.json`, with reference vectors computed by numpy from the
//! fixture model's safetensors file. Each recording is sent as recorded to a server on that model
//! and the answer is decoded as the SDK decodes it (base64 -> little-endian f32; JSON numbers as
//! f32).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::common::{shared_fixture, stored, test_value};
use crate::helpers::{Reply, TestApp, base64_floats, floats, spawn_app, spawn_app_configured};

/// The test model's mean of the rows of `ids`, cut to `dims`, L2-normalised (as numpy computes it).
pub fn unit_mean(ids: &[usize], dims: usize) -> Vec<f32> {
    let mut mean: Vec<f32> = (0..dims)
        .map(|c| {
            (ids.iter()
                .map(|&id| f64::from(stored(safetensors::Dtype::BF16, test_value(id, c))))
                .sum::<f64>()
                / ids.len() as f64) as f32
        })
        .collect();
    let norm = mean
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt();
    mean.iter_mut()
        .for_each(|v| *v = (f64::from(*v) / norm) as f32);
    mean
}

#[tokio::test]
async fn openai_embeddings_float_base64_and_dimensions() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/v1/embeddings",
            &json!({"input": ["hello world", "dog"], "model": "text-embedding-3-small"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["object"], "list");
    assert_eq!(reply.body["model"], "test-model");
    assert_eq!(
        reply.body["usage"],
        json!({"prompt_tokens": 3, "total_tokens": 3})
    );
    assert_eq!(reply.body["data"][0]["object"], "embedding");
    let first = decode(&reply.body["data"][0]["embedding"], "float", "data[0]");
    assert_eq!(first, unit_mean(&[3, 4], 8));

    let reply = app
        .post(
            "/v1/embeddings",
            &json!({"input": ["dog"], "encoding_format": "base64", "dimensions": 3, "user": "u1"}),
        )
        .await;
    let values = decode(&reply.body["data"][0]["embedding"], "base64", "data[0]");
    assert_eq!(values, unit_mean(&[12], 3));
}

/// Token ids are what LangChain's `OpenAIEmbeddings` sends by default: ids of OpenAI's tiktoken,
/// which would index this model's matrix wrongly. Refused (naming the LangChain setting) unless
/// `openai_token_ids` is set; then they are embedded like text.
#[tokio::test]
async fn openai_token_ids_are_refused_unless_enabled() {
    // The body LangChain's OpenAIEmbeddings sends for embed_documents(["dog"]) by default.
    let langchain =
        json!({"input": [[12]], "model": "text-embedding-ada-002", "encoding_format": "base64"});
    let app = spawn_app().await;
    let reply = app.post("/v1/embeddings", &langchain).await;
    assert_eq!(
        reply.assert_error(422, "validation_error").as_deref(),
        Some("input")
    );
    let message = reply.body["error"]["message"].as_str().unwrap_or("");
    for hint in [
        "check_embedding_ctx_length=False",
        "openai_token_ids",
        "input_ids",
    ] {
        assert!(message.contains(hint), "{hint} missing from {message}");
    }
    let text = app.post("/v1/embeddings", &json!({"input": "dog"})).await;
    assert_eq!(text.status, 200, "{}", text.body);

    let enabled = spawn_app_configured(|settings| settings.openai_token_ids = true).await;
    let reply = enabled.post("/v1/embeddings", &langchain).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let values = decode(&reply.body["data"][0]["embedding"], "base64", "data[0]");
    assert_eq!(values, unit_mean(&[12], 8));
    let reply = enabled
        .post("/v1/embeddings", &json!({"input": [1, 2, 999]}))
        .await;
    assert_eq!(
        reply.assert_error(422, "validation_error").as_deref(),
        Some("input[2]")
    );
}

#[tokio::test]
async fn openai_errors_use_openai_shape() {
    let app = spawn_app().await;
    for (body, param) in [
        (json!({"input": "dog", "dimensions": 99}), "dimensions"),
        (json!({"input": [1, 2, 999]}), "input"),
        (json!({"input": ""}), "input[0]"),
    ] {
        let reply = app.post("/v1/embeddings", &body).await;
        assert_eq!(
            reply.assert_error(422, "validation_error").as_deref(),
            Some(param),
            "{body}"
        );
    }
    let models = app.get("/v1/models").await;
    assert_eq!(models.body["data"][0]["id"], "test-model");
    assert_eq!(models.body["object"], "list");
}

/// Widest difference tolerated from numpy's vectors: both normalise in f64 from the same f32 mean,
/// only the order of the squared sum may differ.
const TOLERANCE: f32 = 1e-6;

/// Request headers that describe one connection, not the request; `accept-encoding` is left
/// out because the SDK's HTTP client undoes compression before the SDK reads the body.
const TRANSPORT_HEADERS: &[&str] = &["accept-encoding", "connection", "content-length", "host"];

/// One recording of `scripts/openai-sdk-check.py`.
#[derive(Debug, Deserialize)]
struct Recording {
    /// The SDK version and the call that produced the request.
    description: String,
    /// What the SDK sent.
    request: RecordedRequest,
    /// What the answer must decode to.
    expected: Expected,
}

/// One request as a client sent it (`scripts/openai-sdk-check.py`, `scripts/clients_check.py`).
#[derive(Debug, Deserialize)]
pub struct RecordedRequest {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    /// The body exactly as sent.
    body: String,
}

#[derive(Debug, Deserialize)]
struct Expected {
    /// Folder of `../shared/fixtures` holding the model the vectors come from.
    model_dir: String,
    /// `base64` when the request asked for base64 (the SDK's default), else `float`.
    decode: String,
    prompt_tokens: u64,
    /// numpy's mean-pooled, truncated, L2-normalised vectors, one per input.
    embeddings: Vec<Vec<f32>>,
}

/// Every recording (`*.json`) of `tests/fixtures/<folder>`, in file name order, with its path.
pub fn read_recordings<T: DeserializeOwned>(folder: &str) -> Vec<(PathBuf, T)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("recording readable");
            let recording = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not a recording: {e}", path.display()));
            (path, recording)
        })
        .collect()
}

/// Sends `request` as recorded, but for the headers of its connection.
pub async fn replay(app: &TestApp, request: &RecordedRequest) -> Reply {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).expect("HTTP method");
    let mut builder = app
        .request(method, &request.path)
        .body(request.body.clone());
    for (name, value) in &request.headers {
        if !TRANSPORT_HEADERS.contains(&name.as_str()) {
            builder = builder.header(name, value);
        }
    }
    app.send(builder).await
}

/// Checks that `got` has numpy's width and differs from it by at most [`TOLERANCE`].
pub fn assert_close_to_numpy(got: &[f32], numpy: &[f32], context: &str) {
    assert_eq!(got.len(), numpy.len(), "{context}: dimensions");
    let worst = got
        .iter()
        .zip(numpy)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst <= TOLERANCE,
        "{context}: differs from numpy by {worst}"
    );
}

/// An embedding as the SDK hands it to the user: base64 strings become little-endian f32s.
pub fn decode(embedding: &Value, format: &str, context: &str) -> Vec<f32> {
    if format == "base64" {
        assert!(
            embedding.is_string(),
            "{context}: base64 was asked for, got {embedding}"
        );
        base64_floats(embedding)
    } else {
        assert!(
            embedding.is_array(),
            "{context}: floats were asked for, got {embedding}"
        );
        floats(embedding)
    }
}

fn check_reply(name: &str, recording: &Recording, reply: &Reply) {
    assert_eq!(reply.status, 200, "{name}: {}", reply.body);
    let body = &reply.body;
    assert_eq!(body["object"], "list", "{name}: {body}");
    assert_eq!(
        body["model"],
        recording.expected.model_dir.as_str(),
        "{name}"
    );
    assert_eq!(
        body["usage"]["prompt_tokens"], recording.expected.prompt_tokens,
        "{name}: {body}"
    );
    let data = body["data"].as_array().expect("data is a list");
    assert_eq!(data.len(), recording.expected.embeddings.len(), "{name}");
    for (index, (item, expected)) in data.iter().zip(&recording.expected.embeddings).enumerate() {
        let context = format!("{name} data[{index}]");
        assert_eq!(item["object"], "embedding", "{context}");
        assert_eq!(item["index"], index, "{context}");
        let got = decode(&item["embedding"], &recording.expected.decode, &context);
        assert_close_to_numpy(&got, expected, &context);
        let norm = got
            .iter()
            .map(|v| f64::from(*v).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{context}: norm {norm}");
    }
}

#[tokio::test]
async fn recorded_sdk_requests_decode_to_the_numpy_vectors() {
    let recordings: Vec<(PathBuf, Recording)> = read_recordings("openai-sdk");
    let formats: Vec<&str> = recordings
        .iter()
        .map(|(_, r)| r.expected.decode.as_str())
        .collect();
    assert!(
        formats.contains(&"base64") && formats.contains(&"float"),
        "the recordings must cover both encodings, got {formats:?}"
    );
    let Some(model_dir) = shared_fixture(&recordings[0].1.expected.model_dir) else {
        return;
    };
    let app = spawn_app_configured(|settings| settings.model_dir = model_dir).await;
    for (path, recording) in &recordings {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let model = &recording.expected.model_dir;
        assert_eq!(
            model, &recordings[0].1.expected.model_dir,
            "{name}: one model for all"
        );
        let reply = replay(&app, &recording.request).await;
        check_reply(
            &format!("{name} ({})", recording.description),
            recording,
            &reply,
        );
    }
}
