//! The derived indexes (photo vectors, region vectors, keywords) kept in step with the
//! catalog: opened when they match the catalog's generation, rebuilt from it otherwise,
//! and updated from each committed batch. Vector index files are opened as memory-mapped
//! views, so the first search does not wait for them to be read whole. A view is loaded
//! into memory at its first change.

use crate::catalog::{BatchOutcome, Catalog, ContentId, PhotoRow, RegionId};
use crate::keywords::{KeywordDoc, KeywordIndex, OpenOutcome as KeywordOpen};
use crate::vectors::{IndexSpec, OpenOutcome, VectorIndex, VectorKind};

use super::paths::DataPaths;
use super::progress::{Phase, PhaseTracker, ProgressSink};
use super::LibraryError;

/// What the vector indexes must match.
pub struct IndexSettings {
    /// Embedding space.
    pub model_id: String,
    /// Vector width.
    pub dim: usize,
    /// Stored scalar type.
    pub kind: VectorKind,
}

/// The three derived indexes.
pub struct DerivedIndexes {
    /// Whole-photo vectors keyed by content id.
    pub photos: VectorIndex,
    /// Region vectors keyed by region id.
    pub regions: VectorIndex,
    /// File and folder names, camera and dates, keyed by file id.
    pub keywords: KeywordIndex,
}

impl DerivedIndexes {
    /// Opens each index, rebuilding from the catalog any that is missing, damaged,
    /// built for another model, or behind the catalog.
    pub fn open_or_rebuild(
        paths: &DataPaths,
        catalog: &Catalog,
        settings: &IndexSettings,
        sink: &dyn ProgressSink,
    ) -> Result<DerivedIndexes, LibraryError> {
        let generation = catalog.generation()?;
        let spec = IndexSpec::new(settings.model_id.clone(), settings.dim).with_kind(settings.kind);
        for path in [paths.photo_vectors(), paths.region_vectors()] {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| LibraryError::DataDir { path: parent.to_path_buf(), source })?;
            }
        }

        let photos = match VectorIndex::open_view(&paths.photo_vectors(), &spec, generation) {
            OpenOutcome::Ready(index) => index,
            OpenOutcome::NeedsRebuild { reason } => {
                tracing::info!(?reason, "rebuilding the photo vector index from the catalog");
                let mut rows = Vec::new();
                catalog.for_each_content_embedding(&settings.model_id, |id, vector| rows.push((id.0 as u64, vector.to_vec())))?;
                rebuild_vectors(&paths.photo_vectors(), &spec, rows, generation, sink)?
            }
        };
        let regions = match VectorIndex::open_view(&paths.region_vectors(), &spec, generation) {
            OpenOutcome::Ready(index) => index,
            OpenOutcome::NeedsRebuild { reason } => {
                tracing::info!(?reason, "rebuilding the region vector index from the catalog");
                let mut rows = Vec::new();
                catalog.for_each_region_embedding(&settings.model_id, |id, _content, vector| rows.push((id.0 as u64, vector.to_vec())))?;
                rebuild_vectors(&paths.region_vectors(), &spec, rows, generation, sink)?
            }
        };
        let keywords = match KeywordIndex::open(&paths.keywords(), generation) {
            KeywordOpen::Ready(index) => *index,
            KeywordOpen::NeedsRebuild { reason } => {
                tracing::info!(?reason, "rebuilding the keyword index from the catalog");
                let docs: Vec<KeywordDoc> = catalog.all_photos()?.iter().map(keyword_doc).collect();
                let tracker = PhaseTracker::start(sink, Phase::RebuildKeywords, docs.len() as u64);
                let index = KeywordIndex::rebuild(&paths.keywords(), docs, generation)?;
                tracker.finish();
                index
            }
        };
        Ok(DerivedIndexes { photos, regions, keywords })
    }

    /// Applies what one committed batch changed.
    pub fn apply(&mut self, catalog: &Catalog, outcome: &BatchOutcome) -> Result<(), LibraryError> {
        if !outcome.regions_deleted.is_empty() || !outcome.contents_embedded.is_empty() {
            self.regions.make_writable()?;
            self.photos.make_writable()?;
        }
        if !outcome.regions_deleted.is_empty() {
            let keys: Vec<u64> = outcome.regions_deleted.iter().map(|id| id.0 as u64).collect();
            self.regions.remove(&keys)?;
        }
        let model_id = self.photos.spec().model_id.clone();
        let mut photo_rows = Vec::new();
        for &content in &outcome.contents_embedded {
            if let Some(stored) = catalog.content_embedding(content)? {
                if stored.model_id == model_id {
                    photo_rows.push((content.0 as u64, stored.vector));
                }
            }
            let region_rows: Vec<(u64, Vec<f32>)> = catalog
                .region_embeddings_for_content(content)?
                .into_iter()
                .map(|r| (r.region.id.0 as u64, r.embedding))
                .collect();
            let items: Vec<(u64, &[f32])> = region_rows.iter().map(|(k, v)| (*k, v.as_slice())).collect();
            self.regions.add_batch(&items)?;
        }
        if !photo_rows.is_empty() {
            let items: Vec<(u64, &[f32])> = photo_rows.iter().map(|(k, v)| (*k, v.as_slice())).collect();
            self.photos.add_batch(&items)?;
        }

        if !outcome.files_removed.is_empty() {
            let ids: Vec<u64> = outcome.files_removed.iter().map(|id| id.0 as u64).collect();
            self.keywords.delete(&ids)?;
        }
        if !outcome.contents_changed.is_empty() {
            let docs: Vec<KeywordDoc> = catalog.photos_for_contents(&outcome.contents_changed)?.iter().map(keyword_doc).collect();
            self.keywords.upsert(&docs)?;
        }
        Ok(())
    }

    /// Drops contents and regions the catalog garbage-collected.
    pub fn remove_orphans(&mut self, contents: &[ContentId], regions: &[RegionId]) -> Result<(), LibraryError> {
        if !contents.is_empty() {
            let keys: Vec<u64> = contents.iter().map(|id| id.0 as u64).collect();
            self.photos.make_writable()?;
            self.photos.remove(&keys)?;
        }
        if !regions.is_empty() {
            let keys: Vec<u64> = regions.iter().map(|id| id.0 as u64).collect();
            self.regions.make_writable()?;
            self.regions.remove(&keys)?;
        }
        Ok(())
    }

    /// Saves all three for a catalog generation.
    pub fn save(&mut self, generation: u64) -> Result<(), LibraryError> {
        for index in [&mut self.photos, &mut self.regions] {
            // An unchanged view of a file already saved for this generation stays a view.
            if index.is_read_only() && index.generation() == generation {
                continue;
            }
            index.make_writable()?;
            index.save(generation)?;
        }
        self.keywords.commit(generation)?;
        Ok(())
    }
}

fn rebuild_vectors(
    path: &std::path::Path,
    spec: &IndexSpec,
    rows: Vec<(u64, Vec<f32>)>,
    generation: u64,
    sink: &dyn ProgressSink,
) -> Result<VectorIndex, LibraryError> {
    let total = rows.len() as u64;
    let tracker = std::sync::Mutex::new(PhaseTracker::start(sink, Phase::RebuildVectors, total));
    let last = std::sync::atomic::AtomicU64::new(0);
    let progress = |done: usize, _total: Option<usize>| {
        let previous = last.swap(done as u64, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut t) = tracker.lock() {
            t.advance((done as u64).saturating_sub(previous), 0, None);
        }
    };
    let index = VectorIndex::rebuild(path, spec, rows, generation, &progress)?;
    if let Ok(t) = tracker.into_inner() {
        t.finish();
    }
    Ok(index)
}

/// The keyword document of one photo file.
pub fn keyword_doc(row: &PhotoRow) -> KeywordDoc {
    let m = &row.metadata;
    let camera: Vec<&str> = [m.camera_make.as_deref(), m.camera_model.as_deref(), m.lens_model.as_deref()].into_iter().flatten().collect();
    KeywordDoc {
        photo_id: row.file_id.0 as u64,
        path: row.path.clone(),
        camera: (!camera.is_empty()).then(|| camera.join(" ")),
        taken_at: m.taken_at.clone(),
        text: None,
    }
}
