//! Loading model directories: generated ones for every dtype, layout and error, and the real
//! fixtures (Qwen tokenizer, MiniLM bf16 weights, the model2vec static models) against Python's answers.

// Test modules share helpers with `pub`; nothing here is a public API.
#![allow(unreachable_pub)]

#[path = "../common/mod.rs"]
mod common;

mod errors;
mod fixtures;
mod fuzz_inputs;
mod loading;
mod pooling;
mod prepare;
mod static_models;
