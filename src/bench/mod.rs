//! Benchmarks of the product's own code paths: ingest end to end against the bare
//! model on the same session, decode and preprocessing of single photos, and search
//! over synthetic clustered vectors with the project's `vectors` indexes and
//! `search::fusion`. Reports are plain serialisable structs; the CLI renders them.
//!
//! Timings are wall-clock on whatever machine runs them, so compare ratios measured
//! inside one run, not figures from different runs. Nothing here asserts a target.

mod decode;
mod error;
mod ingest;
mod photos;
mod query;
mod rng;
mod stats;

pub use decode::{run_decode, DecodeBenchOptions, DecodeReport, PhotoDecodeTime};
pub use error::BenchError;
pub use ingest::{run_ingest, IngestBenchOptions, IngestReport, MemoryReport, ModelOnlyReport, StageReport};
pub use photos::{write_generated_photos, GeneratedSet};
pub use query::{run_query, ExpansionReport, QueryBenchOptions, QueryReport, TextEncoderReport, DEFAULT_REGION_CANDIDATES};
pub use stats::{percentile_ms, resident_memory_bytes, Latency};

/// Creates a temporary folder for a benchmark's files inside `parent` (created when
/// missing), or in the system's temporary folder. It is deleted when dropped.
fn scratch_folder(parent: Option<&std::path::Path>) -> Result<tempfile::TempDir, BenchError> {
    let Some(parent) = parent else {
        return tempfile::tempdir().map_err(|source| BenchError::io(std::env::temp_dir(), source));
    };
    std::fs::create_dir_all(parent).map_err(|source| BenchError::io(parent.to_path_buf(), source))?;
    tempfile::tempdir_in(parent).map_err(|source| BenchError::io(parent.to_path_buf(), source))
}

#[cfg(test)]
mod tests {
    #[test]
    fn scratch_folder_creates_missing_parent() {
        let root = tempfile::tempdir().unwrap();
        let parent = root.path().join("not/yet/there");
        let scratch = super::scratch_folder(Some(&parent)).unwrap();
        assert!(scratch.path().is_dir());
        assert!(scratch.path().starts_with(&parent));
    }
}
