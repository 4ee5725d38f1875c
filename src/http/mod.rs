//! The HTTP API: one file per route group, assembled by [`app`].

mod embed;
pub mod extract;
mod health;
mod similar;
mod tokenize;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::AppError;
use crate::state::AppState;

/// The service's router with every route, the JSON fallbacks and the middleware stack.
pub fn app(state: AppState) -> Router {
    let body_limit = state.settings().body_limit_bytes;
    Router::new()
        .route("/tokenize", post(tokenize::tokenize))
        .route("/embed", post(embed::embed))
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/info", get(health::info))
        .route(
            "/similar",
            get(similar::similar_get).post(similar::similar_post),
        )
        .route("/similarity", get(similar::similarity))
        .route("/vector", get(similar::vector))
        .route("/doesnt_match", get(similar::doesnt_match))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal("a request handler panicked".to_owned()).into_response()
        }))
        .with_state(state)
}

async fn route_not_found(uri: Uri) -> AppError {
    AppError::RouteNotFound(uri.path().to_owned())
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

/// A JSON body serialized ahead of time (on a worker thread, not the executor).
#[derive(Debug)]
pub struct JsonBytes(pub Vec<u8>);

impl JsonBytes {
    /// Serializes `value`; serializing plain data structures cannot fail in practice.
    pub fn of<T: Serialize>(value: &T) -> Result<Self, AppError> {
        serde_json::to_vec(value)
            .map(Self)
            .map_err(|e| AppError::Internal(format!("cannot serialize the response: {e}")))
    }
}

impl IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
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
