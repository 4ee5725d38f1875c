//! Arrays a store holds: read into memory from a word2vec file, or viewed in place in the
//! memory map of an index file (`embedserve index`), where they are never copied.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use bytemuck::Pod;
use memmap2::Mmap;

/// An array of `T`, owned or a section of a memory-mapped file.
#[derive(Clone)]
pub(crate) enum Held<T> {
    /// Read into memory.
    Owned(Vec<T>),
    /// `len` values at byte `offset` of `map`, checked to fit and be aligned when made.
    Mapped {
        /// The file.
        map: Arc<Mmap>,
        /// Byte offset of the first value.
        offset: usize,
        /// Number of values.
        len: usize,
    },
}

impl<T: Pod> Held<T> {
    /// A view of `len` values at byte `offset` of `map`, or `None` when they do not fit in the
    /// file or are not aligned for `T`.
    pub(crate) fn mapped(map: &Arc<Mmap>, offset: usize, len: usize) -> Option<Self> {
        let bytes = len.checked_mul(size_of::<T>())?;
        let section = map.get(offset..offset.checked_add(bytes)?)?;
        bytemuck::try_cast_slice::<u8, T>(section).ok()?;
        Some(Held::Mapped {
            map: Arc::clone(map),
            offset,
            len,
        })
    }
}

impl<T> Held<T> {
    /// Keeps only the first `len` values.
    pub(crate) fn truncate(&mut self, keep: usize) {
        match self {
            Held::Owned(values) => values.truncate(keep),
            Held::Mapped { len, .. } => *len = keep.min(*len),
        }
    }
}

impl<T: Pod> Deref for Held<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Held::Owned(values) => values,
            Held::Mapped { map, offset, len } => {
                let bytes = &map[*offset..*offset + *len * size_of::<T>()];
                // Size and alignment were checked by `Held::mapped` and a map never moves.
                bytemuck::cast_slice(bytes)
            }
        }
    }
}

impl<T> fmt::Debug for Held<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Held::Owned(values) => write!(f, "Owned({} values)", values.len()),
            Held::Mapped { offset, len, .. } => write!(f, "Mapped({len} values at {offset})"),
        }
    }
}
