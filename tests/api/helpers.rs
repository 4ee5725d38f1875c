//! `spawn_app()`: a server on a free port over a generated model directory.

use std::time::Duration;

use embedserve::config::Settings;
use embedserve::startup::Application;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::common::{ModelSpec, write_model_dir};

/// A running test server.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A client without connection reuse surprises.
    pub client: reqwest::Client,
    /// Keeps the generated model directory alive.
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

/// A reply: status, headers and parsed JSON body.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON, or as a JSON string for text responses (metrics, YAML, HTML).
    pub body: Value,
}

/// Starts a server on the default generated model (bf16, 24 x 8).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&ModelSpec::default(), |_| {}).await
}

/// Starts a server on a model made from `spec`, with `customize` applied to the settings.
pub async fn spawn_app_with(spec: &ModelSpec, customize: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let model_dir = dir.path().join("test-model");
    write_model_dir(&model_dir, spec);
    let word2vec = dir.path().join("planted.bin");
    write_planted_store(&word2vec);
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        model_dir,
        word2vec,
        ..Settings::default()
    };
    customize(&mut settings);
    let application = Application::build(settings).await.expect("binds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let state = application.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(application.run(async move {
        let _ = stopped.await;
    }));
    for _ in 0..500 {
        if state.is_ready() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(state.is_ready(), "the test server did not become ready");
    TestApp {
        address,
        client: reqwest::Client::new(),
        _dir: dir,
        _stop: stop,
    }
}

/// Words of the planted store with their 4-d vectors: two tight groups and an outlier.
pub const PLANTED: &[(&str, [f32; 4])] = &[
    ("python", [1.0, 0.1, 0.0, 0.0]),
    ("java", [0.95, 0.1, 0.0, 0.05]),
    ("rust", [0.8, 0.0, 0.1, 0.0]),
    ("apple", [0.0, 0.1, 1.0, 0.0]),
    ("pear", [0.1, 0.0, 0.9, 0.2]),
    ("plum", [0.0, 0.2, 0.8, 0.1]),
    ("Python", [-1.0, 0.5, 0.25, 3.0]),
];

/// Writes [`PLANTED`] as a word2vec binary store.
pub fn write_planted_store(path: &std::path::Path) {
    let words: Vec<&str> = PLANTED.iter().map(|(word, _)| *word).collect();
    let vectors: Vec<f32> = PLANTED.iter().flat_map(|(_, vector)| *vector).collect();
    embedserve::word2vec::store::write_store(
        path,
        &words,
        &vectors,
        4,
        embedserve::word2vec::StoreFormat::Binary,
    )
    .expect("store written");
}

impl TestApp {
    /// POSTs `body` as JSON to `path`.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.client.post(self.url(path)).json(body)).await
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(self.url(path))).await
    }

    /// GETs `path` and returns the body as text (YAML, HTML, metrics).
    pub async fn text(&self, path: &str) -> String {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent");
        response.text().await.expect("a text body")
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Sends a prepared request.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::read(request.send().await.expect("request sent")).await
    }
}

impl Reply {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let is_json = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            return Self {
                status,
                headers,
                body: Value::String(text),
            };
        }
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "status {status}: body is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        Self {
            status,
            headers,
            body,
        }
    }

    /// Asserts a JSON error of `status` and `kind`, returning its `param`.
    pub fn assert_error(&self, status: u16, kind: &str) -> Option<String> {
        assert_eq!(self.status, status, "{}", self.body);
        let error = &self.body["error"];
        assert_eq!(error["type"], kind, "{}", self.body);
        assert_eq!(error["code"], status, "{}", self.body);
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            self.body
        );
        error["param"].as_str().map(str::to_owned)
    }
}
