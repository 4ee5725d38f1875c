//! Which kind of model a directory holds, told from its files, and where that kind keeps them.
//!
//! The order follows model2vec 0.10.0's `FOLDER_LAYOUTS` (persistence/datamodels.py:29-51), which
//! tries a model2vec directory first, then the two sentence-transformers layouts, with one
//! refinement: a `config.json` makes a model2vec model only when its `model_type` is `model2vec`,
//! so every transformer directory keeps loading exactly as before.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{LoadError, ModelConfig, WEIGHTS_FILE, weights};

/// What a model directory holds, reported in `/info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// A Hugging Face transformer: embedserve serves its input-embedding rows.
    Transformer,
    /// A model2vec static model (`config.json` with `model_type: model2vec`).
    Model2vec,
    /// A sentence-transformers `StaticEmbedding` model (`embedding.weight`).
    SentenceTransformersStatic,
}

impl ModelKind {
    /// The name used in responses and logs (`transformer`, `model2vec`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Transformer => "transformer",
            Self::Model2vec => "model2vec",
            Self::SentenceTransformersStatic => "sentence_transformers_static",
        }
    }

    /// Whether the model is a static-embedding model (a sentence vector is a mean of rows).
    pub fn is_static(self) -> bool {
        self != Self::Transformer
    }
}

/// Where the files of a static model are.
#[derive(Debug)]
pub(super) struct StaticLayout {
    /// model2vec or sentence-transformers.
    pub kind: ModelKind,
    /// The safetensors file with the vectors (and `mapping`, `weights`).
    pub weights: PathBuf,
    /// Name of the vector tensor in it.
    pub tensor: &'static str,
    /// The tokenizer.
    pub tokenizer: PathBuf,
    /// The JSON file holding `normalize` and `max_length`.
    pub settings: PathBuf,
    /// Whether `modules.json` lists a `Normalize` module after the static one.
    pub normalize_module: bool,
}

/// The sentence-transformers settings file.
const ST_CONFIG: &str = "config_sentence_transformers.json";
/// The sentence-transformers module list.
const MODULES: &str = "modules.json";
/// The tensor of a sentence-transformers `StaticEmbedding`.
const ST_TENSOR: &str = "embedding.weight";

/// The static layout of `dir` and, for a model2vec model, its parsed `config.json`; `None` for a
/// transformer directory.
pub(super) fn detect(dir: &Path) -> Result<Option<(StaticLayout, ModelConfig)>, LoadError> {
    let config_path = dir.join("config.json");
    if config_path.is_file() {
        let config = ModelConfig::load(&config_path)?;
        if config.model_type.as_deref() == Some("model2vec") {
            let layout = StaticLayout {
                kind: ModelKind::Model2vec,
                weights: dir.join(WEIGHTS_FILE),
                tensor: "embeddings",
                tokenizer: dir.join("tokenizer.json"),
                settings: config_path,
                // model2vec reads `normalize` from config.json alone; its modules.json is written
                // from that same flag (persistence.py:70-76), so it adds nothing.
                normalize_module: false,
            };
            return Ok(Some((layout, config)));
        }
    }
    if !dir.join(ST_CONFIG).is_file() {
        return Ok(None);
    }
    let Some((module_dir, index)) = static_module_dir(dir)? else {
        return Ok(None);
    };
    let layout = StaticLayout {
        kind: ModelKind::SentenceTransformersStatic,
        weights: module_dir.join(WEIGHTS_FILE),
        tensor: ST_TENSOR,
        tokenizer: module_dir.join("tokenizer.json"),
        settings: dir.join(ST_CONFIG),
        normalize_module: modules_normalize(dir, index)?,
    };
    Ok(Some((layout, ModelConfig::default())))
}

/// One entry of `modules.json`.
#[derive(serde::Deserialize)]
struct Module {
    #[serde(default)]
    idx: Option<usize>,
    #[serde(default)]
    path: String,
    #[serde(rename = "type", default)]
    kind: String,
}

fn read_modules(dir: &Path) -> Result<Option<Vec<Module>>, LoadError> {
    let path = dir.join(MODULES);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| LoadError::io(&path, &e))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| LoadError::new(&path, format!("not a valid module list: {e}")))
}

/// The directory of the `StaticEmbedding` module and its position: the one `modules.json` lists,
/// else the root or `0_StaticEmbedding/`, whichever holds `embedding.weight` (the library's two
/// layouts). `None` when the directory is a sentence-transformers transformer instead.
fn static_module_dir(dir: &Path) -> Result<Option<(PathBuf, usize)>, LoadError> {
    if let Some(modules) = read_modules(dir)? {
        let Some((position, module)) = modules
            .iter()
            .enumerate()
            .find(|(_, m)| m.kind.ends_with("StaticEmbedding"))
        else {
            return Ok(None);
        };
        let relative = Path::new(&module.path);
        if relative.is_absolute() || module.path.contains("..") {
            return Err(LoadError::new(
                &dir.join(MODULES),
                format!(
                    "module path {:?} must stay inside the model directory",
                    module.path
                ),
            ));
        }
        return Ok(Some((dir.join(relative), module.idx.unwrap_or(position))));
    }
    for candidate in [dir.to_owned(), dir.join("0_StaticEmbedding")] {
        let file = candidate.join(WEIGHTS_FILE);
        if file.is_file() {
            let map = weights::map_file(&file)?;
            if weights::tensor_names(&file, &map)?
                .iter()
                .any(|n| n == ST_TENSOR)
            {
                return Ok(Some((candidate, 0)));
            }
        }
    }
    Ok(None)
}

/// Whether `modules.json` lists a `Normalize` module after position `after`.
fn modules_normalize(dir: &Path, after: usize) -> Result<bool, LoadError> {
    let modules = read_modules(dir)?.unwrap_or_default();
    Ok(modules.iter().enumerate().any(|(position, module)| {
        module.idx.unwrap_or(position) > after && module.kind.ends_with(".Normalize")
    }))
}
