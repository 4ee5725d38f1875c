//! gensim's `evaluate_word_analogies`: `a : b :: c : expected` questions answered by 3CosAdd over
//! the first `restrict_vocab` words, accuracy per section.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::vocabulary::Vocabulary;
use super::{EvalError, percentage, read_lines};
use crate::word2vec::query::SearchOptions;
use crate::word2vec::store::WordVectors;

/// Accuracy on one section of the analogy questions (or on all of them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionScore {
    /// Section name from its `: name` line (`Total accuracy` for the total).
    pub section: String,
    /// Questions answered correctly.
    pub correct: usize,
    /// Questions answered wrongly.
    pub incorrect: usize,
    /// `correct / (correct + incorrect)`, 0 when the section has no scored question.
    pub accuracy: f64,
}

/// Result of the analogy evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalogyReport {
    /// The questions file.
    pub file: PathBuf,
    /// Per-section accuracy, in file order.
    pub sections: Vec<SectionScore>,
    /// Accuracy over all scored questions.
    pub total: SectionScore,
    /// Well-formed questions (four words).
    pub questions: usize,
    /// Questions skipped because a word is not among the first `restrict_vocab` words.
    pub oov_questions: usize,
    /// `oov_questions` as a percentage of `questions`.
    pub oov_ratio: f64,
    /// Lines in sections that are not four words, skipped.
    pub invalid_lines: usize,
}

/// One analogy question `a : b :: c : expected`, as vocabulary keys, in a section.
struct Question {
    section: usize,
    words: [String; 4],
}

/// gensim's `evaluate_word_analogies` (3CosAdd over the first `restrict_vocab` words, top 5).
pub fn evaluate_word_analogies(
    store: &WordVectors,
    path: &Path,
    restrict_vocab: usize,
    case_insensitive: bool,
) -> Result<AnalogyReport, EvalError> {
    let vocab = Vocabulary::new(store, restrict_vocab, case_insensitive);
    let mut names: Vec<String> = Vec::new();
    let mut questions = Vec::new();
    let (mut total, mut oov_questions, mut invalid_lines) = (0, 0, 0);
    for (i, line) in read_lines(path)?.iter().enumerate() {
        if let Some(rest) = line.strip_prefix(": ") {
            // gensim: line.lstrip(': ').strip()
            names.push(rest.trim_start_matches([':', ' ']).trim().to_owned());
            continue;
        }
        if names.is_empty() {
            return Err(EvalError::MissingSection {
                path: path.to_path_buf(),
                line: i + 1,
            });
        }
        let words: Vec<String> = line.split_whitespace().map(|w| vocab.key(w)).collect();
        let Ok(words) = <[String; 4]>::try_from(words) else {
            invalid_lines += 1;
            continue;
        };
        total += 1;
        if words.iter().any(|w| vocab.row(w).is_none()) {
            oov_questions += 1;
            continue;
        }
        questions.push(Question {
            section: names.len() - 1,
            words,
        });
    }
    let outcomes: Vec<bool> = questions
        .par_iter()
        .map(|q| answers_correctly(store, &vocab, q, restrict_vocab))
        .collect();
    let mut counts = vec![(0, 0); names.len()];
    for (question, correct) in questions.iter().zip(outcomes) {
        let (right, wrong) = &mut counts[question.section];
        if correct {
            *right += 1;
        } else {
            *wrong += 1;
        }
    }
    let sections: Vec<SectionScore> = names
        .into_iter()
        .zip(&counts)
        .map(|(name, &(correct, incorrect))| section_score(name, correct, incorrect))
        .collect();
    let correct = sections.iter().map(|s| s.correct).sum();
    let incorrect = sections.iter().map(|s| s.incorrect).sum();
    Ok(AnalogyReport {
        file: path.to_path_buf(),
        sections,
        total: section_score("Total accuracy".to_owned(), correct, incorrect),
        questions: total,
        oov_questions,
        oov_ratio: percentage(oov_questions, total),
        invalid_lines,
    })
}

fn section_score(section: String, correct: usize, incorrect: usize) -> SectionScore {
    let scored = correct + incorrect;
    let accuracy = if scored == 0 {
        0.0
    } else {
        correct as f64 / scored as f64
    };
    SectionScore {
        section,
        correct,
        incorrect,
        accuracy,
    }
}

/// gensim's per-question test: the first of the 5 nearest words to `b + c - a` (inputs excluded)
/// whose key is not an input key is the prediction; when all 5 are input keys, the last one is.
fn answers_correctly(
    store: &WordVectors,
    vocab: &Vocabulary,
    question: &Question,
    restrict_vocab: usize,
) -> bool {
    let [a, b, c, expected] = &question.words;
    let row = |key: &str| vocab.row(key).unwrap_or_default();
    let inputs = [(row(b), 1.0), (row(c), 1.0), (row(a), -1.0)];
    let options = SearchOptions {
        topn: 5,
        restrict_vocab: Some(restrict_vocab),
        // Questions already run in parallel.
        parallel: false,
        deadline: None,
        // gensim evaluates exactly.
        exact: true,
    };
    let ignore: HashSet<&str> = [a.as_str(), b.as_str(), c.as_str()].into();
    let mut predicted = None;
    // Without a deadline the search cannot stop early, so it always has an answer.
    let neighbors = store
        .most_similar_rows(&inputs, &options)
        .unwrap_or_default();
    for neighbor in neighbors {
        let key = vocab.key(neighbor.word);
        let usable = vocab.row(&key).is_some() && !ignore.contains(key.as_str());
        predicted = Some(key);
        if usable {
            break;
        }
    }
    predicted.as_deref() == Some(expected.as_str())
}
