//! The access log as the binary writes it (README, Configuration): one line per request with
//! method, route, status, latency, tokens and `x-request-id`, as text by default and as one JSON
//! object per line with `log_format = "json"`.

use std::collections::HashMap;
use std::io::Read;

use serde_json::{Value, json};

use crate::startup::{embedded_tokens, spawn_generated_server, terminate};

/// The request id the test sends, to find its line among the others.
const REQUEST_ID: &str = "access-log-test.42";

/// Serves a generated model with `args`, sends one `/embed` request with [`REQUEST_ID`] and one
/// to an unknown path, stops the server and returns its stderr and the tokens `/embed` counted.
async fn logged_requests(args: &[&str]) -> (String, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, base) = spawn_generated_server(dir.path(), args).await;
    let client = reqwest::Client::new();
    let reply: Value = client
        .post(format!("{base}/embed"))
        .header("x-request-id", REQUEST_ID)
        .json(&json!({"inputs": ["dog", "hello world"]}))
        .send()
        .await
        .expect("embeds")
        .json()
        .await
        .expect("json");
    let tokens = embedded_tokens(&reply) as u64;
    let missing = client
        .get(format!("{base}/no/such/path"))
        .header("x-request-id", "access-log-missing")
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 404);
    terminate(&child.0);
    child.0.wait().expect("exits");
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("stderr");
    (stderr, tokens)
}

/// The `key=value` fields of a text log line, quotes removed.
fn text_fields(line: &str) -> HashMap<&str, &str> {
    line.split_whitespace()
        .filter_map(|token| token.split_once('='))
        .map(|(key, value)| (key, value.trim_matches('"')))
        .collect()
}

/// The single line of `stderr` that holds `needle`.
fn line_with<'a>(stderr: &'a str, needle: &str) -> &'a str {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(needle)).collect();
    assert_eq!(lines.len(), 1, "one line with {needle} in\n{stderr}");
    lines[0]
}

#[tokio::test]
async fn each_request_logs_one_text_line_with_its_fields() {
    let (stderr, tokens) = logged_requests(&[]).await;
    let line = line_with(&stderr, REQUEST_ID);
    assert!(line.contains("embedserve::access"), "{line}");
    let fields = text_fields(line);
    for (key, want) in [
        ("request_id", REQUEST_ID),
        ("method", "POST"),
        ("route", "/embed"),
        ("status", "200"),
        ("tokens", &tokens.to_string()),
    ] {
        assert_eq!(fields.get(key), Some(&want), "{key} in {line}");
    }
    let latency: f64 = fields["latency_ms"].parse().expect("a latency in ms");
    assert!(latency > 0.0 && latency < 30_000.0, "{line}");
    let missing = text_fields(line_with(&stderr, "access-log-missing"));
    assert_eq!(missing.get("route"), Some(&"unmatched"));
    assert_eq!(missing.get("status"), Some(&"404"));
    assert!(
        stderr
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_err()),
        "text is the default:\n{stderr}"
    );
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_the_fields() {
    let (stderr, tokens) = logged_requests(&["--log-format", "json"]).await;
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let access: Vec<&Value> = lines
        .iter()
        .filter(|line| line["fields"]["request_id"] == REQUEST_ID)
        .collect();
    assert_eq!(access.len(), 1, "one access line in\n{stderr}");
    let line = access[0];
    assert_eq!(line["target"], "embedserve::access", "{line}");
    assert_eq!(line["level"], "INFO", "{line}");
    let fields = &line["fields"];
    assert_eq!(fields["method"], "POST", "{line}");
    assert_eq!(fields["route"], "/embed", "{line}");
    assert_eq!(fields["status"], 200, "{line}");
    assert_eq!(fields["tokens"], tokens, "{line}");
    let latency = fields["latency_ms"].as_f64().expect("a number");
    assert!(latency > 0.0 && latency < 30_000.0, "{line}");
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["route"] == "unmatched" && l["fields"]["status"] == 404),
        "the unknown path is logged as unmatched:\n{stderr}"
    );
}
