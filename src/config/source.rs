//! Where the settings come from, kept for reloads, and which of their changes a reload applies.

use std::path::PathBuf;

use super::{ConfigError, Settings};

/// The settings a reload applies: what is served. Any other change needs a restart.
const RELOADED_KEYS: &[&str] = &[
    "model_dir",
    "model_name",
    "embedding_tensor",
    "load_mode",
    "word2vec",
    "word2vec_format",
    "word2vec_limit",
    "word2vec_lossy_utf8",
    "models",
    "stores",
];

impl Settings {
    /// The keys whose value differs in `newer` but that a reload does not apply (limits, keys,
    /// the listen address...): they take effect at the next start.
    pub fn changes_needing_restart(&self, newer: &Settings) -> Vec<String> {
        let (Ok(old), Ok(new)) = (toml::Table::try_from(self), toml::Table::try_from(newer)) else {
            return Vec::new();
        };
        let mut keys: Vec<String> = old
            .keys()
            .chain(new.keys())
            .filter(|key| !RELOADED_KEYS.contains(&key.as_str()) && old.get(*key) != new.get(*key))
            .cloned()
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// Where the settings come from, kept so that a reload reads them again from the same sources.
#[derive(Debug, Clone)]
pub enum SettingsSource {
    /// Settings given whole (tests, programs embedding the service): a reload keeps them and
    /// reads the files they name again.
    Fixed(Box<Settings>),
    /// The settings file under the flags and environment variables captured at start.
    Layers {
        /// The file named by `--config`, or `None` for [`DEFAULT_CONFIG_FILE`](super::DEFAULT_CONFIG_FILE) when present.
        config_file: Option<PathBuf>,
        /// The flags and environment, as a table of setting names.
        overrides: toml::Table,
    },
}

impl SettingsSource {
    /// Resolves the settings (see [`Settings::load`]).
    pub fn load(&self) -> Result<Settings, ConfigError> {
        match self {
            Self::Fixed(settings) => Ok(settings.as_ref().clone()),
            Self::Layers {
                config_file,
                overrides,
            } => Settings::load(config_file.as_deref(), overrides),
        }
    }
}
