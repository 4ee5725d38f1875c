//! The loads and stores of blocks of shared cells on x86-64, in inline assembly: LLVM emits no
//! vector instruction for atomics.

use std::arch::asm;
use std::arch::x86_64::{__m128, __m256};
use std::mem::transmute;
use std::sync::atomic::AtomicU32;

use super::{Avx2Fma, Baseline, Block, Isa, LANES};

impl Isa for Baseline {
    #[inline(always)]
    fn load(self, cells: &[AtomicU32; LANES]) -> Block {
        let (a, b, c, d): (__m128, __m128, __m128, __m128);
        // SAFETY: SSE is part of x86-64; the four loads read the 64 bytes of `cells`, atomic
        // per value (see the module documentation), and touch nothing else.
        unsafe {
            asm!(
                "movups {a}, xmmword ptr [{p}]",
                "movups {b}, xmmword ptr [{p} + 16]",
                "movups {c}, xmmword ptr [{p} + 32]",
                "movups {d}, xmmword ptr [{p} + 48]",
                p = in(reg) cells.as_ptr(),
                a = out(xmm_reg) a, b = out(xmm_reg) b,
                c = out(xmm_reg) c, d = out(xmm_reg) d,
                options(nostack, readonly, preserves_flags),
            );
            transmute::<[__m128; 4], Block>([a, b, c, d])
        }
    }

    #[inline(always)]
    fn store(self, cells: &[AtomicU32; LANES], values: Block) {
        // SAFETY: layouts of equal size (64 bytes) and no invalid values.
        let [a, b, c, d] = unsafe { transmute::<Block, [__m128; 4]>(values) };
        // SAFETY: as in `load`; writing through a shared reference is what atomics allow.
        unsafe {
            asm!(
                "movups xmmword ptr [{p}], {a}",
                "movups xmmword ptr [{p} + 16], {b}",
                "movups xmmword ptr [{p} + 32], {c}",
                "movups xmmword ptr [{p} + 48], {d}",
                p = in(reg) cells.as_ptr(),
                a = in(xmm_reg) a, b = in(xmm_reg) b,
                c = in(xmm_reg) c, d = in(xmm_reg) d,
                options(nostack, preserves_flags),
            );
        }
    }
}

impl Isa for Avx2Fma {
    #[inline(always)]
    fn load(self, cells: &[AtomicU32; LANES]) -> Block {
        // SAFETY: `self` exists, so the CPU has AVX.
        unsafe { load_avx(cells) }
    }

    #[inline(always)]
    fn store(self, cells: &[AtomicU32; LANES], values: Block) {
        // SAFETY: `self` exists, so the CPU has AVX.
        unsafe { store_avx(cells, values) }
    }
}

/// [`Isa::load`] with two AVX loads (VEX-encoded, so that code compiled for AVX pays no
/// transition between SSE and AVX states).
///
/// # Safety
/// The CPU must have AVX.
#[inline]
#[target_feature(enable = "avx")]
unsafe fn load_avx(cells: &[AtomicU32; LANES]) -> Block {
    let (low, high): (__m256, __m256);
    // SAFETY: AVX is there (the caller's contract); the loads read the 64 bytes of `cells`,
    // atomic per value, and touch nothing else.
    unsafe {
        asm!(
            "vmovups {low}, ymmword ptr [{p}]",
            "vmovups {high}, ymmword ptr [{p} + 32]",
            p = in(reg) cells.as_ptr(),
            low = out(ymm_reg) low, high = out(ymm_reg) high,
            options(nostack, readonly, preserves_flags),
        );
        transmute::<[__m256; 2], Block>([low, high])
    }
}

/// [`Isa::store`] with two AVX stores.
///
/// # Safety
/// The CPU must have AVX.
#[inline]
#[target_feature(enable = "avx")]
unsafe fn store_avx(cells: &[AtomicU32; LANES], values: Block) {
    // SAFETY: layouts of equal size (64 bytes) and no invalid values.
    let [low, high] = unsafe { transmute::<Block, [__m256; 2]>(values) };
    // SAFETY: as in `load_avx`; writing through a shared reference is what atomics allow.
    unsafe {
        asm!(
            "vmovups ymmword ptr [{p}], {low}",
            "vmovups ymmword ptr [{p} + 32], {high}",
            p = in(reg) cells.as_ptr(),
            low = in(ymm_reg) low, high = in(ymm_reg) high,
            options(nostack, preserves_flags),
        );
    }
}
