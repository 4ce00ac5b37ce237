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
pub use query::{run_query, ExpansionReport, QueryBenchOptions, QueryReport, TextEncoderReport};
pub use stats::{percentile_ms, resident_memory_bytes, Latency};
