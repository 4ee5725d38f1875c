//! Intrinsic evaluation of a word2vec store, computing what gensim 4.4.0's
//! `KeyedVectors.evaluate_word_analogies` and `evaluate_word_pairs` compute (with
//! `dummy4unknown=False`), and the `embedserve eval` command around them.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::query::SearchOptions;
use super::store::{LoadOptions, StoreError, WordVectors};

/// Arguments of `embedserve eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// word2vec store to evaluate (binary, text or fastText `.vec`; the format is detected).
    #[arg(long)]
    pub vectors: PathBuf,
    /// Word-analogy questions in the `questions-words.txt` format (`: section` lines, then
    /// four words a line).
    #[arg(long)]
    pub analogies: Option<PathBuf>,
    /// Word-pair similarity judgements: `word<TAB>word<TAB>score` lines, `#` comments.
    #[arg(long)]
    pub pairs: Option<PathBuf>,
    /// Only the first this many words of the store take part (questions or pairs with any other
    /// word are skipped).
    #[arg(long, default_value_t = 300_000)]
    pub restrict_vocab: usize,
    /// Match words exactly instead of upper-casing both sides, as gensim does by default.
    #[arg(long)]
    pub case_sensitive: bool,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Errors of an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The store could not be loaded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An evaluation file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An evaluation file is not UTF-8.
    #[error("{}: line {line}: not valid UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// An analogy question comes before any `: section` line.
    #[error("{}: line {line}: question before the first `: section` line", path.display())]
    MissingSection {
        /// The analogy file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// No word pair could be scored: the file holds none, or all have unknown words.
    #[error("{}: no valid word pair with both words in the store's first {restrict_vocab} words", path.display())]
    NoValidPairs {
        /// The pairs file.
        path: PathBuf,
        /// The vocabulary restriction in force.
        restrict_vocab: usize,
    },
    /// Neither `--analogies` nor `--pairs` was given.
    #[error("nothing to evaluate: give --analogies and/or --pairs")]
    NothingToEvaluate,
    /// The JSON report could not be produced.
    #[error("cannot render the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

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

/// A correlation coefficient and its two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Correlation {
    /// The coefficient, in `[-1, 1]` (NaN with fewer than two pairs or constant scores).
    pub coefficient: f64,
    /// Two-sided p-value of no correlation (scipy's `pearsonr`/`spearmanr` p-value).
    pub p_value: f64,
}

/// Result of the word-pair evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairsReport {
    /// The pairs file.
    pub file: PathBuf,
    /// Pearson correlation between the judgements and the model's cosine similarities.
    pub pearson: Correlation,
    /// Spearman rank-order correlation between them.
    pub spearman: Correlation,
    /// Pairs scored.
    pub pairs: usize,
    /// Pairs skipped because a word is not among the first `restrict_vocab` words.
    pub oov_pairs: usize,
    /// `oov_pairs` as a percentage of all well-formed pairs (gensim's `oov_ratio`).
    pub oov_ratio: f64,
    /// Non-comment lines that are not `word<TAB>word<TAB>number`, skipped.
    pub invalid_lines: usize,
}

/// What `embedserve eval` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// The evaluated store.
    pub vectors: PathBuf,
    /// Words in the store.
    pub words: usize,
    /// Vector dimension.
    pub dim: usize,
    /// Words taking part (the first this many).
    pub restrict_vocab: usize,
    /// Whether words were upper-cased on both sides before matching.
    pub case_insensitive: bool,
    /// Analogy results, when `--analogies` was given.
    pub analogies: Option<AnalogyReport>,
    /// Word-pair results, when `--pairs` was given.
    pub pairs: Option<PairsReport>,
}

impl EvalReport {
    /// The report as `--json` asks: pretty JSON, or the readable text.
    pub fn render(&self, json: bool) -> Result<String, EvalError> {
        if json {
            Ok(serde_json::to_string_pretty(self)?)
        } else {
            Ok(self.to_string())
        }
    }
}

/// Runs `embedserve eval`: loads the store and evaluates the given files.
pub fn run(args: &EvalArgs) -> Result<EvalReport, EvalError> {
    if args.analogies.is_none() && args.pairs.is_none() {
        return Err(EvalError::NothingToEvaluate);
    }
    let store = WordVectors::load(&args.vectors, &LoadOptions::default())?;
    let case_insensitive = !args.case_sensitive;
    let analogies = args
        .analogies
        .as_deref()
        .map(|path| evaluate_word_analogies(&store, path, args.restrict_vocab, case_insensitive))
        .transpose()?;
    let pairs = args
        .pairs
        .as_deref()
        .map(|path| evaluate_word_pairs(&store, path, args.restrict_vocab, case_insensitive))
        .transpose()?;
    Ok(EvalReport {
        vectors: args.vectors.clone(),
        words: store.len(),
        dim: store.dim(),
        restrict_vocab: args.restrict_vocab,
        case_insensitive,
        analogies,
        pairs,
    })
}

/// The words that take part, as gensim's `ok_vocab`: the first `restrict_vocab` words (upper-cased
/// when `case_insensitive`), each mapped to the row of its first occurrence.
struct Vocabulary {
    rows: HashMap<String, usize>,
    case_insensitive: bool,
}

impl Vocabulary {
    fn new(store: &WordVectors, restrict_vocab: usize, case_insensitive: bool) -> Self {
        let mut rows = HashMap::new();
        for (index, word) in store.words().iter().take(restrict_vocab).enumerate() {
            rows.entry(Self::fold(word, case_insensitive))
                .or_insert(index);
        }
        Vocabulary {
            rows,
            case_insensitive,
        }
    }

    /// A word as it is matched: upper-cased (Python's `str.upper`) or unchanged.
    fn fold(word: &str, case_insensitive: bool) -> String {
        if case_insensitive {
            word.to_uppercase()
        } else {
            word.to_owned()
        }
    }

    fn key(&self, word: &str) -> String {
        Self::fold(word, self.case_insensitive)
    }

    fn row(&self, key: &str) -> Option<usize> {
        self.rows.get(key).copied()
    }
}

/// Reads an evaluation file as UTF-8 lines (without their line ends).
fn read_lines(path: &Path) -> Result<Vec<String>, EvalError> {
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // Like Python's line iteration, a final line end does not start another (empty) line.
    let text = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            String::from_utf8(line.to_vec()).map_err(|_| EvalError::NotUtf8 {
                path: path.to_path_buf(),
                line: i + 1,
            })
        })
        .collect()
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

/// `100 * part / whole`, 0 for an empty whole (gensim would divide by zero).
fn percentage(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
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
    };
    let ignore: HashSet<&str> = [a.as_str(), b.as_str(), c.as_str()].into();
    let mut predicted = None;
    for neighbor in store.most_similar_rows(&inputs, &options) {
        let key = vocab.key(neighbor.word);
        let usable = vocab.row(&key).is_some() && !ignore.contains(key.as_str());
        predicted = Some(key);
        if usable {
            break;
        }
    }
    predicted.as_deref() == Some(expected.as_str())
}

/// gensim's `evaluate_word_pairs` with `dummy4unknown=False`: Pearson and Spearman correlation
/// of the judgements with the cosine similarity of the pairs whose words are both known.
pub fn evaluate_word_pairs(
    store: &WordVectors,
    path: &Path,
    restrict_vocab: usize,
    case_insensitive: bool,
) -> Result<PairsReport, EvalError> {
    let vocab = Vocabulary::new(store, restrict_vocab, case_insensitive);
    let (mut gold, mut model) = (Vec::new(), Vec::new());
    let (mut oov_pairs, mut invalid_lines) = (0, 0);
    for line in read_lines(path)? {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [a, b, judgement] = fields[..] else {
            invalid_lines += 1;
            continue;
        };
        let Ok(judgement) = judgement.trim().parse::<f64>() else {
            invalid_lines += 1;
            continue;
        };
        let (Some(a), Some(b)) = (vocab.row(&vocab.key(a)), vocab.row(&vocab.key(b))) else {
            oov_pairs += 1;
            continue;
        };
        gold.push(judgement);
        model.push(f64::from(super::query::dot(
            store.unit_row(a),
            store.unit_row(b),
        )));
    }
    if gold.is_empty() {
        return Err(EvalError::NoValidPairs {
            path: path.to_path_buf(),
            restrict_vocab,
        });
    }
    Ok(PairsReport {
        file: path.to_path_buf(),
        pearson: pearson(&gold, &model),
        spearman: pearson(&ranks(&gold), &ranks(&model)),
        pairs: gold.len(),
        oov_pairs,
        oov_ratio: percentage(oov_pairs, gold.len() + oov_pairs),
        invalid_lines,
    })
}

/// Pearson's r with its two-sided p-value (scipy `pearsonr`; Spearman's rho is this on ranks).
fn pearson(x: &[f64], y: &[f64]) -> Correlation {
    let n = x.len() as f64;
    let mean_x = x.iter().sum::<f64>() / n;
    let mean_y = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mean_x, b - mean_y);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let coefficient = (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0);
    Correlation {
        coefficient,
        p_value: correlation_p_value(coefficient, x.len()),
    }
}

/// Two-sided p-value of a correlation `r` over `n` pairs under no correlation: the Student t test
/// with `n - 2` degrees of freedom, `I_{1-r²}((n-2)/2, 1/2)`.
fn correlation_p_value(r: f64, n: usize) -> f64 {
    if r.is_nan() || n < 2 {
        return f64::NAN;
    }
    if n == 2 {
        // Two points always fit a line; scipy reports p = 1.
        return 1.0;
    }
    let df = (n - 2) as f64;
    regularized_incomplete_beta(df / 2.0, 0.5, 1.0 - r * r)
}

/// Ranks starting at 1, ties given their average rank (scipy `rankdata`, method `average`).
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end share ranks start+1 ..= end.
        let average = (start + 1 + end) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = average);
        start = end;
    }
    ranks
}

/// The regularised incomplete beta function `I_x(a, b)` (continued fraction, as in Numerical
/// Recipes §6.4), accurate to about 1e-14.
fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let log_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = log_front.exp();
    // The continued fraction converges fast only on this side of the mean; use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// Lentz's evaluation of the continued fraction for `I_x(a, b)`.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPSILON: f64 = 1e-15;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..=500 {
        let m = f64::from(m);
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < EPSILON {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; relative error below 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection formula keeps the series in its accurate range.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series = COEFFICIENTS[1..]
        .iter()
        .enumerate()
        .fold(COEFFICIENTS[0], |sum, (i, c)| {
            sum + c / (x + i as f64 + 1.0)
        });
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let case = if self.case_insensitive {
            "case-insensitive"
        } else {
            "case-sensitive"
        };
        writeln!(
            f,
            "Store {}: {} words, {} dimensions (first {} words used, {case})",
            self.vectors.display(),
            self.words,
            self.dim,
            self.restrict_vocab
        )?;
        if let Some(analogies) = &self.analogies {
            write!(f, "{analogies}")?;
        }
        if let Some(pairs) = &self.pairs {
            write!(f, "{pairs}")?;
        }
        Ok(())
    }
}

impl fmt::Display for SectionScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:.1}% ({}/{})",
            self.section,
            100.0 * self.accuracy,
            self.correct,
            self.correct + self.incorrect
        )
    }
}

impl fmt::Display for AnalogyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nWord analogies ({}):", self.file.display())?;
        for section in &self.sections {
            writeln!(f, "  {section}")?;
        }
        writeln!(f, "  {}", self.total)?;
        writeln!(
            f,
            "  Questions with out-of-vocabulary words (skipped): {:.1}% ({} of {})",
            self.oov_ratio, self.oov_questions, self.questions
        )?;
        if self.invalid_lines > 0 {
            writeln!(f, "  Invalid lines skipped: {}", self.invalid_lines)?;
        }
        Ok(())
    }
}

impl fmt::Display for PairsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nWord pairs ({}):", self.file.display())?;
        writeln!(
            f,
            "  Pearson correlation coefficient: {:.4} (p-value {:.4})",
            self.pearson.coefficient, self.pearson.p_value
        )?;
        writeln!(
            f,
            "  Spearman rank-order correlation coefficient: {:.4} (p-value {:.4})",
            self.spearman.coefficient, self.spearman.p_value
        )?;
        writeln!(
            f,
            "  Pairs with unknown words (skipped): {:.1}% ({} of {})",
            self.oov_ratio,
            self.oov_pairs,
            self.pairs + self.oov_pairs
        )?;
        if self.invalid_lines > 0 {
            writeln!(f, "  Invalid lines skipped: {}", self.invalid_lines)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
        // woman + king - man, normalised, is (-0.233, 0.794, 0.561): Queen scores 0.96, so the
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
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 5.0]), [2.5, 4.0, 2.5, 1.0]);
    }

    #[test]
    fn incomplete_beta_matches_closed_forms() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1/2, 1/2) = (2/π) asin(√x).
        for x in [0.01, 0.3, 0.5, 0.77, 0.99] {
            assert!((regularized_incomplete_beta(1.0, 1.0, x) - x).abs() < 1e-13);
            assert!((regularized_incomplete_beta(3.5, 1.0, x) - x.powf(3.5)).abs() < 1e-13);
            let arcsine = 2.0 / std::f64::consts::PI * x.sqrt().asin();
            assert!((regularized_incomplete_beta(0.5, 0.5, x) - arcsine).abs() < 1e-13);
        }
    }

    #[test]
    fn run_needs_something_to_evaluate() {
        let args = EvalArgs {
            vectors: PathBuf::from("unused"),
            analogies: None,
            pairs: None,
            restrict_vocab: 300_000,
            case_sensitive: false,
            json: false,
        };
        assert!(matches!(run(&args), Err(EvalError::NothingToEvaluate)));
    }
}
