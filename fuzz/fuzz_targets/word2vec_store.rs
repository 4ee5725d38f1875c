//! `WordVectors::load` on arbitrary bytes: binary and text stores, auto-detected or forced, with
//! and without `limit` and lossy UTF-8. Never panics, and an accepted store is self-consistent.
//! Input layout: see `common/inputs.rs` (`store_input`); the checks: `common/invariants.rs`.
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
    let Some((options, file)) = inputs::store_input(data) else {
        return;
    };
    let dir = common::scratch_dir();
    common::write(dir, "store", file);
    let path = dir.join("store");
    invariants::check_store_load(&path, &options, &WordVectors::load(&path, &options));
});
