//! What the fuzz targets assert about each input, written once: the targets in `fuzz/` and the
//! regression tests in `tests/word2vec/fuzz_regressions.rs` and `tests/model/fuzz_inputs.rs`
//! include this file, so a saved input is checked there exactly as the fuzzer checked it.
#![allow(dead_code)] // each fuzz target and test uses only its own part

use std::path::Path;

use embedserve::model::{EmbeddingMatrix, LoadError, ModelConfig};
use embedserve::word2vec::query::{QueryError, SearchOptions};
use embedserve::word2vec::store::StoreError;
use embedserve::word2vec::{LoadOptions, WordVectors};

/// `model_config`: `ModelConfig::load(path)` of a file holding `data`. What it accepts is JSON
/// with positive sizes; what it refuses names the file and says what is wrong.
pub fn check_config(path: &Path, data: &[u8], result: &Result<ModelConfig, LoadError>) {
    match result {
        Ok(config) => {
            assert!(config.hidden_size.is_none_or(|n| n > 0), "{config:?}");
            assert!(config.vocab_size.is_none_or(|n| n > 0), "{config:?}");
            // Accepted input is JSON; the loader must not accept anything else.
            assert!(serde_json::from_slice::<serde_json::Value>(data).is_ok());
        }
        Err(error) => {
            assert_eq!(error.path, path, "the error names another file: {error}");
            assert!(!error.problem.is_empty());
        }
    }
}

/// `safetensors_open`: an accepted matrix is not empty, is the tensor asked for (`wanted`) and
/// lies inside its file; its first and last rows can be read and gathered.
pub fn check_matrix(matrix: &EmbeddingMatrix, wanted: Option<&str>) {
    let (rows, cols) = (matrix.rows(), matrix.cols());
    assert!(
        rows > 0 && cols > 0,
        "accepted an empty matrix {rows} x {cols}"
    );
    if let Some(wanted) = wanted {
        assert_eq!(
            matrix.tensor(),
            wanted,
            "ignored the configured tensor name"
        );
    }
    let file_len = std::fs::metadata(matrix.file())
        .expect("the mapped file")
        .len();
    let matrix_bytes = (rows as u64) * (cols as u64) * (matrix.dtype().size() as u64);
    assert!(
        matrix_bytes <= file_len,
        "a {rows} x {cols} matrix cannot fit in {file_len} bytes"
    );
    // Reading the first and the last row touches both ends of the data: out of bounds panics.
    let mut out = vec![0.0f32; cols];
    matrix.row_into(0, &mut out);
    matrix.row_into(rows - 1, &mut out);
    let last = u32::try_from(rows - 1).unwrap_or(u32::MAX);
    assert_eq!(matrix.gather(&[0, last]).shape(), [2, cols]);
}

/// `word2vec_store`: `WordVectors::load(path, options)`. An accepted store keeps every promise of
/// [`check_store`]; a refused one names the file.
pub fn check_store_load(
    path: &Path,
    options: &LoadOptions,
    result: &Result<WordVectors, StoreError>,
) {
    match result {
        Ok(store) => check_store(store, options),
        Err(error) => assert!(
            error.to_string().contains(&*path.to_string_lossy()),
            "the error does not name the file: {error}"
        ),
    }
}

/// What every loaded store promises: one row of `dim` values per word, words unique and indexed,
/// unit rows of length 1 (or 0 for zero rows) whenever the raw row is finite, however extreme its
/// values (huge ones overflow f32 squares, subnormal ones lose f32 digits), at most `limit` words,
/// and the format that was forced.
pub fn check_store(store: &WordVectors, options: &LoadOptions) {
    let dim = store.dim();
    assert!(dim > 0);
    if let Some(limit) = options.limit {
        assert!(
            store.len() <= limit,
            "{} words beyond limit {limit}",
            store.len()
        );
    }
    if let Some(format) = options.format {
        assert_eq!(store.format(), Some(format));
    }
    assert_eq!(store.matrix().len(), store.len() * dim);
    for (i, word) in store.words().enumerate() {
        assert!(!word.is_empty(), "row {i} has an empty word");
        assert_eq!(
            store.index_of(word),
            Some(i),
            "word {word:?} is not indexed at its row"
        );
        let vector = store.vector(i).expect("a row per word");
        let unit = store.unit_vector(i).expect("a unit row per word");
        assert_eq!((vector.len(), unit.len()), (dim, dim));
        if vector.iter().all(|v| v.is_finite()) {
            let length = unit
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(
                length == 0.0 || (length - 1.0).abs() < 1e-5,
                "unit row {i} of {word:?} has length {length}"
            );
        }
    }
    assert!(store.vector(store.len()).is_none());
}

/// `http_request`: bad input is answered with a 4xx JSON error, never a 5xx (a panic anywhere
/// aborts the fuzzer by itself).
pub fn check_answer(route: &str, status: u16, body: &[u8]) {
    assert!(
        !(500..600).contains(&status),
        "{route} answered {status}: {}",
        String::from_utf8_lossy(body)
    );
    assert!(
        serde_json::from_slice::<serde_json::Value>(body).is_ok(),
        "{route} answered {status} with a body that is not JSON"
    );
}

/// `fasttext_bin`: an accepted model keeps every store promise, and `probe` looks up as gensim's
/// `get_vector` would: a vocabulary word gets its row, any other word a vector of the store's
/// dimension from its n-grams or, when it has none (or the model no subwords), `UnknownWord`; a
/// search from it answers alike and never returns more rows than asked.
pub fn check_fasttext_load(
    path: &Path,
    options: &LoadOptions,
    result: &Result<WordVectors, StoreError>,
    probe: &str,
) {
    check_store_load(path, options, result);
    let Ok(store) = result else {
        return;
    };
    let has_ngrams = store
        .subwords()
        .is_some_and(|s| !s.settings().ngram_buckets(probe).is_empty());
    let options = SearchOptions {
        topn: 3,
        ..SearchOptions::default()
    };
    let search = store.most_similar(&[probe], &[] as &[&str], &options);
    match store.lookup(probe) {
        Ok(found) => {
            assert_eq!(found.index, store.index_of(probe));
            assert!(found.index.is_some() || has_ngrams, "{probe:?}");
            assert_eq!(
                (found.vector.len(), found.unit.len()),
                (store.dim(), store.dim())
            );
            assert!(search.expect("a word with a vector can be searched").len() <= 3);
        }
        Err(error) => {
            assert_eq!(error, QueryError::UnknownWord(probe.to_owned()));
            assert!(store.index_of(probe).is_none() && !has_ngrams, "{probe:?}");
            assert_eq!(search, Err(error));
        }
    }
}
