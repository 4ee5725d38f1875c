//! `WordVectors::load` of arbitrary bytes as an index file (`embedserve index`): never panics
//! or crashes (the graph is handed to USearch only after the header, the sections and the
//! graph's own header are checked), an error names the file, and an accepted index answers
//! lookups and both kinds of search.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use embedserve::word2vec::query::SearchOptions;
use embedserve::word2vec::{LoadOptions, StoreFormat, WordVectors};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch_dir();
    common::write(dir, "index", data);
    let path = dir.join("index");
    let options = LoadOptions {
        format: Some(StoreFormat::Index),
        ..LoadOptions::default()
    };
    let store = match WordVectors::load(&path, &options) {
        Ok(store) => store,
        Err(error) => {
            assert!(error.to_string().contains(&*path.to_string_lossy()), "{error}");
            return;
        }
    };
    assert!(store.vector(store.len()).is_none());
    for (row, word) in store.words().enumerate().take(64) {
        assert!(!word.is_empty());
        // A damaged hash table may miss a word, never name a row holding another word.
        if let Some(found) = store.index_of(word) {
            assert_eq!(store.word(found), Some(word));
        }
        assert_eq!(store.vector(row).map(<[f32]>::len), Some(store.dim()));
        for exact in [false, true] {
            let options = SearchOptions {
                topn: 3,
                exact,
                ..SearchOptions::default()
            };
            if let Ok(found) = store.most_similar(&[word], &[] as &[&str], &options) {
                assert!(found.len() <= 3);
            }
        }
    }
});
