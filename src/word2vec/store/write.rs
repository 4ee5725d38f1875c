//! The store writer: byte for byte what gensim 4.4.0's `KeyedVectors.save_word2vec_format`
//! writes, replacing the file atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::StoreFormat;
use super::error::{StoreError, check_shape};
use super::float_format::push_numpy_f32;

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

/// Writes a store exactly as gensim 4.4.0's `save_word2vec_format(path, binary=...)` does (GloVe:
/// `binary=False, write_header=False`); a fastText model cannot be written.
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
    if matches!(format, StoreFormat::FastText | StoreFormat::Gensim) {
        return Err(StoreError::Unwritable(format));
    }
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
    // A bare file name's parent is "", and joining to "" leaves a name relative to the current
    // directory, which is where that file is.
    let dir = path.parent().unwrap_or_else(|| Path::new(""));
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
    // GloVe is the text format without its header (gensim's `write_header=False`).
    if format != StoreFormat::Glove {
        writeln!(out, "{} {}", words.len(), dim)?;
    }
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
            // Text and GloVe (fastText and gensim models were refused before writing).
            _ => {
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
    out.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_left_by_a_crashed_writer_are_stepped_over() {
        // A crashed writer with this process id left the temporary names of the next writes.
        // The serial is shared by every write of the process; no test writes 2,000 stores.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors.txt");
        let leftover = |serial: u64| {
            dir.path()
                .join(format!(".vectors.txt.{}.{serial}.tmp", std::process::id()))
        };
        for serial in 0..2000 {
            fs::write(leftover(serial), b"partial").unwrap();
        }
        write_store(&path, &["a"], &[1.0], 1, StoreFormat::Text).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "1 1\na 1.0\n");
        // They are not this write's to remove.
        assert!((0..2000).all(|serial| leftover(serial).exists()));
    }
}
