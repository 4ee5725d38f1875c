//! `evaluate_word_analogies` / `evaluate_word_pairs` against the numbers gensim 4.4.0 computes, on
//! the shared lee-cbow50 store (tests/fixtures/make_word2vec_reference.py), where no analogy is
//! answered right, and on the committed skip-gram store that answers 137 of them
//! (tests/fixtures/make_wiki_lee_sg_reference.py), so an evaluator that never scores a hit fails.

use std::path::{Path, PathBuf};

use embedserve::word2vec::eval::{EvalSettings, evaluate_word_analogies, evaluate_word_pairs, run};
use embedserve::word2vec::store::{LoadOptions, WordVectors};
use serde_json::Value;

use crate::common::shared_fixture;

fn gensim_reference() -> Value {
    reference("word2vec-lee-cbow50.gensim.json")
}

/// A committed reference file of tests/fixtures.
pub fn reference(relative: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The committed skip-gram store and its gensim answers.
pub fn trained_store() -> (PathBuf, Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wiki-lee-sg");
    (
        dir.join("wiki-lee-sg32.bin"),
        reference("wiki-lee-sg/wiki-lee-sg32.gensim.json"),
    )
}

fn fixtures() -> Option<(PathBuf, PathBuf, PathBuf)> {
    Some((
        shared_fixture("word2vec/lee-cbow50.bin")?,
        shared_fixture("word2vec/questions-words.txt")?,
        shared_fixture("word2vec/wordsim353.tsv")?,
    ))
}

fn close(got: f64, want: &Value, tolerance: f64, what: &str) {
    let want = want.as_f64().unwrap();
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: {got} vs gensim {want}"
    );
}

#[test]
fn analogies_match_gensim() {
    let Some((store, questions, _)) = fixtures() else {
        return;
    };
    check_analogies(&store, &questions, &gensim_reference());
}

#[test]
fn analogies_on_a_trained_store_match_gensim() {
    let Some((_, questions, _)) = fixtures() else {
        return;
    };
    let (store, reference) = trained_store();
    check_analogies(&store, &questions, &reference);
    // The reference must discriminate: gensim scores real hits in several sections.
    let hits = reference["evaluate_word_analogies"][0]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["correct"].as_u64().unwrap() > 0)
        .count();
    assert!(hits >= 10, "{hits} sections with a correct answer");
}

/// Every section's correct and incorrect counts, and the total accuracy, as gensim has them.
fn check_analogies(store: &Path, questions: &Path, reference: &Value) {
    let store = WordVectors::load(store, &LoadOptions::default()).unwrap();
    for case in reference["evaluate_word_analogies"].as_array().unwrap() {
        let restrict = case["restrict_vocab"].as_u64().unwrap() as usize;
        let insensitive = case["case_insensitive"].as_bool().unwrap();
        let report = evaluate_word_analogies(&store, questions, restrict, insensitive).unwrap();
        let expected = case["sections"].as_array().unwrap();
        let ours: Vec<_> = report.sections.iter().chain([&report.total]).collect();
        assert_eq!(ours.len(), expected.len(), "{case}");
        for (got, want) in ours.iter().zip(expected) {
            assert_eq!(got.section, want["section"].as_str().unwrap());
            assert_eq!(
                got.correct as u64,
                want["correct"].as_u64().unwrap(),
                "{} {case}",
                got.section
            );
            assert_eq!(
                got.incorrect as u64,
                want["incorrect"].as_u64().unwrap(),
                "{} {case}",
                got.section
            );
        }
        close(
            report.total.accuracy,
            &case["score"],
            1e-12,
            "total accuracy",
        );
        assert_eq!(report.questions, 19_544);
        assert_eq!(
            report.questions - report.oov_questions,
            report.total.correct + report.total.incorrect
        );
    }
}

#[test]
fn word_pairs_match_gensim() {
    let Some((store, _, pairs)) = fixtures() else {
        return;
    };
    // This store's cosines all sit near 0.99, so float rounding in the last place of a cosine
    // (gensim sums in a different order) moves the correlations by up to ~1e-5.
    check_pairs(&store, &pairs, &gensim_reference(), 1e-4);
}

#[test]
fn word_pairs_on_a_trained_store_match_gensim() {
    let Some((_, _, pairs)) = fixtures() else {
        return;
    };
    let (store, reference) = trained_store();
    // Cosines spread over [-1, 1] here: rounding moves the correlations far less.
    check_pairs(&store, &pairs, &reference, 1e-6);
}

/// Pearson and Spearman coefficients and p-values within `tolerance`, the OOV ratio exactly.
fn check_pairs(store: &Path, pairs: &Path, reference: &Value, tolerance: f64) {
    let store = WordVectors::load(store, &LoadOptions::default()).unwrap();
    for case in reference["evaluate_word_pairs"].as_array().unwrap() {
        let restrict = case["restrict_vocab"].as_u64().unwrap() as usize;
        let insensitive = case["case_insensitive"].as_bool().unwrap();
        let report = evaluate_word_pairs(&store, pairs, restrict, insensitive).unwrap();
        close(
            report.pearson.coefficient,
            &case["pearson"][0],
            tolerance,
            "pearson",
        );
        close(
            report.pearson.p_value,
            &case["pearson"][1],
            tolerance,
            "pearson p",
        );
        close(
            report.spearman.coefficient,
            &case["spearman"][0],
            tolerance,
            "spearman",
        );
        close(
            report.spearman.p_value,
            &case["spearman"][1],
            tolerance,
            "spearman p",
        );
        close(report.oov_ratio, &case["oov_ratio"], 1e-9, "oov ratio");
        assert_eq!(report.pairs + report.oov_pairs, 353);
    }
}

#[test]
fn run_reports_both_evaluations_as_text_and_json() {
    let Some((vectors, questions, pairs)) = fixtures() else {
        return;
    };
    // The first two sections keep this test quick; the full file is checked above.
    let dir = tempfile::tempdir().unwrap();
    let analogies = dir.path().join("questions.txt");
    let text = std::fs::read_to_string(questions).unwrap();
    let head: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with(": currency"))
        .collect();
    std::fs::write(&analogies, head.join("\n")).unwrap();
    let args = EvalSettings {
        vectors,
        analogies: Some(analogies),
        pairs: Some(pairs),
        restrict_vocab: 300_000,
        case_sensitive: false,
    };
    let report = run(&args).unwrap();
    let text = report.render(false).unwrap();
    // gensim: capital-common-countries 0/20, capital-world 0/19.
    assert!(text.contains("Total accuracy: 0.0% (0/39)"), "{text}");
    assert!(
        text.contains("Pearson correlation coefficient: 0.0537"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&report.render(true).unwrap()).unwrap();
    assert_eq!(json["words"], 3955);
    assert_eq!(json["analogies"]["sections"][1]["incorrect"], 19);
    assert_eq!(json["pairs"]["pairs"], 133);
}
