//! Settings as the binary reads them (`src/config.rs`, `src/cli/serve.rs`): built-in defaults <
//! the settings file < `EMBEDSERVE_*` variables < flags, and the comma-list variables
//! (`EMBEDSERVE_API_KEYS`, `EMBEDSERVE_MODELS`, `EMBEDSERVE_STORES`, `EMBEDSERVE_CORS_ORIGINS`),
//! read back from `/info` and from what the server does.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::common::{ModelSpec, write_model_dir};
use crate::helpers::{KilledOnDrop, write_planted_store};
use crate::startup::free_port;

/// A server run by the binary with only `PATH` and `env` in its environment and `args` as
/// flags, on a free port; answers once `/health/ready` does.
struct Served {
    _child: KilledOnDrop,
    port: u16,
    client: reqwest::Client,
}

impl Served {
    async fn start(env: &[(&str, &str)], args: &[&str]) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_embedserve"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env.iter().copied())
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts");
        let served = Self {
            _child: KilledOnDrop(child),
            port,
            client: reqwest::Client::new(),
        };
        let started = Instant::now();
        loop {
            let probe = served.request(Method::GET, "/health/ready").send().await;
            if probe.is_ok_and(|reply| reply.status() == 200) {
                return served;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("http://127.0.0.1:{}{path}", self.port))
    }

    /// `GET /info` with `key` as the bearer token: its status and body.
    async fn info(&self, key: Option<&str>) -> (u16, Value) {
        let mut request = self.request(Method::GET, "/info");
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let reply = request.send().await.expect("sent");
        let status = reply.status().as_u16();
        (status, reply.json().await.expect("a JSON body"))
    }
}

/// The names of the models or stores `/info` lists under `field`.
fn names(info: &Value, field: &str) -> Vec<String> {
    info[field]
        .as_array()
        .unwrap_or_else(|| panic!("no {field} in {info}"))
        .iter()
        .map(|served| served["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[tokio::test]
async fn the_file_is_over_the_defaults_the_environment_over_the_file_and_flags_over_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model");
    write_model_dir(&model, &ModelSpec::default());
    let config = dir.path().join("settings.toml");
    let file = format!(
        "model_dir = {:?}\nword2vec = \"\"\nmax_batch_size = 5\nmax_topn = 6\nmax_query_words = 7\n",
        model.display().to_string()
    );
    std::fs::write(&config, file).expect("settings file");
    let config = config.display().to_string();
    let env = [
        // The file named by the variable, as the container image names its file.
        ("EMBEDSERVE_CONFIG", config.as_str()),
        ("EMBEDSERVE_MAX_TOPN", "60"),
        ("EMBEDSERVE_MAX_QUERY_WORDS", "70"),
    ];
    let served = Served::start(&env, &["--max-query-words", "700"]).await;
    let (status, info) = served.info(None).await;
    assert_eq!(status, 200, "{info}");
    let limits = &info["limits"];
    assert_eq!(limits["max_tokens_per_input"], 8192, "a default: {limits}");
    assert_eq!(limits["max_batch_size"], 5, "the file's: {limits}");
    assert_eq!(limits["max_topn"], 60, "the environment's: {limits}");
    assert_eq!(limits["max_query_words"], 700, "the flag's: {limits}");
    assert_eq!(names(&info, "models"), ["model"], "the file's model_dir");
    assert_eq!(names(&info, "stores"), Vec::<String>::new());
}

#[tokio::test]
async fn comma_list_variables_set_keys_models_stores_and_origins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name).display().to_string();
    for model in ["ma", "mb", "mc"] {
        write_model_dir(Path::new(&path(model)), &ModelSpec::default());
    }
    for store in ["sa.bin", "sb.bin"] {
        write_planted_store(Path::new(&path(store)));
    }
    // The file's list of models is replaced by the environment's, not merged with it.
    let config = path("settings.toml");
    let file = format!(
        "word2vec = \"\"\n[[models]]\nname = \"c\"\npath = {:?}\n",
        path("mc")
    );
    std::fs::write(&config, file).expect("settings file");
    let models = format!("a={},b={}", path("ma"), path("mb"));
    let stores = format!("x={},y={}", path("sa.bin"), path("sb.bin"));
    let env = [
        ("EMBEDSERVE_API_KEYS", " k1 , k2 "),
        ("EMBEDSERVE_MODELS", models.as_str()),
        ("EMBEDSERVE_STORES", stores.as_str()),
        (
            "EMBEDSERVE_CORS_ORIGINS",
            "https://a.example,https://b.example",
        ),
    ];
    let served = Served::start(&env, &["--config", &config]).await;

    // Both keys, trimmed; nothing else.
    for key in [None, Some("k3"), Some("k1,k2"), Some("k1 k2")] {
        let (status, _) = served.info(key).await;
        assert_eq!(status, 401, "key {key:?}");
    }
    let (status, info) = served.info(Some("k1")).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(served.info(Some("k2")).await.0, 200);
    assert_eq!(names(&info, "models"), ["a", "b"]);
    assert_eq!(names(&info, "stores"), ["x", "y"]);

    let server = &served;
    let preflight = |origin: &'static str| async move {
        server
            .request(Method::OPTIONS, "/embed")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .expect("sent")
    };
    for origin in ["https://a.example", "https://b.example"] {
        let reply = preflight(origin).await;
        assert_eq!(
            reply.headers()["access-control-allow-origin"],
            origin,
            "{origin}"
        );
    }
    let other = preflight("https://c.example").await;
    assert!(
        other.headers().get("access-control-allow-origin").is_none(),
        "an origin not in the list is allowed"
    );
}
