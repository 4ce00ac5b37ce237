//! The library: photo folders kept indexed. It scans folders, watches them, runs the
//! ingest pipeline (decode, embed, regions, commit) and keeps the derived vector and
//! keyword indexes in step with the catalog. Progress goes through a sink.
//!
//! The catalog is the single source of truth. The vector and keyword indexes record the
//! catalog generation they reflect; one that is missing, damaged or behind is rebuilt
//! from the catalog when the library opens.

mod derived;
mod ingest;
pub mod paths;
pub mod plan;
pub mod progress;
pub mod scan;
pub mod timing;
pub mod watch;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::catalog::{Catalog, CatalogError, CatalogOp, FileRecord, FolderState};
use crate::imaging::{self, DecodeLimits};
use crate::keywords::KeywordError;
use crate::model::{Model, ModelError, ModelOptions};
use crate::regions::{RegionConfig, RegionError, RegionExtractor};
use crate::vectors::{VectorError, VectorKind};

pub use derived::DerivedIndexes;
pub use paths::DataPaths;
use plan::{path_string, plan_scope, PlanCounts};
use progress::{Phase, PhaseTracker, ProgressSink};
use timing::{Stage, StageClock, StageTimes};

/// Errors of library operations.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The model failed to load.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A vector index failed.
    #[error(transparent)]
    Vectors(#[from] VectorError),
    /// The keyword index failed.
    #[error(transparent)]
    Keywords(#[from] KeywordError),
    /// The region detector failed to load.
    #[error(transparent)]
    Regions(#[from] RegionError),
    /// No model bundle is configured.
    #[error(
        "No model bundle is set. Pass --model DIR, set XUNYING_MODEL, or install one with `xunying models install`.\n\
         未设置模型包。请使用 --model 目录、设置 XUNYING_MODEL，或用 `xunying models install` 安装模型。"
    )]
    NoModel,
    /// A folder to add does not exist.
    #[error("Folder not found: {0}\n找不到文件夹：{0}")]
    FolderNotFound(String),
    /// A path given as a folder to add is a file, not a folder.
    #[error(
        "{0} is a file, not a folder. Xunying indexes folders: give the folder that contains it.\n\
         {0} 是文件而不是文件夹。寻影按文件夹建立索引：请指定包含它的文件夹。"
    )]
    NotAFolder(String),
    /// The data directory cannot be created.
    #[error("Failed to create the data directory {path}: {source}\n无法创建数据目录 {path}：{source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// How a library is opened.
#[derive(Debug, Clone)]
pub struct LibraryOptions {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The model bundle, when one is configured.
    pub model_dir: Option<PathBuf>,
    /// How the model runs.
    pub model_options: ModelOptions,
    /// Region proposals; `None` turns regions off.
    pub regions: Option<RegionConfig>,
    /// Scalar type of stored vectors.
    pub vector_kind: VectorKind,
    /// How long a file must be left alone before it is indexed.
    pub settle: Duration,
    /// Photos per model run and catalog transaction.
    pub batch_size: usize,
    /// Decoder limits.
    pub decode_limits: DecodeLimits,
    /// Decode worker threads.
    pub decode_threads: usize,
}

impl LibraryOptions {
    /// Defaults for a data directory.
    pub fn new(data_dir: &Path) -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        LibraryOptions {
            data_dir: data_dir.to_path_buf(),
            model_dir: None,
            model_options: ModelOptions::default(),
            regions: Some(RegionConfig::default()),
            vector_kind: VectorKind::F16,
            settle: Duration::from_secs(1),
            batch_size: 16,
            decode_limits: DecodeLimits::default(),
            decode_threads: cores.saturating_sub(1).max(1),
        }
    }
}

/// What an index run did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct IndexSummary {
    /// Counts from planning.
    #[serde(flatten)]
    pub counts: PlanCounts,
    /// Photos that failed to decode or embed in this run.
    pub failed_to_embed: u64,
    /// Model runs (photos embedded) in this run.
    pub inferences: u64,
    /// Folders found offline; their photos are kept.
    pub offline_folders: Vec<PathBuf>,
    /// The files counted in `deferred`, as scopes for [`Library::reconcile`].
    #[serde(skip)]
    pub deferred_scopes: Vec<(crate::catalog::FolderId, PathBuf)>,
}

impl IndexSummary {
    fn add(&mut self, counts: &PlanCounts) {
        let c = &mut self.counts;
        c.new += counts.new;
        c.changed += counts.changed;
        c.moved += counts.moved;
        c.removed += counts.removed;
        c.unchanged += counts.unchanged;
        c.known_failures += counts.known_failures;
        c.deferred += counts.deferred;
        c.failed += counts.failed;
    }

    /// Adds the counts of a later run over this run's `deferred_scopes`: the files this
    /// run left, each counted once by the later run.
    pub fn absorb_retry(&mut self, later: &IndexSummary) {
        let (c, l) = (&mut self.counts, &later.counts);
        c.new += l.new;
        c.changed += l.changed;
        c.moved += l.moved;
        c.removed += l.removed;
        c.unchanged += l.unchanged;
        c.known_failures += l.known_failures;
        c.failed += l.failed;
        c.deferred = l.deferred;
        self.failed_to_embed += later.failed_to_embed;
        self.inferences += later.inferences;
        self.deferred_scopes = later.deferred_scopes.clone();
    }

    /// Failures of any kind in this run.
    pub fn failed(&self) -> u64 {
        self.counts.failed + self.failed_to_embed
    }
}

/// An open library.
pub struct Library {
    options: LibraryOptions,
    paths: DataPaths,
    catalog: Catalog,
    model: Option<Model>,
    regions: Option<RegionExtractor>,
    derived: Option<DerivedIndexes>,
    clock: Arc<StageClock>,
}

impl Library {
    /// Opens the library in `options.data_dir`, creating it when new. The model loads
    /// when a bundle is configured; the derived indexes open (or are rebuilt) on first
    /// use.
    pub fn open(options: LibraryOptions) -> Result<Library, LibraryError> {
        std::fs::create_dir_all(&options.data_dir)
            .map_err(|source| LibraryError::DataDir { path: options.data_dir.clone(), source })?;
        let paths = DataPaths::new(&options.data_dir);
        let mut catalog = Catalog::open(&paths.catalog())?;
        let model = match &options.model_dir {
            Some(dir) => Some(Model::load(dir, options.model_options.clone())?),
            None => None,
        };
        if let Some(model) = &model {
            let active = catalog.active_model()?;
            let switched = if active.as_deref() == Some(model.model_id()) { 0 } else { catalog.mark_all_for_reembedding(model.model_id())? };
            if switched > 0 {
                tracing::info!(model_id = model.model_id(), photos = switched, "model changed; photos will be re-embedded");
            }
        }
        let regions = match (&options.regions, &model) {
            (Some(config), Some(_)) => Some(RegionExtractor::new(config.clone(), options.model_options.device)?),
            _ => None,
        };
        Ok(Library { options, paths, catalog, model, regions, derived: None, clock: Arc::default() })
    }

    /// Applies new model, device and region settings to the open library, as opening it
    /// again with `options` would, but without closing the catalog or the indexes. The
    /// new model loads and runs its text graph once first, so a bundle that fails to
    /// load changes nothing. When the
    /// embedding space changes, every photo is marked for embedding again and the
    /// vector indexes are rebuilt for the new model on next use. The data directory
    /// must be the same.
    pub fn reconfigure(&mut self, options: LibraryOptions) -> Result<(), LibraryError> {
        if options.data_dir != self.options.data_dir {
            return Err(LibraryError::DataDir {
                path: options.data_dir.clone(),
                source: std::io::Error::other("an open library keeps its data directory"),
            });
        }
        let reload = options.model_dir != self.options.model_dir || options.model_options != self.options.model_options;
        let loaded = match (&options.model_dir, reload) {
            (Some(dir), true) => {
                let model = Model::load(dir, options.model_options.clone())?;
                // Running the text graph once proves the bundle and the device work
                // before the old model is let go, and readies the first search.
                model.warm_text_encoder()?;
                Some(model)
            }
            _ => None,
        };
        let next = if reload { loaded.as_ref() } else { self.model.as_ref() };
        let regions = match (&options.regions, next) {
            (Some(config), Some(_)) => Some(RegionExtractor::new(config.clone(), options.model_options.device)?),
            _ => None,
        };
        if let Some(model) = next {
            if self.catalog.active_model()?.as_deref() != Some(model.model_id()) {
                let switched = self.catalog.mark_all_for_reembedding(model.model_id())?;
                tracing::info!(model_id = model.model_id(), photos = switched, "model changed; photos will be re-embedded");
                self.derived = None;
            }
        }
        if reload {
            self.model = loaded;
        }
        tracing::info!(model_dir = ?options.model_dir, device = ?options.model_options.device, regions = options.regions.is_some(), "library reconfigured");
        self.regions = regions;
        self.options = options;
        Ok(())
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The data directory layout.
    pub fn paths(&self) -> &DataPaths {
        &self.paths
    }

    /// The model, when one is configured.
    pub fn model(&self) -> Option<&Model> {
        self.model.as_ref()
    }

    /// Returns the time spent per ingest stage since the library was opened.
    pub fn stage_times(&self) -> StageTimes {
        self.clock.snapshot()
    }

    /// Returns the derived indexes, opened or rebuilt as [`Library::derived`] does, with
    /// the catalog, so that one thread can read the catalog while another walks an index.
    pub fn derived_with_catalog(&mut self, sink: &dyn ProgressSink) -> Result<(&DerivedIndexes, &Catalog), LibraryError> {
        self.derived(sink)?;
        Ok((self.derived.as_ref().expect("derived indexes were opened above"), &self.catalog))
    }

    /// The derived indexes, opened or rebuilt from the catalog on first use.
    pub fn derived(&mut self, sink: &dyn ProgressSink) -> Result<&mut DerivedIndexes, LibraryError> {
        if self.derived.is_none() {
            let model = self.model.as_ref().ok_or(LibraryError::NoModel)?;
            let spec = derived::IndexSettings {
                model_id: model.model_id().to_string(),
                dim: model.embed_dim(),
                kind: self.options.vector_kind,
            };
            self.derived = Some(DerivedIndexes::open_or_rebuild(&self.paths, &self.catalog, &spec, sink)?);
        }
        Ok(self.derived.as_mut().expect("derived indexes were opened above"))
    }

    /// Adds folders (remembered in the catalog) and brings the whole library up to date.
    pub fn index(&mut self, folders: &[PathBuf], sink: &dyn ProgressSink, cancel: &AtomicBool) -> Result<IndexSummary, LibraryError> {
        for folder in folders {
            self.add_folder(folder)?;
        }
        self.merge_nested_folders()?;
        let scopes = self.library_folders()?;
        self.reconcile(&scopes, sink, cancel)
    }

    /// Lists the library's folders, online or offline, leaving out removed ones.
    fn library_folders(&self) -> Result<Vec<(crate::catalog::FolderId, PathBuf)>, LibraryError> {
        Ok(self
            .catalog
            .folders()?
            .into_iter()
            .filter(|f| f.state != FolderState::Removed)
            .map(|f| (f.id, f.path))
            .collect())
    }

    /// Returns the folders to watch: every library folder the user has not removed.
    pub fn watch_roots(&self) -> Result<Vec<PathBuf>, LibraryError> {
        Ok(self.library_folders()?.into_iter().map(|(_, path)| path).collect())
    }

    /// Adds a folder to the library (remembered in the catalog) without scanning it.
    /// Returns its canonical path. A folder inside a library folder is already covered
    /// and is not added again. A folder that contains library folders takes their place
    /// (see [`merge_nested_folders`](Self::merge_nested_folders)).
    pub fn add_folder(&mut self, folder: &Path) -> Result<PathBuf, LibraryError> {
        let absolute = folder.canonicalize().map_err(|_| LibraryError::FolderNotFound(folder.display().to_string()))?;
        if !absolute.is_dir() {
            return Err(LibraryError::NotAFolder(folder.display().to_string()));
        }
        let covering = self.library_folders()?.into_iter().find(|(_, root)| absolute.starts_with(root) && *root != absolute);
        if let Some((_, root)) = covering {
            tracing::info!(folder = %absolute.display(), library_folder = %root.display(), "the folder is already in the library");
            return Ok(absolute);
        }
        self.catalog.add_folder(&absolute)?;
        self.merge_nested_folders()?;
        Ok(absolute)
    }

    /// Removes every library folder that lies inside another one, so that no file
    /// belongs to two folders. The outer folder's next scan finds their files again
    /// and links them to the contents they had, because contents outlive their files
    /// until the end of that scan. An offline outer folder takes nothing over, because
    /// its scan would find nothing.
    fn merge_nested_folders(&mut self) -> Result<(), LibraryError> {
        let folders = self.library_folders()?;
        let active: Vec<_> = self.catalog.folders()?.into_iter().filter(|f| f.state == FolderState::Active).collect();
        for (id, path) in &folders {
            if let Some(outer) = active.iter().find(|outer| outer.id != *id && path.starts_with(&outer.path)) {
                let outer = &outer.path;
                tracing::info!(folder = %path.display(), library_folder = %outer.display(), "merged a folder into the library folder that contains it");
                self.catalog.remove_folder(*id)?;
            }
        }
        Ok(())
    }

    /// Brings the given scopes (folder roots or paths below them) up to date.
    pub fn reconcile(
        &mut self,
        scopes: &[(crate::catalog::FolderId, PathBuf)],
        sink: &dyn ProgressSink,
        cancel: &AtomicBool,
    ) -> Result<IndexSummary, LibraryError> {
        if self.model.is_none() {
            return Err(LibraryError::NoModel);
        }
        self.derived(sink)?;
        let mut summary = IndexSummary::default();
        let mut plans = Vec::new();
        let model_id = self.model.as_ref().map(|m| m.model_id().to_string()).unwrap_or_default();

        sink.event(progress::ProgressEvent::Phase { phase: Phase::Scan, total: None });
        // The scopes of one folder are planned together, so that a file renamed between
        // two watched paths is one move rather than a removal and a new file.
        let mut by_folder: Vec<(crate::catalog::FolderId, Vec<scan::FoundFile>, Vec<FileRecord>)> = Vec::new();
        let mut walked_scopes: Vec<&Path> = Vec::new();
        for (folder_id, scope) in scopes {
            let Some((found, known)) = self.walk_scope(*folder_id, scope)? else {
                summary.offline_folders.push(scope.clone());
                continue;
            };
            walked_scopes.push(scope);
            match by_folder.iter_mut().find(|(id, _, _)| id == folder_id) {
                Some((_, all_found, all_known)) => {
                    all_found.extend(found);
                    all_known.extend(known);
                }
                None => by_folder.push((*folder_id, found, known)),
            }
        }
        let stale_failures = self.stale_failures(&walked_scopes, &by_folder)?;
        for (folder_id, mut found, mut known) in by_folder {
            // Overlapping scopes (a folder and a file inside it) name some files twice.
            found.sort_by(|a, b| a.path.cmp(&b.path));
            found.dedup_by(|a, b| a.path == b.path);
            known.sort_by(|a, b| a.path.cmp(&b.path));
            known.dedup_by(|a, b| a.path == b.path);
            let plan = plan_scope(&self.catalog, folder_id, found, known, &model_id, self.options.settle)?;
            summary.add(&plan.counts);
            summary.deferred_scopes.extend(plan.deferred.iter().map(|path| (folder_id, path.clone())));
            plans.push(plan);
        }
        sink.event(progress::ProgressEvent::Finished { phase: Phase::Scan });

        let mut jobs = Vec::new();
        let mut cheap_ops: Vec<CatalogOp> = stale_failures.into_iter().map(|path| CatalogOp::ClearFailure { path }).collect();
        for plan in plans {
            cheap_ops.extend(plan.ops);
            jobs.extend(plan.jobs);
        }
        jobs.extend(self.pending_jobs(&jobs)?);
        if !cheap_ops.is_empty() {
            self.commit(cheap_ops)?;
        }
        self.embed(jobs, sink, cancel, &mut summary)?;

        let orphan_hashes = self.catalog.orphan_hashes()?;
        let (orphan_contents, orphan_regions) = self.catalog.collect_orphans()?;
        self.remove_thumbnails(&orphan_hashes);
        let generation = self.catalog.generation()?;
        let derived = self.derived.as_mut().expect("opened at the start of reconcile");
        derived.remove_orphans(&orphan_contents, &orphan_regions)?;
        derived.save(generation)?;
        Ok(summary)
    }

    /// Walks one scope: the supported files found in it, and the catalog's files under
    /// it. Returns `None` when the folder root is missing: the folder is marked offline
    /// and nothing is deleted.
    fn walk_scope(
        &mut self,
        folder_id: crate::catalog::FolderId,
        scope: &Path,
    ) -> Result<Option<(Vec<scan::FoundFile>, Vec<FileRecord>)>, LibraryError> {
        let skip = vec![self.paths.root.clone()];
        let walk = if scope.is_file() {
            // A watcher event names a single file: that file alone is the scope.
            let mut single = scan::WalkResult::default();
            let candidate = imaging::is_supported_extension(scope) && !scan::is_hidden(scope);
            if let (true, Ok(meta)) = (candidate, std::fs::metadata(scope)) {
                single.files.push(scan::FoundFile { path: scope.to_path_buf(), size: meta.len(), mtime_ns: scan::mtime_ns(&meta) });
            }
            Ok(single)
        } else {
            scan::walk_folder(scope, &skip, imaging::is_supported_extension)
        };
        let walk = match walk {
            Ok(walk) => walk,
            Err(error) => {
                let root_missing = self.catalog.folders()?.iter().any(|f| f.id == folder_id && !f.path.is_dir());
                if root_missing {
                    tracing::info!(folder = %scope.display(), %error, "folder is offline; its photos are kept");
                    self.catalog.set_folder_state(folder_id, FolderState::Offline)?;
                    return Ok(None);
                }
                // A vanished subfolder inside a present root: every file under it is gone.
                scan::WalkResult::default()
            }
        };
        for (dir, reason) in &walk.unreadable {
            tracing::warn!(folder = %dir.display(), reason, "cannot read folder");
        }
        self.catalog.set_folder_state(folder_id, FolderState::Active)?;
        let known: Vec<_> = self
            .catalog
            .files_in_folder(folder_id)?
            .into_iter()
            .filter(|f| plan::in_scope(&f.path, scope))
            .collect();
        Ok(Some((walk.files, known)))
    }

    /// Returns the recorded failures under the walked scopes whose files are gone, so
    /// that a deleted broken file stops being listed as failed.
    fn stale_failures(
        &self,
        scopes: &[&Path],
        walked: &[(crate::catalog::FolderId, Vec<scan::FoundFile>, Vec<FileRecord>)],
    ) -> Result<Vec<String>, LibraryError> {
        if scopes.is_empty() {
            return Ok(Vec::new());
        }
        let found: std::collections::HashSet<String> =
            walked.iter().flat_map(|(_, files, _)| files.iter().map(|f| f.path.to_string_lossy().into_owned())).collect();
        Ok(self
            .catalog
            .failures()?
            .into_iter()
            .map(|failure| failure.path)
            .filter(|path| !found.contains(path) && scopes.iter().any(|scope| Path::new(path).starts_with(scope)))
            .collect())
    }

    /// Contents that need (re-)embedding but are not in this run's jobs yet, such as all
    /// photos after a model switch.
    fn pending_jobs(&self, planned: &[plan::EmbedJob]) -> Result<Vec<plan::EmbedJob>, LibraryError> {
        let planned_hashes: std::collections::HashSet<&str> = planned.iter().map(|j| j.hash.as_str()).collect();
        Ok(self
            .catalog
            .contents_needing_embedding(usize::MAX)?
            .into_iter()
            .filter(|p| !planned_hashes.contains(p.hash.as_str()))
            .map(|p| plan::EmbedJob { hash: p.hash, decode_path: PathBuf::from(p.path), files: Vec::new(), existing: Some(p.content_id) })
            .collect())
    }

    fn embed(&mut self, jobs: Vec<plan::EmbedJob>, sink: &dyn ProgressSink, cancel: &AtomicBool, summary: &mut IndexSummary) -> Result<(), LibraryError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let total: u64 = jobs.iter().map(|j| j.files.len().max(1) as u64).sum();
        self.model.as_ref().ok_or(LibraryError::NoModel)?.open_image_graphs(self.regions.is_some())?;
        let model = self.model.take().ok_or(LibraryError::NoModel)?;
        let regions = self.regions.take();
        // The region step checks the dense map against the photo's pixels (and a detector reads
        // them), so decoded pixels travel with each job while regions are on. Superpixels
        // for snapping segment boxes are computed by the decode workers, off the model's thread.
        let keep_pixels = regions.is_some();
        let snap = regions.as_ref().and_then(|r| r.snap_config()).cloned();
        let paths = self.paths.clone();
        let clock = self.clock.clone();
        let settings = ingest::DecodeSettings {
            limits: self.options.decode_limits.clone(),
            paths: &paths,
            keep_pixels,
            snap,
            threads: self.options.decode_threads,
            clock: &clock,
        };
        let mut tracker = PhaseTracker::start(sink, Phase::Embed, total);
        let batch_size = self.options.batch_size.max(1);
        let result = ingest::run_pipeline(jobs, &model, &settings, batch_size, cancel, |batch| {
            let embedded_before = batch.iter().filter(|d| matches!(d, ingest::Decoded::Ready(_))).count() as u64;
            let failed_before: u64 = batch.iter().filter(|d| matches!(d, ingest::Decoded::Failed { .. })).count() as u64;
            let ops = ingest::embed_batch(batch, &model, regions.as_ref(), &mut tracker, &clock);
            summary.inferences += embedded_before;
            summary.failed_to_embed += failed_before;
            self.commit(ops)
        });
        tracker.finish();
        self.model = Some(model);
        self.regions = regions;
        result
    }

    /// Commits operations in one transaction and updates the derived indexes from what
    /// was committed.
    fn commit(&mut self, ops: Vec<CatalogOp>) -> Result<(), LibraryError> {
        let outcome = self.clock.time(Stage::Commit, || self.catalog.write_batch(&ops))?;
        if let Some(derived) = self.derived.as_mut() {
            self.clock.time(Stage::IndexUpdate, || derived.apply(&self.catalog, &outcome))?;
        }
        Ok(())
    }

    /// Folders, counts, the model in use, pending work and failures.
    pub fn status(&self) -> Result<LibraryStatus, LibraryError> {
        let stats = self.catalog.stats()?;
        let folders = self
            .catalog
            .folders()?
            .into_iter()
            .map(|f| FolderStatus { path: f.path.clone(), state: f.state.as_str().to_string(), online: f.path.is_dir() })
            .collect();
        let failures = self
            .catalog
            .failures()?
            .into_iter()
            .map(|f| FailureStatus { path: f.path, reason: f.reason, attempts: f.attempts, permanent: f.permanent })
            .collect();
        Ok(LibraryStatus {
            data_dir: self.paths.root.clone(),
            model_id: self.catalog.active_model()?,
            model_dir: self.options.model_dir.clone(),
            folders,
            photos: stats.files,
            distinct_photos: stats.contents,
            regions: stats.regions,
            pending: stats.pending,
            failures,
            paths: None,
        })
    }

    /// Deletes the thumbnails of contents the catalog no longer holds. A thumbnail that
    /// cannot be deleted is only logged: it wastes space but breaks nothing.
    fn remove_thumbnails(&self, hashes: &[String]) {
        for hash in hashes {
            for edge in [imaging::THUMB_LARGE_EDGE_PX, imaging::THUMB_SMALL_EDGE_PX] {
                let path = self.paths.thumbnail(hash, edge);
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => tracing::warn!(path = %path.display(), %error, "failed to delete the thumbnail of a removed photo"),
                }
            }
        }
    }

    /// Removes a folder from the library; its photos leave the indexes. Returns `false`
    /// when the folder is not in the library or was removed before.
    pub fn remove_folder(&mut self, folder: &Path, sink: &dyn ProgressSink) -> Result<bool, LibraryError> {
        let absolute = folder.canonicalize().unwrap_or_else(|_| folder.to_path_buf());
        let Some(entry) = self.catalog.folders()?.into_iter().find(|f| f.path == absolute && f.state != FolderState::Removed) else {
            return Ok(false);
        };
        self.catalog.remove_folder(entry.id)?;
        let stale: Vec<CatalogOp> = self
            .catalog
            .failures()?
            .into_iter()
            .filter(|failure| Path::new(&failure.path).starts_with(&absolute))
            .map(|failure| CatalogOp::ClearFailure { path: failure.path })
            .collect();
        if !stale.is_empty() {
            self.commit(stale)?;
        }
        let hashes = self.catalog.orphan_hashes()?;
        let (contents, regions) = self.catalog.collect_orphans()?;
        self.remove_thumbnails(&hashes);
        if self.model.is_some() {
            let generation = self.catalog.generation()?;
            let derived = self.derived(sink)?;
            derived.remove_orphans(&contents, &regions)?;
            derived.save(generation)?;
        }
        Ok(true)
    }

    /// Makes `model_id` the embedding space of the library in `data_dir`, as switching
    /// the active bundle does. When the catalog's vectors come from another model they
    /// are dropped, since vectors of two models are never compared, and every photo waits
    /// to be embedded again. Returns how many photos wait. A data directory without a
    /// catalog is left as it is.
    pub fn adopt_model(data_dir: &Path, model_id: &str) -> Result<u64, LibraryError> {
        let catalog_path = DataPaths::new(data_dir).catalog();
        if !catalog_path.is_file() {
            return Ok(0);
        }
        let mut catalog = Catalog::open(&catalog_path)?;
        if catalog.active_model()?.as_deref() == Some(model_id) {
            return Ok(0);
        }
        let switched = catalog.mark_all_for_reembedding(model_id)?;
        tracing::info!(model_id, photos = switched, "model changed; photos will be re-embedded");
        Ok(switched as u64)
    }

    /// Library options.
    pub fn options(&self) -> &LibraryOptions {
        &self.options
    }

    /// Maps a path to the library folder that contains it; removed folders do not count.
    pub fn folder_of(&self, path: &Path) -> Result<Option<(crate::catalog::FolderId, PathBuf)>, LibraryError> {
        let text = path_string(path);
        Ok(self.library_folders()?.into_iter().find(|(_, root)| plan::in_scope(&text, root)))
    }
}

/// A folder in the status report.
#[derive(Debug, Clone, Serialize)]
pub struct FolderStatus {
    /// The folder.
    pub path: PathBuf,
    /// `active`, `offline` or `removed`.
    pub state: String,
    /// Whether the folder exists right now.
    pub online: bool,
}

/// A failed file in the status report.
#[derive(Debug, Clone, Serialize)]
pub struct FailureStatus {
    /// The file.
    pub path: String,
    /// Why it failed.
    pub reason: String,
    /// Attempts since it last changed.
    pub attempts: u32,
    /// Whether it is retried only after it changes.
    pub permanent: bool,
}

/// What `xunying status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct LibraryStatus {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The embedding space of the stored vectors.
    pub model_id: Option<String>,
    /// The model bundle configured for this run.
    pub model_dir: Option<PathBuf>,
    /// Folders.
    pub folders: Vec<FolderStatus>,
    /// Photo files.
    pub photos: u64,
    /// Distinct photo contents (duplicates counted once).
    pub distinct_photos: u64,
    /// Regions.
    pub regions: u64,
    /// Photos waiting to be embedded.
    pub pending: u64,
    /// Failed files.
    pub failures: Vec<FailureStatus>,
    /// Every indexed file, when requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
}
