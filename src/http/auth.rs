//! Optional API keys: `Authorization: Bearer <key>`, compared in constant time.

use axum::extract::{Request, State};
use axum::http::header;
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
        || is_public(request.uri().path(), settings.auth_protects_health)
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

fn is_public(path: &str, protect_health: bool) -> bool {
    let health = path == "/health" || path.starts_with("/health/") || path == "/metrics";
    let contract = path == "/openapi.yaml" || path == "/openapi.json" || path == "/docs";
    contract || super::playground::is_page_path(path) || (health && !protect_health)
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
        assert!(is_public("/health/ready", false));
        assert!(!is_public("/health/ready", true));
        assert!(is_public("/docs", true));
        assert!(is_public("/", true));
        assert!(is_public("/playground/main.js", true));
        assert!(!is_public("/vectors", false));
        assert!(!is_public("/embed", false));
    }
}
