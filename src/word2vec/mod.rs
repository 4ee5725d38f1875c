//! word2vec: stores as gensim writes them, queries as gensim answers them, evaluation, and
//! native training.
//!
//! - [`store`]: the one reader and writer of the word2vec binary and text formats.
//! - [`index`]: index files (`embedserve index`), served from a memory map with an
//!   approximate-nearest-neighbour graph.
//! - [`query`]: `most_similar`, `similarity`, `doesnt_match` with gensim's semantics.
//! - [`lookup`]: a word's vector, stored or built from its character n-grams ([`subwords`]).
//! - [`eval`]: gensim's analogy and word-pair evaluations (`embedserve eval`).
//! - [`preprocess`]: gensim's `simple_preprocess`, character for character.
//! - [`vocab`], [`train`]: native training (`embedserve train`).

pub mod eval;
pub mod index;
pub mod lookup;
pub mod preprocess;
pub mod query;
pub mod store;
pub mod subwords;
pub mod train;
pub mod vocab;

pub use store::{LoadOptions, StoreFormat, WordVectors};
