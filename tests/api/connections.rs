//! Hostile clients at the connection level (`src/connections.rs`, `src/http/admission.rs`):
//! slow and partial headers, idle keep-alive sockets, the connection cap, bodies that never
//! arrive, and clients that never read a large response while holding an admission permit.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::common::ModelSpec;
use crate::helpers::{TestApp, spawn_app_configured, spawn_app_with};

fn socket_address(app: &TestApp) -> std::net::SocketAddr {
    app.url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("socket address")
}

/// Waits until the server closes `stream` (read returns 0 or an error), for at most `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_partial_header_is_cut_off_after_the_header_timeout() {
    let app = spawn_app_configured(|s| s.header_read_timeout_secs = 1).await;
    let mut stream = TcpStream::connect(socket_address(&app))
        .await
        .expect("connects");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("writes");
    let closed = closed_within(&mut stream, Duration::from_secs(5)).await;
    let closed = closed.expect("the server closed the slow connection");
    assert!(
        closed >= Duration::from_millis(900),
        "closed too early: {closed:?}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = spawn_app_configured(|s| s.header_read_timeout_secs = 1).await;
    let mut stream = TcpStream::connect(socket_address(&app))
        .await
        .expect("connects");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("writes");
    let mut buffer = vec![0u8; 4096];
    let read = stream.read(&mut buffer).await.expect("reads the answer");
    assert!(
        buffer[..read].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        &buffer[..read]
    );
    // Now idle on a keep-alive connection: the server must not keep it forever.
    assert!(
        closed_within(&mut stream, Duration::from_secs(5))
            .await
            .is_some()
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let app = spawn_app_configured(|s| {
        s.max_connections = 2;
        s.header_read_timeout_secs = 30;
    })
    .await;
    let address = socket_address(&app);
    let first = TcpStream::connect(address).await.expect("connects");
    let second = TcpStream::connect(address).await.expect("connects");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The third connection is completed by the kernel's backlog but not served.
    let third = app.request(reqwest::Method::GET, "/health/live").send();
    let waited = tokio::time::timeout(Duration::from_millis(700), third).await;
    assert!(waited.is_err(), "a connection beyond the cap was served");
    drop((first, second));
    let reply = app.get("/health/live").await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn a_body_that_never_arrives_is_answered_408() {
    let app = spawn_app_configured(|s| s.body_read_timeout_secs = 1).await;
    let mut stream = TcpStream::connect(socket_address(&app))
        .await
        .expect("connects");
    stream
        .write_all(b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"inputs\":")
        .await
        .expect("writes");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buffer = vec![0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buffer[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer to a stalled body");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"type\":\"body_timeout\""), "{text}");
}

/// A client that sends a request with a large answer and never reads it holds an admission
/// permit only until `response_write_timeout_secs` closes its connection.
#[tokio::test]
async fn a_client_that_never_reads_holds_its_permit_only_until_the_write_timeout() {
    let spec = ModelSpec {
        dim: 64,
        ..ModelSpec::default()
    };
    let app = spawn_app_with(&spec, |s| {
        s.max_concurrent_requests = 1;
        s.response_write_timeout_secs = 1;
        s.max_batch_tokens = 1 << 20;
    })
    .await;
    // 16384 tokens x 64 values: about 10 MB of JSON, far beyond the socket buffers.
    let text = "word ".repeat(8000);
    let body =
        json!({"inputs": [text, text], "pooling": "none", "add_special_tokens": false}).to_string();
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("small receive buffer");
    let mut stalled = socket
        .connect(socket_address(&app))
        .await
        .expect("connects");
    let request = format!(
        "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stalled.write_all(request.as_bytes()).await.expect("writes");
    // The answer is computed and stuck in the socket: the permit is still held.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let blocked = app.post("/tokenize", &json!({"inputs": "hello"})).await;
    blocked.assert_error(429, "overloaded");
    // The write timeout drops the stalled connection, its body and its permit.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let freed = app.post("/tokenize", &json!({"inputs": "hello"})).await;
    assert_eq!(freed.status, 200, "{:?}", freed.body);
    drop(stalled);
}
