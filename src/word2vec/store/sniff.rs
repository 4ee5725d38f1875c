//! Readable words for unreadable files: a short escaped quote of a file's bytes for messages,
//! and the format a file's first bytes show when it is not a word2vec store at all.

/// Characters of a quote kept before it is cut.
const QUOTE_CHARS: usize = 40;

/// `bytes` as text fit for a one-line message: invalid UTF-8 replaced, control characters and
/// quotes escaped (`\u{80}`, `\"`), cut after 40 characters with `…`.
pub(super) fn quote(bytes: &[u8]) -> String {
    quote_up_to(bytes, QUOTE_CHARS)
}

/// [`quote`] cut after `chars` characters.
pub(super) fn quote_up_to(bytes: &[u8], chars: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == chars {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out
}

/// The known format a file whose bytes are `head` is in, for a file that is not a word2vec
/// store: its magic bytes name it. `head` is the whole file, so a safetensors header length
/// can be checked against the file's length.
pub(super) fn looks_like(head: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x93NUMPY", "a numpy `.npy` array"),
        (
            b"PK\x03\x04",
            "a zip archive (a numpy `.npz`, a PyTorch checkpoint, ...)",
        ),
        (b"\x1f\x8b", "gzip-compressed data"),
        (b"BZh", "bzip2-compressed data"),
        (b"\xfd7zXZ\x00", "xz-compressed data"),
        (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
        (b"\x89HDF\r\n\x1a\n", "an HDF5 file"),
        // fastText's magic number 793712314 as a little-endian i32.
        (b"\xba\x16\x4f\x2f", "a fastText `.bin` model"),
    ];
    if let Some((_, name)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some(name);
    }
    if is_pickle(head) {
        return Some("a Python pickle (gensim's native `save()` format)");
    }
    // safetensors: an 8-byte little-endian header length, then a JSON header of at least `{}`
    // that fits in the file.
    if let Some((length, rest)) = head.split_first_chunk::<8>() {
        let declared = u64::from_le_bytes(*length);
        if rest.first() == Some(&b'{') && declared >= 2 && declared <= rest.len() as u64 {
            return Some("a safetensors file");
        }
    }
    None
}

/// True when `head` starts like a pickle of protocol 2 to 5 (`PROTO n`), what gensim writes.
pub(super) fn is_pickle(head: &[u8]) -> bool {
    matches!(head, [0x80, 2..=5, ..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_escaped_and_cut() {
        assert_eq!(quote(b"3 2"), "3 2");
        assert_eq!(
            quote(b"\x80\x04\x95\"x\n"),
            "\u{fffd}\\u{4}\u{fffd}\\\"x\\n"
        );
        let long = quote(&[b'a'; 100]);
        assert_eq!(long, format!("{}…", "a".repeat(40)));
    }

    #[test]
    fn magic_bytes_name_the_format() {
        assert_eq!(looks_like(b"\x80\x04\x95"), looks_like(b"\x80\x02}q\x00."));
        assert!(looks_like(b"\x80\x04").unwrap().contains("pickle"));
        assert!(looks_like(b"\x93NUMPY\x01\x00").unwrap().contains("npy"));
        assert!(looks_like(b"\x1f\x8b\x08").unwrap().contains("gzip"));
        assert!(
            looks_like(b"\xba\x16\x4f\x2f\x0c\x00")
                .unwrap()
                .contains("fastText")
        );
        let mut safetensors = 2u64.to_le_bytes().to_vec();
        safetensors.extend(b"{}");
        assert_eq!(looks_like(&safetensors), Some("a safetensors file"));
        assert_eq!(looks_like(b"3 2\nthe 1 2\n"), None);
        assert_eq!(looks_like(b"\x80\x01"), None);
    }

    #[test]
    fn a_safetensors_guess_needs_a_whole_header_that_fits() {
        let file = |declared: u64, rest: &[u8]| [&declared.to_le_bytes()[..], rest].concat();
        let safetensors = Some("a safetensors file");
        // The smallest one, `{}`, and one with tensor bytes after its header.
        assert_eq!(looks_like(&file(2, b"{}")), safetensors);
        assert_eq!(looks_like(&file(2, b"{}\0\0\0\0")), safetensors);
        // A header of one byte cannot be JSON, whatever follows it.
        assert_eq!(looks_like(&file(1, b"{")), None);
        assert_eq!(looks_like(&file(1, b"{}")), None);
        // A header one byte longer than the file, or far longer.
        assert_eq!(looks_like(&file(3, b"{}")), None);
        assert_eq!(looks_like(&file(u64::MAX, b"{}")), None);
        // The length without a header, and a header that does not start with `{`.
        assert_eq!(looks_like(&2u64.to_le_bytes()), None);
        assert_eq!(looks_like(&file(2, b"[]")), None);
    }
}
