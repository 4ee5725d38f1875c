//! `ModelConfig::load` on arbitrary bytes as `config.json`: never panics, and what it accepts
//! obeys the documented rules (sizes are positive).
#![no_main]

#[path = "common/mod.rs"]
mod common;

use embedserve::model::ModelConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch_dir();
    common::write(dir, "config.json", data);
    let path = dir.join("config.json");
    match ModelConfig::load(&path) {
        Ok(config) => {
            assert!(config.hidden_size.is_none_or(|n| n > 0), "{config:?}");
            assert!(config.vocab_size.is_none_or(|n| n > 0), "{config:?}");
            // Accepted input is JSON; the loader must not accept anything else.
            assert!(serde_json::from_slice::<serde_json::Value>(data).is_ok());
        }
        Err(error) => {
            assert_eq!(error.path, path, "the error names another file: {error}");
            assert!(!error.problem.is_empty());
        }
    }
});
