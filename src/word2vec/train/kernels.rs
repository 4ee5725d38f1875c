//! The inner training loops, after gensim's `word2vec_inner.pyx` (itself after the original
//! word2vec.c): skip-gram and CBOW updates with negative sampling and hierarchical softmax on
//! matrices shared lock-free between worker threads ("Hogwild").

use super::random::next_random;
use super::shared::{Isa, SharedMatrix};
use crate::vector::MulAdd;
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

/// `y += alpha * x`.
#[inline(always)]
fn axpy<M: MulAdd>(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y = M::mul_add(alpha, *x, *y);
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
    /// Scratch space for vectors of `dim` values (padded, as the shared rows are).
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
#[allow(clippy::too_many_arguments)]
fn output_step<I: Isa>(
    isa: I,
    output: &SharedMatrix,
    table: &[f32],
    target: u32,
    label: f32,
    alpha: f32,
    input: &[f32],
    work: &mut [f32],
) {
    let row = output.row(target);
    let Some(f) = sigmoid(table, row.dot(isa, input)) else {
        return;
    };
    row.update_output(isa, (label - f) * alpha, input, work);
}

impl Model<'_> {
    /// Length of the buffers the kernels work with: the vectors' padded length.
    pub(super) fn padded_dim(&self) -> usize {
        self.syn0.padded_dim()
    }

    /// Skip-gram: predict `word` from the context word `context` (gensim's
    /// `fast_sentence_sg_hs` then `fast_sentence_sg_neg`).
    #[inline(always)]
    pub(super) fn sg_pair<I: Isa>(
        &self,
        isa: I,
        (word, context): (u32, u32),
        alpha: f32,
        random: &mut u64,
        s: &mut Scratch,
    ) {
        let shared_input = self.syn0.row(context);
        // gensim reads the input row all through a pass and adds `work` to it at the end; a
        // private copy (in `neu1`, unused by skip-gram) computes the same values while keeping
        // this thread's many reads off the cache line other workers may be writing.
        let Scratch { work, neu1: input } = s;
        shared_input.copy_to(isa, input);
        if let Some(syn1) = self.syn1 {
            work.fill(0.0);
            let path = &self.huffman[word as usize];
            for (&point, &code) in path.points.iter().zip(&path.codes) {
                let label = 1.0 - f32::from(code);
                output_step(isa, syn1, self.exp_table, point, label, alpha, input, work);
            }
            shared_input.add(isa, work);
            axpy::<I>(1.0, work, input);
        }
        if let Some(syn1neg) = self.syn1neg {
            work.fill(0.0);
            output_step(isa, syn1neg, self.exp_table, word, 1.0, alpha, input, work);
            for _ in 0..self.negative {
                let target = draw_negative(self.cum_table, random);
                if target != word {
                    output_step(
                        isa,
                        syn1neg,
                        self.exp_table,
                        target,
                        0.0,
                        alpha,
                        input,
                        work,
                    );
                }
            }
            shared_input.add(isa, work);
        }
    }

    /// CBOW: predict `words[i]` from `words[start..end]` without position `i` (gensim's
    /// `fast_sentence_cbow_hs` then `fast_sentence_cbow_neg`).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn cbow_window<I: Isa>(
        &self,
        isa: I,
        words: &[u32],
        i: usize,
        window: (usize, usize),
        alpha: f32,
        random: &mut u64,
        s: &mut Scratch,
    ) {
        let word = words[i];
        let Scratch { work, neu1 } = s;
        if let Some(syn1) = self.syn1 {
            let inv_count = self.context_vector(isa, words, i, window, neu1);
            work.fill(0.0);
            let path = &self.huffman[word as usize];
            for (&point, &code) in path.points.iter().zip(&path.codes) {
                let label = 1.0 - f32::from(code);
                output_step(isa, syn1, self.exp_table, point, label, alpha, neu1, work);
            }
            self.update_context(isa, words, i, window, inv_count, work);
        }
        if let Some(syn1neg) = self.syn1neg {
            let inv_count = self.context_vector(isa, words, i, window, neu1);
            work.fill(0.0);
            output_step(isa, syn1neg, self.exp_table, word, 1.0, alpha, neu1, work);
            for _ in 0..self.negative {
                let target = draw_negative(self.cum_table, random);
                if target != word {
                    output_step(isa, syn1neg, self.exp_table, target, 0.0, alpha, neu1, work);
                }
            }
            self.update_context(isa, words, i, window, inv_count, work);
        }
    }

    /// Sums (or averages, with `cbow_mean`) the context vectors into `neu1`; returns
    /// `1 / count` (1 for an empty context).
    #[inline(always)]
    fn context_vector<I: Isa>(
        &self,
        isa: I,
        words: &[u32],
        i: usize,
        (start, end): (usize, usize),
        neu1: &mut [f32],
    ) -> f32 {
        neu1.fill(0.0);
        let mut count = 0.0f32;
        for (m, &w) in words.iter().enumerate().take(end).skip(start) {
            if m != i {
                count += 1.0;
                self.syn0.row(w).add_to(isa, neu1);
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
    fn update_context<I: Isa>(
        &self,
        isa: I,
        words: &[u32],
        i: usize,
        (start, end): (usize, usize),
        inv_count: f32,
        work: &mut [f32],
    ) {
        if !self.cbow_mean {
            scale(inv_count, work);
        }
        for (m, &w) in words.iter().enumerate().take(end).skip(start) {
            if m != i {
                self.syn0.row(w).add(isa, work);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::Separate;

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
    fn axpy_on_odd_lengths() {
        let a: Vec<f32> = (0..13).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..13).map(|i| (i % 3) as f32).collect();
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
