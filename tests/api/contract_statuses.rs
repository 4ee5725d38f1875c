//! Every status `openapi.yaml` documents for every operation, produced on purpose and validated
//! against the spec: 400, 401, 404, 408, 413, 415, 422, 429 (with `Retry-After`) and 503 on top
//! of the answers `contract.rs` checks; 405 against its shared response; the request bodies and
//! query parameters sent against the documented request schema; and every route of the router
//! against the spec, so a route added without documentation fails here.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::ModelSpec;
use crate::contract::{check, spec};
use embedserve::config::Settings;
use embedserve::startup::Application;

use crate::helpers::{
    Reply, TestApp, spawn_app, spawn_app_configured, spawn_app_with, start_loading,
};
use crate::multi::spawn_multi_app;

/// One operation and a request it answers 200 to: the documented path, the target with its
/// query, and the JSON body of a POST.
struct Operation {
    method: &'static str,
    path: &'static str,
    target: &'static str,
    body: Option<Value>,
}

fn operations() -> Vec<Operation> {
    let get = |path, target| Operation {
        method: "get",
        path,
        target,
        body: None,
    };
    let post = |path, body| Operation {
        method: "post",
        path,
        target: path,
        body: Some(body),
    };
    vec![
        post("/tokenize", json!({"inputs": "hello"})),
        post("/embed", json!({"inputs": "hello"})),
        get("/health", "/health"),
        get("/health/live", "/health/live"),
        get("/health/ready", "/health/ready"),
        get("/info", "/info"),
        get("/similar", "/similar?word=python"),
        post("/similar", json!({"positive": ["python"]})),
        get("/similarity", "/similarity?word1=python&word2=java"),
        get("/vector", "/vector?word=python"),
        post("/vectors", json!({"words": ["python"]})),
        get("/doesnt_match", "/doesnt_match?words=python,java,apple"),
        post("/v1/embeddings", json!({"input": "hello"})),
        get("/", "/"),
        post("/", json!({"inputs": "hello"})),
        post("/tei", json!({"inputs": "hello"})),
        post("/tei/embed", json!({"inputs": "hello"})),
        get("/v1/models", "/v1/models"),
        get("/metrics", "/metrics"),
        get("/openapi.yaml", "/openapi.yaml"),
        get("/openapi.json", "/openapi.json"),
        get("/docs", "/docs"),
        get("/playground/{file}", "/playground/main.js"),
        // A reload reads no body; with fixed settings and unchanged files it changes nothing.
        Operation {
            method: "post",
            path: "/admin/reload",
            target: "/admin/reload",
            body: None,
        },
    ]
}

/// A request that must answer `status` for a word or input the operation does not know or accept.
fn refusals() -> Vec<(&'static str, &'static str, &'static str, Option<Value>, u16)> {
    vec![
        ("get", "/similar", "/similar?word=cobol", None, 404),
        (
            "post",
            "/similar",
            "/similar",
            Some(json!({"positive": ["cobol"]})),
            404,
        ),
        (
            "get",
            "/similarity",
            "/similarity?word1=python&word2=cobol",
            None,
            404,
        ),
        ("get", "/vector", "/vector?word=cobol", None, 404),
        (
            "post",
            "/vectors",
            "/vectors",
            Some(json!({"words": ["cobol"]})),
            404,
        ),
        (
            "get",
            "/doesnt_match",
            "/doesnt_match?words=cobol,fortran",
            None,
            404,
        ),
        (
            "get",
            "/playground/{file}",
            "/playground/missing.js",
            None,
            404,
        ),
        (
            "post",
            "/tokenize",
            "/tokenize",
            Some(json!({"inputs": 5})),
            422,
        ),
        (
            "post",
            "/embed",
            "/embed",
            Some(json!({"input_ids": [99]})),
            422,
        ),
        ("get", "/similar", "/similar?word=python&topn=0", None, 422),
        (
            "post",
            "/similar",
            "/similar",
            Some(json!({"vector": [0.0]})),
            422,
        ),
        ("get", "/similarity", "/similarity?word1=python", None, 422),
        ("get", "/vector", "/vector", None, 422),
        (
            "post",
            "/vectors",
            "/vectors",
            Some(json!({"words": []})),
            422,
        ),
        ("get", "/doesnt_match", "/doesnt_match", None, 422),
        (
            "post",
            "/v1/embeddings",
            "/v1/embeddings",
            Some(json!({"input": [[1, 2]]})),
            422,
        ),
        ("post", "/", "/", Some(json!({"inputs": []})), 422),
        ("post", "/tei", "/tei", Some(json!({"inputs": []})), 422),
        (
            "post",
            "/tei/embed",
            "/tei/embed",
            Some(json!({"inputs": []})),
            422,
        ),
    ]
}

/// Every `(path, method, status)` the spec documents.
fn documented(spec: &Value) -> BTreeSet<(String, String, u16)> {
    let mut all = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            for status in operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
            {
                all.insert((
                    path.clone(),
                    method.clone(),
                    status.parse().expect("status"),
                ));
            }
        }
    }
    all
}

/// Sends `body` (JSON) or nothing to `target` with `method`.
async fn send(app: &TestApp, method: &str, target: &str, body: Option<&Value>) -> Reply {
    match body {
        Some(body) => app.post(target, body).await,
        None => {
            let method = method.to_uppercase().parse().expect("method");
            app.send(app.request(method, target)).await
        }
    }
}

/// Records what was produced and checks it: the status, then the reply against the spec.
struct Produced<'s> {
    spec: &'s Value,
    seen: BTreeSet<(String, String, u16)>,
}

impl Produced<'_> {
    fn record(&mut self, path: &str, method: &str, status: u16, reply: &Reply) {
        assert_eq!(
            reply.status, status,
            "{method} {path}: expected {status}, got {}",
            reply.body
        );
        check(self.spec, path, method, reply);
        if status == 429 {
            assert_eq!(
                reply.header("retry-after"),
                "1",
                "{method} {path}: Retry-After"
            );
        }
        self.seen
            .insert((path.to_owned(), method.to_owned(), status));
    }
}

/// Validates `body` against the operation's documented request body schema.
fn check_request(spec: &Value, path: &str, body: &Value) {
    let pointer = format!(
        "#/paths/{}/post/requestBody/content/application~1json/schema",
        path.replace('~', "~0").replace('/', "~1")
    );
    let mut root = spec.clone();
    root["$ref"] = json!(pointer);
    let validator = jsonschema::draft202012::new(&root).expect("request schema compiles");
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "POST {path} request {body}: {errors:?}");
}

/// The query parameters of `target` are documented for the operation.
fn check_query(spec: &Value, path: &str, method: &str, target: &str) {
    let Some((_, query)) = target.split_once('?') else {
        return;
    };
    let documented: Vec<&str> = spec["paths"][path][method]["parameters"]
        .as_array()
        .map(|parameters| {
            parameters
                .iter()
                .filter_map(|p| {
                    p["name"].as_str().or_else(|| {
                        let pointer = p["$ref"].as_str()?;
                        spec.pointer(&pointer[1..])?["name"].as_str()
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    for pair in query.split('&') {
        let name = pair.split('=').next().expect("name");
        assert!(
            documented.contains(&name),
            "{method} {path}: parameter {name} is not documented"
        );
    }
}

/// Holds the only admission permit: a request whose large answer is never read.
async fn hold_the_permit(app: &TestApp) -> TcpStream {
    let address = app
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("small buffer");
    let mut stalled = socket
        .connect(address.parse().expect("address"))
        .await
        .expect("connects");
    let text = "word ".repeat(8000);
    let body = json!({"inputs": [text, text], "pooling": "none"}).to_string();
    let request = format!(
        "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stalled.write_all(request.as_bytes()).await.expect("writes");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stalled
}

/// A POST whose body never arrives: the raw answer as a [`Reply`].
async fn stalled_body(app: &TestApp, path: &str) -> Reply {
    let address = app
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = TcpStream::connect(address).await.expect("connects");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"inputs\":"
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered in time")
        .expect("reads");
    let text = String::from_utf8(answer).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    let status = head[9..12].parse().expect("status");
    let mut headers = reqwest::header::HeaderMap::new();
    for line in head.lines().skip(1) {
        let (name, value) = line.split_once(':').expect("header");
        headers.insert(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).expect("name"),
            value.trim().parse().expect("value"),
        );
    }
    Reply {
        status,
        headers,
        body: serde_json::from_str(body).expect("a JSON body"),
    }
}

#[tokio::test]
async fn every_documented_status_of_every_operation_is_produced_and_valid() {
    let spec = spec();
    let mut produced = Produced {
        spec: &spec,
        seen: BTreeSet::new(),
    };
    let ops = operations();

    let app = spawn_app().await;
    for op in &ops {
        if let Some(body) = &op.body {
            check_request(&spec, op.path, body);
        }
        check_query(&spec, op.path, op.method, op.target);
        let reply = send(&app, op.method, op.target, op.body.as_ref()).await;
        produced.record(op.path, op.method, 200, &reply);
    }
    for (method, path, target, body, status) in refusals() {
        check_query(&spec, path, method, target);
        let reply = send(&app, method, target, body.as_ref()).await;
        produced.record(path, method, status, &reply);
    }
    for op in ops.iter().filter(|op| op.body.is_some()) {
        let malformed = app.post_raw(op.target, "application/json", "{").await;
        produced.record(op.path, op.method, 400, &malformed);
        let media = app.post_raw(op.target, "text/csv", "a,b").await;
        produced.record(op.path, op.method, 415, &media);
    }

    // 401 everywhere a key is needed (health and metrics too, with auth_protects_health).
    let locked = spawn_app_configured(|s| {
        s.api_keys = vec!["contract-key".into()];
        s.auth_protects_health = true;
    })
    .await;
    for op in &ops {
        let reply = send(&locked, op.method, op.target, op.body.as_ref()).await;
        if spec["paths"][op.path][op.method]["responses"]["401"].is_object() {
            produced.record(op.path, op.method, 401, &reply);
        } else {
            produced.record(op.path, op.method, 200, &reply);
        }
    }

    // 413: a valid body over a small limit.
    let small = spawn_app_configured(|s| s.body_limit_bytes = 64).await;
    for op in ops.iter().filter(|op| op.body.is_some()) {
        let mut body = op.body.clone().expect("body");
        body["padding"] = json!("x".repeat(200));
        let reply = small.post(op.target, &body).await;
        produced.record(op.path, op.method, 413, &reply);
    }

    // 503: no model and no store configured; then a weights file truncated under the server.
    let empty = spawn_app_configured(|s| {
        s.model_dir = "".into();
        s.word2vec = "".into();
    })
    .await;
    for op in &ops {
        // With nothing configured there is nothing to reload: that answers 200.
        if spec["paths"][op.path][op.method]["responses"]["503"].is_object()
            && !op.path.starts_with("/health")
            && op.path != "/admin/reload"
        {
            let reply = send(&empty, op.method, op.target, op.body.as_ref()).await;
            produced.record(op.path, op.method, 503, &reply);
        }
    }
    let mut weights = std::path::PathBuf::new();
    let broken = spawn_app_configured(|s| weights = s.model_dir.join("model.safetensors")).await;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&weights)
        .expect("weights")
        .set_len(64)
        .expect("truncates");
    assert_eq!(
        broken
            .post("/embed", &json!({"inputs": "hello"}))
            .await
            .status,
        503
    );
    for path in ["/health", "/health/ready"] {
        let reply = broken.get(path).await;
        produced.record(path, "get", 503, &reply);
    }
    // A reload reads the changed weights again and fails: nothing changes and it says why.
    let reply = send(&broken, "post", "/admin/reload", None).await;
    produced.record("/admin/reload", "post", 422, &reply);

    // 503 on a reload before the first load finished: the store is a FIFO nobody writes yet,
    // so loading blocks in `open` until the test writes (nothing) to it.
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("store.bin");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        model_dir: "".into(),
        word2vec: fifo.clone(),
        ..Settings::default()
    };
    let loading = start_loading(Application::build(settings).await.expect("binds"), dir);
    let reply = send(&loading, "post", "/admin/reload", None).await;
    produced.record("/admin/reload", "post", 503, &reply);
    let reply = loading.get("/health/ready").await;
    produced.record("/health/ready", "get", 503, &reply);
    // Opening the write end lets the blocked load read an empty file and fail.
    drop(
        std::fs::OpenOptions::new()
            .write(true)
            .open(&fifo)
            .expect("write end"),
    );

    // 404 for a model or store no one configured, where several are served.
    let multi = spawn_multi_app().await;
    for (path, body) in [
        ("/embed", json!({"inputs": "hello", "model": "gpt-4"})),
        ("/tokenize", json!({"inputs": "hello", "model": "gpt-4"})),
        (
            "/v1/embeddings",
            json!({"input": "hello", "model": "gpt-4"}),
        ),
    ] {
        check_request(&spec, path, &body);
        let reply = multi.post(path, &body).await;
        produced.record(path, "post", 404, &reply);
    }

    // 429 with Retry-After on every admitted route while the only permit is held.
    // 64 columns make the held answer about 10 MB, far beyond the socket buffers.
    let wide = ModelSpec {
        dim: 64,
        ..ModelSpec::default()
    };
    let busy = spawn_app_with(&wide, |s| {
        s.max_concurrent_requests = 1;
        s.response_write_timeout_secs = 30;
        s.max_batch_tokens = 1 << 20;
    })
    .await;
    let held = hold_the_permit(&busy).await;
    for op in &ops {
        if spec["paths"][op.path][op.method]["responses"]["429"].is_object() {
            let reply = send(&busy, op.method, op.target, op.body.as_ref()).await;
            produced.record(op.path, op.method, 429, &reply);
        }
    }
    drop(held);

    // 408 on every route that documents it, for a body that never arrives.
    let slow = spawn_app_configured(|s| s.body_read_timeout_secs = 1).await;
    let timed: Vec<&Operation> = ops
        .iter()
        .filter(|op| spec["paths"][op.path][op.method]["responses"]["408"].is_object())
        .collect();
    for op in timed {
        let reply = stalled_body(&slow, op.target).await;
        produced.record(op.path, op.method, 408, &reply);
    }

    let missing: BTreeSet<_> = documented(&spec)
        .difference(&produced.seen)
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "documented but never produced: {missing:?}"
    );
}

#[tokio::test]
async fn a_wrong_method_is_405_as_documented() {
    let spec = spec();
    let app = spawn_app().await;
    let mut root = spec.clone();
    root["$ref"] =
        json!("#/components/responses/MethodNotAllowed/content/application~1json/schema");
    let validator = jsonschema::draft202012::new(&root).expect("compiles");
    for op in operations() {
        let wrong = if op.method == "get" && op.path != "/" {
            Method::DELETE
        } else {
            Method::PUT
        };
        let reply = app.send(app.request(wrong.clone(), op.target)).await;
        assert_eq!(reply.status, 405, "{wrong} {}: {}", op.path, reply.body);
        assert!(
            validator.is_valid(&reply.body),
            "{wrong} {}: {}",
            op.path,
            reply.body
        );
        assert!(
            !reply.header("allow").is_empty(),
            "{wrong} {}: no Allow header",
            op.path
        );
    }
}

#[test]
fn every_route_of_the_router_is_documented() {
    let spec = spec();
    let router = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/mod.rs"))
        .expect("router source");
    // Each `.route("PATH", get(..).post(..))` up to the end of its statement.
    let mut routes = BTreeSet::new();
    for call in router.split(".route(").skip(1) {
        let call = call.split(';').next().expect("a statement");
        let path = call.split('"').nth(1).expect("a quoted path");
        for verb in ["get", "post", "put", "delete", "patch"] {
            let called = format!("{verb}(");
            let used = call.match_indices(&called).any(|(at, _)| {
                !call[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if used {
                routes.insert((path.to_owned(), verb));
            }
        }
    }
    assert!(
        routes.len() >= 20,
        "the router's routes were not found: {routes:?}"
    );
    for (path, verb) in &routes {
        assert!(
            spec["paths"][path][*verb].is_object(),
            "the router serves {verb} {path}, which openapi.yaml does not document"
        );
    }
}
