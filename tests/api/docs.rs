//! The contract, served (`src/http/docs.rs`): `/openapi.yaml` as committed, `/openapi.json` and
//! an offline `/docs` page.

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_contract_and_docs_are_served() {
    let app = spawn_app().await;
    let yaml = app.text("/openapi.yaml").await;
    assert_eq!(
        yaml,
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
            .expect("file")
    );
    let json: Value = app.get("/openapi.json").await.body;
    assert_eq!(json["openapi"], "3.1.0");
    let page = app.text("/docs").await;
    assert!(
        page.contains("/openapi.json") && !page.contains("http://") && !page.contains("https://"),
        "offline page"
    );
}
