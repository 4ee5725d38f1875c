//! The `.npy` sidecar gensim writes beside a model for an array over its `sep_limit`
//! (`word2vec.model.wv.vectors.npy`): memory-mapped and viewed in place with `ndarray-npy`, so
//! the matrix is copied once, straight into the store.

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;
use ndarray::ArrayView2;
use ndarray_npy::{ViewNpyError, ViewNpyExt};

use super::Matrix;
use super::problem::GensimProblem;
use crate::word2vec::store::sniff::quote_up_to;

/// Why a sidecar could not be read.
pub(super) enum NpyError {
    /// The file cannot be opened or mapped.
    Io(std::io::Error),
    /// Its content is not a 2-D little-endian float32 array.
    Invalid(GensimProblem),
}

/// Reads a 2-D little-endian float32 `.npy` file, in C or Fortran order, into a row-major matrix.
pub(super) fn read_matrix(path: &Path) -> Result<Matrix, NpyError> {
    let file = File::open(path).map_err(NpyError::Io)?;
    // SAFETY: the file is opened read-only and never written by embedserve; a store must not be
    // modified while it loads (documented). The view below checks every length against the map.
    let map = unsafe { Mmap::map(&file) }.map_err(NpyError::Io)?;
    let view = ArrayView2::<f32>::view_npy(&map).map_err(|e| NpyError::Invalid(invalid(&e)))?;
    let (rows, cols) = view.dim();
    let values = match view.as_slice() {
        Some(values) => values.to_vec(),
        // Fortran order: numpy's logical (row-major) order is the iteration order.
        None => view.iter().copied().collect(),
    };
    Ok(Matrix { rows, cols, values })
}

/// The problem for a `.npy` file `ndarray-npy` refuses, in words and without the file's bytes.
fn invalid(error: &ViewNpyError) -> GensimProblem {
    let text = match error {
        ViewNpyError::WrongDescriptor(descr) => {
            format!("its dtype is {descr}")
        }
        ViewNpyError::NonNativeEndian => "it is big-endian".to_owned(),
        ViewNpyError::WrongNdim(_, ndim) => format!("it has {ndim} dimensions"),
        other => other.to_string(),
    };
    GensimProblem::Npy(quote_up_to(text.as_bytes(), 120))
}
