//! The `xunying` command line: a thin shell that parses arguments, calls the library and
//! renders its results as text or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use serde::Serialize;
use xunying::model::{Device, Model, ModelOptions, WalkType};
use xunying::{config, doctor};

#[derive(Parser)]
#[command(name = "xunying", version, about = "Offline photo search with FG-CLIP 2 / 寻影：离线照片搜索")]
struct Cli {
    /// Data directory (default: XUNYING_DATA_DIR, else the platform's data folder).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Model bundle folder (default: XUNYING_MODEL, else the active installed bundle).
    #[arg(long, global = true, value_name = "DIR")]
    model: Option<PathBuf>,

    /// Where the model runs: auto, cpu, cuda, tensorrt, directml or coreml.
    #[arg(long, global = true, default_value = "auto", env = "XUNYING_DEVICE")]
    device: String,

    /// ONNX Runtime library file (default: XUNYING_ORT_LIB, next to the executable, or node_modules/onnxruntime-node).
    #[arg(long, global = true, value_name = "FILE")]
    ort_lib: Option<PathBuf>,

    /// Log more: -v for progress milestones, -vv for decisions.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the runtime, the execution provider, the model bundle and the data directory.
    Doctor {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print embeddings of images, regions and texts (for checks and debugging).
    Embed {
        /// An image file; repeat for several.
        #[arg(long = "image", value_name = "FILE")]
        images: Vec<PathBuf>,
        /// A region box `x0,y0,x1,y1` in pixels, applied to every image; repeat for several.
        #[arg(long = "box", value_name = "X0,Y0,X1,Y1", value_parser = parse_box)]
        boxes: Vec<[f32; 4]>,
        /// A text; repeat for several.
        #[arg(long = "text", value_name = "TEXT")]
        texts: Vec<String>,
        /// Text walk: auto, short, box or long.
        #[arg(long, default_value = "auto")]
        walk: String,
        /// Include the dense feature map of each image.
        #[arg(long)]
        dense: bool,
        /// Run every image at this patch budget instead of its own.
        #[arg(long, value_name = "N")]
        budget: Option<usize>,
        /// Print JSON (the only format for now).
        #[arg(long)]
        json: bool,
    },
}

fn parse_box(value: &str) -> Result<[f32; 4], String> {
    let parts: Vec<f32> = value
        .split(',')
        .map(|p| p.trim().parse::<f32>().map_err(|_| format!("`{p}` is not a number")))
        .collect::<Result<_, _>>()?;
    <[f32; 4]>::try_from(parts).map_err(|_| "a box needs four numbers: x0,y0,x1,y1".to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("XUNYING_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn run(cli: Cli) -> Result<ExitCode> {
    let device: Device = cli.device.parse()?;
    let data_dir = config::data_dir(cli.data_dir.as_deref());
    let model_dir = config::model_dir(cli.model.as_deref(), data_dir.as_deref());
    let options = ModelOptions { device, runtime_library: cli.ort_lib.clone(), ..ModelOptions::default() };

    match cli.command {
        Command::Doctor { json } => {
            let report = doctor::diagnose(model_dir.as_deref(), data_dir.as_deref(), &options);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_doctor(&report);
            }
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Embed { images, boxes, texts, walk, dense, budget, json: _ } => {
            let model_dir = model_dir.context(
                "no model bundle: pass --model DIR or set XUNYING_MODEL\n没有模型包：请使用 --model 目录或设置 XUNYING_MODEL",
            )?;
            let model = Model::load(&model_dir, options)?;
            let report = embed(&model, &images, &boxes, &texts, &walk, dense, budget)?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_doctor(report: &doctor::DoctorReport) {
    let mark = |ok: bool| if ok { "ok  " } else { "FAIL" };
    let r = &report.runtime;
    println!("[{}] ONNX Runtime / 运行时", mark(r.ok));
    if let (Some(path), Some(version)) = (&r.library_path, &r.version) {
        println!("       {version} at {}", path.display());
        println!("       providers / 执行提供程序: {}", r.available_providers.join(", "));
    }
    print_error(&r.error);

    let d = &report.device;
    println!("[{}] Device / 设备: requested {}, using {}", mark(d.ok), d.requested, d.chosen.as_deref().unwrap_or("-"));
    print_error(&d.error);

    let m = &report.model;
    println!("[{}] Model bundle / 模型包", mark(m.ok));
    if let Some(path) = &m.path {
        println!("       {}", path.display());
    }
    if let (Some(family), Some(variant), Some(id)) = (&m.family, &m.variant, &m.model_id) {
        println!(
            "       {family} {variant} ({}), {} dims, budgets {:?}, {:.1} MB, id {id}",
            m.precision.as_deref().unwrap_or("?"),
            m.embed_dim.unwrap_or(0),
            m.patch_budgets,
            m.size_bytes.unwrap_or(0) as f64 / 1e6
        );
    }
    print_error(&m.error);

    let data = &report.data_dir;
    println!("[{}] Data directory / 数据目录", mark(data.ok));
    if let Some(path) = &data.path {
        println!("       {}", path.display());
    }
    print_error(&data.error);
}

fn print_error(error: &Option<String>) {
    if let Some(error) = error {
        for line in error.lines() {
            println!("       {line}");
        }
    }
}

#[derive(Serialize)]
struct EmbedReport {
    model_id: String,
    images: Vec<ImageReport>,
    texts: Vec<TextReport>,
}

#[derive(Serialize)]
struct ImageReport {
    path: PathBuf,
    width: u32,
    height: u32,
    patch_budget: usize,
    spatial_shape: (usize, usize),
    embedding: Vec<f32>,
    regions: Vec<RegionReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dense_features: Option<Vec<f32>>,
}

#[derive(Serialize)]
struct RegionReport {
    #[serde(rename = "box")]
    region_box: [f32; 4],
    embedding: Vec<f32>,
}

#[derive(Serialize)]
struct TextReport {
    text: String,
    walk: WalkType,
    truncated: bool,
    ids: Vec<i64>,
    embedding: Vec<f32>,
}

fn embed(
    model: &Model,
    images: &[PathBuf],
    boxes: &[[f32; 4]],
    texts: &[String],
    walk: &str,
    with_dense: bool,
    budget: Option<usize>,
) -> Result<EmbedReport> {
    let mut image_reports = Vec::new();
    for path in images {
        let decoded = image::open(path).with_context(|| format!("cannot decode {}\n无法解码 {}", path.display(), path.display()))?;
        let rgb = decoded.to_rgb8();
        let prepared = match budget {
            Some(b) => model.preprocessor().prepare_with_budget(&rgb, b)?,
            None => model.prepare(&rgb)?,
        };
        let need_dense = with_dense || !boxes.is_empty();
        let result = model.embed_images(std::slice::from_ref(&prepared), need_dense)?.remove(0);
        let regions = match &result.dense {
            Some(map) => boxes
                .iter()
                .map(|&b| Ok(RegionReport { region_box: b, embedding: map.region_embedding(b)? }))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        image_reports.push(ImageReport {
            path: path.clone(),
            width: rgb.width(),
            height: rgb.height(),
            patch_budget: result.patch_budget,
            spatial_shape: result.spatial_shape,
            embedding: result.embedding,
            regions,
            dense_features: if with_dense { result.dense.map(|d| d.features) } else { None },
        });
    }

    let mut text_reports = Vec::new();
    for text in texts {
        let walk = match walk {
            "auto" => model.tokenizer().choose_photo_walk(text)?,
            other => other.parse::<WalkType>().map_err(anyhow::Error::msg)?,
        };
        let ids = model.tokenizer().tokenize(text, walk)?;
        let embedded = model.embed_texts(&[text.as_str()], walk)?.remove(0);
        text_reports.push(TextReport { text: text.clone(), walk, truncated: embedded.truncated, ids: ids.ids, embedding: embedded.embedding });
    }

    Ok(EmbedReport { model_id: model.model_id().to_string(), images: image_reports, texts: text_reports })
}
