//! fastText `.bin` models and GloVe files against gensim 4.4.0's answers (and fastText's own
//! `get_word_vector`), made by tests/fixtures/make_fasttext_reference.py on the committed models in
//! tests/fixtures/fasttext/; and every malformed model the reader names.

use std::fs;
use std::path::{Path, PathBuf};

use embedserve::word2vec::query::{QueryError, SearchOptions};
use embedserve::word2vec::store::{
    LoadOptions, Location, Problem, StoreError, StoreFormat, WordVectors, write_store,
};
use serde_json::Value;

use crate::query::{assert_matches, strings};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fasttext")
        .join(name)
}

fn reference() -> Value {
    serde_json::from_slice(&fs::read(fixture("reference.json")).unwrap()).unwrap()
}

/// A JSON array of numbers as f32s (a reference vector).
pub fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn assert_close(ours: &[f32], expected: &[f32], tolerance: f32, what: &str) {
    assert_eq!(ours.len(), expected.len(), "{what}: length");
    for (i, (a, b)) in ours.iter().zip(expected).enumerate() {
        assert!((a - b).abs() <= tolerance, "{what}[{i}]: {a} vs {b}");
    }
}

fn load(path: &Path) -> WordVectors {
    WordVectors::load(path, &LoadOptions::default()).unwrap()
}

#[test]
fn fasttext_models_match_gensim() {
    let reference = reference();
    for model in reference["models"].as_array().unwrap() {
        let name = model["file"].as_str().unwrap();
        let store = load(&fixture(name));
        assert_eq!(store.format(), Some(StoreFormat::FastText), "{name}");
        assert_eq!(store.dim() as u64, model["dim"].as_u64().unwrap());
        assert_eq!(store.len() as u64, model["words"].as_u64().unwrap());
        assert_eq!(
            store.words().take(5).collect::<Vec<_>>()[..],
            strings(&model["first_words"])[..]
        );
        let settings = store.subwords().expect("a subword store").settings();
        assert_eq!(settings.min_n as u64, model["min_n"].as_u64().unwrap());
        assert_eq!(settings.max_n as u64, model["max_n"].as_u64().unwrap());
        assert_eq!(settings.buckets as u64, model["bucket"].as_u64().unwrap());
        for probe in model["vectors"].as_array().unwrap() {
            let word = probe["word"].as_str().unwrap();
            let found = store.lookup(word).unwrap();
            let what = format!("{name} {word:?}");
            assert_eq!(
                found.index.is_some(),
                probe["in_vocabulary"].as_bool().unwrap(),
                "{what}"
            );
            assert_close(&found.vector, &floats(&probe["vector"]), 1e-6, &what);
            assert_close(&found.unit, &floats(&probe["unit"]), 1e-6, &what);
        }
        // fastText's own answers, when the generator had the `fasttext` package.
        for probe in model["fasttext_get_word_vector"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let word = probe["word"].as_str().unwrap();
            let found = store.lookup(word).unwrap();
            let what = format!("{name} fastText get_word_vector({word:?})");
            assert_close(&found.vector, &floats(&probe["vector"]), 1e-6, &what);
        }
        for case in model["most_similar"].as_array().unwrap() {
            let (positive, negative) = (strings(&case["positive"]), strings(&case["negative"]));
            let options = SearchOptions {
                topn: case["topn"].as_u64().unwrap() as usize,
                ..SearchOptions::default()
            };
            let ours = store.most_similar(&positive, &negative, &options).unwrap();
            let what = format!("{name} most_similar({positive:?}, {negative:?})");
            assert_matches(&ours, &case["result"], &what);
        }
        for case in model["similarity"].as_array().unwrap() {
            let (a, b) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
            let score = store.similarity(a, b).unwrap();
            let expected = case[2].as_f64().unwrap() as f32;
            assert!(
                (score - expected).abs() < 1e-5,
                "{name} similarity({a}, {b})"
            );
        }
        for case in model["doesnt_match"].as_array().unwrap() {
            let words = strings(&case["words"]);
            assert_eq!(
                store.doesnt_match(&words).unwrap(),
                case["result"].as_str().unwrap(),
                "{name} doesnt_match({words:?})"
            );
        }
    }
}

#[test]
fn glove_file_matches_gensim_no_header() {
    let expected = &reference()["glove"];
    let store = load(&fixture("test_glove.txt"));
    assert_eq!(store.format(), Some(StoreFormat::Glove));
    assert!(store.subwords().is_none());
    assert_eq!(store.dim() as u64, expected["dim"].as_u64().unwrap());
    assert_eq!(store.len() as u64, expected["words"].as_u64().unwrap());
    assert_eq!(
        store.words().take(5).collect::<Vec<_>>()[..],
        strings(&expected["first_words"])[..]
    );
    for probe in expected["vectors"].as_array().unwrap() {
        let word = probe["word"].as_str().unwrap();
        // Both parse each decimal to the nearest f32: equal to the bit.
        assert_eq!(
            *store.lookup(word).unwrap().vector,
            floats(&probe["vector"])
        );
    }
    for case in expected["most_similar"].as_array().unwrap() {
        let options = SearchOptions {
            topn: case["topn"].as_u64().unwrap() as usize,
            ..SearchOptions::default()
        };
        let ours = store
            .most_similar(&strings(&case["positive"]), &[] as &[&str], &options)
            .unwrap();
        assert_matches(&ours, &case["result"], "GloVe most_similar");
    }
    // A word outside a store without subwords stays unknown.
    assert_eq!(
        store.lookup("goverment"),
        Err(QueryError::UnknownWord("goverment".into()))
    );
}

/// Loads `bytes` as a file; the location and problem of the failure.
fn malformed(bytes: &[u8], options: &LoadOptions) -> (Location, Problem) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.bin");
    fs::write(&path, bytes).unwrap();
    match WordVectors::load(&path, options) {
        Err(StoreError::Malformed {
            location, problem, ..
        }) => (location, problem),
        other => panic!("expected a malformed-store error, got {other:?}"),
    }
}

fn patched(bytes: &[u8], offset: usize, value: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[offset..offset + value.len()].copy_from_slice(value);
    out
}

/// Byte offsets in the header: magic, version, then the i32 arguments from `dim`, `t`, and the
/// dictionary's `size`, `nwords`, `nlabels`, `ntokens` and `pruneidx_size`.
const BUCKET: usize = 8 + 8 * 4;
const MINN: usize = 8 + 9 * 4;
const NLABELS: usize = 8 + 12 * 4 + 8 + 8;
const PRUNEIDX_SIZE: usize = NLABELS + 4 + 8;

#[test]
fn malformed_fasttext_files_name_the_offset() {
    let bytes = fs::read(fixture("toy-model.bin")).unwrap();
    let auto = LoadOptions::default();
    // Cut anywhere: a clean truncation error, never a panic.
    for cut in [0, 3, 7, 20, 70, 100, 1000, bytes.len() - 1] {
        let (location, problem) = malformed(&bytes[..cut], &auto_fasttext());
        assert!(
            matches!(problem, Problem::Truncated { .. }),
            "cut at {cut}: {location}: {problem}"
        );
    }
    // Cut inside the first word (at byte 92): no NUL ends it.
    assert_eq!(
        malformed(&bytes[..94], &auto),
        (
            Location::Byte(92),
            Problem::Truncated {
                what: "a dictionary word (no NUL terminator)",
                needed: 3,
                available: 2
            }
        )
    );
    let mut trailing = bytes.clone();
    trailing.extend([0; 3]);
    assert_eq!(
        malformed(&trailing, &auto),
        (
            Location::Byte(bytes.len() as u64),
            Problem::TrailingBytes(3)
        )
    );
    // The dictionary's `size` must equal its `nwords` (22) when there are no labels.
    assert_eq!(
        malformed(&patched(&bytes, NLABELS - 8, &23i32.to_le_bytes()), &auto),
        (
            Location::Byte(NLABELS as u64 - 8),
            Problem::BadField {
                field: "dictionary size (must equal nwords)",
                value: 23
            }
        )
    );
    // A pruned dictionary (`pruneidx_size` > 0) is a quantized model's; 0 and -1 are not.
    assert_eq!(
        malformed(&patched(&bytes, PRUNEIDX_SIZE, &5i64.to_le_bytes()), &auto),
        (
            Location::Byte(PRUNEIDX_SIZE as u64),
            Problem::Unsupported("a pruned dictionary (a quantized .ftz model)".into())
        )
    );
    let unpruned = patched(&bytes, PRUNEIDX_SIZE, &0i64.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("unpruned.bin"), unpruned).unwrap();
    let full = load(&fixture("toy-model.bin"));
    let store = load(&dir.path().join("unpruned.bin"));
    assert_eq!(store.matrix(), full.matrix());
    assert_eq!(
        malformed(&patched(&bytes, 4, &13i32.to_le_bytes()), &auto),
        (
            Location::Byte(4),
            Problem::Unsupported("format version 13".into())
        )
    );
    assert_eq!(
        malformed(&patched(&bytes, NLABELS, &2i32.to_le_bytes()), &auto),
        (
            Location::Byte(NLABELS as u64),
            Problem::Unsupported("a supervised model (2 labels)".into())
        )
    );
    assert_eq!(
        malformed(&patched(&bytes, MINN, &(-1i32).to_le_bytes()), &auto),
        (
            Location::Byte(MINN as u64),
            Problem::BadField {
                field: "minn",
                value: -1
            }
        )
    );
    // A text store read as fastText by request.
    assert_eq!(
        malformed(b"1 2\na 1 2\n", &auto_fasttext()),
        (
            Location::Byte(0),
            Problem::BadMagic(i32::from_le_bytes(*b"1 2\n"))
        )
    );
}

#[test]
fn quantized_ftz_models_are_refused() {
    let bytes = fs::read(fixture("toy-model.bin")).unwrap();
    // The quantized flag of the input matrix follows the dictionary: find it as the byte after
    // the last entry, which is where the unquantized matrix's rows and columns begin.
    let store = load(&fixture("toy-model.bin"));
    let rows = (store.len() + store.subwords().unwrap().settings().buckets) as u64;
    let shape: Vec<u8> = [rows.to_le_bytes(), (store.dim() as u64).to_le_bytes()].concat();
    let flag = bytes.windows(16).position(|w| w == shape).unwrap() - 1;
    let (location, problem) = malformed(&patched(&bytes, flag, &[1]), &LoadOptions::default());
    assert_eq!(location, Location::Byte(flag as u64));
    assert_eq!(
        problem,
        Problem::Unsupported("a quantized input matrix (a .ftz model)".into())
    );
}

#[test]
fn a_model_without_buckets_serves_its_stored_rows() {
    let bytes = fs::read(fixture("toy-model.bin")).unwrap();
    let full = load(&fixture("toy-model.bin"));
    let buckets = full.subwords().unwrap().settings().buckets;
    let (words, dim) = (full.len(), full.dim());
    // `bucket` 0, and the input matrix cut to the word rows: a model with no n-gram table.
    let shape: Vec<u8> = [
        ((words + buckets) as u64).to_le_bytes(),
        (dim as u64).to_le_bytes(),
    ]
    .concat();
    let at = bytes.windows(16).position(|w| w == shape).unwrap();
    let rows = at + 16;
    let mut cut = patched(&bytes, BUCKET, &0i32.to_le_bytes());
    cut[at..at + 8].copy_from_slice(&(words as u64).to_le_bytes());
    cut.drain(rows + words * dim * 4..rows + (words + buckets) * dim * 4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-buckets.bin");
    fs::write(&path, cut).unwrap();
    let store = load(&path);
    assert!(store.subwords().is_none());
    assert!(store.words().eq(full.words()));
    // Each word's vector is its stored row, with nothing composed into it.
    let stored: Vec<f32> = bytes[rows..rows + words * dim * 4]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(store.matrix(), &stored[..]);
    assert_ne!(full.matrix(), &stored[..]);
    assert_eq!(
        store.lookup("abcdef"),
        Err(QueryError::UnknownWord("abcdef".into()))
    );
}

fn auto_fasttext() -> LoadOptions {
    LoadOptions {
        format: Some(StoreFormat::FastText),
        ..LoadOptions::default()
    }
}

#[test]
fn words_without_ngrams_are_unknown_and_limit_keeps_the_first_words() {
    let bytes = fs::read(fixture("toy-model.bin")).unwrap();
    // minn 5, maxn 6: "ab" (`<ab>`, 4 characters) has no n-gram.
    let long = patched(&bytes, MINN, &5i32.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.bin");
    fs::write(&path, long).unwrap();
    let store = load(&path);
    assert_eq!(
        store.lookup("ab"),
        Err(QueryError::UnknownWord("ab".into()))
    );
    assert!(store.lookup("abcdef").unwrap().index.is_none());
    assert_eq!(
        store.similarity("ab", "the"),
        Err(QueryError::UnknownWord("ab".into()))
    );
    assert_eq!(store.doesnt_match(&["ab", "the", "of"]).unwrap(), "of");

    let full = load(&fixture("toy-model.bin"));
    let limited = WordVectors::load(
        &fixture("toy-model.bin"),
        &LoadOptions {
            limit: Some(3),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        limited.words().collect::<Vec<_>>(),
        full.words().take(3).collect::<Vec<_>>()
    );
    assert_eq!(limited.vector(2), full.vector(2));
    // Words past the limit still get their n-gram vector.
    let fourth = full.word(3).unwrap();
    assert!(limited.lookup(fourth).unwrap().index.is_none());
}

#[test]
fn glove_detection_errors_and_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("glove.txt");
    fs::write(&path, "the 1 2\nof 3 4\n").unwrap();
    let store = load(&path);
    assert_eq!(store.format(), Some(StoreFormat::Glove));
    assert_eq!(store.words().collect::<Vec<_>>(), ["the", "of"]);
    // A ragged line names its (1-based) line number: no header line precedes the records.
    assert_eq!(
        malformed(b"the 1 2\nof 3 4\nand 5\n", &LoadOptions::default()),
        (
            Location::Line(3),
            Problem::WrongValueCount {
                expected: 2,
                found: 1
            }
        )
    );
    let glove = LoadOptions {
        format: Some(StoreFormat::Glove),
        ..LoadOptions::default()
    };
    // A first word that is a number needs the explicit format.
    fs::write(&path, "2009 1 2\n").unwrap();
    assert_eq!(
        WordVectors::load(&path, &glove)
            .unwrap()
            .words()
            .collect::<Vec<_>>(),
        ["2009"]
    );
    assert_eq!(
        malformed(b"", &glove),
        (Location::Line(1), Problem::EmptyFile)
    );
    assert_eq!(
        malformed(b"word\n", &glove),
        (Location::Line(1), Problem::ZeroDim)
    );
    // The file is memory-mapped: a directory is an I/O error naming it, not a mapping failure.
    let error = WordVectors::load(dir.path(), &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(&error, StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::IsADirectory),
        "{error}"
    );
    // The writer's GloVe output reads back the same.
    let out = dir.path().join("out.txt");
    write_store(
        &out,
        &store.words().collect::<Vec<_>>(),
        &[1.0, 2.0, 3.0, 4.0],
        2,
        StoreFormat::Glove,
    )
    .unwrap();
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        "the 1.0 2.0\nof 3.0 4.0\n"
    );
    assert!(matches!(
        write_store(
            &out,
            &store.words().collect::<Vec<_>>(),
            &[1.0, 2.0, 3.0, 4.0],
            2,
            StoreFormat::FastText
        ),
        Err(StoreError::Unwritable(StoreFormat::FastText))
    ));
}
