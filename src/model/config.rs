//! The fields of a model's `config.json` that embedserve uses, and the `encode` settings of a
//! static-embedding model; every other field is tolerated.

use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use super::LoadError;

/// What `config.json` says about the model (all empty for a layout without one).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelConfig {
    /// Width of the embedding rows (`hidden_size`, or `n_embd`/`d_model`/`dim`/`hidden_dim`).
    pub hidden_size: Option<usize>,
    /// Rows the model's embedding matrix declares.
    pub vocab_size: Option<usize>,
    /// Whether the output projection shares the input embedding (transformers defaults to true).
    pub tie_word_embeddings: bool,
    /// `model_type`, e.g. `qwen2` or `bert`.
    pub model_type: Option<String>,
    /// `architectures`, e.g. `["Qwen2ForCausalLM"]`.
    pub architectures: Vec<String>,
    /// `torch_dtype` (or `dtype`), e.g. `bfloat16`.
    pub torch_dtype: Option<String>,
}

/// Names other model families use for the hidden size, tried in order.
const HIDDEN_SIZE_KEYS: &[&str] = &["hidden_size", "n_embd", "d_model", "dim", "hidden_dim"];

impl ModelConfig {
    /// Reads and checks `config.json`.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let fields = read_object(path)?;
        // Multimodal configs (e.g. Gemma 3) keep the language model's sizes in `text_config`.
        let text_fields = match fields.get("text_config") {
            Some(Value::Object(inner)) => inner,
            _ => &fields,
        };
        let field = |name: &str| text_fields.get(name).or_else(|| fields.get(name));
        let hidden_size = HIDDEN_SIZE_KEYS
            .iter()
            .find_map(|key| field(key).map(|value| (key, value)))
            .map(|(key, value)| positive_integer(path, key, value))
            .transpose()?;
        let vocab_size = field("vocab_size")
            .map(|value| positive_integer(path, "vocab_size", value))
            .transpose()?;
        Ok(Self {
            hidden_size,
            vocab_size,
            tie_word_embeddings: optional_bool(path, &fields, "tie_word_embeddings")?
                .unwrap_or(true),
            model_type: optional_string(path, &fields, "model_type")?,
            architectures: string_list(path, &fields, "architectures")?,
            torch_dtype: optional_string(path, &fields, "torch_dtype")?
                .or(optional_string(path, &fields, "dtype")?),
        })
    }
}

/// What a static model's settings file says about `encode`: model2vec 0.10.0 reads `normalize`
/// and `max_length` from `config.json` (or `config_sentence_transformers.json` in the
/// sentence-transformers layouts), model.py:584-587.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StaticSettings {
    /// `normalize`, when the file sets it to true or false (`null` counts as unset).
    pub normalize: Option<bool>,
    /// Tokens kept per text: `max_length`, 512 when absent, `None` (no truncation) when `null`.
    pub max_length: Option<usize>,
}

/// model2vec's `DEFAULT_MAX_LENGTH` (model.py:27).
pub const DEFAULT_MAX_LENGTH: usize = 512;

impl StaticSettings {
    /// Reads the settings from the JSON object in `path`.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let fields = read_object(path)?;
        let max_length = match fields.get("max_length") {
            None => Some(DEFAULT_MAX_LENGTH),
            Some(Value::Null) => None,
            Some(value) => Some(positive_integer(path, "max_length", value)?),
        };
        Ok(Self {
            normalize: optional_bool(path, &fields, "normalize")?,
            max_length,
        })
    }
}

fn read_object(path: &Path) -> Result<Map<String, Value>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::io(path, &e))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| LoadError::new(path, format!("not valid JSON: {e}")))?;
    match value {
        Value::Object(fields) => Ok(fields),
        _ => Err(LoadError::new(path, "expected a JSON object")),
    }
}

fn positive_integer(path: &Path, key: &str, value: &Value) -> Result<usize, LoadError> {
    value
        .as_u64()
        .filter(|n| *n > 0)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            LoadError::new(
                path,
                format!("{key} must be a positive integer, got {value}"),
            )
        })
}

fn optional_bool(
    path: &Path,
    fields: &Map<String, Value>,
    key: &str,
) -> Result<Option<bool>, LoadError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(LoadError::new(
            path,
            format!("{key} must be true or false, got {other}"),
        )),
    }
}

fn optional_string(
    path: &Path,
    fields: &Map<String, Value>,
    key: &str,
) -> Result<Option<String>, LoadError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(LoadError::new(
            path,
            format!("{key} must be a string, got {other}"),
        )),
    }
}

fn string_list(
    path: &Path,
    fields: &Map<String, Value>,
    key: &str,
) -> Result<Vec<String>, LoadError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    LoadError::new(path, format!("{key} must be a list of strings, got {item}"))
                })
            })
            .collect(),
        Some(other) => Err(LoadError::new(
            path,
            format!("{key} must be a list of strings, got {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ModelConfig, LoadError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, json).expect("write");
        ModelConfig::load(&path)
    }

    #[test]
    fn reads_the_fields_and_tolerates_the_rest() {
        let config = parse(
            r#"{"hidden_size": 1536, "vocab_size": 151936, "tie_word_embeddings": true,
                "model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"],
                "torch_dtype": "bfloat16", "rope_scaling": null, "anything": [1, 2]}"#,
        )
        .expect("valid");
        assert_eq!(config.hidden_size, Some(1536));
        assert_eq!(config.vocab_size, Some(151936));
        assert_eq!(config.architectures, ["Qwen2ForCausalLM"]);
        assert_eq!(config.torch_dtype.as_deref(), Some("bfloat16"));
    }

    #[test]
    fn gpt2_and_multimodal_spellings_are_understood() {
        let gpt2 =
            parse(r#"{"n_embd": 768, "vocab_size": 50257, "model_type": "gpt2"}"#).expect("valid");
        assert_eq!(
            (gpt2.hidden_size, gpt2.tie_word_embeddings),
            (Some(768), true)
        );
        let gemma = parse(r#"{"model_type": "gemma3", "text_config": {"hidden_size": 640, "vocab_size": 262144}}"#)
            .expect("valid");
        assert_eq!(
            (gemma.hidden_size, gemma.vocab_size),
            (Some(640), Some(262144))
        );
    }

    #[test]
    fn static_settings_default_and_null_as_model2vec_reads_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        let settings = |json: &str| {
            std::fs::write(&path, json).expect("write");
            StaticSettings::load(&path)
        };
        let defaults = settings(r#"{"hidden_dim": 64}"#).expect("valid");
        assert_eq!((defaults.normalize, defaults.max_length), (None, Some(512)));
        let set = settings(r#"{"normalize": true, "max_length": null}"#).expect("valid");
        assert_eq!((set.normalize, set.max_length), (Some(true), None));
        let err = settings(r#"{"max_length": 0}"#).expect_err("refused");
        assert!(
            err.to_string().contains("max_length must be a positive"),
            "{err}"
        );
    }

    #[test]
    fn wrong_types_name_the_field() {
        let err = parse(r#"{"hidden_size": "big"}"#).expect_err("refused");
        assert!(
            err.to_string()
                .contains("hidden_size must be a positive integer"),
            "{err}"
        );
        let err =
            parse(r#"{"hidden_size": 8, "tie_word_embeddings": "yes"}"#).expect_err("refused");
        assert!(err.to_string().contains("tie_word_embeddings"), "{err}");
        let err = parse("[1]").expect_err("refused");
        assert!(err.to_string().contains("expected a JSON object"), "{err}");
        let err = parse("{").expect_err("refused");
        assert!(
            err.to_string().contains("config.json: not valid JSON"),
            "{err}"
        );
    }
}
