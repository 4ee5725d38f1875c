//! Unit tests of the evaluations on a hand-made store whose answers can be worked out by hand.

use std::path::PathBuf;

use super::*;

/// man (1,0,0), woman (0,1,0), king (1,0,1)/√2, Queen (0,1,1)/√2, apple (0,0,-1).
fn royal_store() -> WordVectors {
    let h = std::f32::consts::FRAC_1_SQRT_2;
    let words = ["man", "woman", "king", "Queen", "apple"]
        .map(String::from)
        .to_vec();
    let vectors = vec![
        1.0, 0.0, 0.0, 0.0, 1.0, 0.0, h, 0.0, h, 0.0, h, h, 0.0, 0.0, -1.0,
    ];
    WordVectors::from_parts(words, vectors, 3).unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const QUESTIONS: &str = ": royal\n\
    MAN Woman king queen\n\
    man king woman apple\n\
    man woman king prince\n\
    only three words\n\
    : fruit\n\
    king queen man apple\n";

#[test]
fn analogies_counted_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "q.txt", QUESTIONS);
    let report = evaluate_word_analogies(&royal_store(), &path, 300_000, true).unwrap();
    // woman + king - man, normalized, is (-0.233, 0.794, 0.561): Queen scores 0.96, so the
    // first question is right and the second (same offset, expects apple) wrong. queen + man
    // - king points at woman (0.92), not apple (0). "prince" is unknown.
    let counts: Vec<_> = report
        .sections
        .iter()
        .map(|s| (s.section.as_str(), s.correct, s.incorrect))
        .collect();
    assert_eq!(counts, [("royal", 1, 1), ("fruit", 0, 1)]);
    assert_eq!((report.total.correct, report.total.incorrect), (1, 2));
    assert!((report.total.accuracy - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(
        (report.questions, report.oov_questions, report.invalid_lines),
        (4, 1, 1)
    );
    assert_eq!(report.oov_ratio, 25.0);

    // Case-sensitive, "MAN", "Woman" and "queen" are unknown: only the fruit question is left
    // (it expects "apple" and gets "woman")... and "queen" is unknown there too.
    let sensitive = evaluate_word_analogies(&royal_store(), &path, 300_000, false).unwrap();
    assert_eq!((sensitive.total.correct, sensitive.total.incorrect), (0, 1));
    assert_eq!(sensitive.oov_questions, 3);

    // Only man, woman, king take part: every question has an excluded word.
    let restricted = evaluate_word_analogies(&royal_store(), &path, 3, true).unwrap();
    assert_eq!(
        (
            restricted.total.correct + restricted.total.incorrect,
            restricted.oov_questions
        ),
        (0, 4)
    );
    assert_eq!(restricted.total.accuracy, 0.0);
}

#[test]
fn an_input_word_in_another_case_is_never_the_prediction() {
    // "Man" is a second row pointing like woman; upper-cased it is the input MAN, so gensim
    // skips it and predicts the next word.
    let words = ["man", "woman", "Man", "king", "queen"]
        .map(String::from)
        .to_vec();
    let vectors = vec![1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.9, 0.1, 0.1, 0.9];
    let store = WordVectors::from_parts(words, vectors, 2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "q.txt", ": s\nman woman king queen\n");
    let report = evaluate_word_analogies(&store, &path, 300_000, true).unwrap();
    assert_eq!(report.total.correct, 1);
}

#[test]
fn question_before_a_section_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "q.txt", "man woman king queen\n");
    let err = evaluate_word_analogies(&royal_store(), &path, 10, true).unwrap_err();
    assert!(
        matches!(err, EvalError::MissingSection { line: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("q.txt: line 1"), "{err}");
}

#[test]
fn word_pairs_computed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = "# word1\tword2\tscore\n\
        man\tWOMAN\t1\n\
        man\tking\t3.0\n\
        king\tqueen\t2 \n\
        man\tprince\t5\n\
        bad line\n\
        a\tb\tnot-a-number\n";
    let path = write(&dir, "pairs.tsv", pairs);
    let report = evaluate_word_pairs(&royal_store(), &path, 300_000, true).unwrap();
    // Cosines: man/woman 0, man/king 0.7071, king/Queen 0.5; judgements 1, 3, 2.
    // Deviations: gold (-1, 1, 0), model (-0.40237, 0.30474, 0.09763):
    // r = 0.70711 / (√2 · 0.51410) = 0.97259.
    assert!(
        (report.pearson.coefficient - 0.97259).abs() < 1e-4,
        "{report:?}"
    );
    // With one degree of freedom the t test's p-value is (2/π)·asin(√(1 - r²)).
    let r = report.pearson.coefficient;
    let p = 2.0 / std::f64::consts::PI * (1.0 - r * r).sqrt().asin();
    assert!(
        (report.pearson.p_value - p).abs() < 1e-12,
        "{} vs {p}",
        report.pearson.p_value
    );
    // Both orderings agree: rank correlation 1 (up to rounding), p-value ~0.
    assert!(
        (report.spearman.coefficient - 1.0).abs() < 1e-12,
        "{report:?}"
    );
    assert!(report.spearman.p_value < 1e-6, "{report:?}");
    assert_eq!(
        (report.pairs, report.oov_pairs, report.invalid_lines),
        (3, 1, 2)
    );
    assert_eq!(report.oov_ratio, 25.0);
    let no_pairs = write(&dir, "none.tsv", "# nothing\nman\tprince\t1\n");
    let err = evaluate_word_pairs(&royal_store(), &no_pairs, 300_000, true).unwrap_err();
    assert!(matches!(err, EvalError::NoValidPairs { .. }), "{err}");
}

#[test]
fn run_needs_something_to_evaluate() {
    let settings = EvalSettings {
        vectors: PathBuf::from("unused"),
        analogies: None,
        pairs: None,
        restrict_vocab: 300_000,
        case_sensitive: false,
    };
    assert!(matches!(run(&settings), Err(EvalError::NothingToEvaluate)));
}

#[test]
fn run_evaluates_either_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = write(&dir, "royal.txt", "3 2\nman 1 0\nwoman 0 1\nking 1 1\n");
    let analogies = write(&dir, "q.txt", ": royal\nman woman man woman\n");
    let pairs = write(
        &dir,
        "p.tsv",
        "man\twoman\t1\nman\tking\t2\nwoman\tking\t3\n",
    );
    let settings = |analogies: Option<&PathBuf>, pairs: Option<&PathBuf>| EvalSettings {
        vectors: store.clone(),
        analogies: analogies.cloned(),
        pairs: pairs.cloned(),
        restrict_vocab: 300_000,
        case_sensitive: false,
    };
    let only_analogies = run(&settings(Some(&analogies), None)).unwrap();
    assert_eq!((only_analogies.words, only_analogies.dim), (3, 2));
    assert!(only_analogies.analogies.is_some() && only_analogies.pairs.is_none());
    let only_pairs = run(&settings(None, Some(&pairs))).unwrap();
    assert!(only_pairs.analogies.is_none());
    assert_eq!(only_pairs.pairs.map(|p| p.pairs), Some(3));
}

#[test]
fn a_line_that_is_not_utf8_is_named_by_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.txt");
    std::fs::write(&path, b": s\r\nman woman king queen\n\xff\xfe\n").unwrap();
    match read_lines(&path) {
        Err(EvalError::NotUtf8 { line, .. }) => assert_eq!(line, 3),
        other => panic!("{other:?}"),
    }
    std::fs::write(&path, b"a\r\nb\n").unwrap();
    assert_eq!(read_lines(&path).unwrap(), ["a", "b"]);
}

#[test]
fn the_text_reports_name_skipped_lines_only_when_there_are_some() {
    let dir = tempfile::tempdir().unwrap();
    let store = royal_store();
    let skipped = "Invalid lines skipped";
    let analogies = |text: &str| {
        let path = write(&dir, "q.txt", text);
        evaluate_word_analogies(&store, &path, 300_000, true)
            .unwrap()
            .to_string()
    };
    assert!(analogies(QUESTIONS).contains(&format!("{skipped}: 1\n")));
    assert!(!analogies(": royal\nman woman king queen\n").contains(skipped));
    let pairs = |text: &str| {
        let path = write(&dir, "p.tsv", text);
        evaluate_word_pairs(&store, &path, 300_000, true)
            .unwrap()
            .to_string()
    };
    let valid = "man\twoman\t1\nman\tking\t3\nking\tqueen\t2\n";
    assert!(pairs(&format!("{valid}bad line\nx\ty\tz\n")).contains(&format!("{skipped}: 2\n")));
    assert!(!pairs(valid).contains(skipped));
}

#[test]
fn pearson_over_two_points_or_a_constant_side_as_scipy() {
    use super::statistics::pearson;
    // scipy.stats.pearsonr: two points always fit a line, r = ±1 with p = 1 ...
    let two = pearson(&[1.0, 2.0], &[5.0, 3.0]);
    assert!((two.coefficient + 1.0).abs() < 1e-12, "{two:?}");
    assert_eq!(two.p_value, 1.0);
    // ... and a constant side has no correlation to speak of: r and p are NaN.
    for n in [2, 3] {
        let flat = pearson(&vec![0.5; n], &[1.0, 2.0, 3.0][..n]);
        assert!(
            flat.coefficient.is_nan() && flat.p_value.is_nan(),
            "{n}: {flat:?}"
        );
    }
}

#[test]
fn pearson_p_values_equal_scipys_on_both_sides_of_the_switch() {
    use super::statistics::correlation_p_value;
    // scipy.special.betainc(df / 2, 0.5, 1 - r²), df = n - 2: the incomplete beta's continued
    // fraction is summed on the side of its mean where it converges (large n puts 1 - r² above
    // it, small n below).
    for (r, n, scipy) in [
        (0.01, 1002, 0.7518836295709816),
        (0.001, 100_002, 0.7518301740593034),
        (0.3, 12, 0.34343857105468767),
        (0.9, 5, 0.03738607346849862),
        (0.5, 3, 0.6666666666666666),
    ] {
        let p = correlation_p_value(r, n);
        // ln Γ of 50000 is about 5e5: its last bits limit the agreement to about 1e-10.
        assert!((p - scipy).abs() < 1e-9, "r {r}, n {n}: {p} vs {scipy}");
    }
}
