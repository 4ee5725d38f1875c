//! Per-request observation (`src/http/observe.rs`): requests, latency, tokens and inputs are
//! counted under their route template, never under the raw path, and under the method's name
//! only for standard methods. Test servers in this process share one recorder, so exact values
//! are checked on the binary run as its own process, where every count is this test's own.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::startup::{embedded_tokens, spawn_generated_server, terminate};

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = spawn_app().await;
    app.post("/embed", &json!({"inputs": ["dog", "hello world"]}))
        .await;
    app.get("/similar?word=python").await;
    app.get("/no/such/path/12345").await;
    let reply = app.get("/metrics").await;
    let text = reply.text();
    for needle in [
        r#"embedserve_requests_total{route="/embed",method="POST",model="test-model",status="200"}"#,
        r#"route="/similar""#,
        r#"route="unmatched""#,
        "embedserve_request_duration_seconds_bucket",
        r#"embedserve_tokens_total{route="/embed",model="test-model"}"#,
        "embedserve_inputs_per_request_bucket",
        "embedserve_requests_in_flight",
    ] {
        assert!(text.contains(needle), "{needle} missing from /metrics");
    }
    assert!(!text.contains("12345"), "raw paths must not become labels");
}

#[tokio::test]
async fn made_up_methods_share_one_label() {
    let app = spawn_app().await;
    for i in 0..50 {
        let method = Method::from_bytes(format!("JUNKMETHOD{i}").as_bytes()).expect("a token");
        for path in ["/metrics", "/embed", "/no/such/path"] {
            let reply = app.send(app.request(method.clone(), path)).await;
            assert!(
                [404, 405].contains(&reply.status),
                "{method} {path}: {}",
                reply.status
            );
        }
    }
    let text = app.text("/metrics").await;
    assert!(
        !text.contains("JUNKMETHOD"),
        "made-up methods became labels"
    );
    for needle in [
        r#"embedserve_requests_total{route="/metrics",method="other",status="405"}"#,
        r#"embedserve_requests_total{route="unmatched",method="other",status="404"}"#,
    ] {
        assert!(text.contains(needle), "{needle} missing from /metrics");
    }
}

/// The value of the metric line that starts with `series` (name and labels, exactly).
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.trim().parse().expect("a number"))
}

#[tokio::test]
async fn metric_values_of_a_server_of_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, base) = spawn_generated_server(dir.path(), &[]).await;
    let client = reqwest::Client::new();
    let mut tokens = 0;
    for inputs in [json!(["dog", "hello world"]), json!(["a b c d", "e", "f"])] {
        let reply: serde_json::Value = client
            .post(format!("{base}/embed"))
            .json(&json!({"inputs": inputs}))
            .send()
            .await
            .expect("embeds")
            .json()
            .await
            .expect("json");
        tokens += embedded_tokens(&reply);
    }
    let missing = client
        .get(format!("{base}/no/such/path"))
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 404);
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    terminate(&child.0);
    child.0.wait().expect("exits");
    // The model is named after its directory.
    let model = dir
        .path()
        .file_name()
        .and_then(|name| name.to_str())
        .expect("a UTF-8 name");
    let route_model = format!(r#"route="/embed",model="{model}""#);
    for (series, want) in [
        (
            format!(
                r#"embedserve_requests_total{{route="/embed",method="POST",model="{model}",status="200"}}"#
            ),
            2.0,
        ),
        (
            r#"embedserve_requests_total{route="unmatched",method="GET",status="404"}"#.to_owned(),
            1.0,
        ),
        (
            format!("embedserve_tokens_total{{{route_model}}}"),
            tokens as f64,
        ),
        (
            format!("embedserve_inputs_per_request_sum{{{route_model}}}"),
            5.0,
        ),
        (
            format!("embedserve_inputs_per_request_count{{{route_model}}}"),
            2.0,
        ),
        (
            format!(
                r#"embedserve_request_duration_seconds_count{{route="/embed",method="POST",model="{model}"}}"#
            ),
            2.0,
        ),
        // Only the /metrics request itself is being served while the text is rendered.
        ("embedserve_requests_in_flight".to_owned(), 1.0),
    ] {
        assert_eq!(metric(&text, &series), Some(want), "{series} in\n{text}");
    }
    assert!(
        tokens > 5,
        "the generated tokenizer splits the inputs: {tokens}"
    );
}
