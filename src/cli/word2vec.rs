//! The flags of the word2vec tools: `embedserve train`, `eval` and `demo-model`, each converted
//! into the library's settings struct.

use std::path::PathBuf;

use super::choice;
use crate::demo::DemoSettings;
use crate::word2vec::StoreFormat;
use crate::word2vec::eval::EvalSettings;
use crate::word2vec::index::{AnnParams, IndexDtype, IndexSettings};
use crate::word2vec::train::TrainSettings;

/// Names and help of the `train --format` values.
const OUTPUT_FORMATS: &[(&str, &str)] = &[
    (
        "binary",
        "word2vec binary (`save_word2vec_format(binary=True)`)",
    ),
    (
        "text",
        "word2vec text (`save_word2vec_format(binary=False)`)",
    ),
    (
        "glove",
        "GloVe text, no header (`save_word2vec_format(binary=False, write_header=False)`)",
    ),
];

/// Arguments of `embedserve train`, named like gensim's `Word2Vec` parameters, with its defaults.
#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct TrainArgs {
    /// Corpus: a UTF-8 text file, one sentence or document per line.
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the trained vectors (replaced atomically).
    #[arg(long)]
    pub output: PathBuf,
    /// Output format.
    #[arg(long, default_value_t = StoreFormat::Binary, value_parser = choice::<StoreFormat>(OUTPUT_FORMATS))]
    pub format: StoreFormat,
    /// The corpus is already tokenized: split lines on whitespace only (gensim's `LineSentence`)
    /// instead of `gensim.utils.simple_preprocess`.
    #[arg(long)]
    pub tokenized: bool,
    /// Remove accents while preprocessing (`simple_preprocess(deacc=True)`).
    #[arg(long, conflicts_with = "tokenized")]
    pub deacc: bool,
    /// Dimensionality of the word vectors.
    #[arg(long, default_value_t = 100)]
    pub vector_size: usize,
    /// Maximum distance between the current and predicted word within a sentence.
    #[arg(long, default_value_t = 5)]
    pub window: usize,
    /// Ignore all words with total frequency lower than this.
    #[arg(long, default_value_t = 5)]
    pub min_count: u64,
    /// Limit RAM during vocabulary building by pruning the rarest words whenever there are more
    /// unique words than this (default: no limit).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_vocab_size: Option<u64>,
    /// Raise `min_count` so that at most this many words are kept (default: no limit).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_final_vocab: Option<u64>,
    /// Worker threads (at most 1024).
    #[arg(long, default_value_t = 3)]
    pub workers: usize,
    /// Training algorithm: 1 for skip-gram, 0 for CBOW.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub sg: u8,
    /// 1 for hierarchical softmax; 0 for none (then `negative` must be non-zero).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub hs: u8,
    /// Number of "noise words" drawn for negative sampling (0: no negative sampling).
    #[arg(long, default_value_t = 5)]
    pub negative: usize,
    /// Exponent shaping the negative-sampling distribution (1: by frequency, 0: uniform).
    #[arg(long, default_value_t = 0.75, allow_negative_numbers = true)]
    pub ns_exponent: f64,
    /// CBOW: 1 to average the context vectors, 0 to sum them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub cbow_mean: u8,
    /// Initial learning rate.
    #[arg(long, default_value_t = 0.025, allow_negative_numbers = true)]
    pub alpha: f64,
    /// Learning rate at the end of training (decays linearly from `alpha`).
    #[arg(long, default_value_t = 0.0001, allow_negative_numbers = true)]
    pub min_alpha: f64,
    /// Threshold for downsampling frequent words (0 disables it).
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    pub sample: f64,
    /// Passes over the corpus.
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    /// Seed of the random number generators (with one worker, runs are reproducible).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Do not print progress.
    #[arg(long)]
    pub quiet: bool,
}

impl From<TrainArgs> for TrainSettings {
    fn from(args: TrainArgs) -> Self {
        TrainSettings {
            input: args.input,
            output: args.output,
            format: args.format,
            tokenized: args.tokenized,
            deacc: args.deacc,
            vector_size: args.vector_size,
            window: args.window,
            min_count: args.min_count,
            max_vocab_size: args.max_vocab_size,
            max_final_vocab: args.max_final_vocab,
            workers: args.workers,
            sg: args.sg,
            hs: args.hs,
            negative: args.negative,
            ns_exponent: args.ns_exponent,
            cbow_mean: args.cbow_mean,
            alpha: args.alpha,
            min_alpha: args.min_alpha,
            sample: args.sample,
            epochs: args.epochs,
            seed: args.seed,
            quiet: args.quiet,
        }
    }
}

/// Arguments of `embedserve eval`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct EvalArgs {
    /// word2vec store to evaluate (binary, text, fastText `.vec` or gensim's native `save()`
    /// file; the format is detected).
    #[arg(long)]
    pub vectors: PathBuf,
    /// Word-analogy questions in the `questions-words.txt` format (`: section` lines, then
    /// four words a line).
    #[arg(long)]
    pub analogies: Option<PathBuf>,
    /// Word-pair similarity judgements: `word<TAB>word<TAB>score` lines, `#` comments.
    #[arg(long)]
    pub pairs: Option<PathBuf>,
    /// Only the first this many words of the store take part (questions or pairs with any other
    /// word are skipped).
    #[arg(long, default_value_t = 300_000)]
    pub restrict_vocab: usize,
    /// Match words exactly instead of upper-casing both sides, as gensim does by default.
    #[arg(long)]
    pub case_sensitive: bool,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl EvalArgs {
    /// What to evaluate; `--json` only chooses how the report is printed.
    pub fn settings(&self) -> EvalSettings {
        EvalSettings {
            vectors: self.vectors.clone(),
            analogies: self.analogies.clone(),
            pairs: self.pairs.clone(),
            restrict_vocab: self.restrict_vocab,
            case_sensitive: self.case_sensitive,
        }
    }
}

/// Names and help of the `index --dtype` values.
const INDEX_DTYPES: &[(&str, &str)] = &[
    (
        "f16",
        "the graph's vectors in f16: half the memory and bandwidth",
    ),
    ("f32", "the graph's vectors in f32"),
];

/// Flags of `embedserve index`: a store prepared to be served from a memory map, with an
/// approximate-nearest-neighbour graph.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct IndexArgs {
    /// The store to index (any format `serve --word2vec` reads; detected).
    #[arg(long)]
    pub input: PathBuf,
    /// The index file to write (replaced atomically); serve it with `--word2vec`.
    #[arg(long)]
    pub output: PathBuf,
    /// Index only the first this many words (the most frequent, in gensim's order).
    #[arg(long)]
    pub limit: Option<usize>,
    /// How the graph holds the vectors it walks; the raw rows are always stored in f32, so
    /// `/vector` and exact answers are unchanged.
    #[arg(long, default_value_t = IndexDtype::F16, value_parser = choice::<IndexDtype>(INDEX_DTYPES))]
    pub dtype: IndexDtype,
    /// Neighbours per node of the graph (HNSW's M).
    #[arg(long, default_value_t = AnnParams::default().connectivity)]
    pub connectivity: usize,
    /// Candidates kept while building (HNSW's efConstruction).
    #[arg(long, default_value_t = AnnParams::default().expansion_add)]
    pub expansion_add: usize,
    /// Candidates kept while searching (HNSW's ef), stored in the file.
    #[arg(long, default_value_t = AnnParams::default().expansion_search)]
    pub expansion_search: usize,
    /// Threads inserting into the graph (default: all cores). With 1, rows are inserted in order
    /// and the same store gives the same file, byte for byte.
    #[arg(long)]
    pub threads: Option<usize>,
}

impl IndexArgs {
    /// What to build.
    pub fn settings(&self) -> IndexSettings {
        IndexSettings {
            input: self.input.clone(),
            output: self.output.clone(),
            limit: self.limit,
            params: AnnParams {
                dtype: self.dtype,
                connectivity: self.connectivity,
                expansion_add: self.expansion_add,
                expansion_search: self.expansion_search,
            },
        }
    }
}

/// Flags of `embedserve demo-model`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct DemoArgs {
    /// Directory to write (created if needed; its demo files are replaced).
    #[arg(long, default_value = "models/demo")]
    pub out: PathBuf,
    /// Sentences in the generated corpus.
    #[arg(long, default_value_t = 40_000)]
    pub sentences: usize,
    /// Seed of the corpus and of training.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Width of the embedding matrix and of the store's vectors.
    #[arg(long, default_value_t = 48)]
    pub dim: usize,
}

impl From<DemoArgs> for DemoSettings {
    fn from(
        DemoArgs {
            out,
            sentences,
            seed,
            dim,
        }: DemoArgs,
    ) -> Self {
        DemoSettings {
            out,
            sentences,
            seed,
            dim,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::{Cli, Command};
    use super::*;

    fn parse(argv: &[&str]) -> Command {
        let cli = Cli::try_parse_from([&["embedserve"], argv].concat()).expect("parses");
        cli.command.expect("a subcommand")
    }

    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let Command::Train(args) = parse(&["train", "--input", "in", "--output", "out"]) else {
            panic!("not train");
        };
        assert_eq!(TrainSettings::from(*args), TrainSettings::new("in", "out"));
        let Command::DemoModel(args) = parse(&["demo-model"]) else {
            panic!("not demo-model");
        };
        assert_eq!(DemoSettings::from(args), DemoSettings::default());
    }

    #[test]
    fn formats_parse_by_name() {
        let Command::Train(args) = parse(&["train", "--input=a", "--output=b", "--format=text"])
        else {
            panic!("not train");
        };
        assert_eq!(args.format, StoreFormat::Text);
        let bad = Cli::try_parse_from([
            "embedserve",
            "train",
            "--input=a",
            "--output=b",
            "--format=txt",
        ]);
        assert!(bad.is_err());
    }
}
