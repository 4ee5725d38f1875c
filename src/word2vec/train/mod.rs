//! Native word2vec training (`embedserve train`): gensim 4.4.0's `Word2Vec` (skip-gram and CBOW,
//! negative sampling and hierarchical softmax) on a corpus streamed from disk, multi-threaded
//! with lock-free updates, writing a store gensim's `KeyedVectors.load_word2vec_format` reads.

mod kernels;
mod pipeline;
pub(crate) mod random;
mod shared;

use std::fmt;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use kernels::Model;
use pipeline::LoopSettings;
use random::SplitMix64;
use shared::SharedMatrix;

use super::preprocess::{Corpus, CorpusError, LineSplitter};
use super::store::{StoreError, StoreFormat, write_store};
use super::vocab::{RawVocab, Vocab, VocabSettings};

/// Settings of a training run (`embedserve train`), named like gensim's `Word2Vec` parameters;
/// [`TrainSettings::new`] gives gensim's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSettings {
    /// Corpus: a UTF-8 text file, one sentence or document per line.
    pub input: PathBuf,
    /// Where to write the trained vectors (replaced atomically).
    pub output: PathBuf,
    /// Output format.
    pub format: StoreFormat,
    /// The corpus is already tokenized: split lines on whitespace only (gensim's `LineSentence`)
    /// instead of `gensim.utils.simple_preprocess`.
    pub tokenized: bool,
    /// Remove accents while preprocessing (`simple_preprocess(deacc=True)`).
    pub deacc: bool,
    /// Dimensionality of the word vectors.
    pub vector_size: usize,
    /// Maximum distance between the current and predicted word within a sentence.
    pub window: usize,
    /// Ignore all words with total frequency lower than this.
    pub min_count: u64,
    /// Limit RAM during vocabulary building by pruning the rarest words whenever there are more
    /// unique words than this (default: no limit).
    pub max_vocab_size: Option<u64>,
    /// Raise `min_count` so that at most this many words are kept (default: no limit).
    pub max_final_vocab: Option<u64>,
    /// Worker threads (at most 1024).
    pub workers: usize,
    /// Training algorithm: 1 for skip-gram, 0 for CBOW.
    pub sg: u8,
    /// 1 for hierarchical softmax; 0 for none (then `negative` must be non-zero).
    pub hs: u8,
    /// Number of "noise words" drawn for negative sampling (0: no negative sampling).
    pub negative: usize,
    /// Exponent shaping the negative-sampling distribution (1: by frequency, 0: uniform).
    pub ns_exponent: f64,
    /// CBOW: 1 to average the context vectors, 0 to sum them.
    pub cbow_mean: u8,
    /// Initial learning rate.
    pub alpha: f64,
    /// Learning rate at the end of training (decays linearly from `alpha`).
    pub min_alpha: f64,
    /// Threshold for downsampling frequent words (0 disables it).
    pub sample: f64,
    /// Passes over the corpus.
    pub epochs: usize,
    /// Seed of the random number generators (with one worker, runs are reproducible).
    pub seed: u64,
    /// Do not print progress.
    pub quiet: bool,
}

impl TrainSettings {
    /// gensim's defaults, training on `input` and writing to `output`.
    pub fn new(input: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        TrainSettings {
            input: input.into(),
            output: output.into(),
            format: StoreFormat::Binary,
            tokenized: false,
            deacc: false,
            vector_size: 100,
            window: 5,
            min_count: 5,
            max_vocab_size: None,
            max_final_vocab: None,
            workers: 3,
            sg: 0,
            hs: 0,
            negative: 5,
            ns_exponent: 0.75,
            cbow_mean: 1,
            alpha: 0.025,
            min_alpha: 0.0001,
            sample: 1e-3,
            epochs: 5,
            seed: 1,
            quiet: false,
        }
    }
}

/// Errors of [`run`].
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A parameter is out of range.
    #[error("invalid --{flag} {value}: {reason}")]
    InvalidArgument {
        /// The flag, without dashes.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The corpus could not be read.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// No word is frequent enough to be kept.
    #[error(
        "corpus {}: no word occurs at least {min_count} times ({total_words} words read), nothing to train",
        path.display()
    )]
    EmptyVocabulary {
        /// The corpus file.
        path: PathBuf,
        /// The effective `min_count`.
        min_count: u64,
        /// Words in the corpus.
        total_words: u64,
    },
    /// The output file cannot be created.
    #[error("cannot write output {}: {source}", path.display())]
    Output {
        /// The output file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The vocabulary times `--vector-size` is more than can be allocated.
    #[error(
        "{words} words x --vector-size {vector_size} is too large: {reason}; lower --vector-size, or raise --min-count or set --max-final-vocab"
    )]
    TooLarge {
        /// Words in the vocabulary.
        words: usize,
        /// The vector size given.
        vector_size: usize,
        /// Why it cannot be allocated.
        reason: String,
    },
}

/// What a training run did; `Display` is the one-line summary.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    /// Corpus words processed over all epochs.
    pub raw_words: u64,
    /// Words trained on over all epochs (in the vocabulary and not downsampled).
    pub effective_words: u64,
    /// Training time in seconds (the epochs, without the vocabulary scan and the output).
    pub seconds: f64,
    /// Effective words per second (gensim's figure).
    pub words_per_second: f64,
    /// Words in the vocabulary (and the output).
    pub vocab_size: usize,
}

impl fmt::Display for TrainSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "trained on {} raw words ({} effective) in {:.2}s, {:.0} effective words/s, vocabulary of {} words",
            self.raw_words,
            self.effective_words,
            self.seconds,
            self.words_per_second,
            self.vocab_size
        )
    }
}

/// Trains word vectors on `settings.input` and writes them to `settings.output`.
pub fn run(settings: &TrainSettings) -> Result<TrainSummary, TrainError> {
    validate(settings)?;
    check_output_writable(&settings.output)?;
    let tokenizer = if settings.tokenized {
        LineSplitter::Whitespace
    } else {
        LineSplitter::SimplePreprocess {
            deacc: settings.deacc,
        }
    };
    let corpus = Corpus::new(&settings.input, tokenizer);
    let raw = RawVocab::scan(&corpus, settings.max_vocab_size.map(saturating_usize))?;
    let vocab = Vocab::build(&raw, &vocab_settings(settings));
    if vocab.is_empty() {
        return Err(TrainError::EmptyVocabulary {
            path: settings.input.clone(),
            min_count: settings.min_count,
            total_words: raw.total_words(),
        });
    }
    let raw_sentences = raw.sentences();
    drop(raw);
    let dim = settings.vector_size;
    let syn0 = initial_vectors(vocab.len(), dim, settings.seed)?;
    let zeros = || allocate_matrix(vocab.len(), dim, || 0.0);
    let syn1 = (settings.hs == 1).then(zeros).transpose()?;
    let syn1neg = (settings.negative > 0).then(zeros).transpose()?;
    let exp_table = kernels::exp_table();
    let model = Model {
        syn0: &syn0,
        syn1: syn1.as_ref(),
        syn1neg: syn1neg.as_ref(),
        negative: settings.negative,
        cum_table: vocab.cum_table(),
        huffman: vocab.huffman(),
        exp_table: &exp_table,
        cbow_mean: settings.cbow_mean == 1,
    };
    let schedule = loop_settings(settings, raw_sentences);
    let stats = pipeline::run_epochs(&corpus, &vocab, &model, &schedule)?;
    // The output weights go before the vectors are copied out of their padded rows.
    drop((syn1, syn1neg));
    write_store(
        &settings.output,
        vocab.words(),
        &syn0.into_values(),
        dim,
        settings.format,
    )?;
    Ok(TrainSummary {
        raw_words: stats.raw_words,
        effective_words: stats.effective_words,
        seconds: stats.seconds,
        words_per_second: stats.effective_words as f64 / stats.seconds.max(1e-9),
        vocab_size: vocab.len(),
    })
}

/// More worker threads than this is a typo: each has its own scratch vectors and queue slots.
const MAX_WORKERS: usize = 1024;

fn saturating_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

fn vocab_settings(settings: &TrainSettings) -> VocabSettings {
    VocabSettings {
        min_count: settings.min_count,
        max_final_vocab: settings.max_final_vocab.map(saturating_usize),
        sample: settings.sample,
        ns_exponent: settings.ns_exponent,
        hs: settings.hs == 1,
        negative: settings.negative > 0,
    }
}

fn loop_settings(settings: &TrainSettings, sentences_per_epoch: u64) -> LoopSettings {
    LoopSettings {
        epochs: settings.epochs,
        alpha: settings.alpha,
        min_alpha: settings.min_alpha,
        sentences_per_epoch,
        workers: settings.workers,
        window: settings.window,
        sg: settings.sg == 1,
        sample: settings.sample > 0.0,
        seed: settings.seed,
        progress: !settings.quiet,
    }
}

/// Rejects parameters gensim would reject or silently train nothing with.
fn validate(settings: &TrainSettings) -> Result<(), TrainError> {
    let invalid = |flag, value: &dyn fmt::Display, reason| {
        Err(TrainError::InvalidArgument {
            flag,
            value: value.to_string(),
            reason,
        })
    };
    if settings.vector_size == 0 {
        return invalid("vector-size", &settings.vector_size, "must be at least 1");
    }
    if matrix_bytes(1, settings.vector_size).is_none() {
        return invalid(
            "vector-size",
            &settings.vector_size,
            "one vector would not fit in memory",
        );
    }
    if settings.window == 0 {
        return invalid("window", &settings.window, "must be at least 1");
    }
    if settings.workers == 0 {
        return invalid("workers", &settings.workers, "must be at least 1");
    }
    if settings.workers > MAX_WORKERS {
        return invalid("workers", &settings.workers, "must be at most 1024");
    }
    if settings.epochs == 0 {
        return invalid("epochs", &settings.epochs, "must be at least 1");
    }
    if !(settings.alpha.is_finite() && settings.alpha > 0.0) {
        return invalid("alpha", &settings.alpha, "must be a positive number");
    }
    if !(settings.min_alpha.is_finite() && settings.min_alpha >= 0.0) {
        return invalid(
            "min-alpha",
            &settings.min_alpha,
            "must be a non-negative number",
        );
    }
    if !(settings.sample.is_finite() && settings.sample >= 0.0) {
        return invalid("sample", &settings.sample, "must be a non-negative number");
    }
    if !settings.ns_exponent.is_finite() {
        return invalid(
            "ns-exponent",
            &settings.ns_exponent,
            "must be a finite number",
        );
    }
    if settings.hs == 0 && settings.negative == 0 {
        return invalid(
            "negative",
            &settings.negative,
            "must be positive when --hs is 0 (nothing to train)",
        );
    }
    Ok(())
}

/// Fails before the (possibly long) training when the output cannot be created: its directory
/// must exist and accept a new file. The probe file is removed at once.
fn check_output_writable(output: &Path) -> Result<(), TrainError> {
    let error = |source| TrainError::Output {
        path: output.to_path_buf(),
        source,
    };
    if output.is_dir() {
        return Err(error(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory",
        )));
    }
    let dir = match output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let probe = dir.join(format!(".embedserve-train-probe.{}", std::process::id()));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(error)?;
    fs::remove_file(&probe).map_err(error)
}

/// gensim's `prep_vectors`: uniform in `[-1, 1) / vector_size` (gensim draws with numpy's PCG64;
/// this draws the same distribution from SplitMix64 seeded with `seed`).
fn initial_vectors(words: usize, dim: usize, seed: u64) -> Result<SharedMatrix, TrainError> {
    let mut rng = SplitMix64::new(seed);
    allocate_matrix(words, dim, || (rng.next_f32() * 2.0 - 1.0) / dim as f32)
}

/// Bytes of a `words x dim` matrix of `f32` with its rows padded as [`SharedMatrix`] pads them,
/// or `None` when that overflows what one allocation may hold (`isize::MAX` bytes).
fn matrix_bytes(words: usize, dim: usize) -> Option<usize> {
    words
        .checked_mul(shared::padded_len(dim)?)?
        .checked_mul(size_of::<f32>())
        .filter(|&bytes| isize::try_from(bytes).is_ok())
}

/// A `words x dim` matrix filled row-major by `value`, or [`TrainError::TooLarge`] when its size
/// overflows or the allocation fails: a huge `--vector-size` gets a message, not a
/// capacity-overflow panic or an out-of-memory abort.
fn allocate_matrix(
    words: usize,
    dim: usize,
    value: impl FnMut() -> f32,
) -> Result<SharedMatrix, TrainError> {
    let too_large = |reason: String| TrainError::TooLarge {
        words,
        vector_size: dim,
        reason,
    };
    let bytes = matrix_bytes(words, dim)
        .ok_or_else(|| too_large("the matrix would exceed the address space".to_owned()))?;
    SharedMatrix::try_new(words, dim, value)
        .map_err(|e| too_large(format!("cannot allocate a matrix of {bytes} bytes ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_reports_words_time_and_rate() {
        let summary = TrainSummary {
            raw_words: 2_564_170,
            effective_words: 1_779_483,
            seconds: 1.5,
            words_per_second: 1_186_322.0,
            vocab_size: 9984,
        };
        // bench/train/compare.py parses this line.
        assert_eq!(
            summary.to_string(),
            "trained on 2564170 raw words (1779483 effective) in 1.50s, 1186322 effective words/s, \
             vocabulary of 9984 words"
        );
    }

    #[test]
    fn validation_names_the_flag() {
        let mut settings = TrainSettings::new("in.txt", "out.bin");
        assert!(validate(&settings).is_ok());
        settings.min_alpha = f64::NAN;
        let err = validate(&settings).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid --min-alpha NaN: must be a non-negative number"
        );
        settings.min_alpha = 0.0;
        settings.sample = -1.0;
        assert!(
            validate(&settings)
                .unwrap_err()
                .to_string()
                .starts_with("invalid --sample -1")
        );
    }

    #[test]
    fn initial_vectors_are_small_uniform_and_seeded() {
        let v = initial_vectors(50, 20, 9).unwrap().into_values();
        assert_eq!(v.len(), 1000);
        assert!(v.iter().all(|x| (-0.05..0.05).contains(x)));
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        assert!(mean.abs() < 0.005, "{mean}");
        assert_eq!(v, initial_vectors(50, 20, 9).unwrap().into_values());
        assert_ne!(v, initial_vectors(50, 20, 10).unwrap().into_values());
    }

    #[test]
    fn matrices_too_large_are_errors() {
        // Rows are padded to 16 values.
        assert_eq!(matrix_bytes(3, 5), Some(3 * 16 * 4));
        assert_eq!(matrix_bytes(1, usize::MAX), None);
        assert_eq!(matrix_bytes(1, usize::MAX / 8), None);
        assert_eq!(matrix_bytes(2, usize::MAX / 16), None);
        assert_eq!(matrix_bytes(1, usize::MAX / 16), Some(1 << 62));
        for (words, dim) in [(3, usize::MAX), (44, usize::MAX / 8), (44, 1 << 40)] {
            let Err(err) = allocate_matrix(words, dim, || 0.0) else {
                panic!("{words} x {dim} allocated");
            };
            let err = err.to_string();
            assert!(
                err.starts_with(&format!("{words} words x --vector-size {dim} is too large")),
                "{err}"
            );
        }
    }
}
