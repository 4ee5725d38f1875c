//! Optional API keys: `Authorization: Bearer <key>`, compared as SHA-256 digests in constant
//! time. The admin routes (`/admin/...`) take the `admin_api_keys` instead when they are set.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Settings;
use crate::error::AppError;

/// A key's SHA-256 digest: what is compared, so the comparison takes the same time whatever
/// the keys' lengths.
type KeyDigest = [u8; 32];

/// The accepted keys, hashed once at startup, and which paths they guard.
#[derive(Clone)]
pub(super) struct ApiKeys {
    digests: Arc<[KeyDigest]>,
    /// The keys of the admin routes; empty: they take `digests` like every route.
    admin: Arc<[KeyDigest]>,
    protect_health: bool,
}

impl ApiKeys {
    /// The keys of `settings` (none: no authentication).
    pub(super) fn new(settings: &Settings) -> Self {
        Self {
            digests: settings.api_keys.iter().map(|key| digest(key)).collect(),
            admin: settings
                .admin_api_keys
                .iter()
                .map(|key| digest(key))
                .collect(),
            protect_health: settings.auth_protects_health,
        }
    }

    /// Compares against every key without stopping at the first match, so timing reveals
    /// neither which key matched nor how much of a key, or how long a key, was right.
    fn accept(keys: &[KeyDigest], presented: &str) -> bool {
        let presented = digest(presented);
        keys.iter()
            .fold(subtle::Choice::from(0), |found, key| {
                found | key.ct_eq(&presented)
            })
            .into()
    }
}

fn digest(key: &str) -> KeyDigest {
    Sha256::digest(key.as_bytes()).into()
}

/// Middleware: when keys are configured, refuses requests without a valid one (401), except
/// the contract and the playground page (which hold no data: the page asks for a key and calls
/// the API with it), and health and metrics unless `auth_protects_health` is set.
pub(super) async fn require_api_key(
    State(keys): State<ApiKeys>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let accepted = if path.starts_with("/admin/") && !keys.admin.is_empty() {
        &keys.admin
    } else {
        &keys.digests
    };
    if accepted.is_empty() || is_public(request.method(), path, keys.protect_health) {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(key) if ApiKeys::accept(accepted, key) => next.run(request).await,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_public_paths() {
        let settings = Settings {
            api_keys: vec!["alpha".to_owned(), "beta-key".to_owned()],
            ..Settings::default()
        };
        let keys = ApiKeys::new(&settings);
        let accept = |key| ApiKeys::accept(&keys.digests, key);
        assert!(accept("beta-key"));
        assert!(accept("alpha"));
        assert!(!accept("beta"));
        assert!(!accept("beta-key2"));
        assert!(!accept(""));
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
