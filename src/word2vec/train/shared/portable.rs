//! The loads and stores of blocks of shared cells where no inline assembly runs (other targets,
//! Miri): one relaxed atomic access per value.

use std::sync::atomic::{AtomicU32, Ordering};

use super::{Avx2Fma, Baseline, Block, Isa, LANES, load_one};

impl Isa for Baseline {
    #[inline(always)]
    fn load(self, cells: &[AtomicU32; LANES]) -> Block {
        std::array::from_fn(|i| load_one(&cells[i]))
    }

    #[inline(always)]
    fn store(self, cells: &[AtomicU32; LANES], values: Block) {
        cells
            .iter()
            .zip(values)
            .for_each(|(c, v)| c.store(v.to_bits(), Ordering::Relaxed));
    }
}

impl Isa for Avx2Fma {
    #[inline(always)]
    fn load(self, cells: &[AtomicU32; LANES]) -> Block {
        Baseline.load(cells)
    }

    #[inline(always)]
    fn store(self, cells: &[AtomicU32; LANES], values: Block) {
        Baseline.store(cells, values);
    }
}
