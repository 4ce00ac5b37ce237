//! Approximate nearest-neighbour indexes over embeddings, on usearch (HNSW, cosine).
//! An index is derived data: the caller feeds it `(id, vector)` rows from the catalog,
//! and any file that is missing, stale, damaged or built for another model opens as
//! [`OpenOutcome::NeedsRebuild`] rather than failing. This module knows nothing of the
//! catalog or the model; it stores plain `u64` keys and `f32` vectors.

mod error;
mod file;
mod index;
mod spec;

use std::fmt;
use std::path::PathBuf;

pub use error::VectorError;
pub use index::{ProgressFn, VectorIndex};
pub use spec::{header_path, HnswParams, IndexSpec, VectorKind, HEADER_FORMAT_VERSION};

/// The result of opening an index file.
#[derive(Debug)]
pub enum OpenOutcome {
    /// The file matches the expected spec and the catalog generation.
    Ready(VectorIndex),
    /// The file cannot be used; rebuild it from the catalog with [`VectorIndex::rebuild`].
    NeedsRebuild {
        /// Why the file cannot be used.
        reason: RebuildReason,
    },
}

/// Why an index file has to be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebuildReason {
    /// The index file or its header does not exist.
    Missing {
        /// The missing file.
        path: PathBuf,
    },
    /// The index file or its header cannot be read, is truncated or is not an index.
    Unreadable {
        /// The damaged file.
        path: PathBuf,
        /// What was wrong with it.
        detail: String,
    },
    /// The file was built for another model, dimension, scalar kind or graph layout.
    Mismatch {
        /// The header field that differs, such as `model_id`.
        field: &'static str,
        /// The value the caller expects.
        expected: String,
        /// The value in the header.
        found: String,
    },
    /// The file reflects another catalog generation than the current one.
    Stale {
        /// The generation recorded in the header.
        index_generation: u64,
        /// The catalog's current generation.
        catalog_generation: u64,
    },
}

impl fmt::Display for RebuildReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RebuildReason::Missing { path } => write!(f, "{} does not exist", path.display()),
            RebuildReason::Unreadable { path, detail } => write!(f, "{} is unreadable: {detail}", path.display()),
            RebuildReason::Mismatch { field, expected, found } => {
                write!(f, "header field `{field}` is {found}, expected {expected}")
            }
            RebuildReason::Stale { index_generation, catalog_generation } => write!(
                f,
                "index reflects catalog generation {index_generation}, the catalog is at {catalog_generation}"
            ),
        }
    }
}
