//! Inputs the `word2vec_store` fuzz target (fuzz/) crashed the reader with, and the cases they
//! stand for: a header may claim any dimension, and the reader must answer with a typed error (or
//! an empty store) instead of overflowing or allocating what the claim asks for.

use std::path::{Path, PathBuf};

use embedserve::word2vec::store::{Location, Problem, StoreError};
use embedserve::word2vec::{LoadOptions, StoreFormat, WordVectors};

#[path = "../../fuzz/fuzz_targets/common/inputs.rs"]
mod inputs;

/// The crash input's dimension: its `dim * 4` bytes do not fit in a u64.
const HUGE_DIM: usize = 6_184_467_440_737_095_516;

fn load(
    dir: &Path,
    file: &[u8],
    options: &LoadOptions,
) -> (PathBuf, Result<WordVectors, StoreError>) {
    let path = dir.join("store");
    std::fs::write(&path, file).expect("write the store");
    let result = WordVectors::load(&path, options);
    (path, result)
}

fn malformed(result: Result<WordVectors, StoreError>) -> (Location, Problem) {
    match result {
        Err(StoreError::Malformed {
            location, problem, ..
        }) => (location, problem),
        other => panic!("expected a malformed-store error, got {other:?}"),
    }
}

/// Every row of finite values has a unit vector of length 1 (or 0 for a zero row), however
/// extreme its values: huge ones overflow f32 squares, subnormal ones lose f32 digits.
fn assert_unit_rows(store: &WordVectors, file: &Path) {
    for i in 0..store.len() {
        let (raw, unit) = (
            store.vector(i).expect("row"),
            store.unit_vector(i).expect("unit row"),
        );
        if raw.iter().all(|v| v.is_finite()) {
            let length = unit
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(
                length == 0.0 || (length - 1.0).abs() < 1e-5,
                "row {i} of {}: length {length}",
                file.display()
            );
        }
    }
}

fn forced(format: StoreFormat) -> LoadOptions {
    LoadOptions {
        format: Some(format),
        ..LoadOptions::default()
    }
}

#[test]
fn every_saved_crash_input_loads_or_names_the_file() {
    let saved = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/word2vec_store");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&saved)
        .expect("fuzz/regressions/word2vec_store")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no saved inputs in {}", saved.display());
    let dir = tempfile::tempdir().expect("tempdir");
    for file in files {
        let data = std::fs::read(&file).expect("a saved input");
        let (options, store) =
            inputs::store_input(&data).expect("saved inputs have two flag bytes");
        match load(dir.path(), store, &options) {
            (_, Ok(loaded)) => {
                assert!(loaded.dim() > 0, "{}", file.display());
                assert_unit_rows(&loaded, &file);
            }
            (path, Err(StoreError::Malformed { path: named, .. })) => {
                assert_eq!(named, path, "{}", file.display());
            }
            (_, Err(other)) => panic!("{}: unexpected error {other}", file.display()),
        }
    }
}

#[test]
fn a_huge_dimension_is_detected_as_binary_and_reported_truncated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = format!("1 {HUGE_DIM}\nhe 1 2\n");
    let (location, problem) =
        malformed(load(dir.path(), file.as_bytes(), &LoadOptions::default()).1);
    // The vector starts after the 22-byte header, the word and its space.
    assert_eq!(location, Location::Byte(25));
    assert!(
        matches!(&problem, Problem::TruncatedVector { word, available: 4, .. } if word == "he"),
        "{problem:?}"
    );
}

#[test]
fn a_huge_dimension_in_a_text_store_is_a_wrong_value_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    for dim in [HUGE_DIM, usize::MAX / 2 + 1, usize::MAX] {
        let file = format!("1 {dim}\nhe 1 2\n");
        let (location, problem) =
            malformed(load(dir.path(), file.as_bytes(), &forced(StoreFormat::Text)).1);
        assert_eq!(location, Location::Line(2));
        assert_eq!(
            problem,
            Problem::WrongValueCount {
                expected: dim,
                found: 2
            }
        );
    }
}

#[test]
fn a_huge_dimension_in_a_binary_store_is_a_truncated_vector() {
    let dir = tempfile::tempdir().expect("tempdir");
    for dim in [usize::MAX / 4 + 1, HUGE_DIM, usize::MAX] {
        let file = format!("1 {dim}\nw \x01\x02\x03\x04\n");
        let (location, problem) =
            malformed(load(dir.path(), file.as_bytes(), &forced(StoreFormat::Binary)).1);
        let header = file.find('\n').expect("a header line") + 1;
        assert_eq!(location, Location::Byte(header as u64 + 2));
        assert!(
            matches!(&problem, Problem::TruncatedVector { word, available: 5, .. } if word == "w"),
            "{problem:?}"
        );
    }
}

#[test]
fn an_empty_store_may_declare_any_dimension() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = format!("0 {HUGE_DIM}\n");
    for options in [
        LoadOptions::default(),
        forced(StoreFormat::Binary),
        forced(StoreFormat::Text),
    ] {
        let (_, result) = load(dir.path(), file.as_bytes(), &options);
        let store = result.unwrap_or_else(|e| panic!("{options:?}: {e}"));
        assert_eq!((store.len(), store.dim()), (0, HUGE_DIM), "{options:?}");
    }
}
