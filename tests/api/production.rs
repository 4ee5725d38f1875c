//! The production surface: OpenAI-compatible embeddings, metrics, API keys, CORS, compression,
//! request ids and the served contract.

use base64::Engine;
use serde_json::{Value, json};

use crate::common::{stored, test_value};
use crate::helpers::{spawn_app, spawn_app_with};

fn unit_mean(ids: &[usize], dims: usize) -> Vec<f32> {
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
    let first: Vec<f32> = reply.body["data"][0]["embedding"]
        .as_array()
        .expect("floats")
        .iter()
        .map(|v| v.as_f64().expect("n") as f32)
        .collect();
    assert_eq!(reply.body["data"][0]["object"], "embedding");
    assert_eq!(first, unit_mean(&[3, 4], 8));

    let reply = app
        .post(
            "/v1/embeddings",
            &json!({"input": [[12]], "encoding_format": "base64", "dimensions": 3, "user": "u1"}),
        )
        .await;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(reply.body["data"][0]["embedding"].as_str().expect("b64"))
        .expect("base64");
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(values, unit_mean(&[12], 3));
}

#[tokio::test]
async fn openai_errors_use_openai_shape() {
    let app = spawn_app().await;
    let reply = app
        .post("/v1/embeddings", &json!({"input": "dog", "dimensions": 99}))
        .await;
    assert_eq!(
        reply.assert_error(422, "validation_error").as_deref(),
        Some("dimensions")
    );
    let reply = app
        .post("/v1/embeddings", &json!({"input": [1, 2, 999]}))
        .await;
    assert_eq!(
        reply.assert_error(422, "validation_error").as_deref(),
        Some("input[2]")
    );
    let reply = app.post("/v1/embeddings", &json!({"input": ""})).await;
    assert_eq!(
        reply.assert_error(422, "validation_error").as_deref(),
        Some("input[0]")
    );
    let models = app.get("/v1/models").await;
    assert_eq!(models.body["data"][0]["id"], "test-model");
    assert_eq!(models.body["object"], "list");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = spawn_app().await;
    app.post("/embed", &json!({"inputs": ["dog", "hello world"]}))
        .await;
    app.get("/similar?word=python").await;
    app.get("/no/such/path/12345").await;
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("sent");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    let text = response.text().await.expect("text");
    for needle in [
        r#"embedserve_requests_total{route="/embed",method="POST",status="200"}"#,
        r#"route="/similar""#,
        r#"route="unmatched""#,
        "embedserve_request_duration_seconds_bucket",
        r#"embedserve_tokens_total{route="/embed"}"#,
        "embedserve_inputs_per_request_bucket",
        "embedserve_requests_in_flight",
        r#"embedserve_model_info{model="test-model""#,
        r#"embedserve_word2vec_info{store="planted""#,
    ] {
        assert!(text.contains(needle), "{needle} missing from /metrics");
    }
    assert!(!text.contains("12345"), "raw paths must not become labels");
}

#[tokio::test]
async fn api_keys_guard_everything_but_health_and_metrics() {
    let app = spawn_app_with(&Default::default(), |s| {
        s.api_keys = vec!["k1".into(), "second-key".into()]
    })
    .await;
    app.post("/embed", &json!({"inputs": "dog"}))
        .await
        .assert_error(401, "unauthorized");
    let wrong = app
        .client
        .post(format!("{}/embed", app.address))
        .bearer_auth("k2")
        .json(&json!({"inputs": "dog"}));
    app.send(wrong).await.assert_error(401, "unauthorized");
    let right = app
        .client
        .post(format!("{}/embed", app.address))
        .bearer_auth("second-key")
        .json(&json!({"inputs": "dog"}));
    assert_eq!(app.send(right).await.status, 200);
    assert_eq!(app.get("/health/ready").await.status, 200);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("sent");
    assert_eq!(metrics.status(), 200);

    let guarded = spawn_app_with(&Default::default(), |s| {
        s.api_keys = vec!["k1".into()];
        s.auth_protects_health = true;
    })
    .await;
    guarded
        .get("/health/ready")
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn cors_preflight_compression_and_request_ids() {
    let app = spawn_app_with(&Default::default(), |s| {
        s.cors_origins = vec!["https://app.example".into()]
    })
    .await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/embed", app.address))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );

    let big = json!({"inputs": vec!["the quick brown fox"; 20]});
    for encoding in ["gzip", "zstd"] {
        let response = app
            .client
            .post(format!("{}/embed", app.address))
            .header("accept-encoding", encoding)
            .json(&big)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.headers()["content-encoding"], encoding);
    }

    let response = app
        .client
        .get(format!("{}/health/live", app.address))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    let response = app
        .client
        .get(format!("{}/health/live", app.address))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response.headers()["x-request-id"].len(),
        36,
        "a UUID is added"
    );
}

#[tokio::test]
async fn the_contract_and_docs_are_served() {
    let app = spawn_app().await;
    let yaml = app.text("/openapi.yaml").await;
    assert_eq!(
        yaml,
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
            .expect("file")
    );
    let json: Value = app.get("/openapi.json").await.body;
    assert_eq!(json["openapi"], "3.1.0");
    let page = app.text("/docs").await;
    assert!(
        page.contains("/openapi.json") && !page.contains("http://") && !page.contains("https://"),
        "offline page"
    );
}
