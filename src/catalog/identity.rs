//! Content identity. A content is identified by the BLAKE3 hash of the whole file, in
//! lowercase hex: two files with the same bytes are one content, embedded once.
//!
//! The sampled hash is a cheap pre-check and never an identity. It reads at most
//! 3 × 64 KiB and decides only whether a full hash is worth computing: when a catalogued
//! file vanishes and a new file of the same size appears, equal sampled hashes make a
//! move likely, and the full hash confirms it before the new path takes over the old
//! content. Different sampled hashes prove different contents.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// Bytes read at each of the three sample points.
pub const SAMPLE_BYTES: u64 = 64 * 1024;

/// Key context of the sampled hash, so that it can never equal a full-file hash.
const SAMPLE_CONTEXT: &str = "xunying 2026-12 sampled file hash v1";

/// Computes the BLAKE3 hash of a whole file, read in a stream, as 64 lowercase hex digits.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(File::open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// Computes the BLAKE3 hash of bytes already in memory; equals [`hash_file`] of a file
/// with these bytes.
pub fn hash_bytes(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Computes the sampled hash of a file of `size` bytes: a keyed BLAKE3 of the size and
/// of 64 KiB at the start, the middle and the end, or of the whole file when it is at
/// most 192 KiB. Fails with [`io::ErrorKind::UnexpectedEof`] when the file is shorter
/// than `size`.
pub fn sampled_hash(path: &Path, size: u64) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = blake3::Hasher::new_derive_key(SAMPLE_CONTEXT);
    hasher.update(&size.to_le_bytes());

    if size <= 3 * SAMPLE_BYTES {
        let mut whole = Vec::new();
        file.by_ref().take(size).read_to_end(&mut whole)?;
        if (whole.len() as u64) < size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} is shorter than {size} bytes", path.display()),
            ));
        }
        hasher.update(&whole);
    } else {
        let mut sample = vec![0u8; SAMPLE_BYTES as usize];
        for offset in [0, size / 2 - SAMPLE_BYTES / 2, size - SAMPLE_BYTES] {
            file.seek(SeekFrom::Start(offset))?;
            file.read_exact(&mut sample)?;
            hasher.update(&sample);
        }
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Returns whether `hash` has the stored form: 64 lowercase hex digits.
pub(crate) fn is_hex_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_temp(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photo.bin");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn file_hash_is_blake3_of_bytes() {
        let bytes = pattern(300_000);
        let (_dir, path) = write_temp(&bytes);

        let hash = hash_file(&path).unwrap();

        assert_eq!(hash, blake3::hash(&bytes).to_hex().to_string());
        assert_eq!(hash, hash_bytes(&bytes));
        assert!(is_hex_hash(&hash));
    }

    #[test]
    fn sample_ignores_unsampled_bytes() {
        let bytes = pattern(1_000_000);
        let mut edited = bytes.clone();
        edited[200_000] ^= 0xff;
        let (_a, original) = write_temp(&bytes);
        let (_b, changed) = write_temp(&edited);

        let size = bytes.len() as u64;
        assert_eq!(sampled_hash(&original, size).unwrap(), sampled_hash(&changed, size).unwrap());
        assert_ne!(hash_file(&original).unwrap(), hash_file(&changed).unwrap());
    }

    #[test]
    fn sample_sees_start_middle_end() {
        let bytes = pattern(1_000_000);
        let (_dir, path) = write_temp(&bytes);
        let size = bytes.len() as u64;
        let reference = sampled_hash(&path, size).unwrap();

        for position in [10, 500_000, 999_990] {
            let mut edited = bytes.clone();
            edited[position] ^= 0xff;
            let (_edited_dir, edited_path) = write_temp(&edited);
            assert_ne!(sampled_hash(&edited_path, size).unwrap(), reference, "byte {position}");
        }
    }

    #[test]
    fn small_file_sample_covers_every_byte() {
        let bytes = pattern(100_000);
        let mut edited = bytes.clone();
        edited[70_000] ^= 0xff;
        let (_a, original) = write_temp(&bytes);
        let (_b, changed) = write_temp(&edited);

        let size = bytes.len() as u64;
        assert_ne!(sampled_hash(&original, size).unwrap(), sampled_hash(&changed, size).unwrap());
    }

    #[test]
    fn sample_differs_from_full_hash() {
        let bytes = pattern(1000);
        let (_dir, path) = write_temp(&bytes);

        assert_ne!(sampled_hash(&path, 1000).unwrap(), hash_file(&path).unwrap());
    }

    #[test]
    fn sample_of_truncated_file_fails() {
        let (_dir, path) = write_temp(&pattern(1000));

        for size in [2000, 10 * SAMPLE_BYTES] {
            let error = sampled_hash(&path, size).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof, "size {size}");
        }
    }

    #[test]
    fn hex_hash_form_is_checked() {
        assert!(is_hex_hash(&"0123456789abcdef".repeat(4)));
        assert!(!is_hex_hash(&"0123456789ABCDEF".repeat(4)));
        assert!(!is_hex_hash("abc"));
        assert!(!is_hex_hash(&"g".repeat(64)));
    }
}
