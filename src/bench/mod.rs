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
    check_scratch_parent(parent)?;
    std::fs::create_dir_all(parent).map_err(|source| BenchError::io(parent.to_path_buf(), source))?;
    tempfile::tempdir_in(parent).map_err(|source| BenchError::io(parent.to_path_buf(), source))
}

/// Rejects a `--scratch` path that exists but is not a folder.
fn check_scratch_parent(parent: &std::path::Path) -> Result<(), BenchError> {
    if parent.exists() && !parent.is_dir() {
        let path = parent.display();
        return Err(BenchError::invalid(
            format!("--scratch {path} is not a folder; give a folder to write the benchmark's files in"),
            format!("--scratch {path} 不是文件夹；请给出用于写入基准测试文件的文件夹"),
        ));
    }
    Ok(())
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

    #[test]
    fn scratch_folder_rejects_file() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        let error = super::scratch_folder(Some(&file)).unwrap_err();
        assert!(error.to_string().contains("is not a folder"), "{error}");
        assert!(error.to_string().contains("不是文件夹"), "{error}");
    }
}
