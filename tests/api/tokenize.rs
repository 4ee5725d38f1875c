//! `POST /tokenize`.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_configured, spawn_qwen_app};

#[tokio::test]
async fn tokens_carry_ids_pieces_offsets_and_text() {
    let app = spawn_app().await;
    let reply = app
        .post("/tokenize", &json!({"inputs": "Hello  WORLD!"}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["model"], "test-model");
    let item = &reply.body["data"][0];
    assert_eq!(item["index"], 0);
    assert_eq!(item["ids"], json!([3, 4, 16]));
    assert_eq!(
        item["tokens"][1],
        json!({"id": 4, "token": "world", "text": "WORLD", "start": 7, "end": 12, "special": false})
    );
    assert_eq!(
        reply.body["usage"],
        json!({"prompt_tokens": 3, "total_tokens": 3})
    );
}

#[tokio::test]
async fn batches_keep_order_and_special_tokens_are_marked() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/tokenize",
            &json!({"inputs": ["the dog", "python"], "add_special_tokens": true}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = reply.body["data"].as_array().expect("data");
    assert_eq!(data.len(), 2);
    assert_eq!(data[1]["index"], 1);
    assert_eq!(data[0]["ids"], json!([1, 5, 12, 2]));
    assert_eq!(data[0]["tokens"][0]["special"], true);
    assert_eq!(data[0]["tokens"][0]["text"], "");
    assert_eq!(data[1]["ids"], json!([1, 13, 2]));
    assert_eq!(reply.body["usage"]["prompt_tokens"], 7);
}

#[tokio::test]
async fn long_inputs_are_refused_or_truncated() {
    let app = spawn_app_configured(|s| s.max_tokens_per_input = 3).await;
    let reply = app
        .post(
            "/tokenize",
            &json!({"inputs": ["dog", "the quick brown fox"]}),
        )
        .await;
    reply.assert_invalid("inputs[1]");
    let reply = app
        .post(
            "/tokenize",
            &json!({"inputs": "the quick brown fox", "truncate": true}),
        )
        .await;
    assert_eq!(reply.body["data"][0]["ids"], json!([5, 6, 7]));
}

#[tokio::test]
async fn qwen_splits_hi_nihao_as_transformers_does() {
    let Some(app) = spawn_qwen_app("qwen", 8).await else {
        return;
    };
    let reply = app.post("/tokenize", &json!({"inputs": "Hi, 你好~"})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let item = &reply.body["data"][0];
    assert_eq!(item["ids"], json!([13048, 11, 220, 108386, 93]));
    let pieces: Vec<_> = item["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|t| (t["token"].clone(), t["text"].clone()))
        .collect();
    assert_eq!(
        pieces,
        [
            ("Hi", "Hi"),
            (",", ","),
            ("Ġ", " "),
            ("ä½łå¥½", "你好"),
            ("~", "~")
        ]
        .map(|(a, b)| (json!(a), json!(b)))
    );
    assert_eq!(item["tokens"][3]["start"], 4);
    assert_eq!(item["tokens"][3]["end"], 6);
}
