//! Request bodies (`src/http/extract.rs`): malformed JSON is 400, other media types 415 (curl's
//! default form type is read as JSON), bodies over the limit 413.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_configured};

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    app.post_raw("/embed", "application/json", "{\"inputs\": ")
        .await
        .assert_error(400, "malformed_request");
}

#[tokio::test]
async fn wrong_content_type_is_415_and_curl_default_is_accepted() {
    let app = spawn_app().await;
    let body = "{\"inputs\": \"dog\"}";
    app.post_raw("/tokenize", "text/plain", body)
        .await
        .assert_error(415, "unsupported_media_type");
    let curl_default = "application/x-www-form-urlencoded";
    assert_eq!(
        app.post_raw("/tokenize", curl_default, body).await.status,
        200
    );
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let app = spawn_app_configured(|s| s.body_limit_bytes = 64).await;
    let big = "dog ".repeat(100);
    app.post("/embed", &json!({"inputs": big}))
        .await
        .assert_error(413, "payload_too_large");
}
