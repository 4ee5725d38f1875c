//! The reader of Facebook fastText's binary model format (`.bin`, as fastText and gensim's
//! `save_facebook_model` write it): the arguments, the dictionary, the input matrix of word rows
//! and n-gram buckets, and the output matrix, which is checked for size and never read.
//!
//! Layout (native byte order, little-endian on every platform fastText ships for): magic
//! `793712314` and version (i32 each); 12 i32 arguments (`dim ws epoch minCount neg wordNgrams loss
//! model bucket minn maxn lrUpdateRate`) and f64 `t`; the dictionary (i32 `size nwords nlabels`,
//! i64 `ntokens pruneidx_size`, then per entry a NUL-terminated word, i64 count, i8 type, then
//! `pruneidx_size` i32 pairs); the input matrix (u8 quantized flag, i64 rows and columns, f32
//! values); the output matrix in the same layout; the end of the file.

use rayon::prelude::*;

use super::error::{Location, Problem};
use super::read::{ParseError, Parsed, decode_word, keep_first};
use super::{LoadOptions, StoreFormat};
use crate::word2vec::subwords::{NgramSettings, compose_in_vocabulary};

/// fastText's file-format magic number (`FASTTEXT_FILEFORMAT_MAGIC_INT32`).
pub(super) const MAGIC: i32 = 793_712_314;

/// The format versions read: 11 (fastText before 0.9) and 12 (current).
const VERSIONS: std::ops::RangeInclusive<i32> = 11..=12;

/// True when `bytes` starts with fastText's magic number.
pub(super) fn has_magic(bytes: &[u8]) -> bool {
    bytes.get(..4) == Some(&MAGIC.to_le_bytes()[..])
}

/// A position in the file and the primitive reads fastText's layout needs.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn at(&self) -> Location {
        Location::Byte(self.pos as u64)
    }

    /// The next `len` bytes, or a truncation error naming `what` was being read.
    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], ParseError> {
        let available = self.bytes.len() - self.pos;
        if available < len {
            return Err((
                self.at(),
                Problem::Truncated {
                    what,
                    needed: len as u64,
                    available: available as u64,
                },
            ));
        }
        let taken = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(taken)
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, ParseError> {
        let b = self.take(4, what)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, ParseError> {
        let b = self.take(8, what)?;
        Ok(i64::from_le_bytes(b.try_into().unwrap_or_default()))
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, ParseError> {
        Ok(self.take(1, what)?[0])
    }

    /// A count or size that must not be negative, as a `usize`.
    fn size(&mut self, field: &'static str, wide: bool) -> Result<usize, ParseError> {
        let at = self.at();
        let value = if wide {
            self.i64(field)?
        } else {
            i64::from(self.i32(field)?)
        };
        usize::try_from(value).map_err(|_| (at, Problem::BadField { field, value }))
    }
}

/// The arguments the reader uses.
struct Arguments {
    dim: usize,
    ngrams: NgramSettings,
}

/// Parses a whole fastText `.bin` file.
pub(super) fn parse_fasttext(bytes: &[u8], options: &LoadOptions) -> Result<Parsed, ParseError> {
    let mut cursor = Cursor { bytes, pos: 0 };
    let magic = cursor.i32("the magic number")?;
    if magic != MAGIC {
        return Err((Location::Byte(0), Problem::BadMagic(magic)));
    }
    let at = cursor.at();
    let version = cursor.i32("the version")?;
    if !VERSIONS.contains(&version) {
        return Err((
            at,
            Problem::Unsupported(format!("format version {version}")),
        ));
    }
    let args = read_arguments(&mut cursor)?;
    let (words, nwords) = read_dictionary(&mut cursor, options)?;
    let input_rows = read_matrix_header(&mut cursor, "input matrix", args.dim)?;
    require_equal(
        cursor.at(),
        "input matrix rows (must equal nwords + bucket)",
        input_rows,
        nwords + args.ngrams.buckets,
    )?;
    let row_bytes = args.dim * 4;
    let word_rows = cursor.take(nwords.saturating_mul(row_bytes), "the input matrix")?;
    let table_start = cursor.pos;
    let table = cursor.take(
        args.ngrams.buckets.saturating_mul(row_bytes),
        "the input matrix",
    )?;
    let output_rows = read_matrix_header(&mut cursor, "output matrix", args.dim)?;
    cursor.take(output_rows.saturating_mul(row_bytes), "the output matrix")?;
    if cursor.pos < bytes.len() {
        return Err((
            cursor.at(),
            Problem::TrailingBytes(bytes.len() - cursor.pos),
        ));
    }
    let mut vectors: Vec<f32> = word_rows[..words.len() * row_bytes]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if args.ngrams.buckets > 0 {
        vectors
            .par_chunks_mut(args.dim)
            .zip(words.par_iter())
            .for_each(|(row, word)| compose_in_vocabulary(&args.ngrams, table, word, row));
    }
    let (words, vectors) = keep_first(words, vectors, args.dim);
    Ok(Parsed {
        format: StoreFormat::FastText,
        dim: args.dim,
        words,
        vectors,
        subwords: (args.ngrams.buckets > 0).then_some((args.ngrams, table_start)),
    })
}

/// Reads the twelve i32 arguments and `t`, keeping the dimension and n-gram settings.
fn read_arguments(cursor: &mut Cursor<'_>) -> Result<Arguments, ParseError> {
    let dim_at = cursor.at();
    let dim = cursor.size("dim", false)?;
    if dim == 0 {
        return Err((dim_at, Problem::ZeroDim));
    }
    for field in [
        "ws",
        "epoch",
        "minCount",
        "neg",
        "wordNgrams",
        "loss",
        "model",
    ] {
        cursor.i32(field)?;
    }
    let buckets = cursor.size("bucket", false)?;
    let min_n = cursor.size("minn", false)?;
    let max_n = cursor.size("maxn", false)?;
    cursor.i32("lrUpdateRate")?;
    cursor.take(8, "t")?;
    Ok(Arguments {
        dim,
        ngrams: NgramSettings {
            min_n,
            max_n,
            buckets,
        },
    })
}

/// Reads the dictionary: the words kept (the first `options.limit`) and the number of words, whose
/// rows come first in the input matrix.
fn read_dictionary(
    cursor: &mut Cursor<'_>,
    options: &LoadOptions,
) -> Result<(Vec<String>, usize), ParseError> {
    let size_at = cursor.at();
    let size = cursor.size("dictionary size", false)?;
    let nwords = cursor.size("nwords", false)?;
    let labels_at = cursor.at();
    let nlabels = cursor.size("nlabels", false)?;
    if nlabels > 0 {
        return Err((
            labels_at,
            Problem::Unsupported(format!("a supervised model ({nlabels} labels)")),
        ));
    }
    require_equal(size_at, "dictionary size (must equal nwords)", size, nwords)?;
    cursor.i64("ntokens")?;
    let prune_at = cursor.at();
    if cursor.i64("pruneidx_size")? > 0 {
        return Err((
            prune_at,
            Problem::Unsupported("a pruned dictionary (a quantized .ftz model)".to_owned()),
        ));
    }
    let wanted = options.limit.map_or(nwords, |limit| limit.min(nwords));
    // Every entry takes at least 10 bytes: a lying size must not reserve more than the file holds.
    let mut words = Vec::with_capacity(wanted.min(cursor.bytes.len() / 10));
    let mut seen = std::collections::HashSet::with_capacity(words.capacity());
    for _ in 0..nwords {
        let at = cursor.at();
        let rest = &cursor.bytes[cursor.pos..];
        let Some(len) = rest.iter().position(|&b| b == 0) else {
            return Err((
                at,
                Problem::Truncated {
                    what: "a dictionary word (no NUL terminator)",
                    needed: rest.len() as u64 + 1,
                    available: rest.len() as u64,
                },
            ));
        };
        let word_bytes = cursor.take(len + 1, "a dictionary word")?;
        cursor.i64("a word count")?;
        let type_at = cursor.at();
        let entry_type = cursor.u8("an entry type")?;
        if entry_type != 0 {
            return Err((
                type_at,
                Problem::BadField {
                    field: "entry type (0 = word)",
                    value: i64::from(entry_type),
                },
            ));
        }
        if words.len() < wanted {
            let word = decode_word(&word_bytes[..len], options.lossy_utf8)
                .map_err(|p| (at, p))?
                .into_owned();
            if !seen.insert(word.clone()) {
                return Err((at, Problem::DuplicateWord(word)));
            }
            words.push(word);
        }
    }
    Ok((words, nwords))
}

/// Reads a matrix's quantized flag and shape; returns its number of rows.
fn read_matrix_header(
    cursor: &mut Cursor<'_>,
    what: &'static str,
    dim: usize,
) -> Result<usize, ParseError> {
    let flag_at = cursor.at();
    match cursor.u8(what)? {
        0 => {}
        1 => {
            return Err((
                flag_at,
                Problem::Unsupported(format!("a quantized {what} (a .ftz model)")),
            ));
        }
        other => {
            return Err((
                flag_at,
                Problem::BadField {
                    field: "quantized flag",
                    value: i64::from(other),
                },
            ));
        }
    }
    let rows = cursor.size("matrix rows", true)?;
    let cols_at = cursor.at();
    let cols = cursor.size("matrix columns", true)?;
    require_equal(cols_at, "matrix columns (must equal dim)", cols, dim)?;
    Ok(rows)
}

/// A [`Problem::BadField`] at `at` unless `value` is `expected`.
fn require_equal(
    at: Location,
    field: &'static str,
    value: usize,
    expected: usize,
) -> Result<(), ParseError> {
    if value == expected {
        return Ok(());
    }
    let value = i64::try_from(value).unwrap_or(i64::MAX);
    Err((at, Problem::BadField { field, value }))
}
