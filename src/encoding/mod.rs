//! How response vectors are written: JSON floats, base64 of their little-endian f32 bytes, or
//! base64 of one sign bit per dimension (`binary`, `ubinary`).
//!
//! Every route that returns vectors (`/embed`, `/v1/embeddings`) encodes them here, so a new
//! encoding is added in one place and behaves the same on every route.
//!
//! The packed encodings are sentence-transformers' `quantize_embeddings` (and Cohere's embedding
//! types): bit `i` of a vector is `value[i] > 0`, packed eight to a byte with the first dimension
//! in the most significant bit (`numpy.packbits`), the last byte padded with zero bits; `ubinary`
//! is those bytes, `binary` the same bytes minus 128 as int8 (two's complement). Each row packs on
//! its own (`ceil(dimension / 8)` bytes), rows one after another. They shrink a vector 32x for
//! indexes that search by Hamming distance.
//!
//! Float output is written by `float_text`: table look-ups for bf16 and f16 values.

mod float_text;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ndarray::{Array1, Array2};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// How vectors are written in the response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    /// JSON numbers that parse back to the exact f32.
    #[default]
    Float,
    /// Base64 of the little-endian f32 bytes, row-major.
    Base64,
    /// Base64 of the packed sign bits as int8 (`ubinary` minus 128).
    Binary,
    /// Base64 of the packed sign bits as uint8.
    Ubinary,
}

/// Most bytes one f32 takes as JSON text: nine significant digits, sign, point, exponent and
/// the separator (`-1.17549435e-38,`).
const MAX_FLOAT_TEXT_BYTES: usize = 16;

impl EncodingFormat {
    /// The most bytes `values` vector values take in this format, for checking a response's
    /// size before computing it.
    pub fn max_bytes(self, values: usize) -> usize {
        let base64 = |bytes: usize| bytes.div_ceil(3).saturating_mul(4);
        match self {
            EncodingFormat::Float => values.saturating_mul(MAX_FLOAT_TEXT_BYTES),
            EncodingFormat::Base64 => base64(values.saturating_mul(4)),
            EncodingFormat::Binary | EncodingFormat::Ubinary => base64(values.div_ceil(8)),
        }
    }
}

/// Vectors as they go into the JSON body.
#[derive(Debug)]
pub enum Encoded {
    /// One JSON array per token row.
    Rows(Array2<f32>),
    /// One JSON array.
    Vector(Array1<f32>),
    /// Base64 text of the encoded bytes.
    Base64(String),
}

impl Encoded {
    /// Encodes a tokens x dim matrix in `format`.
    pub fn rows(rows: Array2<f32>, format: EncodingFormat) -> Self {
        match format {
            EncodingFormat::Float => Self::Rows(rows),
            EncodingFormat::Base64 => Self::Base64(base64_f32(rows.iter())),
            EncodingFormat::Binary | EncodingFormat::Ubinary => {
                let mut bytes = Vec::with_capacity(rows.nrows() * rows.ncols().div_ceil(8));
                for row in rows.rows() {
                    pack_signs(row.iter(), format, &mut bytes);
                }
                Self::Base64(BASE64.encode(bytes))
            }
        }
    }

    /// Encodes one vector in `format`.
    pub fn vector(vector: Array1<f32>, format: EncodingFormat) -> Self {
        match format {
            EncodingFormat::Float => Self::Vector(vector),
            EncodingFormat::Base64 => Self::Base64(base64_f32(vector.iter())),
            EncodingFormat::Binary | EncodingFormat::Ubinary => {
                let mut bytes = Vec::with_capacity(vector.len().div_ceil(8));
                pack_signs(vector.iter(), format, &mut bytes);
                Self::Base64(BASE64.encode(bytes))
            }
        }
    }
}

fn base64_f32<'a>(values: impl ExactSizeIterator<Item = &'a f32>) -> String {
    let mut bytes = Vec::with_capacity(values.len() * 4);
    values.for_each(|value| bytes.extend_from_slice(&value.to_le_bytes()));
    BASE64.encode(bytes)
}

/// Appends one vector's sign bits to `bytes`, as `numpy.packbits(vector > 0)` packs them; for
/// `binary` each byte is shifted by -128 into int8 (flipping the top bit is the same).
fn pack_signs<'a>(
    values: impl Iterator<Item = &'a f32>,
    format: EncodingFormat,
    bytes: &mut Vec<u8>,
) {
    let offset = if format == EncodingFormat::Binary {
        0x80
    } else {
        0
    };
    let mut byte = 0u8;
    let mut filled = 0;
    for &value in values {
        byte = (byte << 1) | u8::from(value > 0.0);
        filled += 1;
        if filled == 8 {
            bytes.push(byte ^ offset);
            (byte, filled) = (0, 0);
        }
    }
    if filled > 0 {
        bytes.push((byte << (8 - filled)) ^ offset);
    }
}

impl Serialize for Encoded {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Rows(rows) => float_text::json_matrix(rows.view()).serialize(serializer),
            Self::Vector(vector) => float_text::json_vector(vector.view()).serialize(serializer),
            Self::Base64(text) => serializer.serialize_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn base64_is_little_endian_f32_row_major() {
        let encoded = Encoded::rows(array![[1.0f32, -2.0], [0.5, 3.0]], EncodingFormat::Base64);
        let Encoded::Base64(text) = encoded else {
            panic!("expected base64, got {encoded:?}");
        };
        let bytes = BASE64.decode(text).expect("valid base64");
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
            .collect();
        assert_eq!(values, [1.0, -2.0, 0.5, 3.0]);
    }

    fn packed(encoded: &Encoded) -> Vec<u8> {
        let Encoded::Base64(text) = encoded else {
            panic!("expected base64, got {encoded:?}");
        };
        BASE64.decode(text).expect("valid base64")
    }

    #[test]
    fn sign_bits_pack_as_numpy_packbits_per_row() {
        // 10 dimensions: 0.0 and negatives are 0 bits; the second byte is padded with zeros.
        let row = [1.0f32, -1.0, 0.0, 2.0, 0.5, -0.5, 3.0, 1e-30, -2.0, 4.0];
        let vector = Array1::from(row.to_vec());
        assert_eq!(
            packed(&Encoded::vector(vector.clone(), EncodingFormat::Ubinary)),
            [0b1001_1011, 0b0100_0000]
        );
        // binary is ubinary - 128 as int8: 155 - 128 = 27, 64 - 128 = -64.
        assert_eq!(
            packed(&Encoded::vector(vector, EncodingFormat::Binary)),
            [27u8, (-64i8).to_ne_bytes()[0]]
        );
        let mut rows = Array2::<f32>::zeros((2, 10));
        rows.row_mut(0).assign(&ndarray::ArrayView1::from(&row));
        rows[[1, 9]] = 1.0;
        assert_eq!(
            packed(&Encoded::rows(rows, EncodingFormat::Ubinary)),
            [0b1001_1011, 0b0100_0000, 0, 0b0100_0000]
        );
    }

    #[test]
    fn floats_serialize_as_nested_arrays() {
        let rows = Encoded::rows(array![[1.5f32, -2.0], [0.1, 3.0]], EncodingFormat::Float);
        assert_eq!(
            serde_json::to_string(&rows).expect("serializes"),
            "[[1.5,-2.0],[0.1,3.0]]"
        );
        let vector = Encoded::vector(array![0.25f32], EncodingFormat::Float);
        assert_eq!(
            serde_json::to_string(&vector).expect("serializes"),
            "[0.25]"
        );
    }
}
