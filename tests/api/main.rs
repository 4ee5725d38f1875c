//! The HTTP API, exercised over real sockets against servers on port 0.
//!
//! One file per file of `src/http/` (`router.rs` for `src/http/mod.rs`: metrics, CORS,
//! compression, request ids, fallbacks); `contract.rs`, `demo.rs`, `errors.rs` and `startup.rs`
//! cut across routes. `helpers.rs` starts servers and sends requests.

// Test modules share helpers with `pub`; nothing here is a public API.
#![allow(unreachable_pub)]

#[path = "../common/mod.rs"]
mod common;

mod access_log;
mod auth;
mod clients;
mod connections;
mod contract;
mod contract_statuses;
mod demo;
mod docs;
mod embed;
mod errors;
mod extract;
mod health;
mod helpers;
mod limits;
mod multi;
mod observe;
mod openai;
mod playground;
mod readiness;
mod reload;
mod router;
mod settings;
mod similar;
mod similar_restrict;
mod startup;
mod static_models;
mod store_options;
mod tei;
mod tokenize;
