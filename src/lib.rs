//! embedserve serves the input-embedding layer of large language models and word2vec
//! similarity over HTTP, and trains word2vec stores natively.
//!
//! # Layout
//!
//! - [`config`]: settings from `config/default.toml`, environment and flags.
//! - [`model`]: a Hugging Face model directory: `config.json`, the tokenizer, and the
//!   memory-mapped embedding matrix; pooling.
//! - [`word2vec`]: word2vec stores (read, write, query as gensim does), preprocessing, training
//!   and evaluation.
//! - [`http`]: the routes, one file per group, and the JSON extractors; [`error`] is the one
//!   error type every failed request becomes.
//! - [`compute`]: bounded execution of CPU work off the async executor.
//! - [`metrics`]: Prometheus metrics behind `GET /metrics`.
//! - [`state`], [`startup`]: shared state, binding, loading, graceful shutdown.
//! - [`demo`]: generation of the bundled demo model and store.
//! - [`vector`]: vector arithmetic shared by both.
//! - [`cli`]: the `embedserve` command line.

pub mod cli;
pub mod compute;
pub mod config;
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
