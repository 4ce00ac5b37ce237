//! The SQLite catalog, the single source of truth of the library: folders, files,
//! contents (photos identified by the BLAKE3 hash of their bytes), regions, embeddings,
//! failures and the schema's migrations. The vector and keyword indexes and the
//! thumbnails are derived from it and can be rebuilt from it.
//!
//! The catalog stores embeddings but knows nothing of models, images or scanning.

mod batch;
mod columns;
mod embedding;
mod error;
mod identity;
mod maintain;
mod read;
mod schema;
mod types;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

pub use error::CatalogError;
pub use identity::{hash_bytes, hash_file, sampled_hash, SAMPLE_BYTES};
pub use schema::SCHEMA_VERSION;
pub use types::{
    BatchOutcome, CatalogOp, CatalogStats, ContentId, ContentRecord, ContentRef, FailureRecord, FileId,
    FileRecord, Folder, FolderId, FolderState, NewContent, NewEmbedding, NewFailure, NewFile, NewRegion,
    PendingContent, PhotoMetadata, PhotoRow, RegionBox, RegionEmbedding, RegionId, RegionRow, RegionSource,
    StoredEmbedding,
};

use error::Fault;

/// An open catalog database.
///
/// Writes go through [`Catalog::write_batch`] and a few maintenance methods, each one
/// SQLite transaction: after it returns `Ok`, the change is committed and survives a
/// crash of the process; with `synchronous=NORMAL` in WAL mode, a power loss may roll
/// back the last commits but never leaves a partial one. The catalog runs in WAL mode,
/// so read-only handles in other processes read while one writer writes.
///
/// The generation counts commits that can change derived indexes: every write batch,
/// [`remove_folder`](Catalog::remove_folder),
/// [`mark_all_for_reembedding`](Catalog::mark_all_for_reembedding) and an
/// [`collect_orphans`](Catalog::collect_orphans) that deleted something each add one.
/// Folder additions and state changes do not.
pub struct Catalog {
    conn: Connection,
    path: PathBuf,
    read_only: bool,
}

impl Catalog {
    /// Opens the catalog at `path` for reading and writing, creating it when missing.
    /// Runs pending schema migrations and `PRAGMA quick_check`, which reads the whole
    /// file.
    pub fn open(path: &Path) -> Result<Catalog, CatalogError> {
        let conn = schema::open_writable(path)?;
        tracing::debug!(path = %path.display(), "opened the catalog for writing");
        Ok(Catalog { conn, path: path.to_path_buf(), read_only: false })
    }

    /// Opens an existing catalog read-only, for search processes. Fails with
    /// [`CatalogError::NeedsMigration`] when a writer has not yet migrated it.
    pub fn open_read_only(path: &Path) -> Result<Catalog, CatalogError> {
        let conn = schema::open_read_only(path)?;
        tracing::debug!(path = %path.display(), "opened the catalog read-only");
        Ok(Catalog { conn, path: path.to_path_buf(), read_only: true })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open catalog, always [`SCHEMA_VERSION`] after a
    /// successful open.
    pub fn schema_version(&self) -> u32 {
        SCHEMA_VERSION
    }

    /// Returns the generation of the last commit; see [`Catalog`].
    pub fn generation(&self) -> Result<u64, CatalogError> {
        self.locate(read::generation(&self.conn))
    }

    /// Returns the model whose embeddings the catalog accepts, set by
    /// [`mark_all_for_reembedding`](Catalog::mark_all_for_reembedding); `None` on a new
    /// catalog.
    pub fn active_model(&self) -> Result<Option<String>, CatalogError> {
        self.locate(read::active_model(&self.conn))
    }

    /// Returns the vector dimension recorded with the first embedding of `model_id`.
    pub fn model_dimension(&self, model_id: &str) -> Result<Option<usize>, CatalogError> {
        self.locate(read::model_dimension(&self.conn, model_id))
    }

    /// Adds a folder, or reactivates the folder already stored with this path, and
    /// returns its id. The path must be valid UTF-8.
    pub fn add_folder(&mut self, path: &Path) -> Result<FolderId, CatalogError> {
        self.check_writable()?;
        let Some(text) = path.to_str() else {
            return Err(CatalogError::NonUtf8Path { path: path.to_path_buf() });
        };
        let result = maintain::add_folder(&mut self.conn, text);
        self.locate(result)
    }

    /// Returns every folder, removed ones included, by id.
    pub fn folders(&self) -> Result<Vec<Folder>, CatalogError> {
        self.locate(read::folders(&self.conn))
    }

    /// Sets a folder to [`FolderState::Active`] or [`FolderState::Offline`]. Fails for
    /// [`FolderState::Removed`]; use [`remove_folder`](Catalog::remove_folder).
    pub fn set_folder_state(&mut self, folder_id: FolderId, state: FolderState) -> Result<(), CatalogError> {
        self.check_writable()?;
        self.locate(maintain::set_folder_state(&self.conn, folder_id, state))
    }

    /// Deletes the folder's file rows and marks it [`FolderState::Removed`]. Its contents
    /// stay until [`collect_orphans`](Catalog::collect_orphans), so a folder that comes
    /// back before that is not embedded again.
    pub fn remove_folder(&mut self, folder_id: FolderId) -> Result<BatchOutcome, CatalogError> {
        self.check_writable()?;
        let result = maintain::remove_folder(&mut self.conn, folder_id);
        self.locate(result)
    }

    /// Returns the file row with this path.
    pub fn file_by_path(&self, path: &str) -> Result<Option<FileRecord>, CatalogError> {
        self.locate(read::file_by_path(&self.conn, path))
    }

    /// Returns the folder's file rows, by path.
    pub fn files_in_folder(&self, folder_id: FolderId) -> Result<Vec<FileRecord>, CatalogError> {
        self.locate(read::files_in_folder(&self.conn, folder_id))
    }

    /// Counts the files of a folder, from the folder index without reading the rows.
    pub fn count_files_in_folder(&self, folder_id: FolderId) -> Result<u64, CatalogError> {
        self.locate(read::count_files_in_folder(&self.conn, folder_id))
    }

    /// Returns the file rows that hold a content, by id.
    pub fn files_of_content(&self, content_id: ContentId) -> Result<Vec<FileRecord>, CatalogError> {
        self.locate(read::files_of_content(&self.conn, content_id))
    }

    /// Returns the content with this BLAKE3 hash.
    pub fn content_by_hash(&self, hash: &str) -> Result<Option<ContentRecord>, CatalogError> {
        self.locate(read::content_by_hash(&self.conn, hash))
    }

    /// Returns the content with this id.
    pub fn content(&self, content_id: ContentId) -> Result<Option<ContentRecord>, CatalogError> {
        self.locate(read::content(&self.conn, content_id))
    }

    /// Returns the failure recorded for a path. A scanner skips the file when
    /// [`FailureRecord::is_permanent_for`] its current size and mtime.
    pub fn failure_for(&self, path: &str) -> Result<Option<FailureRecord>, CatalogError> {
        self.locate(read::failure_for(&self.conn, path))
    }

    /// Returns every recorded failure, by path.
    pub fn failures(&self) -> Result<Vec<FailureRecord>, CatalogError> {
        self.locate(read::failures(&self.conn))
    }

    /// Runs `ops` in order in one transaction and bumps the generation once, returning
    /// what was committed. When any operation fails, nothing of the batch is written.
    /// An empty batch writes nothing and returns the current generation.
    ///
    /// A content inserted without file rows is deleted by the next
    /// [`collect_orphans`](Catalog::collect_orphans), so insert a content in the same
    /// batch as its first file.
    pub fn write_batch(&mut self, ops: &[CatalogOp]) -> Result<BatchOutcome, CatalogError> {
        self.check_writable()?;
        if ops.is_empty() {
            let generation = self.generation()?;
            return Ok(BatchOutcome { generation, ..BatchOutcome::default() });
        }
        let result = batch::write_batch(&mut self.conn, ops);
        let outcome = self.locate(result)?;
        tracing::debug!(
            generation = outcome.generation,
            num_ops = ops.len(),
            contents_inserted = outcome.contents_inserted.len(),
            regions_inserted = outcome.regions_inserted.len(),
            "committed a catalog batch"
        );
        Ok(outcome)
    }

    /// Calls `visit` with every content embedding of `model_id`, by content id. Fails
    /// at the first stored embedding whose length does not match the model's dimension.
    pub fn for_each_content_embedding(
        &self,
        model_id: &str,
        visit: impl FnMut(ContentId, &[f32]),
    ) -> Result<(), CatalogError> {
        self.locate(read::for_each_content_embedding(&self.conn, model_id, visit))
    }

    /// Calls `visit` with every region embedding of contents embedded with `model_id`,
    /// by region id. Fails at the first stored embedding of the wrong length.
    pub fn for_each_region_embedding(
        &self,
        model_id: &str,
        visit: impl FnMut(RegionId, ContentId, &[f32]),
    ) -> Result<(), CatalogError> {
        self.locate(read::for_each_region_embedding(&self.conn, model_id, visit))
    }

    /// Returns the stored embedding of a content, or `None` when it has none.
    pub fn content_embedding(&self, content_id: ContentId) -> Result<Option<StoredEmbedding>, CatalogError> {
        self.locate(read::content_embedding(&self.conn, content_id))
    }

    /// Returns a content's regions with their embeddings, by region id.
    pub fn region_embeddings_for_content(&self, content_id: ContentId) -> Result<Vec<RegionEmbedding>, CatalogError> {
        self.locate(read::region_embeddings_for_content(&self.conn, content_id))
    }

    /// Calls `visit` with the stored embedding of each of these contents that is
    /// embedded in `model_id`'s space, in a few queries for the whole set. Contents
    /// without an embedding, or embedded by another model, are skipped.
    pub fn visit_content_embeddings(
        &self,
        model_id: &str,
        ids: &[ContentId],
        visit: impl FnMut(ContentId, &[f32]),
    ) -> Result<(), CatalogError> {
        self.locate(read::visit_content_embeddings(&self.conn, model_id, ids, visit))
    }

    /// Calls `visit` with each region of these contents and its embedding, for the
    /// contents embedded in `model_id`'s space, in a few queries for the whole set.
    pub fn visit_region_embeddings(
        &self,
        model_id: &str,
        ids: &[ContentId],
        visit: impl FnMut(&RegionRow, &[f32]),
    ) -> Result<(), CatalogError> {
        self.locate(read::visit_region_embeddings(&self.conn, model_id, ids, visit))
    }

    /// Calls `visit` with each of these regions and its embedding, for the regions
    /// whose content is embedded in `model_id`'s space. Unknown ids are skipped.
    pub fn visit_regions_by_id(
        &self,
        model_id: &str,
        ids: &[RegionId],
        visit: impl FnMut(&RegionRow, &[f32]),
    ) -> Result<(), CatalogError> {
        self.locate(read::visit_regions_by_id(&self.conn, model_id, ids, visit))
    }

    /// Returns the photo rows of these contents: one per file, in the order of `ids`
    /// and then by path. Unknown ids are skipped.
    pub fn photos_for_contents(&self, ids: &[ContentId]) -> Result<Vec<PhotoRow>, CatalogError> {
        self.locate(read::photos_for_contents(&self.conn, ids))
    }

    /// Returns the photo rows of these files in the order of `ids`. Unknown ids are
    /// skipped.
    pub fn photos_for_files(&self, ids: &[FileId]) -> Result<Vec<PhotoRow>, CatalogError> {
        self.locate(read::photos_for_files(&self.conn, ids))
    }

    /// Returns these regions in the order of `ids`, without embeddings. Unknown ids are
    /// skipped.
    pub fn regions_for(&self, ids: &[RegionId]) -> Result<Vec<RegionRow>, CatalogError> {
        self.locate(read::regions_for(&self.conn, ids))
    }

    /// Calls `visit` with the photo row of every file, by file id, without holding
    /// them all in memory.
    pub fn for_each_photo(&self, visit: impl FnMut(&PhotoRow)) -> Result<(), CatalogError> {
        self.locate(read::for_each_photo(&self.conn, visit))
    }

    /// Returns the photo row of every file, by file id.
    pub fn all_photos(&self) -> Result<Vec<PhotoRow>, CatalogError> {
        let mut photos = Vec::new();
        self.for_each_photo(|photo| photos.push(photo.clone()))?;
        Ok(photos)
    }

    /// Returns up to `limit` contents that have file rows but no embedding, by id, each
    /// with one path to decode.
    pub fn contents_needing_embedding(&self, limit: usize) -> Result<Vec<PendingContent>, CatalogError> {
        self.locate(read::contents_needing_embedding(&self.conn, limit))
    }

    /// Switches the catalog to another embedding space: clears every content
    /// embedding, deletes every region and makes `new_model_id` the active model, in
    /// one transaction. Returns how many contents lost an embedding. Derived vector
    /// indexes must be rebuilt, since every region id they hold is gone.
    pub fn mark_all_for_reembedding(&mut self, new_model_id: &str) -> Result<usize, CatalogError> {
        self.check_writable()?;
        let result = maintain::mark_all_for_reembedding(&mut self.conn, new_model_id);
        self.locate(result)
    }

    /// Returns row counts.
    pub fn stats(&self) -> Result<CatalogStats, CatalogError> {
        self.locate(read::stats(&self.conn))
    }

    /// Deletes contents that no file row points at, with their regions, and returns the
    /// deleted content and region ids so derived indexes can drop them.
    pub fn collect_orphans(&mut self) -> Result<(Vec<ContentId>, Vec<RegionId>), CatalogError> {
        self.check_writable()?;
        let result = maintain::collect_orphans(&mut self.conn);
        self.locate(result)
    }

    /// Returns the hashes of the contents that the next
    /// [`collect_orphans`](Catalog::collect_orphans) would delete, so that files named
    /// after them (thumbnails) can go too.
    pub fn orphan_hashes(&self) -> Result<Vec<String>, CatalogError> {
        self.locate(maintain::orphan_hashes(&self.conn))
    }

    /// Runs `PRAGMA integrity_check` and `PRAGMA foreign_key_check`; returns whether
    /// both found nothing wrong. Reads the whole file.
    pub fn integrity_check(&self) -> Result<bool, CatalogError> {
        self.locate(read::integrity_ok(&self.conn))
    }

    fn check_writable(&self) -> Result<(), CatalogError> {
        if self.read_only {
            return Err(CatalogError::ReadOnly { path: self.path.clone() });
        }
        Ok(())
    }

    fn locate<T>(&self, result: Result<T, Fault>) -> Result<T, CatalogError> {
        result.map_err(|fault| fault.at(&self.path))
    }
}
