//! Intrinsic evaluation of a word2vec store, computing what gensim 4.4.0's
//! `KeyedVectors.evaluate_word_analogies` and `evaluate_word_pairs` compute (with
//! `dummy4unknown=False`), and the `embedserve eval` command around them.
//!
//! - [`analogies`]: word analogies (3CosAdd), accuracy per section.
//! - [`pairs`]: word-pair similarity judgements against the model's cosines.
//! - `statistics`: Pearson and Spearman correlation with scipy's p-values.
//! - `report`: the text and JSON report.
//! - `vocabulary`: the words taking part, as gensim's `ok_vocab`.

pub mod analogies;
pub mod pairs;
mod report;
mod statistics;
mod vocabulary;

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::store::{LoadOptions, StoreError, WordVectors};

pub use analogies::{AnalogyReport, SectionScore, evaluate_word_analogies};
pub use pairs::{Correlation, PairsReport, evaluate_word_pairs};

/// What `embedserve eval` evaluates, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalSettings {
    /// word2vec store to evaluate (binary, text or fastText `.vec`; the format is detected).
    pub vectors: PathBuf,
    /// Word-analogy questions in the `questions-words.txt` format (`: section` lines, then
    /// four words a line).
    pub analogies: Option<PathBuf>,
    /// Word-pair similarity judgements: `word<TAB>word<TAB>score` lines, `#` comments.
    pub pairs: Option<PathBuf>,
    /// Only the first this many words of the store take part (questions or pairs with any other
    /// word are skipped).
    pub restrict_vocab: usize,
    /// Match words exactly instead of upper-casing both sides, as gensim does by default.
    pub case_sensitive: bool,
}

/// Errors of an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The store could not be loaded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An evaluation file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An evaluation file is not UTF-8.
    #[error("{}: line {line}: not valid UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// An analogy question comes before any `: section` line.
    #[error("{}: line {line}: question before the first `: section` line", path.display())]
    MissingSection {
        /// The analogy file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// No word pair could be scored: the file holds none, or all have unknown words.
    #[error("{}: no valid word pair with both words in the store's first {restrict_vocab} words", path.display())]
    NoValidPairs {
        /// The pairs file.
        path: PathBuf,
        /// The vocabulary restriction in force.
        restrict_vocab: usize,
    },
    /// Neither `--analogies` nor `--pairs` was given.
    #[error("nothing to evaluate: give --analogies and/or --pairs")]
    NothingToEvaluate,
    /// The JSON report could not be produced.
    #[error("cannot render the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// What `embedserve eval` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// The evaluated store.
    pub vectors: PathBuf,
    /// Words in the store.
    pub words: usize,
    /// Vector dimension.
    pub dim: usize,
    /// Words taking part (the first this many).
    pub restrict_vocab: usize,
    /// Whether words were upper-cased on both sides before matching.
    pub case_insensitive: bool,
    /// Analogy results, when `--analogies` was given.
    pub analogies: Option<AnalogyReport>,
    /// Word-pair results, when `--pairs` was given.
    pub pairs: Option<PairsReport>,
}

/// Runs `embedserve eval`: loads the store and evaluates the given files.
pub fn run(settings: &EvalSettings) -> Result<EvalReport, EvalError> {
    if settings.analogies.is_none() && settings.pairs.is_none() {
        return Err(EvalError::NothingToEvaluate);
    }
    let store = WordVectors::load(&settings.vectors, &LoadOptions::default())?;
    let case_insensitive = !settings.case_sensitive;
    let analogies = settings
        .analogies
        .as_deref()
        .map(|path| {
            evaluate_word_analogies(&store, path, settings.restrict_vocab, case_insensitive)
        })
        .transpose()?;
    let pairs = settings
        .pairs
        .as_deref()
        .map(|path| evaluate_word_pairs(&store, path, settings.restrict_vocab, case_insensitive))
        .transpose()?;
    Ok(EvalReport {
        vectors: settings.vectors.clone(),
        words: store.len(),
        dim: store.dim(),
        restrict_vocab: settings.restrict_vocab,
        case_insensitive,
        analogies,
        pairs,
    })
}

/// Reads an evaluation file as UTF-8 lines (without their line ends).
fn read_lines(path: &Path) -> Result<Vec<String>, EvalError> {
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // Like Python's line iteration, a final line end does not start another (empty) line.
    let text = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            String::from_utf8(line.to_vec()).map_err(|_| EvalError::NotUtf8 {
                path: path.to_path_buf(),
                line: i + 1,
            })
        })
        .collect()
}

/// `100 * part / whole`, 0 for an empty whole (gensim would divide by zero).
fn percentage(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests;
