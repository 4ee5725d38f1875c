//! The HTTP API, exercised over real sockets against servers on port 0.

#[path = "../common/mod.rs"]
mod common;

mod contract;
mod demo;
mod embed;
mod errors;
mod health;
mod helpers;
mod openai_sdk;
mod production;
mod similar;
mod startup;
mod tokenize;
