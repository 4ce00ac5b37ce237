//! Time spent in each ingest stage, summed over the run. Decode workers add to the same
//! counters from several threads, so their stages sum thread time and may exceed the
//! wall time of the run. The model, region, commit and index stages run on the
//! calling thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// An ingest stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the file into memory.
    Read,
    /// Decoding pixels, EXIF and orientation.
    Decode,
    /// Writing the two thumbnails.
    Thumbnails,
    /// NaFlex resize, normalisation and patches.
    Preprocess,
    /// The vision and dense graphs with their host-side inputs and outputs.
    Encoder,
    /// Region proposals and RoIAlign embeddings.
    Regions,
    /// The catalog transaction of a batch.
    Commit,
    /// Updating the vector and keyword indexes from a committed batch.
    IndexUpdate,
    /// Superpixels of the decoded photo, for snapping region boxes.
    Superpixels,
}

const NUM_STAGES: usize = 9;

impl Stage {
    fn slot(self) -> usize {
        self as usize
    }
}

/// Cumulative time per [`Stage`], shared by the threads of one library.
#[derive(Debug, Default)]
pub struct StageClock {
    nanos: [AtomicU64; NUM_STAGES],
    photos: AtomicU64,
}

impl StageClock {
    /// Adds `elapsed` to `stage`.
    pub fn add(&self, stage: Stage, elapsed: Duration) {
        self.nanos[stage.slot()].fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Runs `work` and adds its wall time to `stage`.
    pub fn time<T>(&self, stage: Stage, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = work();
        self.add(stage, started.elapsed());
        result
    }

    /// Counts photos that went through the encoder.
    pub fn count_photos(&self, num_photos: u64) {
        self.photos.fetch_add(num_photos, Ordering::Relaxed);
    }

    /// Returns the totals so far.
    pub fn snapshot(&self) -> StageTimes {
        let seconds = |stage: Stage| Duration::from_nanos(self.nanos[stage.slot()].load(Ordering::Relaxed)).as_secs_f64();
        StageTimes {
            photos: self.photos.load(Ordering::Relaxed),
            read_s: seconds(Stage::Read),
            decode_s: seconds(Stage::Decode),
            thumbnails_s: seconds(Stage::Thumbnails),
            preprocess_s: seconds(Stage::Preprocess),
            superpixels_s: seconds(Stage::Superpixels),
            encoder_s: seconds(Stage::Encoder),
            regions_s: seconds(Stage::Regions),
            commit_s: seconds(Stage::Commit),
            index_update_s: seconds(Stage::IndexUpdate),
        }
    }
}

/// Seconds spent per ingest stage since the library was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageTimes {
    /// Photos that reached the encoder.
    pub photos: u64,
    /// Reading files, summed over decode workers.
    pub read_s: f64,
    /// Decoding, summed over decode workers.
    pub decode_s: f64,
    /// Writing thumbnails, summed over decode workers.
    pub thumbnails_s: f64,
    /// NaFlex preprocessing, summed over decode workers.
    pub preprocess_s: f64,
    /// Superpixels for snapping region boxes, summed over decode workers.
    pub superpixels_s: f64,
    /// Vision and dense graphs, host side included.
    pub encoder_s: f64,
    /// Region proposals and embeddings.
    pub regions_s: f64,
    /// Catalog transactions.
    pub commit_s: f64,
    /// Vector and keyword index updates.
    pub index_update_s: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_sums_per_stage() {
        let clock = StageClock::default();
        clock.add(Stage::Decode, Duration::from_millis(30));
        clock.add(Stage::Decode, Duration::from_millis(20));
        clock.add(Stage::Commit, Duration::from_millis(5));
        clock.count_photos(3);
        let times = clock.snapshot();

        assert!((times.decode_s - 0.05).abs() < 1e-9);
        assert!((times.commit_s - 0.005).abs() < 1e-9);
        assert_eq!(times.read_s, 0.0);
        assert_eq!(times.photos, 3);
    }

    #[test]
    fn time_returns_work_result() {
        let clock = StageClock::default();
        let value = clock.time(Stage::Regions, || 7);
        assert_eq!(value, 7);
        assert!(clock.snapshot().regions_s >= 0.0);
    }
}
