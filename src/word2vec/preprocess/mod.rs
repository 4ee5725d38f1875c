//! Corpus preprocessing for word2vec training: gensim 4.4.0's
//! `gensim.utils.simple_preprocess(line, deacc, min_len=2, max_len=15)`, or whitespace splitting
//! of already-tokenized text like gensim's `LineSentence`, and streaming of a corpus file as
//! sentences of at most [`MAX_SENTENCE_WORDS`] tokens.
//!
//! gensim runs on Python 3.11, whose character database is Unicode 14.0, while Rust's `char`
//! methods follow a newer Unicode and define "alphanumeric" differently (Python's `\w` excludes
//! combining marks that Rust's `Alphabetic` includes). So every character class used here comes
//! from tables generated from Python itself (`unicode14`, written by
//! `tools/gen_unicode14_tables.py`).

mod unicode14;

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use unicode_normalization::UnicodeNormalization;

/// Shortest token `simple_preprocess` keeps (its `min_len`), in code points.
pub const MIN_TOKEN_LEN: usize = 2;
/// Longest token `simple_preprocess` keeps (its `max_len`), in code points.
pub const MAX_TOKEN_LEN: usize = 15;
/// Longest sentence, in tokens: longer lines are cut into sentences of this many tokens, as
/// gensim's `LineSentence(max_sentence_length=MAX_WORDS_IN_BATCH)` does.
pub const MAX_SENTENCE_WORDS: usize = 10_000;

/// How one line of a corpus becomes tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineSplitter {
    /// gensim's `simple_preprocess(line, deacc=deacc)`: lower-cased alphabetic runs of 2 to 15
    /// characters not starting with `_`, accents removed when `deacc`.
    SimplePreprocess {
        /// Remove accents like `gensim.utils.deaccent` (NFD, drop category Mn, NFC).
        deacc: bool,
    },
    /// Already tokenized text: split on whitespace like Python's `str.split()` (`LineSentence`).
    Whitespace,
}

/// Reusable buffers for [`LineSplitter::tokenize`], so that tokenizing a line does not allocate.
#[derive(Debug, Default)]
pub struct LineBuffers {
    lowered: String,
    deaccented: String,
}

impl LineSplitter {
    /// The tokens of `line`, borrowed from `line` or from `buffers`.
    pub fn tokenize<'a>(&self, line: &'a str, buffers: &'a mut LineBuffers) -> Vec<&'a str> {
        match *self {
            LineSplitter::Whitespace => line
                .split(is_python_space)
                .filter(|t| !t.is_empty())
                .collect(),
            LineSplitter::SimplePreprocess { deacc } => {
                let LineBuffers {
                    lowered,
                    deaccented,
                } = buffers;
                python_lower(line, lowered);
                let text = if deacc {
                    deaccent(lowered, deaccented);
                    deaccented.as_str()
                } else {
                    lowered.as_str()
                };
                alphabetic_runs(text).filter(|t| keep_token(t)).collect()
            }
        }
    }
}

/// gensim's `simple_preprocess(text, deacc=deacc)` with its default `min_len=2, max_len=15`.
pub fn simple_preprocess(text: &str, deacc: bool) -> Vec<String> {
    let mut buffers = LineBuffers::default();
    LineSplitter::SimplePreprocess { deacc }
        .tokenize(text, &mut buffers)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// `simple_preprocess`'s filter: length in code points (Python's `len`) and no leading `_`.
fn keep_token(token: &str) -> bool {
    let len = token.chars().count();
    (MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&len) && !token.starts_with('_')
}

/// The maximal runs of [`is_token_char`] characters: the matches of gensim's
/// `PAT_ALPHABETIC = re.compile(r'(((?![\d])\w)+)', re.UNICODE)`.
fn alphabetic_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_token_char(c))
        .filter(|t| !t.is_empty())
}

/// Whether `c` is matched by `(?![\d])\w` in Python 3.11's `re`: alphanumeric or `_` by
/// `str.isalnum()`, and not a decimal digit.
fn is_token_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic() || c == '_';
    }
    in_ranges(unicode14::TOKEN_CHARS, c)
}

/// Python's `str.isspace()`, where `str.split()` splits (note `\x1c`..`\x1f` are whitespace).
fn is_python_space(c: char) -> bool {
    if c.is_ascii() {
        return matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ');
    }
    in_ranges(unicode14::WHITESPACE, c)
}

/// Whether `c` lies in one of the sorted, disjoint, inclusive `ranges`.
fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    let c = u32::from(c);
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

const CAPITAL_SIGMA: char = '\u{3A3}';
const SMALL_SIGMA: char = '\u{3C3}';
const FINAL_SIGMA: char = '\u{3C2}';
const CAPITAL_I_WITH_DOT: char = '\u{130}';

/// Python 3.11's `str.lower()` of `text` into `out` (cleared first): full lowercase mapping of
/// Unicode 14.0, including `İ` → `i̇` and the final-sigma rule.
fn python_lower(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        out.make_ascii_lowercase();
        return;
    }
    out.reserve(text.len());
    for (at, c) in text.char_indices() {
        match c {
            _ if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            CAPITAL_SIGMA => out.push(if is_final_sigma(text, at) {
                FINAL_SIGMA
            } else {
                SMALL_SIGMA
            }),
            CAPITAL_I_WITH_DOT => out.push_str("i\u{307}"),
            _ => out.push(lowercase_char(c)),
        }
    }
}

/// The one-character lowercase of `c` in Python's table, or `c` itself.
fn lowercase_char(c: char) -> char {
    let code = u32::from(c);
    unicode14::LOWERCASE
        .binary_search_by_key(&code, |&(from, _)| from)
        .ok()
        .and_then(|i| char::from_u32(unicode14::LOWERCASE[i].1))
        .unwrap_or(c)
}

/// Python's `handle_capital_sigma`: the sigma at byte `at` is final when a cased character
/// precedes it and none follows, skipping case-ignorable characters both ways.
fn is_final_sigma(text: &str, at: usize) -> bool {
    let not_ignorable = |c: &char| !in_ranges(unicode14::CASE_IGNORABLE, *c);
    let cased = |c: char| in_ranges(unicode14::CASED, c);
    let before = text[..at].chars().rev().find(not_ignorable);
    let after = text[at + CAPITAL_SIGMA.len_utf8()..]
        .chars()
        .find(not_ignorable);
    before.is_some_and(cased) && !after.is_some_and(cased)
}

/// `gensim.utils.deaccent`: NFD, drop nonspacing marks (category Mn), NFC; into `out`.
fn deaccent(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        return;
    }
    out.extend(
        text.nfd()
            .filter(|&c| !in_ranges(unicode14::NONSPACING_MARKS, c))
            .nfc(),
    );
}

/// Errors reading a corpus file.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The file could not be opened or read.
    #[error("cannot read corpus {}: {source}", path.display())]
    Io {
        /// The corpus file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// A line is not valid UTF-8.
    #[error("corpus {}: line {line}: invalid UTF-8 at byte offset {byte_offset}", path.display())]
    InvalidUtf8 {
        /// The corpus file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// 0-based offset of the first invalid byte from the start of the file.
        byte_offset: u64,
    },
}

/// A corpus file read as one document a line (lines end at `\n`), tokenized by a [`LineSplitter`].
#[derive(Debug, Clone)]
pub struct Corpus {
    path: PathBuf,
    tokenizer: LineSplitter,
}

impl Corpus {
    /// A corpus reading `path` with `tokenizer` (the file is opened by each pass).
    pub fn new(path: impl Into<PathBuf>, tokenizer: LineSplitter) -> Self {
        Corpus {
            path: path.into(),
            tokenizer,
        }
    }

    /// The corpus file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Streams the file once, calling `sentence` with the tokens of every line, cut into pieces
    /// of at most [`MAX_SENTENCE_WORDS`] tokens as `LineSentence` does. A line without tokens
    /// is an empty sentence for [`LineSplitter::SimplePreprocess`] (as in
    /// `[simple_preprocess(line) for line in file]`) and no sentence at all for
    /// [`LineSplitter::Whitespace`] (as in `LineSentence`); it matters for the sentence count, over
    /// which gensim decays the learning rate. Stops early with `Ok(())` once `sentence` returns
    /// `false`.
    pub fn for_each_sentence(
        &self,
        mut sentence: impl FnMut(&[&str]) -> bool,
    ) -> Result<(), CorpusError> {
        let io_error = |source| CorpusError::Io {
            path: self.path.clone(),
            source,
        };
        let file = File::open(&self.path).map_err(io_error)?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut raw = Vec::new();
        let mut buffers = LineBuffers::default();
        let (mut line_no, mut offset) = (0u64, 0u64);
        loop {
            raw.clear();
            let read = reader.read_until(b'\n', &mut raw).map_err(io_error)?;
            if read == 0 {
                return Ok(());
            }
            line_no += 1;
            let line = std::str::from_utf8(&raw).map_err(|e| CorpusError::InvalidUtf8 {
                path: self.path.clone(),
                line: line_no,
                byte_offset: offset + e.valid_up_to() as u64,
            })?;
            offset += read as u64;
            let tokens = self.tokenizer.tokenize(line, &mut buffers);
            if tokens.is_empty() {
                if self.tokenizer != LineSplitter::Whitespace && !sentence(&[]) {
                    return Ok(());
                }
                continue;
            }
            for chunk in tokens.chunks(MAX_SENTENCE_WORDS) {
                if !sentence(chunk) {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str, deacc: bool) -> Vec<String> {
        simple_preprocess(text, deacc)
    }

    #[test]
    fn ascii_runs_lowercase_and_length_filter() {
        assert_eq!(
            tokens("Hello, World! a bb 4:00pm x_y _under Ünïcode", false),
            ["hello", "world", "bb", "pm", "x_y", "ünïcode"]
        );
        // 15 characters kept, 16 dropped, counted in code points not bytes.
        assert_eq!(
            tokens("abcdefghijklmno abcdefghijklmnop", false),
            ["abcdefghijklmno"]
        );
        assert_eq!(tokens("éééééééééééééé", false), ["éééééééééééééé"]);
    }

    #[test]
    fn digits_split_tokens_but_other_numerics_do_not() {
        // `\d` is Nd only: superscript two and the vulgar fraction are `\w` but not `\d`.
        assert_eq!(
            tokens("abc123def x²y ½ab a٣b", false),
            ["abc", "def", "x²y", "½ab"]
        );
    }

    #[test]
    fn combining_marks_end_tokens_like_python() {
        // Devanagari vowel sign AA (U+093E, Mc) and virama (U+094D, Mn) are not `\w` in Python,
        // although Rust's `char::is_alphanumeric` accepts them.
        // (gensim gives ["नमस"]: न म स, then virama.)
        assert_eq!(tokens("हिन्दी नमस्ते", false), ["नमस"]);
        assert!(!is_token_char('\u{93E}') && '\u{93E}'.is_alphanumeric());
    }

    #[test]
    fn lowercase_special_cases() {
        // İ lowers to i + combining dot above (Mn), which ends the token.
        assert_eq!(tokens("İSTANBUL", false), ["stanbul"]);
        assert_eq!(tokens("İSTANBUL", true), ["istanbul"]);
        // Final sigma at the end of a word, plain sigma inside it.
        assert_eq!(tokens("ΟΔΥΣΣΕΥΣ ΣΑ", false), ["οδυσσευς", "σα"]);
    }

    #[test]
    fn deaccent_drops_nonspacing_marks_and_recomposes() {
        assert_eq!(
            tokens(
                "Šéf chomutovských komunistů dostal poštou bílý prášek",
                true
            ),
            [
                "sef",
                "chomutovskych",
                "komunistu",
                "dostal",
                "postou",
                "bily",
                "prasek"
            ]
        );
        // Without deaccenting, a decomposed accent (e + U+0301, Mn) splits the token.
        assert_eq!(tokens("cafe\u{301}s", false), ["cafe"]);
        assert_eq!(tokens("cafe\u{301}s", true), ["cafes"]);
    }

    #[test]
    fn whitespace_tokenizer_splits_like_str_split() {
        let mut buffers = LineBuffers::default();
        let line = " a\u{1c}b\u{a0}c\u{3000}D_1  e\r\n";
        assert_eq!(
            LineSplitter::Whitespace.tokenize(line, &mut buffers),
            ["a", "b", "c", "D_1", "e"]
        );
    }

    #[test]
    fn corpus_chunks_long_lines_and_reports_bad_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.txt");
        let long_line = "w ".repeat(MAX_SENTENCE_WORDS + 5);
        std::fs::write(
            &path,
            [
                b"one two\n\n".as_slice(),
                long_line.as_bytes(),
                b"\nbad \xff\n",
            ]
            .concat(),
        )
        .unwrap();
        let corpus = Corpus::new(&path, LineSplitter::Whitespace);
        let mut lengths = Vec::new();
        let err = corpus
            .for_each_sentence(|s| {
                lengths.push(s.len());
                true
            })
            .unwrap_err();
        assert_eq!(lengths, [2, MAX_SENTENCE_WORDS, 5]);
        let expected_offset = (9 + long_line.len() + 1 + 4) as u64;
        match err {
            CorpusError::InvalidUtf8 {
                line, byte_offset, ..
            } => assert_eq!((line, byte_offset), (4, expected_offset)),
            other => panic!("unexpected error {other}"),
        }
        assert!(err_message_names_file(&corpus));
    }

    #[test]
    fn empty_lines_are_sentences_only_for_simple_preprocess() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.txt");
        std::fs::write(&path, "one two\n\n42 !\nthree\n").unwrap();
        let lengths = |tokenizer| {
            let mut lengths = Vec::new();
            Corpus::new(&path, tokenizer)
                .for_each_sentence(|s| {
                    lengths.push(s.len());
                    true
                })
                .unwrap();
            lengths
        };
        assert_eq!(
            lengths(LineSplitter::SimplePreprocess { deacc: false }),
            [2, 0, 0, 1]
        );
        assert_eq!(lengths(LineSplitter::Whitespace), [2, 2, 1]);
    }

    fn err_message_names_file(corpus: &Corpus) -> bool {
        let missing = Corpus::new(
            corpus.path().with_file_name("missing.txt"),
            LineSplitter::Whitespace,
        );
        let err = missing.for_each_sentence(|_| true).unwrap_err();
        err.to_string().contains("missing.txt")
    }
}
