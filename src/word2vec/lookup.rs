//! A word's vector, as gensim's `get_vector` gives it: the stored row of a word of the vocabulary,
//! or, in a subword (fastText) store, a vector built from the word's character n-grams.

use std::borrow::Cow;

use super::query::QueryError;
use super::store::WordVectors;
use crate::vector::l2_normalize;

/// A word's vector and its unit-length version, borrowed from the store or composed.
#[derive(Debug, Clone, PartialEq)]
pub struct WordLookup<'a> {
    /// The word's row, `None` for a word outside the vocabulary.
    pub index: Option<usize>,
    /// The vector (gensim `get_vector(word)`).
    pub vector: Cow<'a, [f32]>,
    /// The vector scaled to unit length (gensim `get_vector(word, norm=True)`).
    pub unit: Cow<'a, [f32]>,
}

impl WordVectors {
    /// The vector of `word`: its row when the vocabulary holds it; in a subword store, the mean of
    /// its n-gram rows otherwise (gensim `FastTextKeyedVectors.get_vector`, whose unit vector is
    /// the sum of the rows scaled to unit length). A word outside the vocabulary of a store
    /// without subwords, or without any n-gram of the store's lengths, is
    /// [`QueryError::UnknownWord`].
    pub fn lookup(&self, word: &str) -> Result<WordLookup<'_>, QueryError> {
        if let Some(index) = self.index_of(word)
            && let (Some(vector), Some(unit)) = (self.vector(index), self.unit_vector(index))
        {
            return Ok(WordLookup {
                index: Some(index),
                vector: Cow::Borrowed(vector),
                unit: Cow::Owned(unit),
            });
        }
        let unknown = || QueryError::UnknownWord(word.to_owned());
        let (sum, count) = self
            .subwords()
            .and_then(|subwords| subwords.ngram_sum(word))
            .ok_or_else(unknown)?;
        let mut unit = sum.clone();
        l2_normalize(&mut unit);
        // gensim divides the float32 sum by the count in float32.
        let mean = sum.into_iter().map(|v| v / count as f32).collect();
        Ok(WordLookup {
            index: None,
            vector: Cow::Owned(mean),
            unit: Cow::Owned(unit),
        })
    }
}
