//! Loading the shared lee-cbow50 store (written by gensim 4.4.0) in both formats, and writing it
//! back byte-for-byte.

use std::path::Path;

use embedserve::word2vec::store::{LoadOptions, StoreFormat, WordVectors, write_store};

use crate::common::shared_fixture;
use crate::fasttext::floats;

fn load(path: &Path) -> WordVectors {
    WordVectors::load(path, &LoadOptions::default()).expect("the shared store loads")
}

#[test]
fn binary_and_text_stores_hold_the_same_words_and_bits() {
    let (Some(bin), Some(txt)) = (
        shared_fixture("word2vec/lee-cbow50.bin"),
        shared_fixture("word2vec/lee-cbow50.txt"),
    ) else {
        return;
    };
    let from_bin = load(&bin);
    let from_txt = load(&txt);
    assert_eq!(from_bin.format(), Some(StoreFormat::Binary));
    assert_eq!(from_txt.format(), Some(StoreFormat::Text));
    assert_eq!((from_bin.len(), from_bin.dim()), (3955, 50));
    assert_eq!(
        from_bin.words().collect::<Vec<_>>(),
        from_txt.words().collect::<Vec<_>>()
    );
    assert_eq!(from_bin.word(0), Some("the"));
    for i in 0..from_bin.len() {
        let (a, b) = (from_bin.vector(i).unwrap(), from_txt.vector(i).unwrap());
        assert!(
            a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "row {i} differs between the formats"
        );
    }
}

#[test]
fn raw_vector_is_what_gensim_saved() {
    let (Some(bin), Some(reference)) = (
        shared_fixture("word2vec/lee-cbow50.bin"),
        shared_fixture("word2vec/lee-cbow50.reference.json"),
    ) else {
        return;
    };
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reference).unwrap()).unwrap();
    let store = load(&bin);
    for (word, values) in reference["vector"].as_object().unwrap() {
        let expected = floats(values);
        let index = store.index_of(word).unwrap();
        assert_eq!(
            store.vector(index).unwrap(),
            &expected[..],
            "vector of {word}"
        );
    }
}

#[test]
fn rewriting_the_store_reproduces_gensims_files_byte_for_byte() {
    let (Some(bin), Some(txt)) = (
        shared_fixture("word2vec/lee-cbow50.bin"),
        shared_fixture("word2vec/lee-cbow50.txt"),
    ) else {
        return;
    };
    let store = load(&bin);
    let all: Vec<f32> = (0..store.len())
        .flat_map(|i| store.vector(i).unwrap().to_vec())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    for (original, format) in [(&bin, StoreFormat::Binary), (&txt, StoreFormat::Text)] {
        let out = dir.path().join(format!("copy.{format}"));
        write_store(
            &out,
            &store.words().collect::<Vec<_>>(),
            &all,
            store.dim(),
            format,
        )
        .unwrap();
        assert!(
            std::fs::read(&out).unwrap() == std::fs::read(original).unwrap(),
            "{format} output differs from gensim's {}",
            original.display()
        );
    }
}

#[test]
fn limit_reads_the_first_words_of_a_real_store() {
    let Some(txt) = shared_fixture("word2vec/lee-cbow50.txt") else {
        return;
    };
    let options = LoadOptions {
        limit: Some(100),
        ..LoadOptions::default()
    };
    let head = WordVectors::load(&txt, &options).unwrap();
    let full = load(&txt);
    assert_eq!(head.len(), 100);
    assert_eq!(
        head.words().collect::<Vec<_>>(),
        full.words().take(100).collect::<Vec<_>>()
    );
    assert_eq!(head.vector(99), full.vector(99));
}
