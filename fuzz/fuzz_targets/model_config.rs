//! `ModelConfig::load` on arbitrary bytes as `config.json`: never panics, and what it accepts
//! obeys the documented rules (sizes are positive). The checks: `common/invariants.rs`.
#![no_main]

#[path = "common/mod.rs"]
mod common;
#[path = "common/invariants.rs"]
mod invariants;

use embedserve::model::ModelConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch_dir();
    common::write(dir, "config.json", data);
    let path = dir.join("config.json");
    invariants::check_config(&path, data, &ModelConfig::load(&path));
});
