//! The inner training loops, after gensim's `word2vec_inner.pyx` (itself after the original
//! word2vec.c): skip-gram and CBOW updates with negative sampling and hierarchical softmax on
//! matrices shared lock-free between worker threads ("Hogwild").

use std::cell::UnsafeCell;

use super::random::next_random;
use crate::vector::{DotTail, MulAdd, dot};
use crate::word2vec::vocab::{CUM_TABLE_DOMAIN, HuffmanPath};

/// Dot products beyond ±`MAX_EXP` are treated as saturated and skipped, as in gensim.
const MAX_EXP: f32 = 6.0;
/// Entries of the precomputed sigmoid table.
const EXP_TABLE_SIZE: usize = 1000;
/// gensim's `EXP_TABLE_SIZE / MAX_EXP / 2`, which the compiled gensim 4.4.0 evaluates in integer
/// arithmetic: 83, not 83.33 (checked by replaying one update of gensim's own training). So
/// the table is read at `(f + 6) * 83`, a sigmoid of `0.996 f - 0.024`; kept for compatibility.
const EXP_TABLE_SCALE: f32 = (EXP_TABLE_SIZE / MAX_EXP as usize / 2) as f32;

/// The sigmoid table: entry `i` is `sigmoid((i / 1000 * 2 - 1) * 6)` in f32.
pub(super) fn exp_table() -> Vec<f32> {
    (0..EXP_TABLE_SIZE)
        .map(|i| {
            let e =
                ((i as f64 / EXP_TABLE_SIZE as f64 * 2.0 - 1.0) * f64::from(MAX_EXP)).exp() as f32;
            e / (e + 1.0)
        })
        .collect()
}

/// A row-major `f32` matrix that worker threads read and write concurrently without locks.
///
/// This is the Hogwild scheme of word2vec.c and gensim: each update touches a few rows of a
/// large matrix, so collisions between threads are rare, and when two threads do write the same
/// value the effect is a lost or stale update, which SGD tolerates (Recht et al., 2011). The
/// cells are `UnsafeCell` so that writing through a shared reference is allowed; concurrent
/// access from several threads is still a data race in Rust's memory model, accepted here
/// deliberately: the values are plain `f32`s (aligned 4-byte loads and stores, which do not tear
/// on the platforms we build for), nothing but the numbers themselves depends on them (no
/// indexes, lengths or pointers are derived from the matrix), and locking or atomics per update
/// would cost more than the whole computation. With one worker there is no concurrency at all.
pub(super) struct SharedMatrix {
    cells: Box<[UnsafeCell<f32>]>,
    dim: usize,
}

// SAFETY: see the type's documentation; rows are only accessed through `row`, whose callers
// uphold the single-thread aliasing rule, and cross-thread races are the accepted Hogwild races.
unsafe impl Sync for SharedMatrix {}

impl SharedMatrix {
    /// A matrix of rows of `dim` values holding `values`.
    pub(super) fn new(values: Vec<f32>, dim: usize) -> Self {
        SharedMatrix {
            cells: values.into_iter().map(UnsafeCell::new).collect(),
            dim,
        }
    }

    /// The values, once no thread uses the matrix any more.
    pub(super) fn into_values(self) -> Vec<f32> {
        self.cells
            .into_vec()
            .into_iter()
            .map(UnsafeCell::into_inner)
            .collect()
    }

    /// Row `index` as a mutable slice.
    ///
    /// # Safety
    /// Within one thread, the caller must not hold two slices of the same row at once (the
    /// kernels below take a row, use it and drop it before taking another of the same matrix).
    /// Other threads may write the row concurrently: the Hogwild race documented on the type.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    unsafe fn row(&self, index: u32) -> &mut [f32] {
        let start = index as usize * self.dim;
        let cells = &self.cells[start..start + self.dim];
        // SAFETY: `UnsafeCell<f32>` has the layout of `f32`; the bounds were checked by the
        // indexing above; aliasing is the caller's contract (see above).
        unsafe { std::slice::from_raw_parts_mut(UnsafeCell::raw_get(cells.as_ptr()), self.dim) }
    }
}

/// `y += alpha * x`.
#[inline(always)]
fn axpy<M: MulAdd>(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y = M::mul_add(alpha, *x, *y);
    }
}

/// `work += g * row` and `row += g * input` in one pass over `row`.
#[inline(always)]
fn update_output<M: MulAdd>(g: f32, input: &[f32], row: &mut [f32], work: &mut [f32]) {
    for ((r, w), x) in row.iter_mut().zip(work.iter_mut()).zip(input) {
        let old = *r;
        *w = M::mul_add(g, old, *w);
        *r = M::mul_add(g, *x, old);
    }
}

/// `y *= alpha`.
#[inline(always)]
fn scale(alpha: f32, y: &mut [f32]) {
    for y in y {
        *y *= alpha;
    }
}

/// The sigmoid of `f` from the table, or `None` when `|f| >= MAX_EXP` (gensim skips those).
#[inline(always)]
fn sigmoid(table: &[f32], f: f32) -> Option<f32> {
    if f <= -MAX_EXP || f >= MAX_EXP {
        return None;
    }
    table
        .get(((f + MAX_EXP) * EXP_TABLE_SCALE) as usize)
        .copied()
}

/// gensim's `bisect_left` draw of a negative sample from the cumulative table.
#[inline(always)]
fn draw_negative(cum_table: &[u32], random: &mut u64) -> u32 {
    let target = next_random(random) % u64::from(CUM_TABLE_DOMAIN);
    cum_table.partition_point(|&c| u64::from(c) < target) as u32
}

/// Everything the kernels read: the shared matrices and the vocabulary's tables.
pub(super) struct Model<'a> {
    /// Input vectors (`wv.vectors`, gensim's `syn0`).
    pub syn0: &'a SharedMatrix,
    /// Hierarchical-softmax output weights, when `hs`.
    pub syn1: Option<&'a SharedMatrix>,
    /// Negative-sampling output weights, when `negative > 0`.
    pub syn1neg: Option<&'a SharedMatrix>,
    /// Negative samples per positive example.
    pub negative: usize,
    /// The negative-sampling table.
    pub cum_table: &'a [u32],
    /// Huffman paths per word.
    pub huffman: &'a [HuffmanPath],
    /// The sigmoid table.
    pub exp_table: &'a [f32],
    /// CBOW: average (true) or sum (false) the context vectors.
    pub cbow_mean: bool,
}

/// Per-thread scratch vectors: gensim's `work` (accumulated input gradient) and `neu1` (the
/// CBOW context vector; skip-gram keeps its private copy of the input row there).
pub(super) struct Scratch {
    work: Vec<f32>,
    neu1: Vec<f32>,
}

impl Scratch {
    /// Scratch space for vectors of `dim` values.
    pub(super) fn new(dim: usize) -> Self {
        Scratch {
            work: vec![0.0; dim],
            neu1: vec![0.0; dim],
        }
    }
}

/// One output-layer step shared by all four variants: score `input` against output row
/// `target`, accumulate the input gradient into `work` and update the output row.
#[inline(always)]
fn output_step<M: MulAdd>(
    output: &SharedMatrix,
    table: &[f32],
    target: u32,
    label: f32,
    alpha: f32,
    input: &[f32],
    work: &mut [f32],
) {
    // SAFETY: one row of `output` at a time; `input` is a row of another matrix or scratch.
    let row = unsafe { output.row(target) };
    let Some(f) = sigmoid(table, dot::<M>(input, row, DotTail::InLanes)) else {
        return;
    };
    update_output::<M>((label - f) * alpha, input, row, work);
}

impl Model<'_> {
    /// Length of the vectors.
    pub(super) fn dim(&self) -> usize {
        self.syn0.dim
    }

    /// Skip-gram: predict `word` from the context word `context` (gensim's
    /// `fast_sentence_sg_hs` then `fast_sentence_sg_neg`).
    #[inline(always)]
    pub(super) fn sg_pair<M: MulAdd>(
        &self,
        word: u32,
        context: u32,
        alpha: f32,
        random: &mut u64,
        s: &mut Scratch,
    ) {
        // SAFETY: the only live row of syn0 in this thread.
        let shared_input = unsafe { self.syn0.row(context) };
        // gensim reads the input row all through a pass and adds `work` to it at the end; a
        // private copy (in `neu1`, unused by skip-gram) computes the same values while keeping
        // this thread's many reads off the cache line other workers may be writing.
        let Scratch { work, neu1: input } = s;
        input.copy_from_slice(shared_input);
        if let Some(syn1) = self.syn1 {
            work.fill(0.0);
            let path = &self.huffman[word as usize];
            for (&point, &code) in path.points.iter().zip(&path.codes) {
                let label = 1.0 - f32::from(code);
                output_step::<M>(syn1, self.exp_table, point, label, alpha, input, work);
            }
            axpy::<M>(1.0, work, shared_input);
            axpy::<M>(1.0, work, input);
        }
        if let Some(syn1neg) = self.syn1neg {
            work.fill(0.0);
            output_step::<M>(syn1neg, self.exp_table, word, 1.0, alpha, input, work);
            for _ in 0..self.negative {
                let target = draw_negative(self.cum_table, random);
                if target != word {
                    output_step::<M>(syn1neg, self.exp_table, target, 0.0, alpha, input, work);
                }
            }
            axpy::<M>(1.0, work, shared_input);
        }
    }

    /// CBOW: predict `words[i]` from `words[start..end]` without position `i` (gensim's
    /// `fast_sentence_cbow_hs` then `fast_sentence_cbow_neg`).
    #[inline(always)]
    pub(super) fn cbow_window<M: MulAdd>(
        &self,
        words: &[u32],
        i: usize,
        (start, end): (usize, usize),
        alpha: f32,
        random: &mut u64,
        s: &mut Scratch,
    ) {
        let word = words[i];
        if let Some(syn1) = self.syn1 {
            let inv_count = self.context_vector::<M>(words, i, start, end, &mut s.neu1);
            s.work.fill(0.0);
            let path = &self.huffman[word as usize];
            for (&point, &code) in path.points.iter().zip(&path.codes) {
                output_step::<M>(
                    syn1,
                    self.exp_table,
                    point,
                    1.0 - f32::from(code),
                    alpha,
                    &s.neu1,
                    &mut s.work,
                );
            }
            self.update_context::<M>(words, i, start, end, inv_count, &mut s.work);
        }
        if let Some(syn1neg) = self.syn1neg {
            let inv_count = self.context_vector::<M>(words, i, start, end, &mut s.neu1);
            s.work.fill(0.0);
            output_step::<M>(
                syn1neg,
                self.exp_table,
                word,
                1.0,
                alpha,
                &s.neu1,
                &mut s.work,
            );
            for _ in 0..self.negative {
                let target = draw_negative(self.cum_table, random);
                if target != word {
                    output_step::<M>(
                        syn1neg,
                        self.exp_table,
                        target,
                        0.0,
                        alpha,
                        &s.neu1,
                        &mut s.work,
                    );
                }
            }
            self.update_context::<M>(words, i, start, end, inv_count, &mut s.work);
        }
    }

    /// Sums (or averages, with `cbow_mean`) the context vectors into `neu1`; returns
    /// `1 / count` (1 for an empty context).
    #[inline(always)]
    fn context_vector<M: MulAdd>(
        &self,
        words: &[u32],
        i: usize,
        start: usize,
        end: usize,
        neu1: &mut [f32],
    ) -> f32 {
        neu1.fill(0.0);
        let mut count = 0.0f32;
        for (m, &w) in words.iter().enumerate().take(end).skip(start) {
            if m != i {
                count += 1.0;
                // SAFETY: a single syn0 row, dropped at the end of the statement.
                axpy::<M>(1.0, unsafe { self.syn0.row(w) }, neu1);
            }
        }
        let inv_count = if count > 0.5 { 1.0 / count } else { 1.0 };
        if self.cbow_mean {
            scale(inv_count, neu1);
        }
        inv_count
    }

    /// Applies the accumulated gradient `work` to every context vector (divided by the context
    /// size first when summing, as gensim does).
    #[inline(always)]
    fn update_context<M: MulAdd>(
        &self,
        words: &[u32],
        i: usize,
        start: usize,
        end: usize,
        inv_count: f32,
        work: &mut [f32],
    ) {
        if !self.cbow_mean {
            scale(inv_count, work);
        }
        for (m, &w) in words.iter().enumerate().take(end).skip(start) {
            if m != i {
                // SAFETY: a single syn0 row, dropped at the end of the statement.
                axpy::<M>(1.0, work, unsafe { self.syn0.row(w) });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::{Fused, Separate};

    #[test]
    fn exp_table_is_the_sigmoid() {
        let table = exp_table();
        assert_eq!(table.len(), EXP_TABLE_SIZE);
        assert!((table[500] - 0.5).abs() < 1e-6);
        assert!((table[0] - 1.0 / (1.0 + 6f32.exp())).abs() < 1e-6);
        assert_eq!(sigmoid(&table, 6.0), None);
        assert_eq!(sigmoid(&table, -6.0), None);
        let f = 1.3f32;
        assert!((sigmoid(&table, f).unwrap() - 1.0 / (1.0 + (-f).exp())).abs() < 0.01);
    }

    #[test]
    fn dot_and_axpy_on_odd_lengths() {
        let a: Vec<f32> = (0..13).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..13).map(|i| (i % 3) as f32).collect();
        let expected: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(dot::<Separate>(&a, &b, DotTail::InLanes), expected);
        assert_eq!(dot::<Fused>(&a, &b, DotTail::InLanes), expected);
        let mut y = b.clone();
        axpy::<Separate>(2.0, &a, &mut y);
        assert_eq!(y[12], 24.0 + 0.0);
        assert_eq!(y[5], 10.0 + 2.0);
    }

    #[test]
    fn negative_draws_follow_the_table() {
        // Word 1 owns three quarters of the domain.
        let table = [CUM_TABLE_DOMAIN / 4, CUM_TABLE_DOMAIN];
        let mut random = 12345;
        let draws: Vec<u32> = (0..4000)
            .map(|_| draw_negative(&table, &mut random))
            .collect();
        let ones = draws.iter().filter(|&&d| d == 1).count();
        assert!((2800..3200).contains(&ones), "{ones}");
    }
}
