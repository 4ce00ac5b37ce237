//! `xunying bench decode`: decode and NaFlex preprocessing of single photos on one
//! thread, the work that `bench/reference_pipeline.py --decode-only` times for Pillow
//! and the transformers image processor.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::imaging::{self, DecodeLimits};
use crate::model::{Bundle, Preprocessor};

use super::ingest::photos_in;
use super::photos::{write_generated_photos, GeneratedSet};
use super::stats::Latency;
use super::BenchError;

/// Settings of `xunying bench decode`.
#[derive(Debug, Clone)]
pub struct DecodeBenchOptions {
    /// A folder of photos, if any.
    pub photo_dir: Option<PathBuf>,
    /// Photos to generate first.
    pub generated: Vec<GeneratedSet>,
    /// A bundle whose preprocessing settings to use; FG-CLIP 2's when absent.
    pub model_dir: Option<PathBuf>,
    /// Timed runs per photo (after one untimed run).
    pub repeats: usize,
    /// Folder for generated photos (default: the system's temporary folder).
    pub scratch_dir: Option<PathBuf>,
}

/// The result of `xunying bench decode`.
#[derive(Debug, Clone, Serialize)]
pub struct DecodeReport {
    /// Timed runs per photo.
    pub repeats: usize,
    /// One entry per photo.
    pub photos: Vec<PhotoDecodeTime>,
}

/// Decode and preprocessing time of one photo, medians over the repeats.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoDecodeTime {
    /// The file name.
    pub name: String,
    /// Upright `(width, height)` in pixels.
    pub size_px: (u32, u32),
    /// The patch budget the photo got.
    pub patch_budget: usize,
    /// Reading and decoding to upright RGB8, milliseconds.
    pub decode_ms: f64,
    /// Resize, normalisation and patches, milliseconds.
    pub preprocess_ms: f64,
    /// Both, per run, milliseconds.
    pub total: Latency,
    /// The same work with a reduced JPEG decode, as ingest and query-by-image do it:
    /// first for the model input alone, then for the model input and the thumbnails.
    pub reduced: Vec<ReducedDecodeTime>,
}

/// Decode and preprocessing of one photo through `imaging::decode_file_bytes_reduced`
/// and `Preprocessor::prepare_as`, medians over the repeats.
#[derive(Debug, Clone, Serialize)]
pub struct ReducedDecodeTime {
    /// The sizes the decode had to cover: `twice the model input`, or `twice the model
    /// input, and thumbnails`.
    pub covers: String,
    /// The size the photo was decoded at, `(width, height)`, upright.
    pub decoded_px: (u32, u32),
    /// Reading and decoding, milliseconds.
    pub decode_ms: f64,
    /// Resize, normalisation and patches, milliseconds.
    pub preprocess_ms: f64,
    /// Both, per run, milliseconds.
    pub total: Latency,
    /// Largest difference between this model input and the full-size decode's, in
    /// 8-bit levels (0–255) of the resized pixels.
    pub max_diff_levels: f32,
    /// Mean difference over all values of the model input, in 8-bit levels.
    pub mean_diff_levels: f32,
}

/// Runs the decode benchmark.
pub fn run_decode(options: &DecodeBenchOptions) -> Result<DecodeReport, BenchError> {
    let scratch = super::scratch_folder(options.scratch_dir.as_deref())?;
    let mut files = Vec::new();
    if let Some(dir) = &options.photo_dir {
        files.extend(photos_in(dir)?);
    }
    if !options.generated.is_empty() {
        files.extend(write_generated_photos(scratch.path(), &options.generated)?);
    }
    if files.is_empty() {
        return Err(BenchError::invalid("give --photos DIR, --generate COUNTxMP, or both", "请给出 --photos 目录、--generate 数量x百万像素，或两者都给"));
    }
    let preprocessor = match &options.model_dir {
        Some(dir) => preprocessor_of(&Bundle::load(dir).map_err(BenchError::Model)?),
        None => fg_clip2_preprocessor(),
    };
    let limits = DecodeLimits::default();
    let repeats = options.repeats.max(1);

    let mut photos = Vec::new();
    for path in &files {
        // A photo that fails here is skipped: the ingest benchmark counts failures.
        let Ok(first) = imaging::decode_file(path, &limits) else { continue };
        let prepared = preprocessor.prepare(&first.rgb)?;
        let mut decode_times = Vec::with_capacity(repeats);
        let mut preprocess_times = Vec::with_capacity(repeats);
        let mut totals = Vec::with_capacity(repeats);
        for _ in 0..repeats {
            let started = Instant::now();
            let decoded = imaging::decode_file(path, &limits)?;
            let decoded_at = Instant::now();
            std::hint::black_box(preprocessor.prepare(&decoded.rgb)?);
            let finished = Instant::now();
            decode_times.push(decoded_at - started);
            preprocess_times.push(finished - decoded_at);
            totals.push(finished - started);
        }
        let model_only = |full_size: (u32, u32)| preprocessor.min_decode_size(full_size);
        let with_thumbnails = |full_size: (u32, u32)| {
            let (model_w, model_h) = preprocessor.min_decode_size(full_size);
            let (thumb_w, thumb_h) = imaging::thumbnail_size(full_size, imaging::THUMB_LARGE_EDGE_PX);
            (model_w.max(thumb_w), model_h.max(thumb_h))
        };
        let mut reduced = Vec::new();
        for (covers, needed) in [
            ("twice the model input", &model_only as &dyn Fn((u32, u32)) -> (u32, u32)),
            ("twice the model input, and thumbnails", &with_thumbnails),
        ] {
            reduced.push(time_reduced(path, &limits, &preprocessor, covers, needed, &prepared.pixel_values, repeats)?);
        }
        photos.push(PhotoDecodeTime {
            name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            size_px: first.rgb.dimensions(),
            patch_budget: prepared.patch_budget,
            decode_ms: median_ms(&mut decode_times),
            preprocess_ms: median_ms(&mut preprocess_times),
            total: Latency::of(&totals),
            reduced,
        });
    }
    Ok(DecodeReport { repeats, photos })
}

/// Times the reduced decode of one photo and compares its model input with `full_input`.
fn time_reduced(
    path: &std::path::Path,
    limits: &DecodeLimits,
    preprocessor: &Preprocessor,
    covers: &str,
    needed: &dyn Fn((u32, u32)) -> (u32, u32),
    full_input: &[f32],
    repeats: usize,
) -> Result<ReducedDecodeTime, BenchError> {
    let read = |path: &std::path::Path| std::fs::read(path).map_err(|source| BenchError::io(path.to_path_buf(), source));
    let first = imaging::decode_file_bytes_reduced(&read(path)?, path, limits, needed)?;
    let input = preprocessor.prepare_as(&first.rgb, first.full_size)?;
    let (max_diff_levels, mean_diff_levels) = input_difference(&input.pixel_values, full_input, preprocessor.image_std);

    let mut decode_times = Vec::with_capacity(repeats);
    let mut preprocess_times = Vec::with_capacity(repeats);
    let mut totals = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let started = Instant::now();
        let decoded = imaging::decode_file_bytes_reduced(&read(path)?, path, limits, needed)?;
        let decoded_at = Instant::now();
        std::hint::black_box(preprocessor.prepare_as(&decoded.rgb, decoded.full_size)?);
        let finished = Instant::now();
        decode_times.push(decoded_at - started);
        preprocess_times.push(finished - decoded_at);
        totals.push(finished - started);
    }
    Ok(ReducedDecodeTime {
        covers: covers.to_string(),
        decoded_px: first.rgb.dimensions(),
        decode_ms: median_ms(&mut decode_times),
        preprocess_ms: median_ms(&mut preprocess_times),
        total: Latency::of(&totals),
        max_diff_levels,
        mean_diff_levels,
    })
}

/// Largest and mean absolute difference of two model inputs, in 8-bit levels. Values
/// are normalised per channel, and patches store their pixels channel-last.
fn input_difference(a: &[f32], b: &[f32], std: [f32; 3]) -> (f32, f32) {
    if a.len() != b.len() || a.is_empty() {
        return (f32::INFINITY, f32::INFINITY);
    }
    let mut max = 0f32;
    let mut sum = 0f64;
    for (index, (x, y)) in a.iter().zip(b).enumerate() {
        let levels = (x - y).abs() * std[index % 3] * 255.0;
        max = max.max(levels);
        sum += f64::from(levels);
    }
    (max, (sum / a.len() as f64) as f32)
}

fn median_ms(samples: &mut [Duration]) -> f64 {
    samples.sort();
    samples.get(samples.len() / 2).map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0)
}

fn preprocessor_of(bundle: &Bundle) -> Preprocessor {
    let vision = &bundle.manifest.vision;
    Preprocessor {
        patch_size: vision.patch_size,
        patch_budgets: vision.patch_budgets.clone(),
        image_mean: [vision.image_mean[0], vision.image_mean[1], vision.image_mean[2]],
        image_std: [vision.image_std[0], vision.image_std[1], vision.image_std[2]],
    }
}

/// FG-CLIP 2's settings: 16-pixel patches, budgets 128–1024, mean and std 0.5.
fn fg_clip2_preprocessor() -> Preprocessor {
    Preprocessor { patch_size: 16, patch_budgets: vec![128, 256, 576, 784, 1024], image_mean: [0.5; 3], image_std: [0.5; 3] }
}
