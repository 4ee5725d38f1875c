//! The router and its middleware stack (`src/http/mod.rs`): `GET /metrics` in Prometheus text,
//! CORS, response compression, request ids, and the JSON answers to unknown routes and methods.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_configured};

#[tokio::test]
async fn metrics_are_prometheus_text_with_the_loaded_model_and_store() {
    let app = spawn_app().await;
    let reply = app.get("/metrics").await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").starts_with("text/plain"));
    for needle in [
        r#"embedserve_model_info{model="test-model""#,
        r#"embedserve_word2vec_info{store="planted""#,
    ] {
        assert!(
            reply.text().contains(needle),
            "{needle} missing from /metrics"
        );
    }
}

#[tokio::test]
async fn cors_preflight_compression_and_request_ids() {
    let app = spawn_app_configured(|s| s.cors_origins = vec!["https://app.example".into()]).await;
    let preflight = app
        .send(
            app.request(Method::OPTIONS, "/embed")
                .header("origin", "https://app.example")
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization,content-type",
                ),
        )
        .await;
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        "https://app.example"
    );
    let allowed = preflight
        .header("access-control-allow-headers")
        .to_ascii_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );

    let big = json!({"inputs": vec!["the quick brown fox"; 20]});
    let embed = || app.request(Method::POST, "/embed").json(&big);
    let plain = embed().send().await.expect("sent");
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.expect("body");
    for encoding in ["gzip", "zstd"] {
        // Read raw: the client does not decompress, so the body is not JSON to `TestApp::send`.
        let response = embed()
            .header("accept-encoding", encoding)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.headers()["content-encoding"], encoding);
        let compressed = response.bytes().await.expect("body");
        assert!(compressed.len() < plain.len(), "{encoding} compresses");
        let decoded = match encoding {
            "gzip" => {
                let mut decoded = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(&compressed[..]),
                    &mut decoded,
                )
                .expect("gzip");
                decoded
            }
            _ => zstd::stream::decode_all(&compressed[..]).expect("zstd"),
        };
        assert!(
            decoded == plain,
            "{encoding}: the decoded body is the plain one"
        );
    }

    let live = || app.request(Method::GET, "/health/live");
    let echoed = app.send(live().header("x-request-id", "abc-123")).await;
    assert_eq!(echoed.header("x-request-id"), "abc-123");
    let added = app.send(live()).await;
    assert_eq!(added.header("x-request-id").len(), 36, "a UUID is added");
    let longest = "t".repeat(128);
    let kept = app.send(live().header("x-request-id", &longest)).await;
    assert_eq!(kept.header("x-request-id"), longest);
    for unusable in [
        "t".repeat(129),
        "a b".into(),
        "<script>".into(),
        "a\"b".into(),
    ] {
        let replaced = app.send(live().header("x-request-id", &unusable)).await;
        let id = replaced.header("x-request-id");
        assert_eq!(
            id.len(),
            36,
            "{unusable:?} is replaced by a UUID, got {id:?}"
        );
    }
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
async fn options_without_cors_is_routed_like_any_method() {
    let app = spawn_app_configured(|s| s.cors_origins = vec![String::new()]).await;
    let options = |path: &str| {
        app.request(Method::OPTIONS, path)
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
    };
    let reply = app.send(options("/embed")).await;
    reply.assert_error(405, "method_not_allowed");
    assert!(reply.headers.get("access-control-allow-origin").is_none());
    app.send(options("/no/such/path"))
        .await
        .assert_error(404, "not_found");
    let text = app.text("/metrics").await;
    let counted = r#"embedserve_requests_total{route="/embed",method="OPTIONS",status="405"}"#;
    assert!(text.contains(counted), "{counted} missing from /metrics");

    let keyed = spawn_app_configured(|s| s.api_keys = vec!["k1".into()]).await;
    keyed
        .send(keyed.request(Method::OPTIONS, "/embed"))
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn cors_allows_the_listed_origins_only_and_star_allows_any() {
    let listed =
        spawn_app_configured(|s| s.cors_origins = vec!["https://app.example".into()]).await;
    let from = |app: &crate::helpers::TestApp, method: Method, origin: &str| {
        let request = app.request(method.clone(), "/health/live");
        let request = request.header("origin", origin);
        if method == Method::OPTIONS {
            request.header("access-control-request-method", "GET")
        } else {
            request
        }
    };
    for method in [Method::GET, Method::OPTIONS] {
        let allowed = listed
            .send(from(&listed, method.clone(), "https://app.example"))
            .await;
        assert_eq!(
            allowed.header("access-control-allow-origin"),
            "https://app.example",
            "{method}"
        );
        let refused = listed
            .send(from(&listed, method.clone(), "https://evil.example"))
            .await;
        assert!(
            refused.headers.get("access-control-allow-origin").is_none(),
            "{method}: an unlisted origin is allowed"
        );
    }
    // The actual request is answered either way: CORS is the browser's check, not the server's.
    let refused = listed
        .send(from(&listed, Method::GET, "https://evil.example"))
        .await;
    assert_eq!(refused.status, 200);

    let any = spawn_app_configured(|s| s.cors_origins = vec!["*".into()]).await;
    for method in [Method::GET, Method::OPTIONS] {
        let reply = any
            .send(from(&any, method.clone(), "https://anyone.example"))
            .await;
        assert_eq!(reply.header("access-control-allow-origin"), "*", "{method}");
    }
}
