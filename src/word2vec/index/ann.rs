//! The approximate-nearest-neighbour section of an index file: a USearch HNSW graph over the
//! rows' unit vectors (inner product), built here and viewed in place from the memory map. The
//! only module that calls USearch, so the library can be swapped.

use std::sync::Arc;

use memmap2::Mmap;
use rayon::prelude::*;
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use super::IndexDtype;

/// The graph's parameters, stored in the index file's header and reported by `/info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnParams {
    /// How the graph holds the unit vectors it walks: f32, or f16 (half the memory and bandwidth).
    pub dtype: IndexDtype,
    /// Neighbours per node (HNSW's `M`).
    pub connectivity: usize,
    /// Candidates kept while inserting (HNSW's `efConstruction`).
    pub expansion_add: usize,
    /// Candidates kept while searching (HNSW's `ef`).
    pub expansion_search: usize,
}

impl Default for AnnParams {
    /// f16 vectors, M = 16, efConstruction = 128, ef = 128.
    fn default() -> Self {
        AnnParams {
            dtype: IndexDtype::F16,
            connectivity: 16,
            expansion_add: 128,
            expansion_search: 128,
        }
    }
}

/// USearch's options for a graph of `dim`-dimensional unit vectors.
fn options(dim: usize, params: &AnnParams) -> IndexOptions {
    IndexOptions {
        dimensions: dim,
        // The rows are unit vectors: the inner product is the cosine, without a norm per step.
        metric: MetricKind::IP,
        quantization: match params.dtype {
            IndexDtype::F32 => ScalarKind::F32,
            IndexDtype::F16 => ScalarKind::F16,
        },
        connectivity: params.connectivity,
        expansion_add: params.expansion_add,
        expansion_search: params.expansion_search,
        multi: false,
        // Rows are added once under their row number and only searched: the key-to-slot table
        // would cost about 43 bytes a row, rebuilt at every start (130 MB at 3M rows; USearch #770).
        enable_key_lookups: false,
    }
}

/// Builds the graph of `count` rows, `unit(i)` giving row `i`'s unit vector, inserting on the
/// current rayon pool's threads (one thread inserts in row order, reproducibly), and returns its
/// serialized bytes.
pub(super) fn build(
    count: usize,
    dim: usize,
    params: &AnnParams,
    unit: impl Fn(usize) -> Vec<f32> + Sync,
) -> Result<Vec<u8>, String> {
    let index = Index::new(&options(dim, params)).map_err(|e| e.to_string())?;
    let threads = rayon::current_num_threads();
    index
        .reserve_capacity_and_threads(count, threads)
        .map_err(|e| e.to_string())?;
    let add = |row: usize| index.add(row as u64, &unit(row)).map_err(|e| e.to_string());
    if threads == 1 {
        (0..count).try_for_each(add)?;
    } else {
        (0..count).into_par_iter().try_for_each(add)?;
    }
    let mut bytes = vec![0u8; index.serialized_length()];
    index
        .save_to_buffer(&mut bytes)
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// A graph viewed in the memory map of an index file.
pub(crate) struct Ann {
    index: Index,
    params: AnnParams,
    /// Keeps the mapped bytes the index reads alive and unchanged.
    _map: Arc<Mmap>,
}

impl std::fmt::Debug for Ann {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ann").field("params", &self.params).finish()
    }
}

impl Ann {
    /// Views the graph in `map[offset..offset + len]`, checking that it holds `count` vectors of
    /// `dim` values in the expected dtype.
    pub(super) fn view(
        map: &Arc<Mmap>,
        offset: usize,
        len: usize,
        dim: usize,
        count: usize,
        params: AnnParams,
    ) -> Result<Self, String> {
        let bytes = offset
            .checked_add(len)
            .and_then(|end| map.get(offset..end))
            .ok_or("the graph section lies outside the file")?;
        let meta = Index::metadata_from_buffer(bytes).map_err(|e| e.to_string())?;
        let expected = options(dim, &params);
        if meta.dimensions != dim as u64
            || meta.count_present != count as u64
            || meta.quantization != expected.quantization
            || meta.metric != expected.metric
            || meta.multi
        {
            return Err(format!(
                "the graph holds {} vectors of dimension {}, not the header's {count} of {dim}",
                meta.count_present, meta.dimensions
            ));
        }
        let index = Index::new(&expected).map_err(|e| e.to_string())?;
        // SAFETY: `bytes` lies in `map`, which `Ann` keeps alive; the map is read-only and an
        // index file must not be modified while it is served (documented).
        unsafe { index.view_from_buffer(bytes) }.map_err(|e| e.to_string())?;
        if index.size() != count {
            return Err(format!(
                "the graph holds {} vectors, not {count}",
                index.size()
            ));
        }
        Ok(Ann {
            index,
            params,
            _map: Arc::clone(map),
        })
    }

    /// The graph's parameters.
    pub(crate) fn params(&self) -> &AnnParams {
        &self.params
    }

    /// Up to `count` rows closest to the unit vector `query` among those `keep` accepts, best
    /// first by the graph's (possibly f16) scores.
    pub(crate) fn search(
        &self,
        query: &[f32],
        count: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Result<Vec<usize>, String> {
        let found = self
            .index
            .filtered_search(query, count, |key| keep(key as usize))
            .map_err(|e| e.to_string())?;
        Ok(found.keys.into_iter().map(|key| key as usize).collect())
    }
}
