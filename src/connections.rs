//! Accepting connections with a cap and timeouts, so hostile clients cannot exhaust the server.
//!
//! `axum::serve` takes no timer and no limits: a header sent a byte a second, an idle keep-alive
//! socket or a client that never reads its response would hold a connection forever, and enough
//! of them exhaust the file descriptors. Here each connection is served by hyper's HTTP/1
//! connection with:
//! - a cap of `max_connections` open at once: at the cap the server stops accepting, and new
//!   connections wait in the kernel's listen backlog until a slot frees;
//! - `header_read_timeout_secs` for a request's head, counted from when the connection opens or
//!   its previous response ends (hyper's timer), which is also the idle keep-alive timeout;
//! - a request head of at most [`MAX_HEADER_BYTES`];
//! - `response_write_timeout_secs` on every write (`tokio-io-timeout`): a client that accepts no
//!   byte for that long is disconnected, which drops its response and frees its memory.
//!
//! The body deadline is the HTTP layer's (`http/admission.rs`). HTTP/2 is not offered: its idle
//! and header limits differ, and clients of an embedding service speak HTTP/1.1.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;

use crate::config::Settings;

/// Largest request head (request line and headers) a connection may buffer; hyper's minimum is
/// 8 KiB and its default 400 KiB, which a thousand slow clients would turn into 400 MB.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The connection limits of the settings.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Time to receive a request head; also the idle keep-alive timeout.
    pub header_read_timeout: Duration,
    /// Time one write may wait on a client that reads nothing.
    pub write_timeout: Duration,
    /// Time open connections get to finish their requests after shutdown begins.
    pub drain_timeout: Duration,
}

impl ConnectionLimits {
    /// The limits `settings` configure.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            max_connections: settings.max_connections,
            header_read_timeout: settings.header_read_timeout(),
            write_timeout: settings.response_write_timeout(),
            drain_timeout: settings.drain_timeout(),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open connections finish for
/// at most `limits.drain_timeout` and returns (connections still open are then dropped).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEADER_BYTES)
        .keep_alive(true);
    let mut shutdown = pin!(shutdown);
    loop {
        // A slot first, then accept: at the cap, connections wait in the backlog, not in memory.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept error: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses go out in one write per request: Nagle's algorithm would only add a
        // delayed-ACK stall to each small response on a keep-alive connection.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        let service = TowerToHyperService::new(app.clone());
        let connection = http.serve_connection(TokioIo::new(Box::pin(stream)), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection closed with an error: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.drain_timeout) => {
            tracing::warn!(drain = ?limits.drain_timeout, "drain timeout: closing connections with requests in flight");
        }
    }
}
