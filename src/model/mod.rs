//! A model directory reduced to what embedserve serves: its configuration, its tokenizer and its
//! embedding matrix. Two kinds are served: a Hugging Face transformer, whose input-embedding rows
//! are returned as stored, and a static-embedding model (model2vec, sentence-transformers
//! `StaticEmbedding`), whose sentence vectors equal model2vec 0.10.0's `encode` to the last float
//! (the rules are in `static_model.rs` and `numpy_math.rs`). The kind is told from the files
//! (`layout.rs`); [`EmbeddingModel`]'s methods apply the right rules for either.

mod config;
mod layout;
mod numpy_math;
pub mod pooling;
mod static_model;
mod tokenizer;
mod weights;

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};

pub use config::{DEFAULT_MAX_LENGTH, ModelConfig, StaticSettings};
pub use layout::ModelKind;
pub use static_model::{StaticEmbedding, StaticInfo};
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
    /// What `config.json` says (empty for the sentence-transformers layouts, which have none).
    pub config: ModelConfig,
    /// The tokenizer from `tokenizer.json`.
    pub tokenizer: TextTokenizer,
    /// The input-embedding matrix (a static model's vectors, before `mapping` and `weights`).
    pub matrix: EmbeddingMatrix,
    /// The rules of a static-embedding model; `None` for a transformer.
    pub static_embedding: Option<StaticEmbedding>,
}

impl EmbeddingModel {
    /// Loads `dir`, checking that tokenizer, configuration and matrix agree.
    ///
    /// `tensor` overrides the discovery of the embedding tensor; `name` the reported name.
    pub fn load(dir: &Path, tensor: Option<&str>, name: Option<&str>) -> Result<Self, LoadError> {
        if !dir.is_dir() {
            return Err(LoadError::new(dir, "not a directory (model_dir)"));
        }
        let name = name.map(str::to_owned).unwrap_or_else(|| default_name(dir));
        if let Some((layout, config)) = layout::detect(dir)? {
            if let Some(wanted) = tensor.filter(|&wanted| wanted != layout.tensor) {
                return Err(LoadError::new(
                    &layout.weights,
                    format!(
                        "embedding_tensor is {wanted:?}, but a {} model keeps its vectors in {:?}",
                        layout.kind.name(),
                        layout.tensor
                    ),
                ));
            }
            let (rules, tokenizer, matrix) = StaticEmbedding::load(&layout)?;
            if let Some(declared) = config.hidden_size.filter(|&d| d != matrix.cols()) {
                // model2vec trusts the tensor; `hidden_dim` is only the distillation's record.
                tracing::debug!(
                    declared,
                    cols = matrix.cols(),
                    "hidden_dim differs from the tensor"
                );
            }
            return Ok(Self {
                name,
                dir: dir.to_owned(),
                config,
                tokenizer,
                matrix,
                static_embedding: Some(rules),
            });
        }
        let config_path = dir.join("config.json");
        let config = ModelConfig::load(&config_path)?;
        let tokenizer = TextTokenizer::load(&dir.join("tokenizer.json"))?;
        let matrix = EmbeddingMatrix::open(dir, tensor, config.tie_word_embeddings)?;
        check_shapes(&config_path, &config, &tokenizer, &matrix)?;
        Ok(Self {
            name,
            dir: dir.to_owned(),
            config,
            tokenizer,
            matrix,
            static_embedding: None,
        })
    }

    /// Width of the returned vectors.
    pub fn dimension(&self) -> usize {
        self.matrix.cols()
    }

    /// What kind of model this is.
    pub fn kind(&self) -> ModelKind {
        self.static_embedding
            .as_ref()
            .map_or(ModelKind::Transformer, StaticEmbedding::kind)
    }

    /// Whether sentence vectors are normalized by default: a static model's setting; false for a
    /// transformer, whose requests decide.
    pub fn normalize(&self) -> bool {
        self.static_embedding
            .as_ref()
            .is_some_and(StaticEmbedding::normalize)
    }

    /// One past the largest token id [`Self::rows`] and [`Self::sentence_vector`] accept: the
    /// matrix rows of a transformer, the tokenizer's ids of a static model (whose `mapping` may
    /// point many ids at one row).
    pub fn token_id_limit(&self) -> usize {
        self.static_embedding
            .as_ref()
            .map_or(self.matrix.rows(), StaticEmbedding::id_limit)
    }

    /// Tokenizes `text` as the model's vectors expect: a static model applies the library's rules
    /// (never special tokens, whatever `add_special_tokens` says; character and token caps;
    /// unknown tokens dropped), a transformer tokenizes as asked, without truncation.
    pub fn tokenize(&self, text: &str, add_special_tokens: bool) -> Result<Tokenized, String> {
        match &self.static_embedding {
            Some(rules) => rules.tokenize(&self.tokenizer, text),
            None => self.tokenizer.encode(text, add_special_tokens),
        }
    }

    /// The ids of [`Self::tokenize`] alone, without the token texts and offsets (faster).
    pub fn token_ids(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, String> {
        match &self.static_embedding {
            Some(rules) => rules.token_ids(&self.tokenizer, text),
            None => self.tokenizer.encode_ids(text, add_special_tokens),
        }
    }

    /// What each token contributes, `ids.len() x dimension`: the stored rows of a transformer, the
    /// rows after `mapping` and `weights` of a static model.
    ///
    /// # Panics
    /// If an id is not below [`Self::token_id_limit`]: callers validate ids first.
    pub fn rows(&self, ids: &[u32]) -> Array2<f32> {
        match &self.static_embedding {
            Some(rules) => rules.rows(&self.matrix, ids),
            None => self.matrix.gather(ids),
        }
    }

    /// The sentence vector of `ids`, normalized as [`Self::normalize`] says: for a static model
    /// exactly model2vec's `encode`; for a transformer the mean of the rows (f64 accumulation).
    /// No ids give the zero vector.
    ///
    /// # Panics
    /// If an id is not below [`Self::token_id_limit`].
    pub fn sentence_vector(&self, ids: &[u32]) -> Array1<f32> {
        self.sentence_vector_with(ids, self.normalize())
    }

    /// [`Self::sentence_vector`] with normalization chosen by the caller (model2vec's
    /// `encode(..., normalize=...)`); a transformer normalizes with [`pooling::l2_normalize`].
    ///
    /// # Panics
    /// If an id is not below [`Self::token_id_limit`].
    pub fn sentence_vector_with(&self, ids: &[u32], normalize: bool) -> Array1<f32> {
        if let Some(rules) = &self.static_embedding {
            return rules.sentence_vector(&self.matrix, ids, normalize);
        }
        if ids.is_empty() {
            return Array1::zeros(self.dimension());
        }
        let mut vector = pooling::pool(self.matrix.gather(ids).view(), pooling::Pooling::Mean);
        if normalize {
            if let Some(values) = vector.as_slice_mut() {
                pooling::l2_normalize(values);
            }
        }
        vector
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
