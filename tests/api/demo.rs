//! The bundled demo (`models/demo`) answers every route sensibly, and regenerates identically:
//! its README command gives the committed files byte for byte.

use embedserve::demo::{DemoSettings, generate};
use embedserve::model::EmbeddingModel;
use embedserve::word2vec::{LoadOptions, WordVectors};
use serde_json::json;

use crate::helpers::spawn_app_configured;

fn demo_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/demo")
}

#[tokio::test]
async fn the_demo_embeds_and_finds_planted_neighbours() {
    let app = spawn_app_configured(|s| {
        s.model_dir = demo_dir();
        s.word2vec = demo_dir().join("word2vec.bin");
    })
    .await;
    let reply = app
        .post(
            "/embed",
            &json!({"inputs": "The king and the queen!", "add_special_tokens": true}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["model"], "demo");
    assert_eq!(reply.body["dtype"], "bf16");
    let tokens = &reply.body["data"][0]["tokens"];
    assert_eq!(
        tokens,
        &json!(["[CLS]", "the", "king", "and", "the", "queen", "!", "[SEP]"])
    );

    let reply = app.get("/similar?word=cat&topn=5").await;
    assert_eq!(
        reply.body["data"].as_array().map(Vec::len),
        Some(5),
        "{}",
        reply.body
    );
    let animals = [
        "dog", "horse", "cow", "sheep", "goat", "pig", "rabbit", "lion", "tiger", "wolf", "fox",
        "bear", "deer",
    ];
    for item in reply.body["data"].as_array().expect("data") {
        assert!(
            animals.contains(&item["word"].as_str().expect("word")),
            "{}",
            reply.body
        );
    }
    let reply = app
        .get("/similar?positive=king,woman&negative=man&topn=1")
        .await;
    assert_eq!(reply.body["data"][0]["word"], "queen", "{}", reply.body);
    let reply = app
        .post(
            "/v1/embeddings",
            &json!({"input": "paris is the capital of france"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn generation_is_reproducible_and_loadable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = |out: &str| DemoSettings {
        out: dir.path().join(out),
        sentences: 1500,
        seed: 3,
        dim: 8,
    };
    generate(&args("a")).expect("generated");
    generate(&args("b")).expect("generated again");
    for file in [
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "word2vec.bin",
    ] {
        let a = std::fs::read(dir.path().join("a").join(file)).expect("file a");
        let b = std::fs::read(dir.path().join("b").join(file)).expect("file b");
        assert!(a == b, "{file} differs between two runs with the same seed");
    }
    let model =
        EmbeddingModel::load(&dir.path().join("a"), None, None).expect("a valid model directory");
    assert_eq!(model.dimension(), 8);
    let store = WordVectors::load(&dir.path().join("a/word2vec.bin"), &LoadOptions::default())
        .expect("a valid store");
    assert!(store.index_of("queen").is_some());
}

/// The file names in `dir`, sorted.
fn file_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// The README's command (`embedserve demo-model --out models/demo`, here into a temporary
/// directory) gives the committed files byte for byte, and no other file.
#[test]
fn the_readme_command_regenerates_the_committed_demo_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("demo");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_embedserve"))
        .args(["demo-model", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let committed = file_names(&demo_dir());
    assert_eq!(file_names(&out), committed);
    for file in committed {
        let want = std::fs::read(demo_dir().join(&file)).expect("committed file");
        let got = std::fs::read(out.join(&file)).expect("generated file");
        assert!(got == want, "{file} differs from the committed one");
    }
}
