//! Helpers shared by the fuzz targets: the loaders under test take paths, so each input is
//! written to a scratch directory on tmpfs first.
#![allow(dead_code)] // not every target writes single files

use std::path::Path;
use std::sync::OnceLock;

/// A directory private to this fuzzing process, on `/dev/shm` when it exists (no disk I/O per
/// execution). Statics are never dropped, so it outlives the process: `scripts/fuzz.sh` removes
/// `embedserve-fuzz-<target>-*` after each target.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let mut builder = tempfile::Builder::new();
        builder.prefix(concat!("embedserve-fuzz-", env!("CARGO_BIN_NAME"), "-"));
        builder
            .tempdir_in("/dev/shm")
            .or_else(|_| builder.tempdir())
            .expect("a scratch directory for fuzz inputs")
    })
    .path()
}

/// Writes `bytes` to `dir/name`, replacing any earlier input.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).expect("write a fuzz input to the scratch directory");
}
