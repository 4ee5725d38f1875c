//! The input-embedding matrix, memory-mapped from safetensors and never copied or widened whole.
//!
//! A single `model.safetensors` or the shard that `model.safetensors.index.json` names for the
//! embedding tensor is mapped read-only; only the header is parsed at startup. Rows are widened to
//! f32 one request at a time, which is exact for BF16, F16 and I8 (I8 only in static-embedding
//! models, whose library reads the integers as they are, with no scale).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use memmap2::{Advice, Mmap, MmapMut};
use ndarray::Array2;
use safetensors::{Dtype, SafeTensors};
use serde::Serialize;

use super::LoadError;

/// The single-file weights name.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The index of sharded weights.
pub const INDEX_FILE: &str = "model.safetensors.index.json";

/// Input-embedding tensor names of real model families, most common first.
const EMBEDDING_TENSOR_NAMES: &[&str] = &[
    "model.embed_tokens.weight", // Qwen2, Llama, Mistral, Gemma, Phi-3
    "embed_tokens.weight",       // the same saved without the `model.` prefix
    "model.language_model.embed_tokens.weight", // Gemma 3 and other multimodal checkpoints
    "language_model.model.embed_tokens.weight", // LLaVA
    "embeddings.word_embeddings.weight", // BERT, MiniLM (sentence-transformers)
    "bert.embeddings.word_embeddings.weight", // BERT with its head
    "roberta.embeddings.word_embeddings.weight", // RoBERTa
    "model.embeddings.tok_embeddings.weight", // ModernBERT
    "embeddings.tok_embeddings.weight", // ModernBERT without prefix
    "wte.weight",                // GPT-2
    "transformer.wte.weight",    // GPT-2 with head, GPT-J
    "gpt_neox.embed_in.weight",  // GPT-NeoX, Pythia
    "transformer.word_embeddings.weight", // BLOOM, Falcon
    "word_embeddings.weight",    // BLOOM without prefix
    "model.decoder.embed_tokens.weight", // OPT
    "shared.weight",             // T5
    "transformer.embedding.word_embeddings.weight", // ChatGLM
    "backbone.embeddings.weight", // Mamba
    "tok_embeddings.weight",     // original Llama checkpoints
    "embeddings",                // model2vec static models
];

/// Name endings that mark an input embedding in families not listed above.
const EMBEDDING_SUFFIXES: &[&str] = &[
    "embed_tokens.weight",
    "word_embeddings.weight",
    "wte.weight",
];

/// The stored element type of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoredDtype {
    /// bfloat16.
    Bf16,
    /// IEEE half precision.
    F16,
    /// IEEE single precision.
    F32,
    /// Signed 8-bit integers, used unscaled (model2vec's int8 export; static models only).
    I8,
}

impl StoredDtype {
    fn from_safetensors(dtype: Dtype) -> Option<Self> {
        match dtype {
            Dtype::BF16 => Some(Self::Bf16),
            Dtype::F16 => Some(Self::F16),
            Dtype::F32 => Some(Self::F32),
            Dtype::I8 => Some(Self::I8),
            _ => None,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::Bf16 | Self::F16 => 2,
            Self::F32 => 4,
        }
    }

    /// The lowercase name used in responses (`bf16`, `f16`, `f32`, `i8`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Bf16 => "bf16",
            Self::F16 => "f16",
            Self::F32 => "f32",
            Self::I8 => "i8",
        }
    }
}

/// A 2-D embedding tensor inside a memory-mapped safetensors file.
#[derive(Debug)]
pub struct EmbeddingMatrix {
    map: Mmap,
    data_start: usize,
    rows: usize,
    cols: usize,
    dtype: StoredDtype,
    tensor: String,
    file: PathBuf,
    /// `None` once the matrix has been copied out of the file ([`EmbeddingMatrix::into_memory`]).
    watch: Option<FileWatch>,
}

/// The mapped file as it was when mapped, to notice a change under the running server.
///
/// A memory map shows the file's current content: rewritten in place, the served values change;
/// truncated, reading a row past the new end kills the process with SIGBUS. Replacing the file by
/// renaming a new one over it is safe (the map keeps the old inode) and is not reported.
#[derive(Debug)]
struct FileWatch {
    /// The mapped inode, kept open so `fstat` sees it even after a rename.
    handle: File,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl FileWatch {
    fn open(path: &Path) -> Result<Self, LoadError> {
        let handle = File::open(path).map_err(|e| LoadError::io(path, &e))?;
        let metadata = handle.metadata().map_err(|e| LoadError::io(path, &e))?;
        Ok(Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            handle,
        })
    }

    /// `None` while the file is as it was mapped, or what changed.
    fn change(&self) -> Option<String> {
        let metadata = match self.handle.metadata() {
            Ok(metadata) => metadata,
            Err(e) => return Some(format!("cannot be checked: {e}")),
        };
        if metadata.len() < self.len {
            Some(format!(
                "was truncated from {} to {} bytes while served",
                self.len,
                metadata.len()
            ))
        } else if metadata.len() != self.len || metadata.modified().ok() != self.modified {
            Some("was modified in place while served".to_owned())
        } else {
            None
        }
    }
}

impl EmbeddingMatrix {
    /// Finds and maps the input-embedding tensor of the model directory `dir`.
    ///
    /// `tensor` names it explicitly; otherwise the known names are tried, and with
    /// `tied` a lone `lm_head.weight` serves too.
    pub fn open(dir: &Path, tensor: Option<&str>, tied: bool) -> Result<Self, LoadError> {
        let single = dir.join(WEIGHTS_FILE);
        if single.is_file() {
            let map = map_file(&single)?;
            let names = tensor_names(&single, &map)?;
            let name = choose_tensor(&single, names.iter().map(String::as_str), tensor, tied)?;
            return Self::from_map(single, map, name, false);
        }
        let index = dir.join(INDEX_FILE);
        if index.is_file() {
            return Self::open_sharded(dir, &index, tensor, tied);
        }
        Err(LoadError::new(
            dir,
            format!("no weights: neither {WEIGHTS_FILE} nor {INDEX_FILE} is in the directory"),
        ))
    }

    fn open_sharded(
        dir: &Path,
        index: &Path,
        tensor: Option<&str>,
        tied: bool,
    ) -> Result<Self, LoadError> {
        let weight_map = read_weight_map(index)?;
        for shard in weight_map.values() {
            if !dir.join(shard).is_file() {
                return Err(LoadError::new(
                    index,
                    format!("names shard {shard:?}, which does not exist"),
                ));
            }
        }
        let name = choose_tensor(index, weight_map.keys().map(String::as_str), tensor, tied)?;
        let shard = dir.join(&weight_map[&name]);
        let map = map_file(&shard)?;
        if !tensor_names(&shard, &map)?.contains(&name) {
            return Err(LoadError::new(
                &shard,
                format!("{INDEX_FILE} places tensor {name:?} in this shard, but it is not there"),
            ));
        }
        Self::from_map(shard, map, name, false)
    }

    /// Wraps tensor `tensor` of the mapped safetensors `file`, which must hold it.
    ///
    /// `static_model` admits I8: a transformer checkpoint stores int8 only with scales that
    /// embedserve does not apply, while model2vec reads its int8 vectors as plain numbers.
    pub(super) fn from_map(
        file: PathBuf,
        map: Mmap,
        tensor: String,
        static_model: bool,
    ) -> Result<Self, LoadError> {
        let parsed = SafeTensors::deserialize(&map).map_err(|e| safetensors_error(&file, &e))?;
        let view = parsed
            .tensor(&tensor)
            .map_err(|e| safetensors_error(&file, &e))?;
        let dtype = StoredDtype::from_safetensors(view.dtype())
            .filter(|&dtype| static_model || dtype != StoredDtype::I8)
            .ok_or_else(|| {
                let also = if static_model {
                    ", F32 and I8"
                } else {
                    " and F32"
                };
                LoadError::new(
                    &file,
                    format!(
                        "tensor {tensor:?} has dtype {:?}; supported are BF16, F16{also}",
                        view.dtype()
                    ),
                )
            })?;
        let &[rows, cols] = view.shape() else {
            return Err(LoadError::new(
                &file,
                format!(
                    "tensor {tensor:?} has shape {:?}; an embedding matrix is 2-D",
                    view.shape()
                ),
            ));
        };
        if rows == 0 || cols == 0 {
            return Err(LoadError::new(
                &file,
                format!("tensor {tensor:?} is empty ({rows} x {cols})"),
            ));
        }
        let watch = Some(FileWatch::open(&file)?);
        // The view borrows the map; keep its position so rows can be read without re-parsing.
        let data_start = view.data().as_ptr() as usize - map.as_ptr() as usize;
        drop(parsed);
        // Rows are gathered at random: read-ahead would only pull in rows nobody asked for.
        if let Err(e) = map.advise(Advice::Random) {
            tracing::debug!(file = %file.display(), "madvise(RANDOM) failed: {e}");
        }
        Ok(Self {
            map,
            data_start,
            rows,
            cols,
            dtype,
            tensor,
            file,
            watch,
        })
    }

    /// `None` while the mapped file is unchanged; otherwise what happened to it. A changed file
    /// must not be read: its rows may be gone (SIGBUS) or no longer the model's.
    pub fn file_change(&self) -> Option<String> {
        self.watch
            .as_ref()?
            .change()
            .map(|change| format!("{} {change}", self.file.display()))
    }

    /// The same matrix copied out of the file into anonymous memory (load mode `read`): only the
    /// tensor's bytes, not the rest of the checkpoint, and the file is no longer read afterwards.
    pub fn into_memory(self) -> Result<Self, LoadError> {
        let len = self.rows * self.cols * self.dtype.size();
        let mut copy = MmapMut::map_anon(len).map_err(|e| {
            LoadError::new(
                &self.file,
                format!("cannot allocate {len} bytes for the matrix: {e}"),
            )
        })?;
        copy.copy_from_slice(&self.map[self.data_start..self.data_start + len]);
        let map = copy.make_read_only().map_err(|e| {
            LoadError::new(&self.file, format!("cannot protect the matrix copy: {e}"))
        })?;
        Ok(Self {
            map,
            data_start: 0,
            watch: None,
            ..self
        })
    }

    /// Number of rows (token ids the matrix covers).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Width of each row.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The stored element type.
    pub fn dtype(&self) -> StoredDtype {
        self.dtype
    }

    /// Name of the tensor inside the file.
    pub fn tensor(&self) -> &str {
        &self.tensor
    }

    /// The safetensors file holding the tensor.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Widens row `row` into `out` (length [`Self::cols`]); exact for every stored dtype.
    ///
    /// # Panics
    /// If `row >= rows()` or `out.len() != cols()`: callers validate ids first.
    pub fn row_into(&self, row: usize, out: &mut [f32]) {
        assert!(
            row < self.rows && out.len() == self.cols,
            "row {row} out of range"
        );
        let row_bytes = self.cols * self.dtype.size();
        let start = self.data_start + row * row_bytes;
        let bytes = &self.map[start..start + row_bytes];
        match self.dtype {
            StoredDtype::Bf16 => widen(bytes, out, |b| bf16::from_le_bytes(b).to_f32()),
            StoredDtype::F16 => widen(bytes, out, |b| f16::from_le_bytes(b).to_f32()),
            StoredDtype::F32 => {
                for (value, chunk) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *value = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                }
            }
            StoredDtype::I8 => {
                for (value, &byte) in out.iter_mut().zip(bytes) {
                    *value = f32::from(i8::from_le_bytes([byte]));
                }
            }
        }
    }

    /// The rows `ids` as an `ids.len() x cols` matrix.
    ///
    /// # Panics
    /// If an id is not below [`Self::rows`].
    pub fn gather(&self, ids: &[u32]) -> Array2<f32> {
        let mut out = Array2::<f32>::zeros((ids.len(), self.cols));
        if let Some(flat) = out.as_slice_mut() {
            for (row, &id) in flat.chunks_exact_mut(self.cols).zip(ids) {
                self.row_into(id as usize, row);
            }
        }
        out
    }
}

fn widen(bytes: &[u8], out: &mut [f32], convert: impl Fn([u8; 2]) -> f32) {
    for (value, chunk) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *value = convert([chunk[0], chunk[1]]);
    }
}

pub(super) fn map_file(path: &Path) -> Result<Mmap, LoadError> {
    let file = File::open(path).map_err(|e| LoadError::io(path, &e))?;
    // SAFETY: the file is opened read-only and never written by embedserve; a model directory
    // must not be modified while it is served (documented). The header check below ensures every
    // offset lies inside the mapped length.
    unsafe { Mmap::map(&file) }.map_err(|e| LoadError::new(path, format!("cannot memory-map: {e}")))
}

pub(super) fn tensor_names(path: &Path, map: &Mmap) -> Result<Vec<String>, LoadError> {
    let (_, metadata) = SafeTensors::read_metadata(map).map_err(|e| safetensors_error(path, &e))?;
    Ok(metadata.tensors().into_keys().collect())
}

pub(super) fn safetensors_error(path: &Path, error: &safetensors::SafeTensorError) -> LoadError {
    use safetensors::SafeTensorError as E;
    let problem = match error {
        E::HeaderTooSmall => "truncated: shorter than the 8-byte header length".to_owned(),
        E::InvalidHeaderLength => "the header length points past the end of the file".to_owned(),
        E::MetadataIncompleteBuffer => {
            "the tensor offsets do not match the file size (truncated or padded file)".to_owned()
        }
        E::InvalidOffset(name) => {
            format!("tensor {name:?} has offsets outside the data or overlapping another")
        }
        other => format!("invalid safetensors header: {other:?}"),
    };
    LoadError::new(path, problem)
}

fn read_weight_map(index: &Path) -> Result<BTreeMap<String, String>, LoadError> {
    #[derive(serde::Deserialize)]
    struct Index {
        weight_map: BTreeMap<String, String>,
    }
    let text = std::fs::read_to_string(index).map_err(|e| LoadError::io(index, &e))?;
    let parsed: Index = serde_json::from_str(&text)
        .map_err(|e| LoadError::new(index, format!("not a valid safetensors index: {e}")))?;
    if let Some(bad) = parsed
        .weight_map
        .values()
        .find(|f| f.contains('/') || f.contains(".."))
    {
        return Err(LoadError::new(
            index,
            format!("shard name {bad:?} must be a file in the model directory"),
        ));
    }
    Ok(parsed.weight_map)
}

fn choose_tensor<'a>(
    file: &Path,
    names: impl Iterator<Item = &'a str> + Clone,
    configured: Option<&str>,
    tied: bool,
) -> Result<String, LoadError> {
    let has = |wanted: &str| names.clone().any(|name| name == wanted);
    if let Some(wanted) = configured {
        return if has(wanted) {
            Ok(wanted.to_owned())
        } else {
            Err(LoadError::new(
                file,
                format!("has no tensor named {wanted:?} (set by embedding_tensor)"),
            ))
        };
    }
    let known = EMBEDDING_TENSOR_NAMES
        .iter()
        .copied()
        .find(|name| has(name));
    let by_suffix = || {
        names
            .clone()
            .find(|name| EMBEDDING_SUFFIXES.iter().any(|s| name.ends_with(s)))
    };
    let tied_head = || (tied && has("lm_head.weight")).then_some("lm_head.weight");
    match known.or_else(by_suffix).or_else(tied_head) {
        Some(name) => Ok(name.to_owned()),
        None => {
            let mut sample: Vec<&str> = names.take(8).collect();
            sample.sort_unstable();
            Err(LoadError::new(
                file,
                format!(
                    "no input-embedding tensor found (looked for model.embed_tokens.weight and the other \
                     known names; set embedding_tensor); tensors include {sample:?}"
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_win_over_suffixes_and_the_tied_head() {
        let path = Path::new("w.safetensors");
        let names = [
            "lm_head.weight",
            "foo.embed_tokens.weight",
            "model.embed_tokens.weight",
        ];
        let chosen = choose_tensor(path, names.iter().copied(), None, true).expect("found");
        assert_eq!(chosen, "model.embed_tokens.weight");
        let chosen = choose_tensor(path, names[..2].iter().copied(), None, true).expect("found");
        assert_eq!(chosen, "foo.embed_tokens.weight");
        let chosen = choose_tensor(path, names[..1].iter().copied(), None, true).expect("found");
        assert_eq!(chosen, "lm_head.weight");
        let err =
            choose_tensor(path, names[..1].iter().copied(), None, false).expect_err("untied head");
        assert!(
            err.to_string().contains("no input-embedding tensor"),
            "{err}"
        );
        let err =
            choose_tensor(path, names.iter().copied(), Some("x.weight"), true).expect_err("absent");
        assert!(err.to_string().contains("\"x.weight\""), "{err}");
    }

    #[test]
    fn widening_is_exact() {
        let values = [1.0f32, -0.0, 3.140625, f32::INFINITY, 1.0e-40, 65504.0];
        for value in values {
            let b = bf16::from_f32(value);
            let mut out = [0.0f32];
            widen(&b.to_le_bytes(), &mut out, |x| {
                bf16::from_le_bytes(x).to_f32()
            });
            assert_eq!(out[0].to_bits(), (u32::from(b.to_bits())) << 16);
            let h = f16::from_f32(value);
            widen(&h.to_le_bytes(), &mut out, |x| {
                f16::from_le_bytes(x).to_f32()
            });
            assert_eq!(out[0], h.to_f32());
        }
    }
}
