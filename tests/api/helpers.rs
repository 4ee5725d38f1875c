//! `spawn_app()`: a server on a free port over a generated model directory.

use std::time::Duration;

use base64::Engine;
use embedserve::config::Settings;
use embedserve::startup::Application;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::common::{ModelSpec, shared_fixture, write_model_dir, write_qwen_model};

/// A running test server.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`: reach it through [`TestApp::url`] and the request helpers.
    address: String,
    /// A client without connection reuse surprises.
    client: reqwest::Client,
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

/// Starts a server on the default generated model with `customize` applied to the settings.
pub async fn spawn_app_configured(customize: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with(&ModelSpec::default(), customize).await
}

/// Starts a server on a Qwen2.5-shaped model directory named `name`: the real tokenizer of the
/// shared fixtures and a generated `dim`-column matrix. `None` when the fixture is absent.
pub async fn spawn_qwen_app(name: &str, dim: usize) -> Option<TestApp> {
    let fixture = shared_fixture("qwen2.5-1.5b-instruct-tokenizer")?;
    let app = spawn_app_configured(|s| {
        let dir = s.model_dir.with_file_name(name);
        write_qwen_model(&dir, &fixture, dim);
        s.model_dir = dir;
    })
    .await;
    Some(app)
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
    start(application, dir).await
}

/// Runs `application` until the returned app is dropped, once it is ready; `dir` holds its files.
pub async fn start(application: Application, dir: tempfile::TempDir) -> TestApp {
    let state = application.state().clone();
    let app = start_loading(application, dir);
    for _ in 0..500 {
        if state.is_ready() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(state.is_ready(), "the test server did not become ready");
    app
}

/// Runs `application` until the returned app is dropped, without waiting for it to be ready.
pub fn start_loading(application: Application, dir: tempfile::TempDir) -> TestApp {
    let address = format!("http://127.0.0.1:{}", application.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(application.run(async move {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::new(),
        _dir: dir,
        _stop: stop,
    }
}

/// A spawned server, killed when the test ends, also when an assertion fails first.
pub struct KilledOnDrop(pub std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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

/// A committed fastText or GloVe fixture (`tests/fixtures/fasttext/`, see its generator).
pub fn fasttext_fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fasttext")
        .join(name)
}

/// A JSON array of numbers as f32s (rows, vectors, float embeddings).
pub fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array of numbers: {value}"))
        .iter()
        .map(|v| v.as_f64().expect("a number") as f32)
        .collect()
}

/// A base64 string of little-endian f32s (row-major), decoded.
pub fn base64_floats(value: &Value) -> Vec<f32> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a base64 string: {value}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_else(|e| panic!("not base64 ({e}): {text}"));
    assert_eq!(
        bytes.len() % 4,
        0,
        "{} bytes are not whole f32s",
        bytes.len()
    );
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

impl TestApp {
    /// POSTs `body` as JSON to `path`.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.request(reqwest::Method::POST, path).json(body))
            .await
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    /// POSTs `body` as is with the given `content-type` (malformed JSON, other media types).
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &'static str) -> Reply {
        let request = self
            .request(reqwest::Method::POST, path)
            .header("content-type", content_type)
            .body(body);
        self.send(request).await
    }

    /// GETs `path` and returns the body as text (YAML, HTML, metrics).
    pub async fn text(&self, path: &str) -> String {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request sent");
        response.text().await.expect("a text body")
    }

    /// A `method` request to `path`, for headers or bodies the shortcuts above do not set.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
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

    /// The body of a text response (metrics, YAML, HTML).
    pub fn text(&self) -> &str {
        self.body
            .as_str()
            .unwrap_or_else(|| panic!("status {}: not a text body: {}", self.status, self.body))
    }

    /// The value of header `name`, which must be present and ASCII.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_else(|| panic!("status {}: no ASCII {name} header", self.status))
    }

    /// Asserts a 422 `validation_error` naming `param`.
    pub fn assert_invalid(&self, param: &str) {
        assert_eq!(
            self.assert_error(422, "validation_error").as_deref(),
            Some(param),
            "{}",
            self.body
        );
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
