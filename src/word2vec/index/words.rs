//! The word table of every store: the words' UTF-8 bytes end to end, the end offset of each word,
//! and an open-addressing hash table of rows. An index file holds it, so a word is found in a few
//! reads of the memory map and nothing is built at startup, whatever the vocabulary's size; a
//! store read from a word2vec file builds it in memory, where it takes a fraction of what a
//! `String` per word and a hash map of them would (about 36 bytes per word of 10 letters,
//! against 150).

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
pub(crate) struct WordTable {
    /// The words' bytes, end to end.
    pub(super) bytes: Vec<u8>,
    /// The end offset of each word in `bytes`.
    pub(super) ends: Vec<u64>,
    /// The hash table.
    pub(super) slots: Vec<Slot>,
}

impl WordTable {
    /// An empty table with room for `count` words (more may be inserted: it then grows).
    pub(crate) fn with_capacity(count: usize) -> Self {
        WordTable {
            bytes: Vec::new(),
            ends: Vec::with_capacity(count),
            slots: vec![0; slot_count(count)],
        }
    }

    /// Lays out `words` (unique, as a loaded store's are; a repeated word keeps its first row).
    pub(crate) fn build<'w>(words: impl ExactSizeIterator<Item = &'w str>) -> Self {
        let mut table = WordTable::with_capacity(words.len());
        for word in words {
            table.insert(word);
        }
        table
    }

    /// Number of words.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Adds `word` as the next row, unless the table holds it already (then `false`).
    pub(crate) fn insert(&mut self, word: &str) -> bool {
        if self.slots.len() < slot_count(self.len() + 1) {
            self.rehash(slot_count(self.len() + 1));
        }
        let mask = self.slots.len() - 1;
        let mut slot = hash(word.as_bytes()) as usize & mask;
        while let Some(row) = (self.slots[slot] as usize).checked_sub(1) {
            if self.word(row) == word.as_bytes() {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        self.bytes.extend_from_slice(word.as_bytes());
        self.ends.push(self.bytes.len() as u64);
        self.slots[slot] = self.len() as Slot;
        true
    }

    /// The bytes of row `row`'s word.
    fn word(&self, row: usize) -> &[u8] {
        let start = row
            .checked_sub(1)
            .map_or(0, |before| self.ends[before] as usize);
        &self.bytes[start..self.ends[row] as usize]
    }

    /// Rebuilds the hash table with `slots` slots.
    fn rehash(&mut self, slots: usize) {
        self.slots = vec![0; slots];
        let mask = slots - 1;
        for row in 0..self.len() {
            let mut slot = hash(self.word(row)) as usize & mask;
            while self.slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = row as Slot + 1;
        }
    }
}

/// A word table, viewed in the memory map of an index file or built in memory.
#[derive(Debug, Clone)]
pub(crate) struct HeldWords {
    bytes: Held<u8>,
    ends: Held<u64>,
    slots: Held<Slot>,
}

/// What is wrong with a word table, for the error message.
pub(super) type TableProblem = &'static str;

impl HeldWords {
    /// A table built in memory.
    pub(crate) fn owned(table: WordTable) -> Self {
        HeldWords {
            bytes: Held::Owned(table.bytes),
            ends: Held::Owned(table.ends),
            slots: Held::Owned(table.slots),
        }
    }

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
        let table = HeldWords {
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
    fn a_table_built_word_by_word_grows_and_refuses_repeats() {
        let mut table = WordTable::with_capacity(1);
        for i in 0..300 {
            assert!(table.insert(&format!("w{i}")), "w{i}");
        }
        assert!(!table.insert("w7"));
        assert!(table.insert("w300"));
        assert_eq!(table.len(), 301);
        assert_eq!(table.slots.len(), slot_count(301));
        let held = HeldWords::owned(table);
        for i in 0..=300 {
            let word = format!("w{i}");
            assert_eq!(held.index_of(&word), Some(i));
            assert_eq!(held.word(i), Some(word.as_str()));
        }
        assert_eq!(held.index_of("w301"), None);
        assert_eq!(held.word(301), None);
    }

    #[test]
    fn words_collide_and_are_still_found() {
        let words: Vec<String> = (0..1000).map(|i| format!("w{i}")).collect();
        let table = WordTable::build(words.iter().map(String::as_str));
        assert_eq!(table.slots.len(), 2048);
        assert_eq!(table.slots.iter().filter(|&&s| s != 0).count(), 1000);
        assert_eq!(table.ends.last(), Some(&(table.bytes.len() as u64)));
    }
}
