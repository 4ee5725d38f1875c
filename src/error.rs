//! The one error type of the HTTP API and its JSON body.
//!
//! Every failed request, including the rejections of axum's extractors, the unknown-route
//! fallback and load shedding, becomes an [`AppError`], rendered as
//! `{"error": {"message", "type", "param", "code"}}` (the shape OpenAI clients expect) with a
//! stable `type` per kind of failure and the HTTP status in `code`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::input::InputError;
use crate::word2vec::query::QueryError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The body is not well-formed JSON, or the request line is unusable (400).
    #[error("{0}")]
    Malformed(String),
    /// An API key is required and the request did not carry a valid one (401).
    #[error("a valid API key is required (Authorization: Bearer <key>)")]
    Unauthorized,
    /// No route matches the path (404).
    #[error("no route for {0}")]
    RouteNotFound(String),
    /// The word is not in the word2vec store (404).
    #[error("word {0:?} is not in the vocabulary")]
    UnknownWord(String),
    /// The request names a model that is not served (404).
    #[error("the model {0:?} does not exist: GET /v1/models lists the served models")]
    ModelNotFound(String),
    /// The request names a word2vec store that is not served (404).
    #[error("the store {0:?} does not exist: GET /info lists the served stores")]
    StoreNotFound(String),
    /// The route exists but not for this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request body is larger than the configured limit (413).
    #[error("request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// The body is not declared as `application/json` (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A field is well-formed but not acceptable (422); `param` names the field and index.
    #[error("{message}")]
    Validation {
        /// The offending field, e.g. `input_ids[1][3]`.
        param: String,
        /// What is wrong with it.
        message: String,
    },
    /// The request body did not arrive within `body_read_timeout_secs` (408).
    #[error("the request body did not arrive within {0} s (body_read_timeout_secs)")]
    BodyTimeout(u64),
    /// Too many requests are in flight; the client should retry later (429).
    #[error("the server is at its concurrency limit; retry shortly")]
    Overloaded,
    /// The model or store is still loading, or the server is shutting down (503).
    #[error("the service is not ready")]
    NotReady,
    /// The model's weights file changed while served; its rows are no longer read (503).
    #[error("the model cannot be served: {0}")]
    ModelFileChanged(String),
    /// This server was started without the resource the route needs (503).
    #[error("{0}")]
    NotConfigured(&'static str),
    /// The request took longer than the configured timeout (503).
    #[error("the request did not finish within {0} seconds")]
    Timeout(u64),
    /// A reload found a model, store or setting it cannot load; what was serving still serves
    /// (422).
    #[error("reload failed, nothing changed: {0}")]
    ReloadFailed(String),
    /// A bug: a worker panicked or was cancelled. Never caused by input.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// Shorthand for a [`AppError::Validation`] on `param`.
    pub fn validation(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            param: param.into(),
            message: message.into(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::RouteNotFound(_)
            | Self::UnknownWord(_)
            | Self::ModelNotFound(_)
            | Self::StoreNotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation { .. } | Self::ReloadFailed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Overloaded => StatusCode::TOO_MANY_REQUESTS,
            Self::NotReady
            | Self::NotConfigured(_)
            | Self::ModelFileChanged(_)
            | Self::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable error type (documented in `openapi.yaml`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_request",
            Self::Unauthorized => "unauthorized",
            Self::RouteNotFound(_) => "not_found",
            Self::UnknownWord(_) => "unknown_word",
            Self::ModelNotFound(_) => "model_not_found",
            Self::StoreNotFound(_) => "store_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Validation { .. } => "validation_error",
            Self::BodyTimeout(_) => "body_timeout",
            Self::Overloaded => "overloaded",
            Self::NotReady => "not_ready",
            Self::NotConfigured(_) => "not_configured",
            Self::ModelFileChanged(_) => "model_file_changed",
            Self::Timeout(_) => "timeout",
            Self::ReloadFailed(_) => "reload_failed",
            Self::Internal(_) => "internal_error",
        }
    }

    fn param(&self) -> Option<&str> {
        match self {
            Self::Validation { param, .. } => Some(param),
            Self::UnknownWord(_) => Some("word"),
            Self::ModelNotFound(_) => Some("model"),
            Self::StoreNotFound(_) => Some("store"),
            _ => None,
        }
    }
}

impl From<InputError> for AppError {
    fn from(error: InputError) -> Self {
        Self::Validation {
            param: error.param,
            message: error.message,
        }
    }
}

impl From<QueryError> for AppError {
    fn from(error: QueryError) -> Self {
        match error {
            QueryError::UnknownWord(word) => Self::UnknownWord(word),
            QueryError::EmptyQuery => {
                Self::validation("positive", "give at least one positive or negative word")
            }
            QueryError::InvalidTopn => Self::validation("topn", "topn must be at least 1"),
            QueryError::DimensionMismatch { .. } => Self::validation("vector", error.to_string()),
            QueryError::NonFiniteVector { index } => {
                Self::validation(format!("vector[{index}]"), error.to_string())
            }
            // The search stopped at the compute pool's deadline; the pool, which alone knows
            // the timeout, puts it in the answer (see `ComputePool::run`).
            QueryError::DeadlineExceeded => Self::Timeout(0),
        }
    }
}

impl From<serde_json::Error> for AppError {
    /// Serializing a response of plain data cannot fail in practice; if it does, it is a bug.
    fn from(error: serde_json::Error) -> Self {
        Self::Internal(format!("cannot serialize the response: {error}"))
    }
}

/// The JSON error body: `{"error": {...}}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    /// The error itself.
    pub error: ErrorDetail<'a>,
}

/// The fields of an error body.
#[derive(Debug, Serialize)]
pub struct ErrorDetail<'a> {
    /// A human-readable explanation.
    pub message: String,
    /// The stable error type, e.g. `validation_error`.
    #[serde(rename = "type")]
    pub kind: &'a str,
    /// The offending request field, when one is to blame.
    pub param: Option<&'a str>,
    /// The HTTP status code.
    pub code: u16,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() && !matches!(self, Self::NotReady | Self::Overloaded) {
            tracing::warn!(error = %self, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                message: self.to_string(),
                kind: self.kind(),
                param: self.param(),
                code: status.as_u16(),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if matches!(self, Self::Overloaded | Self::NotReady) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
