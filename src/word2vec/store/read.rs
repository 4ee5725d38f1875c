//! The store parser: the `count dim` header, format detection, and the binary and text bodies
//! (the C tool's formats, fastText's `.vec` and headerless GloVe text), with the location of any
//! problem; fastText's `.bin` goes to `fasttext`.

use std::borrow::Cow;

use rayon::prelude::*;

use super::error::{Location, Problem};
use super::fasttext::{has_magic, parse_fasttext};
use super::sniff::{looks_like, quote};
use super::{LoadOptions, StoreFormat, claim_word};
use crate::word2vec::index::WordTable;
use crate::word2vec::subwords::NgramSettings;

/// A parse failure before the file name is attached.
pub(super) type ParseError = (Location, Problem);

/// The content of a store file.
pub(super) struct Parsed {
    /// The format read.
    pub(super) format: StoreFormat,
    /// Dimension from the header.
    pub(super) dim: usize,
    /// Words kept (first occurrences), in file order.
    pub(super) words: WordTable,
    /// Their rows, row-major.
    pub(super) vectors: Vec<f32>,
    /// A subword model's n-gram settings and the byte offset of its n-gram table in the file.
    pub(super) subwords: Option<(NgramSettings, usize)>,
}

/// Parses a whole store file: fastText `.bin` when it starts with fastText's magic number, GloVe
/// when the first line is a word that is not a number followed by numbers, else a `count dim`
/// header and a binary or text body; `options.format` overrides the detection.
pub(super) fn parse_store(bytes: &[u8], options: &LoadOptions) -> Result<Parsed, ParseError> {
    match options.format {
        Some(StoreFormat::FastText) => return parse_fasttext(bytes, options),
        Some(StoreFormat::Glove) => return parse_glove(bytes, options),
        None if has_magic(bytes) => return parse_fasttext(bytes, options),
        None if looks_headerless(bytes) => return parse_glove(bytes, options),
        _ => {}
    }
    let (declared, dim, body_start) = parse_header(bytes)?;
    let wanted = options.limit.map_or(declared, |limit| limit.min(declared));
    let body = &bytes[body_start..];
    let format = options.format.unwrap_or_else(|| detect_format(body, dim));
    let reader = BodyReader {
        body,
        body_start,
        first_line: 2,
        dim,
        declared,
        wanted,
        lossy: options.lossy_utf8,
    };
    let (words, vectors) = match format {
        StoreFormat::Binary => reader.binary()?,
        // Text: GloVe and fastText files were parsed above, and `WordVectors::load` reads gensim
        // pickles and index files without calling this.
        _ => reader.text()?,
    };
    Ok(Parsed {
        format,
        dim,
        words,
        vectors,
        subwords: None,
    })
}

/// The first line of a file (without its newline).
fn first_line(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == b'\n').next().unwrap_or_default()
}

/// True when the first line is a GloVe record: a word that does not read as a number (a
/// `count dim` header starts with one) and at least one number after it.
fn looks_headerless(bytes: &[u8]) -> bool {
    let line = first_line(bytes).trim_ascii_end();
    let mut fields = line.split(|&b| b == b' ');
    let word_is_number = fields.next().is_some_and(|word| parse_number(word).is_ok());
    let values = headerless_dim(line);
    !word_is_number && values > 0 && parse_text_line(line, values, true, &mut []).is_ok()
}

/// Values on a headerless file's first line: its whitespace-separated fields after the word.
fn headerless_dim(line: &[u8]) -> usize {
    line.split(u8::is_ascii_whitespace)
        .filter(|field| !field.is_empty())
        .count()
        .saturating_sub(1)
}

/// Parses a GloVe file as gensim's `load_word2vec_format(..., no_header=True)` reads it: every
/// line is a record, the dimension is the number of values on the first one.
fn parse_glove(bytes: &[u8], options: &LoadOptions) -> Result<Parsed, ParseError> {
    let body = bytes.trim_ascii_end();
    if body.is_empty() {
        return Err((Location::Line(1), Problem::EmptyFile));
    }
    let dim = headerless_dim(first_line(body).trim_ascii_end());
    if dim == 0 {
        return Err((Location::Line(1), Problem::ZeroDim));
    }
    let declared = body.split(|&b| b == b'\n').count();
    let reader = BodyReader {
        body,
        body_start: 0,
        first_line: 1,
        dim,
        declared,
        wanted: options.limit.map_or(declared, |limit| limit.min(declared)),
        lossy: options.lossy_utf8,
    };
    let (words, vectors) = reader.text()?;
    Ok(Parsed {
        format: StoreFormat::Glove,
        dim,
        words,
        vectors,
        subwords: None,
    })
}

/// Parses the `count dim` line; returns both and where the body starts. A file of another known
/// format is named as such instead.
fn parse_header(bytes: &[u8]) -> Result<(usize, usize, usize), ParseError> {
    let at = Location::Line(1);
    let foreign = || looks_like(bytes).map(|format| (at, Problem::ForeignFormat(format)));
    let Some(end) = bytes.iter().position(|&b| b == b'\n') else {
        return Err(foreign().unwrap_or((at, Problem::ShortHeader)));
    };
    let text = String::from_utf8_lossy(&bytes[..end]);
    let bad = || {
        let header = quote(text.trim_end().as_bytes());
        foreign().unwrap_or((at, Problem::BadHeader(header)))
    };
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
    match parse_text_line(first_line(body), dim, true, &mut []) {
        Ok(_) => StoreFormat::Text,
        Err(_) => StoreFormat::Binary,
    }
}

/// Reads the records after the header.
struct BodyReader<'a> {
    body: &'a [u8],
    body_start: usize,
    /// Line number of the first record: 2 after a header, 1 in a headerless file.
    first_line: usize,
    dim: usize,
    declared: usize,
    wanted: usize,
    lossy: bool,
}

/// Words kept (first occurrences, in file order) and their rows.
pub(super) type Records = (WordTable, Vec<f32>);

/// Records parsed per parallel task: enough to outweigh the cost of a task.
const RECORDS_PER_TASK: usize = 1024;

impl<'a> BodyReader<'a> {
    /// Binary records: `word` (after any newlines), a space, `dim` little-endian f32. One pass
    /// finds where each record starts (a word's length is only known by reading it); the words
    /// and values are then decoded on all cores straight into the matrix.
    fn binary(&self) -> Result<Records, ParseError> {
        // Saturating: a dimension too large to address cannot fit, and fails as truncated below.
        let vector_bytes = self.dim.saturating_mul(4);
        // A lying header must not make us reserve more than the file could hold.
        let max_records = self.body.len() / vector_bytes.saturating_add(2);
        // Where each word starts and where its space is.
        let mut records: Vec<(usize, usize)> = Vec::with_capacity(self.wanted.min(max_records));
        let mut pos = 0;
        for found in 0..self.wanted {
            pos += count_leading(&self.body[pos..], |b| b == b'\n');
            let at = Location::Byte((self.body_start + pos) as u64);
            let rest = &self.body[pos..];
            if rest.is_empty() {
                return Err((at, self.missing(found)));
            }
            let Some(space) = memchr::memchr(b' ', rest) else {
                // The rest of a damaged file may be anything: name only its start.
                let word = String::from_utf8_lossy(&rest[..rest.len().min(40)]).into_owned();
                return Err((at, truncated(word, vector_bytes, 0)));
            };
            let values = &rest[space + 1..];
            if values.len() < vector_bytes {
                let word = decode_word(&rest[..space], self.lossy).map_err(|p| (at, p))?;
                let word = word.into_owned();
                let at = Location::Byte((self.body_start + pos + space + 1) as u64);
                return Err((at, truncated(word, vector_bytes, values.len())));
            }
            records.push((pos, pos + space));
            pos += space + 1 + vector_bytes;
        }
        self.check_trailing(pos, |pos| Location::Byte((self.body_start + pos) as u64))?;
        let decode = |&(start, space): &(usize, usize)| {
            decode_word(&self.body[start..space], self.lossy)
                .map_err(|p| (Location::Byte((self.body_start + start) as u64), p))
        };
        let words = first_error(
            || {
                records
                    .par_iter()
                    .with_min_len(RECORDS_PER_TASK)
                    .map(decode)
                    .collect()
            },
            || records.iter().map(decode).collect(),
        )?;
        let mut vectors = vec![0.0f32; records.len() * self.dim];
        vectors
            .par_chunks_mut(self.dim)
            .with_min_len(RECORDS_PER_TASK)
            .zip(&records)
            .for_each(|(row, &(_, space))| {
                let bytes = &self.body[space + 1..space + 1 + vector_bytes];
                for (value, b) in row.iter_mut().zip(bytes.chunks_exact(4)) {
                    *value = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            });
        Ok(keep_first(words, vectors, self.dim))
    }

    /// Text lines: `word v1 … vdim`, found in one pass, then parsed on all cores straight into
    /// the matrix.
    fn text(&self) -> Result<Records, ParseError> {
        let shortest_line = self.dim.saturating_mul(2).saturating_add(2);
        let mut lines = Vec::with_capacity(self.wanted.min(self.body.len() / shortest_line));
        let mut pos = 0;
        while lines.len() < self.wanted && pos < self.body.len() {
            let len = memchr::memchr(b'\n', &self.body[pos..]).unwrap_or(self.body.len() - pos);
            lines.push(&self.body[pos..pos + len]);
            pos = (pos + len + 1).min(self.body.len());
        }
        if lines.len() < self.wanted {
            let last_line = lines.len() + self.first_line;
            return Err((Location::Line(last_line), self.missing(lines.len())));
        }
        // Line numbers count from the first record's.
        let parse = |(i, (row, line)): (usize, (&mut [f32], &&'a [u8]))| {
            parse_text_line(line, self.dim, self.lossy, row)
                .map_err(|p| (Location::Line(i + self.first_line), p))
        };
        if lines.len().saturating_mul(self.dim) > self.body.len() {
            // More values than the body has bytes: a lying header, whose matrix must not be
            // allocated; some line is short, and is named.
            for (i, line) in lines.iter().enumerate() {
                parse((i, (&mut [][..], line)))?;
            }
        }
        let mut vectors = vec![0.0f32; lines.len() * self.dim];
        let words = first_error(
            || {
                vectors
                    .par_chunks_mut(self.dim)
                    .with_min_len(RECORDS_PER_TASK)
                    .zip(&lines)
                    .enumerate()
                    .map(parse)
                    .collect()
            },
            || {
                lines
                    .iter()
                    .enumerate()
                    .map(|(i, line)| parse((i, (&mut [][..], line))))
                    .collect()
            },
        )?;
        let first_unread_line = lines.len() + self.first_line;
        self.check_trailing(pos, |_| Location::Line(first_unread_line))?;
        Ok(keep_first(words, vectors, self.dim))
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

/// The result of `parallel`; when it failed, the first error in file order, which `sequential`
/// finds again (a parallel collect returns whichever error a thread met first).
fn first_error<T>(
    parallel: impl FnOnce() -> Result<T, ParseError>,
    sequential: impl FnOnce() -> Result<T, ParseError>,
) -> Result<T, ParseError> {
    parallel().or_else(|_| sequential())
}

/// Keeps the first row of each word (with a warning for the others, as gensim does), moving the
/// kept rows together, and indexes the words.
pub(super) fn keep_first(
    words: Vec<impl AsRef<str>>,
    mut vectors: Vec<f32>,
    dim: usize,
) -> Records {
    let mut table = WordTable::with_capacity(words.len());
    for (row, word) in words.iter().enumerate() {
        let next = table.len();
        if claim_word(&mut table, word.as_ref()) && row != next {
            vectors.copy_within(row * dim..(row + 1) * dim, next * dim);
        }
    }
    vectors.truncate(table.len() * dim);
    (table, vectors)
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
pub(super) fn decode_word(bytes: &[u8], lossy: bool) -> Result<Cow<'_, str>, Problem> {
    if bytes.is_empty() {
        return Err(Problem::EmptyWord);
    }
    match std::str::from_utf8(bytes) {
        Ok(word) => Ok(Cow::Borrowed(word)),
        Err(_) if lossy => Ok(String::from_utf8_lossy(bytes)),
        Err(_) => Err(Problem::NotUtf8(bytes.to_vec())),
    }
}

/// Parses one text record: the word up to the first space, then exactly `dim` numbers separated
/// by whitespace, written to `row` as far as it reaches (an empty `row` only checks the line);
/// trailing whitespace (fastText writes a space, Windows files a `\r`) is ignored.
fn parse_text_line<'a>(
    line: &'a [u8],
    dim: usize,
    lossy: bool,
    row: &mut [f32],
) -> Result<Cow<'a, str>, Problem> {
    let line = line.trim_ascii_end();
    let (word, rest) = match line.iter().position(|&b| b == b' ') {
        Some(space) => (&line[..space], &line[space + 1..]),
        None => (line, &[][..]),
    };
    let word = decode_word(word, lossy)?;
    let mut found = 0;
    for token in rest
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
    {
        if found < dim {
            let value = parse_number(token)?;
            if let Some(slot) = row.get_mut(found) {
                *slot = value;
            }
        }
        found += 1;
    }
    if found != dim {
        return Err(Problem::WrongValueCount {
            expected: dim,
            found,
        });
    }
    Ok(word)
}

/// Parses a decimal value as gensim does (`np.float32(text)`): to f64 first, then rounded to f32.
fn parse_number(token: &[u8]) -> Result<f32, Problem> {
    std::str::from_utf8(token)
        .ok()
        .and_then(|text| text.parse::<f64>().ok())
        .map(|value| value as f32)
        .ok_or_else(|| Problem::BadNumber(String::from_utf8_lossy(token).into_owned()))
}
