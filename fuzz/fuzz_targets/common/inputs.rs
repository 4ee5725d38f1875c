//! How the loader targets read their input bytes, shared with the regression tests in
//! `tests/word2vec/fuzz_regressions.rs` so a saved crash replays exactly as the fuzzer ran it.
#![allow(dead_code)] // each fuzz target and test uses only its own part

use std::path::Path;

use embedserve::model::{INDEX_FILE, WEIGHTS_FILE};
use embedserve::word2vec::{LoadOptions, StoreFormat};

/// The shard name the sharded seeds' indexes use.
pub const SHARD_FILE: &str = "model-00001-of-00001.safetensors";

/// A `safetensors_open` input: byte 0 holds flags (bit 0: `tied`; bit 1: sharded layout; bit 2:
/// name the tensor `embeddings` explicitly). Single layout: the rest is `model.safetensors`.
/// Sharded layout: the rest is `model.safetensors.index.json`, a NUL byte, then the shard
/// [`SHARD_FILE`] (JSON cannot hold a raw NUL, so the split is unambiguous).
pub struct WeightsInput<'a> {
    /// The `tied` argument of `EmbeddingMatrix::open`.
    pub tied: bool,
    /// The `tensor` argument of `EmbeddingMatrix::open`.
    pub tensor: Option<&'static str>,
    sharded: bool,
    rest: &'a [u8],
}

impl<'a> WeightsInput<'a> {
    /// Splits fuzz input bytes; `None` for an empty input.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (&flags, rest) = data.split_first()?;
        Some(Self {
            tied: flags & 1 != 0,
            tensor: (flags & 4 != 0).then_some("embeddings"),
            sharded: flags & 2 != 0,
            rest,
        })
    }

    /// Writes the model directory's weight files into `dir` (created if needed).
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        if !self.sharded {
            let _ = std::fs::remove_file(dir.join(INDEX_FILE));
            return std::fs::write(dir.join(WEIGHTS_FILE), self.rest);
        }
        let _ = std::fs::remove_file(dir.join(WEIGHTS_FILE));
        let split = self
            .rest
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.rest.len());
        std::fs::write(dir.join(INDEX_FILE), &self.rest[..split])?;
        std::fs::write(
            dir.join(SHARD_FILE),
            self.rest.get(split + 1..).unwrap_or_default(),
        )
    }
}

/// A `fasttext_bin` input: byte 0 holds flags (bit 0: `lossy_utf8`; bit 1: `limit` is byte 1),
/// byte 1 the limit, byte 2 the length `n` of a probe word, the next `n` bytes the word (decoded
/// lossily), the rest the model file, read as fastText. `None` for inputs too short for that.
pub fn fasttext_input(data: &[u8]) -> Option<(LoadOptions, String, &[u8])> {
    let [flags, limit, probe_len, rest @ ..] = data else {
        return None;
    };
    let (probe, file) = rest.split_at_checked(usize::from(*probe_len))?;
    let options = LoadOptions {
        format: Some(StoreFormat::FastText),
        limit: (flags & 2 != 0).then_some(usize::from(*limit)),
        lossy_utf8: flags & 1 != 0,
    };
    Some((options, String::from_utf8_lossy(probe).into_owned(), file))
}

/// A `word2vec_store` input: byte 0 holds flags (bits 0-1: format, 1 binary, 2 text, else
/// detect; bit 2: `lossy_utf8`; bit 3: `limit` is byte 1), byte 1 the limit, the rest is the
/// store file. `None` for inputs shorter than two bytes.
pub fn store_input(data: &[u8]) -> Option<(LoadOptions, &[u8])> {
    let [flags, limit, file @ ..] = data else {
        return None;
    };
    let options = LoadOptions {
        format: match flags & 3 {
            1 => Some(StoreFormat::Binary),
            2 => Some(StoreFormat::Text),
            _ => None,
        },
        limit: (flags & 8 != 0).then_some(usize::from(*limit)),
        lossy_utf8: flags & 4 != 0,
    };
    Some((options, file))
}

/// A `gensim_native` input: byte 0 holds flags (bit 0: force the `gensim` format, else detect;
/// bit 3: `limit` is byte 1), byte 1 the limit, bytes 2-5 the pickle's length `n` (u32 LE,
/// clamped to what is there), then `n` bytes of pickle (the model file `store`) and the rest, when
/// any, as its `.npy` sidecar, written under both names gensim uses (`store.wv.vectors.npy` for
/// a `Word2Vec`, `store.vectors.npy` for `KeyedVectors`). `None` for inputs shorter than 6 bytes.
pub fn gensim_input(data: &[u8]) -> Option<GensimInput<'_>> {
    let [flags, limit, a, b, c, d, rest @ ..] = data else {
        return None;
    };
    let options = LoadOptions {
        format: (flags & 1 != 0).then_some(StoreFormat::Gensim),
        limit: (flags & 8 != 0).then_some(usize::from(*limit)),
        lossy_utf8: false,
    };
    let split = (u32::from_le_bytes([*a, *b, *c, *d]) as usize).min(rest.len());
    let (pickle, sidecar) = rest.split_at(split);
    Some(GensimInput {
        options,
        pickle,
        sidecar: (!sidecar.is_empty()).then_some(sidecar),
    })
}

/// A `gensim_native` input split into its parts.
pub struct GensimInput<'a> {
    /// How to load the model.
    pub options: LoadOptions,
    /// The model file.
    pub pickle: &'a [u8],
    /// The vectors' `.npy` sidecar, if any.
    pub sidecar: Option<&'a [u8]>,
}

/// The names gensim gives the vectors' sidecar of the model file `store`.
pub const GENSIM_SIDECARS: [&str; 2] = ["store.wv.vectors.npy", "store.vectors.npy"];
