//! The `xunying` command line: a thin shell that parses arguments, calls the library and
//! renders its results as text or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use xunying::model::{Device, Model, ModelOptions};
use xunying::{config, doctor, models};

mod cli;

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

#[derive(clap::Args, Clone)]
struct IngestArgs {
    /// Do not draw the progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Milliseconds a file must be left alone before it is indexed.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    settle_ms: u64,
    /// Skip region proposals (whole-photo search only).
    #[arg(long)]
    no_regions: bool,
    /// Maximum regions stored per photo.
    #[arg(long, value_name = "N", default_value_t = 16)]
    max_regions: usize,
    /// Photos per model run and catalog transaction.
    #[arg(long, value_name = "N", default_value_t = 16)]
    batch_size: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Add folders to the library and bring the index up to date.
    Index {
        /// Photo folders to add (remembered); without any, the known folders are updated.
        folders: Vec<PathBuf>,
        #[command(flatten)]
        ingest: IngestArgs,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Index, then keep watching the folders until interrupted.
    Watch {
        /// Photo folders to add (remembered).
        folders: Vec<PathBuf>,
        #[command(flatten)]
        ingest: IngestArgs,
    },
    /// Serve the web UI and its API over HTTP, indexing and watching in the background.
    Serve {
        /// Address to listen on. Anything but loopback lets other machines reach the
        /// library (with the token); they must use this address as the Host.
        #[arg(long, default_value = "127.0.0.1", value_name = "IP")]
        bind: std::net::IpAddr,
        /// Port to listen on; 0 picks a free port.
        #[arg(long, default_value_t = 7840)]
        port: u16,
        /// The built web UI folder (default: ui/dist of the source checkout or the working folder).
        #[arg(long, value_name = "DIR", env = "XUNYING_UI_DIR")]
        ui: Option<PathBuf>,
        #[command(flatten)]
        ingest: IngestArgs,
    },
    /// Remove folders from the library. Their photos leave the index; the files on disk
    /// are not touched.
    Remove {
        /// Library folders to remove, as `status` lists them.
        #[arg(required = true)]
        folders: Vec<PathBuf>,
    },
    /// Show folders, counts, the model in use, pending work and failures.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Include every indexed file path (with --json).
        #[arg(long)]
        paths: bool,
    },
    /// Search photos by a Chinese or English description, or by an example photo.
    // Negative numbers reach the value parsers, whose messages name the valid range,
    // instead of clap's hint to write `-- -1`.
    #[command(allow_negative_numbers = true)]
    Search {
        /// What you remember, such as "a red circle" or "海边的日落".
        query: Option<String>,
        /// Maximum results (at least 1).
        #[arg(long, default_value_t = 20, value_parser = parse_limit)]
        limit: usize,
        /// Print an array of results as JSON.
        #[arg(long)]
        json: bool,
        /// Only photos under this folder.
        #[arg(long, value_name = "F")]
        folder: Option<PathBuf>,
        /// Only photos taken (else modified) on or after this date: YYYY, YYYY-MM or YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        after: Option<String>,
        /// Only photos taken (else modified) on or before this date: YYYY, YYYY-MM or YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        before: Option<String>,
        /// Only photos whose camera make, model or lens contains this text.
        #[arg(long, value_name = "TEXT")]
        camera: Option<String>,
        /// Only this file type (extension such as jpg or png); repeat for several.
        #[arg(long = "type", value_name = "EXT", value_parser = parse_file_type)]
        types: Vec<String>,
        /// Find photos like this one (in the library or any image file).
        #[arg(long, value_name = "PATH")]
        like: Option<PathBuf>,
        /// Hide results scoring below this probability (0–1); by default they are marked weak.
        #[arg(long, value_name = "P", value_parser = parse_unit_interval)]
        min_score: Option<f32>,
    },
    /// Group photos whose embeddings are nearly identical.
    #[command(allow_negative_numbers = true)]
    Duplicates {
        /// Cosine similarity from which photos count as near-duplicates.
        #[arg(long, default_value_t = xunying::search::duplicates::DEFAULT_DUPLICATE_THRESHOLD, value_parser = parse_unit_interval)]
        threshold: f32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
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
        /// A float32 .npy file of normalised patches `[rows, cols, 3·p·p]` that replaces the
        /// preprocessing of the --image at the same position; repeat once per image. The image
        /// is still decoded for its size, which maps --box onto the grid.
        #[arg(long = "pixel-values", value_name = "FILE")]
        pixel_values: Vec<PathBuf>,
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
        /// Pad every image's patches with masked tokens to N tokens (at least its budget),
        /// keeping its resize; embeddings should not change.
        #[arg(long, value_name = "N")]
        pad_to: Option<usize>,
        /// Print JSON (the only format for now).
        #[arg(long)]
        json: bool,
    },
    /// Install, list, verify, activate and remove model bundles.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Measure ingest, decoding and search speed on this machine.
    Bench {
        #[command(subcommand)]
        command: cli::bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// List the installed bundles.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Install a bundle from a folder, a .tar/.tar.gz/.zip archive, an http(s) URL, or a variant name (base, large, so400m, toy).
    Install {
        /// Bundle folder, archive file, archive URL, or variant name.
        source: String,
        /// Folder name to install under (default: {family}-{variant}-{precision}).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Make the bundle active (the first installed bundle becomes active anyway).
        #[arg(long)]
        activate: bool,
        /// Expected SHA-256 of the archive, as 64 hex digits.
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
        /// URL or path of the model index that variant names resolve through.
        #[arg(long, value_name = "URL|FILE", env = models::MODEL_INDEX_ENV)]
        index: Option<String>,
    },
    /// Check a bundle's file checksums and run one text and one image through it on the CPU.
    Verify {
        /// Bundle name, or a bundle folder's path (default: the folder --model or
        /// XUNYING_MODEL names, else the active bundle).
        name: Option<String>,
    },
    /// Make an installed bundle the active one.
    Use {
        /// Bundle name.
        name: String,
    },
    /// Delete an installed bundle.
    Remove {
        /// Bundle name.
        name: String,
        /// Remove it even if it is the active bundle, leaving none active.
        #[arg(long)]
        force: bool,
    },
}

fn parse_limit(value: &str) -> Result<usize, String> {
    let max = xunying::api::MAX_SEARCH_LIMIT as usize;
    match value.trim().parse::<usize>() {
        Ok(limit) if (1..=max).contains(&limit) => Ok(limit),
        _ => Err(format!("`{value}` is not a whole number from 1 to {max} / `{value}` 不是 1 到 {max} 之间的整数")),
    }
}

fn parse_unit_interval(value: &str) -> Result<f32, String> {
    match value.trim().parse::<f32>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{value}` is not a number from 0 to 1 / `{value}` 不是 0 到 1 之间的数")),
    }
}

fn parse_file_type(value: &str) -> Result<String, String> {
    let extension = value.trim().trim_start_matches('.').to_lowercase();
    if xunying::imaging::SUPPORTED_EXTENSIONS.contains(&extension.as_str()) {
        return Ok(extension);
    }
    let known = xunying::imaging::SUPPORTED_EXTENSIONS.join(", ");
    Err(format!("`{value}` is not a photo type Xunying indexes; use one of: {known}\n`{value}` 不是寻影索引的照片类型；可用：{known}"))
}

fn parse_box(value: &str) -> Result<[f32; 4], String> {
    let parts: Vec<f32> = value
        .split(',')
        .map(|p| p.trim().parse::<f32>().map_err(|_| format!("`{p}` is not a number")))
        .collect::<Result<_, _>>()?;
    <[f32; 4]>::try_from(parts).map_err(|_| "a box needs four numbers: x0,y0,x1,y1".to_string())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let usage_error = error.use_stderr();
            let _ = error.print();
            if !usage_error {
                return ExitCode::SUCCESS;
            }
            eprintln!("命令行参数有误，请运行 `xunying --help` 查看用法。");
            return ExitCode::from(2);
        }
    };
    init_logging(cli.verbose);
    if !matches!(cli.command, Command::Serve { .. } | Command::Models { .. }) {
        stop_quietly_on_closed_pipe();
    }
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", error_text(&error));
            ExitCode::from(2)
        }
    }
}

/// Joins an error and its causes, leaving out a cause whose text the messages before
/// it already contain, because most of Xunying's errors quote their source in both
/// languages.
fn error_text(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Lets the process end without a message when the reader of its output goes away, as
/// in `xunying search … | head -1`, the way Unix tools do. Rust ignores SIGPIPE, so a
/// print to a closed pipe would panic instead. The server and the model downloads keep
/// ignoring it, because a signal there would end the process on a dropped connection.
fn stop_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default action of one signal before any thread writes output.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn init_logging(verbose: u8) {
    // Libraries log their own internals at debug level (tantivy prints whole index
    // metadata), so -vv raises only Xunying's own detail, and XUNYING_LOG can ask for more.
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "info,xunying=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("XUNYING_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour codes only for a terminal, not in a log file or a pipe.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
}

fn run(cli: Cli) -> Result<ExitCode> {
    let device: Device = cli.device.parse()?;
    let data_dir = config::data_dir(cli.data_dir.as_deref());
    let model_dir = config::model_dir(cli.model.as_deref(), data_dir.as_deref());
    let options = ModelOptions { device, runtime_library: cli.ort_lib.clone(), ..ModelOptions::default() };

    // Commands that only read the library must not create one in a mistyped folder.
    let existing_library = || -> Result<()> {
        match data_dir.as_deref() {
            Some(dir) if !dir.exists() => anyhow::bail!(
                "There is no library in {0} yet; `xunying index <FOLDER>` creates it. Check --data-dir or XUNYING_DATA_DIR if you expected one.\n\
                 {0} 中还没有图库；运行 `xunying index <文件夹>` 即可创建。如果应当已有图库，请检查 --data-dir 或 XUNYING_DATA_DIR。",
                dir.display()
            ),
            _ => Ok(()),
        }
    };
    let library_options = |ingest: Option<&IngestArgs>| -> Result<xunying::library::LibraryOptions> {
        let data_dir = data_dir.clone().context(
            "no data directory: set XUNYING_DATA_DIR\n没有数据目录：请设置 XUNYING_DATA_DIR",
        )?;
        let mut library = xunying::library::LibraryOptions::new(&data_dir);
        library.model_dir = model_dir.clone();
        library.model_options = options.clone();
        if let Some(ingest) = ingest {
            library.settle = std::time::Duration::from_millis(ingest.settle_ms);
            library.batch_size = ingest.batch_size.max(1);
            if ingest.no_regions {
                library.regions = None;
            } else if let Some(regions) = library.regions.as_mut() {
                regions.max_regions = ingest.max_regions;
            }
        }
        Ok(library)
    };

    match cli.command {
        Command::Index { folders, ingest, json } => {
            cli::index(library_options(Some(&ingest))?, &folders, json, ingest.quiet)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Watch { folders, ingest } => {
            cli::watch(library_options(Some(&ingest))?, &folders, ingest.quiet)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { bind, port, ui, ingest } => {
            cli::serve::serve(library_options(Some(&ingest))?, bind, port, ui)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Remove { folders } => {
            existing_library()?;
            cli::remove(library_options(None)?, &folders)
        }
        Command::Status { json, paths } => {
            existing_library()?;
            let mut opts = library_options(None)?;
            let bundle = opts.model_dir.take();
            cli::status(opts, bundle, json, paths)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Search { query, limit, json, folder, after, before, camera, types, like, min_score } => {
            existing_library()?;
            let filters = xunying::search::Filters { folder, after, before, camera, types };
            cli::run_search(library_options(None)?, cli::SearchArgs { query, limit, json, filters, like, min_score })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Duplicates { threshold, json } => {
            existing_library()?;
            cli::duplicates(library_options(None)?, threshold, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor { json } => {
            let report = doctor::diagnose(model_dir.as_deref(), data_dir.as_deref(), &options);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_doctor(&report);
            }
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Embed { images, pixel_values, boxes, texts, walk, dense, budget, pad_to, json: _ } => {
            let model_dir = model_dir.context(
                "no model bundle: pass --model DIR or set XUNYING_MODEL\n没有模型包：请使用 --model 目录或设置 XUNYING_MODEL",
            )?;
            let model = Model::load(&model_dir, options)?;
            let request = cli::embed::EmbedRequest { images, pixel_values, boxes, texts, walk, dense, budget, pad_to };
            let report = cli::embed::embed(&model, &request)?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { command } => {
            cli::bench::run(command, model_dir.as_deref(), &options)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Models { command } => {
            let data_dir = data_dir.context(
                "no data directory: pass --data-dir DIR or set XUNYING_DATA_DIR\n没有数据目录：请使用 --data-dir 目录或设置 XUNYING_DATA_DIR",
            )?;
            let explicit_model = cli.model.clone().or_else(|| {
                std::env::var_os(xunying::config::MODEL_ENV).filter(|v| !v.is_empty()).map(PathBuf::from)
            });
            run_models(command, &data_dir, &options, explicit_model.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_models(
    command: ModelsCommand,
    data_dir: &std::path::Path,
    options: &ModelOptions,
    explicit_model: Option<&std::path::Path>,
) -> Result<()> {
    match command {
        ModelsCommand::List { json } => {
            let bundles = models::list(data_dir)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&bundles)?);
            } else {
                print_bundles(&bundles, data_dir);
            }
        }
        ModelsCommand::Install { source, name, activate, sha256, index } => {
            let install_options = models::InstallOptions { name, activate, sha256, index };
            let mut bar = InstallProgressBar::default();
            let result = models::install(data_dir, &source, &install_options, &mut |event| bar.show(event));
            bar.clear();
            let installed = result?;
            println!("Installed `{}` ({}) at {} / 已安装", installed.name, installed.model_id, installed.dir.display());
            if let Some(activation) = &installed.activation {
                let waiting = xunying::library::Library::adopt_model(data_dir, &activation.model_id)?;
                print_activation(activation, waiting);
            }
        }
        ModelsCommand::Verify { name } => {
            // A name with a path separator, or one that is a folder, is a bundle folder.
            let folder = match name.as_deref() {
                Some(name) if name.contains(['/', '\\']) || std::path::Path::new(name).is_dir() => Some(PathBuf::from(name)),
                Some(_) => None,
                None => explicit_model.map(std::path::Path::to_path_buf),
            };
            let verification = match folder {
                Some(folder) => models::verify_folder(&folder, options)?,
                None => models::verify(data_dir, name.as_deref(), options)?,
            };
            println!(
                "Verified `{}`: {} files match their checksums; text and image embeddings are unit vectors of {} values.\n已验证 `{}`：{} 个文件校验和一致，文本与图像嵌入均为 {} 维单位向量。",
                verification.name,
                verification.num_files_checked,
                verification.embed_dim,
                verification.name,
                verification.num_files_checked,
                verification.embed_dim
            );
        }
        ModelsCommand::Use { name } => {
            let activation = models::activate(data_dir, &name)?;
            let waiting = xunying::library::Library::adopt_model(data_dir, &activation.model_id)?;
            print_activation(&activation, waiting);
        }
        ModelsCommand::Remove { name, force } => {
            let removal = models::remove(data_dir, &name, force)?;
            println!("Removed `{}` / 已删除 `{}`", removal.name, removal.name);
            if removal.was_active {
                println!("No model bundle is active now. Activate one with `xunying models use NAME`.\n当前没有启用的模型包。请用 `xunying models use 名称` 启用一个。");
            }
        }
    }
    Ok(())
}

fn print_bundles(bundles: &[models::InstalledBundle], data_dir: &std::path::Path) {
    if bundles.is_empty() {
        println!(
            "No model bundles are installed in {}. Install one with `xunying models install SOURCE`.\n尚未安装模型包。请用 `xunying models install 来源` 安装。",
            config::models_dir(data_dir).display()
        );
        return;
    }
    for bundle in bundles {
        let active = if bundle.active { "*" } else { " " };
        let verified = if bundle.verified { "verified" } else { "unverified" };
        let describe = |value: &Option<String>| value.clone().unwrap_or_else(|| "?".to_string());
        println!(
            "{active} {:<28} {} {} {} {:>9.1} MB {verified:<10} {}",
            bundle.name,
            describe(&bundle.family),
            describe(&bundle.variant),
            describe(&bundle.precision),
            bundle.size_bytes as f64 / 1e6,
            describe(&bundle.model_id)
        );
        print_error(&bundle.error);
    }
    if bundles.iter().any(|bundle| !bundle.verified && bundle.error.is_none()) {
        println!(
            "unverified: the files match their checksums, but no test inference has run yet; `xunying models verify NAME` runs one.\n\
             unverified：文件与校验和一致，但尚未试运行推理；`xunying models verify 名称` 会试运行一次。"
        );
    }
}

fn print_activation(activation: &models::Activation, waiting: u64) {
    println!("Active model bundle: `{}` / 当前模型包：`{}`", activation.name, activation.name);
    if !activation.space_changed && waiting == 0 {
        return;
    }
    let previous = activation.previous_model_id.as_deref().unwrap_or("-");
    let current = &activation.model_id;
    if waiting > 0 {
        println!(
            "The embedding space changed ({previous} -> {current}): {waiting} photos will be embedded again on the next index run.\n嵌入空间已改变（{previous} -> {current}）：下次建立索引时将重新计算 {waiting} 张照片的嵌入。"
        );
    } else {
        println!("The embedding space changed ({previous} -> {current}).\n嵌入空间已改变（{previous} -> {current}）。");
    }
}

/// Draws install progress on stderr: a byte bar with speed and ETA while downloading,
/// one line per later step.
#[derive(Default)]
struct InstallProgressBar {
    bar: Option<indicatif::ProgressBar>,
}

impl InstallProgressBar {
    fn show(&mut self, event: models::InstallEvent) {
        use models::InstallEvent;
        match event {
            InstallEvent::DownloadStarted { url, resumed_from_bytes, total_bytes } => {
                let bar = match total_bytes {
                    Some(total) => indicatif::ProgressBar::new(total),
                    None => indicatif::ProgressBar::new_spinner(),
                };
                let template = "{msg}\n{wide_bar} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}";
                if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                    bar.set_style(style);
                }
                let verb = if resumed_from_bytes > 0 { "Resuming / 继续下载" } else { "Downloading / 正在下载" };
                bar.set_message(format!("{verb} {url}"));
                bar.set_position(resumed_from_bytes);
                bar.reset_eta();
                self.bar = Some(bar);
            }
            InstallEvent::DownloadProgress { received_bytes } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(received_bytes);
                }
            }
            InstallEvent::DownloadFinished => self.clear(),
            InstallEvent::CheckingArchive => eprintln!("Checking the archive's SHA-256 / 正在校验压缩文件"),
            InstallEvent::Unpacking => eprintln!("Unpacking / 正在解压"),
            InstallEvent::CheckingBundle => eprintln!("Checking the bundle's files / 正在校验模型包文件"),
        }
    }

    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
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
