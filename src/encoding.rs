//! How response vectors are written: JSON floats or base64 of their little-endian f32 bytes.
//!
//! Every route that returns vectors (`/embed`, `/v1/embeddings`) encodes them here, so a new
//! encoding is added in one place and behaves the same on every route.

use base64::Engine;
use ndarray::{Array1, Array2, ArrayView1};
use serde::ser::{SerializeSeq, Serializer};
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
        }
    }

    /// Encodes one vector in `format`.
    pub fn vector(vector: Array1<f32>, format: EncodingFormat) -> Self {
        match format {
            EncodingFormat::Float => Self::Vector(vector),
            EncodingFormat::Base64 => Self::Base64(base64_f32(vector.iter())),
        }
    }
}

fn base64_f32<'a>(values: impl ExactSizeIterator<Item = &'a f32>) -> String {
    let mut bytes = Vec::with_capacity(values.len() * 4);
    values.for_each(|value| bytes.extend_from_slice(&value.to_le_bytes()));
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Serialize for Encoded {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Rows(rows) => {
                let mut seq = serializer.serialize_seq(Some(rows.nrows()))?;
                for row in rows.rows() {
                    seq.serialize_element(&Row(row))?;
                }
                seq.end()
            }
            Self::Vector(vector) => Row(vector.view()).serialize(serializer),
            Self::Base64(text) => serializer.serialize_str(text),
        }
    }
}

/// One row written as a JSON array without copying it.
struct Row<'a>(ArrayView1<'a, f32>);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter())
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
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("valid base64");
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
            .collect();
        assert_eq!(values, [1.0, -2.0, 0.5, 3.0]);
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
