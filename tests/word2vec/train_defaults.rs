//! `embedserve train` run as the binary with no options uses gensim's `Word2Vec` defaults, as far
//! as they show in its output, against gensim 4.4.0 on the same corpus
//! (tests/fixtures/make_train_defaults_reference.py): `vector_size` 100, the vocabulary of
//! `min_count` 5 in gensim's order, 5 `epochs` and the downsampling of `sample` 1e-3.

use std::path::Path;

use embedserve::word2vec::store::{LoadOptions, StoreFormat, WordVectors};
use serde_json::Value;

use crate::common::shared_fixture;

/// The number before `label` in `text` (`"... 290760 raw words ..."`).
fn number_before(text: &str, label: &str) -> f64 {
    let before = &text[..text
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in {text}"))];
    let digits = before
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap_or_default();
    digits
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {label:?} in {text}"))
}

#[test]
fn train_with_no_options_uses_gensims_defaults() {
    let Some(corpus) = shared_fixture("word2vec/lee_background.cor") else {
        return;
    };
    let reference_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lee-defaults.gensim.json");
    let reference: Value =
        serde_json::from_slice(&std::fs::read(reference_path).expect("reference")).expect("json");
    let defaults = &reference["defaults"];
    let dir = tempfile::tempdir().expect("tempdir");
    let output = dir.path().join("vectors.bin");
    // Run as a user would, with a bare file name for the output.
    let ran = std::process::Command::new(env!("CARGO_BIN_EXE_embedserve"))
        .current_dir(dir.path())
        .args(["train", "--input"])
        .arg(corpus.canonicalize().expect("the corpus path"))
        .args(["--output", "vectors.bin"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(ran.status.success(), "{stderr}");

    let store = WordVectors::load(&output, &LoadOptions::default()).expect("a store");
    assert_eq!(store.format(), Some(StoreFormat::Binary));
    assert_eq!(Some(store.dim() as u64), defaults["vector_size"].as_u64());
    let words: Vec<&str> = store.words().collect();
    let want: Vec<&str> = reference["words"]
        .as_array()
        .expect("words")
        .iter()
        .map(|word| word.as_str().expect("a word"))
        .collect();
    assert_eq!(words.len(), want.len(), "the words with count >= min_count");
    if let Some(at) = words.iter().zip(&want).position(|(a, b)| a != b) {
        panic!("word {at} is {:?}, gensim's is {:?}", words[at], want[at]);
    }
    // Ties of counts are frequent, so the order of tied words is checked too.
    let counts: Vec<u64> = reference["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|count| count.as_u64().expect("a count"))
        .collect();
    assert!(counts.windows(2).filter(|pair| pair[0] == pair[1]).count() > 100);
    assert!(
        counts
            .iter()
            .all(|&count| Some(count) >= defaults["min_count"].as_u64())
    );

    // Every epoch goes over the whole corpus; `sample` keeps the expected share of the words.
    let epochs = defaults["epochs"].as_f64().expect("epochs");
    let total = reference["corpus_total_words"].as_f64().expect("total");
    assert_eq!(
        number_before(&stderr, " raw words"),
        epochs * total,
        "{stderr}"
    );
    let kept = number_before(&stderr, " effective)") / epochs;
    let expected = reference["expected_kept_words_per_epoch"]
        .as_f64()
        .expect("expected");
    assert!(
        (kept / expected - 1.0).abs() < 0.01,
        "{kept} words kept per epoch, gensim expects {expected}: {stderr}"
    );
}
