//! The service: one opened library and model behind the API's methods. Every method is
//! blocking and safe to call from several threads; async front ends run them on a
//! blocking pool.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::broadcast;

use super::convert::{detail_from_row, hit_from_result, search_request};
use super::error::ApiError;
use super::types::*;
use super::worker::{self, IndexerState};
use crate::catalog::{Catalog, FileId, FolderState as CatalogFolderState};
use crate::imaging::{self, THUMB_LARGE_EDGE_PX, THUMB_SMALL_EDGE_PX};
use crate::library::progress::NullSink;
use crate::library::{DataPaths, Library, LibraryOptions};
use crate::library::watch::WatchMode;
use crate::model::{available_providers, Device};
use crate::regions::RegionConfig;
use crate::{config, models, search};

/// File name of the settings inside the data directory.
pub const SETTINGS_FILE: &str = "settings.json";
/// Results a search returns when the query names no limit.
pub const DEFAULT_SEARCH_LIMIT: u32 = 200;
/// The largest result count a query may ask for.
pub const MAX_SEARCH_LIMIT: u32 = 100_000;
/// Maximum folder suggestions returned for one prefix.
const MAX_SUGGESTIONS: usize = 20;

/// The API over one library. Cloning is cheap and shares the library.
#[derive(Clone)]
pub struct Service {
    pub(super) shared: Arc<Shared>,
}

pub(super) struct Shared {
    /// The library; searches and the background indexer take turns on it.
    pub(super) library: Mutex<Library>,
    /// A second, read-only connection for status, details and images, so that they do
    /// not wait for an indexing run.
    reader: Mutex<Catalog>,
    /// Library options as given, before settings were applied.
    base_options: LibraryOptions,
    settings: Mutex<Settings>,
    pub(super) indexer: Mutex<IndexerState>,
    /// Wakes the background indexer: folders changed, indexing resumed, or shutdown.
    pub(super) wake: Condvar,
    /// Set to stop an indexing run after the batch in flight.
    pub(super) preempt: AtomicBool,
    /// Searches waiting for the library; the indexer lets them go first.
    pub(super) waiting: AtomicUsize,
    pub(super) events: broadcast::Sender<ProgressUpdate>,
    installing: AtomicBool,
    restart_required: AtomicBool,
}

impl Service {
    /// Opens the library in `options.data_dir`, applying the stored settings (model
    /// bundle, device, regions) on top of `options`.
    pub fn open(options: LibraryOptions) -> Result<Service, ApiError> {
        let settings = load_settings(&options.data_dir);
        let effective = apply_settings(&options, &settings);
        let library = Library::open(effective)?;
        let reader = Catalog::open_read_only(&library.paths().catalog())?;
        let (events, _) = broadcast::channel(256);
        let shared = Shared {
            library: Mutex::new(library),
            reader: Mutex::new(reader),
            base_options: options,
            settings: Mutex::new(settings),
            indexer: Mutex::new(IndexerState::default()),
            wake: Condvar::new(),
            preempt: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            events,
            installing: AtomicBool::new(false),
            restart_required: AtomicBool::new(false),
        };
        Ok(Service { shared: Arc::new(shared) })
    }

    /// Starts indexing and watching the library's folders on a background thread. The
    /// thread stops when the returned handle is dropped.
    pub fn start_background(&self) -> worker::BackgroundHandle {
        worker::start(self.clone())
    }

    /// Receives progress updates from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ProgressUpdate> {
        self.shared.events.subscribe()
    }

    /// Runs a search by text, by a library photo, or both.
    pub fn search(&self, query: &SearchQuery) -> Result<SearchResults, ApiError> {
        let like = match query.like_photo {
            Some(id) => Some(PathBuf::from(self.photo_row(id)?.path)),
            None => None,
        };
        self.run_search(query, like)
    }

    /// Runs a search by an example photo that is not in the library, given as the bytes
    /// of an image file. Text and filters of `query` apply too.
    pub fn search_by_image(&self, image: &[u8], query: &SearchQuery) -> Result<SearchResults, ApiError> {
        imaging::decode_bytes(image, &self.shared.base_options.decode_limits).map_err(|error| {
            tracing::info!(%error, "rejected an uploaded example photo");
            ApiError::InvalidInput(upload_error(&error).to_string())
        })?;
        let folder = self.shared.base_options.data_dir.join("tmp");
        std::fs::create_dir_all(&folder).map_err(|source| ApiError::StoreExample { path: folder.clone(), source })?;
        let mut file = tempfile::Builder::new()
            .prefix("example-")
            .tempfile_in(&folder)
            .map_err(|source| ApiError::StoreExample { path: folder.clone(), source })?;
        std::io::Write::write_all(&mut file, image).map_err(|source| ApiError::StoreExample { path: folder.clone(), source })?;
        self.run_search(query, Some(file.path().to_path_buf()))
    }

    fn run_search(&self, query: &SearchQuery, like: Option<PathBuf>) -> Result<SearchResults, ApiError> {
        let started = Instant::now();
        let request = search_request(query, like)?;
        let response = {
            let mut library = self.lock_library_first();
            search::search(&mut library, &request)?
        };
        Ok(SearchResults {
            hits: response.results.iter().map(hit_from_result).collect(),
            truncated: response.truncated,
            notices: response.notices,
            elapsed_ms: started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32,
        })
    }

    /// Details of one photo: path, date, camera, size and stored regions.
    pub fn photo(&self, id: PhotoId) -> Result<PhotoDetail, ApiError> {
        let row = self.photo_row(id)?;
        let reader = self.lock_reader();
        let regions = reader.region_embeddings_for_content(row.content_id)?;
        let folder = reader.folders()?.into_iter().find(|f| Path::new(&row.path).starts_with(&f.path)).map(|f| path_text(&f.path));
        Ok(detail_from_row(&row, folder, regions.iter().map(|r| r.region.region_box)))
    }

    /// Reads one rendering of a photo. Photos are reached only through their catalog
    /// id, and the original is sent only while it is a regular file (not a link) under
    /// a library folder.
    pub fn image(&self, id: PhotoId, variant: ImageVariant) -> Result<ImageData, ApiError> {
        let row = self.photo_row(id)?;
        if variant == ImageVariant::Original {
            if let Some(content_type) = browser_image_type(&row.path) {
                let path = self.servable_original(id, &row.path)?;
                let bytes = std::fs::read(&path).map_err(|_| ApiError::PhotoUnavailable { id, path: row.path.clone() })?;
                return Ok(ImageData { content_type, bytes });
            }
        }
        let edge = if variant == ImageVariant::Thumb { THUMB_SMALL_EDGE_PX } else { THUMB_LARGE_EDGE_PX };
        let path = DataPaths::new(&self.shared.base_options.data_dir).thumbnail(&row.hash, edge);
        if let Ok(bytes) = std::fs::read(&path) {
            return Ok(ImageData { content_type: "image/jpeg", bytes });
        }
        self.render_thumbnail(id, &row.path, &path, edge)
    }

    /// Makes a missing thumbnail from the original, as ingest would have.
    fn render_thumbnail(&self, id: PhotoId, source: &str, target: &Path, edge: u32) -> Result<ImageData, ApiError> {
        let source = self.servable_original(id, source)?;
        let bytes = std::fs::read(&source)
            .map_err(|source_error| ApiError::Render { id, reason: imaging::ImagingError::Io { path: source.clone(), source: source_error }.to_string() })?;
        let needed = |full_size| imaging::thumbnail_size(full_size, edge);
        let decoded = imaging::decode_file_bytes_reduced(&bytes, &source, &self.shared.base_options.decode_limits, &needed)
            .map_err(|e| ApiError::Render { id, reason: e.to_string() })?;
        let thumb = imaging::thumbnail(&decoded.rgb, edge);
        if let Some(parent) = target.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        imaging::write_jpeg_atomic(&thumb, target, 85).map_err(|e| ApiError::Render { id, reason: e.to_string() })?;
        let bytes = std::fs::read(target).map_err(|e| ApiError::Render { id, reason: e.to_string() })?;
        Ok(ImageData { content_type: "image/jpeg", bytes })
    }

    /// Checks that a catalogued path may be read: a regular file, not a symbolic link,
    /// whose canonical path lies under a library folder.
    fn servable_original(&self, id: PhotoId, path: &str) -> Result<PathBuf, ApiError> {
        let unavailable = || ApiError::PhotoUnavailable { id, path: path.to_string() };
        let metadata = std::fs::symlink_metadata(path).map_err(|_| unavailable())?;
        if !metadata.file_type().is_file() {
            return Err(unavailable());
        }
        let canonical = Path::new(path).canonicalize().map_err(|_| unavailable())?;
        let folders = self.lock_reader().folders()?;
        let inside = folders
            .iter()
            .filter(|f| f.state != CatalogFolderState::Removed)
            .any(|f| f.path.canonicalize().is_ok_and(|root| canonical.starts_with(root)));
        if inside { Ok(canonical) } else { Err(unavailable()) }
    }

    fn photo_row(&self, id: PhotoId) -> Result<crate::catalog::PhotoRow, ApiError> {
        let rows = self.lock_reader().photos_for_files(&[FileId(id)])?;
        rows.into_iter().next().ok_or(ApiError::PhotoNotFound(id))
    }

    /// Folders with their state, counts, indexing progress and failed files.
    pub fn status(&self) -> Result<LibraryStatus, ApiError> {
        let modes = self.lock_indexer().folder_modes.clone();
        let reader = self.lock_reader();
        let stats = reader.stats()?;
        let mut folders = Vec::new();
        for folder in reader.folders()?.into_iter().filter(|f| f.state != CatalogFolderState::Removed) {
            let photos = reader.count_files_in_folder(folder.id)?;
            let state = if folder.state == CatalogFolderState::Offline || !folder.path.is_dir() {
                FolderState::Offline
            } else {
                match modes.iter().find(|(path, _)| *path == folder.path).map(|(_, mode)| *mode) {
                    Some(WatchMode::Watching) => FolderState::Watching,
                    Some(WatchMode::Polling) => FolderState::Polling,
                    Some(WatchMode::Offline) => FolderState::Offline,
                    None => FolderState::Idle,
                }
            };
            folders.push(FolderInfo { path: path_text(&folder.path), state, photos });
        }
        let failures = reader
            .failures()?
            .into_iter()
            .map(|f| FailedFile { path: f.path, reason: f.reason, attempts: f.attempts, permanent: f.permanent })
            .collect();
        Ok(LibraryStatus {
            folders,
            photos: stats.files,
            distinct_photos: stats.contents,
            regions: stats.regions,
            pending: stats.pending,
            indexing: self.lock_indexer().progress.clone(),
            failures,
            model_id: reader.active_model()?,
        })
    }

    /// Adds a folder to the library; the background indexer scans it next.
    pub fn add_folder(&self, path: &str) -> Result<LibraryStatus, ApiError> {
        let folder = PathBuf::from(path.trim());
        if !folder.is_absolute() {
            return Err(ApiError::RelativePath(path.to_string()));
        }
        if folder.exists() && !folder.is_dir() {
            return Err(ApiError::Library(crate::library::LibraryError::NotAFolder(path.to_string())));
        }
        if !folder.is_dir() {
            return Err(ApiError::FolderNotFound(path.to_string()));
        }
        self.lock_library_first().add_folder(&folder)?;
        self.request_full_index();
        self.status()
    }

    /// Removes a library folder; its photos leave the indexes. Files stay on disk.
    pub fn remove_folder(&self, path: &str) -> Result<LibraryStatus, ApiError> {
        let removed = self.lock_library_first().remove_folder(Path::new(path.trim()), &NullSink)?;
        if !removed {
            return Err(ApiError::FolderNotInLibrary(path.to_string()));
        }
        self.request_full_index();
        self.notify_library_changed();
        self.status()
    }

    /// Folders whose absolute path starts with `prefix`, for the path field: the
    /// subfolders of `prefix` when it ends with a separator, else the siblings that
    /// complete its last component. Hidden folders are left out unless the typed
    /// component starts with a dot.
    pub fn suggest_folders(&self, prefix: &str) -> PathSuggestions {
        PathSuggestions { folders: suggest_folders(prefix, MAX_SUGGESTIONS) }
    }

    /// Stops indexing after the batch in flight; what was committed is kept.
    pub fn pause_indexing(&self) {
        self.lock_indexer().progress.paused = true;
        self.shared.preempt.store(true, Ordering::SeqCst);
        self.publish_progress();
    }

    /// Resumes indexing with a fresh scan of every folder.
    pub fn resume_indexing(&self) {
        self.lock_indexer().progress.paused = false;
        self.request_full_index();
        self.publish_progress();
    }

    /// Returns the stored settings and the device the model runs on.
    pub fn settings(&self) -> SettingsView {
        let settings = self.lock_settings().clone();
        let device_in_use = self.lock_library_first().model().and_then(|m| m.device_used()).map(|d| d.as_str().to_string());
        SettingsView {
            settings,
            device_in_use,
            devices_available: available_providers(),
            restart_required: self.shared.restart_required.load(Ordering::SeqCst),
        }
    }

    /// Validates, applies and stores settings. A change of model bundle, device or
    /// regions reconfigures the open library: the indexer pauses after its batch in
    /// flight, and the new model loads. A bundle that fails to load changes nothing, and
    /// the settings are then not stored. A full pass follows, which embeds every photo
    /// again when the embedding space changed.
    pub fn update_settings(&self, settings: Settings) -> Result<SettingsView, ApiError> {
        settings.device.parse::<Device>().map_err(|e| ApiError::InvalidInput(e.to_string()))?;
        if let Some(name) = &settings.model_bundle {
            models::validate_name(name)?;
            if !config::models_dir(&self.shared.base_options.data_dir).join(name).is_dir() {
                return Err(ApiError::InvalidInput(format!("model bundle `{name}` is not installed / 未安装模型包 `{name}`")));
            }
        }
        if !(1..=256).contains(&settings.max_regions_per_photo) {
            return Err(ApiError::InvalidInput("regions per photo must be 1–256 / 每张照片的区域数必须在 1–256 之间".to_string()));
        }
        if !(64..=512).contains(&settings.thumbnail_size_px) {
            return Err(ApiError::InvalidInput("thumbnail size must be 64–512 px / 缩略图尺寸必须在 64–512 像素之间".to_string()));
        }
        let path = self.shared.base_options.data_dir.join(SETTINGS_FILE);
        let text = serde_json::to_string_pretty(&settings).map_err(|e| ApiError::InvalidInput(e.to_string()))?;

        let mut stored = self.lock_settings();
        let engine_changed = stored.model_bundle != settings.model_bundle
            || stored.device != settings.device
            || stored.regions_enabled != settings.regions_enabled
            || stored.max_regions_per_photo != settings.max_regions_per_photo;
        if engine_changed {
            let effective = apply_settings(&self.shared.base_options, &settings);
            let started = Instant::now();
            self.lock_library_first().reconfigure(effective)?;
            tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "applied model, device and region settings");
            self.shared.restart_required.store(false, Ordering::SeqCst);
        }
        write_atomic(&path, text.as_bytes()).map_err(|source| ApiError::SaveSettings { path: path.clone(), source })?;
        *stored = settings;
        drop(stored);
        if engine_changed {
            self.request_full_index();
        }
        Ok(self.settings())
    }

    /// Returns the loaded model and the installed bundles.
    pub fn model_status(&self) -> Result<ModelStatus, ApiError> {
        let (model_id, device_in_use, bundle_dir) = {
            let library = self.lock_library_first();
            let model = library.model();
            (
                model.map(|m| m.model_id().to_string()),
                model.and_then(|m| m.device_used()).map(|d| d.as_str().to_string()),
                library.options().model_dir.as_deref().map(path_text),
            )
        };
        let bundles = models::list(&self.shared.base_options.data_dir)?
            .into_iter()
            .map(|b| ModelBundleInfo {
                name: b.name,
                model_id: b.model_id,
                variant: b.variant,
                precision: b.precision,
                size_bytes: b.size_bytes,
                verified: b.verified,
                active: b.active,
                error: b.error,
            })
            .collect();
        Ok(ModelStatus { installed: model_id.is_some(), model_id, bundle_dir, device_in_use, bundles })
    }

    /// Installs a model bundle, sending its stages as [`ProgressUpdate::ModelInstall`].
    /// The new bundle is used after the service is opened again.
    pub fn install_model(&self, request: &ModelInstallRequest) -> Result<ModelBundleInfo, ApiError> {
        if self.shared.installing.swap(true, Ordering::SeqCst) {
            return Err(ApiError::InstallRunning);
        }
        let options = models::InstallOptions { name: None, activate: request.activate, sha256: request.sha256.clone(), index: None };
        let events = self.shared.events.clone();
        let mut progress = |event: models::InstallEvent| {
            let _ = events.send(worker::install_update(&event));
        };
        let result = models::install(&self.shared.base_options.data_dir, &request.source, &options, &mut progress);
        self.shared.installing.store(false, Ordering::SeqCst);
        let stage = |stage: &str, error: Option<String>| ProgressUpdate::ModelInstall {
            stage: stage.to_string(),
            received_bytes: None,
            total_bytes: None,
            error,
        };
        match result {
            Ok(installed) => {
                let _ = self.shared.events.send(stage("done", None));
                self.shared.restart_required.store(true, Ordering::SeqCst);
                let active = installed.activation.is_some();
                Ok(ModelBundleInfo {
                    name: installed.name,
                    model_id: Some(installed.model_id),
                    variant: Some(installed.variant),
                    precision: Some(installed.precision),
                    size_bytes: installed.size_bytes,
                    verified: true,
                    active,
                    error: None,
                })
            }
            Err(error) => {
                let _ = self.shared.events.send(stage("failed", Some(error.to_string())));
                Err(error.into())
            }
        }
    }

    /// Checks a bundle's file hashes and runs one text and one image through it on the
    /// CPU; `None` checks the active bundle.
    pub fn verify_model(&self, name: Option<&str>) -> Result<ModelVerifyReport, ApiError> {
        let options = self.shared.base_options.model_options.clone();
        let report = models::verify(&self.shared.base_options.data_dir, name, &options)?;
        Ok(ModelVerifyReport { name: report.name, model_id: report.model_id, files_checked: report.num_files_checked as u32 })
    }

    /// Asks the background indexer for a scan of every folder.
    fn request_full_index(&self) {
        self.lock_indexer().full_index_requested = true;
        self.shared.wake.notify_all();
    }

    pub(super) fn notify_library_changed(&self) {
        if let Ok(stats) = self.lock_reader().stats() {
            let _ = self.shared.events.send(ProgressUpdate::LibraryChanged { photos: stats.files });
        }
    }

    pub(super) fn publish_progress(&self) {
        let progress = self.lock_indexer().progress.clone();
        let _ = self.shared.events.send(ProgressUpdate::Indexing { progress });
    }

    /// Locks the library ahead of the background indexer: a run in flight stops after
    /// its current batch and starts again once the lock is free.
    fn lock_library_first(&self) -> MutexGuard<'_, Library> {
        self.shared.waiting.fetch_add(1, Ordering::SeqCst);
        self.shared.preempt.store(true, Ordering::SeqCst);
        let guard = self.lock_library();
        self.shared.waiting.fetch_sub(1, Ordering::SeqCst);
        guard
    }

    pub(super) fn lock_library(&self) -> MutexGuard<'_, Library> {
        self.shared.library.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_reader(&self) -> MutexGuard<'_, Catalog> {
        self.shared.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn lock_indexer(&self) -> MutexGuard<'_, IndexerState> {
        self.shared.indexer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_settings(&self) -> MutexGuard<'_, Settings> {
        self.shared.settings.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Returns the data directory.
    pub fn data_dir(&self) -> &Path {
        &self.shared.base_options.data_dir
    }
}

/// Reads `settings.json`; a missing or unreadable file gives the defaults.
fn load_settings(data_dir: &Path) -> Settings {
    let path = data_dir.join(SETTINGS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|error| {
            tracing::warn!(path = %path.display(), %error, "settings file is invalid; using defaults");
            Settings::default()
        }),
        Err(_) => Settings::default(),
    }
}

/// Applies the stored model bundle, device and region settings to library options. A
/// bundle that the settings name but that is not installed is ignored.
fn apply_settings(options: &LibraryOptions, settings: &Settings) -> LibraryOptions {
    let mut effective = options.clone();
    if let Some(name) = &settings.model_bundle {
        let dir = config::models_dir(&options.data_dir).join(name);
        if models::validate_name(name).is_ok() && dir.is_dir() {
            effective.model_dir = Some(dir);
        } else {
            tracing::warn!(bundle = %name, "the model bundle in the settings is not installed; keeping the default");
        }
    }
    if settings.device != "auto" {
        if let Ok(device) = settings.device.parse::<Device>() {
            effective.model_options.device = device;
        }
    }
    effective.regions = if settings.regions_enabled {
        let mut regions = options.regions.clone().unwrap_or_else(RegionConfig::default);
        regions.max_regions = settings.max_regions_per_photo.max(1) as usize;
        Some(regions)
    } else {
        None
    };
    effective
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let mut file = tempfile::NamedTempFile::new_in(parent)?;
    std::io::Write::write_all(&mut file, bytes)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Returns, in both languages, why an uploaded example photo cannot be used. The decoder's
/// own message names the file `<memory>`, which means nothing to the user.
fn upload_error(error: &imaging::ImagingError) -> &'static str {
    match error.kind() {
        "empty" => "The uploaded photo is empty.\n上传的照片是空的。",
        "not_an_image" => "The uploaded file is not an image.\n上传的文件不是图片。",
        "unsupported" => "The uploaded photo is in a format Xunying does not read.\n寻影不能读取上传照片的格式。",
        "too_large" => "The uploaded photo is too large to decode.\n上传的照片太大，无法解码。",
        "truncated" => "The uploaded photo is cut short: only part of the picture is there.\n上传的照片不完整，只有部分画面。",
        _ => "The uploaded photo is damaged and cannot be decoded.\n上传的照片已损坏，无法解码。",
    }
}

/// Media type of formats every current browser displays, by file extension.
fn browser_image_type(path: &str) -> Option<&'static str> {
    let extension = Path::new(path).extension()?.to_string_lossy().to_ascii_lowercase();
    match extension.as_str() {
        "jpg" | "jpeg" | "jpe" | "mpo" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        "bmp" => Some("image/bmp"),
        "avif" => Some("image/avif"),
        _ => None,
    }
}

pub(super) fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn suggest_folders(prefix: &str, max: usize) -> Vec<String> {
    let typed = PathBuf::from(prefix);
    if prefix.is_empty() || !typed.is_absolute() {
        return Vec::new();
    }
    let ends_with_separator = prefix.ends_with(std::path::MAIN_SEPARATOR) || prefix.ends_with('/');
    let (parent, partial) = if ends_with_separator {
        (typed.clone(), String::new())
    } else {
        let parent = typed.parent().map(Path::to_path_buf).unwrap_or_else(|| typed.clone());
        let partial = typed.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        (parent, partial)
    };
    let Ok(entries) = std::fs::read_dir(&parent) else { return Vec::new() };
    let partial_lower = partial.to_lowercase();
    let mut folders: Vec<String> = entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let hidden = name.starts_with('.') && !partial.starts_with('.');
            (!hidden && name.to_lowercase().starts_with(&partial_lower)).then(|| path_text(&entry.path()))
        })
        .collect();
    folders.sort();
    folders.truncate(max);
    folders
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_complete_last_component() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["Photos 2024", "photos#old", "Music", ".hidden", "照片"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("photo.jpg"), b"x").unwrap();
        let root = path_text(dir.path());

        let found = suggest_folders(&format!("{root}/pho"), 20);
        assert_eq!(found, vec![format!("{root}/Photos 2024"), format!("{root}/photos#old")]);

        let all = suggest_folders(&format!("{root}/"), 20);
        assert_eq!(all.len(), 4, "hidden folders and files are left out: {all:?}");
        assert!(all.contains(&format!("{root}/照片")));

        let hidden = suggest_folders(&format!("{root}/.h"), 20);
        assert_eq!(hidden, vec![format!("{root}/.hidden")]);
    }

    #[test]
    fn suggestions_need_absolute_prefix() {
        assert!(suggest_folders("photos", 20).is_empty());
        assert!(suggest_folders("", 20).is_empty());
        assert!(suggest_folders("/no/such/folder/x", 20).is_empty());
    }

    #[test]
    fn browser_types_by_extension() {
        assert_eq!(browser_image_type("/a/b.JPG"), Some("image/jpeg"));
        assert_eq!(browser_image_type("/a/b.heic"), None);
        assert_eq!(browser_image_type("/a/noext"), None);
    }
}
