//! Unit tests of the store: round trips through the writer and the reader, and every malformed
//! input the reader names.

use std::fs;

use super::*;

fn load_bytes(bytes: &[u8], options: &LoadOptions) -> Result<WordVectors, StoreError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    fs::write(&path, bytes).unwrap();
    WordVectors::load(&path, options)
}

/// The location and problem of a load that must fail, checking the message names the file.
fn malformed(bytes: &[u8], options: &LoadOptions) -> (Location, Problem) {
    match load_bytes(bytes, options) {
        Err(err @ StoreError::Malformed { .. }) => {
            let message = err.to_string();
            let StoreError::Malformed {
                path,
                location,
                problem,
            } = err
            else {
                unreachable!()
            };
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains(&location.to_string()), "{message}");
            (location, problem)
        }
        other => panic!("expected a malformed-store error, got {other:?}"),
    }
}

fn binary_record(word: &str, values: &[f32]) -> Vec<u8> {
    let mut out = format!("{word} ").into_bytes();
    values.iter().for_each(|v| out.extend(v.to_le_bytes()));
    out
}

const WORDS: [&str; 4] = ["the", "Ünïcode", "tab\there", "the2"];
const VALUES: [f32; 12] = [
    0.1,
    -2.5e-7,
    3.4e38,
    0.0,
    -0.0,
    1e-45,
    123_456.79,
    -1.0,
    7e6,
    f32::MIN_POSITIVE,
    0.3,
    1.0,
];

#[test]
fn both_formats_round_trip_bit_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for format in [StoreFormat::Binary, StoreFormat::Text] {
        let path = dir.path().join(format.to_string());
        write_store(&path, &WORDS, &VALUES, 3, format).unwrap();
        let store = WordVectors::load(&path, &LoadOptions::default()).unwrap();
        assert_eq!(store.format(), Some(format));
        assert_eq!(store.words().collect::<Vec<_>>(), WORDS);
        assert_eq!((store.len(), store.dim()), (4, 3));
        for i in 0..4 {
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(store.vector(i).unwrap()),
                bits(&VALUES[i * 3..i * 3 + 3])
            );
        }
        assert_eq!(store.index_of("Ünïcode"), Some(1));
        assert_eq!(store.index_of("THE"), None);
        let forced = LoadOptions {
            format: Some(format),
            ..LoadOptions::default()
        };
        assert_eq!(
            WordVectors::load(&path, &forced)
                .unwrap()
                .words()
                .collect::<Vec<_>>(),
            WORDS
        );
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            names.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")),
            "{names:?}"
        );
    }
}

#[test]
fn text_store_is_what_gensim_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.txt");
    write_store(
        &path,
        &["a", "b"],
        &[1.0, 1e-5, -0.25, 1e6],
        2,
        StoreFormat::Text,
    )
    .unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "2 2\na 1.0 1e-05\nb -0.25 1e+06\n"
    );
    write_store(&path, &["a"], &[1.0], 1, StoreFormat::Binary).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"1 1\na \x00\x00\x80\x3f");
}

#[test]
fn writer_refuses_bad_input_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let write = |words: &[&str], values: &[f32], dim| {
        write_store(&path, words, values, dim, StoreFormat::Text)
    };
    assert!(matches!(
        write(&["a"], &[1.0, 2.0, 3.0], 2),
        Err(StoreError::ShapeMismatch {
            words: 1,
            dim: 2,
            values: 3
        })
    ));
    assert!(matches!(write(&["a"], &[], 0), Err(StoreError::ZeroDim)));
    assert!(matches!(
        write(&["ok", "two words"], &[1.0, 2.0], 1),
        Err(StoreError::InvalidWord { index: 1, .. })
    ));
    assert!(matches!(
        write(&[""], &[1.0], 1),
        Err(StoreError::InvalidWord { index: 0, .. })
    ));
    assert!(matches!(
        write(&["new\nline"], &[1.0], 1),
        Err(StoreError::InvalidWord { .. })
    ));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    let missing_dir = dir.path().join("no/such/dir/out");
    let err = write_store(&missing_dir, &["a"], &[1.0], 1, StoreFormat::Binary).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
}

#[test]
fn reads_the_c_tools_binary_layout_with_newlines() {
    let mut bytes = b"2 2\n".to_vec();
    bytes.extend(binary_record("x", &[1.0, 2.0]));
    bytes.push(b'\n');
    bytes.extend(binary_record("y", &[3.0, 4.0]));
    bytes.push(b'\n');
    let store = load_bytes(&bytes, &LoadOptions::default()).unwrap();
    assert_eq!(store.format(), Some(StoreFormat::Binary));
    assert_eq!(store.words().collect::<Vec<_>>(), ["x", "y"]);
    assert_eq!(store.vector(1), Some(&[3.0, 4.0][..]));
    assert_eq!(store.unit_vector(1), Some(vec![0.6, 0.8]));
}

#[test]
fn reads_fasttext_vec_lines_with_trailing_space_and_crlf() {
    let text = "2 3\r\nhello 0.5 -1 2e-3 \r\nworld 1 2 3 \n";
    let store = load_bytes(text.as_bytes(), &LoadOptions::default()).unwrap();
    assert_eq!(store.format(), Some(StoreFormat::Text));
    assert_eq!(store.words().collect::<Vec<_>>(), ["hello", "world"]);
    assert_eq!(store.vector(0), Some(&[0.5, -1.0, 2e-3][..]));
}

#[test]
fn zero_rows_stay_zero_when_normalized() {
    let store = load_bytes(b"1 2\nz 0 0\n", &LoadOptions::default()).unwrap();
    assert_eq!(store.unit_vector(0), Some(vec![0.0, 0.0]));
}

/// Counts the warnings logged while `load` runs.
fn warnings_while<T>(load: impl FnOnce() -> T) -> (T, usize) {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt as _;

    #[derive(Clone, Default)]
    struct Warnings(Arc<Mutex<usize>>);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if *event.metadata().level() == tracing::Level::WARN {
                *self.0.lock().unwrap() += 1;
            }
        }
    }
    let warnings = Warnings::default();
    let subscriber = tracing_subscriber::registry().with(warnings.clone());
    let value = tracing::subscriber::with_default(subscriber, load);
    let count = *warnings.0.lock().unwrap();
    (value, count)
}

#[test]
fn duplicates_keep_the_first_vector() {
    // One warning for the one duplicate, none for the words kept.
    let text = b"3 1\na 1\nb 2\na 3\n";
    let (store, warned) = warnings_while(|| load_bytes(text, &LoadOptions::default()));
    assert_eq!(warned, 1);
    let store = store.unwrap();
    assert_eq!(store.words().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(store.vector(store.index_of("a").unwrap()), Some(&[1.0][..]));
    let mut bytes = b"2 1\n".to_vec();
    bytes.extend(binary_record("q", &[5.0]));
    bytes.extend(binary_record("q", &[6.0]));
    let store = load_bytes(&bytes, &LoadOptions::default()).unwrap();
    assert_eq!((store.len(), store.vector(0)), (1, Some(&[5.0][..])));
    // A duplicate in the middle: the rows after it move up, whole.
    let text = b"4 2\na 1 2\na 3 4\nb 5 6\nc 7 8\n";
    let store = load_bytes(text, &LoadOptions::default()).unwrap();
    assert_eq!(store.words().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(store.matrix(), [1.0, 2.0, 5.0, 6.0, 7.0, 8.0]);
    let parts = WordVectors::from_parts(vec!["k".into(), "k".into()], vec![1.0, 2.0], 1).unwrap();
    assert_eq!((parts.len(), parts.vector(0)), (1, Some(&[1.0][..])));
}

#[test]
fn limit_reads_only_the_first_words() {
    let limit = |n| LoadOptions {
        limit: Some(n),
        ..LoadOptions::default()
    };
    // The rest of the file is not read, so even a broken tail is fine.
    let text = b"3 1\na 1\nb 2\nc oops\n";
    let store = load_bytes(text, &limit(2)).unwrap();
    assert_eq!(store.words().collect::<Vec<_>>(), ["a", "b"]);
    assert!(!store.is_empty());
    assert!(load_bytes(text, &limit(0)).unwrap().is_empty());
    let err = load_bytes(text, &limit(10)).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("line 4"), "{err}");
    let mut bytes = b"2 1\n".to_vec();
    bytes.extend(binary_record("p", &[1.0]));
    bytes.extend(b"q \x01");
    assert_eq!(
        load_bytes(&bytes, &limit(1))
            .unwrap()
            .words()
            .collect::<Vec<_>>(),
        ["p"]
    );
}

#[test]
fn invalid_utf8_fails_unless_lossy() {
    let mut bytes = b"1 1\n".to_vec();
    bytes.extend(binary_record("caf\u{e9}", &[1.0]));
    let bad = bytes.iter().position(|&b| b == 0xc3).unwrap();
    // 0xe9 opens a three-byte sequence that the next byte cannot complete.
    bytes[bad] = 0xe9;
    let (location, problem) = malformed(&bytes, &LoadOptions::default());
    assert_eq!(location, Location::Byte(4));
    assert!(matches!(problem, Problem::NotUtf8(_)));
    // In a later record the offset counts from the file's start too.
    let mut later = b"2 1\n".to_vec();
    later.extend(binary_record("ok", &[2.0]));
    later.extend(&bytes[4..]);
    let (location, problem) = malformed(&later, &LoadOptions::default());
    assert_eq!(location, Location::Byte(4 + 3 + 4));
    assert!(matches!(problem, Problem::NotUtf8(_)));
    let lossy = LoadOptions {
        lossy_utf8: true,
        ..LoadOptions::default()
    };
    let store = load_bytes(&bytes, &lossy).unwrap();
    // One replacement for the incomplete sequence, as Python's `errors='replace'` gives.
    assert_eq!(store.words().collect::<Vec<_>>(), ["caf\u{fffd}"]);
    let text = b"1 1\nna\xefve 1.5\n";
    assert!(matches!(
        malformed(text, &LoadOptions::default()),
        (Location::Line(2), Problem::NotUtf8(_))
    ));
    assert_eq!(
        load_bytes(text, &lossy)
            .unwrap()
            .words()
            .collect::<Vec<_>>(),
        ["na\u{fffd}ve"]
    );
}

#[test]
fn malformed_headers() {
    let none = LoadOptions::default();
    assert_eq!(
        malformed(b"", &none),
        (Location::Line(1), Problem::ShortHeader)
    );
    assert_eq!(
        malformed(b"3 5", &none),
        (Location::Line(1), Problem::ShortHeader)
    );
    assert_eq!(
        malformed(b"3\n", &none),
        (Location::Line(1), Problem::BadHeader("3".into()))
    );
    assert_eq!(
        malformed(b"3 x\n", &none),
        (Location::Line(1), Problem::BadHeader("3 x".into()))
    );
    assert_eq!(
        malformed(b"-3 5\n", &none),
        (Location::Line(1), Problem::BadHeader("-3 5".into()))
    );
    assert_eq!(
        malformed(b"1 2 3\n", &none),
        (Location::Line(1), Problem::BadHeader("1 2 3".into()))
    );
    assert_eq!(
        malformed(b"3 0\na\n", &none),
        (Location::Line(1), Problem::ZeroDim)
    );
}

#[test]
fn malformed_text_bodies_name_the_line() {
    let none = LoadOptions::default();
    let cases: &[(&[u8], usize, Problem)] = &[
        (
            b"3 2\na 1 2\nb 3 4\n",
            4,
            Problem::MissingWords {
                declared: 3,
                found: 2,
            },
        ),
        (
            b"3 2\na 1 2\n",
            3,
            Problem::MissingWords {
                declared: 3,
                found: 1,
            },
        ),
        (
            b"2 2\na 1 2\nb 3\n",
            3,
            Problem::WrongValueCount {
                expected: 2,
                found: 1,
            },
        ),
        (
            // Values past `dim` are counted, not parsed.
            b"2 2\na 1 2\nb 3 4 x5\n",
            3,
            Problem::WrongValueCount {
                expected: 2,
                found: 3,
            },
        ),
        (b"2 2\na 1 2\nb 3 x4\n", 3, Problem::BadNumber("x4".into())),
        (b"2 2\na 1 2\n 3 4\n", 3, Problem::EmptyWord),
        (b"2 2\na 1 2\n\nb 3 4\n", 3, Problem::EmptyWord),
        (b"1 2\na 1 2\nb 3 4\n", 3, Problem::TrailingData(1)),
    ];
    for (bytes, line, problem) in cases {
        let forced = LoadOptions {
            format: Some(StoreFormat::Text),
            ..none.clone()
        };
        assert_eq!(
            malformed(bytes, &forced),
            (Location::Line(*line), problem.clone()),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn malformed_binary_bodies_name_the_byte_offset() {
    let mut two = b"2 2\n".to_vec();
    two.extend(binary_record("ab", &[1.0, 2.0])); // bytes 4..15
    let mut short = two.clone();
    short.extend(b"cd \x00\x00\x80");
    assert_eq!(
        malformed(&short, &LoadOptions::default()),
        (
            Location::Byte(18),
            Problem::TruncatedVector {
                word: "cd".into(),
                needed: 8,
                available: 3
            }
        )
    );
    let (location, problem) = malformed(&two, &LoadOptions::default());
    assert_eq!(
        (location, problem),
        (
            Location::Byte(15),
            Problem::MissingWords {
                declared: 2,
                found: 1
            }
        )
    );
    let mut no_space = two.clone();
    no_space.extend(b"dangling");
    assert!(matches!(
        malformed(&no_space, &LoadOptions::default()),
        (
            Location::Byte(15),
            Problem::TruncatedVector { available: 0, .. }
        )
    ));
    let mut trailing = b"1 2\n".to_vec();
    trailing.extend(binary_record("ab", &[1.0, 2.0]));
    trailing.extend(b"\nextra");
    assert_eq!(
        malformed(&trailing, &LoadOptions::default()),
        (Location::Byte(16), Problem::TrailingData(1))
    );
}

#[test]
fn a_lying_header_does_not_allocate_its_claim() {
    // 10^15 words of dimension 10^6 would be exabytes; the file is a few bytes.
    let bytes = format!("{} 1000000\nw 1\n", 1u64 << 50);
    let (location, problem) = malformed(bytes.as_bytes(), &LoadOptions::default());
    assert!(matches!(location, Location::Byte(_) | Location::Line(_)));
    assert!(matches!(
        problem,
        Problem::TruncatedVector { .. } | Problem::MissingWords { .. }
    ));
}

#[test]
fn binary_junk_is_quoted_short_and_known_formats_are_named() {
    // A header line of 2,000 bytes of binary junk: the message quotes 40 escaped characters.
    let mut junk: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 251) as u8 | 0x80).collect();
    junk.push(b'\n');
    let error = load_bytes(&junk, &LoadOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(message.len() < 400, "{message}");
    assert!(
        message.contains('…') && !message.contains('\u{80}'),
        "{message}"
    );
    // Magic bytes name the format, with or without a newline in the file.
    for (bytes, named) in [
        (&b"\x1f\x8b\x08\x00\x00\x00\n"[..], "gzip"),
        (b"\x93NUMPY\x01\x00v\x00{'descr'", "npy"),
        (b"PK\x03\x04\x14\x00\n", "zip"),
    ] {
        let (location, problem) = malformed(bytes, &LoadOptions::default());
        assert_eq!(location, Location::Line(1));
        assert!(
            matches!(problem, Problem::ForeignFormat(format) if format.contains(named)),
            "{named}: {problem}"
        );
    }
}

#[test]
fn format_names_read_back_as_their_format() {
    let formats = [
        StoreFormat::Binary,
        StoreFormat::Text,
        StoreFormat::Gensim,
        StoreFormat::Glove,
        StoreFormat::FastText,
        StoreFormat::Index,
    ];
    for format in formats {
        assert_eq!(format.to_string().parse::<StoreFormat>(), Ok(format));
    }
    let unknown = "word2vec".parse::<StoreFormat>().unwrap_err();
    assert!(unknown.to_string().contains("word2vec"), "{unknown}");
}

#[test]
fn a_store_knows_its_file_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors.bin");
    fs::write(&path, b"1 2\nword 0.5 0.25\n").unwrap();
    let store = WordVectors::load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    assert_eq!(store.name(), "vectors");
    // Only an index file has graph parameters.
    assert_eq!(store.ann_params(), None);
    let built = WordVectors::from_parts(vec!["word".into()], vec![0.5, 0.25], 2).unwrap();
    assert_eq!((built.path(), built.name()), (None, "word2vec".to_owned()));
}

#[test]
fn debug_output_sizes_the_matrix_instead_of_listing_it() {
    let words = (0..1000).map(|i| format!("w{i}")).collect();
    let store = WordVectors::from_parts(words, vec![0.5; 10_000], 10).unwrap();
    let debug = format!("{store:?}");
    assert!(debug.contains("Owned(10000 values)"), "{debug}");
    assert!(debug.contains("Owned(1000 values)"), "{debug}");
    assert!(debug.len() < 1000, "{} bytes", debug.len());
}
