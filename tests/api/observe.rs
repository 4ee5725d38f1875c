//! Per-request observation (`src/http/observe.rs`): requests, latency, tokens and inputs are
//! counted under their route template, never under the raw path, and under the method's name
//! only for standard methods.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

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
        r#"embedserve_requests_total{route="/embed",method="POST",status="200"}"#,
        r#"route="/similar""#,
        r#"route="unmatched""#,
        "embedserve_request_duration_seconds_bucket",
        r#"embedserve_tokens_total{route="/embed"}"#,
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
