//! Health endpoints and `GET /info`.

use serde_json::{Value, json};

use crate::helpers::{fasttext_fixture, spawn_app, spawn_app_configured};

#[tokio::test]
async fn live_ready_and_health_answer_once_loaded() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/health/live").await.body,
        json!({"status": "alive"})
    );
    assert_eq!(
        app.get("/health/ready").await.body,
        json!({"status": "ready"})
    );
    assert_eq!(app.get("/health").await.body, json!({"status": "ready"}));
}

#[tokio::test]
async fn info_describes_model_and_limits() {
    let app = spawn_app().await;
    let reply = app.get("/info").await;
    assert_eq!(reply.status, 200);
    let model = &reply.body["model"];
    assert_eq!(model["name"], "test-model");
    assert_eq!(model["model_type"], "test");
    assert_eq!(model["rows"], 24);
    assert_eq!(model["hidden_size"], 8);
    assert_eq!(model["dtype"], "bf16");
    assert_eq!(model["tensor"], "model.embed_tokens.weight");
    assert_eq!(model["tokenizer_vocab_size"], 19);
    assert_eq!(reply.body["limits"]["max_batch_size"], 64);
    assert_eq!(reply.body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(reply.body["word2vec"]["words"], 7);
    assert_eq!(reply.body["word2vec"]["dimension"], 4);
    assert_eq!(reply.body["word2vec"]["format"], "binary");
    assert_eq!(reply.body["word2vec"]["subwords"], Value::Null);
}

#[tokio::test]
async fn info_gives_a_fasttext_stores_ngram_settings() {
    let app = spawn_app_configured(|s| s.word2vec = fasttext_fixture("lee-ft12.bin")).await;
    let store = &app.get("/info").await.body["word2vec"];
    assert_eq!(store["format"], "fasttext");
    assert_eq!(store["words"], 1750);
    assert_eq!(store["dimension"], 12);
    assert_eq!(
        store["subwords"],
        json!({"min_n": 3, "max_n": 6, "buckets": 2000})
    );
}
