//! The HTTP API: one file per route group, assembled by [`app`].

mod admin;
mod admission;
mod auth;
mod docs;
mod embed;
pub mod extract;
mod health;
mod observe;
mod openai;
mod playground;
mod request_id;
mod response;
mod similar;
mod tei;
mod tokenize;
mod types;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::CompressionLevel;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use admission::Admission;
pub use response::JsonBytes;

use crate::error::AppError;
use crate::state::AppState;

/// Responses smaller than this are not worth compressing.
const COMPRESS_ABOVE_BYTES: u64 = 1024;

/// The service's router with every route, the JSON fallbacks and the middleware stack.
pub fn app(state: AppState) -> Router {
    crate::metrics::handle();
    let body_limit = state.settings().body_limit_bytes;
    // Embedding bodies are megabytes of digits: the fastest level keeps most of the saving at a
    // fraction of the CPU (gzip's default level took over a second per 512-token response).
    let compression = CompressionLayer::new()
        .gzip(true)
        .zstd(true)
        .quality(CompressionLevel::Fastest)
        .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESS_ABOVE_BYTES)));
    // The routes that do work: their bodies are read within a deadline and each request holds
    // an admission permit until its response is written.
    let work = Router::new()
        .route("/", post(tei::embed))
        .route("/tei", post(tei::embed))
        .route("/tei/embed", post(tei::embed))
        .route("/tokenize", post(tokenize::tokenize))
        .route("/embed", post(embed::embed))
        .route("/v1/embeddings", post(openai::embeddings))
        .route(
            "/similar",
            get(similar::similar_get).post(similar::similar_post),
        )
        .route("/similarity", get(similar::similarity))
        .route("/vector", get(similar::vector))
        .route("/vectors", post(similar::vectors))
        .route("/doesnt_match", get(similar::doesnt_match))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admission::admit,
        ));
    let routed = Router::new()
        .merge(work)
        .route("/v1/models", get(openai::models))
        .route("/admin/reload", post(admin::reload))
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/info", get(health::info))
        .route("/metrics", get(metrics))
        .route("/openapi.yaml", get(docs::openapi_yaml))
        .route("/openapi.json", get(docs::openapi_json))
        .route("/docs", get(docs::page))
        .route("/", get(playground::page))
        .route("/playground/{file}", get(playground::asset))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            auth::ApiKeys::new(state.settings()),
            auth::require_api_key,
        ))
        .layer(axum::middleware::from_fn(observe::observe))
        .layer(compression);
    // Without origins there is no CORS layer at all: tower-http's answers every OPTIONS request
    // itself (200, before routing, auth, logs and metrics), whatever it is configured to allow.
    let routed = match cors(&state.settings().cors_origins) {
        Some(cors) => routed.layer(cors),
        None => routed,
    };
    routed
        .layer(PropagateRequestIdLayer::new(request_id::REQUEST_ID))
        .layer(SetRequestIdLayer::new(
            request_id::REQUEST_ID,
            MakeRequestUuid,
        ))
        .layer(axum::middleware::map_request(request_id::drop_unusable))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal("a request handler panicked".to_owned()).into_response()
        }))
        .with_state(state)
}

/// CORS for the configured origins, or `None` (CORS off) when none is configured; empty values
/// (`EMBEDSERVE_CORS_ORIGINS=""`) are no origins.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<&str> = origins
        .iter()
        .map(|origin| origin.trim())
        .filter(|origin| !origin.is_empty())
        .collect();
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    let layer = CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600));
    Some(layer)
}

/// `GET /metrics`: Prometheus text format.
async fn metrics() -> Response {
    let mut response = crate::metrics::handle().render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

async fn route_not_found(uri: Uri) -> AppError {
    AppError::RouteNotFound(uri.path().to_owned())
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
