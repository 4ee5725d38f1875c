//! Request decoding through the real router: JSON bodies of `POST /embed`, `/tokenize`,
//! `/similar` and `/v1/embeddings` (the request types are private to their route modules, so
//! they are reached the way a client reaches them), and the query strings of the `GET` word2vec
//! routes. The server is loaded with the MiniLM fixture model and the lee-cbow50 store, so valid
//! requests go on to tokenizing, gathering and searching.
//!
//! Bad input must be answered with a 4xx JSON error: a panic anywhere (handlers, workers) aborts
//! the fuzzer through libfuzzer-sys's panic hook, and a 5xx answer is reported as a crash here
//! (`common/invariants.rs`).
//!
//! Input layout: byte 0 picks the route (see `ROUTES`); the rest is the body, or for `GET` the
//! query string (bytes outside the URI's query characters are percent-encoded).
#![no_main]

#[path = "common/invariants.rs"]
mod invariants;

use std::path::PathBuf;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use embedserve::config::Settings;
use embedserve::state::AppState;
use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// The routes a fuzz input can reach: method and path.
const ROUTES: &[(Method, &str)] = &[
    (Method::POST, "/embed"),
    (Method::POST, "/tokenize"),
    (Method::POST, "/similar"),
    (Method::POST, "/v1/embeddings"),
    (Method::GET, "/similar"),
    (Method::GET, "/similarity"),
    (Method::GET, "/vector"),
    (Method::GET, "/doesnt_match"),
];

/// The loaded server, built once per fuzzing process.
struct Server {
    runtime: Runtime,
    router: Router,
}

fn fixtures() -> PathBuf {
    std::env::var_os("EMBEDSERVE_FIXTURES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
        PathBuf::from,
    )
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let root = fixtures();
        let settings = Settings {
            model_dir: root.join("all-minilm-l6-v2-bf16"),
            word2vec: root.join("word2vec/lee-cbow50.bin"),
            compute_threads: 1,
            ..Settings::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let router = runtime.block_on(async {
            let resources = embedserve::startup::load_resources(&settings)
                .unwrap_or_else(|e| panic!("the fixtures under {} must load: {e}", root.display()));
            let state = AppState::new(settings);
            state.set_loaded(resources);
            embedserve::http::app(state)
        });
        Server { runtime, router }
    })
}

/// Percent-encodes every byte a URI query cannot hold raw; `%` stays raw so that malformed
/// escapes reach the decoder too.
fn query_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~=&,+%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (method, path) = &ROUTES[usize::from(pick) % ROUTES.len()];
    let request = if *method == Method::GET {
        Request::get(format!("{path}?{}", query_string(rest))).body(Body::empty())
    } else {
        Request::post(*path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(rest.to_vec()))
    };
    let Ok(request) = request else {
        // Not a URI the HTTP layer would have let through.
        return;
    };
    let server = server();
    let (status, body) = server.runtime.block_on(async {
        let response = server
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the response body");
        (status, body)
    });
    invariants::check_answer(&format!("{method} {path}"), status.as_u16(), &body);
});
