//! Inputs the `word2vec_store` fuzz target (fuzz/) crashed the reader with, and the cases they
//! stand for: a header may claim any dimension, and the reader must answer with a typed error (or
//! an empty store) instead of overflowing or allocating what the claim asks for. Saved inputs and
//! seeds are read and checked as the target does (`fuzz/fuzz_targets/common/`); so are the seeds
//! of the `fasttext_bin` target.

use std::path::{Path, PathBuf};

use embedserve::word2vec::store::{Location, Problem, StoreError};
use embedserve::word2vec::{LoadOptions, StoreFormat, WordVectors};

use proptest::prelude::*;

use crate::common::fuzz_inputs;

#[path = "../../fuzz/fuzz_targets/common/inputs.rs"]
mod inputs;
#[path = "../../fuzz/fuzz_targets/common/invariants.rs"]
mod invariants;

/// The crash input's dimension: its `dim * 4` bytes do not fit in a u64.
const HUGE_DIM: usize = 6_184_467_440_737_095_516;

fn load(
    dir: &Path,
    file: &[u8],
    options: &LoadOptions,
) -> (PathBuf, Result<WordVectors, StoreError>) {
    load_as(dir, "store", file, options)
}

/// Writes `file` as `dir/name` and loads it.
fn load_as(
    dir: &Path,
    name: &str,
    file: &[u8],
    options: &LoadOptions,
) -> (PathBuf, Result<WordVectors, StoreError>) {
    let path = dir.join(name);
    std::fs::write(&path, file).expect("write the store");
    let result = WordVectors::load(&path, options);
    (path, result)
}

/// Loads the saved fuzz input `file` as the `word2vec_store` target does, under its own name, and
/// checks it with the target's invariants.
fn replay(dir: &Path, file: &Path) -> (PathBuf, Result<WordVectors, StoreError>) {
    let data = std::fs::read(file).expect("a saved input");
    let (options, store) = inputs::store_input(&data).expect("saved inputs have two flag bytes");
    let name = file.file_name().expect("a file name").to_string_lossy();
    let (path, result) = load_as(dir, &name, store, &options);
    invariants::check_store_load(&path, &options, &result);
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

fn forced(format: StoreFormat) -> LoadOptions {
    LoadOptions {
        format: Some(format),
        ..LoadOptions::default()
    }
}

#[test]
fn every_saved_crash_input_loads_or_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in fuzz_inputs("regressions", "word2vec_store") {
        // Loaded stores: `invariants::check_store` (dimension, unit rows of length 1, ...).
        match replay(dir.path(), &file) {
            (_, Ok(_)) => {}
            (path, Err(StoreError::Malformed { path: named, .. })) => {
                assert_eq!(named, path, "{}", file.display());
            }
            (_, Err(other)) => panic!("{}: unexpected error {other}", file.display()),
        }
    }
}

#[test]
fn every_seed_keeps_the_fuzz_invariants() {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in fuzz_inputs("seeds", "word2vec_store") {
        // `replay` holds the checks: a store that loads keeps every invariant, an error names the file.
        let _ = replay(dir.path(), &file);
    }
}

#[test]
fn every_fasttext_seed_keeps_the_fuzz_invariants() {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in fuzz_inputs("seeds", "fasttext_bin") {
        let data = std::fs::read(&file).expect("a seed");
        let (options, probe, model) = inputs::fasttext_input(&data).expect("a seed's layout");
        let (path, result) = load_as(dir.path(), "model.bin", model, &options);
        assert!(result.is_ok(), "{}: {result:?}", file.display());
        invariants::check_fasttext_load(&path, &options, &result, &probe);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A real fastText model with one byte changed and cut short anywhere: loads or names the
    /// problem, and a loaded one keeps the `fasttext_bin` invariants for any probe word.
    #[test]
    fn a_corrupted_fasttext_model_keeps_the_fuzz_invariants(
        offset in 0usize..4096,
        byte: u8,
        keep in 0usize..8192,
        probe in "\\PC{1,8}",
    ) {
        let seed = &fuzz_inputs("seeds", "fasttext_bin")[0];
        let data = std::fs::read(seed).expect("a seed");
        let (options, _, model) = inputs::fasttext_input(&data).expect("a seed's layout");
        let mut model = model.to_vec();
        let at = offset % model.len();
        model[at] = byte;
        model.truncate(keep);
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, result) = load_as(dir.path(), "model.bin", &model, &options);
        invariants::check_fasttext_load(&path, &options, &result, &probe);
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

/// Writes the `gensim_native` input `file` as the target does and loads it.
fn replay_gensim(dir: &Path, file: &Path) -> Result<WordVectors, StoreError> {
    let data = std::fs::read(file).expect("a saved input");
    let input = inputs::gensim_input(&data).expect("six header bytes");
    let path = dir.join("store");
    std::fs::write(&path, input.pickle).expect("write the pickle");
    for name in inputs::GENSIM_SIDECARS {
        let _ = std::fs::remove_file(dir.join(name));
        if let Some(bytes) = input.sidecar {
            std::fs::write(dir.join(name), bytes).expect("write the sidecar");
        }
    }
    let result = WordVectors::load(&path, &input.options);
    invariants::check_store_load(&path, &input.options, &result);
    result
}

#[test]
fn every_gensim_seed_loads_and_keeps_the_fuzz_invariants() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = fuzz_inputs("seeds", "gensim_native");
    assert_eq!(seeds.len(), 3, "the seeds of fuzz/make_seeds.py");
    for file in seeds {
        let store = replay_gensim(dir.path(), &file).expect("every seed is a real gensim file");
        assert_eq!(store.format(), Some(StoreFormat::Gensim));
        assert_eq!(store.dim(), 4);
    }
}
