//! Embedding BLOBs: f32 values in little-endian byte order, back to back.

/// Encodes a vector as a little-endian f32 BLOB.
pub(crate) fn encode(vector: &[f32]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(vector.len() * 4);
    for value in vector {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes
}

/// Decodes a BLOB into `out`, replacing its contents. Returns `false`, leaving `out`
/// empty, when the BLOB is not exactly `dimension` values long.
pub(crate) fn decode_into(bytes: &[u8], dimension: usize, out: &mut Vec<f32>) -> bool {
    out.clear();
    if bytes.len() != dimension * 4 {
        return false;
    }
    out.extend(
        bytes
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])),
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_bits() {
        let vector = [0.0, -0.0, 1.5, f32::MIN_POSITIVE, f32::MAX, -3.25e-7];
        let bytes = encode(&vector);
        let mut decoded = Vec::new();

        assert!(decode_into(&bytes, vector.len(), &mut decoded));
        let bits: Vec<u32> = decoded.iter().map(|v| v.to_bits()).collect();
        let expected: Vec<u32> = vector.iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, expected);
    }

    #[test]
    fn encoding_is_little_endian() {
        assert_eq!(encode(&[1.0]), vec![0x00, 0x00, 0x80, 0x3f]);
    }

    #[test]
    fn wrong_length_is_rejected() {
        let bytes = encode(&[1.0, 2.0, 3.0]);
        let mut decoded = vec![9.0];

        assert!(!decode_into(&bytes, 4, &mut decoded));
        assert!(decoded.is_empty());
        assert!(!decode_into(&bytes[..11], 3, &mut decoded));
    }
}
