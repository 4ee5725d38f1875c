//! Limits checked before the work (`src/input.rs`, `src/http/similar.rs`): a huge text is refused
//! (or cut) before it is tokenized, a response over `max_response_bytes` is refused from its
//! shape, word queries are capped by `max_query_words`; work past `request_timeout_secs` is
//! answered 503 `timeout` (`src/compute.rs`); and a weights file truncated under the server stops
//! model requests instead of killing the process with SIGBUS (`src/state.rs`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::ModelSpec;
use crate::helpers::{TestApp, spawn_app, spawn_app_configured, spawn_app_with};

#[tokio::test]
async fn a_text_over_max_input_bytes_is_refused_or_cut() {
    let app = spawn_app_configured(|s| s.max_input_bytes = 1000).await;
    let long = "hello ".repeat(200);
    let reply = app.post("/embed", &json!({"inputs": ["hi", long]})).await;
    assert_eq!(
        reply.assert_error(422, "validation_error").as_deref(),
        Some("inputs[1]")
    );
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("1200 bytes") && message.contains("max_input_bytes"),
        "{message}"
    );
    // With truncate, the first 1000 bytes are tokenized: 166 full words and a cut "hell".
    let cut = app
        .post(
            "/tokenize",
            &json!({"inputs": long, "truncate": true, "add_special_tokens": false}),
        )
        .await;
    assert_eq!(cut.status, 200, "{}", cut.body);
    let tokens = cut.body["data"][0]["tokens"].as_array().expect("tokens");
    assert_eq!(tokens.len(), 167, "{tokens:?}");
}

#[tokio::test]
async fn a_response_over_max_response_bytes_is_refused_before_the_work() {
    // The test model is 8 wide: 4 tokens of rows are at most 4 x 8 x 16 = 512 bytes as floats.
    let app = spawn_app_configured(|s| s.max_response_bytes = 500).await;
    let body = json!({"inputs": "hello world hello world", "pooling": "none", "add_special_tokens": false});
    let reply = app.post("/embed", &body).await;
    assert_eq!(
        reply.assert_error(422, "validation_error").as_deref(),
        Some("inputs")
    );
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("512 bytes") && message.contains("max_response_bytes"),
        "{message}"
    );
    // Base64 takes a third of the room: the same rows fit.
    let base64 = json!({"inputs": "hello world hello world", "pooling": "none",
        "add_special_tokens": false, "encoding_format": "base64"});
    assert_eq!(app.post("/embed", &base64).await.status, 200);
    let pooled = app
        .post("/v1/embeddings", &json!({"input": vec!["hello"; 3]}))
        .await;
    assert_eq!(pooled.status, 200, "{}", pooled.body);
    let many = app
        .post("/v1/embeddings", &json!({"input": vec!["hello"; 4]}))
        .await;
    assert_eq!(
        many.assert_error(422, "validation_error").as_deref(),
        Some("input")
    );
}

#[tokio::test]
async fn word_queries_are_capped_by_max_query_words() {
    let app = spawn_app_configured(|s| s.max_query_words = 3).await;
    let reply = app
        .get("/similar?positive=python,java&negative=rust,apple")
        .await;
    assert_eq!(
        reply.assert_error(422, "validation_error").as_deref(),
        Some("positive")
    );
    assert!(
        reply.body.to_string().contains("max_query_words"),
        "{}",
        reply.body
    );
    assert_eq!(
        app.get("/similar?positive=python,java&negative=rust")
            .await
            .status,
        200
    );
    let words = vec!["python"; 4];
    let post = app.post("/similar", &json!({"positive": words})).await;
    assert_eq!(
        post.assert_error(422, "validation_error").as_deref(),
        Some("positive")
    );
    let odd = app.get("/doesnt_match?words=python,java,rust,apple").await;
    assert_eq!(
        odd.assert_error(422, "validation_error").as_deref(),
        Some("words")
    );
}

#[tokio::test]
async fn a_huge_analogy_is_refused_at_once_with_the_default_cap() {
    let app = spawn_app().await;
    let words = vec!["python"; 180_000];
    let started = Instant::now();
    let reply = app.post("/similar", &json!({"positive": words})).await;
    assert_eq!(
        reply.assert_error(422, "validation_error").as_deref(),
        Some("positive")
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_weights_file_truncated_under_the_server_stops_model_requests() {
    let mut weights = PathBuf::new();
    let app = spawn_app_configured(|s| weights = s.model_dir.join("model.safetensors")).await;
    assert_eq!(
        app.post("/embed", &json!({"inputs": "hello"})).await.status,
        200
    );
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&weights)
        .expect("opens the weights");
    file.set_len(64).expect("truncates");
    // A row past the new end would be SIGBUS: the request is refused instead.
    let reply = app.post("/embed", &json!({"inputs": "hello"})).await;
    reply.assert_error(503, "model_file_changed");
    assert!(
        reply.body.to_string().contains("truncated"),
        "{}",
        reply.body
    );
    assert_eq!(app.get("/health/ready").await.status, 503);
    let info = app.get("/info").await;
    let change = info.body["model"]["weights_file_change"]
        .as_str()
        .unwrap_or_default();
    assert!(change.contains("model.safetensors"), "{}", info.body);
    // Word routes do not read the model and keep serving.
    assert_eq!(app.get("/similar?word=python").await.status, 200);
}

#[tokio::test]
async fn in_read_mode_a_truncated_weights_file_changes_nothing() {
    let mut weights = PathBuf::new();
    let app = spawn_app_configured(|s| {
        weights = s.model_dir.join("model.safetensors");
        s.load_mode = embedserve::config::LoadMode::Read;
    })
    .await;
    let before = app.post("/embed", &json!({"inputs": "hello"})).await;
    assert_eq!(before.status, 200);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&weights)
        .expect("opens the weights");
    file.set_len(64).expect("truncates");
    let after = app.post("/embed", &json!({"inputs": "hello"})).await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.body["data"], before.body["data"]);
    assert_eq!(app.get("/health/ready").await.status, 200);
    assert_eq!(app.get("/info").await.body["model"]["load_mode"], "read");
}

#[tokio::test]
async fn work_past_request_timeout_secs_is_answered_503_timeout() {
    // One compute thread and a 1 s timeout; each request means 16 x 8192 token rows 1024 wide
    // (134M additions), and 32 arrive at once: the queue behind the first few outlasts 1 s.
    let wide = ModelSpec {
        dim: 1024,
        ..ModelSpec::default()
    };
    let app = spawn_app_with(&wide, |s| {
        s.compute_threads = 1;
        s.request_timeout_secs = 1;
        s.max_batch_tokens = 16 * 8192;
    })
    .await;
    let ids: Vec<u32> = (0..8192).map(|i| i % 24).collect();
    let body = json!({"input_ids": vec![ids; 16], "pooling": "mean"});
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let request = app.request(Method::POST, "/embed").json(&body);
        requests.spawn(async move {
            let response = request.send().await.expect("sent");
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("a JSON body");
            (status, body)
        });
    }
    let replies = requests.join_all().await;
    let timed_out: Vec<&Value> = replies
        .iter()
        .filter(|(status, _)| *status != 200)
        .map(|(status, body)| {
            assert_eq!(*status, 503, "{body}");
            assert_eq!(body["error"]["type"], "timeout", "{body}");
            body
        })
        .collect();
    assert!(
        !timed_out.is_empty(),
        "32 requests of heavy work on one thread all finished within 1 s"
    );
    let message = timed_out[0]["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("within 1 seconds"), "{message}");
    // Timed-out jobs that had not started are skipped: only the job running when they timed out
    // still holds the thread, so it is free within about one job's time. Were they all run, the
    // wait would be that of the ~30 jobs queued. One job's time is measured here, not assumed:
    // under load a job can itself outlast the 1 s timeout.
    let leftover = time_until_free(&app).await;
    let started = Instant::now();
    let alone = app.post("/embed", &body).await;
    assert!(matches!(alone.status, 200 | 503), "{}", alone.body);
    let one_job = started.elapsed() + time_until_free(&app).await;
    assert!(
        leftover < one_job * 4 + Duration::from_millis(250),
        "the thread was free {leftover:?} after the burst; one job alone takes {one_job:?}"
    );
}

/// How long until a one-token request is answered 200, asking again after each 503 `timeout`.
async fn time_until_free(app: &TestApp) -> Duration {
    let started = Instant::now();
    for _ in 0..120 {
        let reply = app.post("/embed", &json!({"input_ids": [[1]]})).await;
        if reply.status == 200 {
            return started.elapsed();
        }
        assert_eq!(reply.body["error"]["type"], "timeout", "{}", reply.body);
    }
    panic!("the compute thread stayed busy for 120 timeouts in a row");
}
