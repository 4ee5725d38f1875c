//! Helpers shared by the integration test binaries.
#![allow(dead_code)]

use std::path::PathBuf;

/// Path of a file or folder under `../shared/fixtures` (the real models and reference answers).
///
/// Returns `None`, after saying so on stderr, when the fixtures are absent (a fresh clone);
/// with `EMBEDSERVE_REQUIRE_FIXTURES=1` (set by `.ci/run`) their absence fails the test instead.
pub fn shared_fixture(relative: &str) -> Option<PathBuf> {
    let root = std::env::var_os("EMBEDSERVE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"));
    let path = root.join(relative);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("EMBEDSERVE_REQUIRE_FIXTURES").is_ok_and(|v| v == "1") {
        panic!("required fixture {} is missing", path.display());
    }
    eprintln!("skipping: fixture {} is absent", path.display());
    None
}

/// The files of `fuzz/<folder>/<target>` (`seeds` or `regressions` of a fuzz target), sorted;
/// there must be some.
pub fn fuzz_inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(folder)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    files
}

use std::path::Path;

use safetensors::Dtype;
use safetensors::tensor::TensorView;

/// Words of the generated test tokenizer, after its special tokens `[UNK]`, `[CLS]`, `[SEP]`.
pub const TEST_WORDS: &[&str] = &[
    "hello", "world", "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "python",
    "machine", "learning", "!", ",", ".",
];

/// Vocabulary size of the generated tokenizer (special tokens included).
pub fn test_vocab_size() -> usize {
    TEST_WORDS.len() + 3
}

/// A `tokenizer.json` for a lower-casing, whitespace-splitting word-level tokenizer with
/// `[CLS] ... [SEP]` special tokens. It stores truncation at 4 tokens, which the loader must undo.
pub fn test_tokenizer_json() -> String {
    let mut vocab = serde_json::Map::new();
    for (id, word) in ["[UNK]", "[CLS]", "[SEP]"]
        .iter()
        .chain(TEST_WORDS)
        .enumerate()
    {
        vocab.insert((*word).to_owned(), id.into());
    }
    let added = |id: u32, content: &str| {
        serde_json::json!({"id": id, "content": content, "single_word": false, "lstrip": false,
            "rstrip": false, "normalized": false, "special": true})
    };
    let special =
        |name: &str, id: u32| serde_json::json!({"id": name, "ids": [id], "tokens": [name]});
    serde_json::json!({
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": 4, "strategy": "LongestFirst", "stride": 0},
        "padding": null,
        "added_tokens": [added(0, "[UNK]"), added(1, "[CLS]"), added(2, "[SEP]")],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"[CLS]": special("[CLS]", 1), "[SEP]": special("[SEP]", 2)}
        },
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}
    })
    .to_string()
}

/// The value the generated matrices hold (before rounding to their dtype) at `row`, `col`.
pub fn test_value(row: usize, col: usize) -> f32 {
    let x = (row * 131 + col * 17) as f32;
    (x * 0.618_034).sin() * (1.0 + (row % 7) as f32) / 3.0
}

/// `value` rounded to `dtype` and widened back to f32: what the server must return.
pub fn stored(dtype: Dtype, value: f32) -> f32 {
    match dtype {
        Dtype::BF16 => half::bf16::from_f32(value).to_f32(),
        Dtype::F16 => half::f16::from_f32(value).to_f32(),
        _ => value,
    }
}

/// Little-endian bytes of a `rows x cols` matrix of [`test_value`]s in `dtype`.
pub fn matrix_bytes(dtype: Dtype, rows: usize, cols: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(rows * cols * 4);
    for row in 0..rows {
        for col in 0..cols {
            let value = test_value(row, col);
            match dtype {
                Dtype::BF16 => bytes.extend_from_slice(&half::bf16::from_f32(value).to_le_bytes()),
                Dtype::F16 => bytes.extend_from_slice(&half::f16::from_f32(value).to_le_bytes()),
                _ => bytes.extend_from_slice(&value.to_le_bytes()),
            }
        }
    }
    bytes
}

/// Writes a safetensors file holding `tensors` (name, dtype, shape, bytes).
pub fn write_safetensors(path: &Path, tensors: &[(&str, Dtype, Vec<usize>, &[u8])]) {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            let view = TensorView::new(*dtype, shape.clone(), data).expect("consistent tensor");
            ((*name).to_owned(), view)
        })
        .collect();
    safetensors::tensor::serialize_to_file(views, None, path).expect("safetensors written");
}

/// What a generated model directory looks like.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// Stored dtype of the embedding matrix.
    pub dtype: Dtype,
    /// Rows of the matrix (at least [`test_vocab_size`]).
    pub rows: usize,
    /// Width of the matrix and `hidden_size`.
    pub dim: usize,
    /// Name of the embedding tensor.
    pub tensor: &'static str,
    /// Split the weights over two shards with an index.
    pub sharded: bool,
}

impl Default for ModelSpec {
    fn default() -> Self {
        Self {
            dtype: Dtype::BF16,
            rows: 24,
            dim: 8,
            tensor: "model.embed_tokens.weight",
            sharded: false,
        }
    }
}

/// Writes a complete small model directory (config, tokenizer, weights) into `dir`.
pub fn write_model_dir(dir: &Path, spec: &ModelSpec) {
    std::fs::create_dir_all(dir).expect("model dir");
    let config = serde_json::json!({
        "architectures": ["TestForCausalLM"], "model_type": "test", "hidden_size": spec.dim,
        "vocab_size": spec.rows, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
        "num_hidden_layers": 1, "rope_scaling": null
    });
    std::fs::write(dir.join("config.json"), config.to_string()).expect("config.json");
    std::fs::write(dir.join("tokenizer.json"), test_tokenizer_json()).expect("tokenizer.json");
    let matrix = matrix_bytes(spec.dtype, spec.rows, spec.dim);
    let norm = vec![0u8; spec.dim * 4];
    if spec.sharded {
        write_safetensors(
            &dir.join("model-00001-of-00002.safetensors"),
            &[("model.norm.weight", Dtype::F32, vec![spec.dim], &norm)],
        );
        write_safetensors(
            &dir.join("model-00002-of-00002.safetensors"),
            &[(spec.tensor, spec.dtype, vec![spec.rows, spec.dim], &matrix)],
        );
        let index = serde_json::json!({
            "metadata": {"total_size": matrix.len() + norm.len()},
            "weight_map": {"model.norm.weight": "model-00001-of-00002.safetensors",
                           spec.tensor: "model-00002-of-00002.safetensors"}
        });
        std::fs::write(dir.join("model.safetensors.index.json"), index.to_string()).expect("index");
    } else {
        write_safetensors(
            &dir.join("model.safetensors"),
            &[
                (spec.tensor, spec.dtype, vec![spec.rows, spec.dim], &matrix),
                ("model.norm.weight", Dtype::F32, vec![spec.dim], &norm),
            ],
        );
    }
}

/// A Qwen-shaped model directory around the real tokenizer: the real config with a narrow
/// hidden size, and a 151936-row bf16 matrix.
pub fn write_qwen_model(dir: &Path, fixture: &Path, hidden: usize) {
    std::fs::create_dir_all(dir).expect("model dir");
    std::fs::copy(fixture.join("tokenizer.json"), dir.join("tokenizer.json"))
        .expect("copy tokenizer");
    let mut config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.join("config.json")).expect("config"),
    )
    .expect("json");
    config["hidden_size"] = hidden.into();
    std::fs::write(dir.join("config.json"), config.to_string()).expect("config");
    let rows = 151_936;
    let data: Vec<u8> = (0..rows)
        .flat_map(|id| qwen_row_bytes(id, hidden))
        .collect();
    write_safetensors(
        &dir.join("model.safetensors"),
        &[(
            "model.embed_tokens.weight",
            Dtype::BF16,
            vec![rows, hidden],
            &data,
        )],
    );
}

/// The value [`write_qwen_model`] stores at `id`, `col` for a matrix `hidden` (at least 2)
/// wide. No two rows are equal, so a gather from a wrong row never passes: column 0 holds the
/// id's low 11 bits, column 1 the rest (ids are below 2^22), and the other columns a hash of
/// the id and column, so neighbouring rows differ everywhere.
pub fn qwen_value(id: usize, col: usize, hidden: usize) -> f32 {
    assert!(
        hidden >= 2 && id < 1 << 22,
        "row {id} of a {hidden}-wide matrix"
    );
    let code = match col {
        0 => id & 0x7ff,
        1 => id >> 11,
        _ => {
            ((((id * hidden + col) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 53) & 0x7ff)
                as usize
        }
    };
    distinct_bf16(code)
}

/// The little-endian bf16 bytes of row `id` of [`write_qwen_model`]'s matrix.
pub fn qwen_row_bytes(id: usize, hidden: usize) -> Vec<u8> {
    (0..hidden)
        .flat_map(|col| half::bf16::from_f32(qwen_value(id, col, hidden)).to_le_bytes())
        .collect()
}

/// One of 2048 distinct finite, non-zero bf16 values for an 11-bit `code`: its sign, eight
/// exponents (1/8 to 16) and 128 mantissas, so each code is its own value.
fn distinct_bf16(code: usize) -> f32 {
    let sign = ((code >> 10) & 1) as u16;
    let exponent = 124 + ((code >> 7) & 7) as u16;
    let mantissa = (code & 0x7f) as u16;
    half::bf16::from_bits(sign << 15 | exponent << 7 | mantissa).to_f32()
}
