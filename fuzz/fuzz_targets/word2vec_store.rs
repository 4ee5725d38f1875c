//! `WordVectors::load` on arbitrary bytes: binary and text stores, auto-detected or forced, with
//! and without `limit` and lossy UTF-8. Never panics, and an accepted store is self-consistent.
//! Input layout: see `common/inputs.rs` (`store_input`).
#![no_main]

#[path = "common/mod.rs"]
mod common;
#[path = "common/inputs.rs"]
mod inputs;

use embedserve::word2vec::{LoadOptions, WordVectors};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((options, file)) = inputs::store_input(data) else {
        return;
    };
    let dir = common::scratch_dir();
    common::write(dir, "store", file);
    let path = dir.join("store");
    match WordVectors::load(&path, &options) {
        Ok(store) => check_store(&store, &options),
        Err(error) => assert!(
            error.to_string().contains(&*path.to_string_lossy()),
            "the error does not name the file: {error}"
        ),
    }
});

/// What every loaded store promises: one row of `dim` values per word, words unique and indexed,
/// unit rows of length 1 (or 0 for zero rows), at most `limit` words.
fn check_store(store: &WordVectors, options: &LoadOptions) {
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
    assert_eq!(store.unit_matrix().len(), store.len() * dim);
    for (i, word) in store.words().iter().enumerate() {
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
            let norm = unit
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(norm <= 1.0 + 1e-4, "unit row {i} has length {norm}");
        }
    }
    assert!(store.vector(store.len()).is_none());
}
