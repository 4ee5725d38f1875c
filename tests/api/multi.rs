//! Several named models and stores in one server: selection by `model` and `store`, the default
//! (the first), unknown names, `/v1/models`, `/info` and `/metrics` listing them all, and a broken
//! one stopping startup with its name and file.

use std::path::Path;

use embedserve::config::{ModelEntry, StoreEntry};
use serde_json::{Value, json};

use crate::common::{ModelSpec, stored, test_value, write_model_dir};
use crate::helpers::{TestApp, floats, spawn_app_configured, write_planted_store};

/// Writes a 3-word text store whose neighbours differ from the planted store's.
pub fn write_small_store(path: &Path) {
    std::fs::write(path, "3 2\nnorth 1 0\nsouth 0.9 0.1\neast 0 1\n").expect("store written");
}

/// A model of width `dim` (the way answers tell the models apart) in `dir`.
pub fn write_model(dir: &Path, dim: usize) {
    write_model_dir(
        dir,
        &ModelSpec {
            dim,
            ..ModelSpec::default()
        },
    );
}

/// Row `id` of a model written by [`write_model`] (bf16 values widened to f32).
pub fn expected_row(id: usize, dim: usize) -> Vec<f32> {
    let spec = ModelSpec::default();
    (0..dim)
        .map(|c| stored(spec.dtype, test_value(id, c)))
        .collect()
}

/// A server with models `wide` (12 columns, the default) and `narrow` (6), stores `planted` (the
/// default) and `compass`.
pub async fn spawn_multi_app() -> TestApp {
    spawn_app_configured(|settings| {
        let root = settings.model_dir.parent().expect("tempdir").to_owned();
        let (wide, narrow) = (root.join("wide"), root.join("narrow"));
        write_model(&wide, 12);
        write_model(&narrow, 6);
        let compass = root.join("compass.txt");
        write_small_store(&compass);
        write_planted_store(&root.join("planted.bin"));
        settings.models = vec![
            ModelEntry {
                name: "wide".to_owned(),
                path: wide,
                embedding_tensor: None,
            },
            ModelEntry {
                name: "narrow".to_owned(),
                path: narrow,
                embedding_tensor: None,
            },
        ];
        settings.stores = vec![
            StoreEntry {
                name: "planted".to_owned(),
                path: root.join("planted.bin"),
                format: None,
            },
            StoreEntry {
                name: "compass".to_owned(),
                path: compass,
                format: None,
            },
        ];
    })
    .await
}

fn embed_row(model: Option<&str>) -> Value {
    let mut body = json!({"input_ids": [[3]]});
    if let Some(model) = model {
        body["model"] = json!(model);
    }
    body
}

#[tokio::test]
async fn requests_select_a_model_by_name_and_the_first_answers_without_one() {
    let app = spawn_multi_app().await;
    for (model, name, dim) in [
        (None, "wide", 12),
        (Some("wide"), "wide", 12),
        (Some("narrow"), "narrow", 6),
    ] {
        let reply = app.post("/embed", &embed_row(model)).await;
        assert_eq!(reply.status, 200, "{model:?}: {}", reply.body);
        assert_eq!(reply.body["model"], name);
        assert_eq!(
            floats(&reply.body["data"][0]["embedding"][0]),
            [expected_row(3, dim)].concat()
        );
    }
    let reply = app
        .post(
            "/v1/embeddings",
            &json!({"input": "hello", "model": "narrow"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["model"], "narrow");
    assert_eq!(floats(&reply.body["data"][0]["embedding"]).len(), 6);
    let reply = app
        .post("/tokenize", &json!({"inputs": "hello", "model": "narrow"}))
        .await;
    assert_eq!(
        (reply.status, &reply.body["model"]),
        (200, &json!("narrow"))
    );
}

#[tokio::test]
async fn an_unknown_model_or_store_is_a_404_naming_the_field() {
    let app = spawn_multi_app().await;
    for (path, body) in [
        ("/embed", embed_row(Some("gpt-4"))),
        (
            "/v1/embeddings",
            json!({"input": "hi", "model": "text-embedding-3-small"}),
        ),
        ("/tokenize", json!({"inputs": "hi", "model": "nope"})),
    ] {
        let reply = app.post(path, &body).await;
        reply.assert_error(404, "model_not_found");
        assert_eq!(reply.body["error"]["param"], "model", "{path}");
    }
    let reply = app.get("/similar?word=north&store=fr").await;
    reply.assert_error(404, "store_not_found");
    assert_eq!(reply.body["error"]["param"], "store");
    let reply = app
        .post("/vectors", &json!({"words": ["north"], "store": "fr"}))
        .await;
    reply.assert_error(404, "store_not_found");
}

#[tokio::test]
async fn word_routes_select_a_store_by_name_and_answers_name_it() {
    let app = spawn_multi_app().await;
    let reply = app.get("/similar?word=python&topn=1").await;
    assert_eq!(
        (reply.status, &reply.body["model"]),
        (200, &json!("planted"))
    );
    assert_eq!(reply.body["data"][0]["word"], "java");
    let reply = app.get("/similar?word=north&topn=1&store=compass").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["model"], "compass");
    assert_eq!(reply.body["data"][0]["word"], "south");
    let reply = app
        .post(
            "/similar",
            &json!({"positive": ["east"], "topn": 1, "store": "compass"}),
        )
        .await;
    assert_eq!(reply.body["data"][0]["word"], "south", "{}", reply.body);
    for path in [
        "/similarity?word1=north&word2=south&store=compass",
        "/vector?word=east&store=compass",
        "/doesnt_match?words=north,south,east&store=compass",
    ] {
        let reply = app.get(path).await;
        assert_eq!(
            (reply.status, &reply.body["model"]),
            (200, &json!("compass")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn models_info_and_metrics_list_every_model_and_store() {
    let app = spawn_multi_app().await;
    let models = app.get("/v1/models").await;
    let ids: Vec<&str> = models.body["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|model| model["id"].as_str().expect("an id"))
        .collect();
    assert_eq!(ids, ["wide", "narrow"]);
    let info = app.get("/info").await.body;
    assert_eq!(info["model"]["name"], "wide");
    assert_eq!(info["models"][1]["name"], "narrow");
    assert_eq!(info["models"][1]["hidden_size"], 6);
    assert_eq!(info["word2vec"]["name"], "planted");
    assert_eq!(info["stores"][1]["name"], "compass");
    assert_eq!(info["stores"][1]["words"], 3);

    app.post("/embed", &embed_row(Some("narrow"))).await;
    app.get("/vector?word=east&store=compass").await;
    let metrics = app.text("/metrics").await;
    for (route, model) in [("/embed", "narrow"), ("/vector", "compass")] {
        assert!(
            metrics
                .lines()
                .any(|line| line.starts_with("embedserve_requests_total")
                    && line.contains(&format!("route=\"{route}\""))
                    && line.contains(&format!("model=\"{model}\""))),
            "no {route} line for {model}:\n{metrics}"
        );
    }
    for (metric, name) in [
        ("embedserve_model_info", "model=\"narrow\""),
        ("embedserve_word2vec_info", "store=\"compass\""),
    ] {
        assert!(
            metrics
                .lines()
                .any(|line| line.starts_with(metric) && line.contains(name)),
            "{metric} {name}:\n{metrics}"
        );
    }
}

#[test]
fn a_broken_named_model_or_store_stops_startup_naming_it_and_its_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good");
    write_model(&good, 6);
    let store = dir.path().join("planted.bin");
    write_planted_store(&store);
    let cut = dir.path().join("cut.txt");
    std::fs::write(&cut, "garbage\n").expect("written");
    let missing = dir.path().join("missing");
    let cases = [
        (
            vec![
                format!("good={}", good.display()),
                format!("broken={}", missing.display()),
            ],
            vec![format!("planted={}", store.display())],
            format!("model \"broken\": {}", missing.display()),
        ),
        (
            vec![format!("good={}", good.display())],
            vec![
                format!("planted={}", store.display()),
                format!("bad={}", cut.display()),
            ],
            format!("store \"bad\": {}", cut.display()),
        ),
    ];
    for (models, stores, named) in cases {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_embedserve"));
        command
            .env_clear()
            .args(["--config", "/dev/null", "--listen", "127.0.0.1:0"]);
        for model in &models {
            command.arg("--model").arg(model);
        }
        for store in &stores {
            command.arg("--word2vec").arg(store);
        }
        let output = command.output().expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "started with {models:?} {stores:?}"
        );
        assert!(stderr.contains(&named), "{named} not in: {stderr}");
    }
}
