//! The library: photo folders kept indexed. It scans folders, watches them, runs the
//! ingest pipeline (decode, embed, regions, commit) and keeps the derived vector and
//! keyword indexes in step with the catalog. Progress goes through a sink.

pub mod progress;
pub mod scan;
pub mod watch;
