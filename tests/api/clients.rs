//! The real embedding clients' requests, replayed: `scripts/clients-check.sh --record` ran each
//! client (huggingface_hub, LangChain, LlamaIndex, Haystack, the openai npm package) against a
//! release server through a recording proxy and wrote what it sent (method, path, headers, exact
//! body) into `tests/fixtures/clients/<model>/<case>.json`, with the answer numpy computes from
//! the model's safetensors rows. Each request is sent as recorded to a server on that model and
//! the answer is read as the client reads it: TEI's bare nested array, or OpenAI's envelope with
//! base64 or float vectors. The bundled demo's recordings always run; the MiniLM model's when
//! `../shared/fixtures` is present.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::common::shared_fixture;
use crate::helpers::{Reply, floats, spawn_app_configured};
use crate::openai::{RecordedRequest, assert_close_to_numpy, decode, read_recordings, replay};

/// One case of `scripts/clients_check.py`: a client call and the requests it made.
#[derive(Debug, Deserialize)]
struct Recording {
    /// The client package, its version and the call.
    description: String,
    /// The folder of the model the vectors come from (`demo`, or one of `../shared/fixtures`).
    model_dir: String,
    exchanges: Vec<Exchange>,
}

#[derive(Debug, Deserialize)]
struct Exchange {
    request: RecordedRequest,
    expected: Expected,
}

#[derive(Debug, Deserialize)]
struct Expected {
    status: u16,
    /// `tei` (a bare array of vectors) or `openai` (OpenAI's envelope).
    shape: String,
    /// `base64` or `float`.
    decode: String,
    prompt_tokens: u64,
    /// numpy's vectors, one per input.
    embeddings: Vec<Vec<f32>>,
}

fn recordings(model: &str) -> Vec<(String, Recording)> {
    read_recordings(&format!("clients/{model}"))
        .into_iter()
        .map(|(path, recording): (PathBuf, Recording)| {
            assert_eq!(recording.model_dir, model, "{}", path.display());
            (path.display().to_string(), recording)
        })
        .collect()
}

/// The vectors of `body` as the client reads them, after checking the shape it expects.
fn client_vectors(body: &Value, expected: &Expected, model: &str, context: &str) -> Vec<Vec<f32>> {
    if expected.shape == "tei" {
        let items = body
            .as_array()
            .unwrap_or_else(|| panic!("{context}: TEI clients read a bare array, got {body}"));
        return items.iter().map(floats).collect();
    }
    assert_eq!(body["object"], "list", "{context}: {body}");
    assert_eq!(body["model"], model, "{context}");
    assert_eq!(
        body["usage"]["prompt_tokens"], expected.prompt_tokens,
        "{context}: {body}"
    );
    let data = body["data"].as_array().expect("data is a list");
    data.iter()
        .enumerate()
        .map(|(index, item)| {
            assert_eq!(item["object"], "embedding", "{context}");
            assert_eq!(item["index"], index, "{context}");
            decode(
                &item["embedding"],
                &expected.decode,
                &format!("{context} data[{index}]"),
            )
        })
        .collect()
}

fn check(reply: &Reply, expected: &Expected, model: &str, context: &str) {
    assert_eq!(reply.status, expected.status, "{context}: {}", reply.body);
    let got = client_vectors(&reply.body, expected, model, context);
    assert_eq!(got.len(), expected.embeddings.len(), "{context}: inputs");
    for (index, (vector, numpy)) in got.iter().zip(&expected.embeddings).enumerate() {
        assert_close_to_numpy(vector, numpy, &format!("{context} [{index}]"));
    }
}

async fn replay_all(model: &str, model_dir: PathBuf) -> usize {
    let recordings = recordings(model);
    let app = spawn_app_configured(|settings| settings.model_dir = model_dir).await;
    let mut replayed = 0;
    for (name, recording) in &recordings {
        for (index, exchange) in recording.exchanges.iter().enumerate() {
            let context = format!("{name} ({}) request {index}", recording.description);
            let reply = replay(&app, &exchange.request).await;
            check(&reply, &exchange.expected, model, &context);
            replayed += 1;
        }
    }
    replayed
}

#[tokio::test]
async fn recorded_client_requests_on_the_demo_decode_to_the_numpy_vectors() {
    let model_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/demo");
    let replayed = replay_all("demo", model_dir).await;
    assert!(replayed >= 15, "only {replayed} recorded requests");
}

#[tokio::test]
async fn recorded_client_requests_on_minilm_decode_to_the_numpy_vectors() {
    let Some(model_dir) = shared_fixture("all-minilm-l6-v2-bf16") else {
        return;
    };
    let replayed = replay_all("all-minilm-l6-v2-bf16", model_dir).await;
    assert!(replayed >= 15, "only {replayed} recorded requests");
}
