//! Reloading live (`POST /admin/reload`, SIGHUP): what changed is loaded beside what serves and
//! swapped in at once; requests under way finish on what they started with; a failed reload
//! changes nothing; a file renamed over the served one is picked up; old maps are released.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use embedserve::config::{Settings, SettingsSource};
use embedserve::startup::Application;
use serde_json::{Value, json};

use safetensors::Dtype;

use crate::common::{ModelSpec, stored, test_value, write_model_dir};
use crate::helpers::{KilledOnDrop, TestApp, floats, start, write_planted_store};
use crate::multi::{expected_row, spawn_multi_app, write_model};

/// A server reading `config` (a settings file) at start and at every reload.
async fn spawn_from_file(dir: tempfile::TempDir, config: &Path) -> TestApp {
    let mut overrides = toml::Table::new();
    overrides.insert("listen".to_owned(), "127.0.0.1:0".into());
    let source = SettingsSource::Layers {
        config_file: Some(config.to_owned()),
        overrides,
    };
    let settings = source.load().expect("valid settings");
    let application = Application::build_from(settings, source)
        .await
        .expect("binds");
    start(application, dir).await
}

/// A settings file serving models `wide` and `b`, stores `planted` and `moving`.
fn write_config(config: &Path, b: &Path, moving: &Path) {
    let root = config.parent().expect("dir");
    let text = format!(
        "model_dir = \"\"\nword2vec = \"\"\n\
         [[models]]\nname = \"wide\"\npath = {wide:?}\n\
         [[models]]\nname = \"b\"\npath = {b:?}\n\
         [[stores]]\nname = \"planted\"\npath = {planted:?}\n\
         [[stores]]\nname = \"moving\"\npath = {moving:?}\n",
        wide = root.join("wide"),
        planted = root.join("planted.bin"),
    );
    std::fs::write(config, text).expect("config written");
}

struct Files {
    config: PathBuf,
    b1: PathBuf,
    b2: PathBuf,
    store1: PathBuf,
    store2: PathBuf,
}

/// Models `wide` (12 columns), `b1` (6) and `b2` (10); the planted store and a copy of it.
fn write_files(root: &Path) -> Files {
    write_model(&root.join("wide"), 12);
    let files = Files {
        config: root.join("embedserve.toml"),
        b1: root.join("b1"),
        b2: root.join("b2"),
        store1: root.join("planted.bin"),
        store2: root.join("planted-copy.bin"),
    };
    write_model(&files.b1, 6);
    write_model(&files.b2, 10);
    write_planted_store(&files.store1);
    write_planted_store(&files.store2);
    write_config(&files.config, &files.b1, &files.store1);
    files
}

#[tokio::test]
async fn twenty_reloads_under_load_answer_every_request_with_the_right_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_files(dir.path());
    let app = Arc::new(spawn_from_file(dir, &files.config).await);
    let reference = app
        .post(
            "/v1/embeddings",
            &json!({"input": "hello", "model": "wide"}),
        )
        .await;
    assert_eq!(reference.status, 200, "{}", reference.body);
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for route in ["/embed", "/v1/embeddings", "/similar"] {
        let (app, stop, answered) = (app.clone(), stop.clone(), answered.clone());
        let reference = reference.body["data"][0]["embedding"].clone();
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                check_answer(&app, route, &reference).await;
                answered.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for round in 0..20 {
        let (b, store) = if round % 2 == 0 {
            (&files.b2, &files.store2)
        } else {
            (&files.b1, &files.store1)
        };
        write_config(&files.config, b, store);
        let reply = app.post("/admin/reload", &json!({})).await;
        assert_eq!(reply.status, 200, "round {round}: {}", reply.body);
        assert_eq!(
            reply.body["models"]["loaded"],
            json!(["b"]),
            "{}",
            reply.body
        );
        assert_eq!(reply.body["models"]["unchanged"], json!(["wide"]));
        assert_eq!(reply.body["stores"]["loaded"], json!(["moving"]));
        assert_eq!(reply.body["stores"]["unchanged"], json!(["planted"]));
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for task in load {
        task.await.expect("every answer was right");
    }
    assert!(answered.load(Ordering::SeqCst) >= 60, "too little traffic");
    let metrics = app.text("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("embedserve_reloads_total{result=\"success\"}")),
        "{metrics}"
    );
}

/// One request of the load generator, which must be a 200 from the model or store it named.
async fn check_answer(app: &TestApp, route: &str, reference: &Value) {
    let reply = match route {
        "/embed" => {
            app.post("/embed", &json!({"input_ids": [[3]], "model": "b"}))
                .await
        }
        "/v1/embeddings" => {
            app.post(
                "/v1/embeddings",
                &json!({"input": "hello", "model": "wide"}),
            )
            .await
        }
        _ => app.get("/similar?word=python&topn=1&store=moving").await,
    };
    assert_eq!(reply.status, 200, "{route}: {}", reply.body);
    match route {
        "/embed" => {
            assert_eq!(reply.body["model"], "b");
            let row = floats(&reply.body["data"][0]["embedding"][0]);
            assert!(
                row == expected_row(3, 6) || row == expected_row(3, 10),
                "{route}: {row:?} is neither b1's nor b2's row"
            );
        }
        "/v1/embeddings" => {
            assert_eq!(reply.body["model"], "wide");
            assert_eq!(&reply.body["data"][0]["embedding"], reference);
        }
        _ => {
            assert_eq!(reply.body["model"], "moving");
            assert_eq!(reply.body["data"][0]["word"], "java");
        }
    }
}

#[tokio::test]
async fn a_failed_reload_changes_nothing_and_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_owned();
    let files = write_files(&root);
    let app = spawn_from_file(dir, &files.config).await;
    let missing = root.join("missing");
    let corrupt = root.join("corrupt");
    write_model(&corrupt, 6);
    std::fs::write(corrupt.join("model.safetensors"), b"not a safetensors file").expect("break");
    let cut_store = root.join("cut.bin");
    let bytes = std::fs::read(&files.store1).expect("store");
    std::fs::write(&cut_store, &bytes[..bytes.len() - 5]).expect("cut");
    for (b, store, names) in [
        (&missing, &files.store1, missing.display().to_string()),
        (&corrupt, &files.store1, "model.safetensors".to_owned()),
        (&files.b1, &cut_store, cut_store.display().to_string()),
    ] {
        write_config(&files.config, b, store);
        let reply = app.post("/admin/reload", &json!({})).await;
        reply.assert_error(422, "reload_failed");
        let message = reply.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&names), "{message}");
        let served = app
            .post("/embed", &json!({"input_ids": [[3]], "model": "b"}))
            .await;
        assert_eq!(served.status, 200, "{}", served.body);
        assert_eq!(
            floats(&served.body["data"][0]["embedding"][0]),
            expected_row(3, 6)
        );
        assert_eq!(app.get("/health/ready").await.status, 200);
    }
    let metrics = app.text("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("embedserve_reloads_total{result=\"failure\"}")),
        "{metrics}"
    );
}

/// Writes `wide`'s matrix again as f32 (other values than the bf16 ones served) and renames it
/// over the served weights file, as the README asks.
fn rename_new_weights_over(model_dir: &Path) {
    let scratch = model_dir.with_extension("next");
    write_model_dir(
        &scratch,
        &ModelSpec {
            dtype: Dtype::F32,
            dim: 12,
            ..ModelSpec::default()
        },
    );
    std::fs::rename(
        scratch.join("model.safetensors"),
        model_dir.join("model.safetensors"),
    )
    .expect("rename");
}

fn f32_row(id: usize, dim: usize) -> Vec<f32> {
    (0..dim)
        .map(|c| stored(Dtype::F32, test_value(id, c)))
        .collect()
}

/// Row 3 of `model` from `/embed`.
async fn row(app: &TestApp, model: &str) -> crate::helpers::Reply {
    app.post("/embed", &json!({"input_ids": [[3]], "model": model}))
        .await
}

async fn served_dir(app: &TestApp, model: &str) -> PathBuf {
    let info = app.get("/info").await.body;
    let models = info["models"].as_array().expect("models").clone();
    let found = models.iter().find(|m| m["name"] == model).expect("listed");
    PathBuf::from(found["path"].as_str().expect("a path"))
}

#[tokio::test]
async fn a_file_renamed_over_is_served_after_a_reload_and_one_rewritten_in_place_recovers() {
    let app = spawn_multi_app().await;
    let wide = served_dir(&app, "wide").await;
    rename_new_weights_over(&wide);
    // The old file stays mapped and served until the reload: a rename never breaks a request.
    assert_eq!(
        floats(&row(&app, "wide").await.body["data"][0]["embedding"][0]),
        expected_row(3, 12)
    );
    let reply = app.post("/admin/reload", &json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["models"]["loaded"], json!(["wide"]));
    assert_eq!(reply.body["models"]["unchanged"], json!(["narrow"]));
    assert_eq!(
        floats(&row(&app, "wide").await.body["data"][0]["embedding"][0]),
        f32_row(3, 12)
    );

    // Rewritten in place: refused (the map would show torn values), until a reload maps it anew.
    let narrow = served_dir(&app, "narrow").await.join("model.safetensors");
    let bytes = std::fs::read(&narrow).expect("weights");
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&narrow, &bytes).expect("rewrite in place");
    row(&app, "narrow")
        .await
        .assert_error(503, "model_file_changed");
    assert_eq!(app.get("/health/ready").await.status, 503);
    let reply = app.post("/admin/reload", &json!({})).await;
    assert_eq!(
        reply.body["models"]["loaded"],
        json!(["narrow"]),
        "{}",
        reply.body
    );
    let reply = row(&app, "narrow").await;
    assert_eq!(
        (reply.status, floats(&reply.body["data"][0]["embedding"][0])),
        (200, expected_row(3, 6))
    );
    assert_eq!(app.get("/health/ready").await.status, 200);
}

#[tokio::test]
async fn the_admin_route_takes_the_admin_keys_when_set() {
    let app = crate::helpers::spawn_app_configured(|settings: &mut Settings| {
        settings.api_keys = vec!["user".to_owned()];
        settings.admin_api_keys = vec!["admin".to_owned()];
    })
    .await;
    let reload = |key: Option<&'static str>| {
        let mut request = app.request(reqwest::Method::POST, "/admin/reload");
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        app.send(request)
    };
    reload(None).await.assert_error(401, "unauthorized");
    reload(Some("user")).await.assert_error(401, "unauthorized");
    let reply = reload(Some("admin")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["models"]["unchanged"], json!(["test-model"]));
    assert_eq!(reply.body["restart_required"], json!([]));
    let embed = app
        .request(reqwest::Method::POST, "/embed")
        .bearer_auth("admin");
    app.send(embed.json(&json!({"input_ids": [[1]]})))
        .await
        .assert_error(401, "unauthorized");
}

/// The old mapping of a replaced weights file, as `/proc/PID/maps` lists it once unlinked.
fn deleted_mappings(pid: u32, file: &Path) -> usize {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    let needle = format!("{} (deleted)", file.display());
    maps.lines().filter(|line| line.ends_with(&needle)).count()
}

#[tokio::test]
async fn sighup_swaps_a_replaced_file_and_the_old_map_is_released() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("m");
    write_model(&model, 12);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let child = KilledOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_embedserve"))
            .env_clear()
            .args(["--config", "/dev/null", "--word2vec", "", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--model")
            .arg(format!("m={}", model.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starts"),
    );
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let row = || async {
        let reply = client
            .post(url("/embed"))
            .json(&json!({"input_ids": [[3]], "model": "m"}))
            .send()
            .await;
        match reply {
            Ok(reply) if reply.status() == 200 => {
                let body: Value = reply.json().await.expect("json");
                Some(floats(&body["data"][0]["embedding"][0]))
            }
            _ => None,
        }
    };
    let mut first = None;
    for _ in 0..300 {
        first = row().await;
        if first.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        first,
        Some(expected_row(3, 12)),
        "the binary never answered"
    );
    let weights = model.join("model.safetensors");
    rename_new_weights_over(&model);
    assert_eq!(
        deleted_mappings(child.0.id(), &weights),
        1,
        "the old file is still mapped"
    );
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &child.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(hup.success());
    let mut swapped = false;
    for _ in 0..200 {
        if row().await == Some(f32_row(3, 12)) {
            swapped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = deleted_mappings(child.0.id(), &weights);
    let fds = std::fs::read_dir(format!("/proc/{}/fd", child.0.id()))
        .expect("fds")
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter(|target| target.to_string_lossy().ends_with("(deleted)"))
        .count();
    drop(child);
    assert!(swapped, "SIGHUP did not swap in the new file");
    assert_eq!(left, 0, "the old map was not released");
    assert_eq!(fds, 0, "a descriptor of the old file is still open");
}
