//! Live responses of every documented route checked against `openapi.yaml`; every documented
//! status of every operation is produced in `contract_statuses.rs`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, fasttext_fixture, spawn_app, spawn_app_configured};

/// openapi.yaml as JSON.
pub fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("openapi.yaml");
    serde_yaml_ng::from_str(&text).expect("openapi.yaml is valid YAML")
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// JSON pointer of the documented response for `status` of `method path`.
fn response_pointer(spec: &Value, path: &str, method: &str, status: u16) -> String {
    let operation = &spec["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path} does not document status {status}"
    );
    match response["$ref"].as_str() {
        Some(reference) => reference.to_owned(),
        None => format!("#/paths/{}/{method}/responses/{status}", escape(path)),
    }
}

/// Checks that `reply` has a documented media type and, for JSON, validates it against the
/// documented schema, using the whole document as the root so `#/components/...` resolve.
pub fn check(spec: &Value, path: &str, method: &str, reply: &Reply) {
    let pointer = response_pointer(spec, path, method, reply.status);
    let response = spec.pointer(&pointer[1..]).expect("documented response");
    let content_type = reply
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    assert!(
        response["content"].get(media).is_some(),
        "{method} {path} {}: content-type {content_type} is not documented",
        reply.status
    );
    if media != "application/json" {
        assert!(
            reply.body.as_str().is_some_and(|text| !text.is_empty()),
            "{method} {path}: empty body"
        );
        return;
    }
    let mut root = spec.clone();
    root["$ref"] = json!(format!("{pointer}/content/application~1json/schema"));
    let validator = jsonschema::draft202012::new(&root).expect("schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(&reply.body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {}: {errors:?}\n{}",
        reply.status,
        reply.body
    );
}

/// A request of the contract test and the status it must produce.
struct Case {
    method: &'static str,
    /// The documented path, e.g. `/playground/{file}`.
    path: &'static str,
    /// What is requested: the path with its parameters filled in and the query string.
    target: String,
    body: Option<Value>,
    status: u16,
}

fn get(path: &'static str, query: &str, status: u16) -> Case {
    Case {
        method: "get",
        path,
        target: format!("{path}{query}"),
        body: None,
        status,
    }
}

fn cases() -> Vec<Case> {
    let post = |path: &'static str, body: Value, status| Case {
        method: "post",
        path,
        target: path.to_owned(),
        body: Some(body),
        status,
    };
    let asset = |file: &str, status| Case {
        method: "get",
        path: "/playground/{file}",
        target: format!("/playground/{file}"),
        body: None,
        status,
    };
    vec![
        post(
            "/tokenize",
            json!({"inputs": ["Hello world!", ""], "add_special_tokens": true}),
            200,
        ),
        post("/tokenize", json!({"inputs": 5}), 422),
        post("/embed", json!({"inputs": "hello world"}), 200),
        post(
            "/embed",
            json!({"inputs": ["hello", "dog"], "pooling": "mean", "normalize": true}),
            200,
        ),
        post(
            "/embed",
            json!({"input_ids": [[1, 2]], "encoding_format": "base64"}),
            200,
        ),
        post("/embed", json!({"input_ids": [99]}), 422),
        get("/health", "", 200),
        get("/health/live", "", 200),
        get("/health/ready", "", 200),
        get("/info", "", 200),
        get("/similar", "?word=python&topn=3", 200),
        get("/similar", "?word=cobol", 404),
        get("/similar", "?word=python&topn=0", 422),
        post(
            "/similar",
            json!({"positive": ["python", "apple"], "negative": "java", "topn": 2}),
            200,
        ),
        post("/similar", json!({"vector": [0.0, 1.0, 0.0, 0.0]}), 200),
        post("/similar", json!({"vector": [0.0]}), 422),
        get("/similarity", "?word1=python&word2=java", 200),
        get("/similarity", "?word1=python&word2=cobol", 404),
        get("/vector", "?word=python&norm=true", 200),
        get("/vector", "", 422),
        post("/vectors", json!({"words": ["python", "pear"]}), 200),
        post("/vectors", json!({"words": ["python", "cobol"]}), 404),
        post("/vectors", json!({"words": []}), 422),
        get("/doesnt_match", "?words=python,java,apple", 200),
        post(
            "/v1/embeddings",
            json!({"input": ["hello", "dog"], "model": "x"}),
            200,
        ),
        post(
            "/v1/embeddings",
            json!({"input": ["hello"], "encoding_format": "base64"}),
            200,
        ),
        post("/v1/embeddings", json!({"input": [[1, 2]]}), 422),
        post("/", json!({"inputs": "hello world"}), 200),
        post("/", json!({"inputs": "hello", "prompt_name": "query"}), 422),
        post(
            "/tei",
            json!({"inputs": ["hello", "dog"], "normalize": false, "dimensions": 4}),
            200,
        ),
        post(
            "/tei/embed",
            json!({"inputs": ["hello"], "truncate": null, "truncation_direction": "Left"}),
            200,
        ),
        post("/tei/embed", json!({"inputs": []}), 422),
        post(
            "/v1/embeddings",
            json!({"input": "dog", "dimensions": 0}),
            422,
        ),
        get("/v1/models", "", 200),
        get("/metrics", "", 200),
        get("/openapi.yaml", "", 200),
        get("/openapi.json", "", 200),
        get("/docs", "", 200),
        get("/", "", 200),
        asset("main.js", 200),
        asset("base.css", 200),
        asset("icon.svg", 200),
        asset("missing.js", 404),
        // A reload ignores its body; nothing changed, so everything is reported unchanged.
        post("/admin/reload", json!({}), 200),
    ]
}

async fn send(app: &TestApp, case: &Case) -> Reply {
    match &case.body {
        Some(body) => app.post(&case.target, body).await,
        None => app.get(&case.target).await,
    }
}

/// Sends `case`, expects its status and checks the reply against the documented response.
async fn send_and_check(spec: &Value, app: &TestApp, case: &Case) {
    let reply = send(app, case).await;
    assert_eq!(
        reply.status, case.status,
        "{} {}: {}",
        case.method, case.path, reply.body
    );
    check(spec, case.path, case.method, &reply);
}

#[tokio::test]
async fn every_documented_operation_answers_as_documented() {
    let spec = spec();
    let app = spawn_app().await;
    let mut covered = BTreeSet::new();
    for case in cases() {
        send_and_check(&spec, &app, &case).await;
        covered.insert((case.path.to_owned(), case.method.to_owned()));
    }
    let documented: BTreeSet<(String, String)> = spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect();
    assert_eq!(
        covered, documented,
        "every documented operation is exercised"
    );
}

/// A fastText store: `/info` with its n-gram settings, and words outside the vocabulary.
#[tokio::test]
async fn a_fasttext_store_answers_as_documented() {
    let spec = spec();
    let app = spawn_app_configured(|s| s.word2vec = fasttext_fixture("lee-ft12.bin")).await;
    for case in [
        get("/info", "", 200),
        get("/vector", "?word=goverment&norm=true", 200),
        get("/vector", "?word=police", 200),
        get("/similar", "?word=goverment&topn=3", 200),
        get("/similarity", "?word1=colour&word2=colr", 200),
        get("/doesnt_match", "?words=police,goverment,firefighters", 200),
    ] {
        send_and_check(&spec, &app, &case).await;
    }
}

#[tokio::test]
async fn error_statuses_match_the_error_schema() {
    let spec = spec();
    let app = spawn_app().await;
    let malformed = app.post_raw("/embed", "application/json", "{").await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    check(&spec, "/embed", "post", &malformed);
    let media = app.post_raw("/embed", "text/csv", "a,b").await;
    assert_eq!(media.status, 415, "{}", media.body);
    check(&spec, "/embed", "post", &media);
    let not_found = app.get("/missing").await;
    let mut root = spec.clone();
    root["$ref"] = json!("#/components/schemas/ErrorBody");
    let validator = jsonschema::draft202012::new(&root).expect("compiles");
    assert!(validator.is_valid(&not_found.body), "{}", not_found.body);
    assert_eq!(not_found.status, 404);
}

/// `GET /info` of a server on the committed gensim native file `name`, checked against the spec.
async fn checked_info_of_gensim_file(spec: &Value, name: &str) -> Value {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gensim-native");
    let app = spawn_app_configured(|s| s.word2vec = format!("{fixtures}/{name}").into()).await;
    let reply = app.get("/info").await;
    check(spec, "/info", "get", &reply);
    reply.body["word2vec"].clone()
}

#[tokio::test]
async fn info_of_a_gensim_native_store_matches_the_contract() {
    let spec = spec();
    let store = checked_info_of_gensim_file(&spec, "cbow.model").await;
    assert_eq!(store["format"], "gensim");
    assert_eq!(
        store["gensim"],
        json!({"class": "Word2Vec", "vector_size": 12, "window": 5, "sg": 0, "epochs": 6})
    );
    let store = checked_info_of_gensim_file(&spec, "vectors.kv").await;
    assert_eq!(store["gensim"]["class"], "KeyedVectors");
    assert_eq!(store["gensim"]["window"], Value::Null);
}
