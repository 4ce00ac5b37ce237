//! Write batches: every operation of a batch runs in one immediate transaction that
//! ends with one generation bump, so a crash at any instant leaves either the whole
//! batch or none of it.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::columns::{size_to_sql, unix_now};
use super::embedding;
use super::error::{CatalogError, Fault};
use super::identity::is_hex_hash;
use super::read;
use super::types::{
    BatchOutcome, CatalogOp, ContentId, ContentRef, FileId, FolderId, NewContent, NewEmbedding, NewFailure,
    NewFile, NewRegion, RegionId,
};

/// What a transaction changed so far, collected while its operations run.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub(crate) contents_inserted: BTreeSet<ContentId>,
    pub(crate) contents_embedded: BTreeSet<ContentId>,
    pub(crate) contents_changed: BTreeSet<ContentId>,
    pub(crate) regions_inserted: BTreeSet<RegionId>,
    pub(crate) regions_deleted: BTreeSet<RegionId>,
    pub(crate) files_upserted: BTreeSet<FileId>,
    pub(crate) files_removed: BTreeSet<FileId>,
}

impl Changes {
    pub(crate) fn into_outcome(self, generation: u64) -> BatchOutcome {
        BatchOutcome {
            generation,
            contents_inserted: self.contents_inserted.into_iter().collect(),
            contents_embedded: self.contents_embedded.into_iter().collect(),
            contents_changed: self.contents_changed.into_iter().collect(),
            regions_inserted: self.regions_inserted.into_iter().collect(),
            regions_deleted: self.regions_deleted.into_iter().collect(),
            files_upserted: self.files_upserted.into_iter().collect(),
            files_removed: self.files_removed.into_iter().collect(),
        }
    }
}

/// Runs `ops` in order in one transaction and bumps the generation once.
pub(crate) fn write_batch(conn: &mut Connection, ops: &[CatalogOp]) -> Result<BatchOutcome, Fault> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = unix_now();
    let mut changes = Changes::default();

    for op in ops {
        apply(&tx, op, now, &mut changes)?;
    }

    let generation = bump_generation(&tx)?;
    tx.commit()?;
    Ok(changes.into_outcome(generation))
}

/// Increments the generation inside the caller's transaction and returns the new value.
pub(crate) fn bump_generation(tx: &Transaction<'_>) -> Result<u64, Fault> {
    let generation = read::generation(tx)? + 1;
    tx.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'generation'")?
        .execute([generation.to_string()])?;
    Ok(generation)
}

fn apply(tx: &Transaction<'_>, op: &CatalogOp, now: i64, changes: &mut Changes) -> Result<(), Fault> {
    match op {
        CatalogOp::UpsertContent(content) => upsert_content(tx, content, now, changes),
        CatalogOp::SetEmbedding { content, embedding } => {
            let content_id = resolve_content(tx, content)?;
            write_embedding(tx, content_id, &content.to_string(), embedding, now, changes)
        }
        CatalogOp::UpsertFile(file) => upsert_file(tx, file, now, changes),
        CatalogOp::MoveFile { from, to, folder_id } => move_file(tx, from, to, *folder_id, now, changes),
        CatalogOp::RemoveFile { path } => remove_file(tx, path, changes),
        CatalogOp::RecordFailure(failure) => record_failure(tx, failure, now),
        CatalogOp::ClearFailure { path } => clear_failure(tx, path),
    }
}

fn upsert_content(tx: &Transaction<'_>, content: &NewContent, now: i64, changes: &mut Changes) -> Result<(), Fault> {
    check_hash(&content.hash)?;
    let m = &content.metadata;
    let metadata = params![
        content.hash,
        m.width,
        m.height,
        m.format,
        m.taken_at,
        m.camera_make,
        m.camera_model,
        m.lens_model,
        m.gps_lat,
        m.gps_lon,
    ];

    let existing = read::content_id_by_hash(tx, &content.hash)?;
    let content_id = match existing {
        Some(id) => {
            tx.prepare_cached(
                "UPDATE contents SET width = ?2, height = ?3, format = ?4, taken_at = ?5, camera_make = ?6,
                 camera_model = ?7, lens_model = ?8, gps_lat = ?9, gps_lon = ?10 WHERE hash = ?1",
            )?
            .execute(metadata)?;
            id
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO contents (hash, width, height, format, taken_at, camera_make, camera_model,
                 lens_model, gps_lat, gps_lon) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(metadata)?;
            let id = ContentId(tx.last_insert_rowid());
            changes.contents_inserted.insert(id);
            id
        }
    };
    changes.contents_changed.insert(content_id);

    if let Some(embedding) = &content.embedding {
        write_embedding(tx, content_id, &content.hash, embedding, now, changes)?;
    }
    Ok(())
}

/// Stores the content vector and replaces the content's regions. `label` names the
/// content in errors.
fn write_embedding(
    tx: &Transaction<'_>,
    content_id: ContentId,
    label: &str,
    embedding: &NewEmbedding,
    now: i64,
    changes: &mut Changes,
) -> Result<(), Fault> {
    check_model(tx, label, &embedding.model_id)?;
    let dimension = check_dimension(tx, label, &embedding.model_id, embedding.vector.len())?;
    for region in &embedding.regions {
        check_region(region, label, &embedding.model_id, dimension)?;
    }

    tx.prepare_cached("UPDATE contents SET model_id = ?2, embedding = ?3, embedded_at = ?4 WHERE id = ?1")?
        .execute(params![content_id.0, embedding.model_id, embedding::encode(&embedding.vector), now])?;
    changes.contents_embedded.insert(content_id);

    for region_id in read::region_ids_of_content(tx, content_id)? {
        changes.regions_deleted.insert(region_id);
    }
    tx.prepare_cached("DELETE FROM regions WHERE content_id = ?1")?.execute([content_id.0])?;

    let mut insert = tx.prepare_cached(
        "INSERT INTO regions (content_id, x0, y0, x1, y1, source, score, embedding)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for region in &embedding.regions {
        let b = region.region_box;
        insert.execute(params![
            content_id.0,
            b.x0,
            b.y0,
            b.x1,
            b.y1,
            region.source.as_str(),
            region.score,
            embedding::encode(&region.embedding),
        ])?;
        changes.regions_inserted.insert(RegionId(tx.last_insert_rowid()));
    }
    Ok(())
}

/// Rejects an embedding of a model other than the active one, so that vectors of two
/// embedding spaces never coexist.
fn check_model(tx: &Transaction<'_>, label: &str, model_id: &str) -> Result<(), Fault> {
    let active = read::active_model(tx)?;
    if active.as_deref() == Some(model_id) {
        return Ok(());
    }
    Err(Fault::Catalog(CatalogError::ModelMismatch {
        content: label.to_string(),
        expected: active.unwrap_or_else(|| "none".to_string()),
        found: model_id.to_string(),
    }))
}

/// Checks a vector length against the model's recorded dimension, recording it on the
/// model's first embedding.
fn check_dimension(tx: &Transaction<'_>, label: &str, model_id: &str, found: usize) -> Result<usize, Fault> {
    if found == 0 {
        return Err(Fault::Catalog(CatalogError::EmbeddingDimension {
            content: label.to_string(),
            model_id: model_id.to_string(),
            expected: read::model_dimension(tx, model_id)?.unwrap_or(0),
            found,
        }));
    }
    match read::model_dimension(tx, model_id)? {
        Some(expected) if expected == found => Ok(expected),
        Some(expected) => Err(Fault::Catalog(CatalogError::EmbeddingDimension {
            content: label.to_string(),
            model_id: model_id.to_string(),
            expected,
            found,
        })),
        None => {
            tx.prepare_cached("INSERT INTO models (model_id, embed_dim) VALUES (?1, ?2)")?
                .execute(params![model_id, found as i64])?;
            Ok(found)
        }
    }
}

fn check_region(region: &NewRegion, label: &str, model_id: &str, dimension: usize) -> Result<(), Fault> {
    if region.embedding.len() != dimension {
        return Err(Fault::Catalog(CatalogError::EmbeddingDimension {
            content: format!("{label} (region)"),
            model_id: model_id.to_string(),
            expected: dimension,
            found: region.embedding.len(),
        }));
    }
    let b = region.region_box;
    let finite = [b.x0, b.y0, b.x1, b.y1].iter().all(|v| v.is_finite());
    if !finite || b.x0 > b.x1 || b.y0 > b.y1 {
        return Err(Fault::Catalog(CatalogError::InvalidValue {
            table: "regions",
            column: "x0, y0, x1, y1",
            row_id: 0,
            value: format!("{b:?} of content {label}"),
        }));
    }
    Ok(())
}

fn upsert_file(tx: &Transaction<'_>, file: &NewFile, now: i64, changes: &mut Changes) -> Result<(), Fault> {
    check_folder(tx, file.folder_id)?;
    if let Some(sample_hash) = &file.sample_hash {
        check_hash(sample_hash)?;
    }
    let content_id = resolve_content(tx, &file.content)?;
    let size = size_to_sql(file.size, "files")?;

    let existing = read::file_id_and_content(tx, &file.path)?;
    let file_id = match existing {
        Some((file_id, old_content)) => {
            tx.prepare_cached(
                "UPDATE files SET folder_id = ?2, size = ?3, mtime_ns = ?4, sample_hash = ?5, content_id = ?6,
                 seen_at = ?7 WHERE id = ?1",
            )?
            .execute(params![file_id.0, file.folder_id.0, size, file.mtime_ns, file.sample_hash, content_id.0, now])?;
            changes.contents_changed.insert(old_content);
            file_id
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO files (folder_id, path, size, mtime_ns, sample_hash, content_id, seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![file.folder_id.0, file.path, size, file.mtime_ns, file.sample_hash, content_id.0, now])?;
            FileId(tx.last_insert_rowid())
        }
    };
    changes.files_upserted.insert(file_id);
    changes.contents_changed.insert(content_id);

    clear_failure(tx, &file.path)
}

fn move_file(
    tx: &Transaction<'_>,
    from: &str,
    to: &str,
    folder_id: FolderId,
    now: i64,
    changes: &mut Changes,
) -> Result<(), Fault> {
    check_folder(tx, folder_id)?;
    let Some((file_id, content_id)) = read::file_id_and_content(tx, from)? else {
        return Err(Fault::Catalog(CatalogError::FileNotFound { path: from.to_string() }));
    };

    if let Some((replaced_id, replaced_content)) = read::file_id_and_content(tx, to)? {
        if replaced_id != file_id {
            tx.prepare_cached("DELETE FROM files WHERE id = ?1")?.execute([replaced_id.0])?;
            changes.files_removed.insert(replaced_id);
            changes.contents_changed.insert(replaced_content);
        }
    }
    tx.prepare_cached("UPDATE files SET path = ?2, folder_id = ?3, seen_at = ?4 WHERE id = ?1")?
        .execute(params![file_id.0, to, folder_id.0, now])?;
    changes.files_upserted.insert(file_id);
    changes.contents_changed.insert(content_id);

    clear_failure(tx, to)
}

fn remove_file(tx: &Transaction<'_>, path: &str, changes: &mut Changes) -> Result<(), Fault> {
    if let Some((file_id, content_id)) = read::file_id_and_content(tx, path)? {
        tx.prepare_cached("DELETE FROM files WHERE id = ?1")?.execute([file_id.0])?;
        changes.files_removed.insert(file_id);
        changes.contents_changed.insert(content_id);
    }
    clear_failure(tx, path)
}

fn record_failure(tx: &Transaction<'_>, failure: &NewFailure, now: i64) -> Result<(), Fault> {
    let size = size_to_sql(failure.size, "failures")?;
    let previous: Option<(i64, i64, i64)> = tx
        .prepare_cached("SELECT size, mtime_ns, attempts FROM failures WHERE path = ?1")?
        .query_row([&failure.path], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    let attempts = match previous {
        Some((old_size, old_mtime_ns, attempts)) if old_size == size && old_mtime_ns == failure.mtime_ns => {
            attempts.saturating_add(1)
        }
        _ => 1,
    };

    tx.prepare_cached(
        "INSERT INTO failures (path, size, mtime_ns, reason, permanent, attempts, last_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,
             reason = excluded.reason, permanent = excluded.permanent, attempts = excluded.attempts,
             last_attempt_at = excluded.last_attempt_at",
    )?
    .execute(params![failure.path, size, failure.mtime_ns, failure.reason, failure.permanent, attempts, now])?;
    Ok(())
}

fn clear_failure(tx: &Transaction<'_>, path: &str) -> Result<(), Fault> {
    tx.prepare_cached("DELETE FROM failures WHERE path = ?1")?.execute([path])?;
    Ok(())
}

fn resolve_content(tx: &Transaction<'_>, content: &ContentRef) -> Result<ContentId, Fault> {
    let found = match content {
        ContentRef::Id(id) => read::content_exists(tx, *id)?.then_some(*id),
        ContentRef::Hash(hash) => read::content_id_by_hash(tx, hash)?,
    };
    found.ok_or_else(|| Fault::Catalog(CatalogError::ContentNotFound { content: content.to_string() }))
}

fn check_folder(tx: &Transaction<'_>, folder_id: FolderId) -> Result<(), Fault> {
    if read::folder_exists(tx, folder_id)? {
        return Ok(());
    }
    Err(Fault::Catalog(CatalogError::FolderNotFound { folder_id: folder_id.0 }))
}

fn check_hash(hash: &str) -> Result<(), Fault> {
    if is_hex_hash(hash) {
        return Ok(());
    }
    Err(Fault::Catalog(CatalogError::InvalidHash { hash: hash.to_string() }))
}
