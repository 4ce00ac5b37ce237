//! The ingest pipeline: decode and preprocess on worker threads, overlapped with
//! inference on the calling thread; regions from the same dense map; one catalog
//! transaction per batch; then the derived indexes from what was committed.
//!
//! A photo that fails to decode costs one recorded failure (with its reason) and never
//! the run. A decoder that panics is contained by the imaging module.

use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::bounded;
use image::RgbImage;

use crate::catalog::{CatalogOp, ContentRef, NewContent, NewEmbedding, NewFailure, NewRegion, PhotoMetadata, RegionBox};
use crate::imaging::{self, DecodeLimits, DecodedImage, THUMB_LARGE_EDGE_PX, THUMB_SMALL_EDGE_PX};
use crate::model::{Model, PreparedImage};
use crate::regions::{RegionExtractor, SnapConfig, Superpixels};

use super::paths::DataPaths;
use super::plan::EmbedJob;
use super::progress::PhaseTracker;
use super::timing::{Stage, StageClock};

/// A job decoded and preprocessed, ready for the model.
pub(crate) struct PreparedJob {
    pub job: EmbedJob,
    pub metadata: PhotoMetadata,
    pub prepared: PreparedImage,
    /// Kept only while regions are on. A reduced decode makes it smaller than the photo.
    pub rgb: Option<RgbImage>,
    /// Superpixels of `rgb`, when segment boxes are snapped to them.
    pub superpixels: Option<Superpixels>,
    /// The whole upright photo's size, which region boxes are scaled to.
    pub full_size: (u32, u32),
}

/// The result of a decode attempt.
pub(crate) enum Decoded {
    Ready(Box<PreparedJob>),
    Failed { job: EmbedJob, reason: String, permanent: bool },
}

/// Settings the workers need.
pub(crate) struct DecodeSettings<'a> {
    pub limits: DecodeLimits,
    pub paths: &'a DataPaths,
    pub keep_pixels: bool,
    /// Set when segment boxes are snapped: the workers then compute each photo's superpixels.
    pub snap: Option<SnapConfig>,
    pub threads: usize,
    pub clock: &'a StageClock,
}

/// Decodes, writes thumbnails and preprocesses one job.
pub(crate) fn decode_job(job: EmbedJob, model: &Model, settings: &DecodeSettings<'_>) -> Decoded {
    let clock = settings.clock;
    let bytes = match clock.time(Stage::Read, || std::fs::read(&job.decode_path)) {
        Ok(bytes) => bytes,
        Err(source) => {
            let error = imaging::ImagingError::Io { path: job.decode_path.clone(), source };
            return Decoded::Failed { job, reason: error.to_string(), permanent: false };
        }
    };
    // A large JPEG is decoded only as large as preprocessing and the missing
    // thumbnails need. Catalog sizes and region boxes still refer to the whole photo.
    let thumbnails_missing = [THUMB_LARGE_EDGE_PX, THUMB_SMALL_EDGE_PX]
        .into_iter()
        .any(|edge| !settings.paths.thumbnail(&job.hash, edge).exists());
    let needed = |full_size: (u32, u32)| {
        let (model_w, model_h) = model.preprocessor().min_decode_size(full_size);
        let (thumb_w, thumb_h) = if thumbnails_missing { imaging::thumbnail_size(full_size, THUMB_LARGE_EDGE_PX) } else { (1, 1) };
        (model_w.max(thumb_w), model_h.max(thumb_h))
    };
    let decoded = match clock.time(Stage::Decode, || imaging::decode_file_bytes_reduced(&bytes, &job.decode_path, &settings.limits, &needed)) {
        Ok(decoded) => decoded,
        Err(error) => {
            let permanent = error.is_permanent();
            return Decoded::Failed { job, reason: error.to_string(), permanent };
        }
    };
    drop(bytes);
    clock.time(Stage::Thumbnails, || write_thumbnails(settings.paths, &job.hash, &decoded.rgb));
    let metadata = metadata_of(&decoded);
    match clock.time(Stage::Preprocess, || model.prepare_as(&decoded.rgb, decoded.full_size)) {
        Ok(prepared) => {
            let full_size = decoded.full_size;
            let superpixels =
                settings.snap.as_ref().and_then(|snap| clock.time(Stage::Superpixels, || Superpixels::compute(&decoded.rgb, snap)));
            let rgb = settings.keep_pixels.then_some(decoded.rgb);
            Decoded::Ready(Box::new(PreparedJob { job, metadata, prepared, rgb, superpixels, full_size }))
        }
        Err(error) => Decoded::Failed { job, reason: error.to_string(), permanent: true },
    }
}

/// Writes the large and small thumbnails of a content unless they exist. The small one
/// is scaled down from the large one when that was just made, because resizing a
/// 1280-pixel image costs far less than resizing a camera-sized photo again.
pub(crate) fn write_thumbnails(paths: &DataPaths, hash: &str, rgb: &RgbImage) {
    let mut larger: Option<RgbImage> = None;
    for edge in [THUMB_LARGE_EDGE_PX, THUMB_SMALL_EDGE_PX] {
        let path = paths.thumbnail(hash, edge);
        if path.exists() {
            continue;
        }
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let thumb = imaging::thumbnail(larger.as_ref().unwrap_or(rgb), edge);
        if let Err(error) = imaging::write_jpeg_atomic(&thumb, &path, 85) {
            tracing::warn!(path = %path.display(), %error, "cannot write thumbnail");
        }
        larger = Some(thumb);
    }
}

fn metadata_of(decoded: &DecodedImage) -> PhotoMetadata {
    let exif = &decoded.exif;
    PhotoMetadata {
        width: Some(decoded.full_size.0),
        height: Some(decoded.full_size.1),
        format: Some(decoded.format.as_str().to_string()),
        taken_at: exif.taken_at.clone(),
        camera_make: exif.camera_make.clone(),
        camera_model: exif.camera_model.clone(),
        lens_model: exif.lens_model.clone(),
        gps_lat: exif.gps.map(|g| g.0),
        gps_lon: exif.gps.map(|g| g.1),
    }
}

/// Runs `jobs` through decode workers and hands each batch of results to `commit` on the
/// calling thread, which runs the model and writes the catalog. Stops early (after the
/// batch in flight) when `cancel` is set.
pub(crate) fn run_pipeline(
    jobs: Vec<EmbedJob>,
    model: &Model,
    settings: &DecodeSettings<'_>,
    batch_size: usize,
    cancel: &AtomicBool,
    mut commit: impl FnMut(Vec<Decoded>) -> Result<(), super::LibraryError>,
) -> Result<(), super::LibraryError> {
    let (job_tx, job_rx) = bounded::<EmbedJob>(jobs.len().max(1));
    // Decoded jobs hold full-size pixels for the region step, so the queue is kept short.
    let (done_tx, done_rx) = bounded::<Decoded>(batch_size);
    for job in jobs {
        let _ = job_tx.send(job);
    }
    drop(job_tx);

    std::thread::scope(|scope| {
        for _ in 0..settings.threads.max(1) {
            let job_rx = job_rx.clone();
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                while let Ok(job) = job_rx.recv() {
                    if cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    if done_tx.send(decode_job(job, model, settings)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);

        let mut batch = Vec::with_capacity(batch_size);
        for decoded in done_rx.iter() {
            batch.push(decoded);
            if batch.len() >= batch_size {
                commit(std::mem::take(&mut batch))?;
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
            }
        }
        if !batch.is_empty() {
            commit(batch)?;
        }
        // Unblock workers still waiting to send, so the scope can end.
        for _ in done_rx.try_iter() {}
        Ok(())
    })
}

/// Embeds a batch of prepared jobs and turns the whole batch into catalog operations.
pub(crate) fn embed_batch(
    batch: Vec<Decoded>,
    model: &Model,
    regions: Option<&RegionExtractor>,
    tracker: &mut PhaseTracker<'_>,
    clock: &StageClock,
) -> Vec<CatalogOp> {
    let mut ops = Vec::new();
    let mut ready = Vec::new();
    let mut failed = 0u64;
    for decoded in batch {
        match decoded {
            Decoded::Ready(job) => ready.push(*job),
            Decoded::Failed { job, reason, permanent } => {
                failed += job.files.len().max(1) as u64;
                push_failure(&mut ops, &job, &reason, permanent, tracker);
            }
        }
    }

    let prepared: Vec<PreparedImage> = ready.iter().map(|r| r.prepared.clone()).collect();
    clock.count_photos(prepared.len() as u64);
    let embedded = if prepared.is_empty() {
        Ok(Vec::new())
    } else {
        clock.time(Stage::Encoder, || model.embed_images(&prepared, regions.is_some()))
    };
    let embedded = match embedded {
        Ok(embedded) => embedded,
        Err(error) => {
            let reason = error.to_string();
            for job in &ready {
                failed += job.job.files.len().max(1) as u64;
                push_failure(&mut ops, &job.job, &reason, false, tracker);
            }
            tracker.advance(failed, failed, None);
            return ops;
        }
    };

    let mut finished = 0u64;
    let mut last_path = None;
    for (job, image) in ready.into_iter().zip(embedded) {
        let found_regions = match (regions, &image.dense, job.rgb.as_ref()) {
            (Some(extractor), Some(map), Some(rgb)) => clock
                .time(Stage::Regions, || extractor.extract_with(rgb, map, job.superpixels.as_ref()))
                .unwrap_or_else(|error| {
                tracing::warn!(path = %job.job.decode_path.display(), %error, "region extraction failed; keeping the photo without regions");
                Vec::new()
            }),
            _ => Vec::new(),
        };
        let (scale_x, scale_y) = match job.rgb.as_ref() {
            Some(rgb) => (job.full_size.0 as f32 / rgb.width() as f32, job.full_size.1 as f32 / rgb.height() as f32),
            None => (1.0, 1.0),
        };
        let new_regions = found_regions
            .into_iter()
            .map(|r| NewRegion {
                region_box: full_size_box(r.proposal.region_box, (scale_x, scale_y), job.full_size),
                source: catalog_source(r.proposal.source),
                score: r.proposal.score,
                embedding: r.embedding,
            })
            .collect();
        let embedding = NewEmbedding { model_id: model.model_id().to_string(), vector: image.embedding, regions: new_regions };
        match job.job.existing {
            Some(id) => ops.push(CatalogOp::SetEmbedding { content: ContentRef::Id(id), embedding }),
            None => ops.push(CatalogOp::UpsertContent(NewContent {
                hash: job.job.hash.clone(),
                metadata: job.metadata.clone(),
                embedding: Some(embedding),
            })),
        }
        for file in &job.job.files {
            ops.push(CatalogOp::UpsertFile(file.clone()));
        }
        finished += job.job.files.len().max(1) as u64;
        last_path = Some(job.job.decode_path.clone());
    }
    tracker.advance(finished + failed, failed, last_path);
    ops
}

/// Scales a box from the decoded pixels to the whole photo, clamped to its edges.
fn full_size_box(region_box: [f32; 4], (scale_x, scale_y): (f32, f32), (width, height): (u32, u32)) -> RegionBox {
    let clamp_x = |x: f32| (x * scale_x).clamp(0.0, width as f32);
    let clamp_y = |y: f32| (y * scale_y).clamp(0.0, height as f32);
    RegionBox { x0: clamp_x(region_box[0]), y0: clamp_y(region_box[1]), x1: clamp_x(region_box[2]), y1: clamp_y(region_box[3]) }
}

fn push_failure(ops: &mut Vec<CatalogOp>, job: &EmbedJob, reason: &str, permanent: bool, tracker: &PhaseTracker<'_>) {
    tracker.failure(job.decode_path.clone(), reason.to_string());
    let files: Vec<(String, u64, i64)> = if job.files.is_empty() {
        vec![(job.decode_path.to_string_lossy().into_owned(), 0, 0)]
    } else {
        job.files.iter().map(|f| (f.path.clone(), f.size, f.mtime_ns)).collect()
    };
    for (path, size, mtime_ns) in files {
        ops.push(CatalogOp::RecordFailure(NewFailure { path, size, mtime_ns, reason: reason.to_string(), permanent }));
    }
}


fn catalog_source(source: crate::regions::RegionSource) -> crate::catalog::RegionSource {
    use crate::catalog::RegionSource as Stored;
    use crate::regions::RegionSource as Proposed;
    match source {
        Proposed::Segment => Stored::Segment,
        Proposed::Grid => Stored::Grid,
        Proposed::Detector => Stored::Detector,
        Proposed::Whole => Stored::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_have_both_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let paths = DataPaths::new(dir.path());
        let photo = RgbImage::from_fn(3000, 2000, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        write_thumbnails(&paths, "abcdef0123456789", &photo);

        for (edge, expected) in [(THUMB_LARGE_EDGE_PX, (1280, 853)), (THUMB_SMALL_EDGE_PX, (320, 213))] {
            let path = paths.thumbnail("abcdef0123456789", edge);
            let size = image::image_dimensions(&path).unwrap();
            assert_eq!(size, expected, "{}", path.display());
        }
    }
}
