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
#[derive(Debug, Clone, Default)]
pub(super) struct WorkDone {
    /// Tokens processed.
    pub tokens: usize,
    /// Inputs in the request.
    pub inputs: usize,
    /// The model or store that answered (a configured name: bounded label values).
    pub model: Option<String>,
}

/// Middleware: logs method, matched route, status, latency, tokens and request id, and records
/// the request metrics, also for a request whose client hung up before its answer.
pub(super) async fn observe(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method()).to_owned();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut guard = InFlight::start(route, method, request_id);
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let work = response
        .extensions()
        .get::<WorkDone>()
        .cloned()
        .unwrap_or_default();
    guard.finish(status, work);
    response
}

/// A request being served: counted in `requests_in_flight` from its start until it is dropped,
/// answered or not. When the client hangs up mid-request the server drops the handler's future,
/// and this guard's `Drop` still logs and counts the request, as status 499 (the status nginx
/// uses for "client closed request"), so the gauge returns to zero and nothing goes unrecorded.
struct InFlight {
    route: String,
    method: String,
    request_id: String,
    started: Instant,
    answered: bool,
}

/// The status recorded for a request whose client went away before the answer.
const CLIENT_CLOSED_REQUEST: u16 = 499;

impl InFlight {
    fn start(route: String, method: String, request_id: String) -> Self {
        metrics::in_flight(1.0);
        Self {
            route,
            method,
            request_id,
            started: Instant::now(),
            answered: false,
        }
    }

    /// Records the answered request: metrics and one access-log line.
    fn finish(&mut self, status: u16, work: WorkDone) {
        self.answered = true;
        self.record(status, work);
    }

    fn record(&self, status: u16, work: WorkDone) {
        let seconds = self.started.elapsed().as_secs_f64();
        let (route, method) = (self.route.as_str(), self.method.as_str());
        let model = work.model.as_deref();
        metrics::record_request(route, method, status, seconds, model);
        if work.inputs > 0 {
            metrics::record_work(route, model, work.tokens, work.inputs);
        }
        if status == 429 {
            metrics::record_shed();
        }
        tracing::info!(
            target: "embedserve::access",
            request_id = self.request_id,
            method,
            route,
            status,
            model,
            latency_ms = seconds * 1000.0,
            tokens = work.tokens,
            "request"
        );
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::in_flight(-1.0);
        if !self.answered {
            self.record(CLIENT_CLOSED_REQUEST, WorkDone::default());
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_dropped_before_its_answer_is_logged_and_counted_as_499() {
        let route = "/test/dropped-before-answer";
        // Installs the recorder first: metrics recorded before it are lost.
        metrics::handle();
        drop(InFlight::start(
            route.to_owned(),
            "GET".to_owned(),
            String::new(),
        ));
        let text = metrics::handle().render();
        let counted = text.lines().any(|line| {
            line.starts_with("embedserve_requests_total")
                && line.contains(&format!("route=\"{route}\""))
                && line.contains("status=\"499\"")
        });
        assert!(counted, "{text}");
    }
}
