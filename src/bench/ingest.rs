//! `xunying bench ingest`: photos per second through the real ingest pipeline into a
//! temporary data directory, the time of each stage, and the model-only bound: the
//! same loaded model, fed ready-made tensors of the same shapes in the same batches.
//!
//! The model-only pass runs right before and right after the pipeline, and the ratio
//! uses their mean, so load on a shared machine hits both sides alike.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::imaging::{self, is_supported_extension};
use crate::library::progress::{NullSink, ProgressEvent, ProgressSink};
use crate::library::scan::walk_folder;
use crate::library::timing::StageTimes;
use crate::library::{Library, LibraryOptions};
use crate::model::{choose_patch_budget, target_size, Device, Model, ModelOptions, PreparedImage};
use crate::regions::RegionConfig;

use super::photos::{write_generated_photos, GeneratedSet};
use super::rng::SplitMix64;
use super::stats::resident_memory_bytes;
use super::BenchError;

/// Settings of `xunying bench ingest`.
#[derive(Debug, Clone)]
pub struct IngestBenchOptions {
    /// The model bundle folder.
    pub model_dir: PathBuf,
    /// A folder of photos to ingest (walked recursively), if any.
    pub photo_dir: Option<PathBuf>,
    /// Photos to generate into the temporary directory first.
    pub generated: Vec<GeneratedSet>,
    /// ONNX Runtime threads; the pipeline also gets `threads − 1` decode workers (at
    /// least one), as `xunying index` does on a machine with `threads` cores.
    pub threads: usize,
    /// Photos per model run and catalog transaction.
    pub batch_size: usize,
    /// Whether region proposals run (the product's default).
    pub regions: bool,
    /// Device the model runs on.
    pub device: Device,
    /// Explicit ONNX Runtime library, if any.
    pub runtime_library: Option<PathBuf>,
    /// Folder for the temporary data directory and generated photos (default: the
    /// system's temporary folder).
    pub scratch_dir: Option<PathBuf>,
}

/// The result of `xunying bench ingest`.
#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    /// The bundle's `model_id`.
    pub model_id: String,
    /// The bundle's variant, such as `base` or `tiny`.
    pub variant: String,
    /// Embedding width.
    pub embed_dim: usize,
    /// The device the graphs ran on.
    pub device: String,
    /// ONNX Runtime threads.
    pub threads: usize,
    /// Decode worker threads of the pipeline.
    pub decode_threads: usize,
    /// Photos per batch.
    pub batch_size: usize,
    /// Whether region proposals ran.
    pub regions: bool,
    /// Photo files found.
    pub photos_found: usize,
    /// Photos embedded by the pipeline.
    pub photos_embedded: u64,
    /// Photos that failed to decode or embed.
    pub photos_failed: u64,
    /// Photos per patch budget, among those embedded.
    pub photos_per_budget: BTreeMap<usize, usize>,
    /// Wall time of `Library::index`, sessions already open.
    pub wall_s: f64,
    /// Embedded photos per second of wall time.
    pub photos_per_s: f64,
    /// Time per stage.
    pub stages: StageReport,
    /// The model alone on ready-made tensors.
    pub model_only: ModelOnlyReport,
    /// `photos_per_s` divided by the model-only rate (the mean of both passes).
    pub ratio_to_model_only: f64,
    /// Resident memory during the run.
    pub memory: MemoryReport,
}

/// Stage totals of the pipeline run, in seconds, and per embedded photo in
/// milliseconds. Decode-side stages are summed over the decode workers.
#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    /// Seconds per stage.
    pub totals: StageTimes,
    /// Time inside `vision.onnx` runs, seconds.
    pub vision_graph_s: f64,
    /// Time inside `dense.onnx` runs, seconds.
    pub dense_graph_s: f64,
    /// Milliseconds per embedded photo, stage by stage, in pipeline order.
    pub per_photo_ms: BTreeMap<String, f64>,
}

/// The model-only bound.
#[derive(Debug, Clone, Serialize)]
pub struct ModelOnlyReport {
    /// Photos (ready-made tensors) per pass.
    pub photos: usize,
    /// Wall time of the pass before the pipeline, seconds.
    pub before_s: f64,
    /// Wall time of the pass after the pipeline, seconds.
    pub after_s: f64,
    /// Photos per second over the mean of both passes.
    pub photos_per_s: f64,
}

/// Resident set size of the process, in MiB (zero where it cannot be read).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct MemoryReport {
    /// Before the pipeline started, sessions open.
    pub before_mib: f64,
    /// After the first committed batch.
    pub after_first_batch_mib: f64,
    /// Largest sample, taken every 20 ms while the pipeline ran and after every batch.
    pub peak_mib: f64,
    /// Largest sample in the first half of the pipeline's wall time.
    pub peak_first_half_mib: f64,
    /// Largest sample in the second half. A ceiling that stays flat as the input shapes
    /// vary shows as a second-half peak no higher than the first half's.
    pub peak_second_half_mib: f64,
    /// After the run.
    pub end_mib: f64,
    /// Memory of both vector indexes after the run, by usearch's own count, which includes
    /// the capacity reserved ahead of the vectors: about 16 MiB per index in a small
    /// library. It grows with the library and not with the input shapes.
    pub vector_indexes_mib: f64,
    /// Vectors in both indexes after the run: photos and regions.
    pub vectors: usize,
}

/// Runs the ingest benchmark.
pub fn run_ingest(options: &IngestBenchOptions) -> Result<IngestReport, BenchError> {
    if options.photo_dir.is_none() && options.generated.is_empty() {
        return Err(BenchError::invalid("give --photos DIR, --generate COUNTxMP, or both", "请给出 --photos 目录、--generate 数量x百万像素，或两者都给"));
    }
    let scratch = super::scratch_folder(options.scratch_dir.as_deref())?;

    let mut folders = Vec::new();
    if let Some(dir) = &options.photo_dir {
        folders.push(dir.clone());
    }
    if !options.generated.is_empty() {
        let generated_dir = scratch.path().join("generated");
        write_generated_photos(&generated_dir, &options.generated)?;
        folders.push(generated_dir);
    }
    let photo_files = list_photos(&folders)?;
    if photo_files.is_empty() {
        let names: Vec<String> = folders.iter().map(|f| f.display().to_string()).collect();
        return Err(BenchError::NoPhotos(names.join(", ")));
    }

    let threads = options.threads.max(1);
    let decode_threads = threads.saturating_sub(1).max(1);
    let mut library_options = LibraryOptions::new(&scratch.path().join("data"));
    library_options.model_dir = Some(options.model_dir.clone());
    library_options.model_options = ModelOptions {
        device: options.device,
        intra_threads: threads,
        runtime_library: options.runtime_library.clone(),
        ..ModelOptions::default()
    };
    library_options.regions = options.regions.then(RegionConfig::default);
    library_options.settle = Duration::ZERO;
    library_options.batch_size = options.batch_size.max(1);
    library_options.decode_threads = decode_threads;
    let mut library = Library::open(library_options)?;
    let model = library.model().ok_or(crate::library::LibraryError::NoModel)?;

    // Shapes come from headers, so the model-only pass gets the shapes the pipeline will.
    let shapes = photo_shapes(model, &photo_files);
    warm_up(model, &shapes, options.regions)?;
    let model_before = run_model_only(model, &shapes, options.batch_size, options.regions)?;
    let graphs_before = model.graph_times();

    let sink = MemorySink::default();
    let memory_before = resident_memory_bytes().unwrap_or(0);
    let started = Instant::now();
    let (summary, samples) = sample_memory_during(|| library.index(&folders, &sink, &AtomicBool::new(false)));
    let summary = summary?;
    let wall = started.elapsed();
    let memory_end = resident_memory_bytes().unwrap_or(0);
    let half = wall / 2;
    let peak_in = |first: bool| samples.iter().filter(|(at, _)| (*at < half) == first).map(|&(_, bytes)| bytes).max().unwrap_or(0);

    let (vector_indexes_bytes, vectors) = {
        let derived = library.derived(&NullSink)?;
        (derived.photos.memory_usage() + derived.regions.memory_usage(), derived.photos.len() + derived.regions.len())
    };
    let model = library.model().ok_or(crate::library::LibraryError::NoModel)?;
    let graphs_after = model.graph_times();
    let failed: HashSet<PathBuf> = library.status()?.failures.into_iter().map(|f| PathBuf::from(f.path)).collect();
    let embedded_shapes: Vec<(PathBuf, (usize, usize), usize)> =
        shapes.into_iter().filter(|(path, _, _)| !failed.contains(path)).collect();
    let model_after = run_model_only(model, &embedded_shapes, options.batch_size, options.regions)?;

    let stage_times = library.stage_times();
    let photos_embedded = summary.inferences;
    let photos_per_s = photos_embedded as f64 / wall.as_secs_f64().max(1e-9);
    let model_only = model_only_report(embedded_shapes.len(), model_before, model_after);
    let mut photos_per_budget = BTreeMap::new();
    for (_, _, budget) in &embedded_shapes {
        *photos_per_budget.entry(*budget).or_insert(0) += 1;
    }
    let manifest = &model.bundle().manifest;
    let mebibytes = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);

    Ok(IngestReport {
        model_id: manifest.model_id.clone(),
        variant: manifest.variant.clone(),
        embed_dim: manifest.embed_dim,
        device: model.device_used().map(|d| d.as_str().to_string()).unwrap_or_else(|| "none".into()),
        threads,
        decode_threads,
        batch_size: options.batch_size.max(1),
        regions: options.regions,
        photos_found: photo_files.len(),
        photos_embedded,
        photos_failed: summary.failed(),
        photos_per_budget,
        wall_s: wall.as_secs_f64(),
        photos_per_s,
        stages: stage_report(stage_times, graphs_after.vision - graphs_before.vision, graphs_after.dense - graphs_before.dense),
        ratio_to_model_only: if model_only.photos_per_s > 0.0 { photos_per_s / model_only.photos_per_s } else { 0.0 },
        model_only,
        memory: MemoryReport {
            before_mib: mebibytes(memory_before),
            after_first_batch_mib: mebibytes(sink.first_batch_bytes.load(Ordering::Relaxed)),
            peak_mib: mebibytes(sink.peak_bytes.load(Ordering::Relaxed).max(peak_in(true)).max(peak_in(false)).max(memory_end)),
            peak_first_half_mib: mebibytes(peak_in(true)),
            peak_second_half_mib: mebibytes(peak_in(false).max(memory_end)),
            end_mib: mebibytes(memory_end),
            vector_indexes_mib: mebibytes(vector_indexes_bytes as u64),
            vectors,
        },
    })
}

/// Lists the supported photo files under `folders`, sorted within each folder.
fn list_photos(folders: &[PathBuf]) -> Result<Vec<PathBuf>, BenchError> {
    let mut files = Vec::new();
    for folder in folders {
        let absolute = folder.canonicalize().map_err(|source| BenchError::io(folder, source))?;
        let walk = walk_folder(&absolute, &[], is_supported_extension).map_err(|source| BenchError::io(&absolute, source))?;
        files.extend(walk.files.into_iter().map(|f| f.path));
    }
    Ok(files)
}

/// Returns `(path, spatial shape, patch budget)` of every photo whose header reads.
fn photo_shapes(model: &Model, files: &[PathBuf]) -> Vec<(PathBuf, (usize, usize), usize)> {
    let preprocessor = model.preprocessor();
    let patch = preprocessor.patch_size;
    files
        .iter()
        .filter_map(|path| {
            let (width, height) = imaging::probe(path).ok()?.upright_size();
            if width == 0 || height == 0 {
                return None;
            }
            let budget = choose_patch_budget(width, height, patch, &preprocessor.patch_budgets);
            let (target_h, target_w) = target_size(height, width, patch, budget);
            Some((path.clone(), ((target_h / patch) as usize, (target_w / patch) as usize), budget))
        })
        .collect()
}

/// Opens the graphs (session creation is load time, not ingest time) and runs each
/// patch budget once, so that first-run allocations are not timed either.
fn warm_up(model: &Model, shapes: &[(PathBuf, (usize, usize), usize)], with_dense: bool) -> Result<(), BenchError> {
    let mut seen = HashSet::new();
    let firsts: Vec<_> = shapes.iter().filter(|(_, _, budget)| seen.insert(*budget)).cloned().collect();
    run_model_only(model, &firsts, 1, with_dense)?;
    Ok(())
}

/// Runs the encoder on ready-made tensors of the given shapes, `batch_size` photos per
/// call as the pipeline batches them, and returns the wall time.
fn run_model_only(
    model: &Model,
    shapes: &[(PathBuf, (usize, usize), usize)],
    batch_size: usize,
    with_dense: bool,
) -> Result<Duration, BenchError> {
    let patch = model.preprocessor().patch_size as usize;
    let patch_dim = 3 * patch * patch;
    let mut rng = SplitMix64::new(17);
    // Each batch's tensors are made right before it runs and dropped after it, so the
    // pass keeps one batch of pixels in memory, as the pipeline does, not the whole set.
    let mut elapsed = Duration::ZERO;
    for chunk in shapes.chunks(batch_size.max(1)) {
        let prepared: Vec<PreparedImage> = chunk
            .iter()
            .map(|(_, (rows, cols), budget)| {
                let mut pixel_values = vec![0.0f32; budget * patch_dim];
                for value in &mut pixel_values[..rows * cols * patch_dim] {
                    *value = rng.next_f32() * 2.0 - 1.0;
                }
                PreparedImage {
                    source_size: ((cols * patch) as u32, (rows * patch) as u32),
                    resized_size: ((cols * patch) as u32, (rows * patch) as u32),
                    spatial_shape: (*rows, *cols),
                    patch_budget: *budget,
                    pixel_values,
                }
            })
            .collect();
        let started = Instant::now();
        model.embed_images(&prepared, with_dense)?;
        elapsed += started.elapsed();
    }
    Ok(elapsed)
}

fn model_only_report(photos: usize, before: Duration, after: Duration) -> ModelOnlyReport {
    let mean_s = (before.as_secs_f64() + after.as_secs_f64()) / 2.0;
    ModelOnlyReport {
        photos,
        before_s: before.as_secs_f64(),
        after_s: after.as_secs_f64(),
        photos_per_s: if mean_s > 0.0 { photos as f64 / mean_s } else { 0.0 },
    }
}

fn stage_report(totals: StageTimes, vision: Duration, dense: Duration) -> StageReport {
    let photos = totals.photos.max(1) as f64;
    let per_photo = |seconds: f64| seconds * 1e3 / photos;
    let (vision_s, dense_s) = (vision.as_secs_f64(), dense.as_secs_f64());
    let encoder_host_s = (totals.encoder_s - vision_s - dense_s).max(0.0);
    let per_photo_ms = BTreeMap::from([
        ("01_read".to_string(), per_photo(totals.read_s)),
        ("02_decode".to_string(), per_photo(totals.decode_s)),
        ("03_thumbnails".to_string(), per_photo(totals.thumbnails_s)),
        ("04_preprocess".to_string(), per_photo(totals.preprocess_s)),
        ("04b_superpixels".to_string(), per_photo(totals.superpixels_s)),
        ("05_vision_graph".to_string(), per_photo(vision_s)),
        ("06_dense_graph".to_string(), per_photo(dense_s)),
        ("07_encoder_host".to_string(), per_photo(encoder_host_s)),
        ("08_regions".to_string(), per_photo(totals.regions_s)),
        ("09_catalog_commit".to_string(), per_photo(totals.commit_s)),
        ("10_index_update".to_string(), per_photo(totals.index_update_s)),
    ]);
    StageReport { totals, vision_graph_s: vision_s, dense_graph_s: dense_s, per_photo_ms }
}

/// Runs `work` while a thread samples resident memory every 20 ms, and returns its
/// result with the samples, each with its time since the start. The samples catch the
/// peak inside a model run, which the samples after each batch miss.
fn sample_memory_during<T>(work: impl FnOnce() -> T) -> (T, Vec<(Duration, u64)>) {
    let done = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut samples = Vec::new();
            while !done.load(Ordering::Relaxed) {
                if let Some(bytes) = resident_memory_bytes() {
                    samples.push((started.elapsed(), bytes));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            samples
        });
        let result = work();
        done.store(true, Ordering::Relaxed);
        (result, sampler.join().unwrap_or_default())
    })
}

/// Samples resident memory after every batch.
#[derive(Default)]
struct MemorySink {
    first_batch_bytes: AtomicU64,
    peak_bytes: AtomicU64,
}

impl ProgressSink for MemorySink {
    fn event(&self, event: ProgressEvent) {
        if let ProgressEvent::Advance { .. } = event {
            let bytes = resident_memory_bytes().unwrap_or(0);
            let _ = self.first_batch_bytes.compare_exchange(0, bytes, Ordering::Relaxed, Ordering::Relaxed);
            self.peak_bytes.fetch_max(bytes, Ordering::Relaxed);
        }
    }
}

/// Returns the photos of `dir` as the ingest benchmark lists them (for tests and the
/// decode benchmark).
pub(crate) fn photos_in(dir: &Path) -> Result<Vec<PathBuf>, BenchError> {
    list_photos(&[dir.to_path_buf()])
}
