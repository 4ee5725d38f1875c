//! The index file's word table: the words' UTF-8 bytes end to end, the end offset of each word,
//! and an open-addressing hash table of rows, so a word is found in a few reads of the memory
//! map and nothing is built at startup, whatever the vocabulary's size.

use std::sync::Arc;

use memmap2::Mmap;

use crate::word2vec::store::Held;

/// A slot of the hash table: 0 when empty, else the row plus one.
type Slot = u64;

/// The hash of a word, stable across builds and machines (it is stored in files).
fn hash(word: &[u8]) -> u64 {
    u64::from(crc32fast::hash(word))
}

/// Slots for `count` words: a power of two at least twice the count, so probes stay short.
pub(super) fn slot_count(count: usize) -> usize {
    count.saturating_mul(2).max(2).next_power_of_two()
}

/// The three sections of a word table, built from the words in row order.
pub(super) struct WordTable {
    /// The words' bytes, end to end.
    pub(super) bytes: Vec<u8>,
    /// The end offset of each word in `bytes`.
    pub(super) ends: Vec<u64>,
    /// The hash table.
    pub(super) slots: Vec<Slot>,
}

impl WordTable {
    /// Lays out `words` (unique, as a loaded store's are).
    pub(super) fn build<'w>(words: impl ExactSizeIterator<Item = &'w str>) -> Self {
        let count = words.len();
        let mut table = WordTable {
            bytes: Vec::new(),
            ends: Vec::with_capacity(count),
            slots: vec![0; slot_count(count)],
        };
        let mask = table.slots.len() - 1;
        for (row, word) in words.enumerate() {
            table.bytes.extend_from_slice(word.as_bytes());
            table.ends.push(table.bytes.len() as u64);
            let mut slot = hash(word.as_bytes()) as usize & mask;
            while table.slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            table.slots[slot] = row as Slot + 1;
        }
        table
    }
}

/// A word table viewed in the memory map of an index file.
#[derive(Debug, Clone)]
pub(crate) struct MappedWords {
    bytes: Held<u8>,
    ends: Held<u64>,
    slots: Held<Slot>,
}

/// What is wrong with a word table, for the error message.
pub(super) type TableProblem = &'static str;

impl MappedWords {
    /// Views and checks a word table: the end offsets rise and stay in the bytes, every word is
    /// non-empty UTF-8, and the hash table is a power of two at least as large as the count.
    /// (Slots are checked when read: a wrong slot can only make a lookup miss.)
    pub(super) fn view(
        map: &Arc<Mmap>,
        bytes: (usize, usize),
        ends: (usize, usize),
        slots: (usize, usize),
    ) -> Result<Self, TableProblem> {
        let bad = "a word-table section lies outside the file or is misaligned";
        let table = MappedWords {
            bytes: Held::mapped(map, bytes.0, bytes.1).ok_or(bad)?,
            ends: Held::mapped(map, ends.0, ends.1 / 8).ok_or(bad)?,
            slots: Held::mapped(map, slots.0, slots.1 / 8).ok_or(bad)?,
        };
        if ends.1 % 8 != 0 || slots.1 % 8 != 0 {
            return Err("a word-table section is not a whole number of 8-byte values");
        }
        if table.slots.len() != slot_count(table.ends.len()) {
            return Err("the word hash table has the wrong size");
        }
        let mut start = 0u64;
        for &end in table.ends.iter() {
            let word = usize::try_from(start)
                .ok()
                .zip(usize::try_from(end).ok())
                .and_then(|(start, end)| table.bytes.get(start..end))
                .filter(|word| !word.is_empty())
                .ok_or("a word's end offset is out of order or outside the word bytes")?;
            std::str::from_utf8(word).map_err(|_| "a word is not valid UTF-8")?;
            start = end;
        }
        Ok(table)
    }

    /// Keeps only the first `keep` words (a `limit` on loading).
    pub(crate) fn truncate(&mut self, keep: usize) {
        self.ends.truncate(keep);
    }

    /// The word of row `i` (checked when the table was viewed).
    pub(crate) fn word(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        std::str::from_utf8(self.bytes.get(start..end)?).ok()
    }

    /// The row of `word`: its slot, then the following ones until an empty slot.
    pub(crate) fn index_of(&self, word: &str) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut slot = hash(word.as_bytes()) as usize & mask;
        // At most one lap, even in a damaged table without an empty slot.
        for _ in 0..self.slots.len() {
            let row = usize::try_from(self.slots[slot]).ok()?.checked_sub(1)?;
            // Rows past a `limit` are not in the table's reach: `word` returns `None` for them.
            if self.word(row) == Some(word) {
                return Some(row);
            }
            slot = (slot + 1) & mask;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_collide_and_are_still_found() {
        let words: Vec<String> = (0..1000).map(|i| format!("w{i}")).collect();
        let table = WordTable::build(words.iter().map(String::as_str));
        assert_eq!(table.slots.len(), 2048);
        assert_eq!(table.slots.iter().filter(|&&s| s != 0).count(), 1000);
        assert_eq!(table.ends.last(), Some(&(table.bytes.len() as u64)));
    }
}
