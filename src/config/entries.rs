//! Named models and stores in the settings: `[[models]]` and `[[stores]]` tables of the settings
//! file, `NAME=PATH` lists in flags and environment variables.

use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{ConfigError, StoreFormatSetting};

/// One named model: `[[models]] name = "potion"  path = "/models/potion-base-8M"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// The name requests select it by (`"model"`) and responses report.
    pub name: String,
    /// The Hugging Face or static-embedding model directory.
    pub path: PathBuf,
    /// Name of the input-embedding tensor; by default it is found by the names real models use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_tensor: Option<String>,
}

/// One named word2vec store: `[[stores]] name = "en"  path = "/models/en.bin"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreEntry {
    /// The name requests select it by (`store`) and responses report.
    pub name: String,
    /// The store file.
    pub path: PathBuf,
    /// Its format; by default `word2vec_format`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<StoreFormatSetting>,
}

/// A `NAME=PATH` value of a flag or environment variable that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not NAME=PATH (a name of letters, digits, '.', '_', '-' or ':', then '=' and the path)"
)]
pub struct NotNamedPath(pub String);

/// Splits `NAME=PATH` when the part before the first `=` is a valid name, so `/data/a=b.bin`
/// (a `/` before the `=`) stays a path.
pub fn split_named(value: &str) -> Option<(&str, &str)> {
    let (name, path) = value.split_once('=')?;
    (is_valid_name(name) && !path.is_empty()).then_some((name, path))
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
}

impl FromStr for ModelEntry {
    type Err = NotNamedPath;

    /// Reads `NAME=DIR`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let (name, path) = split_named(value).ok_or_else(|| NotNamedPath(value.to_owned()))?;
        Ok(Self {
            name: name.to_owned(),
            path: path.into(),
            embedding_tensor: None,
        })
    }
}

impl FromStr for StoreEntry {
    type Err = NotNamedPath;

    /// Reads `NAME=PATH`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let (name, path) = split_named(value).ok_or_else(|| NotNamedPath(value.to_owned()))?;
        Ok(Self {
            name: name.to_owned(),
            path: path.into(),
            format: None,
        })
    }
}

/// Refuses an invalid or repeated name in the `setting` list: a request could not tell the two
/// apart.
pub(super) fn unique_names<'a>(
    setting: &str,
    names: impl Iterator<Item = &'a str>,
) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        let problem = if !is_valid_name(name) {
            "is not a valid name (letters, digits, '.', '_', '-' or ':')"
        } else if !seen.insert(name) {
            "is given twice"
        } else {
            continue;
        };
        return Err(ConfigError::Invalid {
            origin: "settings".to_owned(),
            message: format!("{setting}: {name:?} {problem}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_paths_split_at_a_valid_name_only() {
        assert_eq!(split_named("en=/m/en.bin"), Some(("en", "/m/en.bin")));
        assert_eq!(split_named("qwen-1.5:b=d=e"), Some(("qwen-1.5:b", "d=e")));
        assert_eq!(split_named("/data/a=b.bin"), None);
        assert_eq!(split_named("=x"), None);
        assert_eq!(split_named("en="), None);
        assert_eq!(split_named("plain.bin"), None);
        let entry: ModelEntry = "potion=/m/potion".parse().expect("named");
        assert_eq!(
            (entry.name.as_str(), entry.path),
            ("potion", "/m/potion".into())
        );
        assert!("nope".parse::<StoreEntry>().is_err());
        assert!(unique_names("models", ["a", "b"].into_iter()).is_ok());
        let twice = unique_names("models", ["a", "a"].into_iter()).expect_err("repeated");
        assert!(
            twice.to_string().contains("\"a\" is given twice"),
            "{twice}"
        );
        assert!(unique_names("stores", ["a b"].into_iter()).is_err());
    }
}
