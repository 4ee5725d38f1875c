//! Similarity queries on a [`WordVectors`] store with gensim 4.4.0 `KeyedVectors` semantics
//! (`FastTextKeyedVectors` for a subword store): `most_similar`, `similar_by_vector`,
//! `similarity`, `doesnt_match`.
//!
//! Scores are cosines against the store's unit-length matrix. The search is an exact top-k: one
//! pass over the rows keeping a bounded heap, split across the current rayon pool for large stores.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::lookup::WordLookup;
use super::store::WordVectors;
use crate::vector::{DotTail, Separate, dot, l2_normalize};

/// Errors of a query; each maps to one HTTP status.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// A word is not in the store (HTTP 404).
    #[error("word {0:?} is not in the vocabulary")]
    UnknownWord(String),
    /// No input word or vector was given (HTTP 422).
    #[error("the query has no input words")]
    EmptyQuery,
    /// `topn` must be at least 1 (HTTP 422).
    #[error("topn must be at least 1")]
    InvalidTopn,
    /// A query vector has the wrong length (HTTP 422).
    #[error("query vector has {got} values but the store's vectors have {expected}")]
    DimensionMismatch {
        /// The store's dimension.
        expected: usize,
        /// The query vector's length.
        got: usize,
    },
    /// A query vector holds NaN or an infinity (HTTP 422).
    #[error("query vector value #{index} is not finite")]
    NonFiniteVector {
        /// Position of the first non-finite value.
        index: usize,
    },
    /// The search passed its [`SearchOptions::deadline`] and stopped (HTTP 503 `timeout`).
    #[error("the search ran past its deadline and was stopped")]
    DeadlineExceeded,
}

/// One search result: a word of the store and its cosine similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Neighbor<'a> {
    /// Row of the word in the store.
    pub index: usize,
    /// The word.
    pub word: &'a str,
    /// Cosine similarity, in `[-1, 1]` up to rounding.
    pub score: f32,
}

/// How many results to return, over which rows, on how many threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOptions {
    /// Number of results (gensim's `topn`); at least 1.
    pub topn: usize,
    /// Search only the first this many rows (gensim's `restrict_vocab`; `Some(0)`, like `None`,
    /// searches all, because gensim tests it for truthiness).
    pub restrict_vocab: Option<usize>,
    /// Split large searches across the current rayon thread pool; `false` scans on the calling
    /// thread only. To use N threads, call the query inside `ThreadPool::install`.
    pub parallel: bool,
    /// Stop scanning once this instant has passed: a request that timed out frees its thread
    /// within one block of rows instead of finishing a search nobody will read.
    pub deadline: Option<Instant>,
}

impl Default for SearchOptions {
    /// gensim's defaults: 10 results over the whole store, on all cores.
    fn default() -> Self {
        SearchOptions {
            topn: 10,
            restrict_vocab: None,
            parallel: true,
            deadline: None,
        }
    }
}

/// Stores with at least this many searched rows are scanned in parallel (when allowed): below it
/// the scan takes well under a millisecond and splitting costs more than it saves.
const PARALLEL_MIN_ROWS: usize = 50_000;

/// Rows per parallel task.
const ROWS_PER_TASK: usize = 16_384;

impl WordVectors {
    /// Words closest to the mean of the positive words' unit vectors minus the negative ones'
    /// (gensim `most_similar(positive, negative, topn, restrict_vocab)`); input words are never
    /// returned. In a subword store, a word outside the vocabulary takes its n-gram vector (see
    /// [`WordVectors::lookup`]). Results are sorted by score, best first, ties by row.
    pub fn most_similar<P: AsRef<str>, N: AsRef<str>>(
        &self,
        positive: &[P],
        negative: &[N],
        options: &SearchOptions,
    ) -> Result<Vec<Neighbor<'_>>, QueryError> {
        check_topn(options)?;
        if positive.is_empty() && negative.is_empty() {
            return Err(QueryError::EmptyQuery);
        }
        let weighted = positive
            .iter()
            .map(|w| (w.as_ref(), 1.0f32))
            .chain(negative.iter().map(|w| (w.as_ref(), -1.0f32)));
        let looked_up = weighted
            .map(|(word, weight)| self.lookup(word).map(|found| (found, weight)))
            .collect::<Result<Vec<_>, _>>()?;
        let mean = self.weighted_mean(looked_up.iter().map(|(found, w)| (&*found.unit, *w)));
        let inputs: Vec<usize> = looked_up.iter().filter_map(|(f, _)| f.index).collect();
        self.search(&mean, inputs, options)
    }

    /// [`Self::most_similar`] for rows known to exist, each with its weight (+1 positive, -1
    /// negative); `options.topn` must be at least 1.
    pub(crate) fn most_similar_rows(
        &self,
        rows: &[(usize, f32)],
        options: &SearchOptions,
    ) -> Result<Vec<Neighbor<'_>>, QueryError> {
        let mean = self.weighted_mean(rows.iter().map(|&(i, w)| (self.unit_row(i), w)));
        let inputs: Vec<usize> = rows.iter().map(|&(index, _)| index).collect();
        self.search(&mean, inputs, options)
    }

    /// The weighted mean of unit vectors scaled to unit length: the same operations, in the same
    /// order and f32 precision, as gensim's `get_mean_vector`.
    fn weighted_mean<'v>(&self, units: impl Iterator<Item = (&'v [f32], f32)>) -> Vec<f32> {
        let mut mean = vec![0.0f32; self.dim()];
        let mut total_weight = 0.0f32;
        for (unit, weight) in units {
            mean.iter_mut()
                .zip(unit)
                .for_each(|(m, &u)| *m += weight * u);
            total_weight += weight.abs();
        }
        mean.iter_mut().for_each(|m| *m /= total_weight);
        l2_normalize(&mut mean);
        mean
    }

    /// Words closest to `vector` (gensim `similar_by_vector`); nothing is excluded.
    pub fn similar_by_vector(
        &self,
        vector: &[f32],
        options: &SearchOptions,
    ) -> Result<Vec<Neighbor<'_>>, QueryError> {
        check_topn(options)?;
        if vector.len() != self.dim() {
            return Err(QueryError::DimensionMismatch {
                expected: self.dim(),
                got: vector.len(),
            });
        }
        if let Some(index) = vector.iter().position(|v| !v.is_finite()) {
            return Err(QueryError::NonFiniteVector { index });
        }
        let mut query = vector.to_vec();
        l2_normalize(&mut query);
        self.search(&query, Vec::new(), options)
    }

    /// Cosine similarity of two words (gensim `similarity`); in a subword store either may be
    /// outside the vocabulary.
    pub fn similarity(&self, first: &str, second: &str) -> Result<f32, QueryError> {
        let a = self.lookup(first)?;
        let b = self.lookup(second)?;
        Ok(dot::<Separate>(&a.unit, &b.unit, DotTail::Apart))
    }

    /// The word furthest from the mean of the given words (gensim `doesnt_match`): the unit
    /// vectors are averaged and re-normalized, and the word with the lowest cosine to that mean
    /// wins, a tie going to the smallest word as gensim's `sorted(..., reverse=True)[-1]` picks.
    /// Unknown words are ignored with a warning, as gensim does (one warning per call with their
    /// count, not one per word, which a long query would turn into thousands of log lines; in a
    /// subword store only words without any n-gram are unknown); repeated words count each time.
    pub fn doesnt_match<'w, W: AsRef<str>>(&self, words: &'w [W]) -> Result<&'w str, QueryError> {
        let first = words.first().ok_or(QueryError::EmptyQuery)?;
        let used: Vec<(&str, WordLookup<'_>)> = words
            .iter()
            .filter_map(|w| {
                self.lookup(w.as_ref())
                    .ok()
                    .map(|found| (w.as_ref(), found))
            })
            .collect();
        let ignored = words.len() - used.len();
        if ignored > 0 {
            tracing::warn!(ignored, "doesnt_match ignores words not in the store");
        }
        if used.is_empty() {
            return Err(QueryError::UnknownWord(first.as_ref().to_owned()));
        }
        let mut mean = vec![0.0f32; self.dim()];
        for (_, found) in &used {
            mean.iter_mut()
                .zip(found.unit.iter())
                .for_each(|(m, &u)| *m += u);
        }
        mean.iter_mut().for_each(|m| *m /= used.len() as f32);
        l2_normalize(&mut mean);
        let odd = used
            .iter()
            .map(|(word, found)| (dot::<Separate>(&found.unit, &mean, DotTail::Apart), *word))
            .min_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)))
            .map(|(_, word)| word);
        odd.ok_or(QueryError::EmptyQuery)
    }

    /// Unit row of an index known to be valid.
    pub(crate) fn unit_row(&self, index: usize) -> &[f32] {
        let dim = self.dim();
        &self.unit_matrix()[index * dim..(index + 1) * dim]
    }

    /// Exact top-`topn` rows by cosine with the unit vector `query`, skipping the `excluded` rows,
    /// in blocks of [`ROWS_PER_TASK`] rows, each checking the deadline first.
    fn search(
        &self,
        query: &[f32],
        mut excluded: Vec<usize>,
        options: &SearchOptions,
    ) -> Result<Vec<Neighbor<'_>>, QueryError> {
        // Sorted and deduplicated, so excluding a candidate is a binary search however many
        // words the query has.
        excluded.sort_unstable();
        excluded.dedup();
        let excluded = excluded.as_slice();
        let dim = self.dim();
        let rows = match options.restrict_vocab {
            Some(limit) if limit > 0 => limit.min(self.len()),
            _ => self.len(),
        };
        let matrix = &self.unit_matrix()[..rows * dim];
        let scan = |(task, block): (usize, &[f32])| {
            if options
                .deadline
                .is_some_and(|deadline| Instant::now() > deadline)
            {
                return Err(QueryError::DeadlineExceeded);
            }
            let mut top = TopK::new(options.topn);
            top.scan(block, task * ROWS_PER_TASK, query, excluded);
            Ok(top)
        };
        let top = if options.parallel && rows >= PARALLEL_MIN_ROWS {
            matrix
                .par_chunks(ROWS_PER_TASK * dim)
                .enumerate()
                .map(scan)
                .try_reduce(|| TopK::new(options.topn), |a, b| Ok(a.merge(b)))?
        } else {
            matrix
                .chunks(ROWS_PER_TASK * dim)
                .enumerate()
                .map(scan)
                .try_fold(TopK::new(options.topn), |a, b| b.map(|b| a.merge(b)))?
        };
        Ok(top
            .into_sorted()
            .into_iter()
            .map(|candidate| Neighbor {
                index: candidate.index,
                word: &self.words()[candidate.index],
                score: candidate.score,
            })
            .collect())
    }
}

/// Rejects `topn == 0` (gensim returns an empty list; an API caller asking for nothing is a bug).
fn check_topn(options: &SearchOptions) -> Result<(), QueryError> {
    if options.topn == 0 {
        return Err(QueryError::InvalidTopn);
    }
    Ok(())
}

/// A scored row; ordered so that "greater" means "better": higher score, then lower row.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: f32,
    index: usize,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.index.cmp(&self.index))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// The best `k` candidates seen so far, in a min-heap whose top is the worst kept one.
struct TopK {
    k: usize,
    heap: BinaryHeap<Reverse<Candidate>>,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            // Capacity only up to what a search can fill; k itself may be huge.
            heap: BinaryHeap::with_capacity(k.min(1024) + 1),
        }
    }

    /// Offers every row of `block` (rows `first_row..`) scored against `query`, skipping the rows
    /// of `excluded` (sorted ascending).
    fn scan(&mut self, block: &[f32], first_row: usize, query: &[f32], excluded: &[usize]) {
        let dim = query.len();
        // Cheap rejection: a row must beat the worst kept score once the heap is full.
        let mut threshold = f32::NEG_INFINITY;
        for (offset, row) in block.chunks_exact(dim).enumerate() {
            let score = dot::<Separate>(row, query, DotTail::Apart);
            // NaN (a stored vector with NaN) fails this comparison too and is never returned.
            if score.is_nan() || score < threshold {
                continue;
            }
            let index = first_row + offset;
            if excluded.binary_search(&index).is_ok() {
                continue;
            }
            self.offer(Candidate { score, index });
            if self.heap.len() == self.k {
                threshold = self
                    .heap
                    .peek()
                    .map_or(f32::NEG_INFINITY, |worst| worst.0.score);
            }
        }
    }

    /// Keeps `candidate` if it is among the best `k` so far.
    fn offer(&mut self, candidate: Candidate) {
        if self.heap.len() < self.k {
            self.heap.push(Reverse(candidate));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && candidate > worst.0
        {
            *worst = Reverse(candidate);
        }
    }

    /// Combines the results of two disjoint scans.
    fn merge(mut self, other: TopK) -> TopK {
        for Reverse(candidate) in other.heap {
            self.offer(candidate);
        }
        self
    }

    /// The kept candidates, best first.
    fn into_sorted(self) -> Vec<Candidate> {
        // Ascending order of Reverse<_> is descending order of candidates.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.0)
            .collect()
    }
}
