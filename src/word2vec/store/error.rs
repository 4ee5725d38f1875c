//! What can go wrong reading or writing a word2vec store, and where in the file it went wrong.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::gensim_native::GensimProblem;

/// Where in a store file a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line number (text stores, and the header of any store).
    Line(usize),
    /// A 0-based byte offset from the start of the file (binary stores).
    Byte(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(line) => write!(f, "line {line}"),
            Location::Byte(offset) => write!(f, "byte offset {offset}"),
        }
    }
}

/// What is wrong with a malformed store file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// The file ends before its `count dim` header line is complete.
    #[error("the file ends inside the `count dim` header line")]
    ShortHeader,
    /// The header line is not two non-negative integers (quoted escaped and cut short).
    #[error("header \"{0}\" is not `count dim` (two non-negative integers)")]
    BadHeader(String),
    /// The file's first bytes are those of another format.
    #[error("the file looks like {0}, not a store in the format being read")]
    ForeignFormat(&'static str),
    /// A gensim native file (`save()`) that cannot be read.
    #[error(transparent)]
    Gensim(#[from] GensimProblem),
    /// The header (or a headerless file's first line) declares vectors of dimension 0.
    #[error("the vectors have dimension 0 (by the header, or by a headerless file's first line)")]
    ZeroDim,
    /// The file holds fewer words than its header declares.
    #[error("the header declares {declared} words but the file ends after {found}")]
    MissingWords {
        /// Word count from the header.
        declared: usize,
        /// Words actually present.
        found: usize,
    },
    /// The file ends inside a binary vector.
    #[error("vector of {word:?} is truncated: {needed} bytes needed, {available} left")]
    TruncatedVector {
        /// The word whose vector is cut short.
        word: String,
        /// Bytes a full vector takes (`dim * 4`, saturating at `usize::MAX`).
        needed: usize,
        /// Bytes left in the file.
        available: usize,
    },
    /// A text line has a different number of values than the header's dimension.
    #[error("expected {expected} values after the word, found {found}")]
    WrongValueCount {
        /// Dimension from the header.
        expected: usize,
        /// Values on the line.
        found: usize,
    },
    /// A text value is not a decimal number.
    #[error("{0:?} is not a number")]
    BadNumber(String),
    /// A word is empty: a line or record starts with a space, or a text line is blank.
    #[error("empty word (the line or record starts with a space, or is blank)")]
    EmptyWord,
    /// A word (or the header) is not valid UTF-8 and lossy decoding was not requested.
    #[error(
        "word is not valid UTF-8 (bytes {0:?}); load with lossy UTF-8 decoding to replace bad bytes"
    )]
    NotUtf8(Vec<u8>),
    /// Data follows the last word the header declares.
    #[error("data follows the {0} words the header declares")]
    TrailingData(usize),
    /// A headerless (GloVe) file holds nothing.
    #[error("the file is empty")]
    EmptyFile,
    /// A fastText file (read as one by request) does not start with fastText's magic number.
    #[error("magic number {0} is not fastText's 793712314 (not a fastText .bin file)")]
    BadMagic(i32),
    /// A fastText file uses a feature this reader does not support.
    #[error("{0} is not supported")]
    Unsupported(String),
    /// A fastText file ends inside a field or matrix.
    #[error("the file ends inside {what}: {needed} bytes needed, {available} left")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes it takes.
        needed: u64,
        /// Bytes left in the file.
        available: u64,
    },
    /// A fastText header or dictionary field has an impossible value.
    #[error("{field} is {value}")]
    BadField {
        /// The field, with the rule it breaks.
        field: &'static str,
        /// Its value.
        value: i64,
    },
    /// A fastText dictionary holds the same word twice.
    #[error("the dictionary holds {0:?} twice")]
    DuplicateWord(String),
    /// An index file (`embedserve index`) that cannot be served: truncated, corrupt, of another
    /// version, or not an index file.
    #[error("not a usable index file: {0}")]
    Index(String),
    /// Bytes follow the end of a fastText model.
    #[error("{0} bytes follow the output matrix, the end of a fastText model")]
    TrailingBytes(usize),
}

/// A store format name other than `binary`, `text`, `gensim`, `glove`, `fasttext` or `index`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown store format {0:?} (expected `binary`, `text`, `gensim`, `glove`, `fasttext` or `index`)"
)]
pub struct UnknownStoreFormat(pub String);

/// Errors reading or writing a word2vec store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be read, written or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not a well-formed store.
    #[error("{}: {location}: {problem}", path.display())]
    Malformed {
        /// The store file.
        path: PathBuf,
        /// Where the problem was found.
        location: Location,
        /// What the problem is.
        problem: Problem,
    },
    /// `vectors` passed to [`write_store`](super::write_store) or [`WordVectors::from_parts`](super::WordVectors::from_parts) is not `words × dim` values.
    #[error("{values} values cannot be {words} vectors of dimension {dim}")]
    ShapeMismatch {
        /// Number of words.
        words: usize,
        /// Declared dimension.
        dim: usize,
        /// Number of values given.
        values: usize,
    },
    /// A word cannot be stored: it is empty or holds a space or newline, which delimit words.
    #[error(
        "word #{index} ({word:?}) cannot be stored: it is empty or contains a space or newline"
    )]
    InvalidWord {
        /// Position of the word in the input.
        index: usize,
        /// The word.
        word: String,
    },
    /// A `.npy` file gensim saved beside a native model (an array over its `sep_limit`) cannot
    /// be opened.
    #[error(
        "{}: its vectors are in {}, which gensim saves beside it, but that file cannot be read: {source}",
        path.display(),
        sidecar.display()
    )]
    MissingSidecar {
        /// The model file.
        path: PathBuf,
        /// The sidecar file gensim would have written.
        sidecar: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The approximate-nearest-neighbour graph of an index file could not be built.
    #[error("cannot build the nearest-neighbour graph: {0}")]
    Graph(String),
    /// A dimension of 0 was given.
    #[error("vector dimension must be at least 1")]
    ZeroDim,
    /// The format can be read but not written (a fastText `.bin` or gensim `save()` file holds a
    /// trained model).
    #[error("cannot write a {0} store")]
    Unwritable(super::StoreFormat),
}

impl StoreError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Checks that `values` floats are `words` rows of `dim` and `dim` is usable.
pub(super) fn check_shape(words: usize, values: usize, dim: usize) -> Result<(), StoreError> {
    if dim == 0 {
        return Err(StoreError::ZeroDim);
    }
    if words.checked_mul(dim) != Some(values) {
        return Err(StoreError::ShapeMismatch { words, dim, values });
    }
    Ok(())
}
