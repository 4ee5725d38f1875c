//! Unit tests of the gensim native reader: hostile and damaged pickles, each a clean error, and
//! the committed gensim 4.4.0 `vectors.kv` altered one field at a time.

use std::fs;
use std::path::PathBuf;

use super::*;
use crate::word2vec::store::{LoadOptions, StoreFormat, WordVectors};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gensim-native")
        .join(name)
}

/// The problem and byte offset reading `bytes` as a gensim native file fails with.
fn problem(bytes: &[u8]) -> (u64, GensimProblem) {
    match read(&PathBuf::from("model"), bytes, None) {
        Err(StoreError::Malformed {
            location: Location::Byte(at),
            problem: Problem::Gensim(problem),
            ..
        }) => (at, problem),
        Err(other) => panic!("expected a gensim problem, got {other}"),
        Ok(store) => panic!("expected an error, read {} words", store.words.len()),
    }
}

/// `vectors.kv` with the first occurrence of `from` replaced by `to` (same length).
fn altered_kv(from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut bytes = fs::read(fixture("vectors.kv")).unwrap();
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    bytes[at..at + to.len()].copy_from_slice(to);
    bytes
}

#[test]
fn a_pickle_calling_os_system_is_refused_unrun() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let command = format!("touch {}", marker.display());
    // What `pickle.dumps` writes for an object whose `__reduce__` returns (os.system, (command,)),
    // in protocol 2 (`GLOBAL`) and protocol 4 (`STACK_GLOBAL`).
    let mut old = b"\x80\x02cposix\nsystem\nq\x00X".to_vec();
    old.extend((command.len() as u32).to_le_bytes());
    old.extend(command.as_bytes());
    old.extend(b"q\x01\x85q\x02Rq\x03.");
    let mut new = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c".to_vec();
    new.push(command.len() as u8);
    new.extend(command.as_bytes());
    new.extend(b"\x94\x85\x94R\x94.");
    let (at, refused) = problem(&old);
    assert_eq!(at, 2);
    assert_eq!(
        refused,
        GensimProblem::ForbiddenGlobal("posix.system".into())
    );
    let (at, refused) = problem(&new);
    assert_eq!(at, 16);
    assert_eq!(refused, GensimProblem::ForbiddenGlobal("os.system".into()));
    assert!(refused.to_string().contains("`os.system`"), "{refused}");
    assert!(!marker.exists(), "the command ran");
}

#[test]
fn any_callable_off_the_list_is_refused_by_name() {
    for (module, name) in [
        ("builtins", "eval"),
        ("subprocess", "Popen"),
        ("numpy", "load"),
    ] {
        let mut bytes = b"\x80\x04\x8c".to_vec();
        bytes.push(module.len() as u8);
        bytes.extend(module.as_bytes());
        bytes.push(0x8c);
        bytes.push(name.len() as u8);
        bytes.extend(name.as_bytes());
        bytes.extend(b"\x93).");
        let (_, refused) = problem(&bytes);
        assert_eq!(
            refused,
            GensimProblem::ForbiddenGlobal(format!("{module}.{name}"))
        );
    }
    let mut fasttext = b"\x80\x04\x8c\x16gensim.models.fasttext\x94\x8c\x08FastText".to_vec();
    fasttext.extend(b"\x94\x93\x94)\x81.");
    let (_, refused) = problem(&fasttext);
    assert_eq!(
        refused,
        GensimProblem::UnsupportedGensimClass("gensim.models.fasttext.FastText".into())
    );
    // A name of control bytes is quoted escaped, never raw.
    let (_, refused) = problem(b"\x80\x02c\x01\x02\nx\x1b[2J\n.");
    assert_eq!(
        refused.to_string().matches('\u{1b}').count(),
        0,
        "{refused}"
    );
}

#[test]
fn the_committed_keyed_vectors_read() {
    let bytes = fs::read(fixture("vectors.kv")).unwrap();
    let store = read(&fixture("vectors.kv"), &bytes, None).unwrap();
    assert_eq!((store.words.len(), store.dim), (253, 12));
    assert_eq!(store.vectors.len(), 253 * 12);
    assert_eq!(store.params.class, GensimClass::KeyedVectors);
    let limited = read(&fixture("vectors.kv"), &bytes, Some(10)).unwrap();
    assert_eq!(limited.words[..], store.words[..10]);
    assert_eq!(limited.vectors[..], store.vectors[..120]);
}

#[test]
fn a_wrong_dtype_is_named() {
    for (dtype, named) in [(&b"f8"[..], "<f8"), (b"i4", "<i4"), (b"f2", "<f2")] {
        let mut with = b"\x8c\x02".to_vec();
        with.extend(dtype);
        let (_, wrong) = problem(&altered_kv(b"\x8c\x02f4", &with));
        assert_eq!(
            wrong,
            GensimProblem::Dtype {
                attribute: "vectors".into(),
                dtype: named.into()
            }
        );
    }
    // Big-endian: the byte order in the dtype's state.
    let (_, wrong) = problem(&altered_kv(b"K\x03\x8c\x01<", b"K\x03\x8c\x01>"));
    assert!(matches!(wrong, GensimProblem::Dtype { dtype, .. } if dtype.starts_with('>')));
}

#[test]
fn a_shape_that_does_not_match_the_bytes_or_the_keys_is_refused() {
    // The pickled array's shape (253, 12) claims 13 columns.
    let (_, wrong) = problem(&altered_kv(b"K\xfdK\x0c\x86", b"K\xfdK\x0d\x86"));
    assert!(
        matches!(&wrong, GensimProblem::Array { problem, .. } if problem.contains("253 x 13")),
        "{wrong}"
    );
    // vector_size says 11 while the matrix has 12 columns.
    let (_, wrong) = problem(&altered_kv(
        b"vector_size\x94K\x0c",
        b"vector_size\x94K\x0b",
    ));
    assert!(
        matches!(
            wrong,
            GensimProblem::Shape {
                cols: 12,
                vector_size: 11,
                ..
            }
        ),
        "{wrong}"
    );
}

#[test]
fn every_truncation_is_a_clean_error() {
    let bytes = fs::read(fixture("vectors.kv")).unwrap();
    for len in (2..bytes.len()).step_by(37).chain([bytes.len() - 1]) {
        let (_, cut) = problem(&bytes[..len]);
        assert_eq!(cut, GensimProblem::TruncatedPickle, "prefix of {len} bytes");
    }
    assert_eq!(problem(b"").1, GensimProblem::NotAPickle);
    assert_eq!(problem(b"3 2\n").1, GensimProblem::NotAPickle);
}

#[test]
fn flipped_bytes_never_panic() {
    let original = fs::read(fixture("vectors.kv")).unwrap();
    // A fixed linear congruential sequence: the same damaged files on every run.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) as usize
    };
    for _ in 0..600 {
        let mut bytes = original.clone();
        for _ in 0..1 + next() % 4 {
            let at = next() % bytes.len();
            bytes[at] = next() as u8;
        }
        // Reading may succeed (a changed float) or fail; it must return either way.
        let _ = read(&PathBuf::from("model"), &bytes, None);
    }
}

#[test]
fn pickles_of_other_things_say_what_they_hold() {
    // What a pickle holds instead of a model: a list, an int, a set filled in (EMPTY_SET, MARK,
    // two ints, ADDITEMS), and an object of a class on the allow list, named by module and name.
    for (bytes, held) in [
        (&b"\x80\x04]\x94."[..], "a list"),
        (b"\x80\x04K\x07.", "an int"),
        (b"\x80\x04\x8f(K\x01K\x02\x90.", "a set"),
        (
            b"\x80\x04\x8c\x05numpy\x94\x8c\x07ndarray\x94\x93\x94)\x81.",
            "a `numpy.ndarray`",
        ),
    ] {
        assert_eq!(problem(bytes).1, GensimProblem::NotAModel(held.into()));
    }
    // Deep nesting is data, not recursion.
    let mut deep = b"\x80\x04".to_vec();
    deep.extend(std::iter::repeat_n(b']', 200_000));
    deep.push(b'.');
    assert_eq!(problem(&deep).1, GensimProblem::NotAModel("a list".into()));
    assert_eq!(problem(b"\x80\x01.").1, GensimProblem::NotAPickle);
    assert_eq!(problem(b"\x80\x04P.").1, GensimProblem::Opcode(b'P'));
    assert_eq!(problem(b"\x80\x04h\x05.").1, GensimProblem::MissingMemo(5));
    assert_eq!(problem(b"\x80\x04.").1, GensimProblem::EmptyStack);
    assert_eq!(
        problem(b"\x80\x04\x8c\x02\xff\xfe.").1,
        GensimProblem::NotUtf8
    );
}

#[test]
fn forced_formats_say_what_the_file_is() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("vectors.txt");
    fs::write(&text, "1 2\nword 0.5 0.25\n").unwrap();
    let forced = |format| LoadOptions {
        format: Some(format),
        ..LoadOptions::default()
    };
    let error = WordVectors::load(&text, &forced(StoreFormat::Gensim)).unwrap_err();
    assert!(matches!(
        error,
        StoreError::Malformed {
            problem: Problem::Gensim(GensimProblem::NotAPickle),
            ..
        }
    ));
    let error =
        WordVectors::load(&fixture("vectors.kv"), &forced(StoreFormat::Binary)).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("looks like a Python pickle"), "{message}");
    assert!(message.len() < 200, "{message}");
}

#[test]
fn vectors_neither_pickled_nor_listed_as_a_sidecar_are_missing() {
    // `cbow.model` lists `vectors` in its `wv.__numpys` (saved aside); rename the entry.
    let mut bytes = fs::read(fixture("cbow.model")).unwrap();
    let at = bytes
        .windows(9)
        .position(|w| w == b"\x8c\x07vectors")
        .unwrap();
    bytes[at + 8] = b'z';
    let (_, missing) = problem(&bytes);
    assert_eq!(
        missing,
        GensimProblem::Attribute {
            attribute: "wv.vectors".into(),
            problem: "is missing"
        }
    );
}

#[test]
fn a_missing_or_broken_sidecar_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("cbow.model");
    fs::copy(fixture("cbow.model"), &model).unwrap();
    let error = WordVectors::load(&model, &LoadOptions::default()).unwrap_err();
    let StoreError::MissingSidecar { sidecar, .. } = &error else {
        panic!("expected a missing sidecar, got {error}");
    };
    assert_eq!(sidecar, &dir.path().join("cbow.model.wv.vectors.npy"));
    assert!(
        error.to_string().contains("cbow.model.wv.vectors.npy"),
        "{error}"
    );

    // The sidecar as float64, then cut short.
    let original = fs::read(fixture("cbow.model.wv.vectors.npy")).unwrap();
    let mut as_f8 = original.clone();
    let descr = as_f8.windows(5).position(|w| w == b"'<f4'").unwrap();
    as_f8[descr + 3] = b'8';
    fs::write(dir.path().join("cbow.model.wv.vectors.npy"), &as_f8).unwrap();
    let error = WordVectors::load(&model, &LoadOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("cbow.model.wv.vectors.npy") && message.contains("f8"),
        "{message}"
    );
    fs::write(
        dir.path().join("cbow.model.wv.vectors.npy"),
        &original[..original.len() - 3],
    )
    .unwrap();
    let error = WordVectors::load(&model, &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Malformed {
                problem: Problem::Gensim(GensimProblem::Npy(_)),
                ..
            }
        ),
        "{error}"
    );
    // With the right sidecar beside it, the model reads.
    fs::write(dir.path().join("cbow.model.wv.vectors.npy"), &original).unwrap();
    let store = WordVectors::load(&model, &LoadOptions::default()).unwrap();
    assert_eq!(store.gensim_params().map(|p| p.sg), Some(Some(0)));
}

#[test]
fn empty_and_repeated_keys_are_refused() {
    // index_to_key starts `the`, `to`, ..., `he`: `to` spelled as `he` repeats a key, and as the
    // empty string (then a pushed and popped None, to keep the length) is an empty key.
    let (_, repeated) = problem(&altered_kv(b"\x8c\x02to\x94", b"\x8c\x02he\x94"));
    assert_eq!(repeated, GensimProblem::DuplicateKey(quote(b"he")));
    let (_, empty) = problem(&altered_kv(b"\x8c\x02to\x94", b"\x8c\x00N0\x94"));
    assert_eq!(empty, GensimProblem::EmptyKey(1));
}

#[test]
fn protocol_2_memo_and_long_integers_read_as_python_does() {
    // BINPUT 0 then BINGET 0: the list comes back from the memo.
    assert_eq!(
        problem(b"\x80\x02]q\x00h\x000.").1,
        GensimProblem::NotAModel("a list".into())
    );
    // LONG1 is little-endian two's complement; past 8 bytes it is too big to be a shape.
    let root = |bytes: &[u8]| Pickle::parse(bytes).unwrap().root;
    assert_eq!(root(b"\x80\x02\x8a\x02\x01\x01."), Value::Int(257));
    assert_eq!(root(b"\x80\x02\x8a\x01\xfe."), Value::Int(-2));
    assert_eq!(
        root(b"\x80\x02\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80."),
        Value::Int(i64::MIN)
    );
    assert_eq!(
        root(b"\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01."),
        Value::BigInt
    );
    // SETITEMS on an object (a dict subclass, which gensim never saves) is refused.
    let (_, refused) = problem(b"\x80\x04\x8c\x05numpy\x8c\x07ndarray\x93)\x81(K\x01K\x02u.");
    assert_eq!(refused, GensimProblem::BadOperand("SETITEM"));
}
