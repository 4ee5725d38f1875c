//! word2vec: stores, gensim-exact queries, evaluation, preprocessing and native training.

// Test modules share helpers with `pub`; nothing here is a public API.
#![allow(unreachable_pub)]

#[path = "../common/mod.rs"]
mod common;

mod brute_force;
mod eval;
mod fasttext;
mod fuzz_regressions;
mod gensim_native;
mod index;
mod preprocess;
mod query;
mod store;
mod train;
mod train_defaults;
mod trained;
