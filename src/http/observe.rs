//! Per-request observation: one access-log line and the request metrics.
//!
//! Labels are bounded whatever clients send: the route is the matched route template (or
//! `unmatched`), the method one of the standard methods or `other`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::metrics;

/// Work a response reports, read here for the log line and the metrics.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct WorkDone {
    /// Tokens processed.
    pub tokens: usize,
    /// Inputs in the request.
    pub inputs: usize,
}

/// Middleware: logs method, matched route, status, latency, tokens and request id, and records
/// the request metrics.
pub(super) async fn observe(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let started = Instant::now();
    metrics::in_flight(1.0);
    let response = next.run(request).await;
    metrics::in_flight(-1.0);
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    let work = response
        .extensions()
        .get::<WorkDone>()
        .copied()
        .unwrap_or_default();
    metrics::record_request(&route, method, status, seconds);
    if work.inputs > 0 {
        metrics::record_work(&route, work.tokens, work.inputs);
    }
    if status == 429 {
        metrics::record_shed();
    }
    tracing::info!(
        target: "embedserve::access",
        request_id,
        method,
        route,
        status,
        latency_ms = seconds * 1000.0,
        tokens = work.tokens,
        "request"
    );
    response
}

/// The methods of RFC 9110 (and PATCH) that keep their own label.
static STANDARD_METHODS: [Method; 9] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::CONNECT,
    Method::OPTIONS,
    Method::TRACE,
    Method::PATCH,
];

/// The method's label: a standard method by name, anything else `other`, so that made-up
/// methods (any token is a valid method) cannot grow `/metrics` or the logs.
fn method_label(method: &Method) -> &'static str {
    STANDARD_METHODS
        .iter()
        .find(|standard| *standard == method)
        .map_or("other", Method::as_str)
}
