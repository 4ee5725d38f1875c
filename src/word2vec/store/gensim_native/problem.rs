//! What can be wrong with a gensim native file: a pickle embedserve will not read, or a saved
//! model whose vectors are missing or not what gensim writes.

/// A problem in a gensim native file (the pickle, or an array in it or beside it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GensimProblem {
    /// The file does not start like a pickle.
    #[error("not a gensim native file: it does not start with a pickle protocol 2 to 5 header")]
    NotAPickle,
    /// The pickle ends before its `STOP` opcode or inside an opcode's argument.
    #[error("the pickle is truncated")]
    TruncatedPickle,
    /// A pickle protocol gensim does not write.
    #[error("pickle protocol {0} (gensim writes protocols 2 to 5)")]
    Protocol(u8),
    /// An opcode gensim's files never hold.
    #[error("pickle opcode 0x{0:02x}, which gensim's files never hold")]
    Opcode(u8),
    /// The pickle names a callable that is not on the allow-list.
    #[error(
        "the pickle names `{0}`, which a saved gensim Word2Vec or KeyedVectors never holds; \
         it is refused, never run"
    )]
    ForbiddenGlobal(String),
    /// The pickle names a gensim class other than gensim 4's `Word2Vec` and `KeyedVectors` (a
    /// `FastText` model, a gensim 3.x file, ...).
    #[error(
        "the file holds gensim's `{0}`; embedserve reads gensim 4's saved Word2Vec and \
         KeyedVectors (FastText models and gensim 3.x files are not read)"
    )]
    UnsupportedGensimClass(String),
    /// An opcode pops more values than the pickle pushed.
    #[error("malformed pickle: an opcode pops from an empty stack")]
    EmptyStack,
    /// A `POP_MARK`, `TUPLE`, `SETITEMS`, ... without its `MARK`.
    #[error("malformed pickle: a MARK is missing")]
    NoMark,
    /// A memo lookup of an index never stored.
    #[error("malformed pickle: memo entry {0} is never stored")]
    MissingMemo(u64),
    /// An opcode applied to a value of the wrong kind.
    #[error("malformed pickle: {0} applied to a value of the wrong kind")]
    BadOperand(&'static str),
    /// A string is not valid UTF-8.
    #[error("a pickled string is not valid UTF-8")]
    NotUtf8,
    /// The pickled object is not a `Word2Vec` or `KeyedVectors`.
    #[error(
        "the pickle holds {0}, not a saved gensim Word2Vec or KeyedVectors \
         (`model.save()` or `model.wv.save()`)"
    )]
    NotAModel(String),
    /// An attribute the vectors need is absent or of the wrong kind.
    #[error("`{attribute}` {problem}")]
    Attribute {
        /// Attribute path, such as `wv.index_to_key`.
        attribute: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A key of `index_to_key` is not a string.
    #[error("key #{0} of `index_to_key` is not a string; embedserve serves word keys only")]
    KeyNotString(usize),
    /// An empty key in `index_to_key`.
    #[error("key #{0} of `index_to_key` is empty; embedserve serves non-empty words only")]
    EmptyKey(usize),
    /// The same key twice in `index_to_key`.
    #[error("key \"{0}\" appears twice in `index_to_key`")]
    DuplicateKey(String),
    /// The vectors were left out when saving (`save(..., ignore=['vectors'])`).
    #[error("the vectors were not saved (`ignore` named them)")]
    VectorsIgnored,
    /// An array of an element type other than little-endian float32.
    #[error("`{attribute}` has dtype {dtype}; embedserve reads float32 (`<f4`) vectors")]
    Dtype {
        /// Attribute path of the array.
        attribute: String,
        /// The dtype as numpy names it.
        dtype: String,
    },
    /// A malformed pickled array.
    #[error("`{attribute}` is not a valid numpy array: {problem}")]
    Array {
        /// Attribute path of the array.
        attribute: String,
        /// What is wrong.
        problem: String,
    },
    /// The matrix does not have one row per key and `vector_size` columns.
    #[error(
        "`{attribute}` is {rows} x {cols} but there are {keys} keys of vector_size {vector_size}"
    )]
    Shape {
        /// Attribute path of the array.
        attribute: String,
        /// Rows in the array.
        rows: usize,
        /// Columns in the array.
        cols: usize,
        /// Keys in `index_to_key`.
        keys: usize,
        /// Declared `vector_size`.
        vector_size: usize,
    },
    /// A `.npy` sidecar numpy cannot have written, or not a 2-D float32 array.
    #[error("not a 2-D little-endian float32 `.npy` array: {0}")]
    Npy(String),
}
