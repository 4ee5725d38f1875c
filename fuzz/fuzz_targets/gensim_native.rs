//! `WordVectors::load` on arbitrary gensim native files: a pickle (detected or forced) and,
//! optionally, a `.npy` sidecar beside it. Never panics, never runs anything the pickle names,
//! and an accepted store is self-consistent. Input layout: `common/inputs.rs` (`gensim_input`);
//! the checks: `common/invariants.rs`.
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
    let Some(input) = inputs::gensim_input(data) else {
        return;
    };
    let dir = common::scratch_dir();
    common::write(dir, "store", input.pickle);
    for name in inputs::GENSIM_SIDECARS {
        match input.sidecar {
            Some(bytes) => common::write(dir, name, bytes),
            None => {
                let _ = std::fs::remove_file(dir.join(name));
            }
        }
    }
    let path = dir.join("store");
    let result = WordVectors::load(&path, &input.options);
    invariants::check_store_load(&path, &input.options, &result);
});
