//! `xunying bench ingest|decode|query`: parse the options, run the library's benchmark,
//! print a table or JSON.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use xunying::bench::{
    run_decode, run_ingest, run_query, write_generated_photos, DecodeBenchOptions, DecodeReport, GeneratedSet, IngestBenchOptions, IngestReport,
    QueryBenchOptions, QueryReport, DEFAULT_REGION_CANDIDATES,
};
use xunying::model::ModelOptions;
use xunying::vectors::VectorKind;

fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Benchmarks.
#[derive(Subcommand)]
pub enum BenchCommand {
    /// Photos per second through the ingest pipeline, per stage, against the model alone.
    Ingest {
        /// Folder of photos to ingest into a temporary data directory.
        #[arg(long, value_name = "DIR")]
        photos: Option<PathBuf>,
        /// Generate COUNT JPEGs of MP megapixels first, such as 4x24, or of varied sizes and
        /// aspect ratios within a range, such as 400x0.05-4; repeat for several sets.
        #[arg(long, value_name = "COUNTxMP")]
        generate: Vec<GeneratedSet>,
        /// ONNX Runtime threads; the pipeline adds THREADS − 1 decode workers (at least 1).
        #[arg(long, value_name = "N", default_value_t = default_threads())]
        threads: usize,
        /// Photos per model run and catalog transaction.
        #[arg(long, value_name = "N", default_value_t = 16)]
        batch_size: usize,
        /// Skip region proposals.
        #[arg(long)]
        no_regions: bool,
        /// Folder for the temporary data directory and generated photos.
        #[arg(long, value_name = "DIR")]
        scratch: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decode and preprocessing time of single photos on one thread.
    Decode {
        /// Folder of photos.
        #[arg(long, value_name = "DIR")]
        photos: Option<PathBuf>,
        /// Generate COUNT JPEGs of MP megapixels first, such as 2x24.
        #[arg(long, value_name = "COUNTxMP")]
        generate: Vec<GeneratedSet>,
        /// Timed runs per photo.
        #[arg(long, value_name = "N", default_value_t = 5)]
        repeats: usize,
        /// Folder for generated photos.
        #[arg(long, value_name = "DIR")]
        scratch: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write generated JPEG photos into a folder, for runs that compare tools on the same files.
    Generate {
        /// Folder to write into (created when missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// COUNT JPEGs of MP megapixels, such as 4x24, or of varied sizes and aspect ratios
        /// within a range, such as 400x0.05-4; repeat for several sets.
        #[arg(long, value_name = "COUNTxMP", required = true)]
        generate: Vec<GeneratedSet>,
    },
    /// Search latency, recall@10, memory and start-up time on synthetic clustered vectors.
    Query {
        /// Photo vectors to index.
        #[arg(long, value_name = "N", default_value_t = 100_000)]
        photos: usize,
        /// Region vectors to index.
        #[arg(long, value_name = "M", default_value_t = 1_000_000)]
        regions: usize,
        /// Vector width when no model is used.
        #[arg(long, value_name = "D")]
        dim: Option<usize>,
        /// Timed queries per expansion setting.
        #[arg(long, value_name = "N", default_value_t = 500)]
        queries: usize,
        /// Queries checked against exact search for recall@10.
        #[arg(long, value_name = "N", default_value_t = 100)]
        recall_queries: usize,
        /// Stored scalar kind: f16, i8 or f32.
        #[arg(long, default_value = "i8", value_parser = parse_kind)]
        kind: VectorKind,
        /// HNSW expansion_search values to measure, comma-separated.
        #[arg(long, value_name = "E,E", value_delimiter = ',', default_value = "128,512")]
        expansion_search: Vec<usize>,
        /// Region candidates taken from HNSW and rescored, comma-separated. Each count is
        /// measured with every expansion_search value.
        #[arg(long, value_name = "N,N", value_delimiter = ',', default_values_t = [DEFAULT_REGION_CANDIDATES])]
        region_candidates: Vec<usize>,
        /// HNSW connectivity of both graphs (default: the library's, 24).
        #[arg(long, value_name = "M")]
        connectivity: Option<usize>,
        /// HNSW candidate list size while inserting (default: the library's, 128).
        #[arg(long, value_name = "N")]
        expansion_add: Option<usize>,
        /// Do not time the text encoder even when a model bundle is set.
        #[arg(long)]
        no_text: bool,
        /// ONNX Runtime threads for the text encoder.
        #[arg(long, value_name = "N", default_value_t = default_threads())]
        threads: usize,
        /// Seed of the synthetic vectors.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Folder for the temporary index files.
        #[arg(long, value_name = "DIR")]
        scratch: Option<PathBuf>,
        /// Keep the index files under --scratch and reuse them on later runs with the
        /// same sizes, kind and seed (building 1 M regions takes about 15 minutes on 2 cores).
        #[arg(long, requires = "scratch")]
        reuse_indexes: bool,
        /// Also write the vectors into a SQLite catalog and time reading each query's
        /// candidates from it, as a search does (kept and reused with --reuse-indexes).
        #[arg(long)]
        catalog: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn parse_kind(value: &str) -> Result<VectorKind, String> {
    match value.to_ascii_lowercase().as_str() {
        "f16" => Ok(VectorKind::F16),
        "i8" => Ok(VectorKind::I8),
        "f32" => Ok(VectorKind::F32),
        _ => Err(format!("`{value}` is not f16, i8 or f32\n`{value}` 不是 f16、i8 或 f32")),
    }
}

/// Runs one benchmark command.
pub fn run(command: BenchCommand, model_dir: Option<&Path>, options: &ModelOptions) -> Result<()> {
    match command {
        BenchCommand::Ingest { photos, generate, threads, batch_size, no_regions, scratch, json } => {
            let model_dir = model_dir
                .context("no model bundle: pass --model DIR or set XUNYING_MODEL\n没有模型包：请使用 --model 目录或设置 XUNYING_MODEL")?;
            let report = run_ingest(&IngestBenchOptions {
                model_dir: model_dir.to_path_buf(),
                photo_dir: photos,
                generated: generate,
                threads,
                batch_size,
                regions: !no_regions,
                device: options.device,
                runtime_library: options.runtime_library.clone(),
                scratch_dir: scratch,
            })?;
            print(json, &report, print_ingest)
        }
        BenchCommand::Decode { photos, generate, repeats, scratch, json } => {
            let report = run_decode(&DecodeBenchOptions {
                photo_dir: photos,
                generated: generate,
                model_dir: model_dir.map(Path::to_path_buf),
                repeats,
                scratch_dir: scratch,
            })?;
            print(json, &report, print_decode)
        }
        BenchCommand::Generate { out, generate } => {
            let paths = write_generated_photos(&out, &generate)?;
            println!("wrote {} photos to {} / 已写入 {} 张照片", paths.len(), out.display(), paths.len());
            Ok(())
        }
        BenchCommand::Query {
            photos,
            regions,
            dim,
            queries,
            recall_queries,
            kind,
            expansion_search,
            region_candidates,
            connectivity,
            expansion_add,
            no_text,
            threads,
            seed,
            scratch,
            reuse_indexes,
            catalog,
            json,
        } => {
            let report = run_query(&QueryBenchOptions {
                photos,
                regions,
                dim,
                queries,
                recall_queries,
                kind,
                expansion_search,
                region_candidates,
                connectivity,
                expansion_add,
                model_dir: if no_text { None } else { model_dir.map(Path::to_path_buf) },
                device: options.device,
                threads,
                runtime_library: options.runtime_library.clone(),
                scratch_dir: scratch,
                reuse_indexes,
                catalog,
                seed,
            })?;
            print(json, &report, print_query)
        }
    }
}

fn print<T: serde::Serialize>(json: bool, report: &T, table: fn(&T)) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        table(report);
    }
    Ok(())
}

fn print_ingest(report: &IngestReport) {
    println!(
        "model {} ({}, dim {}) on {} · {} ONNX threads, {} decode workers, batch {}, regions {}",
        report.model_id,
        report.variant,
        report.embed_dim,
        report.device,
        report.threads,
        report.decode_threads,
        report.batch_size,
        if report.regions { "on" } else { "off" }
    );
    println!(
        "photos: {} found, {} embedded, {} failed · per budget {:?}",
        report.photos_found, report.photos_embedded, report.photos_failed, report.photos_per_budget
    );
    println!();
    println!("{:<22} {:>12}", "stage / 阶段", "ms per photo");
    for (stage, ms) in &report.stages.per_photo_ms {
        println!("{:<22} {:>12.1}", stage, ms);
    }
    println!();
    println!("end to end / 端到端:        {:>8.2} photos/s ({:.2} s)", report.photos_per_s, report.wall_s);
    println!(
        "model only / 仅模型:        {:>8.2} photos/s ({:.2} s before, {:.2} s after)",
        report.model_only.photos_per_s, report.model_only.before_s, report.model_only.after_s
    );
    println!("ratio / 比值:               {:>8.3}", report.ratio_to_model_only);
    let m = &report.memory;
    println!(
        "memory / 内存 (MiB): before {:.0}, after first batch {:.0}, peak {:.0}, end {:.0}",
        m.before_mib, m.after_first_batch_mib, m.peak_mib, m.end_mib
    );
    println!(
        "peak by half of the run / 前后半程峰值 (MiB): first {:.0}, second {:.0} · vector indexes with reserved capacity / 向量索引（含预留容量） {:.0} MiB for {} vectors",
        m.peak_first_half_mib, m.peak_second_half_mib, m.vector_indexes_mib, m.vectors
    );
}

fn print_decode(report: &DecodeReport) {
    println!("{:<34} {:>11} {:>7} {:>10} {:>13} {:>9}", "photo", "size", "budget", "decode ms", "preprocess ms", "total ms");
    for photo in &report.photos {
        println!(
            "{:<34} {:>11} {:>7} {:>10.1} {:>13.1} {:>9.1}",
            photo.name,
            format!("{}x{}", photo.size_px.0, photo.size_px.1),
            photo.patch_budget,
            photo.decode_ms,
            photo.preprocess_ms,
            photo.total.p50_ms
        );
        for reduced in &photo.reduced {
            println!(
                "  reduced decode covering {}: {}x{}, decode {:.1} ms, preprocess {:.1} ms, total {:.1} ms; \
                 differs from the full decode's model input by at most {:.1}, on average {:.2} grey levels",
                reduced.covers,
                reduced.decoded_px.0,
                reduced.decoded_px.1,
                reduced.decode_ms,
                reduced.preprocess_ms,
                reduced.total.p50_ms,
                reduced.max_diff_levels,
                reduced.mean_diff_levels
            );
        }
    }
}

fn print_query(report: &QueryReport) {
    let build = |seconds: Option<f64>| seconds.map_or_else(|| "reused".to_string(), |s| format!("{s:.1} s"));
    println!(
        "{} photos, {} regions, dim {}, {}, connectivity {}, expansion_add {} · build {} + {}",
        report.photos,
        report.regions,
        report.dim,
        report.kind,
        report.connectivity,
        report.expansion_add,
        build(report.build_photos_s),
        build(report.build_regions_s)
    );
    println!(
        "memory per vector, with the index's reserved capacity / 每向量内存（含索引预留容量）: photos {:.0} B, regions {:.0} B, files {:.0} B · process {:.0} MiB",
        report.photo_memory_bytes_per_vector,
        report.region_memory_bytes_per_vector,
        report.file_bytes_per_vector,
        report.process_memory_mib
    );
    if report.by_expansion.iter().any(|e| e.catalog_reads.is_some()) {
        println!("catalog / 目录: write {}", build(report.build_catalog_s));
    }
    println!("open indexes {:.1} ms · first answer {:.1} ms", report.open_indexes_ms, report.first_answer_ms);
    println!();
    println!(
        "{:>9} {:>10} {:>9} {:>9} {:>11} {:>12} {:>15} {:>16} {:>12}",
        "expansion", "candidates", "p50 ms", "p99 ms", "photo R@10", "region R@10", "photo rescored", "region rescored", "result R@10"
    );
    for e in &report.by_expansion {
        println!(
            "{:>9} {:>10} {:>9.2} {:>9.2} {:>11.3} {:>12.3} {:>15.3} {:>16.3} {:>12.3}",
            e.expansion_search,
            e.region_candidates,
            e.ann_and_fusion.p50_ms,
            e.ann_and_fusion.p99_ms,
            e.photo_recall_at_10,
            e.region_recall_at_10,
            e.photo_recall_at_10_rescored,
            e.region_recall_at_10_rescored,
            e.result_recall_at_10
        );
    }
    for e in &report.by_expansion {
        if let (Some(reads), Some(total), Some(search)) = (&e.catalog_reads, &e.with_catalog_reads, &e.search_with_reads) {
            println!(
                "expansion {} · {} candidates: catalog reads p50 {:.2} ms, p99 {:.2} ms · with them p50 {:.2} ms, p99 {:.2} ms · as search runs it p50 {:.2} ms, p99 {:.2} ms",
                e.expansion_search, e.region_candidates, reads.p50_ms, reads.p99_ms, total.p50_ms, total.p99_ms, search.p50_ms, search.p99_ms
            );
        }
    }
    if let Some(text) = &report.text_encoder {
        println!();
        println!(
            "text encoder {} on {}: load {:.0} ms, warm-up {:.0} ms, first query {:.0} ms, p50 {:.1} ms, p99 {:.1} ms",
            text.model_id, text.device, text.load_ms, text.warm_up_ms, text.first_query_ms, text.per_query.p50_ms, text.per_query.p99_ms
        );
        println!(
            "first answer: {:.0} ms once the model is ready, {:.0} ms from a cold start · end to end p50 {:.1} ms",
            text.first_answer_when_ready_ms, text.first_answer_after_load_ms, text.end_to_end_p50_ms
        );
    }
}
