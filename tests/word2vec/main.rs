//! word2vec: stores, gensim-exact queries, evaluation, preprocessing and native training.

#[path = "../common/mod.rs"]
mod common;

mod eval;
mod fuzz_regressions;
mod preprocess;
mod query;
mod store;
mod train;
