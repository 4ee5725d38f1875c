//! `WordVectors::load` of arbitrary bytes as a fastText `.bin` model, with and without `limit` and
//! lossy UTF-8, then a lookup and a search of a probe word (in the vocabulary or built from its
//! n-grams). Never panics; an accepted model is self-consistent.
//! Input layout: see `common/inputs.rs` (`fasttext_input`); the checks: `common/invariants.rs`.
#![no_main]

#[path = "common/mod.rs"]
mod common;
#[path = "common/inputs.rs"]
mod inputs;
#[path = "common/invariants.rs"]
mod invariants;

use embedserve::word2vec::WordVectors;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((options, probe, file)) = inputs::fasttext_input(data) else {
        return;
    };
    let dir = common::scratch_dir();
    common::write(dir, "model.bin", file);
    let path = dir.join("model.bin");
    let result = WordVectors::load(&path, &options);
    invariants::check_fasttext_load(&path, &options, &result, &probe);
});
