//! A Hugging Face model directory reduced to what embedserve serves: its configuration, its
//! tokenizer and its input-embedding matrix.

mod config;
pub mod pooling;
mod tokenizer;
mod weights;

use std::path::{Path, PathBuf};

pub use config::ModelConfig;
pub use tokenizer::{CharIndex, TextTokenizer, Tokenized};
pub use weights::{EmbeddingMatrix, INDEX_FILE, StoredDtype, WEIGHTS_FILE};

/// Why a model directory (or word2vec store) could not be loaded: the file and the problem.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct LoadError {
    /// The file or directory at fault.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl LoadError {
    /// A problem with `path`.
    pub fn new(path: &Path, problem: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            problem: problem.into(),
        }
    }

    /// An I/O failure on `path`, worded for a person.
    pub fn io(path: &Path, error: &std::io::Error) -> Self {
        let problem = match error.kind() {
            std::io::ErrorKind::NotFound => "missing".to_owned(),
            std::io::ErrorKind::PermissionDenied => "not readable (permission denied)".to_owned(),
            _ => format!("cannot read: {error}"),
        };
        Self::new(path, problem)
    }
}

/// A loaded model: configuration, tokenizer and the memory-mapped embedding matrix.
#[derive(Debug)]
pub struct EmbeddingModel {
    /// Name reported as `model` in responses.
    pub name: String,
    /// The model directory.
    pub dir: PathBuf,
    /// What `config.json` says.
    pub config: ModelConfig,
    /// The tokenizer from `tokenizer.json`.
    pub tokenizer: TextTokenizer,
    /// The input-embedding matrix.
    pub matrix: EmbeddingMatrix,
}

impl EmbeddingModel {
    /// Loads `dir`, checking that tokenizer, configuration and matrix agree.
    ///
    /// `tensor` overrides the discovery of the embedding tensor; `name` the reported name.
    pub fn load(dir: &Path, tensor: Option<&str>, name: Option<&str>) -> Result<Self, LoadError> {
        if !dir.is_dir() {
            return Err(LoadError::new(dir, "not a directory (model_dir)"));
        }
        let config_path = dir.join("config.json");
        let config = ModelConfig::load(&config_path)?;
        let tokenizer = TextTokenizer::load(&dir.join("tokenizer.json"))?;
        let matrix = EmbeddingMatrix::open(dir, tensor, config.tie_word_embeddings)?;
        check_shapes(&config_path, &config, &tokenizer, &matrix)?;
        let name = name.map(str::to_owned).unwrap_or_else(|| default_name(dir));
        Ok(Self {
            name,
            dir: dir.to_owned(),
            config,
            tokenizer,
            matrix,
        })
    }

    /// Width of the returned vectors.
    pub fn dimension(&self) -> usize {
        self.matrix.cols()
    }
}

fn check_shapes(
    config_path: &Path,
    config: &ModelConfig,
    tokenizer: &TextTokenizer,
    matrix: &EmbeddingMatrix,
) -> Result<(), LoadError> {
    let (rows, cols, tensor) = (matrix.rows(), matrix.cols(), matrix.tensor());
    if let Some(hidden) = config.hidden_size.filter(|&hidden| hidden != cols) {
        return Err(LoadError::new(
            matrix.file(),
            format!(
                "tensor {tensor:?} is {rows} x {cols}, but {} says hidden_size {hidden}",
                config_path.display()
            ),
        ));
    }
    let vocab = tokenizer.vocab_size();
    if rows < vocab {
        return Err(LoadError::new(
            matrix.file(),
            format!("tensor {tensor:?} has {rows} rows, fewer than the tokenizer's {vocab} tokens"),
        ));
    }
    if let Some(declared) = config.vocab_size.filter(|&declared| declared != rows) {
        tracing::warn!(
            rows,
            declared,
            "the embedding matrix and config.json disagree on vocab_size"
        );
    }
    Ok(())
}

fn default_name(dir: &Path) -> String {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    canonical.file_name().map_or_else(
        || "model".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}
