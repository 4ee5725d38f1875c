//! Query parity with gensim 4.4.0 on the committed, well-trained skip-gram store
//! (tests/fixtures/make_wiki_lee_sg_reference.py): its reference lists have no score gap below
//! 1e-5, so every word must come in gensim's exact order.

use embedserve::word2vec::query::SearchOptions;
use embedserve::word2vec::store::{LoadOptions, WordVectors};
use serde_json::Value;

use crate::eval::trained_store;
use crate::fasttext::floats;
use crate::query::{assert_doesnt_match, assert_matches_within, assert_similarities, strings};

/// Our cosines and gensim's differ only by f32 rounding in another summation order.
const SCORE_TOLERANCE: f32 = 1e-6;

fn options(case: &Value) -> SearchOptions {
    SearchOptions {
        topn: case["topn"].as_u64().unwrap() as usize,
        restrict_vocab: case["restrict_vocab"].as_u64().map(|r| r as usize),
        ..SearchOptions::default()
    }
}

#[test]
fn queries_match_gensim_word_for_word() {
    let (path, reference) = trained_store();
    let store = WordVectors::load(&path, &LoadOptions::default()).unwrap();
    let min_gap = reference["min_gap"].as_f64().unwrap();
    assert!(min_gap >= 1e-5, "the reference must be well separated");
    for case in reference["most_similar"].as_array().unwrap() {
        let ours = store
            .most_similar(
                &strings(&case["positive"]),
                &strings(&case["negative"]),
                &options(case),
            )
            .unwrap();
        assert_matches_within(
            &ours,
            &case["result"],
            SCORE_TOLERANCE,
            &format!("most_similar {case}"),
        );
    }
    for case in reference["similar_by_vector"].as_array().unwrap() {
        let vector = floats(&case["vector"]);
        let ours = store.similar_by_vector(&vector, &options(case)).unwrap();
        assert_matches_within(&ours, &case["result"], SCORE_TOLERANCE, "similar_by_vector");
    }
    assert_doesnt_match(&store, &reference["doesnt_match"]);
    assert_similarities(&store, &reference["similarity"]);
}

#[test]
fn the_reference_lists_are_separated_as_the_generator_promises() {
    // A regenerated reference with near ties would let a wrong order pass as a tie.
    let (_, reference) = trained_store();
    let min_gap = reference["min_gap"].as_f64().unwrap();
    let lists = reference["most_similar"]
        .as_array()
        .unwrap()
        .iter()
        .chain(reference["similar_by_vector"].as_array().unwrap());
    for case in lists {
        let scores: Vec<f64> = case["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| pair[1].as_f64().unwrap())
            .collect();
        assert_eq!(scores.len() as u64, case["topn"].as_u64().unwrap());
        for pair in scores.windows(2) {
            assert!(pair[0] - pair[1] >= min_gap, "{case}");
        }
    }
}
