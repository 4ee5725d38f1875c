//! gensim 4.4.0's native files (`Word2Vec.save()` with arrays in the pickle and in `.npy`
//! sidecars, `KeyedVectors.save()`) read as gensim's `model.wv` answers: the same words in the
//! same order, the same bits as gensim's own `save_word2vec_format` of them, the same
//! `most_similar`. Files and answers come from tests/fixtures/make_gensim_native_reference.py.

use std::path::{Path, PathBuf};

use embedserve::word2vec::query::SearchOptions;
use embedserve::word2vec::store::{GensimClass, LoadOptions, StoreFormat, WordVectors};
use serde_json::Value;

use crate::query::{assert_matches, assert_similarities};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gensim-native")
}

fn reference() -> Value {
    let path = fixtures().join("gensim-native.gensim.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn load(path: &Path) -> WordVectors {
    WordVectors::load(path, &LoadOptions::default()).unwrap()
}

#[test]
fn native_files_hold_gensims_words_and_bits() {
    let reference = reference();
    for (name, expected) in reference["files"].as_object().unwrap() {
        let store = load(&fixtures().join(name));
        assert_eq!(store.format(), Some(StoreFormat::Gensim), "{name}");
        assert_eq!(
            store.len() as u64,
            expected["words"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            store.dim() as u64,
            expected["vector_size"].as_u64().unwrap()
        );
        let first: Vec<&str> = expected["first_words"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert_eq!(
            store.words().take(first.len()).collect::<Vec<_>>(),
            &first[..],
            "{name}"
        );
        // gensim's save_word2vec_format of the same vectors, read by the C-format reader.
        let bits = load(&fixtures().join(expected["same_vectors_as"].as_str().unwrap()));
        assert_eq!(
            store.words().collect::<Vec<_>>(),
            bits.words().collect::<Vec<_>>(),
            "{name}: gensim's key order"
        );
        for i in 0..store.len() {
            let (ours, theirs) = (store.vector(i).unwrap(), bits.vector(i).unwrap());
            assert!(
                ours.iter()
                    .zip(theirs)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name}: row {i} differs from gensim's"
            );
        }
    }
}

#[test]
fn native_files_answer_as_gensim() {
    let reference = reference();
    for (name, expected) in reference["files"].as_object().unwrap() {
        let store = load(&fixtures().join(name));
        for (word, answer) in expected["most_similar"].as_object().unwrap() {
            let ours = store
                .most_similar(&[word], &[] as &[&str], &SearchOptions::default())
                .unwrap();
            assert_matches(&ours, answer, &format!("{name} most_similar({word})"));
        }
        let analogy = &expected["analogy"];
        let words = |key: &str| -> Vec<String> {
            analogy[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_str().unwrap().to_owned())
                .collect()
        };
        let options = SearchOptions {
            topn: analogy["result"].as_array().unwrap().len(),
            ..SearchOptions::default()
        };
        let ours = store
            .most_similar(&words("positive"), &words("negative"), &options)
            .unwrap();
        assert_matches(&ours, &analogy["result"], &format!("{name} analogy"));
        assert_similarities(&store, &expected["similarity"]);
    }
}

#[test]
fn native_files_report_gensims_parameters() {
    let reference = reference();
    for (name, expected) in reference["files"].as_object().unwrap() {
        let store = load(&fixtures().join(name));
        let params = store.gensim_params().unwrap();
        let recorded = &expected["params"];
        assert_eq!(params.class.name(), expected["class"].as_str().unwrap());
        assert_eq!(
            params.vector_size as u64,
            recorded["vector_size"].as_u64().unwrap()
        );
        assert_eq!(params.window, recorded["window"].as_i64(), "{name}");
        assert_eq!(params.sg, recorded["sg"].as_i64(), "{name}");
        assert_eq!(params.epochs, recorded["epochs"].as_i64(), "{name}");
        let class = if name.ends_with(".kv") {
            GensimClass::KeyedVectors
        } else {
            GensimClass::Word2Vec
        };
        assert_eq!(params.class, class);
    }
    assert_eq!(load(&fixtures().join("sg.bin")).gensim_params(), None);
}

#[test]
fn a_limit_keeps_gensims_first_words() {
    let options = LoadOptions {
        limit: Some(40),
        ..LoadOptions::default()
    };
    let limited = WordVectors::load(&fixtures().join("cbow.model"), &options).unwrap();
    let full = load(&fixtures().join("cbow.model"));
    assert_eq!(
        limited.words().collect::<Vec<_>>(),
        full.words().take(40).collect::<Vec<_>>()
    );
    assert_eq!(limited.vector(39), full.vector(39));
}
