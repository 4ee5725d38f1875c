//! The HTTP API: one file per route group, assembled by [`app`].

mod auth;
mod docs;
mod embed;
pub mod extract;
mod health;
mod observe;
mod openai;
mod playground;
mod response;
mod similar;
mod tokenize;
mod types;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::CompressionLevel;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use response::JsonBytes;

use crate::error::AppError;
use crate::state::AppState;

/// Responses smaller than this are not worth compressing.
const COMPRESS_ABOVE_BYTES: u64 = 1024;

/// The service's router with every route, the JSON fallbacks and the middleware stack.
pub fn app(state: AppState) -> Router {
    crate::metrics::handle();
    let body_limit = state.settings().body_limit_bytes;
    let request_id = HeaderName::from_static("x-request-id");
    // Embedding bodies are megabytes of digits: the fastest level keeps most of the saving at a
    // fraction of the CPU (gzip's default level took over a second per 512-token response).
    let compression = CompressionLayer::new()
        .gzip(true)
        .zstd(true)
        .quality(CompressionLevel::Fastest)
        .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESS_ABOVE_BYTES)));
    Router::new()
        .route("/tokenize", post(tokenize::tokenize))
        .route("/embed", post(embed::embed))
        .route("/v1/embeddings", post(openai::embeddings))
        .route("/v1/models", get(openai::models))
        .route(
            "/similar",
            get(similar::similar_get).post(similar::similar_post),
        )
        .route("/similarity", get(similar::similarity))
        .route("/vector", get(similar::vector))
        .route("/vectors", post(similar::vectors))
        .route("/doesnt_match", get(similar::doesnt_match))
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
            state.clone(),
            auth::require_api_key,
        ))
        .layer(axum::middleware::from_fn(observe::observe))
        .layer(compression)
        .layer(cors(&state.settings().cors_origins))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal("a request handler panicked".to_owned()).into_response()
        }))
        .with_state(state)
}

/// CORS for the configured origins; none configured leaves CORS off.
fn cors(origins: &[String]) -> CorsLayer {
    if origins.is_empty() {
        return CorsLayer::new();
    }
    let allow_origin = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600))
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
