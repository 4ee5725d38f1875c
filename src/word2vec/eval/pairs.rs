//! gensim's `evaluate_word_pairs`: human similarity judgements against the model's cosine
//! similarities, as Pearson and Spearman correlations.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::statistics::{pearson, ranks};
use super::vocabulary::Vocabulary;
use super::{EvalError, percentage, read_lines};
use crate::vector::{DotTail, Separate, dot};
use crate::word2vec::store::WordVectors;

/// A correlation coefficient and its two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Correlation {
    /// The coefficient, in `[-1, 1]` (NaN with fewer than two pairs or constant scores).
    pub coefficient: f64,
    /// Two-sided p-value of no correlation (scipy's `pearsonr`/`spearmanr` p-value).
    pub p_value: f64,
}

/// Result of the word-pair evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairsReport {
    /// The pairs file.
    pub file: PathBuf,
    /// Pearson correlation between the judgements and the model's cosine similarities.
    pub pearson: Correlation,
    /// Spearman rank-order correlation between them.
    pub spearman: Correlation,
    /// Pairs scored.
    pub pairs: usize,
    /// Pairs skipped because a word is not among the first `restrict_vocab` words.
    pub oov_pairs: usize,
    /// `oov_pairs` as a percentage of all well-formed pairs (gensim's `oov_ratio`).
    pub oov_ratio: f64,
    /// Non-comment lines that are not `word<TAB>word<TAB>number`, skipped.
    pub invalid_lines: usize,
}

/// gensim's `evaluate_word_pairs` with `dummy4unknown=False`: Pearson and Spearman correlation
/// of the judgements with the cosine similarity of the pairs whose words are both known.
pub fn evaluate_word_pairs(
    store: &WordVectors,
    path: &Path,
    restrict_vocab: usize,
    case_insensitive: bool,
) -> Result<PairsReport, EvalError> {
    let vocab = Vocabulary::new(store, restrict_vocab, case_insensitive);
    let (mut gold, mut model) = (Vec::new(), Vec::new());
    let (mut oov_pairs, mut invalid_lines) = (0, 0);
    for line in read_lines(path)? {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [a, b, judgement] = fields[..] else {
            invalid_lines += 1;
            continue;
        };
        let Ok(judgement) = judgement.trim().parse::<f64>() else {
            invalid_lines += 1;
            continue;
        };
        let (Some(a), Some(b)) = (vocab.row(&vocab.key(a)), vocab.row(&vocab.key(b))) else {
            oov_pairs += 1;
            continue;
        };
        gold.push(judgement);
        model.push(f64::from(dot::<Separate>(
            &store.unit_row(a),
            &store.unit_row(b),
            DotTail::Apart,
        )));
    }
    if gold.is_empty() {
        return Err(EvalError::NoValidPairs {
            path: path.to_path_buf(),
            restrict_vocab,
        });
    }
    Ok(PairsReport {
        file: path.to_path_buf(),
        pearson: pearson(&gold, &model),
        spearman: pearson(&ranks(&gold), &ranks(&model)),
        pairs: gold.len(),
        oov_pairs,
        oov_ratio: percentage(oov_pairs, gold.len() + oov_pairs),
        invalid_lines,
    })
}
