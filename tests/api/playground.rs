//! The playground (`src/http/playground.rs`): `GET /` and its assets, public, offline and under
//! a strict Content-Security-Policy. The page's behaviour is tested in a real browser by
//! `scripts/browser-check.sh` (`tests/browser/`).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app, spawn_app_configured};

/// The local files a text references as `attribute="/playground/..."` or `from "./x.js"`.
fn references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["=\"/playground/", "from \"./"] {
        for piece in text.split(marker).skip(1) {
            let name = piece.split('"').next().expect("a quoted name");
            found.push(name.to_owned());
        }
    }
    found
}

/// Fetches `/playground/NAME` and checks its status, type and security headers; returns the body.
async fn fetch_asset(app: &TestApp, name: &str) -> String {
    let reply = app.get(&format!("/playground/{name}")).await;
    assert_eq!(reply.status, 200, "{name}: {}", reply.body);
    let expected = match name.rsplit('.').next() {
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        other => panic!("{name}: unexpected kind {other:?}"),
    };
    assert!(reply.header("content-type").starts_with(expected), "{name}");
    assert_eq!(reply.header("x-content-type-options"), "nosniff", "{name}");
    reply.text().to_owned()
}

#[tokio::test]
async fn the_page_and_every_file_it_loads_are_served_under_a_strict_policy() {
    let app = spawn_app().await;
    let page = app.get("/").await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    let policy = page.header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    let html = page.text();
    assert!(!html.contains("<style"), "no inline stylesheet");
    assert!(!html.contains(" style="), "no inline style attribute");
    assert!(!html.contains("<script>"), "no inline script");
    assert!(
        !html.contains("src=\"http"),
        "nothing loaded from elsewhere"
    );

    // Every file the page names, and every module those import, is served.
    let mut pending = references(html);
    let mut seen = Vec::new();
    while let Some(name) = pending.pop() {
        if seen.contains(&name) {
            continue;
        }
        let body = fetch_asset(&app, &name).await;
        // The SVG namespace is a name, not a request; any other absolute URL would be one.
        let offline = body.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !offline.contains("http://") && !offline.contains("https://"),
            "{name} names another origin"
        );
        pending.extend(references(&body));
        seen.push(name);
    }
    for expected in [
        "main.js",
        "api.js",
        "tokens.js",
        "map.js",
        "pca.js",
        "base.css",
        "icon.svg",
    ] {
        assert!(seen.iter().any(|n| n == expected), "{expected} in {seen:?}");
    }
    for testid in [
        "tokenize-input",
        "tokenize-submit",
        "similar-input",
        "similar-submit",
        "map-input",
        "map-submit",
    ] {
        assert!(
            html.contains(&format!("data-testid=\"{testid}\"")),
            "{testid}"
        );
    }
}

#[tokio::test]
async fn unknown_assets_are_json_404s() {
    let app = spawn_app().await;
    for path in [
        "/playground/missing.js",
        "/playground/..%2Fopenapi.yaml",
        "/playground/",
    ] {
        app.get(path).await.assert_error(404, "not_found");
    }
}

#[tokio::test]
async fn the_page_needs_no_key_but_the_api_it_calls_does() {
    let app = spawn_app_configured(|s| s.api_keys = vec!["page-key".into()]).await;
    assert_eq!(app.get("/").await.status, 200);
    fetch_asset(&app, "main.js").await;
    app.get("/info").await.assert_error(401, "unauthorized");
    // Only fetching the page is public: another method on `/` is an API call and needs the key.
    app.post("/", &json!({"inputs": "dog"}))
        .await
        .assert_error(401, "unauthorized");
    app.post("/vectors", &json!({"words": ["python"]}))
        .await
        .assert_error(401, "unauthorized");
    let request = app
        .request(Method::POST, "/vectors")
        .bearer_auth("page-key")
        .json(&json!({"words": ["python"]}));
    assert_eq!(app.send(request).await.status, 200);
}
