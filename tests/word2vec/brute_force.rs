//! Searches against an independent brute-force reference: plain f64 loops written here (unit rows,
//! gensim's weighted mean, every cosine, a full sort), on small random stores and on one large
//! store that takes the parallel path, with zero, NaN, duplicate, huge and subnormal rows,
//! `restrict_vocab`, negative-only queries and `similar_by_vector`.

use std::collections::HashSet;
use std::sync::OnceLock;

use embedserve::word2vec::query::{Neighbor, SearchOptions};
use embedserve::word2vec::store::WordVectors;
use proptest::prelude::*;

/// Our f32 cosines and the f64 reference differ by rounding only: far below this.
const TOLERANCE: f64 = 1e-5;

/// `row / |row|` computed in f64 and stored as f32, as gensim stores its unit vectors; a zero or
/// non-finite row stays as it is (scores 0 or NaN).
fn unit(row: &[f32]) -> Vec<f64> {
    let row: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
    let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        row.iter().map(|v| f64::from((v / norm) as f32)).collect()
    } else {
        row
    }
}

/// Below this length the mean of the inputs' unit vectors has no direction rounding can keep
/// (a word and a near-opposite word): its top words are noise in any precision.
const ILL_CONDITIONED: f64 = 1e-3;

/// Every row's cosine with `query` (a unit vector), NaN dropped, best first, ties by row.
fn ranking(
    store: &WordVectors,
    query: &[f64],
    rows: usize,
    excluded: &[usize],
) -> Vec<(usize, f64)> {
    let mut scored: Vec<(usize, f64)> = (0..rows)
        .filter(|i| !excluded.contains(i))
        .map(|i| {
            let row = unit(store.vector(i).unwrap());
            (i, row.iter().zip(query).map(|(a, b)| a * b).sum::<f64>())
        })
        .filter(|(_, score)| !score.is_nan())
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

/// gensim's `most_similar`: the mean of the inputs' unit vectors weighted +1/-1, scaled to unit;
/// `None` when that mean is shorter than [`ILL_CONDITIONED`] but not zero.
fn reference_query(
    store: &WordVectors,
    positive: &[usize],
    negative: &[usize],
) -> Option<Vec<f64>> {
    let mut mean = vec![0.0f64; store.dim()];
    let inputs = positive
        .iter()
        .map(|&i| (i, 1.0))
        .chain(negative.iter().map(|&i| (i, -1.0)));
    for (index, weight) in inputs {
        for (m, u) in mean.iter_mut().zip(unit(store.vector(index).unwrap())) {
            *m += weight * u;
        }
    }
    let count = (positive.len() + negative.len()) as f64;
    mean.iter_mut().for_each(|m| *m /= count);
    let norm = mean.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 && norm < ILL_CONDITIONED {
        return None;
    }
    if norm > 0.0 && norm.is_finite() {
        mean.iter_mut().for_each(|m| *m /= norm);
    }
    Some(mean)
}

/// Scores agree: within [`TOLERANCE`], or the same infinity (a query built from rows whose
/// squares overflow scores `±inf`, and `inf - inf` is NaN).
fn close(ours: f64, reference: f64) -> bool {
    ours == reference || (ours - reference).abs() <= TOLERANCE
}

/// Rows searched for a `restrict_vocab` (gensim treats 0 like none).
fn searched_rows(store: &WordVectors, restrict: Option<usize>) -> usize {
    match restrict {
        Some(limit) if limit > 0 => limit.min(store.len()),
        _ => store.len(),
    }
}

/// Our answer holds the reference's top `topn`: same length, each score within [`TOLERANCE`] of
/// the reference's at that position, each word either the reference's or one whose reference
/// score ties with it, no word twice, and exact ties (equal f32 scores) in row order.
fn assert_same_top(
    ours: &[Neighbor<'_>],
    reference: &[(usize, f64)],
    topn: usize,
) -> Result<(), TestCaseError> {
    let want = &reference[..topn.min(reference.len())];
    prop_assert_eq!(ours.len(), want.len());
    let score_of = |index: usize| reference.iter().find(|(i, _)| *i == index).map(|(_, s)| *s);
    let mut seen = HashSet::new();
    for (got, &(want_index, want_score)) in ours.iter().zip(want) {
        prop_assert!(seen.insert(got.index), "{} returned twice", got.word);
        prop_assert!(
            close(f64::from(got.score), want_score),
            "{} {} vs {}",
            got.word,
            got.score,
            want_score
        );
        if got.index != want_index {
            let Some(score) = score_of(got.index) else {
                return Err(TestCaseError::fail(format!(
                    "{} is excluded or NaN",
                    got.word
                )));
            };
            prop_assert!(
                close(score, want_score),
                "{} ({score}) in the place of row {want_index} ({want_score})",
                got.word
            );
        }
    }
    for pair in ours.windows(2) {
        prop_assert!(pair[0].score >= pair[1].score, "not sorted: {:?}", pair);
        if pair[0].score == pair[1].score {
            prop_assert!(
                pair[0].index < pair[1].index,
                "tie not in row order: {:?}",
                pair
            );
        }
    }
    Ok(())
}

/// A small random store; some rows zero, NaN, copies of another row, huge or subnormal.
fn random_store() -> impl Strategy<Value = WordVectors> {
    (1usize..40, 2usize..60).prop_flat_map(|(dim, rows)| {
        (
            prop::collection::vec(-1.0f32..1.0, dim * rows),
            prop::collection::vec((0usize..rows, 0u8..8, 0usize..rows), 0..6),
        )
            .prop_map(move |(mut values, specials)| {
                for (row, kind, other) in specials {
                    special_row(&mut values, dim, row, kind, other);
                }
                let words = (0..rows).map(|i| format!("w{i}")).collect();
                WordVectors::from_parts(words, values, dim).unwrap()
            })
    })
}

/// Turns `row` into a zero, NaN, duplicate (of `other`), huge, subnormal or negated row.
fn special_row(values: &mut [f32], dim: usize, row: usize, kind: u8, other: usize) {
    let source: Vec<f32> = values[other * dim..(other + 1) * dim].to_vec();
    let target = &mut values[row * dim..(row + 1) * dim];
    match kind {
        0 => target.fill(0.0),
        1 => target[0] = f32::NAN,
        2 | 3 => target.copy_from_slice(&source),
        4 => target.iter_mut().for_each(|v| *v *= 1e30),
        5 => target.iter_mut().for_each(|v| *v *= 1e-40),
        6 => target.iter_mut().zip(&source).for_each(|(v, s)| *v = -s),
        _ => {}
    }
}

/// 60,000 rows of 20 values (over the parallel threshold of 50,000), all distinct except the
/// planted copies, with zero, NaN, huge and subnormal rows; built once for every case.
fn large_store() -> &'static WordVectors {
    static STORE: OnceLock<WordVectors> = OnceLock::new();
    STORE.get_or_init(|| {
        let (rows, dim) = (60_000, 20);
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut values: Vec<f32> = (0..rows * dim)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect();
        for (row, kind, other) in [
            (11, 0, 0),
            (23, 1, 0),
            (40_000, 2, 7),
            (59_999, 3, 7),
            (30_000, 4, 5),
            (45_000, 5, 6),
            (17_000, 6, 5),
            (51_000, 2, 12),
        ] {
            special_row(&mut values, dim, row, kind, other);
        }
        let words = (0..rows).map(|i| format!("w{i}")).collect();
        WordVectors::from_parts(words, values, dim).unwrap()
    })
}

/// One query on `store` checked against the reference; `picks` are rows, the first `negatives`
/// of them negative (all negative when `negatives >= picks.len()`).
fn check_most_similar(
    store: &WordVectors,
    picks: &[usize],
    negatives: usize,
    topn: usize,
    restrict: Option<usize>,
) -> Result<(), TestCaseError> {
    let (negative, positive) = picks.split_at(negatives.min(picks.len()));
    let names = |rows: &[usize]| {
        rows.iter()
            .map(|&i| store.word(i).expect("a row").to_owned())
            .collect::<Vec<_>>()
    };
    let options = SearchOptions {
        topn,
        restrict_vocab: restrict,
        ..SearchOptions::default()
    };
    let ours = store
        .most_similar(&names(positive), &names(negative), &options)
        .unwrap();
    let Some(query) = reference_query(store, positive, negative) else {
        return Ok(());
    };
    let reference = ranking(store, &query, searched_rows(store, restrict), picks);
    assert_same_top(&ours, &reference, topn)
}

proptest! {
    #[test]
    fn most_similar_equals_brute_force(
        store in random_store(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
        negatives in 0usize..4,
        topn in 1usize..70,
        restrict in prop::option::of(0usize..70),
    ) {
        let picks: Vec<usize> = picks.iter().map(|p| p.index(store.len())).collect();
        check_most_similar(&store, &picks, negatives, topn, restrict)?;
    }

    #[test]
    fn similar_by_vector_equals_brute_force(
        store in random_store(),
        seed in prop::collection::vec(-1.0f32..1.0, 40),
        topn in 1usize..70,
        restrict in prop::option::of(0usize..70),
    ) {
        let vector = &seed[..store.dim()];
        let options = SearchOptions { topn, restrict_vocab: restrict, ..SearchOptions::default() };
        let ours = store.similar_by_vector(vector, &options).unwrap();
        let reference = ranking(&store, &unit(vector), searched_rows(&store, restrict), &[]);
        assert_same_top(&ours, &reference, topn)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn parallel_searches_equal_brute_force(
        picks in prop::collection::vec(0usize..60_000, 1..3),
        extra in prop::sample::select(vec![7usize, 11, 23, 30_000, 45_000, 40_000]),
        negatives in 0usize..4,
        topn in 1usize..40,
        restrict in prop::option::of(prop::sample::select(vec![0usize, 100, 50_000, 55_555, 70_000])),
    ) {
        let store = large_store();
        let mut picks = picks;
        picks.push(extra);
        check_most_similar(store, &picks, negatives, topn, restrict)?;
        // A query near a stored row (a NaN row cannot be a query vector: it is refused).
        let near = picks.iter().copied().find(|&i| store.vector(i).unwrap().iter().all(|v| v.is_finite())).unwrap();
        let vector: Vec<f32> = store.vector(near).unwrap().iter().map(|v| v * 0.5 + 0.01).collect();
        let options = SearchOptions { topn, restrict_vocab: restrict, ..SearchOptions::default() };
        let ours = store.similar_by_vector(&vector, &options).unwrap();
        let reference = ranking(store, &unit(&vector), searched_rows(store, restrict), &[]);
        assert_same_top(&ours, &reference, topn)?;
    }
}
