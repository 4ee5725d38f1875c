//! The HTTP API: one file per route group, assembled by [`app`].

mod auth;
mod docs;
mod embed;
pub mod extract;
mod health;
mod observe;
mod openai;
mod similar;
mod tokenize;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower_http::CompressionLevel;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use observe::Work;
pub use similar::store_name;

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
        .route("/doesnt_match", get(similar::doesnt_match))
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/info", get(health::info))
        .route("/metrics", get(metrics))
        .route("/openapi.yaml", get(docs::openapi_yaml))
        .route("/openapi.json", get(docs::openapi_json))
        .route("/docs", get(docs::page))
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

/// A JSON body serialized ahead of time (on a worker thread, not the executor), with the work
/// it stands for (reported to the access log and metrics).
#[derive(Debug)]
pub struct JsonBytes {
    bytes: Vec<u8>,
    work: Option<Work>,
}

impl JsonBytes {
    /// Serializes `value`; serializing plain data structures cannot fail in practice.
    pub fn of<T: Serialize>(value: &T) -> Result<Self, AppError> {
        serde_json::to_vec(value)
            .map(Self::from)
            .map_err(|e| AppError::Internal(format!("cannot serialize the response: {e}")))
    }

    /// Notes that the response covers `tokens` tokens in `inputs` inputs.
    pub fn with_work(self, tokens: usize, inputs: usize) -> Self {
        Self {
            work: Some(Work { tokens, inputs }),
            ..self
        }
    }
}

impl From<Vec<u8>> for JsonBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self { bytes, work: None }
    }
}

impl IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        let mut response = self.bytes.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(work) = self.work {
            response.extensions_mut().insert(work);
        }
        response
    }
}

/// One text or a batch of texts.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Texts {
    /// A single text.
    One(String),
    /// A batch of texts.
    Many(Vec<String>),
}

impl Texts {
    /// The texts as a list.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(text) => vec![text],
            Self::Many(texts) => texts,
        }
    }
}

/// Token counts of a request.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Usage {
    /// Tokens in the inputs.
    pub prompt_tokens: usize,
    /// Tokens processed in all (the same: nothing is generated).
    pub total_tokens: usize,
}

impl Usage {
    /// Usage for `tokens` input tokens.
    pub fn of(tokens: usize) -> Self {
        Self {
            prompt_tokens: tokens,
            total_tokens: tokens,
        }
    }
}

/// Checks that a request's inputs hold at most `max` tokens in all (`max_batch_tokens`).
pub fn check_total_tokens(total: usize, max: usize, param: &str) -> Result<(), AppError> {
    if total > max {
        return Err(AppError::validation(
            param,
            format!("the request has {total} tokens in all; the limit is {max} (max_batch_tokens)"),
        ));
    }
    Ok(())
}

/// Checks a batch: at least one input, at most `max`.
pub fn check_batch(len: usize, max: usize, param: &str) -> Result<(), AppError> {
    if len == 0 {
        return Err(AppError::validation(
            param,
            format!("{param} must not be empty"),
        ));
    }
    if len > max {
        return Err(AppError::validation(
            param,
            format!("{param} has {len} items; the limit is {max} (max_batch_size)"),
        ));
    }
    Ok(())
}
