//! The index file's layout: a 256-byte header (magic, version, shape, the graph's parameters,
//! the offset and length of every section, a CRC-32 of the header), then the sections, each
//! aligned to 64 bytes so they are viewed in place: the word bytes, the word end offsets, the
//! word hash table, the raw f32 rows, their f64 norms, and the graph. All little-endian.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use super::IndexDtype;
use super::ann::{Ann, AnnParams};
use super::words::{HeldWords, WordTable, slot_count};
use crate::word2vec::store::{Held, Location, Problem, StoreError};

/// The first bytes of every index file.
pub(crate) const MAGIC: &[u8; 8] = b"EMBSVIDX";
/// The layout version this build reads and writes.
const VERSION: u32 = 1;
/// Bytes of the header.
const HEADER_LEN: usize = 256;
/// Where the header's CRC-32 (of the bytes before it) is.
const CRC_AT: usize = HEADER_LEN - 4;
/// Alignment of every section.
const ALIGN: usize = 64;
/// The sections, in file order.
const SECTIONS: [&str; 6] = [
    "word bytes",
    "word ends",
    "word hash table",
    "vectors",
    "norms",
    "graph",
];

/// True when `head` starts with the index file's magic bytes.
pub(crate) fn has_magic(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// The parts of an index file, viewed in its memory map.
pub(crate) struct Opened {
    /// Dimension of the vectors.
    pub(crate) dim: usize,
    /// The word table.
    pub(crate) words: HeldWords,
    /// The raw rows.
    pub(crate) vectors: Held<f32>,
    /// Their norms.
    pub(crate) norms: Held<f64>,
    /// The graph.
    pub(crate) ann: Ann,
}

/// Writes an index file of `words` (unique, row order), their raw `vectors` and `norms`, and
/// the serialized `graph`, to `path` through a temporary file renamed at the end.
pub(super) fn write(
    path: &Path,
    dim: usize,
    words: &WordTable,
    vectors: &[f32],
    norms: &[f64],
    params: &AnnParams,
    graph: &[u8],
) -> Result<(), StoreError> {
    let io = |e| StoreError::io(path, e);
    let sections: [&[u8]; 6] = [
        &words.bytes,
        bytemuck::cast_slice(&words.ends),
        bytemuck::cast_slice(&words.slots),
        bytemuck::cast_slice(vectors),
        bytemuck::cast_slice(norms),
        graph,
    ];
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(MAGIC);
    put32(&mut header, 8, VERSION);
    put32(&mut header, 12, params.dtype as u32);
    for (at, value) in [
        (16, dim),
        (24, norms.len()),
        (32, params.connectivity),
        (40, params.expansion_add),
        (48, params.expansion_search),
    ] {
        put64(&mut header, at, value as u64);
    }
    let mut offset = HEADER_LEN;
    for (i, section) in sections.iter().enumerate() {
        put64(&mut header, 56 + 16 * i, offset as u64);
        put64(&mut header, 64 + 16 * i, section.len() as u64);
        offset = aligned(offset + section.len());
    }
    let crc = crc32fast::hash(&header[..CRC_AT]);
    put32(&mut header, CRC_AT, crc);

    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let temp = tempfile::NamedTempFile::new_in(dir.unwrap_or(Path::new("."))).map_err(io)?;
    let mut out = BufWriter::with_capacity(1 << 20, temp.as_file());
    out.write_all(&header).map_err(io)?;
    let mut written = HEADER_LEN;
    for section in sections {
        out.write_all(section).map_err(io)?;
        written += section.len();
        let padding = aligned(written) - written;
        out.write_all(&[0; ALIGN][..padding]).map_err(io)?;
        written += padding;
    }
    out.flush().map_err(io)?;
    drop(out);
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Views an index file mapped in `map`, checking its header and the size and place of every
/// section; a problem is named with the byte offset of the field concerned.
pub(crate) fn open(map: &Arc<Mmap>) -> Result<Opened, (Location, Problem)> {
    let fail = |at: usize, message: String| (Location::Byte(at as u64), Problem::Index(message));
    if cfg!(target_endian = "big") {
        return Err(fail(
            0,
            "index files are little-endian; this machine is not".into(),
        ));
    }
    if !has_magic(map) {
        return Err(fail(
            0,
            "the file does not start with the index magic bytes".into(),
        ));
    }
    if map.len() < HEADER_LEN {
        return Err(fail(
            map.len(),
            format!("the file ends inside the {HEADER_LEN}-byte header (truncated)"),
        ));
    }
    let header = &map[..HEADER_LEN];
    let version = get32(header, 8);
    if version != VERSION {
        return Err(fail(
            8,
            format!("layout version {version}; this build reads {VERSION}"),
        ));
    }
    let crc = crc32fast::hash(&header[..CRC_AT]);
    if crc != get32(header, CRC_AT) {
        return Err(fail(
            CRC_AT,
            "the header's checksum does not match (corrupt header)".into(),
        ));
    }
    let dtype = match get32(header, 12) {
        0 => IndexDtype::F32,
        1 => IndexDtype::F16,
        other => return Err(fail(12, format!("unknown vector dtype {other}"))),
    };
    let field = |at: usize| usize::try_from(get64(header, at)).unwrap_or(usize::MAX);
    let (dim, count) = (field(16), field(24));
    if dim == 0 {
        return Err(fail(16, "the vectors have dimension 0".into()));
    }
    let params = AnnParams {
        dtype,
        connectivity: field(32),
        expansion_add: field(40),
        expansion_search: field(48),
    };
    // Saturating: an impossible size (larger than any file) matches no section.
    let expected = [
        None,
        Some(count.saturating_mul(8)),
        Some(slot_count(count).saturating_mul(8)),
        Some(count.saturating_mul(dim).saturating_mul(4)),
        Some(count.saturating_mul(8)),
        None,
    ];
    let mut sections = [(0usize, 0usize); 6];
    for (i, name) in SECTIONS.iter().enumerate() {
        let (offset, len) = (field(56 + 16 * i), field(64 + 16 * i));
        if offset % ALIGN != 0 || offset < HEADER_LEN {
            return Err(fail(
                56 + 16 * i,
                format!("the {name} section is misplaced"),
            ));
        }
        if expected[i].is_some_and(|bytes| bytes != len) {
            return Err(fail(
                64 + 16 * i,
                format!("the {name} section has the wrong size"),
            ));
        }
        let end = offset.saturating_add(len);
        if end > map.len() {
            return Err(fail(
                map.len(),
                format!(
                    "the {name} section ends at byte {end} but the file has {} bytes (truncated)",
                    map.len()
                ),
            ));
        }
        sections[i] = (offset, len);
    }
    let words = HeldWords::view(map, sections[0], sections[1], sections[2])
        .map_err(|problem| fail(sections[0].0, problem.into()))?;
    let held = |(offset, len): (usize, usize), size: usize| (offset, len / size);
    let (vectors_at, vectors_len) = held(sections[3], 4);
    let vectors = Held::mapped(map, vectors_at, vectors_len)
        .ok_or_else(|| fail(vectors_at, "the vectors section is unreadable".into()))?;
    let (norms_at, norms_len) = held(sections[4], 8);
    let norms = Held::mapped(map, norms_at, norms_len)
        .ok_or_else(|| fail(norms_at, "the norms section is unreadable".into()))?;
    let (graph_at, graph_len) = sections[5];
    let ann = Ann::view(map, graph_at, graph_len, dim, count, params)
        .map_err(|problem| fail(graph_at, format!("the graph section: {problem}")))?;
    // Checking the word table and viewing the graph read each of their pages once (the view
    // walks every node); nothing needs them resident until a query does. Handing those pages
    // back keeps a freshly started server small whatever the store's size: queries fault in only
    // what they touch, from the page cache, which keeps the pages for every process mapping the
    // file.
    for (offset, len) in [sections[0], sections[1], sections[2], sections[5]] {
        release_pages(map, offset, len);
    }
    Ok(Opened {
        dim,
        words,
        vectors,
        norms,
        ann,
    })
}

/// Drops `map[offset..offset + len]` (widened to whole pages) from the process's resident memory;
/// the next read faults the pages in again. Only advice: a failure changes nothing.
fn release_pages(map: &Mmap, offset: usize, len: usize) {
    #[cfg(unix)]
    // SAFETY: `DontNeed` discards changes made to a private mapping's pages; this map is
    // read-only, so it only unmaps pages that are read again, unchanged, on the next access.
    let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
    #[cfg(not(unix))]
    let _ = (map, offset, len);
}

/// `at` rounded up to the section alignment.
fn aligned(at: usize) -> usize {
    at.div_ceil(ALIGN) * ALIGN
}

fn put32(header: &mut [u8], at: usize, value: u32) {
    header[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn put64(header: &mut [u8], at: usize, value: u64) {
    header[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

fn get32(header: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(header[at..at + 4].try_into().unwrap_or_default())
}

fn get64(header: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(header[at..at + 8].try_into().unwrap_or_default())
}
