//! Index files (`embedserve index`): a store prepared to be served from a memory map. One file
//! holds the vocabulary with an on-disk hash table, the raw f32 rows and their norms, and an
//! approximate-nearest-neighbour graph, laid out so that the server views every part in place:
//! nothing is parsed or copied at startup, whatever the store's size, and every process (every
//! pod of a node) mapping the same file shares its page cache.
//!
//! - `format`: the header and the sections, written and checked.
//! - `words`: the word table and its hash table.
//! - `ann`: the graph (USearch), the one module that calls the library.

mod ann;
mod format;
mod words;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

pub(crate) use ann::Ann;
pub use ann::AnnParams;
pub(crate) use format::{has_magic, open};
pub(crate) use words::{HeldWords, WordTable};

use super::store::{LoadOptions, StoreError, WordVectors};

/// How the graph holds the vectors it walks (the raw rows are always f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum IndexDtype {
    /// 4 bytes a value.
    F32 = 0,
    /// 2 bytes a value: half the memory and bandwidth; candidates are reranked with the f32 rows.
    F16 = 1,
}

impl fmt::Display for IndexDtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IndexDtype::F32 => "f32",
            IndexDtype::F16 => "f16",
        })
    }
}

/// A dtype name other than `f32` or `f16`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown index dtype {0:?} (expected `f32` or `f16`)")]
pub struct UnknownDtype(pub String);

impl FromStr for IndexDtype {
    type Err = UnknownDtype;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "f32" => Ok(IndexDtype::F32),
            "f16" => Ok(IndexDtype::F16),
            _ => Err(UnknownDtype(name.to_owned())),
        }
    }
}

/// What `embedserve index` builds, from what.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSettings {
    /// The store to index, in any format [`WordVectors::load`] reads.
    pub input: PathBuf,
    /// The index file to write (replaced atomically).
    pub output: PathBuf,
    /// Index only the first this many words (gensim's `limit`).
    pub limit: Option<usize>,
    /// The graph's parameters.
    pub params: AnnParams,
}

/// What [`build`] did, for the command's summary line.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSummary {
    /// Words indexed.
    pub words: usize,
    /// Their dimension.
    pub dim: usize,
    /// The file written.
    pub output: PathBuf,
    /// The graph's parameters.
    pub params: AnnParams,
    /// Time to load the store.
    pub load: Duration,
    /// Time to build the graph and write the file.
    pub build: Duration,
}

impl fmt::Display for IndexSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "indexed {} words of dimension {} into {} ({} graph, M={}, ef_construction={}, \
             ef={}); loaded in {:.1} s, built and written in {:.1} s",
            self.words,
            self.dim,
            self.output.display(),
            self.params.dtype,
            self.params.connectivity,
            self.params.expansion_add,
            self.params.expansion_search,
            self.load.as_secs_f64(),
            self.build.as_secs_f64(),
        )
    }
}

/// Loads `settings.input` and writes its index file.
pub fn build(settings: &IndexSettings) -> Result<IndexSummary, StoreError> {
    let started = Instant::now();
    let options = LoadOptions {
        limit: settings.limit,
        ..LoadOptions::default()
    };
    let store = WordVectors::load(&settings.input, &options)?;
    let load = started.elapsed();
    write_index(&store, &settings.output, &settings.params)?;
    Ok(IndexSummary {
        words: store.len(),
        dim: store.dim(),
        output: settings.output.clone(),
        params: settings.params,
        load,
        build: started.elapsed() - load,
    })
}

/// Writes the index file of `store` to `path`: the graph is built on the current rayon pool
/// (in a pool of one thread, inserting in row order, the same store gives the same bytes).
pub fn write_index(
    store: &WordVectors,
    path: &std::path::Path,
    params: &AnnParams,
) -> Result<(), StoreError> {
    let graph = ann::build(store.len(), store.dim(), params, |row| {
        store.unit_vector(row).unwrap_or_default()
    })
    .map_err(StoreError::Graph)?;
    let table = WordTable::build(store.words());
    format::write(
        path,
        store.dim(),
        &table,
        store.matrix(),
        store.norms(),
        params,
        &graph,
    )
}
