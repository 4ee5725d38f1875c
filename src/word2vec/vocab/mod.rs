//! The word2vec vocabulary, built exactly as gensim 4.4.0's `Word2Vec.build_vocab` builds it:
//! counting with `max_vocab_size` pruning during the scan, `min_count` / `max_final_vocab`,
//! the order by descending frequency, the frequent-word downsampling thresholds (`sample_int`),
//! the negative-sampling table (`make_cum_table`) and the Huffman tree (`_build_heap`,
//! `_assign_binary_codes`) for hierarchical softmax.

mod huffman;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::preprocess::{Corpus, CorpusError};

pub use huffman::{HuffmanPath, huffman_paths};

/// FxHash (rustc's hasher): much faster than SipHash on short words, and the keys come from
/// the user's own corpus, so hash flooding is not a concern.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A word's count and its position in Python's insertion-ordered `raw_vocab` dict (a word
/// pruned and seen again is re-inserted at the end), which breaks ties when sorting.
#[derive(Debug, Clone, Copy)]
struct RawEntry {
    count: u64,
    inserted: u64,
}

/// Word counts from one pass over a corpus: gensim's `Word2Vec._scan_vocab` (`raw_vocab`).
#[derive(Debug, Clone)]
pub struct RawVocab {
    entries: FxMap<String, RawEntry>,
    next_insert: u64,
    max_vocab_size: Option<usize>,
    min_reduce: u64,
    total_words: u64,
    sentences: u64,
}

impl RawVocab {
    /// An empty count; with `max_vocab_size`, rare words are pruned while counting, as gensim does.
    pub fn new(max_vocab_size: Option<usize>) -> Self {
        RawVocab {
            entries: FxMap::default(),
            next_insert: 0,
            max_vocab_size,
            min_reduce: 1,
            total_words: 0,
            sentences: 0,
        }
    }

    /// Counts every sentence of `corpus` (one streaming pass).
    pub fn scan(corpus: &Corpus, max_vocab_size: Option<usize>) -> Result<Self, CorpusError> {
        let mut raw = RawVocab::new(max_vocab_size);
        corpus.for_each_sentence(|sentence| {
            raw.add_sentence(sentence);
            true
        })?;
        Ok(raw)
    }

    /// Counts one sentence; then, if the vocabulary outgrew `max_vocab_size`, drops every word
    /// seen fewer than `min_reduce` times and raises `min_reduce` (gensim's `prune_vocab`, whose
    /// first call therefore drops nothing).
    pub fn add_sentence<S: AsRef<str>>(&mut self, sentence: &[S]) {
        for word in sentence {
            let word = word.as_ref();
            if let Some(entry) = self.entries.get_mut(word) {
                entry.count += 1;
            } else {
                let inserted = self.next_insert;
                self.next_insert += 1;
                self.entries
                    .insert(word.to_owned(), RawEntry { count: 1, inserted });
            }
        }
        self.total_words += sentence.len() as u64;
        self.sentences += 1;
        if self
            .max_vocab_size
            .is_some_and(|max| self.entries.len() > max)
        {
            let min_reduce = self.min_reduce;
            self.entries.retain(|_, entry| entry.count >= min_reduce);
            self.min_reduce += 1;
        }
    }

    /// Number of words counted (gensim's `corpus_total_words`), pruned ones included.
    pub fn total_words(&self) -> u64 {
        self.total_words
    }

    /// Number of sentences counted (gensim's `corpus_count`).
    pub fn sentences(&self) -> u64 {
        self.sentences
    }

    /// Number of distinct words currently counted.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no word has been counted.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The count of `word` (0 when unseen or pruned).
    pub fn count(&self, word: &str) -> u64 {
        self.entries.get(word).map_or(0, |e| e.count)
    }

    /// gensim's `effective_min_count`: `min_count`, raised so that at most `max_final_vocab`
    /// words survive when that is set.
    fn effective_min_count(&self, min_count: u64, max_final_vocab: Option<usize>) -> u64 {
        let Some(max_final) = max_final_vocab else {
            return min_count;
        };
        let mut counts: Vec<u64> = self.entries.values().map(|e| e.count).collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let calc_min_count = counts.get(max_final).map_or(1, |count| count + 1);
        calc_min_count.max(min_count)
    }
}

/// Settings of [`Vocab::build`], named like gensim's `Word2Vec` parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VocabSettings {
    /// Words seen fewer times are dropped.
    pub min_count: u64,
    /// Keep at most this many words by raising `min_count` (gensim's `max_final_vocab`).
    pub max_final_vocab: Option<usize>,
    /// Downsampling threshold for frequent words (0 disables downsampling).
    pub sample: f64,
    /// Exponent shaping the negative-sampling distribution.
    pub ns_exponent: f64,
    /// Build the Huffman tree for hierarchical softmax.
    pub hs: bool,
    /// Build the cumulative table for negative sampling.
    pub negative: bool,
}

/// The final vocabulary: words by descending frequency with everything training needs.
#[derive(Debug, Clone)]
pub struct Vocab {
    words: Vec<String>,
    counts: Vec<u64>,
    index: FxMap<String, u32>,
    sample_ints: Vec<u32>,
    cum_table: Vec<u32>,
    huffman: Vec<HuffmanPath>,
    raw_total_words: u64,
}

impl Vocab {
    /// gensim's `prepare_vocab` (fresh vocabulary, `sorted_vocab=1`): keeps words with at least
    /// the effective `min_count`, sorts them, and computes sampling thresholds and tables.
    pub fn build(raw: &RawVocab, settings: &VocabSettings) -> Self {
        let min_count = raw.effective_min_count(settings.min_count, settings.max_final_vocab);
        let mut kept: Vec<(&String, RawEntry)> = raw
            .entries
            .iter()
            .filter(|(_, e)| e.count >= min_count)
            .map(|(w, e)| (w, *e))
            .collect();
        // `np.lexsort((-indices, -counts))`: by count descending, ties by later insertion first.
        kept.sort_unstable_by(|(_, a), (_, b)| {
            b.count.cmp(&a.count).then(b.inserted.cmp(&a.inserted))
        });
        let words: Vec<String> = kept.iter().map(|(w, _)| (*w).clone()).collect();
        let counts: Vec<u64> = kept.iter().map(|(_, e)| e.count).collect();
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
        Vocab {
            sample_ints: sample_ints(&counts, settings.sample),
            cum_table: if settings.negative {
                cum_table(&counts, settings.ns_exponent)
            } else {
                Vec::new()
            },
            huffman: if settings.hs {
                huffman_paths(&counts)
            } else {
                Vec::new()
            },
            words,
            counts,
            index,
            raw_total_words: raw.total_words,
        }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether the vocabulary is empty.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words, most frequent first.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The counts, parallel to [`Vocab::words`].
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Index of `word`, if it is in the vocabulary.
    pub fn index_of(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// Per word, the probability of keeping an occurrence, scaled to `u32` (gensim's `sample_int`).
    pub fn sample_ints(&self) -> &[u32] {
        &self.sample_ints
    }

    /// The negative-sampling cumulative table (empty unless built with `negative`).
    pub fn cum_table(&self) -> &[u32] {
        &self.cum_table
    }

    /// Per word, its Huffman path (empty unless built with `hs`).
    pub fn huffman(&self) -> &[HuffmanPath] {
        &self.huffman
    }

    /// Words in the corpus scan, including those not kept (gensim's `corpus_total_words`).
    pub fn raw_total_words(&self) -> u64 {
        self.raw_total_words
    }
}

/// gensim's downsampling: an occurrence of a word seen `v` times is kept with probability
/// `(sqrt(v / t) + 1) * t / v` capped at 1, scaled by `2**32 - 1`, where `t` is `sample` times
/// the retained corpus size (`sample < 1`), `int(sample * (3 + sqrt 5) / 2)` (`sample >= 1`),
/// or the retained size itself (`sample == 0`, nothing downsampled).
pub fn sample_ints(counts: &[u64], sample: f64) -> Vec<u32> {
    let retain_total: u64 = counts.iter().sum();
    let threshold = if sample == 0.0 {
        retain_total as f64
    } else if sample < 1.0 {
        sample * retain_total as f64
    } else {
        (sample * (3.0 + 5f64.sqrt()) / 2.0).trunc()
    };
    counts
        .iter()
        .map(|&v| {
            let v = v as f64;
            let probability = ((v / threshold).sqrt() + 1.0) * (threshold / v);
            // `np.uint32(p * (2**32 - 1))` truncates, as `as` does.
            (probability.min(1.0) * f64::from(u32::MAX)) as u32
        })
        .collect()
}

/// The range negative samples are drawn from: gensim's `make_cum_table` `domain`.
pub const CUM_TABLE_DOMAIN: u32 = (1 << 31) - 1;

/// gensim's `make_cum_table`: entry `i` is `round(sum_{j<=i} count_j^e / sum_j count_j^e * domain)`
/// (Python's `round`, ties to even), so a uniform draw below the last entry, located by binary
/// search, picks word `i` with probability proportional to `count_i^e`.
pub fn cum_table(counts: &[u64], ns_exponent: f64) -> Vec<u32> {
    let total: f64 = counts.iter().map(|&c| (c as f64).powf(ns_exponent)).sum();
    let mut cumulative = 0.0;
    counts
        .iter()
        .map(|&c| {
            cumulative += (c as f64).powf(ns_exponent);
            (cumulative / total * f64::from(CUM_TABLE_DOMAIN)).round_ties_even() as u32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_from(sentences: &[&str], max_vocab_size: Option<usize>) -> RawVocab {
        let mut raw = RawVocab::new(max_vocab_size);
        for s in sentences {
            raw.add_sentence(&s.split_whitespace().collect::<Vec<_>>());
        }
        raw
    }

    fn settings(min_count: u64) -> VocabSettings {
        VocabSettings {
            min_count,
            max_final_vocab: None,
            sample: 0.0,
            ns_exponent: 0.75,
            hs: true,
            negative: true,
        }
    }

    #[test]
    fn counts_min_count_and_tie_order() {
        let raw = raw_from(&["a b c", "b c d", "c e", "f e"], None);
        assert_eq!((raw.total_words(), raw.sentences(), raw.len()), (10, 4, 6));
        assert_eq!((raw.count("c"), raw.count("e"), raw.count("zz")), (3, 2, 0));
        let vocab = Vocab::build(&raw, &settings(2));
        // b and e tie at 2: gensim's lexsort puts the later-inserted word (e) first.
        assert_eq!(vocab.words(), ["c", "e", "b"]);
        assert_eq!(vocab.counts(), [3, 2, 2]);
        assert_eq!(vocab.index_of("b"), Some(2));
        assert_eq!(vocab.index_of("a"), None);
        assert_eq!(vocab.raw_total_words(), 10);
    }

    #[test]
    fn max_vocab_size_prunes_like_gensim() {
        // Limit 2: after sentence 1 (3 words) the first prune (min_reduce 1) drops nothing;
        // after sentence 2 the prune with min_reduce 2 drops the singletons y, z and w;
        // sentence 3 counts y afresh. gensim 4.4.0 gives x: 2, y: 1 here too.
        let raw = raw_from(&["x y z", "x w", "y"], Some(2));
        assert_eq!(raw.count("x"), 2);
        assert_eq!(raw.count("z"), 0);
        assert_eq!(raw.count("w"), 0);
        assert_eq!(raw.count("y"), 1);
        assert_eq!(raw.total_words(), 6);
        let vocab = Vocab::build(&raw, &settings(1));
        assert_eq!(vocab.words(), ["x", "y"]);
    }

    #[test]
    fn max_final_vocab_raises_min_count() {
        let raw = raw_from(&["a a a b b c c d"], None);
        let mut s = settings(1);
        s.max_final_vocab = Some(2);
        // Counts sorted: 3, 2, 2, 1; the third is 2, so the effective min_count is 3.
        assert_eq!(Vocab::build(&raw, &s).words(), ["a"]);
        s.max_final_vocab = Some(10);
        assert_eq!(Vocab::build(&raw, &s).len(), 4);
    }

    #[test]
    fn sample_thresholds_follow_the_formula() {
        let counts = [1000u64, 100, 10, 1];
        let total = 1111.0;
        let ints = sample_ints(&counts, 1e-3);
        for (&v, &int) in counts.iter().zip(&ints) {
            let t = 1e-3 * total;
            let p: f64 = (((v as f64 / t).sqrt() + 1.0) * t / v as f64).min(1.0);
            assert_eq!(int, (p * 4294967295.0) as u32);
        }
        // The values gensim 4.4.0 stores for this vocabulary.
        assert_eq!(ints, [147930126, 500423753, 1908755046, u32::MAX]);
        // sample >= 1: threshold int(sample * 2.618...) = 26 for sample 10, so a word seen 100
        // times is kept with (sqrt(100 / 26) + 1) * 26 / 100 (gensim: 3306703701).
        let ints = sample_ints(&[100, 26], 10.0);
        assert_eq!(ints, [3306703701, u32::MAX]);
        assert!(sample_ints(&counts, 0.0).iter().all(|&i| i == u32::MAX));
    }

    #[test]
    fn cum_table_follows_the_formula() {
        let counts = [8u64, 4, 2, 1];
        let table = cum_table(&counts, 0.75);
        let pows: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(0.75)).collect();
        let total: f64 = pows.iter().sum();
        let mut acc = 0.0;
        for (i, p) in pows.iter().enumerate() {
            acc += p;
            let expected = (acc / total * 2147483647.0).round() as u32;
            assert!(
                table[i].abs_diff(expected) <= 1,
                "{i}: {} vs {expected}",
                table[i]
            );
        }
        assert_eq!(*table.last().unwrap(), CUM_TABLE_DOMAIN);
        // Exponent 0: uniform, so the entries are multiples of domain / 4.
        assert_eq!(
            cum_table(&counts, 0.0),
            [536870912, 1073741824, 1610612735, 2147483647]
        );
    }

    #[test]
    fn huffman_codes_on_a_tiny_vocabulary() {
        // counts [5, 3, 2, 1] (words 0..3). Merges (heapq, first pop = left):
        //   node 4 (inner 0) = 3:w3(1) + w2(2) = 3
        //   node 5 (inner 1) = w1(3) + node4(3) = 6   (tie: heap order pops w1 first)
        //   node 6 (inner 2) = w0(5) + node5(6) = 11  = root
        let paths = huffman_paths(&[5, 3, 2, 1]);
        let expect = |codes: &[u8], points: &[u32]| HuffmanPath {
            codes: codes.to_vec(),
            points: points.to_vec(),
        };
        assert_eq!(paths[0], expect(&[0], &[2]));
        assert_eq!(paths[1], expect(&[1, 0], &[2, 1]));
        assert_eq!(paths[2], expect(&[1, 1, 1], &[2, 1, 0]));
        assert_eq!(paths[3], expect(&[1, 1, 0], &[2, 1, 0]));
        assert_eq!(huffman_paths(&[7]), [HuffmanPath::default()]);
        assert!(huffman_paths(&[]).is_empty());
    }
}
