//! Request bodies (`src/http/extract.rs`): malformed JSON is 400, other media types 415 (curl's
//! default form type is read as JSON), bodies over the limit 413, and `null` on any optional
//! field the same 422 naming the field.

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

#[tokio::test]
async fn null_on_every_optional_field_is_a_422_naming_it() {
    let app = spawn_app().await;
    // Each body's route, a valid body, and the optional fields it takes (`inputs` and
    // `input_ids` of /embed are optional each, one of them required).
    let cases = [
        (
            "/tokenize",
            json!({"inputs": "dog"}),
            &["add_special_tokens", "truncate"][..],
        ),
        (
            "/embed",
            json!({"inputs": "dog"}),
            &[
                "input_ids",
                "add_special_tokens",
                "pooling",
                "normalize",
                "encoding_format",
                "truncate",
            ][..],
        ),
        ("/embed", json!({"input_ids": [1]}), &["inputs"][..]),
        (
            "/v1/embeddings",
            json!({"input": "dog"}),
            &["encoding_format", "dimensions", "model", "user"][..],
        ),
        (
            "/similar",
            json!({"positive": ["python"]}),
            &["negative", "topn", "restrict_vocab", "exact", "vector"][..],
        ),
        (
            "/similar",
            json!({"vector": [1, 0, 0, 0]}),
            &["positive"][..],
        ),
    ];
    for (route, valid, fields) in cases {
        assert_eq!(app.post(route, &valid).await.status, 200, "{route} {valid}");
        for field in fields {
            let mut body = valid.clone();
            body[*field] = serde_json::Value::Null;
            let reply = app.post(route, &body).await;
            assert_eq!(
                reply.assert_error(422, "validation_error").as_deref(),
                Some(*field),
                "{route} {body}"
            );
        }
    }
}
