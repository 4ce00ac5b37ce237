//! Progress of long library work, sent through a sink so that each front end draws it
//! its own way: the CLI as a progress bar, the app over a Tauri channel, the server as
//! server-sent events.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// One progress update.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProgressEvent {
    /// A phase started; `total` is known for scanning only when the walk has finished.
    Phase {
        /// What is being done.
        phase: Phase,
        /// Number of items the phase will handle, when known.
        total: Option<u64>,
    },
    /// Items were finished.
    Advance {
        /// The current phase.
        phase: Phase,
        /// Items finished so far in this phase.
        done: u64,
        /// Items in this phase.
        total: u64,
        /// Items that failed so far.
        failed: u64,
        /// The file being worked on.
        current: Option<PathBuf>,
        /// Throughput over the phase so far, in items per second.
        per_second: f64,
        /// Estimated time to finish the phase.
        eta: Option<Duration>,
    },
    /// A file failed; the run goes on.
    Failed {
        /// The file.
        path: PathBuf,
        /// Why, in both languages.
        reason: String,
    },
    /// A phase finished.
    Finished {
        /// The phase.
        phase: Phase,
    },
}

/// Phases of library work.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Walking folders and comparing them with the catalog.
    Scan,
    /// Decoding and embedding photos.
    Embed,
    /// Rebuilding the vector indexes from the catalog.
    RebuildVectors,
    /// Rebuilding the keyword index from the catalog.
    RebuildKeywords,
    /// Writing missing thumbnails.
    Thumbnails,
}

impl Phase {
    /// A short label in English and Chinese.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Scan => "scanning / 扫描",
            Phase::Embed => "embedding / 嵌入",
            Phase::RebuildVectors => "rebuilding vector index / 重建向量索引",
            Phase::RebuildKeywords => "rebuilding keyword index / 重建关键词索引",
            Phase::Thumbnails => "thumbnails / 缩略图",
        }
    }
}

/// Receives progress events. Implementations must be cheap: events arrive from worker
/// threads at the pace of the work.
pub trait ProgressSink: Send + Sync {
    /// Handles one event.
    fn event(&self, event: ProgressEvent);
}

/// A sink that drops every event.
pub struct NullSink;

impl ProgressSink for NullSink {
    fn event(&self, _event: ProgressEvent) {}
}

/// Tracks counts and rates for one phase and emits `Advance` events.
pub struct PhaseTracker<'a> {
    sink: &'a dyn ProgressSink,
    phase: Phase,
    total: u64,
    done: u64,
    failed: u64,
    started: std::time::Instant,
}

impl<'a> PhaseTracker<'a> {
    /// Starts a phase of `total` items.
    pub fn start(sink: &'a dyn ProgressSink, phase: Phase, total: u64) -> Self {
        sink.event(ProgressEvent::Phase { phase, total: Some(total) });
        PhaseTracker { sink, phase, total, done: 0, failed: 0, started: std::time::Instant::now() }
    }

    /// Records finished items, of which `failed` failed, and reports progress.
    pub fn advance(&mut self, finished: u64, failed: u64, current: Option<PathBuf>) {
        self.done += finished;
        self.failed += failed;
        let elapsed = self.started.elapsed().as_secs_f64();
        let per_second = if elapsed > 0.0 { self.done as f64 / elapsed } else { 0.0 };
        let remaining = self.total.saturating_sub(self.done);
        let eta = (per_second > 0.0).then(|| Duration::from_secs_f64(remaining as f64 / per_second));
        self.sink.event(ProgressEvent::Advance {
            phase: self.phase,
            done: self.done,
            total: self.total,
            failed: self.failed,
            current,
            per_second,
            eta,
        });
    }

    /// Reports a failed file.
    pub fn failure(&self, path: PathBuf, reason: String) {
        self.sink.event(ProgressEvent::Failed { path, reason });
    }

    /// Ends the phase.
    pub fn finish(self) {
        self.sink.event(ProgressEvent::Finished { phase: self.phase });
    }
}
