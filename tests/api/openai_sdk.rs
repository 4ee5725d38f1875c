//! The official `openai` Python SDK's requests, replayed: `scripts/openai-sdk-check.py --record`
//! captured what `client.embeddings.create(...)` sends (method, path, headers, exact body) into
//! `tests/fixtures/openai-sdk/*.json`, with reference vectors computed by numpy from the fixture
//! model's safetensors file. Each recording is sent as recorded to a server on that model and the
//! answer is decoded as the SDK decodes it (base64 -> little-endian f32; JSON numbers as f32).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use crate::common::{ModelSpec, shared_fixture};
use crate::helpers::{Reply, TestApp, spawn_app_with};

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

#[derive(Debug, Deserialize)]
struct RecordedRequest {
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

fn recordings() -> Vec<(PathBuf, Recording)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openai-sdk");
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

async fn replay(app: &TestApp, request: &RecordedRequest) -> Reply {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).expect("HTTP method");
    let mut builder = app
        .client
        .request(method, format!("{}{}", app.address, request.path))
        .body(request.body.clone());
    for (name, value) in &request.headers {
        if !TRANSPORT_HEADERS.contains(&name.as_str()) {
            builder = builder.header(name, value);
        }
    }
    app.send(builder).await
}

/// An embedding as the SDK hands it to the user: base64 strings become little-endian f32s.
fn decode(embedding: &Value, format: &str, context: &str) -> Vec<f32> {
    match format {
        "base64" => {
            let text = embedding
                .as_str()
                .unwrap_or_else(|| panic!("{context}: base64 was asked for, got {embedding}"));
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap_or_else(|e| panic!("{context}: not base64: {e}"));
            assert_eq!(bytes.len() % 4, 0, "{context}: {} bytes", bytes.len());
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        }
        _ => embedding
            .as_array()
            .unwrap_or_else(|| panic!("{context}: floats were asked for, got {embedding}"))
            .iter()
            .map(|value| value.as_f64().expect("a number") as f32)
            .collect(),
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
        assert_eq!(got.len(), expected.len(), "{context}: dimensions");
        let worst = got
            .iter()
            .zip(expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst <= TOLERANCE,
            "{context}: differs from numpy by {worst}"
        );
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
    let recordings = recordings();
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
    let app = spawn_app_with(&ModelSpec::default(), |settings| {
        settings.model_dir = model_dir;
    })
    .await;
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
