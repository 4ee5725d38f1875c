//! Every failure is a JSON error body with a stable type and the right status.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let request = app
        .client
        .post(format!("{}/embed", app.address))
        .header("content-type", "application/json")
        .body("{\"inputs\": ");
    app.send(request)
        .await
        .assert_error(400, "malformed_request");
}

#[tokio::test]
async fn wrong_content_type_is_415_and_curl_default_is_accepted() {
    let app = spawn_app().await;
    let request = app
        .client
        .post(format!("{}/tokenize", app.address))
        .header("content-type", "text/plain")
        .body("{\"inputs\": \"dog\"}");
    app.send(request)
        .await
        .assert_error(415, "unsupported_media_type");
    let request = app
        .client
        .post(format!("{}/tokenize", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("{\"inputs\": \"dog\"}");
    assert_eq!(app.send(request).await.status, 200);
}

#[tokio::test]
async fn unknown_route_is_404_and_wrong_method_is_405() {
    let app = spawn_app().await;
    let reply = app.get("/nope").await;
    reply.assert_error(404, "not_found");
    let reply = app.get("/embed").await;
    reply.assert_error(405, "method_not_allowed");
    let reply = app.post("/health", &json!({})).await;
    reply.assert_error(405, "method_not_allowed");
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let app = spawn_app_with(&Default::default(), |s| s.body_limit_bytes = 64).await;
    let big = "dog ".repeat(100);
    app.post("/embed", &json!({"inputs": big}))
        .await
        .assert_error(413, "payload_too_large");
}

#[tokio::test]
async fn load_is_shed_with_429_and_retry_after() {
    let app = spawn_app_with(&Default::default(), |s| {
        s.max_concurrent_requests = 1;
        s.max_batch_tokens = 1 << 20;
    })
    .await;
    // Many concurrent large requests against one admission slot: some must be shed.
    let body =
        json!({"inputs": vec!["the quick brown fox jumps over the lazy dog ".repeat(50); 64]});
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let request = app
            .client
            .post(format!("{}/embed", app.address))
            .json(&body);
        requests.spawn(async move { request.send().await.expect("sent") });
    }
    let mut statuses = Vec::new();
    let mut retry_after = None;
    while let Some(response) = requests.join_next().await {
        let response = response.expect("joined");
        if response.status() == 429 {
            retry_after = response.headers().get("retry-after").cloned();
            let body: serde_json::Value = response.json().await.expect("JSON body");
            assert_eq!(body["error"]["type"], "overloaded");
            statuses.push(429);
        } else {
            statuses.push(response.status().as_u16());
        }
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "no request was shed: {statuses:?}");
    assert_eq!(
        retry_after.as_ref().and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(
        app.post("/embed", &json!({"inputs": "dog"})).await.status,
        200,
        "recovers"
    );
}
