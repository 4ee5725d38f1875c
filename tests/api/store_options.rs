//! The store's load settings seen over HTTP: `word2vec_limit` keeps the first N words of the file
//! (`/info`, `/similar`, `/vector` know no others), and `word2vec_lossy_utf8` serves a word whose
//! bytes are not UTF-8 with U+FFFD in place of the bad bytes, where strict decoding stops
//! startup naming the file.

use std::path::Path;

use embedserve::config::Settings;
use embedserve::startup::Application;
use serde_json::{Value, json};

use crate::helpers::{PLANTED, spawn_app_configured};

/// The words of a `/similar` answer, in order.
fn words(reply: &Value) -> Vec<&str> {
    reply["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {reply}"))
        .iter()
        .map(|item| item["word"].as_str().expect("a word"))
        .collect()
}

#[tokio::test]
async fn word2vec_limit_serves_only_the_first_words_of_the_file() {
    let app = spawn_app_configured(|s| s.word2vec_limit = 3).await;
    assert_eq!(app.get("/info").await.body["word2vec"]["words"], 3);
    // The planted store's first three words are python, java, rust: only two neighbours remain,
    // though apple and the other four are in the file.
    let reply = app.get("/similar?word=python&topn=10").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(words(&reply.body), ["java", "rust"]);
    let reply = app
        .post("/similar", &json!({"vector": PLANTED[3].1, "topn": 10}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut found = words(&reply.body);
    found.sort_unstable();
    assert_eq!(found, ["java", "python", "rust"]);
    app.get("/vector?word=apple")
        .await
        .assert_error(404, "unknown_word");

    // The control: without a limit all seven words are served.
    let whole = spawn_app_configured(|_| {}).await;
    assert_eq!(whole.get("/info").await.body["word2vec"]["words"], 7);
    let reply = whole.get("/similar?word=python&topn=10").await;
    assert_eq!(words(&reply.body).len(), 6, "{}", reply.body);
}

/// A word2vec binary store whose second word is `caf\xe9` (Latin-1, not UTF-8).
fn write_latin1_store(path: &Path) {
    let records: [(&[u8], [f32; 2]); 3] = [
        (b"tea", [1.0, 0.0]),
        (b"caf\xe9", [0.6, 0.8]),
        (b"milk", [0.0, 1.0]),
    ];
    let mut bytes = b"3 2\n".to_vec();
    for (word, vector) in records {
        bytes.extend_from_slice(word);
        bytes.push(b' ');
        vector
            .iter()
            .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
        bytes.push(b'\n');
    }
    std::fs::write(path, bytes).expect("store written");
}

#[tokio::test]
async fn word2vec_lossy_utf8_serves_a_bad_word_with_replacement_characters() {
    let mut store = std::path::PathBuf::new();
    let app = spawn_app_configured(|s| {
        store = s.word2vec.with_file_name("latin1.bin");
        write_latin1_store(&store);
        s.word2vec.clone_from(&store);
        s.word2vec_lossy_utf8 = true;
    })
    .await;
    assert_eq!(app.get("/info").await.body["word2vec"]["words"], 3);
    let reply = app.get("/similar?word=tea&topn=5").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(words(&reply.body), ["caf\u{FFFD}", "milk"]);
    let reply = app.get("/vector?word=caf%EF%BF%BD").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"][0]["embedding"], json!([0.6, 0.8]));

    // Strict decoding (the default) refuses the same file: the load fails naming it.
    let settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        model_dir: "".into(),
        word2vec: store.clone(),
        ..Settings::default()
    };
    let application = Application::build(settings).await.expect("binds");
    let error = application
        .run(std::future::pending())
        .await
        .expect_err("a word that is not UTF-8 stops the server")
        .to_string();
    assert!(
        error.contains(&store.display().to_string()) && error.contains("not valid UTF-8"),
        "{error}"
    );
}
