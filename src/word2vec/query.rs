//! Similarity queries on a [`WordVectors`] store with gensim 4.4.0 `KeyedVectors` semantics
//! (`FastTextKeyedVectors` for a subword store): `most_similar`, `similar_by_vector`,
//! `similarity`, `doesnt_match`.
//!
//! Scores are cosines: a row's dot product with the unit query divided by the row's norm. The
//! search is an exact top-k: one pass over the rows keeping a bounded heap, split across the
//! current rayon pool for large stores; or, for a store served from an index file (unless
//! [`SearchOptions::exact`]), the graph's candidates rescored the same way.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::lookup::WordLookup;
use super::store::{WordVectors, usable_norm};
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
    /// Scan every row even when the store has an approximate-nearest-neighbour graph (a store
    /// loaded from an index file); without a graph every search is exact anyway.
    pub exact: bool,
}

impl Default for SearchOptions {
    /// gensim's defaults: 10 results over the whole store, on all cores (from the graph when
    /// the store has one).
    fn default() -> Self {
        SearchOptions {
            topn: 10,
            restrict_vocab: None,
            parallel: true,
            deadline: None,
            exact: false,
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
        let units: Vec<(Vec<f32>, f32)> =
            rows.iter().map(|&(i, w)| (self.unit_row(i), w)).collect();
        let mean = self.weighted_mean(units.iter().map(|(unit, w)| (unit.as_slice(), *w)));
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
    pub(crate) fn unit_row(&self, index: usize) -> Vec<f32> {
        self.unit_vector(index).unwrap_or_default()
    }

    /// Top-`topn` rows by cosine with the unit vector `query`, skipping the `excluded` rows: the
    /// graph's candidates rescored exactly when the store has a graph and `options` allow it,
    /// else an exact scan in blocks of [`ROWS_PER_TASK`] rows, each checking the deadline first.
    fn search(
        &self,
        query: &[f32],
        mut excluded: Vec<usize>,
        options: &SearchOptions,
    ) -> Result<Vec<Neighbor<'_>>, QueryError> {
        // A query that is one stored row lies on the graph; a mean of several rows or a raw
        // vector lies between its nodes, where a beam of `expansion_search` misses about 5% of
        // the top 10 (analogies on clustered data): those ask for twice as many candidates.
        let off_graph = excluded.len() != 1;
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
        if let Some(ann) = self.ann()
            && !options.exact
            && let Some(wanted) = graph_candidates(options.topn, rows, self.len())
        {
            if options
                .deadline
                .is_some_and(|deadline| Instant::now() > deadline)
            {
                return Err(QueryError::DeadlineExceeded);
            }
            // The filter keeps gensim's meaning of `restrict_vocab` and of the input words;
            // the candidates are then scored exactly from the f32 rows and ordered as gensim.
            let keep = |row: usize| row < rows && excluded.binary_search(&row).is_err();
            let wanted = if off_graph {
                wanted.max(2 * ann.params().expansion_search)
            } else {
                wanted
            };
            if let Ok(candidates) = ann.search(query, wanted, keep) {
                let mut top = TopK::new(options.topn);
                for index in candidates.into_iter().filter(|&row| keep(row)) {
                    let score = cosine(self.row_of(index), self.norms()[index], query);
                    if !score.is_nan() {
                        top.offer(Candidate { score, index });
                    }
                }
                return Ok(self.neighbors(top));
            }
            // A graph that fails to search (it cannot, short of a bug) falls back to the scan.
        }
        let matrix = &self.matrix()[..rows * dim];
        let norms = self.norms();
        let scan = |(task, block): (usize, &[f32])| {
            if options
                .deadline
                .is_some_and(|deadline| Instant::now() > deadline)
            {
                return Err(QueryError::DeadlineExceeded);
            }
            let mut top = TopK::new(options.topn);
            let first_row = task * ROWS_PER_TASK;
            top.scan(block, &norms[first_row..], first_row, query, excluded);
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
        Ok(self.neighbors(top))
    }

    /// The kept candidates as neighbours, best first.
    fn neighbors(&self, top: TopK) -> Vec<Neighbor<'_>> {
        top.into_sorted()
            .into_iter()
            .map(|candidate| Neighbor {
                index: candidate.index,
                word: self.word(candidate.index).unwrap_or_default(),
                score: candidate.score,
            })
            .collect()
    }

    /// Stored row of an index known to be valid.
    fn row_of(&self, index: usize) -> &[f32] {
        self.vector(index).unwrap_or_default()
    }
}

/// Candidates asked of the graph for `topn` results: a margin over `topn` that the exact
/// rescoring reorders (the graph may hold f16 vectors). `None` when a scan is the better way:
/// when `restrict_vocab` leaves few rows (`searched`, of `total`), whose scan is quick while a
/// filtered graph search would visit mostly refused nodes, or when `topn` asks for a large part
/// of them.
fn graph_candidates(topn: usize, searched: usize, total: usize) -> Option<usize> {
    let wanted = topn
        .saturating_mul(2)
        .max(topn.saturating_add(GRAPH_MARGIN));
    let few_rows = searched < total && searched <= RESTRICTED_SCAN_ROWS;
    (!few_rows && wanted.saturating_mul(8) <= searched).then_some(wanted)
}

/// Extra candidates asked of the graph beyond `topn`.
const GRAPH_MARGIN: usize = 16;

/// A `restrict_vocab` up to this many rows is answered by a scan (a few milliseconds).
const RESTRICTED_SCAN_ROWS: usize = 100_000;

/// Norms between these bounds divide a row's dot product without losing digits: a row of huge
/// values overflows its f32 dot product, a row of subnormals loses its digits.
const PLAIN_NORMS: std::ops::RangeInclusive<f64> = 1e-18..=1e18;

/// Cosine of a stored `row` whose Euclidean length is `norm` with the unit vector `query`: the
/// dot product divided by the norm, which ranks as gensim's dot product of unit rows does (to
/// within 1e-6) without holding a normalized copy of the matrix. Rows of extreme magnitude are
/// normalized first, and rows that [`crate::vector::l2_normalize`] leaves as they are (zero or
/// non-finite) are scored as they are.
pub(crate) fn cosine(row: &[f32], norm: f64, query: &[f32]) -> f32 {
    let plain = dot::<Separate>(row, query, DotTail::Apart);
    match usable_norm(norm) {
        Some(norm) if PLAIN_NORMS.contains(&norm) && plain.is_finite() => {
            (f64::from(plain) / norm) as f32
        }
        Some(norm) => {
            let unit: Vec<f32> = row.iter().map(|&v| (f64::from(v) / norm) as f32).collect();
            dot::<Separate>(&unit, query, DotTail::Apart)
        }
        None => plain,
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

    /// Offers every row of `block` (rows `first_row..`, whose norms `norms` starts with) scored
    /// against `query`, skipping the rows of `excluded` (sorted ascending).
    fn scan(
        &mut self,
        block: &[f32],
        norms: &[f64],
        first_row: usize,
        query: &[f32],
        excluded: &[usize],
    ) {
        let dim = query.len();
        // Cheap rejection: a row must beat the worst kept score once the heap is full.
        let mut threshold = f32::NEG_INFINITY;
        for (offset, (row, &norm)) in block.chunks_exact(dim).zip(norms).enumerate() {
            let score = cosine(row, norm, query);
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
