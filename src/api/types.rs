//! Requests, responses and events of the API. Each type derives `serde` for the wire and
//! `ts_rs::TS` for the committed TypeScript bindings under `ui/src/bindings/`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Catalog id of a photo file, as search results, details and image routes use it.
pub type PhotoId = i64;

/// Filters that narrow every search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct SearchFilters {
    /// Only photos under this library folder (absolute path).
    pub folder: Option<String>,
    /// Only photos taken (else modified) on or after this date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub after: Option<String>,
    /// Only photos taken (else modified) on or before this date, in the same forms.
    pub before: Option<String>,
    /// Only photos whose camera make, model or lens contains this text.
    pub camera: Option<String>,
    /// Only these file extensions, such as `jpg` or `png`.
    pub types: Vec<String>,
}

/// A search by text, by a photo of the library ("more like this"), or both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct SearchQuery {
    /// Query text in Chinese or English.
    pub text: Option<String>,
    /// A photo of the library to find similar photos to.
    pub like_photo: Option<PhotoId>,
    /// Filters.
    pub filters: SearchFilters,
    /// Maximum results; 0 means the default of 200.
    pub limit: u32,
    /// Results below this score (0–1) are dropped; without it weak results are kept and marked.
    pub min_score: Option<f32>,
}

/// A box in pixels of the upright photo, with the probability that it matched.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct RegionBox {
    /// Left edge in pixels.
    pub x0: f32,
    /// Top edge in pixels.
    pub y0: f32,
    /// Right edge in pixels.
    pub x1: f32,
    /// Bottom edge in pixels.
    pub y1: f32,
    /// Match probability of the region, when it came from a search.
    pub score: Option<f32>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SearchHit {
    /// The photo.
    pub photo_id: PhotoId,
    /// Absolute path of the file.
    pub path: String,
    /// File name.
    pub name: String,
    /// Fused score, 0–1.
    pub score: f32,
    /// Whole-photo match probability, 0–1.
    pub photo_score: f32,
    /// Whether the score is below the weak-match threshold.
    pub weak: bool,
    /// The region that matched best, when regions contributed.
    pub region: Option<RegionBox>,
    /// Width of the upright photo in pixels.
    pub width: Option<u32>,
    /// Height of the upright photo in pixels.
    pub height: Option<u32>,
    /// Capture time from EXIF, such as `2024-05-01T09:30:00`.
    pub taken_at: Option<String>,
}

/// Search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SearchResults {
    /// Results, best first.
    pub hits: Vec<SearchHit>,
    /// Whether the text was longer than the model reads and was shortened.
    pub truncated: bool,
    /// Messages for the user, English line then Chinese line.
    pub notices: Vec<String>,
    /// Time the search took, in milliseconds.
    pub elapsed_ms: u32,
}

/// Everything the lightbox shows about one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PhotoDetail {
    /// The photo.
    pub photo_id: PhotoId,
    /// Absolute path of the file.
    pub path: String,
    /// File name.
    pub name: String,
    /// The library folder that contains it.
    pub folder: Option<String>,
    /// File size in bytes.
    pub size_bytes: u64,
    /// Width of the upright photo in pixels.
    pub width: Option<u32>,
    /// Height of the upright photo in pixels.
    pub height: Option<u32>,
    /// Image format, such as `jpeg`.
    pub format: Option<String>,
    /// Capture time from EXIF.
    pub taken_at: Option<String>,
    /// Modification time in milliseconds since the Unix epoch.
    pub modified_ms: i64,
    /// Camera maker.
    pub camera_make: Option<String>,
    /// Camera model.
    pub camera_model: Option<String>,
    /// Lens model.
    pub lens_model: Option<String>,
    /// Regions stored for the photo.
    pub regions: Vec<RegionBox>,
}

/// A rendering of a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ImageVariant {
    /// The grid thumbnail (320 px long edge).
    Thumb,
    /// The lightbox rendering (1280 px long edge).
    Large,
    /// The file itself, for formats a browser displays; others get the large rendering.
    Original,
}

/// Image bytes and their media type.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageData {
    /// Media type, such as `image/jpeg`.
    pub content_type: &'static str,
    /// The encoded image.
    pub bytes: Vec<u8>,
}

/// The way a library folder is kept up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FolderState {
    /// Followed through operating-system notifications.
    Watching,
    /// Scanned periodically because notifications could not be set up.
    Polling,
    /// The folder is missing, such as an unplugged drive; its photos are kept.
    Offline,
    /// Known but not watched yet, such as before the first scan.
    Idle,
}

/// A library folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FolderInfo {
    /// Absolute path.
    pub path: String,
    /// Its watch state.
    pub state: FolderState,
    /// Photo files catalogued under it.
    pub photos: u64,
}

/// A file that failed to index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FailedFile {
    /// The file.
    pub path: String,
    /// Why, English line then Chinese line.
    pub reason: String,
    /// Attempts since the file last changed.
    pub attempts: u32,
    /// Whether it is retried only after it changes.
    pub permanent: bool,
}

/// State of the background indexer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct IndexingProgress {
    /// Whether a scan or embedding run is in progress.
    pub running: bool,
    /// Whether the user paused indexing.
    pub paused: bool,
    /// The phase in progress: `scan`, `embed`, `rebuild_vectors`, `rebuild_keywords` or `thumbnails`.
    pub phase: Option<String>,
    /// Items finished in the phase.
    pub done: u64,
    /// Items in the phase, when known.
    pub total: Option<u64>,
    /// Items that failed in the phase.
    pub failed: u64,
    /// Throughput of the phase, in items per second.
    pub files_per_second: f64,
    /// Estimated seconds until the phase finishes.
    pub eta_seconds: Option<f64>,
    /// The file being worked on.
    pub current_file: Option<String>,
    /// The last error of the background work, English line then Chinese line.
    pub last_error: Option<String>,
}

/// The library screen's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LibraryStatus {
    /// Library folders.
    pub folders: Vec<FolderInfo>,
    /// Photo files.
    pub photos: u64,
    /// Distinct photo contents (duplicates counted once).
    pub distinct_photos: u64,
    /// Stored regions.
    pub regions: u64,
    /// Photos waiting to be embedded.
    pub pending: u64,
    /// The background indexer.
    pub indexing: IndexingProgress,
    /// Files that failed, with reasons.
    pub failures: Vec<FailedFile>,
    /// Embedding space of the stored vectors.
    pub model_id: Option<String>,
}

/// A progress update pushed to the UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProgressUpdate {
    /// The indexer's state changed.
    Indexing {
        /// The new state.
        progress: IndexingProgress,
    },
    /// A file failed; indexing goes on.
    FileFailed {
        /// The file.
        path: String,
        /// Why, English line then Chinese line.
        reason: String,
    },
    /// Photos were added, changed or removed, so open results may be stale.
    LibraryChanged {
        /// Photo files now catalogued.
        photos: u64,
    },
    /// A model install advanced.
    ModelInstall {
        /// `downloading`, `checking_archive`, `unpacking`, `checking_bundle`, `done` or `failed`.
        stage: String,
        /// Bytes received, while downloading.
        received_bytes: Option<u64>,
        /// Bytes of the whole archive, when known.
        total_bytes: Option<u64>,
        /// The error, when the stage is `failed`.
        error: Option<String>,
    },
}

/// The interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub enum Language {
    /// Follow the operating system (browser) language.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// Simplified Chinese.
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

/// The colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow the operating system.
    #[default]
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

/// User settings, stored as `settings.json` in the data directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Settings {
    /// Interface language.
    pub language: Language,
    /// Installed model bundle to use, by name; `None` keeps the bundle the server started with.
    pub model_bundle: Option<String>,
    /// Requested execution provider: `auto`, `cpu`, `cuda`, `tensorrt`, `directml` or `coreml`.
    pub device: String,
    /// Whether regions are proposed and embedded (needed for boxes).
    pub regions_enabled: bool,
    /// Maximum regions stored per photo.
    pub max_regions_per_photo: u32,
    /// Long edge of grid thumbnails as the UI draws them, in CSS pixels.
    pub thumbnail_size_px: u32,
    /// Colour theme.
    pub theme: Theme,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            language: Language::Auto,
            model_bundle: None,
            device: "auto".to_string(),
            regions_enabled: true,
            max_regions_per_photo: 16,
            thumbnail_size_px: 180,
            theme: Theme::System,
        }
    }
}

/// Settings and what the running backend made of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SettingsView {
    /// The stored settings.
    pub settings: Settings,
    /// The execution provider the loaded model runs on, such as `cpu` or `cuda`.
    pub device_in_use: Option<String>,
    /// Execution providers this ONNX Runtime offers.
    pub devices_available: Vec<String>,
    /// Whether a model bundle installed since start-up is used only after `xunying
    /// serve` (or the app) restarts. Settings changes apply at once.
    pub restart_required: bool,
}

/// An installed model bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelBundleInfo {
    /// Folder name under the data directory's `models/`.
    pub name: String,
    /// Embedding space id.
    pub model_id: Option<String>,
    /// Model variant, such as `base`.
    pub variant: Option<String>,
    /// Weight precision, such as `fp16`.
    pub precision: Option<String>,
    /// Size of the bundle's files in bytes.
    pub size_bytes: u64,
    /// Whether `verify` has passed since install.
    pub verified: bool,
    /// Whether it is the active bundle.
    pub active: bool,
    /// Reason the bundle is unusable, when it is.
    pub error: Option<String>,
}

/// The model screen's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelStatus {
    /// Whether a model is loaded, so that search and indexing work.
    pub installed: bool,
    /// Id of the loaded model.
    pub model_id: Option<String>,
    /// Bundle folder the loaded model came from.
    pub bundle_dir: Option<String>,
    /// The execution provider in use.
    pub device_in_use: Option<String>,
    /// Bundles installed in the data directory.
    pub bundles: Vec<ModelBundleInfo>,
}

/// A request to install a model bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelInstallRequest {
    /// A bundle folder, a `.tar`, `.tar.gz` or `.zip` archive, an http(s) URL, or a variant name.
    pub source: String,
    /// Expected SHA-256 of an archive, as 64 hex digits.
    pub sha256: Option<String>,
    /// Make the bundle active.
    pub activate: bool,
}

/// The result of checking a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelVerifyReport {
    /// Bundle name.
    pub name: String,
    /// Embedding space id.
    pub model_id: String,
    /// Files whose SHA-256 was checked.
    pub files_checked: u32,
}

/// A folder to add to or remove from the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FolderRequest {
    /// Absolute path of the folder.
    pub path: String,
}

/// Folder paths that complete what the user typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PathSuggestions {
    /// Folders, absolute, sorted.
    pub folders: Vec<String>,
}

/// Kinds of API errors, stable across versions so the UI can react to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorKind {
    /// The request is malformed or a value is invalid.
    InvalidInput,
    /// The photo, folder or bundle does not exist.
    NotFound,
    /// No model is installed, so search and indexing cannot run.
    NoModel,
    /// Another operation of the same kind is running.
    Busy,
    /// Something failed inside the backend.
    Internal,
}

/// An error as the UI receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ApiErrorBody {
    /// Kind of failure.
    pub kind: ApiErrorKind,
    /// English line, newline, Chinese line.
    pub message: String,
}

/// Renders every API type as one TypeScript module.
pub fn typescript_bindings() -> String {
    let config = ts_rs::Config::new().with_large_int("number");
    let declarations = [
        SearchFilters::decl(&config),
        SearchQuery::decl(&config),
        RegionBox::decl(&config),
        SearchHit::decl(&config),
        SearchResults::decl(&config),
        PhotoDetail::decl(&config),
        ImageVariant::decl(&config),
        FolderState::decl(&config),
        FolderInfo::decl(&config),
        FailedFile::decl(&config),
        IndexingProgress::decl(&config),
        LibraryStatus::decl(&config),
        ProgressUpdate::decl(&config),
        Language::decl(&config),
        Theme::decl(&config),
        Settings::decl(&config),
        SettingsView::decl(&config),
        ModelBundleInfo::decl(&config),
        ModelStatus::decl(&config),
        ModelInstallRequest::decl(&config),
        ModelVerifyReport::decl(&config),
        FolderRequest::decl(&config),
        PathSuggestions::decl(&config),
        ApiErrorKind::decl(&config),
        ApiErrorBody::decl(&config),
    ];
    let mut out = String::from(
        "// Generated from src/api/types.rs by `XUNYING_UPDATE_BINDINGS=1 cargo test api::`; do not edit.\n\n\
         export type PhotoId = number;\n",
    );
    for declaration in declarations {
        out.push('\n');
        out.push_str("export ");
        out.push_str(&declaration);
        out.push('\n');
    }
    out
}
