//! TEI-compatible embeddings (`src/http/tei.rs`): `POST /`, `POST /tei` and `POST /tei/embed`
//! answer TEI's bare nested array with TEI's defaults (normalized), `normalize`, `dimensions`,
//! `truncate` with `truncation_direction`, `prompt_name` refused, and errors in the service's
//! JSON body.

use serde_json::{Value, json};

use crate::helpers::{floats, spawn_app, spawn_app_configured};
use crate::openai::unit_mean;

/// The test model's mean of the rows of `ids`, not normalised.
fn mean(ids: &[usize]) -> Vec<f32> {
    let mut sum = [0.0f64; 8];
    for &id in ids {
        for (c, value) in sum.iter_mut().enumerate() {
            *value += f64::from(crate::common::stored(
                safetensors::Dtype::BF16,
                crate::common::test_value(id, c),
            ));
        }
    }
    sum.iter().map(|v| (v / ids.len() as f64) as f32).collect()
}

/// TEI's answer: a bare array of float vectors.
fn vectors(body: &Value) -> Vec<Vec<f32>> {
    body.as_array()
        .unwrap_or_else(|| panic!("TEI answers a bare array, got {body}"))
        .iter()
        .map(floats)
        .collect()
}

#[tokio::test]
async fn every_tei_route_answers_a_nested_array_of_unit_means() {
    let app = spawn_app().await;
    let openai = app
        .post(
            "/v1/embeddings",
            &json!({"input": ["hello world"], "encoding_format": "float"}),
        )
        .await;
    let same_as_openai = floats(&openai.body["data"][0]["embedding"]);
    for path in ["/", "/tei", "/tei/embed"] {
        let reply = app.post(path, &json!({"inputs": "hello world"})).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert_eq!(reply.header("content-type"), "application/json", "{path}");
        assert_eq!(vectors(&reply.body), vec![unit_mean(&[3, 4], 8)], "{path}");
        assert_eq!(vectors(&reply.body)[0], same_as_openai, "{path}");
        let batch = app
            .post(path, &json!({"inputs": ["hello world", "dog"]}))
            .await;
        assert_eq!(
            vectors(&batch.body),
            vec![unit_mean(&[3, 4], 8), unit_mean(&[12], 8)],
            "{path}"
        );
    }
}

#[tokio::test]
async fn tei_options_normalize_dimensions_and_nulls() {
    let app = spawn_app().await;
    let raw = app
        .post("/", &json!({"inputs": ["hello world"], "normalize": false}))
        .await;
    assert_eq!(vectors(&raw.body), vec![mean(&[3, 4])]);
    let cut = app
        .post(
            "/tei/embed",
            &json!({"inputs": "dog", "dimensions": 3, "truncate": null, "prompt_name": null,
                    "encoding_format": "float", "unknown": 1}),
        )
        .await;
    assert_eq!(cut.status, 200, "{}", cut.body);
    assert_eq!(vectors(&cut.body), vec![unit_mean(&[12], 3)]);
    let cut_raw = app
        .post(
            "/",
            &json!({"inputs": "hello world", "dimensions": 2, "normalize": false}),
        )
        .await;
    assert_eq!(vectors(&cut_raw.body), vec![mean(&[3, 4])[..2].to_vec()]);
}

#[tokio::test]
async fn tei_truncation_keeps_the_end_truncation_direction_names() {
    let app = spawn_app_configured(|settings| settings.max_tokens_per_input = 2).await;
    let long = "hello world dog";
    let refused = app.post("/", &json!({"inputs": ["dog", long]})).await;
    assert_eq!(
        refused.assert_error(422, "validation_error").as_deref(),
        Some("inputs[1]")
    );
    for (direction, kept) in [
        (json!("right"), [3, 4]),
        (json!("Right"), [3, 4]),
        (json!("left"), [4, 12]),
        (json!("Left"), [4, 12]),
    ] {
        let reply = app
            .post(
                "/",
                &json!({"inputs": long, "truncate": true, "truncation_direction": direction}),
            )
            .await;
        assert_eq!(reply.status, 200, "{direction}: {}", reply.body);
        assert_eq!(
            vectors(&reply.body),
            vec![unit_mean(&kept, 8)],
            "{direction}"
        );
    }
    let default = app
        .post("/", &json!({"inputs": long, "truncate": true}))
        .await;
    assert_eq!(vectors(&default.body), vec![unit_mean(&[3, 4], 8)]);
}

#[tokio::test]
async fn tei_errors_are_json_with_the_field() {
    let app = spawn_app().await;
    for (body, param) in [
        (
            json!({"inputs": "dog", "prompt_name": "query"}),
            "prompt_name",
        ),
        (json!({"inputs": "dog", "dimensions": 9}), "dimensions"),
        (json!({"inputs": "dog", "dimensions": 0}), "dimensions"),
        (json!({"inputs": []}), "inputs"),
        (json!({"inputs": [""]}), "inputs[0]"),
    ] {
        let reply = app.post("/tei/embed", &body).await;
        assert_eq!(
            reply.assert_error(422, "validation_error").as_deref(),
            Some(param),
            "{body}"
        );
    }
    for body in [
        json!({"inputs": 5}),
        json!({"inputs": "dog", "truncation_direction": "middle"}),
        json!({"inputs": "dog", "normalize": null}),
        json!({}),
    ] {
        let reply = app.post("/", &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.body);
        assert_eq!(reply.body["error"]["type"], "validation_error", "{body}");
    }
    let malformed = app.post_raw("/tei", "application/json", "{").await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    let too_many = spawn_app_configured(|settings| settings.max_batch_size = 1).await;
    let reply = too_many.post("/", &json!({"inputs": ["a", "b"]})).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
}
