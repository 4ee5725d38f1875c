//! fastText's character n-grams: which buckets of the n-gram table a word's n-grams hash to, and
//! the vectors built from them, with the arithmetic of gensim 4.4.0's `FastTextKeyedVectors`
//! (`compute_ngrams_bytes`, `ft_hash_bytes`, `get_vector`, `adjust_vectors`), which fastText's
//! own `get_word_vector` agrees with to within one rounding.
//!
//! The n-gram table is never copied: [`Subwords`] keeps the memory map of the model file and reads
//! rows where they lie (unaligned little-endian f32, as fastText writes them).

use std::fmt;
use std::sync::Arc;

use memmap2::Mmap;
use serde::Serialize;

/// The n-gram settings of a subword model: n-gram lengths (in characters) and table size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NgramSettings {
    /// Shortest n-gram, in characters (fastText's `minn`).
    pub min_n: usize,
    /// Longest n-gram, in characters (fastText's `maxn`).
    pub max_n: usize,
    /// Rows of the n-gram table; an n-gram's row is its hash modulo this (fastText's `bucket`).
    pub buckets: usize,
}

/// FNV-1a offset basis and prime (32-bit), fastText's `Dictionary::hash`.
const FNV_OFFSET: u32 = 2_166_136_261;
const FNV_PRIME: u32 = 16_777_619;

/// fastText's string hash: 32-bit FNV-1a over the bytes, each byte sign-extended first (fastText
/// hashes C `char`s, which are signed on the platforms it ships for; gensim copies this).
fn ft_hash(bytes: &[u8]) -> u32 {
    bytes.iter().fold(FNV_OFFSET, |hash, &byte| {
        (hash ^ (byte as i8 as u32)).wrapping_mul(FNV_PRIME)
    })
}

/// A UTF-8 continuation byte (`10xxxxxx`): not the start of a character.
fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

impl NgramSettings {
    /// The table rows of `word`'s n-grams, in fastText's order (gensim's `ft_ngram_hashes`): the
    /// word is wrapped in `<` and `>`, and every run of `min_n..=max_n` characters starting at
    /// each character is taken, except the lone boundary markers.
    pub fn ngram_buckets(&self, word: &str) -> Vec<usize> {
        if self.buckets == 0 {
            return Vec::new();
        }
        let mut wrapped = Vec::with_capacity(word.len() + 2);
        wrapped.push(b'<');
        wrapped.extend_from_slice(word.as_bytes());
        wrapped.push(b'>');
        let len = wrapped.len();
        let mut buckets = Vec::new();
        for start in 0..len {
            if is_continuation(wrapped[start]) {
                continue;
            }
            let (mut end, mut chars) = (start, 1);
            while end < len && chars <= self.max_n {
                end += 1;
                while end < len && is_continuation(wrapped[end]) {
                    end += 1;
                }
                let lone_marker = chars == 1 && (start == 0 || end == len);
                if chars >= self.min_n && !lone_marker {
                    let hash = ft_hash(&wrapped[start..end]);
                    buckets.push(hash as usize % self.buckets);
                }
                chars += 1;
            }
        }
        buckets
    }
}

/// Adds row `row` of a little-endian f32 table of width `acc.len()` to `acc`.
fn add_row(table: &[u8], row: usize, acc: &mut [f32]) {
    let width = acc.len() * 4;
    let bytes = &table[row * width..(row + 1) * width];
    for (a, b) in acc.iter_mut().zip(bytes.chunks_exact(4)) {
        *a += f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
}

/// Composes an in-vocabulary word's vector as gensim's `adjust_vectors` does after loading a
/// Facebook model: `row` (the word's own input row) plus the rows of its n-grams, in order, then
/// divided by their number. `table` is the n-gram table as stored.
pub(crate) fn compose_in_vocabulary(
    settings: &NgramSettings,
    table: &[u8],
    word: &str,
    row: &mut [f32],
) {
    let buckets = settings.ngram_buckets(word);
    for &bucket in &buckets {
        add_row(table, bucket, row);
    }
    let count = (buckets.len() + 1) as f32;
    row.iter_mut().for_each(|v| *v /= count);
}

/// A subword model's n-gram table, memory-mapped, and its settings.
#[derive(Clone)]
pub struct Subwords {
    settings: NgramSettings,
    dim: usize,
    file: Arc<Mmap>,
    table_start: usize,
}

impl fmt::Debug for Subwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subwords")
            .field("settings", &self.settings)
            .field("dim", &self.dim)
            .field("table_start", &self.table_start)
            .finish_non_exhaustive()
    }
}

impl Subwords {
    /// The n-gram table of `settings.buckets` rows of `dim` f32 values starting at byte
    /// `table_start` of `file`; the caller has checked that it lies inside the file.
    pub(crate) fn new(
        settings: NgramSettings,
        dim: usize,
        file: Arc<Mmap>,
        table_start: usize,
    ) -> Self {
        Subwords {
            settings,
            dim,
            file,
            table_start,
        }
    }

    /// The n-gram settings.
    pub fn settings(&self) -> &NgramSettings {
        &self.settings
    }

    /// The vector of a word the vocabulary does not hold, as gensim's `get_vector` computes it:
    /// the sum of its n-gram rows and their number; `None` when the word has no n-gram of
    /// `min_n..=max_n` characters (gensim then answers the zero vector, which has no direction).
    pub fn ngram_sum(&self, word: &str) -> Option<(Vec<f32>, usize)> {
        let buckets = self.settings.ngram_buckets(word);
        if buckets.is_empty() {
            return None;
        }
        let table = &self.file[self.table_start..];
        let mut sum = vec![0.0f32; self.dim];
        for &bucket in &buckets {
            add_row(table, bucket, &mut sum);
        }
        Some((sum, buckets.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fnv1a_over_sign_extended_bytes() {
        // Values of gensim 4.4.0's `ft_hash_bytes`.
        assert_eq!(ft_hash(b""), 2_166_136_261);
        assert_eq!(ft_hash(b"<the>"), 4_243_648_960);
        assert_eq!(ft_hash("<é".as_bytes()), 672_036_627);
    }

    #[test]
    fn ngrams_follow_gensim_order_and_skip_lone_markers() {
        let settings = NgramSettings {
            min_n: 1,
            max_n: 2,
            buckets: u32::MAX as usize + 1,
        };
        let expected: Vec<usize> = ["<a", "a", "ab", "b", "b>"]
            .iter()
            .map(|ngram| ft_hash(ngram.as_bytes()) as usize)
            .collect();
        assert_eq!(settings.ngram_buckets("ab"), expected);
        // Characters, not bytes: "é" is one character of two bytes.
        let wide = NgramSettings {
            min_n: 3,
            max_n: 3,
            buckets: 1000,
        };
        assert_eq!(
            wide.ngram_buckets("é"),
            vec![ft_hash("<é>".as_bytes()) as usize % 1000]
        );
        let none = NgramSettings {
            min_n: 5,
            max_n: 6,
            buckets: 1000,
        };
        assert!(none.ngram_buckets("ab").is_empty());
    }
}
