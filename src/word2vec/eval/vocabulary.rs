//! The words that take part in an evaluation, matched case-insensitively as gensim does by default.

use std::collections::HashMap;

use crate::word2vec::store::WordVectors;

/// The words that take part, as gensim's `ok_vocab`: the first `restrict_vocab` words (upper-cased
/// when `case_insensitive`), each mapped to the row of its first occurrence.
pub(super) struct Vocabulary {
    rows: HashMap<String, usize>,
    case_insensitive: bool,
}

impl Vocabulary {
    /// The first `restrict_vocab` words of `store`, folded as `case_insensitive` says.
    pub(super) fn new(store: &WordVectors, restrict_vocab: usize, case_insensitive: bool) -> Self {
        let mut rows = HashMap::new();
        for (index, word) in store.words().take(restrict_vocab).enumerate() {
            rows.entry(Self::fold(word, case_insensitive))
                .or_insert(index);
        }
        Vocabulary {
            rows,
            case_insensitive,
        }
    }

    /// A word as it is matched: upper-cased (Python's `str.upper`) or unchanged.
    fn fold(word: &str, case_insensitive: bool) -> String {
        if case_insensitive {
            word.to_uppercase()
        } else {
            word.to_owned()
        }
    }

    /// `word` as it is looked up.
    pub(super) fn key(&self, word: &str) -> String {
        Self::fold(word, self.case_insensitive)
    }

    /// Row of a looked-up `key`, if it takes part.
    pub(super) fn row(&self, key: &str) -> Option<usize> {
        self.rows.get(key).copied()
    }
}
