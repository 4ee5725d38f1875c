//! Input preparation (`src/input/mod.rs`) on a loaded model: texts give the same ids with and
//! without their tokens, the tokens only when asked for, and a cut text the tokens of the ids it
//! keeps.

use embedserve::input::{
    InputOptions, Inputs, Limits, PreparedInput, TruncationDirection, prepare,
};
use embedserve::model::EmbeddingModel;

use crate::common::{ModelSpec, write_model_dir};

/// The generated test model (a word-level tokenizer over `TEST_WORDS`), loaded, and the
/// directory that holds its memory-mapped weights.
fn test_model() -> (tempfile::TempDir, EmbeddingModel) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_model_dir(dir.path(), &ModelSpec::default());
    let model = EmbeddingModel::load(dir.path(), None, None).expect("model loads");
    (dir, model)
}

/// Limits that only `max_tokens` (per input) can reach.
fn limits(max_tokens: usize) -> Limits {
    Limits {
        max_batch: 4,
        max_tokens,
        max_total_tokens: 64,
        max_text_bytes: 1000,
        max_response_bytes: 1_000_000,
    }
}

/// Special tokens added, truncation from the right, tokens kept.
const OPTIONS: InputOptions = InputOptions {
    add_special_tokens: true,
    truncate: true,
    truncation_direction: TruncationDirection::Right,
    field: "inputs",
    with_tokens: true,
};

/// The tokens as the owned strings a prepared input holds.
fn owned(tokens: &[&str]) -> Vec<String> {
    tokens.iter().map(|t| (*t).to_owned()).collect()
}

#[test]
fn texts_carry_their_tokens_only_when_asked() {
    let (_dir, model) = test_model();
    let limits = limits(16);
    let ids_only = InputOptions {
        truncate: false,
        with_tokens: false,
        ..OPTIONS
    };
    let with_tokens = InputOptions {
        with_tokens: true,
        ..ids_only
    };
    let texts = || Inputs::Texts(vec!["Hello world".to_owned(), "the lazy dog !".to_owned()]);
    // [CLS] is 1 and [SEP] 2; `TEST_WORDS` follow from id 3 in their order ("!" is 16).
    let ids = [vec![1, 3, 4, 2], vec![1, 5, 11, 12, 16, 2]];
    let tokens = [
        vec!["[CLS]", "hello", "world", "[SEP]"],
        vec!["[CLS]", "the", "lazy", "dog", "!", "[SEP]"],
    ];
    let bare = prepare(&model, texts(), limits, ids_only).expect("prepared");
    let expected: Vec<PreparedInput> = ids
        .iter()
        .map(|ids| PreparedInput {
            ids: ids.clone(),
            tokens: None,
        })
        .collect();
    assert_eq!(bare, expected);
    let full = prepare(&model, texts(), limits, with_tokens).expect("prepared");
    let expected: Vec<PreparedInput> = ids
        .iter()
        .zip(&tokens)
        .map(|(ids, tokens)| PreparedInput {
            ids: ids.clone(),
            tokens: Some(owned(tokens)),
        })
        .collect();
    assert_eq!(full, expected);
}

#[test]
fn a_cut_text_keeps_the_tokens_of_the_ids_it_keeps() {
    let (_dir, model) = test_model();
    let limits = limits(3);
    let right = OPTIONS;
    let left = InputOptions {
        truncation_direction: TruncationDirection::Left,
        ..right
    };
    // "[CLS] the lazy dog [SEP]" cut to 3 tokens from either end.
    let text = || Inputs::Texts(vec!["the lazy dog".to_owned()]);
    for (options, ids, tokens) in [
        (right, [1, 5, 11], ["[CLS]", "the", "lazy"]),
        (left, [11, 12, 2], ["lazy", "dog", "[SEP]"]),
    ] {
        let expected = PreparedInput {
            ids: ids.to_vec(),
            tokens: Some(owned(&tokens)),
        };
        let bare = InputOptions {
            with_tokens: false,
            ..options
        };
        assert_eq!(prepare(&model, text(), limits, options), Ok(vec![expected]));
        let ids_only = prepare(&model, text(), limits, bare).expect("prepared");
        assert_eq!(ids_only[0].ids, ids);
    }
}
