//! The playground: `GET /` and its assets under `/playground/`, compiled into the binary.
//!
//! The page is plain HTML, CSS and JavaScript from `assets/playground/`, embedded with
//! `include_str!` so the binary serves it offline with nothing to install. It is public (like
//! `/docs`): it holds no data, and every call it makes goes through the API with the key the
//! user enters. A strict `Content-Security-Policy` allows only this origin's own scripts, styles
//! and API, so nothing inline runs and nothing leaves the origin.

use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// Only this origin's files and API; no inline script or style, no plugins, no framing, and no
/// form submission (the key form is handled by script, so a key can never land in a URL).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// The page's URL prefix for its assets.
const ASSET_PREFIX: &str = "/playground/";

/// One embedded file of the page.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_str!(concat!("../../assets/playground/", $name)),
        }
    };
}

const PAGE: Asset = asset!("index.html", "text/html; charset=utf-8");

/// The files under [`ASSET_PREFIX`]: one stylesheet per concern, one module per panel.
const ASSETS: &[Asset] = &[
    asset!("base.css", "text/css; charset=utf-8"),
    asset!("panels.css", "text/css; charset=utf-8"),
    asset!("charts.css", "text/css; charset=utf-8"),
    asset!("main.js", "text/javascript; charset=utf-8"),
    asset!("api.js", "text/javascript; charset=utf-8"),
    asset!("dom.js", "text/javascript; charset=utf-8"),
    asset!("colour.js", "text/javascript; charset=utf-8"),
    asset!("tokens.js", "text/javascript; charset=utf-8"),
    asset!("embedding.js", "text/javascript; charset=utf-8"),
    asset!("heatmap.js", "text/javascript; charset=utf-8"),
    asset!("neighbours.js", "text/javascript; charset=utf-8"),
    asset!("map.js", "text/javascript; charset=utf-8"),
    asset!("pca.js", "text/javascript; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
];

/// Whether `path` is the page or one of its assets, which need no API key.
pub(super) fn is_page_path(path: &str) -> bool {
    path == "/" || path.starts_with(ASSET_PREFIX)
}

/// `GET /`: the playground page.
pub(super) async fn page() -> Response {
    serve(&PAGE)
}

/// `GET /playground/{file}`: a stylesheet, script or icon of the page; 404 for anything else.
pub(super) async fn asset(Path(file): Path<String>) -> Result<Response, AppError> {
    ASSETS
        .iter()
        .find(|asset| asset.name == file)
        .map(serve)
        .ok_or_else(|| AppError::RouteNotFound(format!("{ASSET_PREFIX}{file}")))
}

fn serve(asset: &Asset) -> Response {
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The files change only with the binary; revalidating keeps a new release from mixing with
    // an old cached script.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}
