//! `embedserve train` end to end on small generated corpora: reproducibility, learned structure,
//! the written store, and argument errors.

use std::fs;
use std::path::{Path, PathBuf};

use embedserve::word2vec::store::{LoadOptions, StoreFormat, WordVectors};
use embedserve::word2vec::train::{TrainError, TrainSettings, run};

/// Groups of words that share contexts: member `m` of group `g` is `g{g}m{m}` and appears only
/// between the group's context words `g{g}c{c}`, so members of a group are interchangeable.
const GROUPS: usize = 4;
const MEMBERS: usize = 5;
const CONTEXTS: usize = 6;
const SENTENCES: usize = 500;

/// A small deterministic xorshift generator, so the corpus is the same on every run.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Writes `sentences` lines of the planted-structure corpus and returns its path.
fn planted_corpus(dir: &Path, sentences: usize) -> PathBuf {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut text = String::new();
    for _ in 0..sentences {
        let g = rng.below(GROUPS);
        for position in 0..12 {
            let word = if position % 2 == 0 {
                format!("g{g}m{}", rng.below(MEMBERS))
            } else {
                format!("g{g}c{}", rng.below(CONTEXTS))
            };
            text.push_str(&word);
            text.push(' ');
        }
        text.push('\n');
    }
    let path = dir.join("corpus.txt");
    fs::write(&path, text).unwrap();
    path
}

/// Small, fast settings for the generated corpus.
fn small_args(input: &Path, output: &Path) -> TrainSettings {
    let mut args = TrainSettings::new(input, output);
    args.tokenized = true;
    args.vector_size = 16;
    args.min_count = 1;
    args.sample = 0.0;
    args.workers = 1;
    args.epochs = 5;
    args.seed = 7;
    args.quiet = true;
    args
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// For every group member, the most similar other member word belongs to the same group.
fn assert_groups_cluster(store: &WordVectors, label: &str) {
    let members: Vec<(usize, &str)> = store
        .words()
        .filter(|w| w.contains('m'))
        .map(|w| (w[1..2].parse().unwrap(), w))
        .collect();
    assert_eq!(members.len(), GROUPS * MEMBERS, "{label}");
    let vector = |w: &str| store.vector(store.index_of(w).unwrap()).unwrap();
    for &(group, word) in &members {
        let (nearest_group, nearest, similarity) = members
            .iter()
            .filter(|(_, other)| *other != word)
            .map(|&(g, other)| (g, other, cosine(vector(word), vector(other))))
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .unwrap();
        assert_eq!(
            nearest_group, group,
            "{label}: nearest member of {word} is {nearest} ({similarity})"
        );
    }
}

#[test]
fn planted_groups_are_learned_by_every_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = planted_corpus(dir.path(), SENTENCES);
    for (sg, hs, negative) in [(1, 0, 5), (0, 0, 5), (1, 1, 0), (0, 1, 0)] {
        let label = format!("sg={sg} hs={hs} negative={negative}");
        let output = dir.path().join(format!("sg{sg}hs{hs}.bin"));
        let mut args = small_args(&corpus, &output);
        (args.sg, args.hs, args.negative, args.workers) = (sg, hs, negative, 2);
        let summary = run(&args).unwrap();
        assert_eq!(summary.vocab_size, GROUPS * (MEMBERS + CONTEXTS), "{label}");
        assert_eq!(summary.raw_words, SENTENCES as u64 * 12 * 5, "{label}");
        let store = WordVectors::load(&output, &LoadOptions::default()).unwrap();
        assert_groups_cluster(&store, &label);
    }
}

#[test]
fn seeded_single_worker_runs_are_identical() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = planted_corpus(dir.path(), 400);
    let train = |name: &str, seed: u64| {
        let output = dir.path().join(name);
        let mut args = small_args(&corpus, &output);
        args.sample = 1e-3; // exercise the downsampling draws too
        args.hs = 1;
        args.seed = seed;
        run(&args).unwrap();
        fs::read(output).unwrap()
    };
    let first = train("a.bin", 3);
    assert_eq!(first, train("b.bin", 3));
    assert_ne!(first, train("c.bin", 4));
}

#[test]
fn store_round_trips_in_both_formats_sorted_by_frequency() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.txt");
    // Raw text through simple_preprocess: "the" 4 times, "cat" 3, "sat" 2, the rest once.
    fs::write(
        &corpus,
        "The cat sat.\nThe CAT sat on the mat!\nThe cat, 42 x\n",
    )
    .unwrap();
    let load = |format: StoreFormat, name: &str| {
        let output = dir.path().join(name);
        let mut args = small_args(&corpus, &output);
        (args.tokenized, args.format) = (false, format);
        run(&args).unwrap();
        WordVectors::load(&output, &LoadOptions::default()).unwrap()
    };
    let binary = load(StoreFormat::Binary, "v.bin");
    let text = load(StoreFormat::Text, "v.txt");
    assert_eq!(binary.format(), Some(StoreFormat::Binary));
    assert_eq!(text.format(), Some(StoreFormat::Text));
    // Ties (on, mat: once each) come later-first-seen first, as gensim sorts them.
    assert_eq!(
        binary.words().collect::<Vec<_>>(),
        ["the", "cat", "sat", "mat", "on"]
    );
    assert_eq!(
        text.words().collect::<Vec<_>>(),
        binary.words().collect::<Vec<_>>()
    );
    assert_eq!(binary.dim(), 16);
    for i in 0..binary.len() {
        for (b, t) in binary
            .vector(i)
            .unwrap()
            .iter()
            .zip(text.vector(i).unwrap())
        {
            assert!((b - t).abs() <= 1e-6 * b.abs().max(1e-3), "{b} vs {t}");
        }
    }
}

/// Runs `args` expecting an error whose message contains `needle`, and checks that nothing was
/// left in the output directory.
fn assert_fails_cleanly(args: &TrainSettings, needle: &str) -> TrainError {
    let err = run(args).expect_err("training should fail");
    assert!(err.to_string().contains(needle), "{err} lacks {needle:?}");
    assert!(
        !args.output.exists(),
        "{} was created",
        args.output.display()
    );
    if let Some(dir) = args.output.parent().filter(|d| d.is_dir()) {
        let leftovers: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
    err
}

#[test]
fn bad_arguments_fail_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = planted_corpus(dir.path(), 20);
    let out_dir = dir.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let output = out_dir.join("vectors.bin");
    let base = small_args(&corpus, &output);
    let with = |change: &dyn Fn(&mut TrainSettings)| {
        let mut args = base.clone();
        change(&mut args);
        args
    };
    assert_fails_cleanly(&with(&|a| a.vector_size = 0), "--vector-size 0");
    assert_fails_cleanly(&with(&|a| a.window = 0), "--window 0");
    assert_fails_cleanly(&with(&|a| a.alpha = 0.0), "--alpha 0");
    assert_fails_cleanly(&with(&|a| a.alpha = -0.1), "--alpha -0.1");
    assert_fails_cleanly(&with(&|a| (a.hs, a.negative) = (0, 0)), "--negative 0");
    let err = assert_fails_cleanly(&with(&|a| a.min_count = 1000), "at least 1000 times");
    assert!(err.to_string().contains("corpus.txt"), "{err}");
    let missing = dir.path().join("missing.txt");
    assert_fails_cleanly(&with(&|a| a.input = missing.clone()), "missing.txt");
    let nowhere = dir.path().join("no-such-dir").join("vectors.bin");
    assert_fails_cleanly(&with(&|a| a.output = nowhere.clone()), "no-such-dir");
    assert_fails_cleanly(
        &with(&|a| a.vector_size = usize::MAX),
        "--vector-size 18446744073709551615: one vector would not fit in memory",
    );
    // One vector (padded to 16 values) fits, the vocabulary's 44 do not (overflow, then the
    // address space); padded, `usize::MAX / 8` values would not fit even once.
    assert_fails_cleanly(
        &with(&|a| a.vector_size = usize::MAX / 8),
        "one vector would not fit in memory",
    );
    for vector_size in [usize::MAX / 16, 1 << 40] {
        let err = assert_fails_cleanly(&with(&|a| a.vector_size = vector_size), "is too large");
        assert!(
            matches!(err, TrainError::TooLarge { words: 44, .. }),
            "{err}"
        );
    }
    assert_fails_cleanly(&with(&|a| a.workers = usize::MAX), "must be at most 1024");
    let bad_utf8 = dir.path().join("latin1.txt");
    fs::write(&bad_utf8, b"caf\xe9 ok\n").unwrap();
    assert_fails_cleanly(
        &with(&|a| a.input = bad_utf8.clone()),
        "line 1: invalid UTF-8 at byte offset 3",
    );
}

#[test]
fn huge_sizes_are_messages_from_the_binary_and_a_huge_window_trains() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = planted_corpus(dir.path(), 20);
    let output = dir.path().join("vectors.bin");
    let train = |vector_size: &str, workers: &str, window: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_embedserve"))
            .args(["train", "--tokenized", "--min-count", "1", "--epochs", "1"])
            .args(["--vector-size", vector_size, "--workers", workers])
            .args(["--window", window, "--input"])
            .arg(&corpus)
            .arg("--output")
            .arg(&output)
            .output()
            .unwrap()
    };
    let huge = "18446744073709551615";
    for (ran, needle) in [
        (
            train(huge, "1", "5"),
            "invalid --vector-size 18446744073709551615",
        ),
        (
            train("8", huge, "5"),
            "invalid --workers 18446744073709551615",
        ),
    ] {
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert_eq!(ran.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let ran = train("8", "1", huge);
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let store = WordVectors::load(&output, &LoadOptions::default()).unwrap();
    assert_eq!(store.len(), 44);
}
