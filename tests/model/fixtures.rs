//! The real fixtures: the Qwen2.5 tokenizer and the MiniLM bf16 model directory, checked against
//! what Python's `tokenizers` returns and against the safetensors bytes themselves.

use std::path::Path;

use embedserve::model::EmbeddingModel;
use safetensors::SafeTensors;

use crate::common::{qwen_value, shared_fixture, write_qwen_model};

#[derive(serde::Deserialize)]
struct Golden {
    text: String,
    add_special_tokens: bool,
    ids: Vec<u32>,
    tokens: Vec<String>,
    offsets: Vec<(usize, usize)>,
    special_tokens_mask: Vec<u8>,
}

fn goldens(path: &Path) -> Vec<Golden> {
    let text = std::fs::read_to_string(path).expect("golden file");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("golden line"))
        .collect()
}

/// Compares every golden line, minus the `[PAD]` tail that a tokenizer.json with stored padding
/// adds in Python: embedserve switches stored padding off on purpose.
fn check_goldens(model: &EmbeddingModel, golden_file: &Path) {
    let goldens = goldens(golden_file);
    assert!(goldens.len() >= 20, "too few golden lines");
    for golden in goldens {
        let padding = golden
            .tokens
            .iter()
            .rev()
            .take_while(|t| *t == "[PAD]")
            .count();
        let keep = golden.ids.len() - padding;
        let got = model
            .tokenizer
            .encode(&golden.text, golden.add_special_tokens)
            .expect("encodes");
        let context = format!(
            "{:?} (special tokens: {})",
            golden.text, golden.add_special_tokens
        );
        assert_eq!(got.ids, golden.ids[..keep], "ids of {context}");
        assert_eq!(got.tokens, golden.tokens[..keep], "tokens of {context}");
        assert_eq!(got.offsets, golden.offsets[..keep], "offsets of {context}");
        let special: Vec<bool> = golden.special_tokens_mask[..keep]
            .iter()
            .map(|&m| m == 1)
            .collect();
        assert_eq!(got.special, special, "special mask of {context}");
    }
}

#[test]
fn qwen_tokenizer_matches_python_and_hi_nihao_gathers_five_rows() {
    let Some(fixture) = shared_fixture("qwen2.5-1.5b-instruct-tokenizer") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    write_qwen_model(dir.path(), &fixture, 16);
    let model = EmbeddingModel::load(dir.path(), None, None).expect("Qwen-shaped model loads");
    assert_eq!(model.matrix.rows(), 151_936);
    assert!((151_643..=151_936).contains(&model.tokenizer.vocab_size()));
    check_goldens(&model, &fixture.join("tokenize.golden.jsonl"));

    let tokens = model.tokenizer.encode("Hi, 你好~", false).expect("encodes");
    assert_eq!(tokens.ids, [13048, 11, 220, 108386, 93]);
    assert_eq!(tokens.tokens, ["Hi", ",", "Ġ", "ä½łå¥½", "~"]);
    let rows = model.matrix.gather(&tokens.ids);
    assert_eq!(rows.dim(), (5, 16));
    for (i, &id) in tokens.ids.iter().enumerate() {
        for col in 0..16 {
            assert_eq!(
                rows[[i, col]].to_bits(),
                qwen_value(id as usize, col, 16).to_bits()
            );
        }
    }
    // Every row is its own, so a gather from any wrong row fails the checks above and below.
    let all: Vec<u32> = (0..151_936).collect();
    let rows = model.matrix.gather(&all);
    let mut seen = std::collections::HashSet::new();
    for (id, row) in rows.outer_iter().enumerate() {
        let row: Vec<u32> = row.iter().map(|v| v.to_bits()).collect();
        let want: Vec<u32> = (0..16).map(|c| qwen_value(id, c, 16).to_bits()).collect();
        assert_eq!(row, want, "row {id}");
        assert!(seen.insert(row), "row {id} repeats an earlier row");
    }
}

#[test]
fn minilm_tokenizer_matches_python_and_rows_equal_the_safetensors_bytes() {
    let Some(dir) = shared_fixture("all-minilm-l6-v2-bf16") else {
        return;
    };
    let model = EmbeddingModel::load(&dir, None, None).expect("MiniLM loads");
    assert_eq!(model.matrix.tensor(), "embeddings.word_embeddings.weight");
    assert_eq!((model.matrix.rows(), model.matrix.cols()), (30_522, 384));
    check_goldens(&model, &dir.join("tokenize.golden.jsonl"));

    let bytes = std::fs::read(dir.join("model.safetensors")).expect("weights");
    let file = SafeTensors::deserialize(&bytes).expect("valid safetensors");
    let tensor = file
        .tensor("embeddings.word_embeddings.weight")
        .expect("tensor");
    let ids = [0u32, 101, 102, 1996, 7592, 30_521];
    let rows = model.matrix.gather(&ids);
    for (i, &id) in ids.iter().enumerate() {
        let start = id as usize * 384 * 2;
        let raw = &tensor.data()[start..start + 384 * 2];
        for (col, pair) in raw.chunks_exact(2).enumerate() {
            let want = f32::from_bits(u32::from(u16::from_le_bytes([pair[0], pair[1]])) << 16);
            assert_eq!(
                rows[[i, col]].to_bits(),
                want.to_bits(),
                "row {id} col {col}"
            );
        }
    }
}
