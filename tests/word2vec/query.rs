//! Query parity with gensim 4.4.0 on the shared lee-cbow50 store (both formats), and properties of
//! queries on small random stores.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use embedserve::word2vec::query::{Neighbor, QueryError, SearchOptions};
use embedserve::word2vec::store::{LoadOptions, WordVectors};
use proptest::prelude::*;
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

use crate::common::shared_fixture;
use crate::fasttext::floats;

/// gensim's answers for extra cases, made by tests/fixtures/make_word2vec_reference.py.
fn extra_reference() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/word2vec-lee-cbow50.gensim.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Both shared store files and the shared reference answers, when the fixtures are present.
fn shared() -> Option<(Vec<PathBuf>, Value)> {
    let bin = shared_fixture("word2vec/lee-cbow50.bin")?;
    let txt = shared_fixture("word2vec/lee-cbow50.txt")?;
    let reference = shared_fixture("word2vec/lee-cbow50.reference.json")?;
    let reference = serde_json::from_slice(&std::fs::read(reference).unwrap()).unwrap();
    Some((vec![bin, txt], reference))
}

pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn options(topn: usize, restrict_vocab: &Value) -> SearchOptions {
    SearchOptions {
        topn,
        restrict_vocab: restrict_vocab.as_u64().map(|r| r as usize),
        ..SearchOptions::default()
    }
}

/// Two scores of gensim's list closer than this are a tie: within the rounding of an f32 cosine
/// summed in another order, so either word may come first.
const GENSIM_TIE: f32 = 1e-6;

/// Same words in gensim's exact order, scores within `tolerance`. Two words may only trade places
/// when gensim's own scores for them tie (within [`GENSIM_TIE`]); a word gensim left out may only
/// take the last slot when its score ties with gensim's last score.
pub fn assert_matches_within(ours: &[Neighbor<'_>], expected: &Value, tolerance: f32, what: &str) {
    let expected: Vec<(&str, f32)> = expected
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_str().unwrap(), pair[1].as_f64().unwrap() as f32))
        .collect();
    assert_eq!(ours.len(), expected.len(), "{what}: result count");
    let last_score = expected.last().map_or(0.0, |&(_, score)| score);
    for (position, (got, &(want_word, want_score))) in ours.iter().zip(&expected).enumerate() {
        assert!(
            (got.score - want_score).abs() <= tolerance,
            "{what}: #{position} score {} vs gensim {want_score}",
            got.score
        );
        if got.word == want_word {
            continue;
        }
        let tied_in_gensim = expected
            .iter()
            .any(|&(word, score)| word == got.word && (score - want_score).abs() <= GENSIM_TIE);
        let tied_with_last = (want_score - last_score).abs() <= GENSIM_TIE
            && !expected.iter().any(|&(word, _)| word == got.word)
            && (got.score - last_score).abs() <= GENSIM_TIE;
        assert!(
            tied_in_gensim || tied_with_last,
            "{what}: #{position} is {} ({}) but gensim has {want_word} ({want_score})",
            got.word,
            got.score
        );
    }
}

/// [`assert_matches_within`] with the 1e-5 score tolerance the barely trained lee-cbow50 store needs.
pub fn assert_matches(ours: &[Neighbor<'_>], expected: &Value, what: &str) {
    assert_matches_within(ours, expected, 1e-5, what);
}

#[test]
fn most_similar_matches_the_shared_reference() {
    let Some((paths, reference)) = shared() else {
        return;
    };
    for path in &paths {
        let store = WordVectors::load(path, &LoadOptions::default()).unwrap();
        for (word, expected) in reference["most_similar"].as_object().unwrap() {
            let ours = store
                .most_similar(&[word], &[] as &[&str], &SearchOptions::default())
                .unwrap();
            assert_matches(
                &ours,
                expected,
                &format!("{} most_similar({word})", path.display()),
            );
        }
        let analogy = &reference["analogy"];
        let topn = analogy["result"].as_array().unwrap().len();
        let ours = store
            .most_similar(
                &strings(&analogy["positive"]),
                &strings(&analogy["negative"]),
                &options(topn, &Value::Null),
            )
            .unwrap();
        assert_matches(&ours, &analogy["result"], "analogy");
        assert_similarities(&store, &reference["similarity"]);
    }
}

/// `doesnt_match` picks gensim's word for every case (`{"words": [...], "result": word}`).
pub fn assert_doesnt_match(store: &WordVectors, cases: &Value) {
    for case in cases.as_array().unwrap() {
        let words = strings(&case["words"]);
        assert_eq!(
            store.doesnt_match(&words).unwrap(),
            case["result"].as_str().unwrap(),
            "{words:?}"
        );
    }
}

/// gensim's `similarity(a, b)` for each `[a, b, score]` case, within 1e-5.
pub fn assert_similarities(store: &WordVectors, cases: &Value) {
    for case in cases.as_array().unwrap() {
        let (a, b) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
        let got = store.similarity(a, b).unwrap();
        assert!(
            (got - case[2].as_f64().unwrap() as f32).abs() < 1e-5,
            "similarity({a}, {b})"
        );
    }
}

#[test]
fn queries_match_extra_gensim_cases() {
    let Some((paths, _)) = shared() else {
        return;
    };
    let reference = extra_reference();
    let store = WordVectors::load(&paths[0], &LoadOptions::default()).unwrap();
    for case in reference["most_similar"].as_array().unwrap() {
        let ours = store
            .most_similar(
                &strings(&case["positive"]),
                &strings(&case["negative"]),
                &options(
                    case["topn"].as_u64().unwrap() as usize,
                    &case["restrict_vocab"],
                ),
            )
            .unwrap();
        assert_matches(&ours, &case["result"], &format!("most_similar {case}"));
    }
    for case in reference["similar_by_vector"].as_array().unwrap() {
        let vector = floats(&case["vector"]);
        let topn = case["topn"].as_u64().unwrap() as usize;
        let ours = store
            .similar_by_vector(&vector, &options(topn, &case["restrict_vocab"]))
            .unwrap();
        assert_matches(&ours, &case["result"], "similar_by_vector");
    }
    assert_doesnt_match(&store, &reference["doesnt_match"]);
    assert_similarities(&store, &reference["similarity"]);
}

#[test]
fn parallel_and_single_threaded_searches_agree() {
    // Large enough to take the parallel path, with repeated rows to force exact score ties.
    let dim = 8;
    let rows = 70_000;
    let words: Vec<String> = (0..rows).map(|i| format!("w{i}")).collect();
    let vectors: Vec<f32> = (0..rows * dim)
        .map(|i| (((i / dim) % 997) as f32 * 0.37 + (i % dim) as f32).sin())
        .collect();
    let store = WordVectors::from_parts(words, vectors, dim).unwrap();
    let single = SearchOptions {
        topn: 25,
        parallel: false,
        ..SearchOptions::default()
    };
    let parallel = SearchOptions {
        parallel: true,
        ..single
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = store.most_similar(&["w5"], &["w9"], &single).unwrap();
    let b = pool.install(|| store.most_similar(&["w5"], &["w9"], &parallel).unwrap());
    assert_eq!(a, b);
    // Many input words are excluded by a binary search: the same answer as one exclusion each.
    let many: Vec<String> = (0..2000).map(|i| format!("w{i}")).collect();
    let excluded = store.most_similar(&many, &[] as &[&str], &single).unwrap();
    assert!(excluded.iter().all(|n| n.index >= 2000), "{excluded:?}");
    // A deadline already passed stops the search, in either path, before any block is scanned.
    let past = std::time::Instant::now()
        .checked_sub(std::time::Duration::from_millis(1))
        .unwrap();
    for options in [single, parallel] {
        let late = SearchOptions {
            deadline: Some(past),
            ..options
        };
        let stopped = pool.install(|| store.most_similar(&["w5"], &[] as &[&str], &late));
        assert_eq!(stopped, Err(QueryError::DeadlineExceeded));
    }
}

#[test]
fn query_errors() {
    let store = WordVectors::from_parts(
        vec!["a".into(), "b".into(), "c".into()],
        vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        2,
    )
    .unwrap();
    let none: &[&str] = &[];
    let defaults = SearchOptions::default();
    assert_eq!(
        store.most_similar(&["a", "zz"], none, &defaults),
        Err(QueryError::UnknownWord("zz".into()))
    );
    assert_eq!(
        store.most_similar(none, none, &defaults),
        Err(QueryError::EmptyQuery)
    );
    let zero = SearchOptions {
        topn: 0,
        ..defaults
    };
    assert_eq!(
        store.most_similar(&["a"], none, &zero),
        Err(QueryError::InvalidTopn)
    );
    assert_eq!(
        store.similar_by_vector(&[1.0], &defaults),
        Err(QueryError::DimensionMismatch {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(
        store.similar_by_vector(&[1.0, f32::NAN], &defaults),
        Err(QueryError::NonFiniteVector { index: 1 })
    );
    assert_eq!(
        store.similarity("a", "q"),
        Err(QueryError::UnknownWord("q".into()))
    );
    assert_eq!(store.doesnt_match(none), Err(QueryError::EmptyQuery));
    assert_eq!(
        store.doesnt_match(&["x", "y"]),
        Err(QueryError::UnknownWord("x".into()))
    );
    assert_eq!(
        store.lookup("nope"),
        Err(QueryError::UnknownWord("nope".into()))
    );
}

#[test]
fn hand_checked_answers() {
    // a = (1,0), b = (0,1), c = (1,1)/√2 after normalisation, d = (-1,0), z = (0,0).
    let store = WordVectors::from_parts(
        ["a", "b", "c", "d", "z"].map(String::from).to_vec(),
        vec![2.0, 0.0, 0.0, 3.0, 1.0, 1.0, -4.0, 0.0, 0.0, 0.0],
        2,
    )
    .unwrap();
    let none: &[&str] = &[];
    let found = store
        .most_similar(&["a"], none, &SearchOptions::default())
        .unwrap();
    let words: Vec<&str> = found.iter().map(|n| n.word).collect();
    // The zero row scores 0 (gensim divides by a zero norm instead) and ties with b, row order.
    assert_eq!(words, ["c", "b", "z", "d"]);
    assert!((found[0].score - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    assert_eq!(found[3].score, -1.0);
    // mean of unit(a) and unit(b) is along c: c scores 1.
    let found = store
        .most_similar(&["a", "b"], none, &SearchOptions::default())
        .unwrap();
    assert_eq!(found[0].word, "c");
    assert!((found[0].score - 1.0).abs() < 1e-6);
    let restricted = SearchOptions {
        restrict_vocab: Some(2),
        ..SearchOptions::default()
    };
    let found = store.most_similar(&["c"], none, &restricted).unwrap();
    assert_eq!(found.iter().map(|n| n.word).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(store.similarity("a", "d").unwrap(), -1.0);
    assert_eq!(store.doesnt_match(&["a", "c", "b", "d"]).unwrap(), "d");
    assert_eq!(*store.lookup("b").unwrap().unit, [0.0, 1.0]);
}

/// Counts the events logged while it is the default subscriber.
struct CountEvents(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountEvents {
    fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Keeps the `ignored` field of every event logged while it is the default subscriber.
#[derive(Clone, Default)]
struct IgnoredCounts(Arc<std::sync::Mutex<Vec<u64>>>);

impl tracing::field::Visit for IgnoredCounts {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if field.name() == "ignored" {
            self.0.lock().expect("not poisoned").push(value);
        }
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for IgnoredCounts {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        event.record(&mut self.clone());
    }
}

/// The `ignored` counts `doesnt_match(words)` logs, and its answer.
fn ignored_warnings(store: &WordVectors, words: &[&str]) -> (Vec<u64>, String) {
    let counts = IgnoredCounts::default();
    let subscriber = tracing_subscriber::registry().with(counts.clone());
    let odd = tracing::subscriber::with_default(subscriber, || store.doesnt_match(words))
        .expect("an answer")
        .to_owned();
    let logged = counts.0.lock().expect("not poisoned").clone();
    (logged, odd)
}

#[test]
fn doesnt_match_warns_with_the_count_of_unknown_words_and_never_when_all_are_known() {
    let store = WordVectors::from_parts(
        ["a", "b", "c"].map(String::from).to_vec(),
        vec![1.0, 0.0, 0.9, 0.1, -1.0, 0.0],
        2,
    )
    .unwrap();
    assert_eq!(
        ignored_warnings(&store, &["a", "b", "c", "a"]),
        (vec![], "c".to_owned()),
        "all words known: no warning"
    );
    assert_eq!(
        ignored_warnings(&store, &["x", "a", "b", "y", "c", "x"]),
        (vec![3], "c".to_owned()),
        "one warning counting the three unknown words (repeats count)"
    );
}

#[test]
fn doesnt_match_warns_once_however_many_words_are_unknown() {
    let store = WordVectors::from_parts(
        ["a", "b", "c"].map(String::from).to_vec(),
        vec![1.0, 0.0, 0.9, 0.1, -1.0, 0.0],
        2,
    )
    .unwrap();
    let mut words: Vec<String> = (0..1000).map(|i| format!("unknown{i}")).collect();
    words.extend(["a", "b", "c"].map(String::from));
    let events = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(CountEvents(Arc::clone(&events)));
    let odd = tracing::subscriber::with_default(subscriber, || store.doesnt_match(&words));
    assert_eq!(odd.unwrap(), "c");
    assert_eq!(events.load(Ordering::Relaxed), 1, "one warning per call");
}

/// A random store: `rows` distinct words, `dim` values each in [-1, 1].
fn random_store() -> impl Strategy<Value = WordVectors> {
    (1usize..6, 2usize..40).prop_flat_map(|(dim, rows)| {
        prop::collection::vec(-1.0f32..1.0, dim * rows).prop_map(move |values| {
            let words = (0..rows).map(|i| format!("w{i}")).collect();
            WordVectors::from_parts(words, values, dim).unwrap()
        })
    })
}

proptest! {
    #[test]
    fn most_similar_properties(
        store in random_store(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
        negatives in 0usize..2,
        topn in 1usize..50,
    ) {
        let chosen: Vec<&str> = picks.iter().map(|p| store.word(p.index(store.len())).unwrap()).collect();
        let (negative, positive) = chosen.split_at(negatives.min(chosen.len() - 1));
        let options = SearchOptions { topn, ..SearchOptions::default() };
        let found = store.most_similar(positive, negative, &options).unwrap();
        let distinct_inputs: std::collections::HashSet<&str> = chosen.iter().copied().collect();
        prop_assert_eq!(found.len(), topn.min(store.len() - distinct_inputs.len()));
        for n in &found {
            prop_assert!((-1.0 - 1e-6..=1.0 + 1e-6).contains(&n.score), "score {}", n.score);
            prop_assert!(!distinct_inputs.contains(n.word), "input word {} returned", n.word);
            prop_assert_eq!(store.word(n.index), Some(n.word));
        }
        for pair in found.windows(2) {
            prop_assert!(pair[0].score >= pair[1].score, "not sorted: {:?}", pair);
        }
    }

    #[test]
    fn similar_by_vector_finds_a_stored_rows_own_word_first(store in random_store(), pick in any::<prop::sample::Index>()) {
        let index = pick.index(store.len());
        let query = store.vector(index).unwrap().to_vec();
        let found = store.similar_by_vector(&query, &SearchOptions { topn: 1, ..SearchOptions::default() }).unwrap();
        // Another row may point the same way (or the row may be tiny), but nothing beats it.
        let own = store.similarity(store.word(index).unwrap(), store.word(index).unwrap()).unwrap();
        prop_assert!(found[0].score >= own - 1e-6);
    }
}
