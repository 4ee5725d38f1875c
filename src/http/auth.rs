//! Optional API keys: `Authorization: Bearer <key>`, compared in constant time.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::state::AppState;

/// Middleware: when keys are configured, refuses requests without a valid one (401), except
/// the contract and the playground page (which hold no data: the page asks for a key and calls
/// the API with it), and health and metrics unless `auth_protects_health` is set.
pub(super) async fn require_api_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let settings = state.settings();
    if settings.api_keys.is_empty()
        || is_public(
            request.method(),
            request.uri().path(),
            settings.auth_protects_health,
        )
    {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(key) if key_matches(&settings.api_keys, key) => next.run(request).await,
        _ => AppError::Unauthorized.into_response(),
    }
}

/// Whether a request needs no key. The page is public only when fetched: `/` is also where
/// other methods may serve API calls (TEI's `POST /`), and those stay guarded.
fn is_public(method: &Method, path: &str, protect_health: bool) -> bool {
    let health = path == "/health" || path.starts_with("/health/") || path == "/metrics";
    let contract = path == "/openapi.yaml" || path == "/openapi.json" || path == "/docs";
    let page =
        (method == Method::GET || method == Method::HEAD) && super::playground::is_page_path(path);
    contract || page || (health && !protect_health)
}

/// Compares against every key without stopping at the first match, so timing reveals neither
/// which key matched nor how much of a key was right.
fn key_matches(keys: &[String], presented: &str) -> bool {
    keys.iter()
        .fold(subtle::Choice::from(0), |found, key| {
            found | key.as_bytes().ct_eq(presented.as_bytes())
        })
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_public_paths() {
        let keys = vec!["alpha".to_owned(), "beta-key".to_owned()];
        assert!(key_matches(&keys, "beta-key"));
        assert!(!key_matches(&keys, "beta"));
        assert!(!key_matches(&keys, ""));
        let get = Method::GET;
        assert!(is_public(&get, "/health/ready", false));
        assert!(!is_public(&get, "/health/ready", true));
        assert!(is_public(&get, "/docs", true));
        assert!(!is_public(&Method::POST, "/embed", false));
        assert!(is_public(&get, "/", true));
        assert!(is_public(&Method::HEAD, "/", true));
        assert!(!is_public(&Method::POST, "/", false));
        assert!(is_public(&get, "/playground/main.js", true));
        assert!(!is_public(&Method::POST, "/vectors", false));
    }
}
