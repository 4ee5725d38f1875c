//! The contract, served: `GET /openapi.yaml`, `GET /openapi.json` and a docs page that renders
//! it with no external scripts (works offline).

use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::JsonBytes;
use crate::error::AppError;

/// The OpenAPI document, compiled in so the served contract always matches the binary.
const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");
const DOCS_PAGE: &str = include_str!("assets/docs.html");

/// `GET /openapi.yaml`.
pub(super) async fn openapi_yaml() -> Response {
    let mut response = OPENAPI_YAML.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/yaml"),
    );
    response
}

/// `GET /openapi.json`: the same document as JSON, converted once.
pub(super) async fn openapi_json() -> Result<JsonBytes, AppError> {
    static JSON: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    let converted = JSON.get_or_init(|| {
        serde_yaml_ng::from_str::<serde_json::Value>(OPENAPI_YAML)
            .map_err(|e| e.to_string())
            .and_then(|value| serde_json::to_vec(&value).map_err(|e| e.to_string()))
    });
    match converted {
        Ok(bytes) => Ok(JsonBytes::from(bytes.clone())),
        Err(e) => Err(AppError::Internal(format!(
            "openapi.yaml does not convert: {e}"
        ))),
    }
}

/// `GET /docs`: a page rendering `/openapi.json`.
pub(super) async fn page() -> Html<&'static str> {
    Html(DOCS_PAGE)
}
