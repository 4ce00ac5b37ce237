// Generated from src/api/types.rs by `XUNYING_UPDATE_BINDINGS=1 cargo test api::`; do not edit.

export type PhotoId = number;

export type SearchFilters = { 
/**
 * Only photos under this library folder (absolute path).
 */
folder: string | null, 
/**
 * Only photos taken (else modified) on or after this date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
 */
after: string | null, 
/**
 * Only photos taken (else modified) on or before this date, in the same forms.
 */
before: string | null, 
/**
 * Only photos whose camera make, model or lens contains this text.
 */
camera: string | null, 
/**
 * Only these file extensions, such as `jpg` or `png`.
 */
types: Array<string>, };

export type SearchQuery = { 
/**
 * Query text in Chinese or English.
 */
text: string | null, 
/**
 * A photo of the library to find similar photos to.
 */
like_photo: number | null, 
/**
 * Filters.
 */
filters: SearchFilters, 
/**
 * Maximum results; 0 means the default of 200.
 */
limit: number, 
/**
 * Results below this score (0–1) are dropped; without it weak results are kept and marked.
 */
min_score: number | null, };

export type RegionBox = { 
/**
 * Left edge in pixels.
 */
x0: number, 
/**
 * Top edge in pixels.
 */
y0: number, 
/**
 * Right edge in pixels.
 */
x1: number, 
/**
 * Bottom edge in pixels.
 */
y1: number, 
/**
 * Match probability of the region, when it came from a search.
 */
score: number | null, };

export type SearchHit = { 
/**
 * The photo.
 */
photo_id: number, 
/**
 * Absolute path of the file.
 */
path: string, 
/**
 * File name.
 */
name: string, 
/**
 * Fused score, 0–1.
 */
score: number, 
/**
 * Whole-photo match probability, 0–1.
 */
photo_score: number, 
/**
 * Whether the score is below the weak-match threshold.
 */
weak: boolean, 
/**
 * The region that matched best, when regions contributed.
 */
region: RegionBox | null, 
/**
 * Width of the upright photo in pixels.
 */
width: number | null, 
/**
 * Height of the upright photo in pixels.
 */
height: number | null, 
/**
 * Capture time from EXIF, such as `2024-05-01T09:30:00`.
 */
taken_at: string | null, };

export type SearchResults = { 
/**
 * Results, best first.
 */
hits: Array<SearchHit>, 
/**
 * Whether the text was longer than the model reads and was shortened.
 */
truncated: boolean, 
/**
 * Messages for the user, English line then Chinese line.
 */
notices: Array<string>, 
/**
 * Time the search took, in milliseconds.
 */
elapsed_ms: number, };

export type PhotoDetail = { 
/**
 * The photo.
 */
photo_id: number, 
/**
 * Absolute path of the file.
 */
path: string, 
/**
 * File name.
 */
name: string, 
/**
 * The library folder that contains it.
 */
folder: string | null, 
/**
 * File size in bytes.
 */
size_bytes: number, 
/**
 * Width of the upright photo in pixels.
 */
width: number | null, 
/**
 * Height of the upright photo in pixels.
 */
height: number | null, 
/**
 * Image format, such as `jpeg`.
 */
format: string | null, 
/**
 * Capture time from EXIF.
 */
taken_at: string | null, 
/**
 * Modification time in milliseconds since the Unix epoch.
 */
modified_ms: number, 
/**
 * Camera maker.
 */
camera_make: string | null, 
/**
 * Camera model.
 */
camera_model: string | null, 
/**
 * Lens model.
 */
lens_model: string | null, 
/**
 * Regions stored for the photo.
 */
regions: Array<RegionBox>, };

export type ImageVariant = "thumb" | "large" | "original";

export type FolderState = "watching" | "polling" | "offline" | "idle";

export type FolderInfo = { 
/**
 * Absolute path.
 */
path: string, 
/**
 * Its watch state.
 */
state: FolderState, 
/**
 * Photo files catalogued under it.
 */
photos: number, };

export type FailedFile = { 
/**
 * The file.
 */
path: string, 
/**
 * Why, English line then Chinese line.
 */
reason: string, 
/**
 * Attempts since the file last changed.
 */
attempts: number, 
/**
 * Whether it is retried only after it changes.
 */
permanent: boolean, };

export type IndexingProgress = { 
/**
 * Whether a scan or embedding run is in progress.
 */
running: boolean, 
/**
 * Whether the user paused indexing.
 */
paused: boolean, 
/**
 * The phase in progress: `scan`, `embed`, `rebuild_vectors`, `rebuild_keywords` or `thumbnails`.
 */
phase: string | null, 
/**
 * Items finished in the phase.
 */
done: number, 
/**
 * Items in the phase, when known.
 */
total: number | null, 
/**
 * Items that failed in the phase.
 */
failed: number, 
/**
 * Throughput of the phase, in items per second.
 */
files_per_second: number, 
/**
 * Estimated seconds until the phase finishes.
 */
eta_seconds: number | null, 
/**
 * The file being worked on.
 */
current_file: string | null, 
/**
 * The last error of the background work, English line then Chinese line.
 */
last_error: string | null, };

export type LibraryStatus = { 
/**
 * Library folders.
 */
folders: Array<FolderInfo>, 
/**
 * Photo files.
 */
photos: number, 
/**
 * Distinct photo contents (duplicates counted once).
 */
distinct_photos: number, 
/**
 * Stored regions.
 */
regions: number, 
/**
 * Photos waiting to be embedded.
 */
pending: number, 
/**
 * The background indexer.
 */
indexing: IndexingProgress, 
/**
 * Files that failed, with reasons.
 */
failures: Array<FailedFile>, 
/**
 * Embedding space of the stored vectors.
 */
model_id: string | null, };

export type ProgressUpdate = { "kind": "indexing", 
/**
 * The new state.
 */
progress: IndexingProgress, } | { "kind": "file_failed", 
/**
 * The file.
 */
path: string, 
/**
 * Why, English line then Chinese line.
 */
reason: string, } | { "kind": "library_changed", 
/**
 * Photo files now catalogued.
 */
photos: number, } | { "kind": "model_install", 
/**
 * `downloading`, `checking_archive`, `unpacking`, `checking_bundle`, `done` or `failed`.
 */
stage: string, 
/**
 * Bytes received, while downloading.
 */
received_bytes: number | null, 
/**
 * Bytes of the whole archive, when known.
 */
total_bytes: number | null, 
/**
 * The error, when the stage is `failed`.
 */
error: string | null, };

export type Language = "auto" | "zh-CN" | "en";

export type Theme = "system" | "light" | "dark";

export type Settings = { 
/**
 * Interface language.
 */
language: Language, 
/**
 * Installed model bundle to use, by name; `None` keeps the bundle the server started with.
 */
model_bundle: string | null, 
/**
 * Requested execution provider: `auto`, `cpu`, `cuda`, `tensorrt`, `directml` or `coreml`.
 */
device: string, 
/**
 * Whether regions are proposed and embedded (needed for boxes).
 */
regions_enabled: boolean, 
/**
 * Maximum regions stored per photo.
 */
max_regions_per_photo: number, 
/**
 * Long edge of grid thumbnails as the UI draws them, in CSS pixels.
 */
thumbnail_size_px: number, 
/**
 * Colour theme.
 */
theme: Theme, };

export type SettingsView = { 
/**
 * The stored settings.
 */
settings: Settings, 
/**
 * The execution provider the loaded model runs on, such as `cpu` or `cuda`.
 */
device_in_use: string | null, 
/**
 * Execution providers this ONNX Runtime offers.
 */
devices_available: Array<string>, 
/**
 * Whether a model bundle installed since start-up is used only after `xunying
 * serve` (or the app) restarts. Settings changes apply at once.
 */
restart_required: boolean, };

export type ModelBundleInfo = { 
/**
 * Folder name under the data directory's `models/`.
 */
name: string, 
/**
 * Embedding space id.
 */
model_id: string | null, 
/**
 * Model variant, such as `base`.
 */
variant: string | null, 
/**
 * Weight precision, such as `fp16`.
 */
precision: string | null, 
/**
 * Size of the bundle's files in bytes.
 */
size_bytes: number, 
/**
 * Whether `verify` has passed since install.
 */
verified: boolean, 
/**
 * Whether it is the active bundle.
 */
active: boolean, 
/**
 * Reason the bundle is unusable, when it is.
 */
error: string | null, };

export type ModelStatus = { 
/**
 * Whether a model is loaded, so that search and indexing work.
 */
installed: boolean, 
/**
 * Id of the loaded model.
 */
model_id: string | null, 
/**
 * Bundle folder the loaded model came from.
 */
bundle_dir: string | null, 
/**
 * The execution provider in use.
 */
device_in_use: string | null, 
/**
 * Bundles installed in the data directory.
 */
bundles: Array<ModelBundleInfo>, };

export type ModelInstallRequest = { 
/**
 * A bundle folder, a `.tar`, `.tar.gz` or `.zip` archive, an http(s) URL, or a variant name.
 */
source: string, 
/**
 * Expected SHA-256 of an archive, as 64 hex digits.
 */
sha256: string | null, 
/**
 * Make the bundle active.
 */
activate: boolean, };

export type ModelVerifyReport = { 
/**
 * Bundle name.
 */
name: string, 
/**
 * Embedding space id.
 */
model_id: string, 
/**
 * Files whose SHA-256 was checked.
 */
files_checked: number, };

export type FolderRequest = { 
/**
 * Absolute path of the folder.
 */
path: string, };

export type PathSuggestions = { 
/**
 * Folders, absolute, sorted.
 */
folders: Array<string>, };

export type ApiErrorKind = "invalid_input" | "not_found" | "no_model" | "busy" | "internal";

export type ApiErrorBody = { 
/**
 * Kind of failure.
 */
kind: ApiErrorKind, 
/**
 * English line, newline, Chinese line.
 */
message: string, };
