//! `/health/ready` over the life of a server: 503 while the first load runs, 200 once it ends,
//! and 503 again once shutdown begins, answered to a request still in flight during the drain.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use embedserve::config::Settings;
use embedserve::startup::Application;
use serde_json::json;

use crate::common::{ModelSpec, write_model_dir};
use crate::helpers::{KilledOnDrop, start_loading};
use crate::startup::{free_port, serve_generated_model, terminate, wait_ready};

/// Replaces `path` by a FIFO: whoever opens it for reading blocks until someone opens it for
/// writing. (The model's `config.json` is read whole, so a FIFO can hold the load back and then
/// let it succeed; a store or weights file is mapped, and a FIFO cannot be.)
fn replace_by_fifo(path: &Path) {
    std::fs::remove_file(path).expect("removed");
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");
}

/// Opens a FIFO's write end when dropped unfed (declare it after the server, so that it runs
/// before the server's directory is deleted): a test failing before it feeds the FIFO must not
/// leave the loader blocked in `open`, and the test's runtime waiting for the loader's thread at
/// its end, forever.
struct Unblock(Option<PathBuf>);

impl Drop for Unblock {
    fn drop(&mut self) {
        if let Some(fifo) = self.0.take() {
            let (opened, waited) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = std::fs::OpenOptions::new().write(true).open(fifo);
                let _ = opened.send(());
            });
            let _ = waited.recv_timeout(Duration::from_secs(5));
        }
    }
}

#[tokio::test]
async fn ready_is_503_while_the_first_load_runs_and_200_once_it_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model_dir = dir.path().join("held-model");
    write_model_dir(&model_dir, &ModelSpec::default());
    let config_path = model_dir.join("config.json");
    let config = std::fs::read(&config_path).expect("config written");
    replace_by_fifo(&config_path);
    let settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        model_dir,
        word2vec: "".into(),
        ..Settings::default()
    };
    let app = start_loading(Application::build(settings).await.expect("binds"), dir);
    let mut unblock = Unblock(Some(config_path));

    // The loader is blocked opening config.json: nothing is loaded, however long we wait.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for path in ["/health/ready", "/health"] {
        app.get(path).await.assert_error(503, "not_ready");
    }
    assert_eq!(
        app.get("/health/live").await.body,
        json!({"status": "alive"})
    );
    assert_eq!(app.get("/info").await.body["ready"], false);
    app.post("/embed", &json!({"input_ids": [[1]]}))
        .await
        .assert_error(503, "not_ready");

    // Writing the real config.json through the FIFO lets the load go on and succeed.
    let fifo = unblock.0.take().expect("not fed yet");
    tokio::task::spawn_blocking(move || std::fs::write(&fifo, config))
        .await
        .expect("writer joined")
        .expect("config written to the FIFO");
    let started = Instant::now();
    let mut reply = app.get("/health/ready").await;
    while reply.status != 200 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        reply = app.get("/health/ready").await;
    }
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body, json!({"status": "ready"}));
    assert_eq!(app.get("/health").await.status, 200);
    assert_eq!(app.get("/info").await.body["ready"], true);
    let embedded = app.post("/embed", &json!({"input_ids": [[1]]})).await;
    assert_eq!(embedded.status, 200, "{}", embedded.body);
}

/// Reads an HTTP/1.1 answer until the server closes the connection.
fn read_to_close(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn ready_is_503_to_a_request_in_flight_once_sigterm_begins_the_drain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let args = [
        "--drain-timeout-secs",
        "20",
        "--header-read-timeout-secs",
        "60",
    ];
    let mut child = KilledOnDrop(serve_generated_model(dir.path(), port, &args));
    assert!(wait_ready(port), "never became ready");

    // A probe in flight when the signal arrives: its request head is half sent, so the drain
    // waits for it (a connection between requests would simply be closed).
    let mut during = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    during
        .write_all(b"GET /health/ready HTTP/1.1\r\nHost: x\r\n")
        .expect("writes");
    std::thread::sleep(Duration::from_millis(300));

    terminate(&child.0);
    // The listener closes once shutdown has begun: from then on, new connections are refused.
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still accepting connections 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    during.write_all(b"\r\n").expect("head ends");
    let answer = read_to_close(&mut during);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains(r#""type":"not_ready""#), "{answer}");

    let status = child.0.wait().expect("exits");
    assert!(status.success(), "exit {status}");
}
