//! The matrices that training threads share without locks ("Hogwild"), and the only ways to read
//! and write them: 16 values at a time through an instruction set's loads and stores, which are
//! atomic in Rust's memory model.
//!
//! word2vec.c and gensim let every worker update the shared matrices without locks: an update
//! touches a few rows of a large matrix, collisions are rare, and a collision only loses or mixes
//! an update, which stochastic gradient descent tolerates (Recht et al. 2011, "Hogwild!"). In
//! Rust, though, two threads accessing the same memory without synchronization, one of them
//! writing, is a data race, and a data race is undefined behaviour whatever the hardware does:
//! the compiler may assume it never happens (keep a value in a register, read it twice, store
//! speculatively). Handing the same `&mut [f32]` row to several threads would be such a race.
//!
//! So no thread ever holds a reference to a matrix's values. The cells are [`AtomicU32`]s (the
//! bits of `f32`s), and every access to them while threads run is a relaxed atomic access:
//! - in inline assembly on x86-64, one vector load or store per 4 (SSE) or 8 (AVX) values, the
//!   instructions gensim's BLAS and word2vec.c compile to. Inline assembly may do what Rust code
//!   could do, and a vector access is what a sequence of relaxed atomic loads or stores of its
//!   values would be: the hardware never tears an aligned 4-byte value, and even where it could,
//!   a torn value would still be an `f32` (every bit pattern is one), the outcome of byte-wise
//!   atomic accesses (the semantics RFC 3301 gives `atomic_load_per_byte_memcpy`);
//! - elsewhere, and under Miri (which runs no assembly), one [`AtomicU32`] load or store per
//!   value: as sound, slower (LLVM vectorizes no atomic access).
//!
//! The races between threads are then defined: a read sees some mix of the values written, a
//! write may undo another thread's update (the Hogwild outcomes), and nothing else can happen;
//! nothing but arithmetic depends on the values (no index, length or pointer is read from a
//! matrix). The arithmetic between the loads and stores is the same, in the same order, as on
//! plain slices ([`crate::vector::dot`]'s lanes), so a seeded single-worker run gives the same
//! bits as it always did, and the loops stay as fast as before: each row is padded with zeros to
//! whole blocks of 16 values aligned to a cache line, a block lives in vector registers between
//! an asm load and an asm store, and no row has a remainder to go through one value at a time.
//! The padding stays zero (every update of a padded value adds a product with a zero), and the
//! threads' own buffers are padded alike.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::vector::{DOT_LANES, Fused, MulAdd, Separate};

/// Values per block: [`DOT_LANES`], so that [`SharedRow::dot`] sums exactly as
/// [`crate::vector::dot`] with [`crate::vector::DotTail::InLanes`] does.
const LANES: usize = DOT_LANES;

/// A block of values as the instruction set loads it.
type Block = [f32; LANES];

/// How the kernels compute and reach shared memory: the multiply-add they use, and the loads and
/// stores of a block of [`LANES`] cells.
pub(super) trait Isa: MulAdd + Copy {
    /// The block's values (relaxed atomic loads).
    fn load(self, cells: &[AtomicU32; LANES]) -> Block;
    /// Writes `values` over the block (relaxed atomic stores).
    fn store(self, cells: &[AtomicU32; LANES], values: Block);
}

/// Every x86-64 CPU (SSE2) and every other target: separate multiplications and additions.
#[derive(Clone, Copy)]
pub(super) struct Baseline;

impl MulAdd for Baseline {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        Separate::mul_add(a, b, c)
    }
}

/// AVX2 and FMA: fused multiply-adds. A value exists only on a CPU that has both (see
/// [`Avx2Fma::detect`]), which is what makes its AVX loads and stores safe to run.
#[derive(Clone, Copy)]
pub(super) struct Avx2Fma(());

impl Avx2Fma {
    /// The instruction set, if this CPU has it.
    pub(super) fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Some(Avx2Fma(()));
        }
        None
    }
}

impl MulAdd for Avx2Fma {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        Fused::mul_add(a, b, c)
    }
}

#[cfg(all(target_arch = "x86_64", not(miri)))]
mod x86;

#[cfg(not(all(target_arch = "x86_64", not(miri))))]
mod portable;

/// [`LANES`] cells, aligned so that a row starts on a cache line: a row of 100 values then
/// spans 7 cache lines, never 8.
#[repr(C, align(64))]
struct Cells([AtomicU32; LANES]);

/// A row-major `f32` matrix that worker threads read and write concurrently without locks (see
/// the module documentation), its rows padded with zeros to whole blocks of [`LANES`].
pub(super) struct SharedMatrix {
    blocks: Box<[Cells]>,
    dim: usize,
    blocks_per_row: usize,
}

/// Values per row once padded to whole blocks, or `None` when that overflows.
pub(super) fn padded_len(dim: usize) -> Option<usize> {
    dim.checked_next_multiple_of(LANES)
}

impl SharedMatrix {
    /// A `rows x dim` matrix filled row-major by `value` (which is called `rows * dim` times,
    /// in order), or the allocation's error.
    ///
    /// # Panics
    /// When `dim` overflows once padded (callers check [`padded_len`] first).
    pub(super) fn try_new(
        rows: usize,
        dim: usize,
        mut value: impl FnMut() -> f32,
    ) -> Result<Self, std::collections::TryReserveError> {
        let blocks_per_row = padded_len(dim).expect("a checked vector size") / LANES;
        let mut blocks = Vec::new();
        blocks.try_reserve_exact(rows.saturating_mul(blocks_per_row))?;
        for _ in 0..rows {
            for b in 0..blocks_per_row {
                let block: [f32; LANES] =
                    std::array::from_fn(|i| if b * LANES + i < dim { value() } else { 0.0 });
                blocks.push(Cells(block.map(|v| AtomicU32::new(v.to_bits()))));
            }
        }
        Ok(SharedMatrix {
            blocks: blocks.into_boxed_slice(),
            dim,
            blocks_per_row,
        })
    }

    /// The values (without the padding), once no thread uses the matrix any more.
    pub(super) fn into_values(self) -> Vec<f32> {
        let mut values = Vec::with_capacity(self.blocks.len() / self.blocks_per_row * self.dim);
        for row in self.blocks.chunks_exact(self.blocks_per_row) {
            let row = row.iter().flat_map(|block| &block.0);
            values.extend(row.take(self.dim).map(load_one));
        }
        values
    }

    /// Length of a row once padded: the length of the buffers the rows are used with.
    pub(super) fn padded_dim(&self) -> usize {
        self.blocks_per_row * LANES
    }

    /// Row `index`.
    #[inline(always)]
    pub(super) fn row(&self, index: u32) -> SharedRow<'_> {
        let start = index as usize * self.blocks_per_row;
        SharedRow(&self.blocks[start..start + self.blocks_per_row])
    }
}

/// One value, relaxed.
#[inline(always)]
fn load_one(cell: &AtomicU32) -> f32 {
    f32::from_bits(cell.load(Ordering::Relaxed))
}

/// One row of a [`SharedMatrix`]. Each operation pairs it with a thread's own buffer of the
/// padded length (any other length panics before an access).
#[derive(Clone, Copy)]
pub(super) struct SharedRow<'a>(&'a [Cells]);

impl SharedRow<'_> {
    /// Applies `step` to every block of the row and the block at the same position in a
    /// thread's own buffer of `own_len` values: each loaded (and stored back when `write`) with
    /// `isa`. `step` gets the block's values and its position.
    #[inline(always)]
    fn for_blocks<I: Isa>(
        self,
        isa: I,
        own_len: usize,
        write: bool,
        mut step: impl FnMut(&mut Block, usize),
    ) {
        assert_eq!(
            own_len,
            self.0.len() * LANES,
            "a row buffer of the wrong length"
        );
        for (b, cells) in self.0.iter().enumerate() {
            let mut values = isa.load(&cells.0);
            step(&mut values, b * LANES);
            if write {
                isa.store(&cells.0, values);
            }
        }
    }

    /// `input · row`, summed exactly as [`crate::vector::dot`] with `DotTail::InLanes` sums the
    /// unpadded values (a padded value adds `0 * 0` to its lane, which changes no bit of a
    /// non-zero lane, and at most the sign of a zero one).
    #[inline(always)]
    pub(super) fn dot<I: Isa>(self, isa: I, input: &[f32]) -> f32 {
        let mut lanes = [0.0f32; LANES];
        self.for_blocks(
            isa,
            input.len(),
            false,
            #[inline(always)]
            |row, start| {
                let input = block(input, start);
                for (lane, (x, y)) in lanes.iter_mut().zip(input.iter().zip(row.iter())) {
                    *lane = I::mul_add(*x, *y, *lane);
                }
            },
        );
        lanes.iter().sum()
    }

    /// `work += g * row` and `row += g * input`.
    #[inline(always)]
    pub(super) fn update_output<I: Isa>(self, isa: I, g: f32, input: &[f32], work: &mut [f32]) {
        assert_eq!(input.len(), work.len(), "buffers of different lengths");
        self.for_blocks(
            isa,
            input.len(),
            true,
            #[inline(always)]
            |row, start| {
                let (input, work) = (block(input, start), block_mut(work, start));
                // Two passes over the block's values (registers), not one interleaved: the
                // vectorizer handles these and the results are the same, each value independent.
                for (w, r) in work.iter_mut().zip(row.iter()) {
                    *w = I::mul_add(g, *r, *w);
                }
                for (r, x) in row.iter_mut().zip(input) {
                    *r = I::mul_add(g, *x, *r);
                }
            },
        );
    }

    /// `row += values`.
    #[inline(always)]
    pub(super) fn add<I: Isa>(self, isa: I, values: &[f32]) {
        self.for_blocks(
            isa,
            values.len(),
            true,
            #[inline(always)]
            |row, start| {
                for (r, v) in row.iter_mut().zip(block(values, start)) {
                    *r = I::mul_add(1.0, *v, *r);
                }
            },
        );
    }

    /// `sum += row`.
    #[inline(always)]
    pub(super) fn add_to<I: Isa>(self, isa: I, sum: &mut [f32]) {
        self.for_blocks(
            isa,
            sum.len(),
            false,
            #[inline(always)]
            |row, start| {
                for (s, r) in block_mut(sum, start).iter_mut().zip(row.iter()) {
                    *s = I::mul_add(1.0, *r, *s);
                }
            },
        );
    }

    /// `copy = row`.
    #[inline(always)]
    pub(super) fn copy_to<I: Isa>(self, isa: I, copy: &mut [f32]) {
        self.for_blocks(
            isa,
            copy.len(),
            false,
            #[inline(always)]
            |row, start| {
                *block_mut(copy, start) = *row;
            },
        );
    }
}

/// The block of `values` at `start` (in range: the lengths were checked).
#[inline(always)]
fn block(values: &[f32], start: usize) -> &Block {
    values[start..start + LANES]
        .try_into()
        .expect("a whole block")
}

/// The block of `values` at `start`, mutable.
#[inline(always)]
fn block_mut(values: &mut [f32], start: usize) -> &mut Block {
    (&mut values[start..start + LANES])
        .try_into()
        .expect("a whole block")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::{DotTail, dot};

    /// 37 values per row: two blocks and 5 values of a third, padded to 48.
    const DIM: usize = 37;
    const PADDED: usize = 48;

    fn values(seed: f32) -> Vec<f32> {
        (0..DIM).map(|i| (i as f32 * 0.37 + seed).sin()).collect()
    }

    fn padded(mut values: Vec<f32>) -> Vec<f32> {
        values.resize(PADDED, 0.0);
        values
    }

    fn matrix() -> SharedMatrix {
        let all: Vec<f32> = (0..3).flat_map(|r| values(r as f32)).collect();
        let mut all = all.into_iter();
        let matrix = SharedMatrix::try_new(3, DIM, || all.next().unwrap()).unwrap();
        assert_eq!(all.next(), None, "one value drawn per cell");
        matrix
    }

    /// Every operation on a shared row gives the bits of the plain-slice loops it replaced, on
    /// the unpadded values, and leaves the padding zero.
    fn agrees_with_slices<I: Isa>(isa: I) {
        let matrix = matrix();
        assert_eq!(matrix.padded_dim(), PADDED);
        let (input, mut row) = (padded(values(7.0)), values(1.0));
        let row_of = |m: &SharedMatrix| {
            let mut copy = vec![f32::NAN; PADDED];
            m.row(1).copy_to(isa, &mut copy);
            copy
        };
        assert_eq!(row_of(&matrix), padded(row.clone()));
        assert_eq!(
            matrix.row(1).dot(isa, &input).to_bits(),
            dot::<I>(&input[..DIM], &row, DotTail::InLanes).to_bits()
        );

        let (g, mut work) = (0.3f32, padded(values(3.0)));
        let mut expected_work = work.clone();
        matrix.row(1).update_output(isa, g, &input, &mut work);
        for ((r, w), x) in row.iter_mut().zip(&mut expected_work).zip(&input) {
            let old = *r;
            *w = I::mul_add(g, old, *w);
            *r = I::mul_add(g, *x, old);
        }
        assert_eq!(work, expected_work);
        assert_eq!(row_of(&matrix), padded(row.clone()));

        matrix.row(1).add(isa, &input);
        row.iter_mut().zip(&input).for_each(|(r, x)| *r += x);
        assert_eq!(row_of(&matrix), padded(row.clone()));

        let mut sum = padded(values(5.0));
        let expected: Vec<f32> = sum
            .iter()
            .zip(&row_of(&matrix))
            .map(|(s, r)| s + r)
            .collect();
        matrix.row(1).add_to(isa, &mut sum);
        assert_eq!(sum, expected);

        let values = matrix.into_values();
        assert_eq!(values.len(), 3 * DIM);
        assert_eq!(values[..DIM], self::values(0.0)[..], "row 0 untouched");
        assert_eq!(values[DIM..2 * DIM], row[..]);
        assert_eq!(values[2 * DIM..], self::values(2.0)[..], "row 2 untouched");
    }

    #[test]
    fn baseline_rows_agree_with_slices() {
        agrees_with_slices(Baseline);
    }

    #[test]
    fn avx2_fma_rows_agree_with_slices() {
        if let Some(isa) = Avx2Fma::detect() {
            agrees_with_slices(isa);
        }
    }

    #[test]
    fn rows_start_on_cache_lines() {
        let matrix = matrix();
        for r in 0..3 {
            assert_eq!(matrix.row(r).0.as_ptr() as usize % 64, 0);
        }
        assert_eq!(padded_len(16), Some(16));
        assert_eq!(padded_len(17), Some(32));
        assert_eq!(padded_len(usize::MAX), None);
    }

    #[test]
    #[should_panic(expected = "a row buffer of the wrong length")]
    fn an_unpadded_buffer_is_refused() {
        matrix().row(0).copy_to(Baseline, &mut [0.0; DIM]);
    }
}
