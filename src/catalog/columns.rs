//! Conversions between Rust values and columns: sizes, timestamps, metadata, embeddings.

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Row;

use super::embedding;
use super::error::{CatalogError, Fault};
use super::types::PhotoMetadata;

/// The metadata columns of `contents`, in the order [`read_metadata`] expects.
pub(crate) const METADATA_COLUMNS: &str =
    "width, height, format, taken_at, camera_make, camera_model, lens_model, gps_lat, gps_lon";

/// Seconds since the Unix epoch, or 0 on a clock set before 1970.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Converts a byte size for storage; SQLite integers are signed 64-bit.
pub(crate) fn size_to_sql(size: u64, table: &'static str) -> Result<i64, Fault> {
    i64::try_from(size).map_err(|_| {
        Fault::Catalog(CatalogError::InvalidValue { table, column: "size", row_id: 0, value: size.to_string() })
    })
}

/// Reads a non-negative integer column as `u64`.
pub(crate) fn read_u64(row: &Row<'_>, index: usize, table: &'static str, column: &'static str) -> Result<u64, Fault> {
    let value: i64 = row.get(index)?;
    u64::try_from(value).map_err(|_| invalid(row, table, column, value.to_string()))
}

/// Reads a nullable integer column as `Option<u32>`.
pub(crate) fn read_u32(row: &Row<'_>, index: usize, table: &'static str, column: &'static str) -> Result<Option<u32>, Fault> {
    let Some(value) = row.get::<_, Option<i64>>(index)? else {
        return Ok(None);
    };
    u32::try_from(value).map(Some).map_err(|_| invalid(row, table, column, value.to_string()))
}

/// Builds an [`CatalogError::InvalidValue`] for the row whose id is in column 0.
pub(crate) fn invalid(row: &Row<'_>, table: &'static str, column: &'static str, value: String) -> Fault {
    let row_id = row.get::<_, i64>(0).unwrap_or(0);
    Fault::Catalog(CatalogError::InvalidValue { table, column, row_id, value })
}

/// Reads the [`METADATA_COLUMNS`] starting at column `first`.
pub(crate) fn read_metadata(row: &Row<'_>, first: usize) -> Result<PhotoMetadata, Fault> {
    Ok(PhotoMetadata {
        width: read_u32(row, first, "contents", "width")?,
        height: read_u32(row, first + 1, "contents", "height")?,
        format: row.get(first + 2)?,
        taken_at: row.get(first + 3)?,
        camera_make: row.get(first + 4)?,
        camera_model: row.get(first + 5)?,
        lens_model: row.get(first + 6)?,
        gps_lat: row.get(first + 7)?,
        gps_lon: row.get(first + 8)?,
    })
}

/// Decodes a stored content embedding, or fails naming the content.
pub(crate) fn decode_content_embedding(
    bytes: &[u8],
    dimension: usize,
    content_id: i64,
    model_id: &str,
    out: &mut Vec<f32>,
) -> Result<(), Fault> {
    if embedding::decode_into(bytes, dimension, out) {
        return Ok(());
    }
    Err(Fault::Catalog(CatalogError::ContentEmbeddingLength {
        content_id,
        model_id: model_id.to_string(),
        expected_bytes: dimension * 4,
        found_bytes: bytes.len(),
    }))
}

/// Decodes a stored region embedding, or fails naming the region and its content.
pub(crate) fn decode_region_embedding(
    bytes: &[u8],
    dimension: usize,
    (region_id, content_id): (i64, i64),
    model_id: &str,
    out: &mut Vec<f32>,
) -> Result<(), Fault> {
    if embedding::decode_into(bytes, dimension, out) {
        return Ok(());
    }
    Err(Fault::Catalog(CatalogError::RegionEmbeddingLength {
        region_id,
        content_id,
        model_id: model_id.to_string(),
        expected_bytes: dimension * 4,
        found_bytes: bytes.len(),
    }))
}
