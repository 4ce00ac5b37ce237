//! `xunying bench query`: search over synthetic clustered vectors at library scale,
//! with the project's [`VectorIndex`] and [`fuse`].
//!
//! One query does what `search::search` does after the text encoder. It takes the
//! nearest photos and regions from HNSW, rescores the candidates from full-precision
//! vectors, fuses calibrated probabilities with noisy-OR, and keeps the top 10.
//!
//! The full-precision vectors are kept in memory. With `catalog`, the benchmark also
//! reads each query's candidates from a SQLite catalog of the same vectors, as the
//! search reads them, and times those reads on their own.
//!
//! Recall@10 compares HNSW with an exact scan of the full-precision vectors, so it counts
//! quantisation error too. The result recall compares the fused top 10 with the top 10
//! of fusing every photo.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::catalog::{ContentId, RegionId};
use crate::model::{match_probability, Device, Model, ModelOptions, WalkType};
use crate::search::fusion::{fuse, FusionWeights};
use crate::vectors::{HnswParams, IndexSpec, OpenOutcome, VectorIndex, VectorKind};

use super::rng::SplitMix64;
use super::stats::{resident_memory_bytes, Latency};
use super::BenchError;

/// Photo candidates taken from HNSW, as `search::search` takes for 20 results.
const PHOTO_CANDIDATES: usize = 100;
/// Region candidates taken from HNSW by default, as `search::search` takes for up to 25
/// results.
pub const DEFAULT_REGION_CANDIDATES: usize = 200;
/// Results returned per query, and the `k` of recall@k.
const TOP_K: usize = 10;
/// The calibration of FG-CLIP 2 base (`logit_scale`, `logit_bias`), used when no
/// bundle is given; it only shapes the fused scores, not the timing.
const DEFAULT_CALIBRATION: (f32, f32) = (4.75, -16.75);

/// Settings of `xunying bench query`.
#[derive(Debug, Clone)]
pub struct QueryBenchOptions {
    /// Photo vectors to index.
    pub photos: usize,
    /// Region vectors to index; region `r` belongs to photo `r mod photos`.
    pub regions: usize,
    /// Vector width; the bundle's when a model is given, else 768.
    pub dim: Option<usize>,
    /// Timed queries per expansion setting.
    pub queries: usize,
    /// Queries whose exact top 10 is computed for recall.
    pub recall_queries: usize,
    /// Stored scalar kind.
    pub kind: VectorKind,
    /// `expansion_search` values to measure, each with all queries.
    pub expansion_search: Vec<usize>,
    /// A bundle whose text encoder is timed, if any.
    pub model_dir: Option<PathBuf>,
    /// Device the text encoder runs on.
    pub device: Device,
    /// ONNX Runtime threads for the text encoder.
    pub threads: usize,
    /// Explicit ONNX Runtime library, if any.
    pub runtime_library: Option<PathBuf>,
    /// Region candidates taken from HNSW and rescored, each measured with every
    /// `expansion_search` value.
    pub region_candidates: Vec<usize>,
    /// HNSW connectivity and insert expansion of both graphs; `None` keeps the
    /// library's defaults.
    pub connectivity: Option<usize>,
    /// HNSW candidate list size while inserting; `None` keeps the library's default.
    pub expansion_add: Option<usize>,
    /// Folder for the index files (default: the system's temporary folder).
    pub scratch_dir: Option<PathBuf>,
    /// Keep the index files in `scratch_dir` and open them on a later run with the same
    /// sizes, kind and seed instead of building them again.
    pub reuse_indexes: bool,
    /// Also write the vectors into a catalog and time the reads of each query's
    /// candidates from it.
    pub catalog: bool,
    /// Seed of the synthetic data.
    pub seed: u64,
}

/// The result of `xunying bench query`.
#[derive(Debug, Clone, Serialize)]
pub struct QueryReport {
    /// Photo vectors indexed.
    pub photos: usize,
    /// Region vectors indexed.
    pub regions: usize,
    /// Vector width.
    pub dim: usize,
    /// Stored scalar kind.
    pub kind: VectorKind,
    /// Clusters the synthetic photo and region vectors are drawn around.
    pub clusters: usize,
    /// HNSW connectivity of both graphs.
    pub connectivity: usize,
    /// HNSW candidate list size while inserting.
    pub expansion_add: usize,
    /// Seconds to generate the synthetic vectors (not part of any figure).
    pub generate_s: f64,
    /// Seconds to build the photo index from scratch; null when the files of an
    /// earlier run were reused.
    pub build_photos_s: Option<f64>,
    /// Seconds to build the region index from scratch; null when reused.
    pub build_regions_s: Option<f64>,
    /// Resident bytes of the photo index divided by its vectors (usearch's own count).
    pub photo_memory_bytes_per_vector: f64,
    /// Resident bytes of the region index divided by its vectors.
    pub region_memory_bytes_per_vector: f64,
    /// Saved file bytes per vector, photos and regions together.
    pub file_bytes_per_vector: f64,
    /// Process resident memory after both indexes were built or opened, MiB.
    pub process_memory_mib: f64,
    /// Seconds to write the synthetic catalog; null without `catalog` or when reused.
    pub build_catalog_s: Option<f64>,
    /// Milliseconds to open both saved index files as memory-mapped views, as the
    /// library opens them.
    pub open_indexes_ms: f64,
    /// Milliseconds from opening the index files to the first fused result (text
    /// encoder excluded).
    pub first_answer_ms: f64,
    /// One entry per `expansion_search` value.
    pub by_expansion: Vec<ExpansionReport>,
    /// The text encoder, when a bundle was given.
    pub text_encoder: Option<TextEncoderReport>,
}

/// Search figures at one `expansion_search` and one number of region candidates.
#[derive(Debug, Clone, Serialize)]
pub struct ExpansionReport {
    /// The `expansion_search` value.
    pub expansion_search: usize,
    /// Region candidates taken from HNSW and rescored.
    pub region_candidates: usize,
    /// Both HNSW searches, rescoring and fusion, per query.
    pub ann_and_fusion: Latency,
    /// The photo search alone, per query.
    pub photo_search: Latency,
    /// The region search alone, per query.
    pub region_search: Latency,
    /// Reading the candidates' photo and region vectors from the catalog, per query,
    /// as `search::search` reads them; with `catalog` only.
    pub catalog_reads: Option<Latency>,
    /// `ann_and_fusion` plus `catalog_reads`, per query; with `catalog` only.
    pub with_catalog_reads: Option<Latency>,
    /// The whole query as `search::search` runs it, per query; with `catalog` only. The
    /// region search runs on a second thread while this thread runs the photo search and
    /// reads every region of the photos found. The nearest regions by id, the
    /// candidates' photo rows and vectors, and fusion follow.
    pub search_with_reads: Option<Latency>,
    /// Share of the exact top 10 photos that HNSW returned in its top 10.
    pub photo_recall_at_10: f64,
    /// Share of the exact top 10 regions that HNSW returned in its top 10.
    pub region_recall_at_10: f64,
    /// Share of the exact top 10 photos among the best 10 of the 100 HNSW candidates
    /// rescored at full precision, which is how `search::search` ranks them.
    pub photo_recall_at_10_rescored: f64,
    /// The same for regions, with `region_candidates` candidates.
    pub region_recall_at_10_rescored: f64,
    /// Share of the exact top 10 photos among the top 10 a query returns. The exact top
    /// 10 comes from fusing every photo with all its regions, and the query's from fusing
    /// only the HNSW candidates, so this is the recall of the results shown to a person.
    pub result_recall_at_10: f64,
}

/// The text encoder's share of a query.
#[derive(Debug, Clone, Serialize)]
pub struct TextEncoderReport {
    /// The bundle's `model_id`.
    pub model_id: String,
    /// The device the text graph ran on.
    pub device: String,
    /// Milliseconds to load the bundle (graphs not yet open).
    pub load_ms: f64,
    /// Milliseconds of `Model::warm_text_encoder`: opening the text graph and one run
    /// on a short text, which `serve` and the app do right after loading the model.
    pub warm_up_ms: f64,
    /// Milliseconds of the first query's two text embeddings (photo walk and box
    /// walk), after the warm-up.
    pub first_query_ms: f64,
    /// Both text embeddings of a query, graph already open.
    pub per_query: Latency,
    /// A cold start: bundle load, warm-up, the first query's text embeddings, and
    /// opening the indexes and the first fused result.
    pub first_answer_after_load_ms: f64,
    /// Milliseconds to the first result once the model is ready (loaded and warmed up): the first
    /// query's text embeddings plus opening the indexes and the first fused result.
    pub first_answer_when_ready_ms: f64,
    /// Text embeddings plus the median ANN and fusion time at the first
    /// `expansion_search` value, per query.
    pub end_to_end_p50_ms: f64,
}

/// Vectors kept at full precision for exact rescoring and exact recall.
struct Dataset {
    dim: usize,
    photos: Vec<f32>,
    regions: Vec<f32>,
    num_photos: usize,
}

impl Dataset {
    fn photo(&self, id: usize) -> &[f32] {
        &self.photos[id * self.dim..(id + 1) * self.dim]
    }

    fn region(&self, id: usize) -> &[f32] {
        &self.regions[id * self.dim..(id + 1) * self.dim]
    }

    fn num_regions(&self) -> usize {
        self.regions.len() / self.dim
    }

    /// Regions of a photo: `photo`, `photo + N`, `photo + 2N`, …
    fn regions_of(&self, photo: usize) -> impl Iterator<Item = usize> + '_ {
        (photo..self.num_regions()).step_by(self.num_photos.max(1))
    }
}

/// The widest `--dim` accepted. FG-CLIP 2's largest model embeds in 1152 dimensions.
const MAX_DIM: usize = 4096;

/// Fails when the full-precision copies of the synthetic vectors, which the benchmark
/// keeps for exact recall, would not fit in the machine's memory.
fn check_vectors_fit(photos: usize, regions: usize, dim: usize) -> Result<(), BenchError> {
    let bytes = photos.saturating_add(regions).saturating_mul(dim).saturating_mul(std::mem::size_of::<f32>());
    let Some(total) = super::stats::total_memory_bytes() else {
        return Ok(());
    };
    if bytes as u64 > total {
        let (need, have) = (bytes as f64 / GIB, total as f64 / GIB);
        return Err(BenchError::invalid(
            format!("{photos} photos and {regions} regions of {dim} dimensions need {need:.1} GiB at full precision, more than this machine's {have:.1} GiB; use fewer vectors or a smaller --dim"),
            format!("{photos} 张照片和 {regions} 个 {dim} 维区域的全精度向量需要 {need:.1} GiB，超过本机的 {have:.1} GiB；请减少向量数量或 --dim"),
        ));
    }
    Ok(())
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Runs the query benchmark.
pub fn run_query(options: &QueryBenchOptions) -> Result<QueryReport, BenchError> {
    if options.photos == 0 {
        return Err(BenchError::invalid("--photos must be at least 1", "--photos 至少为 1"));
    }
    if options.queries == 0 {
        return Err(BenchError::invalid("--queries must be at least 1", "--queries 至少为 1"));
    }
    if options.recall_queries == 0 {
        return Err(BenchError::invalid("--recall-queries must be at least 1", "--recall-queries 至少为 1"));
    }
    if options.connectivity.is_some_and(|c| c < 2) || options.expansion_add == Some(0) {
        return Err(BenchError::invalid(
            "--connectivity must be at least 2 and --expansion-add at least 1",
            "--connectivity 至少为 2，--expansion-add 至少为 1",
        ));
    }
    if options.regions == 0 {
        return Err(BenchError::invalid(
            "--regions must be at least 1: half of each query searches the regions",
            "--regions 至少为 1：每次查询有一半是在区域中搜索",
        ));
    }
    if options.dim == Some(0) {
        return Err(BenchError::invalid("--dim must be at least 1", "--dim 至少为 1"));
    }
    if let Some(dim) = options.dim.filter(|&dim| dim > MAX_DIM) {
        return Err(BenchError::invalid(
            format!("--dim {dim} is above {MAX_DIM}, wider than any embedding this benchmark models"),
            format!("--dim {dim} 超过 {MAX_DIM}，比本基准模拟的任何嵌入都宽"),
        ));
    }
    let expansions: Vec<usize> = if options.expansion_search.is_empty() { vec![64] } else { options.expansion_search.clone() };
    if expansions.contains(&0) {
        return Err(BenchError::invalid("--expansion-search must be at least 1", "--expansion-search 至少为 1"));
    }
    let text = match &options.model_dir {
        Some(dir) => Some(load_text_model(dir, options)?),
        None => None,
    };
    let dim = match (&text, options.dim) {
        (Some((model, _)), Some(dim)) if dim != model.embed_dim() => {
            let embed_dim = model.embed_dim();
            return Err(BenchError::invalid(
                format!("--dim {dim} differs from the bundle's embed_dim {embed_dim}; leave --dim out to use the bundle's"),
                format!("--dim {dim} 与模型包的 embed_dim {embed_dim} 不同；去掉 --dim 即使用模型包的维度"),
            ));
        }
        (Some((model, _)), _) => model.embed_dim(),
        (None, dim) => dim.unwrap_or(768),
    };
    let calibration = match &text {
        Some((model, _)) => (model.bundle().manifest.logit_scale, model.bundle().manifest.logit_bias),
        None => DEFAULT_CALIBRATION,
    };
    let region_candidates: Vec<usize> =
        if options.region_candidates.is_empty() { vec![DEFAULT_REGION_CANDIDATES] } else { options.region_candidates.clone() };
    if region_candidates.contains(&0) {
        return Err(BenchError::invalid("--region-candidates must be at least 1", "--region-candidates 至少为 1"));
    }
    check_vectors_fit(options.photos, options.regions, dim)?;
    let scratch = IndexFolder::new(options, dim)?;

    let generate_started = Instant::now();
    let clusters = ((options.photos as f64).sqrt() as usize).clamp(8, 1024);
    let dataset = Dataset {
        dim,
        photos: clustered_vectors(options.photos, dim, clusters, options.seed),
        regions: clustered_vectors(options.regions, dim, clusters, options.seed ^ 0xA5A5),
        num_photos: options.photos,
    };
    let generate_s = generate_started.elapsed().as_secs_f64();

    let defaults = HnswParams::default();
    let hnsw = HnswParams {
        connectivity: options.connectivity.unwrap_or(defaults.connectivity),
        expansion_add: options.expansion_add.unwrap_or(defaults.expansion_add),
        ..defaults
    };
    let spec = IndexSpec::new("bench/synthetic", dim).with_kind(options.kind).with_hnsw(hnsw);
    let photos_path = scratch.path().join("photos.usearch");
    let regions_path = scratch.path().join("regions.usearch");
    let (photo_index, build_photos_s) = build_or_reuse(&photos_path, &spec, &dataset.photos, dim, scratch.reusable())?;
    let (region_index, build_regions_s) = build_or_reuse(&regions_path, &spec, &dataset.regions, dim, scratch.reusable())?;
    let (catalog, build_catalog_s) = match options.catalog {
        true => {
            let (catalog, seconds) = build_or_reuse_catalog(&scratch.path().join("catalog.sqlite"), &dataset, scratch.reusable())?;
            (Some(catalog), seconds)
        }
        false => (None, None),
    };
    scratch.mark_complete()?;
    let process_memory_mib = resident_memory_bytes().unwrap_or(0) as f64 / (1024.0 * 1024.0);
    let per_vector = |index: &VectorIndex| index.memory_usage() as f64 / index.len().max(1) as f64;
    let photo_memory_bytes_per_vector = per_vector(&photo_index);
    let region_memory_bytes_per_vector = per_vector(&region_index);
    let file_bytes = file_size(&photos_path) + file_size(&regions_path);
    let file_bytes_per_vector = file_bytes as f64 / (photo_index.len() + region_index.len()).max(1) as f64;
    drop(photo_index);
    drop(region_index);

    let mut rng = SplitMix64::new(options.seed ^ 0x51);
    let queries: Vec<(Vec<f32>, Vec<f32>)> = (0..options.queries.max(options.recall_queries)).map(|_| query_pair(&dataset, &mut rng)).collect();

    // Start-up: map both saved files as the library does, and run one query. The files
    // were just written, so their pages are in the OS cache, as after a recent run.
    let open_started = Instant::now();
    let photo_index = open_index(&photos_path, &spec)?;
    let region_index = open_index(&regions_path, &spec)?;
    let open_indexes_ms = open_started.elapsed().as_secs_f64() * 1e3;
    photo_index.set_expansion_search(expansions[0]);
    region_index.set_expansion_search(expansions[0]);
    answer(&photo_index, &region_index, &dataset, &queries[0].0, &queries[0].1, region_candidates[0], calibration)?;
    let first_answer_ms = open_started.elapsed().as_secs_f64() * 1e3;

    let recall_set = &queries[..options.recall_queries.min(queries.len())];
    let exact_photos: Vec<Vec<u64>> = recall_set.par_iter().map(|(q, _)| exact_top(&dataset.photos, dim, q, TOP_K)).collect();
    let exact_regions: Vec<Vec<u64>> = recall_set.par_iter().map(|(_, q)| exact_top(&dataset.regions, dim, q, TOP_K)).collect();
    let exact_answers: Vec<Vec<usize>> = recall_set.iter().map(|(p, r)| exact_answer(&dataset, p, r, calibration)).collect();

    let mut by_expansion = Vec::new();
    for &expansion in &expansions {
        photo_index.set_expansion_search(expansion);
        region_index.set_expansion_search(expansion);
        let photo_recall = recall(&photo_index, recall_set.iter().map(|(q, _)| q), &exact_photos)?;
        let region_recall = recall(&region_index, recall_set.iter().map(|(_, q)| q), &exact_regions)?;
        let photo_recall_rescored =
            rescored_recall(&photo_index, &dataset.photos, dim, PHOTO_CANDIDATES, recall_set.iter().map(|(q, _)| q), &exact_photos)?;
        for &candidates in &region_candidates {
            let timed = &queries[..options.queries];
            let mut totals = Vec::with_capacity(timed.len());
            let mut photo_times = Vec::with_capacity(timed.len());
            let mut region_times = Vec::with_capacity(timed.len());
            let mut catalog_times = Vec::with_capacity(timed.len());
            let mut with_catalog_times = Vec::with_capacity(timed.len());
            let mut search_times = Vec::with_capacity(timed.len());
            for (photo_query, region_query) in timed {
                let started = Instant::now();
                let answered = answer(&photo_index, &region_index, &dataset, photo_query, region_query, candidates, calibration)?;
                let elapsed = started.elapsed();
                totals.push(elapsed);
                photo_times.push(answered.photo_time);
                region_times.push(answered.region_time);
                if let Some(catalog) = &catalog {
                    let read = catalog.read_candidates(&answered, photo_query, region_query)?;
                    catalog_times.push(read);
                    with_catalog_times.push(elapsed + read);
                    search_times.push(catalog.search(&photo_index, &region_index, photo_query, region_query, candidates, calibration)?);
                }
            }
            let region_recall_rescored =
                rescored_recall(&region_index, &dataset.regions, dim, candidates, recall_set.iter().map(|(_, q)| q), &exact_regions)?;
            let (mut found, mut wanted) = (0usize, 0usize);
            for ((photo_query, region_query), truth) in recall_set.iter().zip(&exact_answers) {
                let answered = answer(&photo_index, &region_index, &dataset, photo_query, region_query, candidates, calibration)?;
                found += truth.iter().filter(|photo| answered.top.contains(photo)).count();
                wanted += truth.len();
            }
            by_expansion.push(ExpansionReport {
                expansion_search: expansion,
                region_candidates: candidates,
                ann_and_fusion: Latency::of(&totals),
                photo_search: Latency::of(&photo_times),
                region_search: Latency::of(&region_times),
                catalog_reads: catalog.as_ref().map(|_| Latency::of(&catalog_times)),
                with_catalog_reads: catalog.as_ref().map(|_| Latency::of(&with_catalog_times)),
                search_with_reads: catalog.as_ref().map(|_| Latency::of(&search_times)),
                photo_recall_at_10: photo_recall,
                region_recall_at_10: region_recall,
                photo_recall_at_10_rescored: photo_recall_rescored,
                region_recall_at_10_rescored: region_recall_rescored,
                result_recall_at_10: if wanted == 0 { 1.0 } else { found as f64 / wanted as f64 },
            });
        }
    }

    let text_encoder = match text {
        Some((model, load)) => {
            Some(time_text_encoder(&model, load, first_answer_ms, by_expansion.first().map(|e| e.ann_and_fusion.p50_ms).unwrap_or(0.0))?)
        }
        None => None,
    };

    Ok(QueryReport {
        photos: options.photos,
        regions: options.regions,
        dim,
        kind: options.kind,
        clusters,
        connectivity: hnsw.connectivity,
        expansion_add: hnsw.expansion_add,
        generate_s,
        build_photos_s,
        build_regions_s,
        build_catalog_s,
        photo_memory_bytes_per_vector,
        region_memory_bytes_per_vector,
        file_bytes_per_vector,
        process_memory_mib,
        open_indexes_ms,
        first_answer_ms,
        by_expansion,
        text_encoder,
    })
}

/// Draws `count` unit vectors around `clusters` random unit centres: each is its
/// centre plus isotropic noise of the same expected length, normalised, so that a
/// vector's cosine with its centre is about 0.7 and with a cluster mate about 0.5.
fn clustered_vectors(count: usize, dim: usize, clusters: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    let centres: Vec<Vec<f32>> = (0..clusters).map(|_| unit_gaussian(&mut rng, dim)).collect();
    let mut vectors = vec![0.0f32; count * dim];
    vectors.par_chunks_mut(dim * 1024).enumerate().for_each(|(chunk_index, chunk)| {
        let mut rng = SplitMix64::new(seed.wrapping_add(0x9E37 * (chunk_index as u64 + 1)));
        for vector in chunk.chunks_exact_mut(dim) {
            let centre = &centres[rng.below(clusters)];
            let noise = unit_gaussian(&mut rng, dim);
            for ((value, c), n) in vector.iter_mut().zip(centre).zip(&noise) {
                *value = c + n;
            }
            normalize(vector);
        }
    });
    vectors
}

fn unit_gaussian(rng: &mut SplitMix64, dim: usize) -> Vec<f32> {
    let mut vector: Vec<f32> = (0..dim).map(|_| rng.next_gaussian()).collect();
    normalize(&mut vector);
    vector
}

fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|v| *v /= norm);
    }
}

/// Makes a photo-walk and a box-walk query from a stored photo and a stored region,
/// each moved by noise, as a description lands near but not on what it describes.
fn query_pair(dataset: &Dataset, rng: &mut SplitMix64) -> (Vec<f32>, Vec<f32>) {
    let perturb = |base: &[f32], rng: &mut SplitMix64| {
        let noise = unit_gaussian(rng, base.len());
        let mut query: Vec<f32> = base.iter().zip(&noise).map(|(b, n)| b + 0.5 * n).collect();
        normalize(&mut query);
        query
    };
    let photo = perturb(dataset.photo(rng.below(dataset.num_photos)), rng);
    let region = match dataset.num_regions() {
        0 => photo.clone(),
        num_regions => perturb(dataset.region(rng.below(num_regions)), rng),
    };
    (photo, region)
}

/// The folder of the index files: a temporary folder removed at the end, or with
/// `reuse_indexes` a kept folder named after everything the files depend on.
enum IndexFolder {
    Temporary(tempfile::TempDir),
    Kept { path: PathBuf, complete: bool },
}

/// Written into a kept folder once both files are saved, so that a run cut short
/// never leaves half-built files to be reused.
const COMPLETE_MARKER: &str = "complete";

impl IndexFolder {
    fn new(options: &QueryBenchOptions, dim: usize) -> Result<IndexFolder, BenchError> {
        if !options.reuse_indexes {
            return Ok(IndexFolder::Temporary(super::scratch_folder(options.scratch_dir.as_deref())?));
        }
        let parent = options.scratch_dir.as_deref().ok_or_else(|| {
            BenchError::invalid("--reuse-indexes needs --scratch DIR to keep the index files in", "--reuse-indexes 需要用 --scratch 目录 保存索引文件")
        })?;
        super::check_scratch_parent(parent)?;
        let mut name = format!("query-{}p-{}r-{}d-{}-seed{}", options.photos, options.regions, dim, options.kind, options.seed);
        if let Some(connectivity) = options.connectivity {
            name.push_str(&format!("-m{connectivity}"));
        }
        if let Some(expansion_add) = options.expansion_add {
            name.push_str(&format!("-ea{expansion_add}"));
        }
        let path = parent.join(name);
        std::fs::create_dir_all(&path).map_err(|source| BenchError::io(path.clone(), source))?;
        let complete = path.join(COMPLETE_MARKER).is_file();
        Ok(IndexFolder::Kept { path, complete })
    }

    fn path(&self) -> &std::path::Path {
        match self {
            IndexFolder::Temporary(dir) => dir.path(),
            IndexFolder::Kept { path, .. } => path,
        }
    }

    fn reusable(&self) -> bool {
        matches!(self, IndexFolder::Kept { complete: true, .. })
    }

    fn mark_complete(&self) -> Result<(), BenchError> {
        match self {
            IndexFolder::Kept { path, complete: false } => {
                let marker = path.join(COMPLETE_MARKER);
                std::fs::write(&marker, b"").map_err(|source| BenchError::io(marker, source))
            }
            _ => Ok(()),
        }
    }
}

/// The model id the synthetic catalog's vectors are stored under.
const SYNTHETIC_MODEL: &str = "bench/synthetic";

/// A SQLite catalog holding the synthetic photos, one file and one content each, with
/// their vectors and regions.
struct SyntheticCatalog {
    catalog: crate::catalog::Catalog,
    /// Content id of each synthetic photo.
    contents: Vec<ContentId>,
    /// Region id of each synthetic region.
    regions: Vec<RegionId>,
    regions_per_photo: Vec<u32>,
}

impl SyntheticCatalog {
    /// Reads the candidates' photo and region vectors as `search::search` does, scores
    /// them, and returns the time taken: every region of the photos found by their own
    /// vector, and the regions found by theirs. Fails when the catalog does not return
    /// exactly those regions, so a stale or damaged catalog cannot pass for a fast one.
    fn read_candidates(&self, answered: &Answered, photo_query: &[f32], region_query: &[f32]) -> Result<Duration, BenchError> {
        let from_photos: Vec<ContentId> = answered.photo_hits.iter().map(|&photo| self.contents[photo]).collect();
        let mut all: Vec<ContentId> = from_photos.clone();
        all.extend(answered.region_hits.iter().map(|&region| self.contents[region % self.contents.len()]));
        all.sort_unstable();
        all.dedup();
        let region_ids: Vec<RegionId> = answered.region_hits.iter().map(|&region| self.regions[region]).collect();

        let started = Instant::now();
        let rows = self.catalog.photos_for_contents(&all)?;
        let mut best = 0.0f32;
        self.catalog.visit_content_embeddings(SYNTHETIC_MODEL, &all, |_, vector| best = best.max(dot(photo_query, vector)))?;
        let mut all_regions_read = 0usize;
        self.catalog.visit_region_embeddings(SYNTHETIC_MODEL, &from_photos, |_, vector| {
            all_regions_read += 1;
            best = best.max(dot(region_query, vector));
        })?;
        let mut hits_read = 0usize;
        self.catalog.visit_regions_by_id(SYNTHETIC_MODEL, &region_ids, |region, vector| {
            if all.binary_search(&region.content_id).is_ok() {
                hits_read += 1;
            }
            best = best.max(dot(region_query, vector));
        })?;
        let elapsed = started.elapsed();
        std::hint::black_box(best);

        let expected: usize = answered.photo_hits.iter().map(|&photo| self.regions_per_photo[photo] as usize).sum();
        if rows.len() != all.len() || all_regions_read != expected || hits_read != region_ids.len() {
            let (photos_read, photos, hits) = (rows.len(), all.len(), region_ids.len());
            return Err(BenchError::inconsistent(
                format!(
                    "The kept synthetic catalog returned {photos_read} of {photos} photos, {all_regions_read} of {expected} regions and {hits_read} of {hits} nearest regions. Delete its folder under --scratch to write it again."
                ),
                format!(
                    "保留的合成目录返回了 {photos} 张照片中的 {photos_read} 张、{expected} 个区域中的 {all_regions_read} 个、{hits} 个最近区域中的 {hits_read} 个。请删除 --scratch 下的对应文件夹以重新写入。"
                ),
            ));
        }
        Ok(elapsed)
    }

    /// Runs one query with its catalog reads as `search::search` does, and returns its
    /// wall time. The region search runs on a second thread while this thread runs the
    /// photo search and reads all regions of the photos found, most of the reads.
    fn search(
        &self,
        photos: &VectorIndex,
        regions: &VectorIndex,
        photo_query: &[f32],
        region_query: &[f32],
        region_candidates: usize,
        calibration: (f32, f32),
    ) -> Result<Duration, BenchError> {
        let started = Instant::now();
        let top = std::thread::scope(|scope| -> Result<Vec<(ContentId, f32)>, BenchError> {
            let region_walk = (!regions.is_empty()).then(|| scope.spawn(|| regions.search(region_query, region_candidates)));

            let photo_hits = photos.search(photo_query, PHOTO_CANDIDATES)?;
            let found: HashSet<ContentId> = photo_hits.iter().map(|&(key, _)| self.contents[key as usize]).collect();
            let mut best_region: HashMap<ContentId, f32> = HashMap::new();
            let mut keep_best = |content: ContentId, cos: f32| {
                let best = best_region.entry(content).or_insert(cos);
                *best = best.max(cos);
            };
            let found_list: Vec<ContentId> = found.iter().copied().collect();
            self.catalog.visit_region_embeddings(SYNTHETIC_MODEL, &found_list, |region, vector| keep_best(region.content_id, dot(region_query, vector)))?;

            let mut candidates = found.clone();
            if let Some(walk) = region_walk {
                let hits = walk.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
                let region_ids: Vec<RegionId> = hits.iter().map(|&(key, _)| self.regions[key as usize]).collect();
                self.catalog.visit_regions_by_id(SYNTHETIC_MODEL, &region_ids, |region, vector| {
                    if !found.contains(&region.content_id) {
                        candidates.insert(region.content_id);
                        keep_best(region.content_id, dot(region_query, vector));
                    }
                })?;
            }

            let candidates: Vec<ContentId> = candidates.into_iter().collect();
            let rows = self.catalog.photos_for_contents(&candidates)?;
            let mut scored = Vec::with_capacity(rows.len());
            self.catalog.visit_content_embeddings(SYNTHETIC_MODEL, &candidates, |content, vector| {
                let region_cos = best_region.get(&content).copied();
                scored.push((content, fuse_cosines(dot(photo_query, vector), region_cos, calibration)));
            })?;
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            scored.truncate(TOP_K);
            Ok(scored)
        })?;
        let elapsed = started.elapsed();
        std::hint::black_box(top);
        Ok(elapsed)
    }
}

/// Opens the catalog of an earlier run when `reuse` is set and it contains every photo,
/// and writes it otherwise. Returns the write time, or `None` when reused.
fn build_or_reuse_catalog(path: &std::path::Path, dataset: &Dataset, reuse: bool) -> Result<(SyntheticCatalog, Option<f64>), BenchError> {
    use crate::catalog::{hash_bytes, Catalog, CatalogOp, ContentRef, NewContent, NewEmbedding, NewFile, NewRegion, PhotoMetadata, RegionBox, RegionSource};

    let hash_of = |photo: usize| hash_bytes(format!("bench/synthetic/{photo}").as_bytes());
    let regions_per_photo: Vec<u32> = (0..dataset.num_photos).map(|photo| dataset.regions_of(photo).count() as u32).collect();
    if reuse && path.is_file() {
        let catalog = Catalog::open(path)?;
        if catalog.stats()?.contents as usize == dataset.num_photos {
            let mut contents = Vec::with_capacity(dataset.num_photos);
            for photo in 0..dataset.num_photos {
                match catalog.content_by_hash(&hash_of(photo))? {
                    Some(content) => contents.push(content.id),
                    None => break,
                }
            }
            if contents.len() == dataset.num_photos && catalog.stats()?.regions as usize == dataset.num_regions() {
                tracing::info!(path = %path.display(), "reusing the catalog of an earlier run");
                // A new catalog numbers regions from 1 in the order they were written.
                let regions = region_ids_in_write_order(dataset, (1..=dataset.num_regions() as i64).map(RegionId));
                return Ok((SyntheticCatalog { catalog, contents, regions, regions_per_photo }, None));
            }
        }
        drop(catalog);
        tracing::warn!(path = %path.display(), "the kept catalog does not hold these photos; writing it again");
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::remove_file(&file).map_err(|source| BenchError::io(file.clone(), source))?;
        }
    }
    let started = Instant::now();
    let mut catalog = Catalog::open(path)?;
    catalog.mark_all_for_reembedding(SYNTHETIC_MODEL)?;
    let folder = path.with_file_name("photos");
    let folder_id = catalog.add_folder(&folder)?;
    let mut contents = Vec::with_capacity(dataset.num_photos);
    let mut written_regions = Vec::with_capacity(dataset.num_regions());
    let photos: Vec<usize> = (0..dataset.num_photos).collect();
    for batch in photos.chunks(1000) {
        let mut ops = Vec::with_capacity(batch.len() * 2);
        for &photo in batch {
            let regions = dataset
                .regions_of(photo)
                .map(|r| NewRegion {
                    region_box: RegionBox { x0: 0.0, y0: 0.0, x1: 100.0, y1: 100.0 },
                    source: RegionSource::Segment,
                    score: 1.0,
                    embedding: dataset.region(r).to_vec(),
                })
                .collect();
            ops.push(CatalogOp::UpsertContent(NewContent {
                hash: hash_of(photo),
                metadata: PhotoMetadata { width: Some(100), height: Some(100), format: Some("jpeg".into()), ..PhotoMetadata::default() },
                embedding: Some(NewEmbedding { model_id: SYNTHETIC_MODEL.into(), vector: dataset.photo(photo).to_vec(), regions }),
            }));
            ops.push(CatalogOp::UpsertFile(NewFile {
                folder_id,
                path: folder.join(format!("{photo}.jpg")).to_string_lossy().into_owned(),
                size: 1,
                mtime_ns: 0,
                sample_hash: None,
                content: ContentRef::Hash(hash_of(photo)),
            }));
        }
        let outcome = catalog.write_batch(&ops)?;
        if outcome.contents_inserted.len() != batch.len() {
            return Err(BenchError::inconsistent(
                format!("{} already held photos while the benchmark wrote it; delete it and run again.", path.display()),
                format!("写入时 {} 中已有照片；请删除它后重新运行。", path.display()),
            ));
        }
        contents.extend(outcome.contents_inserted);
        written_regions.extend(outcome.regions_inserted);
    }
    let regions = region_ids_in_write_order(dataset, written_regions);
    Ok((SyntheticCatalog { catalog, contents, regions, regions_per_photo }, Some(started.elapsed().as_secs_f64())))
}

/// Maps each synthetic region to its id, given the ids in the order the regions were
/// written: photo by photo, each photo's regions in [`Dataset::regions_of`] order.
fn region_ids_in_write_order(dataset: &Dataset, ids: impl IntoIterator<Item = RegionId>) -> Vec<RegionId> {
    let mut ids = ids.into_iter();
    let mut regions = vec![RegionId(0); dataset.num_regions()];
    for photo in 0..dataset.num_photos {
        for region in dataset.regions_of(photo) {
            regions[region] = ids.next().unwrap_or(RegionId(0));
        }
    }
    regions
}

/// Opens the index file of an earlier run when `reuse` is set and it opens with the
/// same spec and size; builds it otherwise. Returns the build time, or `None` when
/// the file was reused.
fn build_or_reuse(
    path: &std::path::Path,
    spec: &IndexSpec,
    vectors: &[f32],
    dim: usize,
    reuse: bool,
) -> Result<(VectorIndex, Option<f64>), BenchError> {
    if reuse {
        match VectorIndex::open(path, spec, 1) {
            OpenOutcome::Ready(index) if index.len() == vectors.len() / dim => {
                tracing::info!(path = %path.display(), "reusing the index file of an earlier run");
                return Ok((index, None));
            }
            OpenOutcome::Ready(index) => {
                tracing::warn!(path = %path.display(), vectors = index.len(), "the kept index file has another size; building it again");
            }
            OpenOutcome::NeedsRebuild { reason } => {
                tracing::warn!(path = %path.display(), %reason, "the kept index file does not open; building it again");
            }
        }
    }
    let (index, seconds) = build_index(path, spec, vectors, dim)?;
    Ok((index, Some(seconds)))
}

fn build_index(path: &std::path::Path, spec: &IndexSpec, vectors: &[f32], dim: usize) -> Result<(VectorIndex, f64), BenchError> {
    let started = Instant::now();
    let mut index = VectorIndex::create(path, spec)?;
    for (chunk_index, chunk) in vectors.chunks(dim * 8192).enumerate() {
        let first_key = chunk_index * 8192;
        let items: Vec<(u64, &[f32])> = chunk.chunks_exact(dim).enumerate().map(|(i, v)| ((first_key + i) as u64, v)).collect();
        index.add_batch(&items)?;
    }
    let build_s = started.elapsed().as_secs_f64();
    index.save(1)?;
    Ok((index, build_s))
}

fn open_index(path: &std::path::Path, spec: &IndexSpec) -> Result<VectorIndex, BenchError> {
    match VectorIndex::open_view(path, spec, 1) {
        OpenOutcome::Ready(index) => Ok(index),
        OpenOutcome::NeedsRebuild { reason } => Err(BenchError::inconsistent(
            format!("The index file {} that was just written does not open: {reason}", path.display()),
            format!("刚写入的索引文件 {} 无法打开：{reason}", path.display()),
        )),
    }
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The outcome of one query: the fused top photos, the candidates they were chosen
/// from, and the time of each HNSW search.
struct Answered {
    top: Vec<usize>,
    /// Photos found by their own vector.
    photo_hits: Vec<usize>,
    /// Regions found by theirs.
    region_hits: Vec<usize>,
    photo_time: Duration,
    region_time: Duration,
}

/// Runs one query as `search::search` does after the text encoder: a photo found by
/// its own vector is scored with all its regions, a photo found only through regions
/// with the best of those regions.
fn answer(
    photos: &VectorIndex,
    regions: &VectorIndex,
    dataset: &Dataset,
    photo_query: &[f32],
    region_query: &[f32],
    region_candidates: usize,
    calibration: (f32, f32),
) -> Result<Answered, BenchError> {
    let started = Instant::now();
    let photo_hits: Vec<usize> = photos.search(photo_query, PHOTO_CANDIDATES)?.into_iter().map(|(key, _)| key as usize).collect();
    let photo_done = Instant::now();
    let region_hits: Vec<usize> = if regions.is_empty() {
        Vec::new()
    } else {
        regions.search(region_query, region_candidates)?.into_iter().map(|(key, _)| key as usize).collect()
    };
    let region_time = photo_done.elapsed();

    let mut best_hit: HashMap<usize, f32> = HashMap::new();
    for &region in &region_hits {
        let cos = dot(region_query, dataset.region(region));
        let best = best_hit.entry(region % dataset.num_photos).or_insert(cos);
        *best = best.max(cos);
    }
    let from_photos: HashSet<usize> = photo_hits.iter().copied().collect();
    let scored: Vec<(usize, f32)> = from_photos
        .iter()
        .map(|&photo| (photo, fused_score(dataset, photo, photo_query, region_query, calibration)))
        .chain(best_hit.iter().filter(|(photo, _)| !from_photos.contains(photo)).map(|(&photo, &cos)| {
            (photo, fuse_cosines(dot(photo_query, dataset.photo(photo)), Some(cos), calibration))
        }))
        .collect();
    let top = best_photos(scored);
    Ok(Answered { top: std::hint::black_box(top), photo_hits, region_hits, photo_time: photo_done - started, region_time })
}

/// Computes a photo's fused score from its own match probability and its best region's,
/// as `search::search` does, from full-precision vectors.
fn fused_score(dataset: &Dataset, photo: usize, photo_query: &[f32], region_query: &[f32], calibration: (f32, f32)) -> f32 {
    let best_region = dataset.regions_of(photo).map(|r| dot(region_query, dataset.region(r))).reduce(f32::max);
    fuse_cosines(dot(photo_query, dataset.photo(photo)), best_region, calibration)
}

fn fuse_cosines(photo_cos: f32, region_cos: Option<f32>, (logit_scale, logit_bias): (f32, f32)) -> f32 {
    let photo_probability = match_probability(photo_cos, logit_scale, logit_bias);
    let region_probability = region_cos.map(|cos| match_probability(cos, logit_scale, logit_bias));
    fuse(photo_probability, region_probability, None, FusionWeights::default())
}

/// Returns the `TOP_K` best photos, breaking ties by the lower id.
fn best_photos(mut scored: Vec<(usize, f32)>) -> Vec<usize> {
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.into_iter().take(TOP_K).map(|(photo, _)| photo).collect()
}

/// Returns the top photos of an exact search, which fuses every photo with all its regions.
fn exact_answer(dataset: &Dataset, photo_query: &[f32], region_query: &[f32], calibration: (f32, f32)) -> Vec<usize> {
    let scored: Vec<(usize, f32)> =
        (0..dataset.num_photos).into_par_iter().map(|photo| (photo, fused_score(dataset, photo, photo_query, region_query, calibration))).collect();
    best_photos(scored)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// Returns the keys of the `k` vectors with the largest dot product with `query`.
fn exact_top(vectors: &[f32], dim: usize, query: &[f32], k: usize) -> Vec<u64> {
    let mut best: Vec<(f32, u64)> = Vec::with_capacity(k + 1);
    for (key, vector) in vectors.chunks_exact(dim).enumerate() {
        let score = dot(query, vector);
        if best.len() < k || score > best[best.len() - 1].0 {
            let position = best.partition_point(|(s, _)| *s >= score);
            best.insert(position, (score, key as u64));
            best.truncate(k);
        }
    }
    best.into_iter().map(|(_, key)| key).collect()
}

fn recall<'a>(index: &VectorIndex, queries: impl Iterator<Item = &'a Vec<f32>>, exact: &[Vec<u64>]) -> Result<f64, BenchError> {
    let (mut found, mut wanted) = (0usize, 0usize);
    for (query, truth) in queries.zip(exact) {
        let hits: HashSet<u64> = index.search(query, TOP_K)?.into_iter().map(|(key, _)| key).collect();
        found += truth.iter().filter(|key| hits.contains(key)).count();
        wanted += truth.len();
    }
    Ok(if wanted == 0 { 1.0 } else { found as f64 / wanted as f64 })
}

/// Recall@10 of the best 10 among `candidates` HNSW hits, rescored exactly against the
/// full-precision `vectors`.
fn rescored_recall<'a>(
    index: &VectorIndex,
    vectors: &[f32],
    dim: usize,
    candidates: usize,
    queries: impl Iterator<Item = &'a Vec<f32>>,
    exact: &[Vec<u64>],
) -> Result<f64, BenchError> {
    let (mut found, mut wanted) = (0usize, 0usize);
    for (query, truth) in queries.zip(exact) {
        let mut scored: Vec<(f32, u64)> = index
            .search(query, candidates)?
            .into_iter()
            .map(|(key, _)| {
                let start = key as usize * dim;
                (dot(query, &vectors[start..start + dim]), key)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let best: HashSet<u64> = scored.into_iter().take(TOP_K).map(|(_, key)| key).collect();
        found += truth.iter().filter(|key| best.contains(key)).count();
        wanted += truth.len();
    }
    Ok(if wanted == 0 { 1.0 } else { found as f64 / wanted as f64 })
}

fn load_text_model(dir: &std::path::Path, options: &QueryBenchOptions) -> Result<(Model, Duration), BenchError> {
    let started = Instant::now();
    let model_options = ModelOptions {
        device: options.device,
        intra_threads: options.threads.max(1),
        runtime_library: options.runtime_library.clone(),
        ..ModelOptions::default()
    };
    let model = Model::load(dir, model_options)?;
    Ok((model, started.elapsed()))
}

/// Queries in both languages and of several lengths, all within the short walk.
const TEXT_QUERIES: [&str; 6] = [
    "a red circle on a white background",
    "海边的日落",
    "two people walking a dog in the snow",
    "桌子上的一杯咖啡",
    "the blue car parked next to a tree",
    "生日蛋糕上的蜡烛",
];

fn time_text_encoder(model: &Model, load: Duration, first_answer_ms: f64, ann_p50_ms: f64) -> Result<TextEncoderReport, BenchError> {
    let embed_both = |text: &str| -> Result<(), BenchError> {
        let walk = model.tokenizer().choose_photo_walk(text)?;
        model.embed_texts(&[text], walk)?;
        model.embed_texts(&[text], WalkType::Box)?;
        Ok(())
    };
    let started = Instant::now();
    model.warm_text_encoder()?;
    let warm_up = started.elapsed();
    let started = Instant::now();
    embed_both(TEXT_QUERIES[0])?;
    let first_query = started.elapsed();

    let mut samples = Vec::new();
    for _ in 0..3 {
        for text in TEXT_QUERIES {
            let started = Instant::now();
            embed_both(text)?;
            samples.push(started.elapsed());
        }
    }
    let per_query = Latency::of(&samples);

    Ok(TextEncoderReport {
        model_id: model.model_id().to_string(),
        device: model.device_used().map(|d| d.as_str().to_string()).unwrap_or_else(|| "none".into()),
        load_ms: load.as_secs_f64() * 1e3,
        warm_up_ms: warm_up.as_secs_f64() * 1e3,
        first_query_ms: first_query.as_secs_f64() * 1e3,
        first_answer_after_load_ms: (load + warm_up + first_query).as_secs_f64() * 1e3 + first_answer_ms,
        first_answer_when_ready_ms: first_query.as_secs_f64() * 1e3 + first_answer_ms,
        end_to_end_p50_ms: per_query.p50_ms + ann_p50_ms,
        per_query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_top_orders_by_dot() {
        let vectors = [1.0, 0.0, 0.0, 1.0, 0.6, 0.8];
        assert_eq!(exact_top(&vectors, 2, &[1.0, 0.0], 2), vec![0, 2]);
        assert_eq!(exact_top(&vectors, 2, &[0.0, 1.0], 1), vec![1]);
    }

    #[test]
    fn clustered_vectors_are_unit_length() {
        let vectors = clustered_vectors(50, 16, 4, 9);
        for vector in vectors.chunks_exact(16) {
            let norm: f32 = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        }
    }

    #[test]
    fn regions_of_steps_by_photo_count() {
        let dataset = Dataset { dim: 1, photos: vec![0.0; 3], regions: vec![0.0; 7], num_photos: 3 };
        assert_eq!(dataset.regions_of(1).collect::<Vec<_>>(), vec![1, 4]);
        assert_eq!(dataset.regions_of(0).collect::<Vec<_>>(), vec![0, 3, 6]);
    }

    #[test]
    fn dot_matches_naive_sum() {
        let a: Vec<f32> = (0..21).map(|i| i as f32 * 0.1).collect();
        let b: Vec<f32> = (0..21).map(|i| 1.0 - i as f32 * 0.05).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
    }
}
