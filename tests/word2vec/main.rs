//! word2vec: stores, gensim-exact queries and evaluation.

#[path = "../common/mod.rs"]
mod common;

mod eval;
mod query;
mod store;
