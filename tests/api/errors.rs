//! Failures no single route owns: load beyond the compute pool's admission (`src/compute.rs`) is
//! shed with a JSON 429 and `Retry-After`, and the server recovers. Body errors are in
//! `extract.rs`, unknown routes and methods in `router.rs`, each route's own in its file.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app_configured;

#[tokio::test]
async fn load_is_shed_with_429_and_retry_after() {
    let app = spawn_app_configured(|s| {
        s.max_concurrent_requests = 1;
        s.max_batch_tokens = 1 << 20;
    })
    .await;
    // Many concurrent large requests against one admission slot: some must be shed.
    let body =
        json!({"inputs": vec!["the quick brown fox jumps over the lazy dog ".repeat(50); 64]});
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let request = app.request(Method::POST, "/embed").json(&body);
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
