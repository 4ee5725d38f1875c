//! The flags and environment variables of `embedserve serve`: the top layer of the settings,
//! merged over the settings file by [`Settings::load`](crate::config::Settings::load).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Serialize;

use super::choice;
use crate::config::{
    LoadMode, LogFormat, ModelEntry, SettingsSource, StoreEntry, StoreFormatSetting, split_named,
};

/// Names and help of the `--word2vec-format` values.
const WORD2VEC_FORMATS: &[(&str, &str)] = &[
    ("auto", "Detect the format from the content"),
    ("binary", "word2vec C binary format"),
    ("text", "word2vec text format or fastText `.vec`"),
    (
        "gensim",
        "gensim's native `model.save()` / `KeyedVectors.save()` file",
    ),
    ("glove", "GloVe text: the text format without a header line"),
    ("fasttext", "fastText binary model (`.bin`), with subwords"),
    ("index", "an index file written by `embedserve index`"),
];

/// Names and help of the `--log-format` values.
const LOAD_MODES: &[(&str, &str)] = &[
    (
        "mmap",
        "Memory-map the matrix (the file must not change while served)",
    ),
    ("read", "Copy the matrix into memory at startup"),
];

const LOG_FORMATS: &[(&str, &str)] = &[
    ("text", "Human-readable lines"),
    ("json", "One JSON object per line"),
];

/// Flags and environment variables of `embedserve serve`; each overrides the config file.
#[derive(Debug, Clone, Default, Serialize, clap::Args)]
pub struct ServeArgs {
    /// Settings file [default: config/default.toml when present].
    #[arg(long, env = "EMBEDSERVE_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "EMBEDSERVE_LISTEN", value_name = "ADDR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// Hugging Face model directory; an empty value serves no model [default: models/demo].
    #[arg(long, env = "EMBEDSERVE_MODEL_DIR", value_name = "DIR", value_parser = path_or_empty)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_dir: Option<PathBuf>,
    /// Name reported as `model` [default: the model directory's name].
    #[arg(long, env = "EMBEDSERVE_MODEL_NAME", value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// Input-embedding tensor name [default: found by the names real models use].
    #[arg(long, env = "EMBEDSERVE_EMBEDDING_TENSOR", value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_tensor: Option<String>,
    /// A named model, NAME=DIR; repeat for several (the first is the default). Added to
    /// `--models`; either replaces `--model-dir`.
    #[arg(long = "model", value_name = "NAME=DIR")]
    #[serde(skip)]
    pub model: Option<Vec<ModelEntry>>,
    /// Named models, comma-separated NAME=DIR [default: none: `model_dir` is served].
    #[arg(
        long,
        env = "EMBEDSERVE_MODELS",
        value_name = "LIST",
        value_delimiter = ','
    )]
    #[serde(skip)]
    pub models: Option<Vec<ModelEntry>>,
    /// word2vec store FILE (an empty value serves none), or a named store NAME=FILE, repeated
    /// for several (the first is the default) [default: models/demo/word2vec.bin].
    #[arg(long, env = "EMBEDSERVE_WORD2VEC", value_name = "[NAME=]FILE")]
    #[serde(skip)]
    pub word2vec: Option<Vec<String>>,
    /// Named word2vec stores, comma-separated NAME=FILE [default: none: `word2vec` is served].
    #[arg(
        long,
        env = "EMBEDSERVE_STORES",
        value_name = "LIST",
        value_delimiter = ','
    )]
    #[serde(skip)]
    pub stores: Option<Vec<StoreEntry>>,
    /// Format of the word2vec store [default: auto].
    #[arg(
        long,
        env = "EMBEDSERVE_WORD2VEC_FORMAT",
        value_parser = choice::<StoreFormatSetting>(WORD2VEC_FORMATS)
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub word2vec_format: Option<StoreFormatSetting>,
    /// Load only the first N words of the store; 0 loads all [default: 0].
    #[arg(long, env = "EMBEDSERVE_WORD2VEC_LIMIT", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub word2vec_limit: Option<usize>,
    /// Decode invalid UTF-8 in store words lossily [default: false].
    #[arg(long, env = "EMBEDSERVE_WORD2VEC_LOSSY_UTF8", value_name = "BOOL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub word2vec_lossy_utf8: Option<bool>,
    /// How the embedding matrix is held [default: mmap].
    #[arg(
        long,
        env = "EMBEDSERVE_LOAD_MODE",
        value_parser = choice::<LoadMode>(LOAD_MODES)
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_mode: Option<LoadMode>,
    /// Largest accepted request body in bytes [default: 2097152].
    #[arg(long, env = "EMBEDSERVE_BODY_LIMIT_BYTES", value_name = "BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_limit_bytes: Option<usize>,
    /// Largest number of inputs in one request [default: 64].
    #[arg(long, env = "EMBEDSERVE_MAX_BATCH_SIZE", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_batch_size: Option<usize>,
    /// Largest number of tokens in one input [default: 8192].
    #[arg(long, env = "EMBEDSERVE_MAX_TOKENS_PER_INPUT", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens_per_input: Option<usize>,
    /// Largest number of tokens in one request, all inputs together [default: 16384].
    #[arg(long, env = "EMBEDSERVE_MAX_BATCH_TOKENS", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_batch_tokens: Option<usize>,
    /// Largest `topn` of a similarity query [default: 1000].
    #[arg(long, env = "EMBEDSERVE_MAX_TOPN", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_topn: Option<usize>,
    /// Largest number of words in one word query [default: 1000].
    #[arg(long, env = "EMBEDSERVE_MAX_QUERY_WORDS", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_query_words: Option<usize>,
    /// Largest text in bytes, checked before tokenizing [default: 65536].
    #[arg(long, env = "EMBEDSERVE_MAX_INPUT_BYTES", value_name = "BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_input_bytes: Option<usize>,
    /// Largest response of one request in bytes [default: 67108864].
    #[arg(long, env = "EMBEDSERVE_MAX_RESPONSE_BYTES", value_name = "BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_response_bytes: Option<usize>,
    /// Connections open at once [default: 1024].
    #[arg(long, env = "EMBEDSERVE_MAX_CONNECTIONS", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    /// Seconds to send request headers; also the idle keep-alive timeout [default: 15].
    #[arg(long, env = "EMBEDSERVE_HEADER_READ_TIMEOUT_SECS", value_name = "SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds to send a request body [default: 30].
    #[arg(long, env = "EMBEDSERVE_BODY_READ_TIMEOUT_SECS", value_name = "SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_read_timeout_secs: Option<u64>,
    /// Seconds a response write waits on a client reading nothing [default: 30].
    #[arg(
        long,
        env = "EMBEDSERVE_RESPONSE_WRITE_TIMEOUT_SECS",
        value_name = "SECS"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_write_timeout_secs: Option<u64>,
    /// Requests admitted at once; more get 429 [default: 128].
    #[arg(long, env = "EMBEDSERVE_MAX_CONCURRENT_REQUESTS", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_requests: Option<usize>,
    /// Threads doing CPU work; 0 uses every core [default: 0].
    #[arg(long, env = "EMBEDSERVE_COMPUTE_THREADS", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_threads: Option<usize>,
    /// Seconds before a request is answered 503 timeout [default: 30].
    #[arg(long, env = "EMBEDSERVE_REQUEST_TIMEOUT_SECS", value_name = "SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout_secs: Option<u64>,
    /// Seconds in-flight requests get to finish on shutdown [default: 30].
    #[arg(long, env = "EMBEDSERVE_DRAIN_TIMEOUT_SECS", value_name = "SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drain_timeout_secs: Option<u64>,
    /// Accepted API keys, comma-separated; none disables authentication [default: none].
    #[arg(
        long,
        env = "EMBEDSERVE_API_KEYS",
        value_name = "KEYS",
        value_delimiter = ','
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_keys: Option<Vec<String>>,
    /// Keys of the admin routes (POST /admin/reload), comma-separated; none: they take the
    /// API keys [default: none].
    #[arg(
        long,
        env = "EMBEDSERVE_ADMIN_API_KEYS",
        value_name = "KEYS",
        value_delimiter = ','
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_api_keys: Option<Vec<String>>,
    /// Whether health and metrics also require an API key [default: false].
    #[arg(long, env = "EMBEDSERVE_AUTH_PROTECTS_HEALTH", value_name = "BOOL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_protects_health: Option<bool>,
    /// CORS origins, comma-separated; `*` allows any [default: none].
    #[arg(
        long,
        env = "EMBEDSERVE_CORS_ORIGINS",
        value_name = "ORIGINS",
        value_delimiter = ','
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_origins: Option<Vec<String>>,
    /// Whether /v1/embeddings accepts token ids as input; off because OpenAI clients send ids
    /// of OpenAI's tokenizer, not the model's [default: false].
    #[arg(long, env = "EMBEDSERVE_OPENAI_TOKEN_IDS", value_name = "BOOL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openai_token_ids: Option<bool>,
    /// Log line format [default: text].
    #[arg(
        long,
        env = "EMBEDSERVE_LOG_FORMAT",
        value_parser = choice::<LogFormat>(LOG_FORMATS)
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. `info` or `embedserve=debug` [default: info].
    #[arg(long, env = "EMBEDSERVE_LOG_LEVEL", value_name = "FILTER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
}

/// Accepts an empty value, which means "serve none" for the model and the store.
fn path_or_empty(value: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(value))
}

impl ServeArgs {
    /// Where the settings come from: the settings file under these flags and environment
    /// variables, kept so that a reload reads the file again under the same flags.
    pub fn settings_source(&self) -> Result<SettingsSource, String> {
        let mut overrides = toml::Table::try_from(self).map_err(|e| e.to_string())?;
        let models: Vec<&ModelEntry> = self.models.iter().chain(&self.model).flatten().collect();
        let mut stores: Vec<StoreEntry> = self.stores.iter().flatten().cloned().collect();
        let mut single = None;
        for value in self.word2vec.iter().flatten() {
            match split_named(value) {
                Some(_) => stores.push(value.parse().map_err(|e| format!("--word2vec: {e}"))?),
                None if single.is_none() => single = Some(value),
                None => return Err("--word2vec: give one FILE, or NAME=FILE values".to_owned()),
            }
        }
        if let (Some(file), true) = (single, !stores.is_empty()) {
            return Err(format!(
                "--word2vec: {file:?} has no name; with named stores, name every one (NAME=FILE)"
            ));
        }
        if let Some(file) = single {
            overrides.insert("word2vec".to_owned(), file.clone().into());
        }
        if !models.is_empty() {
            overrides.insert("models".to_owned(), toml_value(&models)?);
        }
        if !stores.is_empty() {
            overrides.insert("stores".to_owned(), toml_value(&stores)?);
        }
        Ok(SettingsSource::Layers {
            config_file: self.config.clone(),
            overrides,
        })
    }
}

fn toml_value(value: &impl Serialize) -> Result<toml::Value, String> {
    toml::Value::try_from(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::Cli;
    use crate::config::Settings;

    fn settings(args: &[&str]) -> Result<Settings, String> {
        let cli = Cli::try_parse_from([&["embedserve", "--config", "/dev/null"], args].concat())
            .map_err(|e| e.to_string())?;
        let source = cli.serve.settings_source()?;
        source.load().map_err(|e| e.to_string())
    }

    #[test]
    fn repeated_named_flags_become_the_lists_and_a_bare_word2vec_stays_single() {
        let named = settings(&[
            "--model",
            "potion=/m/potion",
            "--model",
            "qwen=/m/qwen",
            "--word2vec",
            "en=/m/en.bin",
            "--word2vec",
            "de=/m/de.bin",
        ])
        .expect("valid");
        let names = |entries: Vec<&str>| entries.join(",");
        assert_eq!(
            names(named.models.iter().map(|m| m.name.as_str()).collect()),
            "potion,qwen"
        );
        assert_eq!(named.stores[1].path, std::path::Path::new("/m/de.bin"));
        let single = settings(&["--word2vec", "/m/a=b.bin"]).expect("valid");
        assert_eq!(single.word2vec, std::path::Path::new("/m/a=b.bin"));
        assert!(single.stores.is_empty());
        let mixed = settings(&["--word2vec", "/m/x.bin", "--word2vec", "en=/m/en.bin"]);
        assert!(mixed.expect_err("mixed").contains("no name"));
        let twice = settings(&["--model", "a=/x", "--model", "a=/y"]).expect_err("twice");
        assert!(twice.contains("\"a\" is given twice"), "{twice}");
    }
}
