//! Writes outside of batches: folders, the switch to another model, and garbage
//! collection of contents that no file holds any more.

use rusqlite::{params, Connection, TransactionBehavior};

use super::batch::{bump_generation, Changes};
use super::columns::unix_now;
use super::error::{CatalogError, Fault};
use super::read;
use super::types::{BatchOutcome, ContentId, FolderId, FolderState, RegionId};

/// Adds a folder, or reactivates the folder with this path. Returns its id.
pub(crate) fn add_folder(conn: &mut Connection, path: &str) -> Result<FolderId, Fault> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let folder_id = match read::folder_by_path(&tx, path)? {
        Some((folder_id, FolderState::Active)) => folder_id,
        Some((folder_id, _)) => {
            tx.execute("UPDATE folders SET state = 'active' WHERE id = ?1", [folder_id.0])?;
            folder_id
        }
        None => {
            tx.execute(
                "INSERT INTO folders (path, state, added_at) VALUES (?1, 'active', ?2)",
                params![path, unix_now()],
            )?;
            FolderId(tx.last_insert_rowid())
        }
    };
    tx.commit()?;
    Ok(folder_id)
}

/// Sets a folder to active or offline. Removing goes through [`remove_folder`], which
/// also deletes the file rows.
pub(crate) fn set_folder_state(conn: &Connection, folder_id: FolderId, state: FolderState) -> Result<(), Fault> {
    if state == FolderState::Removed {
        return Err(Fault::Catalog(CatalogError::InvalidValue {
            table: "folders",
            column: "state",
            row_id: folder_id.0,
            value: "removed (call remove_folder, which also deletes the folder's files)".to_string(),
        }));
    }
    let updated = conn.execute("UPDATE folders SET state = ?2 WHERE id = ?1", params![folder_id.0, state.as_str()])?;
    if updated == 0 {
        return Err(Fault::Catalog(CatalogError::FolderNotFound { folder_id: folder_id.0 }));
    }
    Ok(())
}

/// Deletes the folder's file rows and marks it removed, keeping the row so that adding
/// the path again reuses the id. Contents stay until orphan collection.
pub(crate) fn remove_folder(conn: &mut Connection, folder_id: FolderId) -> Result<BatchOutcome, Fault> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !read::folder_exists(&tx, folder_id)? {
        return Err(Fault::Catalog(CatalogError::FolderNotFound { folder_id: folder_id.0 }));
    }

    let mut changes = Changes::default();
    for file in read::files_in_folder(&tx, folder_id)? {
        changes.files_removed.insert(file.id);
        changes.contents_changed.insert(file.content_id);
    }
    tx.execute("DELETE FROM files WHERE folder_id = ?1", [folder_id.0])?;
    tx.execute("UPDATE folders SET state = 'removed' WHERE id = ?1", [folder_id.0])?;

    let generation = bump_generation(&tx)?;
    tx.commit()?;
    Ok(changes.into_outcome(generation))
}

/// Clears every content embedding, deletes every region and makes `model_id` the
/// active model. Returns how many contents lost an embedding.
pub(crate) fn mark_all_for_reembedding(conn: &mut Connection, model_id: &str) -> Result<usize, Fault> {
    if model_id.is_empty() {
        return Err(Fault::Catalog(CatalogError::InvalidValue {
            table: "meta",
            column: "model_id",
            row_id: 0,
            value: String::new(),
        }));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let cleared = tx.execute(
        "UPDATE contents SET model_id = NULL, embedding = NULL, embedded_at = NULL WHERE model_id IS NOT NULL",
        [],
    )?;
    let num_regions = tx.execute("DELETE FROM regions", [])?;
    tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('model_id', ?1)", [model_id])?;
    let generation = bump_generation(&tx)?;
    tx.commit()?;

    tracing::info!(model_id, cleared, num_regions, generation, "switched the catalog to another model");
    Ok(cleared)
}

/// Deletes contents that no file row points at, with their regions. Returns the
/// deleted ids; the generation is bumped only when something was deleted.
pub(crate) fn collect_orphans(conn: &mut Connection) -> Result<(Vec<ContentId>, Vec<RegionId>), Fault> {
    const ORPHANS: &str = "SELECT id FROM contents c WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.content_id = c.id)";
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;

    let content_ids = ids(&tx, &format!("{ORPHANS} ORDER BY id"))?;
    if content_ids.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let region_ids = ids(&tx, &format!("SELECT id FROM regions WHERE content_id IN ({ORPHANS}) ORDER BY id"))?;
    tx.execute(&format!("DELETE FROM regions WHERE content_id IN ({ORPHANS})"), [])?;
    tx.execute(&format!("DELETE FROM contents WHERE id IN ({ORPHANS})"), [])?;
    let generation = bump_generation(&tx)?;
    tx.commit()?;

    tracing::debug!(contents = content_ids.len(), regions = region_ids.len(), generation, "collected orphan contents");
    Ok((content_ids.into_iter().map(ContentId).collect(), region_ids.into_iter().map(RegionId).collect()))
}

/// Returns the hashes of the contents that no file row points at, which the next
/// [`collect_orphans`] deletes.
pub(crate) fn orphan_hashes(conn: &Connection) -> Result<Vec<String>, Fault> {
    let mut statement =
        conn.prepare("SELECT hash FROM contents c WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.content_id = c.id) ORDER BY id")?;
    let hashes = statement.query_map([], |row| row.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(hashes)
}

fn ids(conn: &Connection, sql: &str) -> Result<Vec<i64>, Fault> {
    let mut statement = conn.prepare(sql)?;
    let ids = statement.query_map([], |row| row.get(0))?.collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}
