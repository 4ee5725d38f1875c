//! API keys (`src/http/auth.rs`): `Authorization: Bearer <key>` guards every route but health,
//! metrics and the contract, and health too when `auth_protects_health` is set.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app_configured;

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
    assert_eq!(app.get("/health/ready").await.status, 200);
    assert_eq!(app.get("/metrics").await.status, 200);

    let guarded = spawn_app_configured(|s| {
        s.api_keys = vec!["k1".into()];
        s.auth_protects_health = true;
    })
    .await;
    guarded
        .get("/health/ready")
        .await
        .assert_error(401, "unauthorized");
}
