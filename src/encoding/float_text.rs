//! Float vectors as JSON text at copy speed: the shortest round-trip decimal of every bf16 and
//! every f16 value is computed once per process, so rows widened from a bf16 or f16 matrix are
//! written by table look-up instead of being formatted value by value.
//!
//! The text is exactly what `serde_json` writes for the same f32 (it formats with `zmij`, as the
//! fallback here does for values that are neither bf16 nor f16), so the response is unchanged
//! byte for byte; non-finite values are `null`, as `serde_json` writes them.

use std::sync::OnceLock;

use half::{bf16, f16};
use ndarray::{ArrayView1, ArrayView2};
use serde_json::value::RawValue;

/// The texts of all 65,536 values of one 16-bit float type, back to back.
struct FloatTable {
    text: String,
    /// `ends[i]` is where the text of the value with bits `i` ends (it starts at `ends[i - 1]`).
    ends: Vec<u32>,
}

impl FloatTable {
    fn new(widen: impl Fn(u16) -> f32) -> Self {
        let mut text = String::with_capacity(65_536 * 10);
        let mut ends = Vec::with_capacity(65_536);
        for bits in 0..=u16::MAX {
            push_formatted(&mut text, widen(bits));
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        Self { text, ends }
    }

    fn get(&self, bits: u16) -> &str {
        let i = usize::from(bits);
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
}

/// The bf16 and f16 tables, built on first use (about 10 ms and 1.5 MB).
fn tables() -> &'static (FloatTable, FloatTable) {
    static TABLES: OnceLock<(FloatTable, FloatTable)> = OnceLock::new();
    TABLES.get_or_init(|| {
        (
            FloatTable::new(|bits| bf16::from_bits(bits).to_f32()),
            FloatTable::new(|bits| f16::from_bits(bits).to_f32()),
        )
    })
}

/// Appends `value` as `serde_json` would write it.
fn push_formatted(out: &mut String, value: f32) {
    if value.is_finite() {
        out.push_str(zmij::Buffer::new().format_finite(value));
    } else {
        out.push_str("null");
    }
}

/// Appends `value`, from the tables when it is a bf16 or an f16 value.
fn push_value(out: &mut String, value: f32, (bf16s, f16s): &(FloatTable, FloatTable)) {
    let bits = value.to_bits();
    if bits & 0xFFFF == 0 {
        out.push_str(bf16s.get((bits >> 16) as u16));
        return;
    }
    // An f16 widens to an f32 whose 13 low mantissa bits are zero; the round trip confirms it.
    if bits & 0x1FFF == 0 {
        let half = f16::from_f32(value);
        if half.to_f32().to_bits() == bits {
            out.push_str(f16s.get(half.to_bits()));
            return;
        }
    }
    push_formatted(out, value);
}

/// A tokens x dim matrix as a JSON array of arrays.
pub(super) fn json_matrix(rows: ArrayView2<'_, f32>) -> Box<RawValue> {
    let tables = tables();
    let mut out = String::with_capacity(rows.len() * 12 + rows.nrows() * 2 + 2);
    out.push('[');
    for (r, row) in rows.rows().into_iter().enumerate() {
        if r > 0 {
            out.push(',');
        }
        push_row(&mut out, row, tables);
    }
    out.push(']');
    raw_json(out)
}

/// One vector as a JSON array.
pub(super) fn json_vector(vector: ArrayView1<'_, f32>) -> Box<RawValue> {
    let mut out = String::with_capacity(vector.len() * 12 + 2);
    push_row(&mut out, vector, tables());
    raw_json(out)
}

fn push_row(out: &mut String, row: ArrayView1<'_, f32>, tables: &(FloatTable, FloatTable)) {
    out.push('[');
    for (i, &value) in row.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_value(out, value, tables);
    }
    out.push(']');
}

fn raw_json(text: String) -> Box<RawValue> {
    // SAFETY: `text` is a JSON array (or array of arrays) of numbers and `null`s, written by
    // `push_row` with the formatter serde_json itself uses; nothing else reaches it.
    unsafe { RawValue::from_string_unchecked(text) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn texts_equal_serde_jsons_for_every_bf16_and_f16_value() {
        let (bf16s, f16s) = tables();
        for bits in 0..=u16::MAX {
            let value = bf16::from_bits(bits).to_f32();
            assert_eq!(
                bf16s.get(bits),
                serde_json::to_string(&value).expect("json")
            );
            let value = f16::from_bits(bits).to_f32();
            assert_eq!(f16s.get(bits), serde_json::to_string(&value).expect("json"));
        }
    }

    #[test]
    fn matrices_and_vectors_serialize_as_serde_json_does() {
        let rows = array![
            [1.5f32, -0.0, f16::from_f32(0.1).to_f32(), 0.1, f32::NAN],
            [bf16::from_f32(-3.3).to_f32(), 1e-40, f32::MAX, 7.0, -1e30]
        ];
        let nested: Vec<Vec<f32>> = rows.rows().into_iter().map(|row| row.to_vec()).collect();
        assert_eq!(
            json_matrix(rows.view()).get(),
            serde_json::to_string(&nested).expect("json")
        );
        assert_eq!(
            json_vector(rows.row(1)).get(),
            serde_json::to_string(&nested[1]).expect("json")
        );
        assert_eq!(
            json_matrix(ndarray::Array2::<f32>::zeros((0, 3)).view()).get(),
            "[]"
        );
    }
}
