//! The random number generators of training, and of the demo corpus: word2vec's linear
//! congruential generator (as gensim masks it to 48 bits, and as word2vec.c runs it on 64), and
//! SplitMix64 for seeds and initial vectors.

/// The multiplier of word2vec's linear congruential generator (Java's `java.util.Random`).
const LCG_MULTIPLIER: u64 = 25_214_903_917;
/// The increment of word2vec's linear congruential generator.
const LCG_INCREMENT: u64 = 11;
/// gensim keeps the generator's state to 48 bits.
const LCG_MASK: u64 = (1 << 48) - 1;

/// One step of word2vec's linear congruential generator, on all 64 bits of `state`.
#[inline(always)]
fn lcg_step(state: u64) -> u64 {
    state
        .wrapping_mul(LCG_MULTIPLIER)
        .wrapping_add(LCG_INCREMENT)
}

/// gensim's `random_int32`: returns bits 16..48 of the state and advances it (masked to 48 bits).
#[inline(always)]
pub(super) fn next_random(state: &mut u64) -> u64 {
    let value = *state >> 16;
    *state = lcg_step(*state) & LCG_MASK;
    value
}

/// word2vec.c's own use of the generator: a 64-bit `unsigned long long` state, never masked,
/// advanced before each draw, which is bits 16..64 of the new state. Cheap, seedable and
/// dependency-free; the demo corpus is drawn from it.
pub(crate) struct Word2VecRandom(u64);

impl Word2VecRandom {
    /// A generator whose state starts at `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Word2VecRandom(seed)
    }

    /// Advances the state and returns its bits 16..64.
    pub(crate) fn next_u48(&mut self) -> u64 {
        self.0 = lcg_step(self.0);
        self.0 >> 16
    }
}

/// SplitMix64 (Steele et al.): a small, fast, well-mixed generator for seeds and initial vectors.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 24 random bits.
    pub(super) fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcg_matches_word2vec() {
        let mut state = 1u64;
        assert_eq!(next_random(&mut state), 0);
        assert_eq!(state, 25_214_903_928);
        assert_eq!(next_random(&mut state), 25_214_903_928 >> 16);
    }

    #[test]
    fn word2vec_c_stream_keeps_all_64_bits() {
        let mut random = Word2VecRandom::new(1);
        assert_eq!(random.next_u48(), 25_214_903_928 >> 16);
        let unmasked = lcg_step(25_214_903_928);
        assert!(
            unmasked > LCG_MASK,
            "the second state already needs more than 48 bits"
        );
        assert_eq!(random.next_u48(), unmasked >> 16);
    }
}
