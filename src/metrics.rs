//! Prometheus metrics, rendered by `GET /metrics`.
//!
//! One process-wide recorder (the `metrics` facade allows one); every server in the process,
//! including those of the tests, shares it. Route labels are the matched route templates, never
//! raw paths, so label cardinality stays bounded.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use std::sync::Arc;

use crate::catalog::{Catalog, ServedModel, ServedStore};

/// Latency buckets in seconds: sub-millisecond lookups up to slow 512-token batches.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Inputs per request: 1 up to the largest batches.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// The process-wide Prometheus handle, installing the recorder on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("embedserve_inputs_per_request".to_owned()),
                    BATCH_BUCKETS,
                )
            });
        let recorder = match builder {
            Ok(builder) => builder.build_recorder(),
            Err(e) => {
                tracing::warn!("metric buckets refused ({e}); using summaries");
                PrometheusBuilder::new().build_recorder()
            }
        };
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        describe();
        spawn_upkeep(handle.clone());
        handle
    })
}

/// How often histogram samples are folded into their buckets when nobody scrapes `/metrics`.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Folds pending histogram samples into their buckets every [`UPKEEP_INTERVAL`].
///
/// A recorder made by `build_recorder` keeps every histogram sample in a queue until the next
/// render: without a scraper, memory grew by about 25 bytes per request (58 to 103 MiB over a
/// 10-minute soak of 1.8 million requests). A plain thread, not a task, because the handle is
/// created on first use, which may be outside the runtime.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                handle.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("metrics upkeep thread not started ({e}); histograms drain only on scrape");
    }
}

fn describe() {
    metrics::describe_counter!(
        "embedserve_requests_total",
        "HTTP requests by route, method and status, and the model or store that answered."
    );
    metrics::describe_histogram!(
        "embedserve_request_duration_seconds",
        metrics::Unit::Seconds,
        "Request latency by route and method, and the model or store that answered."
    );
    metrics::describe_gauge!("embedserve_requests_in_flight", "Requests being served.");
    metrics::describe_counter!(
        "embedserve_tokens_total",
        "Tokens embedded or tokenized, by route and model."
    );
    metrics::describe_histogram!(
        "embedserve_inputs_per_request",
        "Inputs in one request, by route and model."
    );
    metrics::describe_counter!(
        "embedserve_load_shed_total",
        "Requests refused with 429 at the concurrency limit."
    );
    metrics::describe_gauge!(
        "embedserve_model_info",
        "A model (labels): 1 while served, 0 once a reload replaced or removed it."
    );
    metrics::describe_gauge!(
        "embedserve_word2vec_info",
        "A word2vec store (labels): 1 while served, 0 once a reload replaced or removed it."
    );
    metrics::describe_counter!(
        "embedserve_reloads_total",
        "Reloads (SIGHUP or POST /admin/reload) by result: success, or failure (nothing changed)."
    );
}

/// Records one finished request; `model` names the model or store that answered, if any.
pub fn record_request(route: &str, method: &str, status: u16, seconds: f64, model: Option<&str>) {
    let mut labels = vec![("route", route.to_owned()), ("method", method.to_owned())];
    if let Some(model) = model {
        labels.push(("model", model.to_owned()));
    }
    histogram!("embedserve_request_duration_seconds", &labels).record(seconds);
    labels.push(("status", status.to_string()));
    counter!("embedserve_requests_total", &labels).increment(1);
}

/// Records the work a request did: tokens processed and inputs in the batch.
pub fn record_work(route: &str, model: Option<&str>, tokens: usize, inputs: usize) {
    let mut labels = vec![("route", route.to_owned())];
    if let Some(model) = model {
        labels.push(("model", model.to_owned()));
    }
    counter!("embedserve_tokens_total", &labels).increment(tokens as u64);
    histogram!("embedserve_inputs_per_request", &labels).record(inputs as f64);
}

/// Adds `delta` (+1 or -1) to the in-flight gauge.
pub fn in_flight(delta: f64) {
    gauge!("embedserve_requests_in_flight").increment(delta);
}

/// Counts a request shed with 429.
pub fn record_shed() {
    counter!("embedserve_load_shed_total").increment(1);
}

/// Counts a reload: `success`, or `failure` (nothing changed).
pub fn record_reload(succeeded: bool) {
    let result = if succeeded { "success" } else { "failure" };
    counter!("embedserve_reloads_total", "result" => result).increment(1);
}

/// Publishes what `current` serves as info gauges at 1, and those of `previous` it no longer
/// serves (removed, or replaced by a new load) at 0.
pub fn record_catalog(previous: Option<&Catalog>, current: &Catalog) {
    if let Some(previous) = previous {
        for served in previous.models() {
            if !current
                .models()
                .iter()
                .any(|kept| Arc::ptr_eq(kept, served))
            {
                model_info(served, 0.0);
            }
        }
        for served in previous.stores() {
            if !current
                .stores()
                .iter()
                .any(|kept| Arc::ptr_eq(kept, served))
            {
                store_info(served, 0.0);
            }
        }
    }
    for served in current.models() {
        model_info(served, 1.0);
    }
    for served in current.stores() {
        store_info(served, 1.0);
    }
}

fn model_info(served: &ServedModel, value: f64) {
    let model = &served.model;
    gauge!(
        "embedserve_model_info",
        "model" => model.name.clone(),
        "rows" => model.matrix.rows().to_string(),
        "dimension" => model.dimension().to_string(),
        "dtype" => model.matrix.dtype().name(),
        "tensor" => model.matrix.tensor().to_owned(),
        "path" => model.dir.display().to_string()
    )
    .set(value);
}

fn store_info(served: &ServedStore, value: f64) {
    let store = &served.store;
    gauge!(
        "embedserve_word2vec_info",
        "store" => served.name.clone(),
        "words" => store.len().to_string(),
        "dimension" => store.dim().to_string(),
        "format" => store.format().map_or_else(|| "none".to_owned(), |f| f.to_string()),
        "path" => store.path().map_or_else(String::new, |path| path.display().to_string())
    )
    .set(value);
}
