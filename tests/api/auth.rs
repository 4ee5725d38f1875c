//! API keys (`src/http/auth.rs`): `Authorization: Bearer <key>` guards every route but health,
//! metrics and the contract, and health and metrics too when `auth_protects_health` is set.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_configured};

/// The routes `auth_protects_health` covers (`config/default.toml`).
const HEALTH_AND_METRICS: [&str; 4] = ["/health", "/health/live", "/health/ready", "/metrics"];

#[tokio::test]
async fn api_keys_guard_everything_but_health_and_metrics() {
    let app = spawn_app_configured(|s| s.api_keys = vec!["k1".into(), "second-key".into()]).await;
    app.post("/embed", &json!({"inputs": "dog"}))
        .await
        .assert_error(401, "unauthorized");
    let with_key = |key: &str| {
        app.request(Method::POST, "/embed")
            .bearer_auth(key)
            .json(&json!({"inputs": "dog"}))
    };
    app.send(with_key("k2"))
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(app.send(with_key("second-key")).await.status, 200);
    for path in HEALTH_AND_METRICS {
        assert_eq!(app.get(path).await.status, 200, "{path} without a key");
    }
}

/// GETs `path` with `key` as the bearer token.
async fn get_with_key(app: &TestApp, path: &str, key: &str) -> u16 {
    app.send(app.request(Method::GET, path).bearer_auth(key))
        .await
        .status
}

#[tokio::test]
async fn auth_protects_health_guards_health_and_metrics() {
    let guarded = spawn_app_configured(|s| {
        s.api_keys = vec!["k1".into()];
        s.auth_protects_health = true;
    })
    .await;
    for path in HEALTH_AND_METRICS {
        guarded.get(path).await.assert_error(401, "unauthorized");
        assert_eq!(get_with_key(&guarded, path, "wrong").await, 401, "{path}");
        assert_eq!(get_with_key(&guarded, path, "k1").await, 200, "{path}");
    }
    // The contract stays public: a client needs it to learn how to authenticate.
    assert_eq!(guarded.get("/openapi.yaml").await.status, 200);
}
