//! Keyword search over photo metadata: paths, file and folder names, taken dates,
//! camera and free text, with Chinese word segmentation, on tantivy. The index is
//! derived data: the caller feeds it [`KeywordDoc`]s from the catalog, and a folder
//! that is missing, damaged, from another schema or stale opens as
//! [`OpenOutcome::NeedsRebuild`]. It knows nothing of the catalog; it returns photo
//! ids with BM25 scores, and [`normalized_scores`] maps those to [0, 1] for blending.

mod analysis;
mod document;
mod error;
mod index;
mod query;

use std::fmt;
use std::path::PathBuf;

pub use document::{KeywordDoc, SCHEMA_VERSION};
pub use error::KeywordError;
pub use index::KeywordIndex;

/// The BM25 score that [`normalized_scores`] maps to 0.5.
///
/// NOTE: an estimate. One rare term in a short field scores about 3 to 8 in indexes
/// of a few thousand photos; tune it against the search benchmark.
pub const DEFAULT_HALF_SCORE: f32 = 5.0;

/// The result of opening an index folder.
#[derive(Debug)]
pub enum OpenOutcome {
    /// The index matches the schema and the catalog generation.
    Ready(Box<KeywordIndex>),
    /// The folder cannot be used; rebuild it from the catalog with
    /// [`KeywordIndex::rebuild`].
    NeedsRebuild {
        /// Why the folder cannot be used.
        reason: RebuildReason,
    },
}

/// Why a keyword index has to be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebuildReason {
    /// The folder holds no index.
    Missing {
        /// The index folder.
        dir: PathBuf,
    },
    /// The index cannot be opened, a file is damaged, or no commit finished.
    Unreadable {
        /// The index folder.
        dir: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// The index was written with another schema version.
    SchemaMismatch {
        /// The version this build writes.
        expected: u32,
        /// The version the index records.
        found: u32,
    },
    /// The index reflects another catalog generation than the current one.
    Stale {
        /// The generation of the index's last commit.
        index_generation: u64,
        /// The catalog's current generation.
        catalog_generation: u64,
    },
}

impl fmt::Display for RebuildReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RebuildReason::Missing { dir } => write!(f, "{} holds no index", dir.display()),
            RebuildReason::Unreadable { dir, detail } => write!(f, "{} is unreadable: {detail}", dir.display()),
            RebuildReason::SchemaMismatch { expected, found } => {
                write!(f, "index schema version is {found}, expected {expected}")
            }
            RebuildReason::Stale { index_generation, catalog_generation } => write!(
                f,
                "index reflects catalog generation {index_generation}, the catalog is at {catalog_generation}"
            ),
        }
    }
}

/// Maps BM25 scores to [0, 1) with `score / (score + half_score)`, which keeps the
/// order and sends `half_score` to 0.5. Non-positive or NaN scores map to 0, and a
/// `half_score` that is not positive is replaced by [`DEFAULT_HALF_SCORE`].
pub fn normalized_scores(hits: &[(u64, f32)], half_score: f32) -> Vec<(u64, f32)> {
    hits.iter().map(|&(photo_id, score)| (photo_id, normalize_score(score, half_score))).collect()
}

fn normalize_score(score: f32, half_score: f32) -> f32 {
    let half_score = if half_score > 0.0 { half_score } else { DEFAULT_HALF_SCORE };
    if score > 0.0 {
        score / (score + half_score)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_scores_keep_order_in_range() {
        let hits = [(1, 12.0), (2, 5.0), (3, 0.5), (4, 0.0), (5, f32::NAN)];
        let normalized = normalized_scores(&hits, 5.0);
        let values: Vec<f32> = normalized.iter().map(|(_, score)| *score).collect();
        assert_eq!(normalized.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert!(values.windows(2).all(|pair| pair[0] >= pair[1]), "{values:?}");
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)), "{values:?}");
        assert_eq!(values[1], 0.5);
        assert_eq!(values[4], 0.0);
    }

    #[test]
    fn normalized_scores_replace_bad_half_score() {
        assert_eq!(normalized_scores(&[(1, 5.0)], 0.0), [(1, 0.5)]);
        assert_eq!(normalized_scores(&[(1, 5.0)], f32::NAN), [(1, 0.5)]);
    }
}
