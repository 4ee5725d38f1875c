//! Service settings: built-in defaults, then `config/default.toml` (or `--config`), then
//! `EMBEDSERVE_*` environment variables and command-line flags.
//!
//! [`Settings`] holds the resolved values; the flag/env layer is whatever serializes to the same
//! key names (the command line's `ServeArgs` in [`crate::cli`]), so the override step is a generic
//! merge of TOML tables rather than a field-by-field copy.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::word2vec::StoreFormat;
use crate::word2vec::store::UnknownStoreFormat;

mod entries;
mod source;

use entries::unique_names;
pub use entries::{ModelEntry, NotNamedPath, StoreEntry, split_named};
pub use source::SettingsSource;

/// The file read when neither `--config` nor `EMBEDSERVE_CONFIG` names one.
pub const DEFAULT_CONFIG_FILE: &str = "config/default.toml";

/// Resolved settings of `embedserve serve`. Every key is documented in `config/default.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address and port the HTTP server listens on.
    pub listen: SocketAddr,
    /// Hugging Face model directory (config.json, tokenizer.json, safetensors); empty: none.
    pub model_dir: PathBuf,
    /// Name reported as `model`; defaults to the model directory's name.
    pub model_name: Option<String>,
    /// Name of the input-embedding tensor; by default it is found by the names real models use.
    pub embedding_tensor: Option<String>,
    /// How the embedding matrix is held: memory-mapped from the file, or read into memory.
    pub load_mode: LoadMode,
    /// word2vec store served by `/similar`, `/similarity`, `/vector`; empty: none.
    pub word2vec: PathBuf,
    /// Format of the word2vec store: `auto`, `binary`, `text`, `gensim`, `glove`, `fasttext` or
    /// `index`.
    pub word2vec_format: StoreFormatSetting,
    /// Load only the first N words of the store; 0 loads all.
    pub word2vec_limit: usize,
    /// Decode invalid UTF-8 in store words lossily instead of refusing the file.
    pub word2vec_lossy_utf8: bool,
    /// Largest accepted request body in bytes.
    pub body_limit_bytes: usize,
    /// Largest number of inputs in one request.
    pub max_batch_size: usize,
    /// Largest number of tokens in one input.
    pub max_tokens_per_input: usize,
    /// Largest number of tokens in one request, all inputs together (bounds response memory).
    pub max_batch_tokens: usize,
    /// Largest `topn` of a similarity query.
    pub max_topn: usize,
    /// Largest number of words in one word query (positive, negative, `doesnt_match` words).
    pub max_query_words: usize,
    /// Largest text in bytes; longer texts are refused (or cut, with `truncate`) before tokenizing.
    pub max_input_bytes: usize,
    /// Largest response body one request may produce, in bytes, estimated before the work.
    pub max_response_bytes: usize,
    /// Connections open at once; beyond it new connections wait in the listen backlog.
    pub max_connections: usize,
    /// Seconds a connection gets to send a request's headers (also the keep-alive idle timeout).
    pub header_read_timeout_secs: u64,
    /// Seconds a request gets to send its whole body.
    pub body_read_timeout_secs: u64,
    /// Seconds a response write may wait for a client that reads nothing before it is dropped.
    pub response_write_timeout_secs: u64,
    /// Requests admitted at once; more are refused with 429.
    pub max_concurrent_requests: usize,
    /// Threads doing CPU work (tokenizing, gathering, searching); 0 uses every core.
    pub compute_threads: usize,
    /// Seconds a request may take before it is answered 503 `timeout`.
    pub request_timeout_secs: u64,
    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C.
    pub drain_timeout_secs: u64,
    /// Named models, served side by side; when set, `model_dir` is not served (see
    /// [`ModelEntry`]).
    pub models: Vec<ModelEntry>,
    /// Named word2vec stores, served side by side; when set, `word2vec` is not served (see
    /// [`StoreEntry`]).
    pub stores: Vec<StoreEntry>,
    /// Accepted API keys (`Authorization: Bearer <key>`); empty disables authentication.
    pub api_keys: Vec<String>,
    /// Keys accepted by the admin routes (`POST /admin/reload`); empty: those routes take the
    /// ordinary `api_keys`.
    pub admin_api_keys: Vec<String>,
    /// Whether `/health*` and `/metrics` also require an API key.
    pub auth_protects_health: bool,
    /// Origins allowed by CORS; empty disables CORS, `["*"]` allows any.
    pub cors_origins: Vec<String>,
    /// Whether `/v1/embeddings` accepts token ids as `input`; off, since OpenAI clients send
    /// ids of OpenAI's tokenizer, not the model's.
    pub openai_token_ids: bool,
    /// Log line format: `text` or `json`.
    pub log_format: LogFormat,
    /// Log filter in `tracing` syntax, e.g. `info` or `embedserve=debug`.
    pub log_level: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            model_dir: PathBuf::from("models/demo"),
            model_name: None,
            embedding_tensor: None,
            load_mode: LoadMode::Mmap,
            word2vec: PathBuf::from("models/demo/word2vec.bin"),
            word2vec_format: StoreFormatSetting::Auto,
            word2vec_limit: 0,
            word2vec_lossy_utf8: false,
            body_limit_bytes: 2 * 1024 * 1024,
            max_batch_size: 64,
            max_tokens_per_input: 8192,
            max_batch_tokens: 16384,
            max_topn: 1000,
            max_query_words: 1000,
            max_input_bytes: 65536,
            max_response_bytes: 64 * 1024 * 1024,
            max_connections: 1024,
            header_read_timeout_secs: 15,
            body_read_timeout_secs: 30,
            response_write_timeout_secs: 30,
            max_concurrent_requests: 128,
            compute_threads: 0,
            request_timeout_secs: 30,
            drain_timeout_secs: 30,
            models: Vec::new(),
            stores: Vec::new(),
            api_keys: Vec::new(),
            admin_api_keys: Vec::new(),
            auth_protects_health: false,
            cors_origins: Vec::new(),
            openai_token_ids: false,
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
        }
    }
}

/// How the word2vec store's format is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreFormatSetting {
    /// Detect the format from the content.
    Auto,
    /// word2vec C binary format.
    Binary,
    /// word2vec text format or fastText `.vec`.
    Text,
    /// gensim's native `save()` file (a pickle, `.npy` sidecars beside it).
    Gensim,
    /// GloVe text without a header line.
    Glove,
    /// fastText binary model (`.bin`) with subwords.
    FastText,
    /// An index file written by `embedserve index`.
    Index,
}

impl StoreFormatSetting {
    /// The format to read the store as, or `None` to detect it from the content.
    pub fn store_format(self) -> Option<StoreFormat> {
        match self {
            StoreFormatSetting::Auto => None,
            StoreFormatSetting::Binary => Some(StoreFormat::Binary),
            StoreFormatSetting::Text => Some(StoreFormat::Text),
            StoreFormatSetting::Gensim => Some(StoreFormat::Gensim),
            StoreFormatSetting::Glove => Some(StoreFormat::Glove),
            StoreFormatSetting::FastText => Some(StoreFormat::FastText),
            StoreFormatSetting::Index => Some(StoreFormat::Index),
        }
    }
}

impl FromStr for StoreFormatSetting {
    type Err = UnknownStoreFormat;

    /// Reads `auto`, `binary`, `text`, `gensim`, `glove`, `fasttext` or `index`, the names the settings
    /// file uses.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "auto" => Ok(StoreFormatSetting::Auto),
            _ => match name.parse::<StoreFormat>()? {
                StoreFormat::Binary => Ok(StoreFormatSetting::Binary),
                StoreFormat::Text => Ok(StoreFormatSetting::Text),
                StoreFormat::Gensim => Ok(StoreFormatSetting::Gensim),
                StoreFormat::Glove => Ok(StoreFormatSetting::Glove),
                StoreFormat::FastText => Ok(StoreFormatSetting::FastText),
                StoreFormat::Index => Ok(StoreFormatSetting::Index),
            },
        }
    }
}

/// How the embedding matrix is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadMode {
    /// Memory-mapped: ready at once, pages shared with other processes, read on demand; the file
    /// must not change while served.
    Mmap,
    /// Copied into the process's memory at startup: costs the matrix's size in memory and a
    /// full read, and a later change of the file cannot affect the server.
    Read,
}

impl FromStr for LoadMode {
    type Err = UnknownLoadMode;

    /// Reads `mmap` or `read`, the names the settings file uses.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "mmap" => Ok(LoadMode::Mmap),
            "read" => Ok(LoadMode::Read),
            _ => Err(UnknownLoadMode(name.to_owned())),
        }
    }
}

/// A load mode other than `mmap` or `read`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown load mode {0:?} (expected `mmap` or `read`)")]
pub struct UnknownLoadMode(pub String);

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl FromStr for LogFormat {
    type Err = UnknownLogFormat;

    /// Reads `text` or `json`, the names the settings file uses.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(UnknownLogFormat(name.to_owned())),
        }
    }
}

/// A log format name other than `text` or `json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log format {0:?} (expected `text` or `json`)")]
pub struct UnknownLogFormat(pub String);

/// Why the settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The settings file could not be read.
    #[error("{path}: cannot read settings file: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The settings file or an override is not valid.
    #[error("{origin}: {message}")]
    Invalid {
        /// Where the bad value came from (a file, or "flags and environment").
        origin: String,
        /// What is wrong.
        message: String,
    },
}

impl Settings {
    /// Resolves the settings: defaults, then `config_file` (or [`DEFAULT_CONFIG_FILE`] when it
    /// exists), then `overrides` from flags and environment: any value that serializes to a table
    /// of setting names (`None` fields skipped), such as the command line's `ServeArgs`.
    pub fn load(
        config_file: Option<&Path>,
        overrides: &impl Serialize,
    ) -> Result<Self, ConfigError> {
        let mut table = match config_file {
            Some(path) => read_table(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                read_table(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => toml::Table::new(),
        };
        let overrides = toml::Table::try_from(overrides).map_err(|e| ConfigError::Invalid {
            origin: "flags and environment".to_owned(),
            message: e.to_string(),
        })?;
        table.extend(overrides);
        let mut settings: Settings =
            table
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    origin: config_file
                        .unwrap_or(Path::new(DEFAULT_CONFIG_FILE))
                        .display()
                        .to_string(),
                    message: e.message().to_owned(),
                })?;
        settings.api_keys = api_keys("api_keys", settings.api_keys)?;
        settings.admin_api_keys = api_keys("admin_api_keys", settings.admin_api_keys)?;
        settings.validate()?;
        unique_names(
            "models",
            settings.models.iter().map(|entry| entry.name.as_str()),
        )?;
        unique_names(
            "stores",
            settings.stores.iter().map(|entry| entry.name.as_str()),
        )?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("body_limit_bytes", self.body_limit_bytes),
            ("max_batch_size", self.max_batch_size),
            ("max_tokens_per_input", self.max_tokens_per_input),
            ("max_batch_tokens", self.max_batch_tokens),
            ("max_topn", self.max_topn),
            ("max_concurrent_requests", self.max_concurrent_requests),
            ("max_query_words", self.max_query_words),
            ("max_input_bytes", self.max_input_bytes),
            ("max_response_bytes", self.max_response_bytes),
            ("max_connections", self.max_connections),
            (
                "header_read_timeout_secs",
                to_usize(self.header_read_timeout_secs),
            ),
            (
                "body_read_timeout_secs",
                to_usize(self.body_read_timeout_secs),
            ),
            (
                "response_write_timeout_secs",
                to_usize(self.response_write_timeout_secs),
            ),
        ];
        match positive.iter().find(|(_, value)| *value == 0) {
            Some((name, _)) => Err(ConfigError::Invalid {
                origin: "settings".to_owned(),
                message: format!("{name} must be at least 1"),
            }),
            None => Ok(()),
        }
    }

    /// The model directory, unless serving no model.
    pub fn model_dir(&self) -> Option<&Path> {
        non_empty(&self.model_dir)
    }

    /// The word2vec store, unless serving none.
    pub fn word2vec(&self) -> Option<&Path> {
        non_empty(&self.word2vec)
    }

    /// Threads for CPU work, with 0 resolved to the number of cores.
    pub fn compute_threads(&self) -> usize {
        match self.compute_threads {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            n => n,
        }
    }

    /// The per-request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// How long shutdown waits for in-flight requests.
    pub fn drain_timeout(&self) -> Duration {
        Duration::from_secs(self.drain_timeout_secs)
    }

    /// How long a connection may take to send a request's headers, or stay idle between requests.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    /// How long a request may take to send its body.
    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_secs(self.body_read_timeout_secs)
    }

    /// How long one write of a response may wait on a client that reads nothing.
    pub fn response_write_timeout(&self) -> Duration {
        Duration::from_secs(self.response_write_timeout_secs)
    }
}

/// A duration in seconds as a count for the "at least 1" check (saturating: any huge value is
/// positive).
fn to_usize(seconds: u64) -> usize {
    usize::try_from(seconds).unwrap_or(usize::MAX)
}

/// The API keys without surrounding whitespace (presented keys are trimmed too, so a padded key
/// could never match). One empty value, as `EMBEDSERVE_API_KEYS=""` gives, is no keys: no
/// authentication, as documented. An empty key among others (`--api-keys "k1,"`) is refused
/// rather than silently accepted: it is a stray comma, or a key that never arrived.
fn api_keys(setting: &str, keys: Vec<String>) -> Result<Vec<String>, ConfigError> {
    let keys: Vec<String> = keys.iter().map(|key| key.trim().to_owned()).collect();
    if keys == [""] {
        return Ok(Vec::new());
    }
    match keys.iter().position(String::is_empty) {
        Some(index) => Err(ConfigError::Invalid {
            origin: "settings".to_owned(),
            message: format!(
                "{setting}: key {} of {} is empty (a stray comma?); give no keys at all to disable authentication",
                index + 1,
                keys.len()
            ),
        }),
        None => Ok(keys),
    }
}

fn non_empty(path: &Path) -> Option<&Path> {
    (!path.as_os_str().is_empty()).then_some(path)
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    text.parse::<toml::Table>()
        .map_err(|e| ConfigError::Invalid {
            origin: path.display().to_string(),
            message: e.message().to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_toml_documents_exactly_the_built_in_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG_FILE);
        let table = read_table(&path).expect("config/default.toml parses");
        let from_file: Settings = table.try_into().expect("every key is known");
        assert_eq!(from_file, Settings::default());
        let text = std::fs::read_to_string(&path).expect("readable");
        let serialized = toml::Table::try_from(Settings::default()).expect("serializes");
        for key in serialized.keys() {
            assert!(
                text.contains(&format!("{key} =")),
                "{key} is not documented"
            );
        }
    }

    #[test]
    fn flags_override_the_file_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "max_topn = 5\nmax_batch_size = 7\n").expect("write");
        let mut flags = toml::Table::new();
        flags.insert("max_topn".to_owned(), 9.into());
        let settings = Settings::load(Some(&file), &flags).expect("valid");
        assert_eq!((settings.max_topn, settings.max_batch_size), (9, 7));

        std::fs::write(&file, "max_topn = 5\nmaxtopn = 7\n").expect("write");
        let err = Settings::load(Some(&file), &flags).expect_err("typo is refused");
        assert!(err.to_string().contains("maxtopn"), "{err}");
    }

    #[test]
    fn an_empty_key_list_is_no_auth_and_an_empty_key_is_refused() {
        let keys = |keys: &[&str]| {
            let mut flags = toml::Table::new();
            flags.insert("api_keys".to_owned(), keys.to_vec().into());
            Settings::load(Some(Path::new("/dev/null")), &flags).map(|s| s.api_keys)
        };
        assert_eq!(keys(&[""]).expect("no auth"), Vec::<String>::new());
        assert_eq!(keys(&[" k1 ", "k2"]).expect("trimmed"), ["k1", "k2"]);
        for bad in [&["k1", ""][..], &["k1", " "], &["", "k2"]] {
            let err = keys(bad).expect_err("an empty key is refused");
            assert!(err.to_string().contains("api_keys: key"), "{err}");
        }
    }

    #[test]
    fn zero_limits_are_refused() {
        let none = toml::Table::new();
        assert!(matches!(
            Settings::load(Some(Path::new("/nonexistent/none.toml")), &none),
            Err(ConfigError::Read { .. })
        ));
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "max_batch_size = 0\n").expect("write");
        let err = Settings::load(Some(&file), &none).expect_err("zero refused");
        assert!(err.to_string().contains("max_batch_size"), "{err}");
    }
}
