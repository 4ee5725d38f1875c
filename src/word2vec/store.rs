//! word2vec vector stores on disk: the writer (byte-for-byte what gensim 4.4.0's
//! `KeyedVectors.save_word2vec_format` writes) and the reader ([`WordVectors`], gensim's
//! `KeyedVectors`), for the C tool's binary format, its text format and fastText `.vec` files.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::{self, Write as _};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::vector::l2_normalize;

/// Format of a word2vec store on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFormat {
    /// The C tool's binary format: a `count dim` header line, then per word the word, a space and
    /// `dim` little-endian f32 values (the C tool adds a newline after each vector, gensim does not).
    Binary,
    /// The C tool's text format, also fastText's `.vec`: a `count dim` header line, then one line per
    /// word with the word and `dim` decimal values separated by spaces.
    Text,
}

impl fmt::Display for StoreFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreFormat::Binary => "binary",
            StoreFormat::Text => "text",
        })
    }
}

/// Where in a store file a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line number (text stores, and the header of any store).
    Line(usize),
    /// A 0-based byte offset from the start of the file (binary stores).
    Byte(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(line) => write!(f, "line {line}"),
            Location::Byte(offset) => write!(f, "byte offset {offset}"),
        }
    }
}

/// What is wrong with a malformed store file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// The file ends before its `count dim` header line is complete.
    #[error("the file ends inside the `count dim` header line")]
    ShortHeader,
    /// The header line is not two non-negative integers.
    #[error("header {0:?} is not `count dim` (two non-negative integers)")]
    BadHeader(String),
    /// The header declares vectors of dimension 0.
    #[error("the header declares vectors of dimension 0")]
    ZeroDim,
    /// The file holds fewer words than its header declares.
    #[error("the header declares {declared} words but the file ends after {found}")]
    MissingWords {
        /// Word count from the header.
        declared: usize,
        /// Words actually present.
        found: usize,
    },
    /// The file ends inside a binary vector.
    #[error("vector of {word:?} is truncated: {needed} bytes needed, {available} left")]
    TruncatedVector {
        /// The word whose vector is cut short.
        word: String,
        /// Bytes a full vector takes (`dim * 4`, saturating at `usize::MAX`).
        needed: usize,
        /// Bytes left in the file.
        available: usize,
    },
    /// A text line has a different number of values than the header's dimension.
    #[error("expected {expected} values after the word, found {found}")]
    WrongValueCount {
        /// Dimension from the header.
        expected: usize,
        /// Values on the line.
        found: usize,
    },
    /// A text value is not a decimal number.
    #[error("{0:?} is not a number")]
    BadNumber(String),
    /// A word is empty: a line or record starts with a space, or a text line is blank.
    #[error("empty word (the line or record starts with a space, or is blank)")]
    EmptyWord,
    /// A word (or the header) is not valid UTF-8 and lossy decoding was not requested.
    #[error(
        "word is not valid UTF-8 (bytes {0:?}); load with lossy UTF-8 decoding to replace bad bytes"
    )]
    NotUtf8(Vec<u8>),
    /// Data follows the last word the header declares.
    #[error("data follows the {0} words the header declares")]
    TrailingData(usize),
}

/// Errors reading or writing a word2vec store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be read, written or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not a well-formed store.
    #[error("{}: {location}: {problem}", path.display())]
    Malformed {
        /// The store file.
        path: PathBuf,
        /// Where the problem was found.
        location: Location,
        /// What the problem is.
        problem: Problem,
    },
    /// `vectors` passed to [`write_store`] or [`WordVectors::from_parts`] is not `words × dim` values.
    #[error("{values} values cannot be {words} vectors of dimension {dim}")]
    ShapeMismatch {
        /// Number of words.
        words: usize,
        /// Declared dimension.
        dim: usize,
        /// Number of values given.
        values: usize,
    },
    /// A word cannot be stored: it is empty or holds a space or newline, which delimit words.
    #[error(
        "word #{index} ({word:?}) cannot be stored: it is empty or contains a space or newline"
    )]
    InvalidWord {
        /// Position of the word in the input.
        index: usize,
        /// The word.
        word: String,
    },
    /// A dimension of 0 was given.
    #[error("vector dimension must be at least 1")]
    ZeroDim,
}

impl StoreError {
    fn io(path: &Path, source: io::Error) -> Self {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Checks that `values` floats are `words` rows of `dim` and `dim` is usable.
fn check_shape(words: usize, values: usize, dim: usize) -> Result<(), StoreError> {
    if dim == 0 {
        return Err(StoreError::ZeroDim);
    }
    if words.checked_mul(dim) != Some(values) {
        return Err(StoreError::ShapeMismatch { words, dim, values });
    }
    Ok(())
}

/// A word the reader could not give back unchanged is refused: both formats end a word at the
/// first space, and gensim strips leading newlines from binary words.
fn check_word(index: usize, word: &str) -> Result<(), StoreError> {
    if word.is_empty() || word.contains([' ', '\n']) {
        return Err(StoreError::InvalidWord {
            index,
            word: word.to_owned(),
        });
    }
    Ok(())
}

/// Writes a store exactly as gensim 4.4.0's `save_word2vec_format(path, binary=...)` does.
///
/// `words[i]` has the row `vectors[i*dim..(i+1)*dim]`. The file is written to a temporary file in
/// the same directory, synced and renamed over `path`, so a failure never leaves a partial file.
pub fn write_store<S: AsRef<str>>(
    path: &Path,
    words: &[S],
    vectors: &[f32],
    dim: usize,
    format: StoreFormat,
) -> Result<(), StoreError> {
    check_shape(words.len(), vectors.len(), dim)?;
    for (index, word) in words.iter().enumerate() {
        check_word(index, word.as_ref())?;
    }
    let (tmp_path, file) = create_temp_beside(path)?;
    let written = write_records(file, words, vectors, dim, format)
        .map_err(|e| StoreError::io(&tmp_path, e))
        .and_then(|()| fs::rename(&tmp_path, path).map_err(|e| StoreError::io(path, e)));
    if written.is_err() {
        // Best effort: the temporary file is garbage whatever made the write fail.
        let _ = fs::remove_file(&tmp_path);
    }
    written
}

/// Creates a fresh temporary file next to `path` (same directory, so the final rename is atomic).
fn create_temp_beside(path: &Path) -> Result<(PathBuf, File), StoreError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".to_owned());
    loop {
        let serial = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{serial}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            // Left over by a crashed writer that had the same process id: try the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(StoreError::io(&tmp, e)),
        }
    }
}

/// Writes header and records to `file`, then syncs it to disk.
fn write_records<S: AsRef<str>>(
    file: File,
    words: &[S],
    vectors: &[f32],
    dim: usize,
    format: StoreFormat,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, file);
    writeln!(out, "{} {}", words.len(), dim)?;
    let mut line = String::new();
    for (word, row) in words.iter().zip(vectors.chunks_exact(dim)) {
        match format {
            StoreFormat::Binary => {
                out.write_all(word.as_ref().as_bytes())?;
                out.write_all(b" ")?;
                for value in row {
                    out.write_all(&value.to_le_bytes())?;
                }
            }
            StoreFormat::Text => {
                line.clear();
                line.push_str(word.as_ref());
                for &value in row {
                    line.push(' ');
                    push_numpy_f32(&mut line, value);
                }
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
        }
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// How to read a store file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Read the file as this format instead of detecting it from the content.
    pub format: Option<StoreFormat>,
    /// Read only the first this many words (gensim's `limit`); the rest of the file is not checked.
    pub limit: Option<usize>,
    /// Replace bytes that are not UTF-8 in words with U+FFFD (gensim's `unicode_errors='replace'`)
    /// instead of failing.
    pub lossy_utf8: bool,
}

/// A loaded word2vec store, gensim's `KeyedVectors`: words in file order, their vectors exactly as
/// stored, and a contiguous matrix of the same vectors scaled to unit length for cosine search.
#[derive(Debug, Clone)]
pub struct WordVectors {
    path: Option<PathBuf>,
    format: Option<StoreFormat>,
    dim: usize,
    words: Vec<String>,
    index: HashMap<String, usize>,
    vectors: Vec<f32>,
    unit: Vec<f32>,
}

/// Stores at least this many rows are normalised on all cores.
const PARALLEL_NORMALISE_ROWS: usize = 16_384;

impl WordVectors {
    /// Reads a store file, detecting its format unless `options.format` says it.
    ///
    /// Duplicate words keep their first vector (with a warning), as gensim does. The whole file
    /// is read into memory first, so loading needs about its size in memory on top of the store.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Self, StoreError> {
        let bytes = fs::read(path).map_err(|e| StoreError::io(path, e))?;
        let parsed =
            parse_store(&bytes, options).map_err(|(location, problem)| StoreError::Malformed {
                path: path.to_path_buf(),
                location,
                problem,
            })?;
        let mut store = Self::assemble(parsed.words, parsed.vectors, parsed.dim);
        store.path = Some(path.to_path_buf());
        store.format = Some(parsed.format);
        Ok(store)
    }

    /// Builds a store from words and their row-major vectors (`words[i]` has row `i`), as if it
    /// had been loaded; duplicate words keep their first vector.
    pub fn from_parts(
        words: Vec<String>,
        vectors: Vec<f32>,
        dim: usize,
    ) -> Result<Self, StoreError> {
        check_shape(words.len(), vectors.len(), dim)?;
        let mut kept_words = Vec::with_capacity(words.len());
        let mut kept = Vec::with_capacity(vectors.len());
        let mut seen = HashMap::with_capacity(words.len());
        for (word, row) in words.into_iter().zip(vectors.chunks_exact(dim)) {
            if claim_word(&mut seen, &word, kept_words.len()) {
                kept_words.push(word);
                kept.extend_from_slice(row);
            }
        }
        Ok(Self::assemble(kept_words, kept, dim))
    }

    /// Indexes unique words and computes the unit-length matrix.
    fn assemble(words: Vec<String>, vectors: Vec<f32>, dim: usize) -> Self {
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i))
            .collect();
        let unit = normalise_rows(&vectors, dim);
        WordVectors {
            path: None,
            format: None,
            dim,
            words,
            index,
            vectors,
            unit,
        }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when the store holds no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Dimension of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// All words, in file order (row order).
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The word of row `i`, if there is one.
    pub fn word(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(String::as_str)
    }

    /// Row of `word`, matched exactly (case-sensitive).
    pub fn index_of(&self, word: &str) -> Option<usize> {
        self.index.get(word).copied()
    }

    /// Row `i` exactly as stored in the file.
    pub fn vector(&self, i: usize) -> Option<&[f32]> {
        row(&self.vectors, self.dim, i)
    }

    /// Row `i` scaled to unit length (all zeros for a zero vector).
    pub fn unit_vector(&self, i: usize) -> Option<&[f32]> {
        row(&self.unit, self.dim, i)
    }

    /// All unit-length rows as one row-major `len() × dim()` matrix.
    pub fn unit_matrix(&self) -> &[f32] {
        &self.unit
    }

    /// Format of the file the store was loaded from (`None` when built with [`Self::from_parts`]).
    pub fn format(&self) -> Option<StoreFormat> {
        self.format
    }

    /// File the store was loaded from (`None` when built with [`Self::from_parts`]).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

/// Row `i` of a row-major matrix of width `dim`.
fn row(matrix: &[f32], dim: usize, i: usize) -> Option<&[f32]> {
    matrix.get(i.checked_mul(dim)?..(i + 1).checked_mul(dim)?)
}

/// Records `word` at row `next` unless it is already known; a duplicate is logged and refused.
fn claim_word(seen: &mut HashMap<String, usize>, word: &str, next: usize) -> bool {
    match seen.entry(word.to_owned()) {
        Entry::Vacant(slot) => {
            slot.insert(next);
            true
        }
        Entry::Occupied(_) => {
            tracing::warn!(
                word,
                "duplicate word in word2vec store, keeping only its first vector"
            );
            false
        }
    }
}

/// Each row divided by its Euclidean length (gensim's `get_normed_vectors`); zero rows stay zero.
fn normalise_rows(vectors: &[f32], dim: usize) -> Vec<f32> {
    let mut unit = vectors.to_vec();
    if vectors.len() / dim >= PARALLEL_NORMALISE_ROWS {
        unit.par_chunks_mut(dim).for_each(l2_normalize);
    } else {
        unit.chunks_mut(dim).for_each(l2_normalize);
    }
    unit
}

/// A parse failure before the file name is attached.
type ParseError = (Location, Problem);

/// The content of a store file.
struct Parsed {
    format: StoreFormat,
    dim: usize,
    words: Vec<String>,
    vectors: Vec<f32>,
}

/// Parses a whole store file.
fn parse_store(bytes: &[u8], options: &LoadOptions) -> Result<Parsed, ParseError> {
    let (declared, dim, body_start) = parse_header(bytes)?;
    let wanted = options.limit.map_or(declared, |limit| limit.min(declared));
    let body = &bytes[body_start..];
    let format = options.format.unwrap_or_else(|| detect_format(body, dim));
    let reader = BodyReader {
        body,
        body_start,
        dim,
        declared,
        wanted,
        lossy: options.lossy_utf8,
    };
    let (words, vectors) = match format {
        StoreFormat::Binary => reader.binary()?,
        StoreFormat::Text => reader.text()?,
    };
    Ok(Parsed {
        format,
        dim,
        words,
        vectors,
    })
}

/// Parses the `count dim` line; returns both and where the body starts.
fn parse_header(bytes: &[u8]) -> Result<(usize, usize, usize), ParseError> {
    let at = Location::Line(1);
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or((at, Problem::ShortHeader))?;
    let text = String::from_utf8_lossy(&bytes[..end]);
    let bad = || (at, Problem::BadHeader(text.trim_end().to_owned()));
    let numbers: Vec<usize> = text
        .split_ascii_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let [count, dim] = numbers[..] else {
        return Err(bad());
    };
    if dim == 0 {
        return Err((at, Problem::ZeroDim));
    }
    Ok((count, dim, end + 1))
}

/// Text when the first record is a line holding a word and exactly `dim` numbers, else binary.
fn detect_format(body: &[u8], dim: usize) -> StoreFormat {
    let first_line = body.split(|&b| b == b'\n').next().unwrap_or_default();
    match parse_text_line(first_line, dim, true) {
        Ok(_) => StoreFormat::Text,
        Err(_) => StoreFormat::Binary,
    }
}

/// Reads the records after the header.
struct BodyReader<'a> {
    body: &'a [u8],
    body_start: usize,
    dim: usize,
    declared: usize,
    wanted: usize,
    lossy: bool,
}

/// A parsed text line: the word and its values.
type TextRecord = (String, Vec<f32>);

/// Text lines parsed per parallel task.
const TEXT_LINES_PER_TASK: usize = 4096;

impl BodyReader<'_> {
    /// Binary records: `word` (after any newlines), a space, `dim` little-endian f32.
    fn binary(&self) -> Result<(Vec<String>, Vec<f32>), ParseError> {
        // Saturating: a dimension too large to address cannot fit, and fails as truncated below.
        let vector_bytes = self.dim.saturating_mul(4);
        // A lying header must not make us reserve more than the file could hold.
        let max_records = self.body.len() / vector_bytes.saturating_add(2);
        let mut words = Vec::with_capacity(self.wanted.min(max_records));
        let mut vectors = Vec::with_capacity(self.wanted.min(max_records) * self.dim);
        let mut seen = HashMap::with_capacity(words.capacity());
        let mut pos = 0;
        for found in 0..self.wanted {
            pos += count_leading(&self.body[pos..], |b| b == b'\n');
            let at = Location::Byte((self.body_start + pos) as u64);
            let rest = &self.body[pos..];
            if rest.is_empty() {
                return Err((at, self.missing(found)));
            }
            let Some(space) = rest.iter().position(|&b| b == b' ') else {
                let word = String::from_utf8_lossy(rest).into_owned();
                return Err((at, truncated(word, vector_bytes, 0)));
            };
            let word = decode_word(&rest[..space], self.lossy).map_err(|p| (at, p))?;
            let values = &rest[space + 1..];
            if values.len() < vector_bytes {
                let at = Location::Byte((self.body_start + pos + space + 1) as u64);
                return Err((at, truncated(word, vector_bytes, values.len())));
            }
            if claim_word(&mut seen, &word, words.len()) {
                vectors.extend(
                    values[..vector_bytes]
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                );
                words.push(word);
            }
            pos += space + 1 + vector_bytes;
        }
        self.check_trailing(pos, |pos| Location::Byte((self.body_start + pos) as u64))?;
        Ok((words, vectors))
    }

    /// Text lines: `word v1 … vdim`, parsed in parallel blocks.
    fn text(&self) -> Result<(Vec<String>, Vec<f32>), ParseError> {
        let shortest_line = self.dim.saturating_mul(2).saturating_add(2);
        let mut lines = Vec::with_capacity(self.wanted.min(self.body.len() / shortest_line));
        let mut pos = 0;
        while lines.len() < self.wanted && pos < self.body.len() {
            let len = self.body[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(self.body.len() - pos);
            lines.push(&self.body[pos..pos + len]);
            pos = (pos + len + 1).min(self.body.len());
        }
        if lines.len() < self.wanted {
            let last_line = lines.len() + 2;
            return Err((Location::Line(last_line), self.missing(lines.len())));
        }
        // Line numbers: the header is line 1, the first record line 2.
        let blocks: Vec<Result<Vec<TextRecord>, ParseError>> = lines
            .par_chunks(TEXT_LINES_PER_TASK)
            .enumerate()
            .map(|(block, chunk)| {
                chunk
                    .iter()
                    .enumerate()
                    .map(|(i, line)| {
                        parse_text_line(line, self.dim, self.lossy)
                            .map_err(|p| (Location::Line(block * TEXT_LINES_PER_TASK + i + 2), p))
                    })
                    .collect()
            })
            .collect();
        // Every line parsed, so the file really holds `lines.len() * dim` values.
        let blocks = blocks.into_iter().collect::<Result<Vec<_>, _>>()?;
        let mut words = Vec::with_capacity(lines.len());
        let mut vectors = Vec::with_capacity(lines.len() * self.dim);
        let mut seen = HashMap::with_capacity(lines.len());
        for block in blocks {
            for (word, values) in block {
                if claim_word(&mut seen, &word, words.len()) {
                    vectors.extend_from_slice(&values);
                    words.push(word);
                }
            }
        }
        let first_unread_line = lines.len() + 2;
        self.check_trailing(pos, |_| Location::Line(first_unread_line))?;
        Ok((words, vectors))
    }

    /// The problem for a body that ends after `found` of the wanted words.
    fn missing(&self, found: usize) -> Problem {
        Problem::MissingWords {
            declared: self.declared,
            found,
        }
    }

    /// Fails if anything but whitespace follows the last record, unless a limit cut reading short.
    fn check_trailing(
        &self,
        pos: usize,
        location: impl Fn(usize) -> Location,
    ) -> Result<(), ParseError> {
        if self.wanted < self.declared {
            return Ok(());
        }
        let rest = &self.body[pos.min(self.body.len())..];
        let blank = count_leading(rest, |b| b.is_ascii_whitespace());
        if blank < rest.len() {
            return Err((location(pos + blank), Problem::TrailingData(self.declared)));
        }
        Ok(())
    }
}

/// Number of leading bytes of `bytes` that satisfy `pred`.
fn count_leading(bytes: &[u8], pred: impl Fn(u8) -> bool) -> usize {
    bytes.iter().position(|&b| !pred(b)).unwrap_or(bytes.len())
}

/// The problem for a binary vector cut short.
fn truncated(word: String, needed: usize, available: usize) -> Problem {
    Problem::TruncatedVector {
        word,
        needed,
        available,
    }
}

/// Decodes a word's bytes, strictly or replacing invalid UTF-8.
fn decode_word(bytes: &[u8], lossy: bool) -> Result<String, Problem> {
    if bytes.is_empty() {
        return Err(Problem::EmptyWord);
    }
    match std::str::from_utf8(bytes) {
        Ok(word) => Ok(word.to_owned()),
        Err(_) if lossy => Ok(String::from_utf8_lossy(bytes).into_owned()),
        Err(_) => Err(Problem::NotUtf8(bytes.to_vec())),
    }
}

/// Parses one text record: the word up to the first space, then exactly `dim` numbers separated
/// by whitespace; trailing whitespace (fastText writes a space, Windows files a `\r`) is ignored.
fn parse_text_line(line: &[u8], dim: usize, lossy: bool) -> Result<TextRecord, Problem> {
    let line = line.trim_ascii_end();
    let (word, rest) = match line.iter().position(|&b| b == b' ') {
        Some(space) => (&line[..space], &line[space + 1..]),
        None => (line, &[][..]),
    };
    let word = decode_word(word, lossy)?;
    // A line holds at most one value per two bytes, whatever the header claims.
    let mut values = Vec::with_capacity(dim.min(rest.len() / 2 + 1));
    let mut found = 0;
    for token in rest
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
    {
        found += 1;
        if found <= dim {
            values.push(parse_number(token)?);
        }
    }
    if found != dim {
        return Err(Problem::WrongValueCount {
            expected: dim,
            found,
        });
    }
    Ok((word, values))
}

/// Parses a decimal value as gensim does (`np.float32(text)`): to f64 first, then rounded to f32.
fn parse_number(token: &[u8]) -> Result<f32, Problem> {
    std::str::from_utf8(token)
        .ok()
        .and_then(|text| text.parse::<f64>().ok())
        .map(|value| value as f32)
        .ok_or_else(|| Problem::BadNumber(String::from_utf8_lossy(token).into_owned()))
}

/// Appends `value` as numpy 2's `str(np.float32(value))` spells it, which is what gensim writes:
/// the shortest digits that read back as the same f32 (a tie between two such digit strings goes
/// to the even one, as numpy's Dragon4 does), positional for `1e-4 <= |v| < 1e6` (and 0) with at
/// least one decimal (`1.0`), otherwise scientific with a signed two-digit-minimum exponent and no
/// trailing `.0` (`1e-05`, `1.2345679e+08`); `nan`, `inf`, `-inf`.
pub(crate) fn push_numpy_f32(out: &mut String, value: f32) {
    if value.is_nan() {
        out.push_str("nan");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value < 0.0 { "-inf" } else { "inf" });
        return;
    }
    if value.is_sign_negative() {
        out.push('-');
    }
    let magnitude = value.abs();
    let (digits, exponent) = shortest_digits(magnitude);
    // numpy compares the f32 against long-double bounds, hence the comparison in f64.
    let wide = f64::from(magnitude);
    if magnitude == 0.0 || (1e-4..1e6).contains(&wide) {
        push_positional(out, &digits, exponent);
    } else {
        push_scientific(out, &digits, exponent);
    }
}

/// Shortest round-trip decimal digits of a finite non-negative `value` and the decimal exponent of
/// the first digit (`value ≈ 0.d1d2… × 10^(exponent+1)`), ties resolved to the even digit.
fn shortest_digits(value: f32) -> (Vec<u8>, i32) {
    let (digits, exponent) = split_scientific(&format!("{value:e}"));
    // Rust's shortest-digit search breaks an exact tie upwards, numpy to the even digit. A tie
    // means the exact binary value has exactly one more significant digit, and it is a 5; the
    // cheap one-more-digit rounding below rules most values out before the exact expansion.
    let one_more = format!("{value:.prec$e}", prec = digits.len());
    if !one_more
        .split_once('e')
        .is_some_and(|(m, _)| m.ends_with('5'))
    {
        return (digits, exponent);
    }
    let (exact, exact_exponent) = split_scientific(&format!("{value:.120e}"));
    let exact_len = exact.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
    let is_tie = exact_len == digits.len() + 1 && exact[exact_len - 1] == b'5';
    if !is_tie || digits.last().is_some_and(|d| d % 2 == 0) {
        return (digits, exponent);
    }
    let truncated = exact[..digits.len()].to_vec();
    let (other, other_exponent) = if truncated == digits {
        increment_digits(truncated, exact_exponent)
    } else {
        (truncated, exact_exponent)
    };
    if parse_digits(&other, other_exponent) == Some(value) {
        (other, other_exponent)
    } else {
        (digits, exponent)
    }
}

/// Splits Rust's `{:e}` output (`d.ddde±x`, no sign) into its digits and exponent.
fn split_scientific(text: &str) -> (Vec<u8>, i32) {
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// Adds one unit in the last place to a digit string, carrying into a new leading digit if needed.
fn increment_digits(mut digits: Vec<u8>, mut exponent: i32) -> (Vec<u8>, i32) {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return (digits, exponent);
        }
    }
    digits.insert(0, b'1');
    digits.pop();
    exponent += 1;
    (digits, exponent)
}

/// Reads a digit string and exponent back as an f32.
fn parse_digits(digits: &[u8], exponent: i32) -> Option<f32> {
    let mut text = String::from_utf8_lossy(digits).into_owned();
    text.push_str(&format!("e{}", exponent - (digits.len() as i32 - 1)));
    text.parse().ok()
}

/// Positional spelling: `123.456`, `0.00012`, `100.0`.
fn push_positional(out: &mut String, digits: &[u8], exponent: i32) {
    let digit = |i: usize| char::from(digits.get(i).copied().unwrap_or(b'0'));
    if exponent < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n(
            '0',
            exponent.unsigned_abs() as usize - 1,
        ));
        out.extend(digits.iter().map(|&d| char::from(d)));
        return;
    }
    let int_len = exponent as usize + 1;
    out.extend((0..int_len).map(digit));
    out.push('.');
    if digits.len() > int_len {
        out.extend(digits[int_len..].iter().map(|&d| char::from(d)));
    } else {
        out.push('0');
    }
}

/// Scientific spelling: `1e-05`, `1.2345679e+08`.
fn push_scientific(out: &mut String, digits: &[u8], exponent: i32) {
    let (first, rest) = digits.split_first().unwrap_or((&b'0', &[]));
    out.push(char::from(*first));
    if !rest.is_empty() {
        out.push('.');
        out.extend(rest.iter().map(|&d| char::from(d)));
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numpy(value: f32) -> String {
        let mut s = String::new();
        push_numpy_f32(&mut s, value);
        s
    }

    /// Writes `bytes` to a fresh file and loads it.
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
            assert_eq!(store.words(), &WORDS);
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
            assert_eq!(WordVectors::load(&path, &forced).unwrap().words(), &WORDS);
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
        assert_eq!(store.words(), &["x", "y"]);
        assert_eq!(store.vector(1), Some(&[3.0, 4.0][..]));
        assert_eq!(store.unit_vector(1), Some(&[0.6, 0.8][..]));
    }

    #[test]
    fn reads_fasttext_vec_lines_with_trailing_space_and_crlf() {
        let text = "2 3\r\nhello 0.5 -1 2e-3 \r\nworld 1 2 3 \n";
        let store = load_bytes(text.as_bytes(), &LoadOptions::default()).unwrap();
        assert_eq!(store.format(), Some(StoreFormat::Text));
        assert_eq!(store.words(), &["hello", "world"]);
        assert_eq!(store.vector(0), Some(&[0.5, -1.0, 2e-3][..]));
    }

    #[test]
    fn zero_rows_stay_zero_when_normalised() {
        let store = load_bytes(b"1 2\nz 0 0\n", &LoadOptions::default()).unwrap();
        assert_eq!(store.unit_vector(0), Some(&[0.0, 0.0][..]));
    }

    #[test]
    fn duplicates_keep_the_first_vector() {
        let text = b"3 1\na 1\nb 2\na 3\n";
        let store = load_bytes(text, &LoadOptions::default()).unwrap();
        assert_eq!(store.words(), &["a", "b"]);
        assert_eq!(store.vector(store.index_of("a").unwrap()), Some(&[1.0][..]));
        let mut bytes = b"2 1\n".to_vec();
        bytes.extend(binary_record("q", &[5.0]));
        bytes.extend(binary_record("q", &[6.0]));
        let store = load_bytes(&bytes, &LoadOptions::default()).unwrap();
        assert_eq!((store.len(), store.vector(0)), (1, Some(&[5.0][..])));
        let parts =
            WordVectors::from_parts(vec!["k".into(), "k".into()], vec![1.0, 2.0], 1).unwrap();
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
        assert_eq!(store.words(), &["a", "b"]);
        let err = load_bytes(text, &limit(10)).map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("line 4"), "{err}");
        let mut bytes = b"2 1\n".to_vec();
        bytes.extend(binary_record("p", &[1.0]));
        bytes.extend(b"q \x01");
        assert_eq!(load_bytes(&bytes, &limit(1)).unwrap().words(), &["p"]);
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
        let lossy = LoadOptions {
            lossy_utf8: true,
            ..LoadOptions::default()
        };
        let store = load_bytes(&bytes, &lossy).unwrap();
        // One replacement for the incomplete sequence, as Python's `errors='replace'` gives.
        assert_eq!(store.words(), &["caf\u{fffd}"]);
        let text = b"1 1\nna\xefve 1.5\n";
        assert!(matches!(
            malformed(text, &LoadOptions::default()),
            (Location::Line(2), Problem::NotUtf8(_))
        ));
        assert_eq!(load_bytes(text, &lossy).unwrap().words(), &["na\u{fffd}ve"]);
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
                b"2 2\na 1 2\nb 3\n",
                3,
                Problem::WrongValueCount {
                    expected: 2,
                    found: 1,
                },
            ),
            (
                b"2 2\na 1 2\nb 3 4 5\n",
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
    fn formats_floats_as_numpy_str() {
        // Expected strings are numpy 2.4's str(np.float32(v)).
        let cases: &[(f32, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1e-5, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "1e-04"),
            (0.00012345, "0.00012345"),
            (123.456, "123.456"),
            (999_999.94, "999999.94"),
            (1e6, "1e+06"),
            (12_345_678.0, "1.2345678e+07"),
            (1e15, "1e+15"),
            (3.4e38, "3.4e+38"),
            (1e-45, "1e-45"),
            (-0.3, "-0.3"),
            (-5e-5, "-5e-05"),
            (f32::NAN, "nan"),
            (f32::INFINITY, "inf"),
            (f32::NEG_INFINITY, "-inf"),
        ];
        for &(value, expected) in cases {
            assert_eq!(numpy(value), expected, "formatting {value:e}");
        }
    }
}
