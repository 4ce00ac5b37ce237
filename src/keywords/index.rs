//! [`KeywordIndex`]: the tantivy index of photo metadata in one folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use super::analysis::register_tokenizers;
use super::document::{build_schema, Fields, KeywordDoc, SCHEMA_VERSION};
use super::query::build_query;
use super::{KeywordError, OpenOutcome, RebuildReason};

/// Indexing memory for a rebuild, split between tantivy's worker threads (at most 8,
/// each needing at least 15 MB).
const REBUILD_MEMORY_BYTES: usize = 128 * 1024 * 1024;

/// Indexing memory for the single-threaded writer used by upserts and deletes.
const UPDATE_MEMORY_BYTES: usize = 32 * 1024 * 1024;

/// What every commit records in tantivy's commit payload.
#[derive(Debug, Serialize, Deserialize)]
struct CommitPayload {
    schema_version: u32,
    generation: u64,
}

/// A keyword index of photo paths, names, dates, cameras and text.
///
/// Changes ([`upsert`](Self::upsert), [`delete`](Self::delete)) become visible to
/// [`search`](Self::search) and durable only at [`commit`](Self::commit). The first
/// change opens a tantivy writer, which holds the folder's writer lock until the
/// index is dropped, so only one process at a time can change an index.
pub struct KeywordIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: Option<IndexWriter>,
    fields: Fields,
    generation: u64,
}

impl std::fmt::Debug for KeywordIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeywordIndex")
            .field("dir", &self.dir)
            .field("num_docs", &self.len())
            .field("generation", &self.generation)
            .field("writing", &self.writer.is_some())
            .finish()
    }
}

impl KeywordIndex {
    /// Opens the index in `dir` if its last commit reflects `catalog_generation` with
    /// the current schema, and every file passes its checksum (which reads the whole
    /// index once). Anything else gives [`OpenOutcome::NeedsRebuild`], logged at info.
    pub fn open(dir: &Path, catalog_generation: u64) -> OpenOutcome {
        match Self::try_open(dir, catalog_generation) {
            Ok(index) => {
                tracing::debug!(dir = %dir.display(), num_docs = index.len(), "keyword index opened");
                OpenOutcome::Ready(Box::new(index))
            }
            Err(reason) => {
                tracing::info!(dir = %dir.display(), %reason, "keyword index needs a rebuild");
                OpenOutcome::NeedsRebuild { reason }
            }
        }
    }

    /// Deletes every file in `dir` and indexes `docs` into it, committing once at the
    /// end for `generation`. A crash before that commit leaves an index that opens as
    /// [`OpenOutcome::NeedsRebuild`].
    ///
    /// `dir` must be the index's own folder: the rebuild refuses a folder that has
    /// subfolders, which a tantivy index never has. Drop any open [`KeywordIndex`] on
    /// `dir` first; on Windows its memory-mapped files cannot be deleted.
    pub fn rebuild(
        dir: &Path,
        docs: impl IntoIterator<Item = KeywordDoc>,
        generation: u64,
    ) -> Result<Self, KeywordError> {
        clear_dir(dir)?;
        let (schema, fields) = build_schema();
        let index = Index::create_in_dir(dir, schema).map_err(tantivy_error(dir, "creating the index"))?;
        register_tokenizers(&index);

        let mut writer: IndexWriter =
            index.writer(REBUILD_MEMORY_BYTES).map_err(tantivy_error(dir, "opening a writer"))?;
        for doc in docs {
            writer.add_document(doc.to_document(&fields)).map_err(tantivy_error(dir, "adding a document"))?;
        }
        commit_with_payload(&mut writer, dir, generation)?;
        writer.wait_merging_threads().map_err(tantivy_error(dir, "merging segments"))?;

        let reader = open_reader(&index).map_err(tantivy_error(dir, "opening a reader"))?;
        let rebuilt = KeywordIndex { dir: dir.to_path_buf(), index, reader, writer: None, fields, generation };
        tracing::info!(dir = %dir.display(), num_docs = rebuilt.len(), generation, "keyword index rebuilt");
        Ok(rebuilt)
    }

    /// Adds the documents, replacing any with the same `photo_id`. Visible after
    /// [`commit`](Self::commit).
    pub fn upsert(&mut self, docs: &[KeywordDoc]) -> Result<(), KeywordError> {
        let fields = self.fields;
        let dir = self.dir.clone();
        let writer = self.writer()?;
        for doc in docs {
            writer.delete_term(Term::from_field_u64(fields.photo_id, doc.photo_id));
            writer.add_document(doc.to_document(&fields)).map_err(tantivy_error(&dir, "adding a document"))?;
        }
        Ok(())
    }

    /// Removes the documents of these photos; absent ids are ignored. Visible after
    /// [`commit`](Self::commit).
    pub fn delete(&mut self, photo_ids: &[u64]) -> Result<(), KeywordError> {
        let field = self.fields.photo_id;
        let writer = self.writer()?;
        for &photo_id in photo_ids {
            writer.delete_term(Term::from_field_u64(field, photo_id));
        }
        Ok(())
    }

    /// Makes pending changes durable and visible, recording that the index reflects
    /// catalog `generation` in the same atomic commit.
    pub fn commit(&mut self, generation: u64) -> Result<(), KeywordError> {
        let dir = self.dir.clone();
        let writer = self.writer()?;
        commit_with_payload(writer, &dir, generation)?;
        self.reader.reload().map_err(tantivy_error(&dir, "reloading the reader"))?;
        self.generation = generation;
        tracing::debug!(dir = %dir.display(), generation, "keyword index committed");
        Ok(())
    }

    /// Returns up to `limit` photos matching any term of `query`, best first, with
    /// their BM25 scores. The text is never parsed as tantivy query syntax, so any
    /// string is accepted; text without searchable terms returns no hits.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<(u64, f32)>, KeywordError> {
        let searcher = self.reader.searcher();
        let limit = limit.min(usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX));
        if limit == 0 {
            return Ok(Vec::new());
        }
        let Some(query) = build_query(query, &self.fields, |name| self.index.tokenizers().get(name)) else {
            return Ok(Vec::new());
        };

        let top_docs = searcher
            .search(&*query, &TopDocs::with_limit(limit).order_by_score())
            .map_err(tantivy_error(&self.dir, "searching"))?;
        let mut hits = Vec::with_capacity(top_docs.len());
        for (score, address) in top_docs {
            let photo_ids = searcher
                .segment_reader(address.segment_ord)
                .fast_fields()
                .u64("photo_id")
                .map_err(tantivy_error(&self.dir, "reading photo ids"))?;
            if let Some(photo_id) = photo_ids.first(address.doc_id) {
                hits.push((photo_id, score));
            }
        }
        Ok(hits)
    }

    /// Returns the number of committed, undeleted documents.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Returns true when no committed document remains.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the catalog generation of the last commit.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Returns the index folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn try_open(dir: &Path, catalog_generation: u64) -> Result<Self, RebuildReason> {
        if !dir.join("meta.json").is_file() {
            return Err(RebuildReason::Missing { dir: dir.to_path_buf() });
        }
        let unreadable = |detail: String| RebuildReason::Unreadable { dir: dir.to_path_buf(), detail };
        let index = Index::open_in_dir(dir).map_err(|e| unreadable(e.to_string()))?;
        let payload = read_payload(&index).map_err(unreadable)?;

        let (schema, fields) = build_schema();
        if payload.schema_version != SCHEMA_VERSION || index.schema() != schema {
            return Err(RebuildReason::SchemaMismatch { expected: SCHEMA_VERSION, found: payload.schema_version });
        }
        if payload.generation != catalog_generation {
            return Err(RebuildReason::Stale { index_generation: payload.generation, catalog_generation });
        }

        register_tokenizers(&index);
        let damaged = index.validate_checksum().map_err(|e| unreadable(e.to_string()))?;
        if !damaged.is_empty() {
            let mut names: Vec<String> = damaged.iter().map(|path| path.display().to_string()).collect();
            names.sort();
            return Err(unreadable(format!("files fail their checksum: {}", names.join(", "))));
        }
        let reader = open_reader(&index).map_err(|e| unreadable(e.to_string()))?;
        Ok(KeywordIndex { dir: dir.to_path_buf(), index, reader, writer: None, fields, generation: payload.generation })
    }

    fn writer(&mut self) -> Result<&mut IndexWriter, KeywordError> {
        let writer = match self.writer.take() {
            Some(writer) => writer,
            None => self
                .index
                .writer_with_num_threads(1, UPDATE_MEMORY_BYTES)
                .map_err(tantivy_error(&self.dir, "opening a writer"))?,
        };
        Ok(self.writer.insert(writer))
    }
}

fn read_payload(index: &Index) -> Result<CommitPayload, String> {
    let metas = index.load_metas().map_err(|e| e.to_string())?;
    let Some(payload) = metas.payload else {
        return Err("no commit records a generation; the last rebuild did not finish".to_string());
    };
    serde_json::from_str(&payload).map_err(|e| format!("the commit payload {payload:?} is invalid: {e}"))
}

fn commit_with_payload(writer: &mut IndexWriter, dir: &Path, generation: u64) -> Result<(), KeywordError> {
    let payload = serde_json::to_string(&CommitPayload { schema_version: SCHEMA_VERSION, generation })
        .expect("the payload is two integers and always serialises");
    let mut prepared = writer.prepare_commit().map_err(tantivy_error(dir, "preparing a commit"))?;
    prepared.set_payload(&payload);
    prepared.commit().map_err(tantivy_error(dir, "committing"))?;
    Ok(())
}

fn open_reader(index: &Index) -> tantivy::Result<IndexReader> {
    index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()
}

/// Creates `dir`, or deletes the files in it after checking that it has no
/// subfolders.
fn clear_dir(dir: &Path) -> Result<(), KeywordError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| KeywordError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;

    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let file_type = entry.file_type().map_err(io_error(&entry.path()))?;
        if file_type.is_dir() {
            return Err(KeywordError::NotIndexDir { dir: dir.to_path_buf(), entry: entry.path() });
        }
        files.push(entry.path());
    }
    for file in files {
        std::fs::remove_file(&file).map_err(io_error(&file))?;
    }
    Ok(())
}

fn tantivy_error(dir: &Path, operation: &'static str) -> impl FnOnce(tantivy::TantivyError) -> KeywordError {
    let dir = dir.to_path_buf();
    move |source| match source {
        tantivy::TantivyError::LockFailure(tantivy::directory::error::LockError::LockBusy, _) => KeywordError::Busy { dir },
        source => KeywordError::Tantivy { dir, operation, source },
    }
}
