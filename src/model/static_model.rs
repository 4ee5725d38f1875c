//! Static-embedding models (model2vec, sentence-transformers `StaticEmbedding`): a sentence
//! vector is the mean of its tokens' rows, computed to the last float as model2vec 0.10.0's
//! `StaticModel.from_pretrained(dir).encode([...])` computes it.
//!
//! The rules, with their place in `model2vec/model.py` (0.10.0):
//!
//! * **Tokenization** (`_encode_dispatch` 271-278, `tokenize` 170-186): the text is first cut to
//!   `max_length * median_token_length` characters (code points; the median of the vocabulary's
//!   token lengths, rounded down, line 86), then tokenized without special tokens, truncated to
//!   `max_length` tokens (512 unless the settings file says otherwise; `null` disables both cuts),
//!   and only then is every unknown token dropped, so a text can end up with fewer tokens than
//!   the cap. Padding stored in `tokenizer.json` is ignored (`_disable_padding`).
//! * **Rows** (`_encode_helper` 446-455): token `id` reads row `mapping[id]` (vocabulary
//!   quantization; the identity without `mapping`) and is multiplied by `weights[id]` when the
//!   model has per-token weights.
//! * **Mean, output dtype and normalization**: see [`super::numpy_math`]; a text with no token
//!   left is the zero vector (line 463), and stays zero when normalized (it is divided by 1e-32).
//! * **Settings** (`_loading_helper` 584-587): `normalize` and `max_length` come from
//!   `config.json` (model2vec) or `config_sentence_transformers.json` (sentence-transformers); the
//!   library ignores `modules.json`. embedserve follows it, except that a sentence-transformers
//!   model whose settings do not say `normalize` is normalized when `modules.json` lists a
//!   `Normalize` module after the static one, as sentence-transformers itself does.
//! * **Shapes**: the tensor's own shape is the truth (`hidden_dim` in config.json is not read);
//!   without `mapping` the library requires one row per token (line 70); `mapping` and `weights`
//!   are indexed by token id, so they need one entry per token id.

use std::path::Path;

use half::{bf16, f16};
use ndarray::{Array1, Array2};
use safetensors::{Dtype, SafeTensors};
use serde::Serialize;

use super::layout::{ModelKind, StaticLayout};
use super::numpy_math::{Arithmetic, NpType};
use super::weights::{map_file, safetensors_error};
use super::{EmbeddingMatrix, LoadError, StaticSettings, StoredDtype, TextTokenizer, Tokenized};

/// How a static model turns text into a vector, loaded from its files.
#[derive(Debug)]
pub struct StaticEmbedding {
    kind: ModelKind,
    normalize: bool,
    max_length: Option<usize>,
    median_token_length: usize,
    unknown: Option<u32>,
    mapping: Option<Vec<u32>>,
    weights: Option<Vec<f64>>,
    arithmetic: Arithmetic,
    id_limit: usize,
}

/// What `/info` can show about a static model's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StaticInfo {
    /// Whether sentence vectors are L2-normalized.
    pub normalize: bool,
    /// Tokens kept per text (`None`: no truncation).
    pub max_length: Option<usize>,
    /// The vocabulary's median token length, which with `max_length` caps the characters read.
    pub median_token_length: usize,
    /// The unknown token, dropped from every text.
    pub unknown_token_id: Option<u32>,
    /// Whether token ids are mapped to fewer rows (vocabulary quantization).
    pub mapping: bool,
    /// Whether rows are scaled by per-token weights.
    pub weights: bool,
}

impl StaticEmbedding {
    /// Loads the static model laid out as `layout`: its tokenizer, its vectors from the memory
    /// map, and `mapping` and `weights` (copied: one number per token), checked against each other.
    pub(super) fn load(
        layout: &StaticLayout,
    ) -> Result<(Self, TextTokenizer, EmbeddingMatrix), LoadError> {
        let settings = StaticSettings::load(&layout.settings)?;
        let tokenizer = TextTokenizer::load(&layout.tokenizer)?;
        let id_limit = tokenizer.id_limit();
        if id_limit == 0 {
            return Err(LoadError::new(&layout.tokenizer, "the vocabulary is empty"));
        }
        let file = &layout.weights;
        let map = map_file(file)?;
        let parsed = SafeTensors::deserialize(&map).map_err(|e| safetensors_error(file, &e))?;
        if parsed.tensor(layout.tensor).is_err() {
            return Err(LoadError::new(
                file,
                format!(
                    "has no tensor named {:?}, where a {} model keeps its vectors",
                    layout.tensor,
                    layout.kind.name()
                ),
            ));
        }
        let mapping = vector(file, &parsed, "mapping", id_limit)?
            .map(|(dtype, bytes)| integers(file, dtype, bytes))
            .transpose()?;
        let weights = vector(file, &parsed, "weights", id_limit)?
            .map(|(dtype, bytes)| floats(file, dtype, bytes))
            .transpose()?;
        drop(parsed);
        let matrix = EmbeddingMatrix::from_map(file.clone(), map, layout.tensor.to_owned(), true)?;
        check_rows(file, &matrix, mapping.as_deref(), id_limit)?;
        let embedding_type = match matrix.dtype() {
            StoredDtype::I8 => NpType::I8,
            StoredDtype::F16 => NpType::F16,
            // numpy has no bfloat16: the widened float32 matrix is what is computed with.
            StoredDtype::Bf16 | StoredDtype::F32 => NpType::F32,
        };
        let model = Self {
            kind: layout.kind,
            normalize: settings.normalize.unwrap_or(layout.normalize_module),
            max_length: settings.max_length,
            median_token_length: tokenizer.median_token_length(),
            unknown: tokenizer.unknown_token_id(),
            arithmetic: Arithmetic::new(embedding_type, weights.as_ref().map(|(t, _)| *t)),
            mapping,
            weights: weights.map(|(_, values)| values),
            id_limit,
        };
        Ok((model, tokenizer, matrix))
    }

    /// model2vec or sentence-transformers.
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// Whether sentence vectors are normalized by default.
    pub fn normalize(&self) -> bool {
        self.normalize
    }

    /// One past the largest token id the model accepts.
    pub fn id_limit(&self) -> usize {
        self.id_limit
    }

    /// The rules in force, for `/info`.
    pub fn info(&self) -> StaticInfo {
        StaticInfo {
            normalize: self.normalize,
            max_length: self.max_length,
            median_token_length: self.median_token_length,
            unknown_token_id: self.unknown,
            mapping: self.mapping.is_some(),
            weights: self.weights.is_some(),
        }
    }

    /// The tokens of `text` that `encode` averages: character cut, no special tokens, `max_length`
    /// tokens, unknown tokens dropped (offsets stay in characters of the whole text).
    pub fn tokenize(&self, tokenizer: &TextTokenizer, text: &str) -> Result<Tokenized, String> {
        let mut tokenized = tokenizer.encode(self.kept_text(text), false)?;
        if let Some(max) = self.max_length {
            tokenized.truncate(max);
        }
        if let Some(unknown) = self.unknown {
            tokenized.retain_ids(|id| id != unknown);
        }
        Ok(tokenized)
    }

    /// The ids of [`Self::tokenize`] alone, by the tokenizer's fast path (as `encode` itself uses
    /// `encode_batch_fast`).
    pub fn token_ids(&self, tokenizer: &TextTokenizer, text: &str) -> Result<Vec<u32>, String> {
        let mut ids = tokenizer.encode_ids(self.kept_text(text), false)?;
        ids.truncate(self.max_length.unwrap_or(usize::MAX));
        if let Some(unknown) = self.unknown {
            ids.retain(|&id| id != unknown);
        }
        Ok(ids)
    }

    /// The start of `text` that `encode` tokenizes: at most `max_length` times the median token
    /// length in characters.
    fn kept_text<'t>(&self, text: &'t str) -> &'t str {
        let max_chars = self
            .max_length
            .map(|tokens| tokens.saturating_mul(self.median_token_length));
        match max_chars.and_then(|chars| text.char_indices().nth(chars)) {
            Some((byte, _)) => &text[..byte],
            None => text,
        }
    }

    /// Each token's contribution (row after `mapping`, times its weight), `ids.len() x dim`; a
    /// float64 product (float64 weights) is rounded to f32 here.
    ///
    /// # Panics
    /// If an id is not below [`Self::id_limit`].
    pub fn rows(&self, matrix: &EmbeddingMatrix, ids: &[u32]) -> Array2<f32> {
        let mut out = Array2::<f32>::zeros((ids.len(), matrix.cols()));
        self.for_each_product(matrix, ids, |token, col, value| {
            out[[token, col]] = value as f32;
        });
        out
    }

    /// The sentence vector of `ids`, exactly as `encode` returns it, normalized if `normalize`.
    ///
    /// # Panics
    /// If an id is not below [`Self::id_limit`].
    pub fn sentence_vector(
        &self,
        matrix: &EmbeddingMatrix,
        ids: &[u32],
        normalize: bool,
    ) -> Array1<f32> {
        let arithmetic = self.arithmetic;
        let sums = if arithmetic.sums_stored_f32() {
            self.f32_sums(matrix, ids)
        } else {
            let mut sums = vec![0.0f64; matrix.cols()];
            self.for_each_product(matrix, ids, |_, col, value| {
                sums[col] = arithmetic.accumulate(sums[col], value);
            });
            sums
        };
        let mut vector: Vec<f32> = if ids.is_empty() {
            vec![0.0; matrix.cols()]
        } else {
            sums.iter()
                .map(|&sum| arithmetic.mean(sum, ids.len()))
                .collect()
        };
        if normalize {
            arithmetic.normalize(&mut vector);
        }
        Array1::from(vector)
    }

    /// The matrix row of token `id` (through `mapping` when the vocabulary is quantized).
    ///
    /// # Panics
    /// If `id` is not below [`Self::id_limit`]: the input layer checks ids first.
    fn stored_row(&self, id: u32) -> usize {
        let id = id as usize;
        assert!(id < self.id_limit, "token id {id} out of range");
        self.mapping
            .as_ref()
            .map_or(id, |mapping| mapping[id] as usize)
    }

    /// The column sums of the stored rows of `ids` as float32 running sums (what
    /// [`Self::for_each_product`] with float32 accumulation computes, without its per-element
    /// dispatch), held in f64 for [`Arithmetic::mean`].
    fn f32_sums(&self, matrix: &EmbeddingMatrix, ids: &[u32]) -> Vec<f64> {
        let mut row = vec![0.0f32; matrix.cols()];
        let mut sums = vec![0.0f32; matrix.cols()];
        for &id in ids {
            matrix.row_into(self.stored_row(id), &mut row);
            for (sum, &value) in sums.iter_mut().zip(&row) {
                *sum += value;
            }
        }
        sums.into_iter().map(f64::from).collect()
    }

    /// Calls `visit(token, column, product)` for every element of every token's row, in order.
    fn for_each_product(
        &self,
        matrix: &EmbeddingMatrix,
        ids: &[u32],
        mut visit: impl FnMut(usize, usize, f64),
    ) {
        let mut row = vec![0.0f32; matrix.cols()];
        for (token, &id) in ids.iter().enumerate() {
            matrix.row_into(self.stored_row(id), &mut row);
            let id = id as usize;
            let weight = self.weights.as_ref().map_or(1.0, |weights| weights[id]);
            for (col, &value) in row.iter().enumerate() {
                visit(token, col, self.arithmetic.product(value, weight));
            }
        }
    }
}

/// The dtype and bytes of the optional 1-D tensor `name`, which needs one entry per token id.
fn vector<'a>(
    file: &Path,
    parsed: &SafeTensors<'a>,
    name: &str,
    id_limit: usize,
) -> Result<Option<(Dtype, &'a [u8])>, LoadError> {
    let Ok(view) = parsed.tensor(name) else {
        return Ok(None);
    };
    match view.shape() {
        &[len] if len == id_limit => Ok(Some((view.dtype(), view.data()))),
        &[len] => Err(LoadError::new(
            file,
            format!(
                "tensor {name:?} has {len} entries, but the tokenizer has {id_limit} token ids \
                 and {name:?} is indexed by token id"
            ),
        )),
        shape => Err(LoadError::new(
            file,
            format!("tensor {name:?} has shape {shape:?}; it must be 1-D, one entry per token"),
        )),
    }
}

/// The row indices of `mapping`, which must be non-negative integers.
fn integers(file: &Path, dtype: Dtype, bytes: &[u8]) -> Result<Vec<u32>, LoadError> {
    let decode: fn(&[u8]) -> i128 = match dtype {
        Dtype::I8 => |b| i8::from_le_bytes([b[0]]).into(),
        Dtype::U8 => |b| b[0].into(),
        Dtype::I16 => |b| i16::from_le_bytes([b[0], b[1]]).into(),
        Dtype::U16 => |b| u16::from_le_bytes([b[0], b[1]]).into(),
        Dtype::I32 => |b| i32::from_le_bytes(b.try_into().unwrap_or_default()).into(),
        Dtype::U32 => |b| u32::from_le_bytes(b.try_into().unwrap_or_default()).into(),
        Dtype::I64 => |b| i64::from_le_bytes(b.try_into().unwrap_or_default()).into(),
        Dtype::U64 => |b| u64::from_le_bytes(b.try_into().unwrap_or_default()).into(),
        other => {
            return Err(LoadError::new(
                file,
                format!("tensor \"mapping\" has dtype {other:?}; it must hold integer row indices"),
            ));
        }
    };
    bytes
        .chunks_exact(dtype.bitsize() / 8)
        .enumerate()
        .map(|(id, chunk)| {
            let row = decode(chunk);
            u32::try_from(row).map_err(|_| {
                LoadError::new(file, format!("mapping[{id}] = {row} is not a row index"))
            })
        })
        .collect()
}

/// The per-token `weights` as exact f64 values, with their numpy dtype.
fn floats(file: &Path, dtype: Dtype, bytes: &[u8]) -> Result<(NpType, Vec<f64>), LoadError> {
    let (np_type, decode): (NpType, fn(&[u8]) -> f64) = match dtype {
        Dtype::F16 => (NpType::F16, |b| f16::from_le_bytes([b[0], b[1]]).into()),
        Dtype::BF16 => (NpType::F32, |b| bf16::from_le_bytes([b[0], b[1]]).into()),
        Dtype::F32 => (NpType::F32, |b| {
            f32::from_le_bytes(b.try_into().unwrap_or_default()).into()
        }),
        Dtype::F64 => (NpType::F64, |b| {
            f64::from_le_bytes(b.try_into().unwrap_or_default())
        }),
        other => {
            return Err(LoadError::new(
                file,
                format!(
                    "tensor \"weights\" has dtype {other:?}; supported are F16, BF16, F32 and F64"
                ),
            ));
        }
    };
    let values = bytes
        .chunks_exact(dtype.bitsize() / 8)
        .map(decode)
        .collect();
    Ok((np_type, values))
}

/// Every token id must reach a row: through `mapping`, or directly with one row per token.
fn check_rows(
    file: &Path,
    matrix: &EmbeddingMatrix,
    mapping: Option<&[u32]>,
    id_limit: usize,
) -> Result<(), LoadError> {
    let (rows, tensor) = (matrix.rows(), matrix.tensor());
    match mapping {
        Some(mapping) => match mapping.iter().position(|&row| row as usize >= rows) {
            Some(id) => Err(LoadError::new(
                file,
                format!(
                    "mapping[{id}] = {} points past the {rows} rows of {tensor:?}",
                    mapping[id]
                ),
            )),
            None => Ok(()),
        },
        None if rows != id_limit => Err(LoadError::new(
            file,
            format!(
                "tensor {tensor:?} has {rows} rows, but the tokenizer has {id_limit} token ids \
                 and there is no \"mapping\" tensor (model2vec needs one row per token)"
            ),
        )),
        None => Ok(()),
    }
}
