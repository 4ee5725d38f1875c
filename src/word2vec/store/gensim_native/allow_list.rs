//! The callables a gensim 4.x `Word2Vec` or `KeyedVectors` file names, the only ones the pickle
//! reader accepts: each is recorded, never called, and anything else refuses the file by name.

use std::fmt;

use super::problem::GensimProblem;
use crate::word2vec::store::sniff::quote;

/// What a callable named by a gensim file is, as far as reading vectors goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GlobalKind {
    /// `gensim.models.word2vec.Word2Vec`.
    Word2Vec,
    /// `gensim.models.keyedvectors.KeyedVectors`.
    KeyedVectors,
    /// numpy's `_reconstruct`, which starts every pickled array.
    Reconstruct,
    /// `numpy.dtype`.
    Dtype,
    /// Named by gensim's files but irrelevant to the vectors (random state, `defaultdict`, ...).
    Other,
}

/// A callable on the allow-list, with its module and name for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Global {
    /// What it is.
    pub(super) kind: GlobalKind,
    /// Its module (`numpy`).
    pub(super) module: &'static str,
    /// Its name in the module (`ndarray`).
    pub(super) name: &'static str,
}

impl fmt::Display for Global {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

/// Every callable gensim 4.x writes into a saved `Word2Vec` or `KeyedVectors` (under numpy 1 and
/// 2 module names); naming anything else refuses the file.
const ALLOWED: &[(&str, &str, GlobalKind)] = &[
    ("gensim.models.word2vec", "Word2Vec", GlobalKind::Word2Vec),
    (
        "gensim.models.keyedvectors",
        "KeyedVectors",
        GlobalKind::KeyedVectors,
    ),
    (
        "numpy._core.multiarray",
        "_reconstruct",
        GlobalKind::Reconstruct,
    ),
    (
        "numpy.core.multiarray",
        "_reconstruct",
        GlobalKind::Reconstruct,
    ),
    ("numpy", "ndarray", GlobalKind::Other),
    ("numpy", "dtype", GlobalKind::Dtype),
    ("numpy._core.multiarray", "scalar", GlobalKind::Other),
    ("numpy.core.multiarray", "scalar", GlobalKind::Other),
    (
        "numpy.random._pickle",
        "__randomstate_ctor",
        GlobalKind::Other,
    ),
    (
        "numpy.random._pickle",
        "__bit_generator_ctor",
        GlobalKind::Other,
    ),
    (
        "numpy.random._pickle",
        "__generator_ctor",
        GlobalKind::Other,
    ),
    ("numpy.random._mt19937", "MT19937", GlobalKind::Other),
    ("numpy.random._pcg64", "PCG64", GlobalKind::Other),
    ("numpy.random", "__RandomState_ctor", GlobalKind::Other),
    ("collections", "defaultdict", GlobalKind::Other),
    ("collections", "OrderedDict", GlobalKind::Other),
    ("builtins", "int", GlobalKind::Other),
    ("builtins", "float", GlobalKind::Other),
    ("builtins", "hash", GlobalKind::Other),
    ("gensim.utils", "call_on_class_only", GlobalKind::Other),
];

/// The allow-listed callable `module.name`, or the refusal naming it.
pub(super) fn allowed(module: &[u8], name: &[u8]) -> Result<Global, GensimProblem> {
    ALLOWED
        .iter()
        .find(|(m, n, _)| m.as_bytes() == module && n.as_bytes() == name)
        .map(|&(module, name, kind)| Global { kind, module, name })
        .ok_or_else(|| {
            let mut named = module.to_vec();
            named.push(b'.');
            named.extend_from_slice(name);
            let named = quote(&named);
            if module == b"gensim" || module.starts_with(b"gensim.") {
                GensimProblem::UnsupportedGensimClass(named)
            } else {
                GensimProblem::ForbiddenGlobal(named)
            }
        })
}
