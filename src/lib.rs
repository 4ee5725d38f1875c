//! embedserve serves the input-embedding layer of large language models and word2vec
//! similarity over HTTP, and trains word2vec stores natively.
//!
//! # Layout
//!
//! Layers only point down: `cli` and `startup` at the top, then [`http`], then input preparation
//! ([`input`], [`embedding`], [`encoding`]), then the domain cores [`model`] and [`word2vec`],
//! which know nothing of HTTP, and [`vector`] at the bottom.
//!
//! - [`cli`]: the `embedserve` command line; the only place clap is used. Each command turns
//!   its flags into a settings struct of the library.
//! - [`config`]: [`config::Settings`] from `config/default.toml`, environment and flags.
//! - [`startup`]: `Application::build` binds, `run` loads in the background and drains on
//!   shutdown, reloads on SIGHUP; [`connections`] accepts connections with a cap and timeouts;
//!   [`state`] is what every request shares, with the served [`catalog`] of named models and
//!   stores behind an atomic pointer that a reload swaps (each request keeps the snapshot it
//!   started with); [`compute`] runs CPU work off the async executor on one pool of
//!   `compute_threads` threads, within the request timeout. `http/admission.rs` reads a work
//!   route's body within its deadline and holds its admission permit until the response is
//!   written; `http/tei.rs` answers TEI's clients.
//! - [`http`]: the router ([`http::app`]), one file per route group that only extracts, calls
//!   and answers; `http/types.rs` holds every request and response body, `http/extract.rs` the
//!   extractors whose rejections are JSON; [`error`] is the one error type every failure becomes,
//!   with `From` impls for the domain errors.
//!   `http/playground.rs` serves the playground page at `/` from `assets/playground/` (plain
//!   HTML, CSS and JavaScript compiled in), which drives the public API from the browser.
//! - [`input`]: a request's texts or ids become validated token ids: limits, truncation, id
//!   checks and the "no tokens" rule, in one place.
//! - [`embedding`]: token rows or one pooled vector per input, cut and normalized.
//! - [`encoding`]: how vectors are written (`float`, `base64`, `binary`, `ubinary`).
//! - [`model`]: a model directory (a transformer's input-embedding layer, or a static-embedding
//!   model of model2vec or sentence-transformers): configuration, tokenizer, the memory-mapped
//!   matrix, and pooling with the reference library's arithmetic.
//! - [`word2vec`]: stores (read, write; fastText models with their character n-grams, which give
//!   any word a vector; index files served from a memory map with an approximate-nearest-neighbour
//!   graph), queries as gensim answers them, preprocessing, native training and evaluation.
//! - [`vector`]: dot products and L2 normalization shared by both cores.
//! - [`metrics`]: Prometheus metrics behind `GET /metrics`; [`demo`]: the bundled demo.
//!
//! # The path of a request
//!
//! `POST /embed {"inputs": "Hi, 你好~"}`: the `observe` and auth middleware
//! (`http/observe.rs`, `http/auth.rs`) → `http::extract::Json` parses an
//! `http::types::EmbedRequest` (400/422 on bad JSON) → `http/embed.rs` moves the work onto the
//! compute pool (`AppState::run_blocking`, 429 when full, 503 on timeout) → [`input::prepare`]
//! tokenizes through [`model::EmbeddingModel::tokenize`] and checks the limits →
//! [`embedding::token_rows`] gathers the rows from the memory map ([`model::EmbeddingMatrix`]) →
//! [`encoding::Encoded`] writes them → `http::JsonBytes` is serialized on the worker and sent.
//!
//! `GET /similar?word=python&topn=5`: middleware as above → `http::extract::QueryParams` reads
//! the query string → `http/similar.rs` builds [`word2vec::query::SearchOptions`] and runs
//! [`word2vec::WordVectors::most_similar`] on the compute pool (`word2vec/query.rs`: the scan over
//! the rows, cosine as `dot / norm`, gensim's order; or, for a store served from an index file,
//! the graph's candidates rescored exactly) → a [`word2vec::query::QueryError`] becomes a 404 or 422 by `From`
//! → `http::types::ScoredWord` items in the store's envelope.

pub mod catalog;
pub mod cli;
pub mod compute;
pub mod config;
pub mod connections;
pub mod demo;
pub mod embedding;
pub mod encoding;
pub mod error;
pub mod http;
pub mod input;
pub mod metrics;
pub mod model;
pub mod startup;
pub mod state;
pub mod vector;
pub mod word2vec;
