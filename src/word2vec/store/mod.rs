//! word2vec vector stores on disk: the writer (byte-for-byte what gensim 4.4.0's
//! `KeyedVectors.save_word2vec_format` writes) and the reader ([`WordVectors`], gensim's
//! `KeyedVectors`), for the C tool's binary format, its text format, fastText `.vec` files,
//! headerless GloVe text files, fastText `.bin` models with their n-gram table, and gensim's
//! native `save()` files.
//!
//! - `error`: [`StoreError`] and where in a file a problem is ([`Location`], [`Problem`]).
//! - `read`: the parser of the text formats and detection; `fasttext`: the `.bin` reader;
//!   `write`: [`write_store`].
//! - `gensim_native`: gensim's `Word2Vec.save()` / `KeyedVectors.save()` files (a pickle read
//!   without running anything, and `.npy` sidecars).
//! - `sniff`: other formats named by their magic bytes, and short escaped quotes for messages.
//! - `float_format`: numpy's spelling of f32 values, used by the text writer.

mod error;
mod fasttext;
mod float_format;
mod gensim_native;
mod held;
mod read;
mod sniff;
mod write;

use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use memmap2::Mmap;
use rayon::prelude::*;

use super::index::{self, Ann, HeldWords, WordTable};
use super::subwords::Subwords;
use crate::vector::l2_norm;
#[cfg(doc)]
use crate::vector::l2_normalize;

pub use error::{Location, Problem, StoreError, UnknownStoreFormat};
pub use gensim_native::{GensimClass, GensimParams, GensimProblem};
pub use write::write_store;

pub(crate) use held::Held;

use error::check_shape;
use read::parse_store;

/// Format of a word2vec store on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFormat {
    /// The C tool's binary format: a `count dim` header line, then per word the word, a space and
    /// `dim` little-endian f32 values (the C tool adds a newline after each vector, gensim does not).
    Binary,
    /// The C tool's text format, also fastText's `.vec`: a `count dim` header line, then one line per
    /// word with the word and `dim` decimal values separated by spaces.
    Text,
    /// gensim's native `Word2Vec.save()` / `KeyedVectors.save()` file: a pickle, with large
    /// arrays in `.npy` files beside it. Read only.
    Gensim,
    /// GloVe's text files: the text format without the header line (gensim's `no_header=True`).
    Glove,
    /// Facebook fastText's binary model (`.bin`): words and the n-gram table that gives any word
    /// a vector.
    FastText,
    /// An index file written by `embedserve index`: served from a memory map, with an
    /// approximate-nearest-neighbour graph. Read only by [`WordVectors::load`].
    Index,
}

impl fmt::Display for StoreFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreFormat::Binary => "binary",
            StoreFormat::Text => "text",
            StoreFormat::Gensim => "gensim",
            StoreFormat::Glove => "glove",
            StoreFormat::FastText => "fasttext",
            StoreFormat::Index => "index",
        })
    }
}

impl FromStr for StoreFormat {
    type Err = UnknownStoreFormat;

    /// Reads the names [`StoreFormat`]'s `Display` writes: `binary`, `text`, `gensim`, `glove`,
    /// `fasttext`, `index`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "binary" => Ok(StoreFormat::Binary),
            "text" => Ok(StoreFormat::Text),
            "gensim" => Ok(StoreFormat::Gensim),
            "glove" => Ok(StoreFormat::Glove),
            "fasttext" => Ok(StoreFormat::FastText),
            "index" => Ok(StoreFormat::Index),
            _ => Err(UnknownStoreFormat(name.to_owned())),
        }
    }
}

/// How to read a store file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Read the file as this format instead of detecting it from the content.
    pub format: Option<StoreFormat>,
    /// Read only the first this many words (gensim's `limit`); the rest of the file is not checked.
    pub limit: Option<usize>,
    /// Replace bytes that are not UTF-8 in words with U+FFFD (gensim's `unicode_errors='replace'`)
    /// instead of failing (C formats only: a pickle's strings are always UTF-8).
    pub lossy_utf8: bool,
}

/// A loaded word2vec store, gensim's `KeyedVectors`: words in file order, their vectors exactly as
/// stored (for a fastText model, composed with their n-grams as gensim does on load), held once,
/// with one Euclidean length per row for cosine search (`dot / norm`, instead of gensim's second,
/// normalized copy of the matrix), and a subword model's n-gram table.
#[derive(Debug, Clone)]
pub struct WordVectors {
    path: Option<PathBuf>,
    format: Option<StoreFormat>,
    gensim: Option<GensimParams>,
    dim: usize,
    words: HeldWords,
    vectors: Held<f32>,
    norms: Held<f64>,
    ann: Option<Arc<Ann>>,
    subwords: Option<Subwords>,
}

/// Stores at least this many rows have their norms computed on all cores.
const PARALLEL_NORM_ROWS: usize = 16_384;

impl WordVectors {
    /// Reads a store file, detecting its format unless `options.format` says it.
    ///
    /// Duplicate words keep their first vector (with a warning), as gensim does. The file is
    /// memory-mapped; a fastText model keeps the map for its n-gram table, which is never copied,
    /// and a gensim native file's `.npy` sidecar is memory-mapped too.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Self, StoreError> {
        let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
        if file.metadata().is_ok_and(|meta| meta.is_dir()) {
            return Err(StoreError::io(path, io::ErrorKind::IsADirectory.into()));
        }
        // SAFETY: the file is opened read-only and never written by embedserve; a store must not
        // be modified while it is served (documented). Every read is bounds-checked by the parser.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| StoreError::io(path, e))?;
        if options.format == Some(StoreFormat::Index)
            || (options.format.is_none() && index::has_magic(&map))
        {
            return Self::open_index(path, Arc::new(map), options.limit);
        }
        if options.format == Some(StoreFormat::Gensim)
            || (options.format.is_none() && sniff::is_pickle(&map))
        {
            let native = gensim_native::read(path, &map, options.limit)?;
            // gensim_native refuses duplicate keys, so every word keeps its own row.
            let words = WordTable::build(native.words.iter().map(String::as_str));
            let mut store = Self::assemble(words, native.vectors, native.dim);
            store.path = Some(path.to_path_buf());
            store.format = Some(StoreFormat::Gensim);
            store.gensim = Some(native.params);
            return Ok(store);
        }
        let parsed =
            parse_store(&map, options).map_err(|(location, problem)| StoreError::Malformed {
                path: path.to_path_buf(),
                location,
                problem,
            })?;
        let mut store = Self::assemble(parsed.words, parsed.vectors, parsed.dim);
        store.path = Some(path.to_path_buf());
        store.format = Some(parsed.format);
        store.subwords = parsed
            .subwords
            .map(|(settings, start)| Subwords::new(settings, parsed.dim, Arc::new(map), start));
        Ok(store)
    }

    /// Views an index file: its header and sections are checked, nothing is copied. A `limit`
    /// hides the rows after it (the graph's search skips them).
    fn open_index(path: &Path, map: Arc<Mmap>, limit: Option<usize>) -> Result<Self, StoreError> {
        let mut opened =
            index::open(&map).map_err(|(location, problem)| StoreError::Malformed {
                path: path.to_path_buf(),
                location,
                problem,
            })?;
        if let Some(keep) = limit.filter(|&keep| keep < opened.norms.len()) {
            opened.words.truncate(keep);
            opened.vectors.truncate(keep * opened.dim);
            opened.norms.truncate(keep);
        }
        Ok(WordVectors {
            path: Some(path.to_path_buf()),
            format: Some(StoreFormat::Index),
            gensim: None,
            dim: opened.dim,
            words: opened.words,
            vectors: opened.vectors,
            norms: opened.norms,
            ann: Some(Arc::new(opened.ann)),
            subwords: None,
        })
    }

    /// Builds a store from words and their row-major vectors (`words[i]` has row `i`), as if it
    /// had been loaded; duplicate words keep their first vector.
    pub fn from_parts(
        words: Vec<String>,
        vectors: Vec<f32>,
        dim: usize,
    ) -> Result<Self, StoreError> {
        check_shape(words.len(), vectors.len(), dim)?;
        let mut table = WordTable::with_capacity(words.len());
        let mut kept = Vec::with_capacity(vectors.len());
        for (word, row) in words.iter().zip(vectors.chunks_exact(dim)) {
            if claim_word(&mut table, word) {
                kept.extend_from_slice(row);
            }
        }
        Ok(Self::assemble(table, kept, dim))
    }

    /// A store of the words in `words` (row order) and their rows; computes the rows' norms.
    fn assemble(words: WordTable, vectors: Vec<f32>, dim: usize) -> Self {
        let norms = row_norms(&vectors, dim);
        WordVectors {
            path: None,
            format: None,
            gensim: None,
            dim,
            words: HeldWords::owned(words),
            vectors: Held::Owned(vectors),
            norms: Held::Owned(norms),
            ann: None,
            subwords: None,
        }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.norms.len()
    }

    /// True when the store holds no words.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Dimension of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// All words, in file order (row order).
    pub fn words(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.word(i).unwrap_or_default())
    }

    /// The word of row `i`, if there is one.
    pub fn word(&self, i: usize) -> Option<&str> {
        self.words.word(i)
    }

    /// Row of `word`, matched exactly (case-sensitive).
    pub fn index_of(&self, word: &str) -> Option<usize> {
        self.words.index_of(word)
    }

    /// Row `i` exactly as stored in the file.
    pub fn vector(&self, i: usize) -> Option<&[f32]> {
        row(&self.vectors, self.dim, i)
    }

    /// The approximate-nearest-neighbour graph of a store loaded from an index file.
    pub(crate) fn ann(&self) -> Option<&Ann> {
        self.ann.as_deref()
    }

    /// The parameters of the graph of a store loaded from an index file (`None` otherwise:
    /// every answer is then exact).
    pub fn ann_params(&self) -> Option<&index::AnnParams> {
        self.ann().map(Ann::params)
    }

    /// Row `i` scaled to unit length (all zeros for a zero vector), computed from the stored row
    /// and its norm exactly as [`l2_normalize`] would.
    pub fn unit_vector(&self, i: usize) -> Option<Vec<f32>> {
        let vector = self.vector(i)?;
        Some(match usable_norm(self.norms[i]) {
            Some(norm) => vector
                .iter()
                .map(|&v| (f64::from(v) / norm) as f32)
                .collect(),
            None => vector.to_vec(),
        })
    }

    /// All rows as stored, one row-major `len() × dim()` matrix.
    pub fn matrix(&self) -> &[f32] {
        &self.vectors
    }

    /// The Euclidean length of every row (computed in f64), in row order.
    pub fn norms(&self) -> &[f64] {
        &self.norms
    }

    /// Format of the file the store was loaded from (`None` when built with [`Self::from_parts`]).
    pub fn format(&self) -> Option<StoreFormat> {
        self.format
    }

    /// What gensim recorded in the native file the store was loaded from (`None` for other
    /// formats).
    pub fn gensim_params(&self) -> Option<&GensimParams> {
        self.gensim.as_ref()
    }

    /// The n-gram table of a subword (fastText) model, which gives words outside the vocabulary
    /// a vector.
    pub fn subwords(&self) -> Option<&Subwords> {
        self.subwords.as_ref()
    }

    /// File the store was loaded from (`None` when built with [`Self::from_parts`]).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The store's display name: the file name without extension (`vectors` for `vectors.bin`),
    /// or `word2vec` for a store built with [`Self::from_parts`].
    pub fn name(&self) -> String {
        self.path().and_then(Path::file_stem).map_or_else(
            || "word2vec".to_owned(),
            |stem| stem.to_string_lossy().into_owned(),
        )
    }
}

/// Row `i` of a row-major matrix of width `dim`.
fn row(matrix: &[f32], dim: usize, i: usize) -> Option<&[f32]> {
    matrix.get(i.checked_mul(dim)?..(i + 1).checked_mul(dim)?)
}

/// Adds `word` as the table's next row unless it is already there; a duplicate is logged and
/// refused.
fn claim_word(table: &mut WordTable, word: &str) -> bool {
    let claimed = table.insert(word);
    if !claimed {
        tracing::warn!(
            word,
            "duplicate word in word2vec store, keeping only its first vector"
        );
    }
    claimed
}

/// The Euclidean length of each row, in f64 as [`l2_normalize`] computes it.
fn row_norms(vectors: &[f32], dim: usize) -> Vec<f64> {
    if vectors.len() / dim >= PARALLEL_NORM_ROWS {
        vectors.par_chunks_exact(dim).map(l2_norm).collect()
    } else {
        vectors.chunks_exact(dim).map(l2_norm).collect()
    }
}

/// `norm` when a row can be divided by it: [`l2_normalize`] leaves zero and non-finite rows as
/// they are.
pub(crate) fn usable_norm(norm: f64) -> Option<f64> {
    (norm > 0.0 && norm.is_finite()).then_some(norm)
}

#[cfg(test)]
mod tests;
