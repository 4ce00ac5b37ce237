//! Queries. Every function takes a plain connection, so writes can run them inside
//! their transaction.

use std::collections::HashMap;
use std::path::PathBuf;

use rusqlite::types::ValueRef;
use rusqlite::{params_from_iter, Connection, OptionalExtension, Params, Row, Statement};

use super::columns::{
    decode_content_embedding, decode_region_embedding, invalid, read_metadata, read_u64, METADATA_COLUMNS,
};
use super::error::{CatalogError, Fault};
use super::schema;
use super::types::{
    CatalogStats, ContentId, ContentRecord, FailureRecord, FileId, FileRecord, Folder, FolderId, FolderState,
    PendingContent, PhotoRow, RegionBox, RegionEmbedding, RegionId, RegionRow, RegionSource, StoredEmbedding,
};

/// Ids bound per `IN (...)` query; SQLite allows 32766 parameters, fewer keep
/// statements short.
const IDS_PER_QUERY: usize = 500;

const FILE_COLUMNS: &str = "id, folder_id, path, size, mtime_ns, sample_hash, content_id, seen_at";
const REGION_COLUMNS: &str = "id, content_id, x0, y0, x1, y1, source, score";

pub(crate) fn generation(conn: &Connection) -> Result<u64, Fault> {
    let text: String = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'generation'")?
        .query_row([], |row| row.get(0))?;
    text.parse().map_err(|_| {
        Fault::Catalog(CatalogError::InvalidValue { table: "meta", column: "generation", row_id: 0, value: text })
    })
}

pub(crate) fn active_model(conn: &Connection) -> Result<Option<String>, Fault> {
    let model_id = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'model_id'")?
        .query_row([], |row| row.get(0))
        .optional()?;
    Ok(model_id.flatten())
}

pub(crate) fn model_dimension(conn: &Connection, model_id: &str) -> Result<Option<usize>, Fault> {
    let dimension: Option<i64> = conn
        .prepare_cached("SELECT embed_dim FROM models WHERE model_id = ?1")?
        .query_row([model_id], |row| row.get(0))
        .optional()?;
    dimension
        .map(|value| {
            usize::try_from(value).map_err(|_| {
                Fault::Catalog(CatalogError::InvalidValue {
                    table: "models",
                    column: "embed_dim",
                    row_id: 0,
                    value: format!("{value} for {model_id}"),
                })
            })
        })
        .transpose()
}

pub(crate) fn folders(conn: &Connection) -> Result<Vec<Folder>, Fault> {
    let mut statement = conn.prepare_cached("SELECT id, path, state, added_at FROM folders ORDER BY id")?;
    let mut rows = statement.query([])?;
    let mut folders = Vec::new();
    while let Some(row) = rows.next()? {
        let state: String = row.get(2)?;
        let Some(state) = FolderState::parse(&state) else {
            return Err(invalid(row, "folders", "state", state));
        };
        folders.push(Folder {
            id: FolderId(row.get(0)?),
            path: PathBuf::from(row.get::<_, String>(1)?),
            state,
            added_at: row.get(3)?,
        });
    }
    Ok(folders)
}

pub(crate) fn folder_by_path(conn: &Connection, path: &str) -> Result<Option<(FolderId, FolderState)>, Fault> {
    let found: Option<(i64, String)> = conn
        .prepare_cached("SELECT id, state FROM folders WHERE path = ?1")?
        .query_row([path], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((id, state)) = found else {
        return Ok(None);
    };
    match FolderState::parse(&state) {
        Some(state) => Ok(Some((FolderId(id), state))),
        None => Err(Fault::Catalog(CatalogError::InvalidValue {
            table: "folders",
            column: "state",
            row_id: id,
            value: state,
        })),
    }
}

pub(crate) fn folder_exists(conn: &Connection, folder_id: FolderId) -> Result<bool, Fault> {
    Ok(conn.prepare_cached("SELECT 1 FROM folders WHERE id = ?1")?.exists([folder_id.0])?)
}

fn file_record(row: &Row<'_>) -> Result<FileRecord, Fault> {
    Ok(FileRecord {
        id: FileId(row.get(0)?),
        folder_id: FolderId(row.get(1)?),
        path: row.get(2)?,
        size: read_u64(row, 3, "files", "size")?,
        mtime_ns: row.get(4)?,
        sample_hash: row.get(5)?,
        content_id: ContentId(row.get(6)?),
        seen_at: row.get(7)?,
    })
}

pub(crate) fn file_by_path(conn: &Connection, path: &str) -> Result<Option<FileRecord>, Fault> {
    let mut statement = conn.prepare_cached(&format!("SELECT {FILE_COLUMNS} FROM files WHERE path = ?1"))?;
    let mut rows = statement.query([path])?;
    rows.next()?.map(file_record).transpose()
}

pub(crate) fn files_in_folder(conn: &Connection, folder_id: FolderId) -> Result<Vec<FileRecord>, Fault> {
    let mut statement =
        conn.prepare_cached(&format!("SELECT {FILE_COLUMNS} FROM files WHERE folder_id = ?1 ORDER BY path"))?;
    collect(&mut statement, [folder_id.0], file_record)
}

pub(crate) fn count_files_in_folder(conn: &Connection, folder_id: FolderId) -> Result<u64, Fault> {
    let mut statement = conn.prepare_cached("SELECT COUNT(*) FROM files WHERE folder_id = ?1")?;
    let count: i64 = statement.query_row([folder_id.0], |row| row.get(0))?;
    Ok(count as u64)
}

pub(crate) fn files_of_content(conn: &Connection, content_id: ContentId) -> Result<Vec<FileRecord>, Fault> {
    let mut statement =
        conn.prepare_cached(&format!("SELECT {FILE_COLUMNS} FROM files WHERE content_id = ?1 ORDER BY id"))?;
    collect(&mut statement, [content_id.0], file_record)
}

pub(crate) fn file_id_and_content(conn: &Connection, path: &str) -> Result<Option<(FileId, ContentId)>, Fault> {
    Ok(conn
        .prepare_cached("SELECT id, content_id FROM files WHERE path = ?1")?
        .query_row([path], |row| Ok((FileId(row.get(0)?), ContentId(row.get(1)?))))
        .optional()?)
}

fn content_record(row: &Row<'_>) -> Result<ContentRecord, Fault> {
    Ok(ContentRecord {
        id: ContentId(row.get(0)?),
        hash: row.get(1)?,
        model_id: row.get(2)?,
        embedded_at: row.get(3)?,
        metadata: read_metadata(row, 4)?,
    })
}

pub(crate) fn content_by_hash(conn: &Connection, hash: &str) -> Result<Option<ContentRecord>, Fault> {
    let sql = format!("SELECT id, hash, model_id, embedded_at, {METADATA_COLUMNS} FROM contents WHERE hash = ?1");
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query([hash])?;
    rows.next()?.map(content_record).transpose()
}

pub(crate) fn content(conn: &Connection, content_id: ContentId) -> Result<Option<ContentRecord>, Fault> {
    let sql = format!("SELECT id, hash, model_id, embedded_at, {METADATA_COLUMNS} FROM contents WHERE id = ?1");
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query([content_id.0])?;
    rows.next()?.map(content_record).transpose()
}

pub(crate) fn content_id_by_hash(conn: &Connection, hash: &str) -> Result<Option<ContentId>, Fault> {
    Ok(conn
        .prepare_cached("SELECT id FROM contents WHERE hash = ?1")?
        .query_row([hash], |row| Ok(ContentId(row.get(0)?)))
        .optional()?)
}

pub(crate) fn content_exists(conn: &Connection, content_id: ContentId) -> Result<bool, Fault> {
    Ok(conn.prepare_cached("SELECT 1 FROM contents WHERE id = ?1")?.exists([content_id.0])?)
}

pub(crate) fn content_embedding(conn: &Connection, content_id: ContentId) -> Result<Option<StoredEmbedding>, Fault> {
    let found: Option<(Option<String>, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT model_id, embedding FROM contents WHERE id = ?1")?
        .query_row([content_id.0], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((Some(model_id), Some(bytes))) = found else {
        return Ok(None);
    };
    let dimension = stored_dimension(conn, &model_id)?;
    let mut vector = Vec::new();
    decode_content_embedding(&bytes, dimension, content_id.0, &model_id, &mut vector)?;
    Ok(Some(StoredEmbedding { model_id, vector }))
}

/// The dimension of a model that has stored embeddings; a missing record means the
/// `models` table was damaged, which [`CatalogError::InvalidValue`] reports.
fn stored_dimension(conn: &Connection, model_id: &str) -> Result<usize, Fault> {
    model_dimension(conn, model_id)?.ok_or_else(|| {
        Fault::Catalog(CatalogError::InvalidValue {
            table: "models",
            column: "model_id",
            row_id: 0,
            value: format!("{model_id} (embeddings stored but no dimension recorded)"),
        })
    })
}

pub(crate) fn for_each_content_embedding(
    conn: &Connection,
    model_id: &str,
    mut visit: impl FnMut(ContentId, &[f32]),
) -> Result<(), Fault> {
    let Some(dimension) = model_dimension(conn, model_id)? else {
        return Ok(());
    };
    let mut statement = conn.prepare("SELECT id, embedding FROM contents WHERE model_id = ?1 ORDER BY id")?;
    let mut rows = statement.query([model_id])?;
    let mut vector = Vec::with_capacity(dimension);
    while let Some(row) = rows.next()? {
        let content_id: i64 = row.get(0)?;
        let bytes = blob(row, 1, "contents")?;
        decode_content_embedding(bytes, dimension, content_id, model_id, &mut vector)?;
        visit(ContentId(content_id), &vector);
    }
    Ok(())
}

pub(crate) fn for_each_region_embedding(
    conn: &Connection,
    model_id: &str,
    mut visit: impl FnMut(RegionId, ContentId, &[f32]),
) -> Result<(), Fault> {
    let Some(dimension) = model_dimension(conn, model_id)? else {
        return Ok(());
    };
    let mut statement = conn.prepare(
        "SELECT r.id, r.content_id, r.embedding FROM regions r JOIN contents c ON c.id = r.content_id
         WHERE c.model_id = ?1 ORDER BY r.id",
    )?;
    let mut rows = statement.query([model_id])?;
    let mut vector = Vec::with_capacity(dimension);
    while let Some(row) = rows.next()? {
        let ids: (i64, i64) = (row.get(0)?, row.get(1)?);
        let bytes = blob(row, 2, "regions")?;
        decode_region_embedding(bytes, dimension, ids, model_id, &mut vector)?;
        visit(RegionId(ids.0), ContentId(ids.1), &vector);
    }
    Ok(())
}

/// Calls `visit` with the embedding of each of these contents that has one in
/// `model_id`'s space. Order follows the table, not `ids`.
pub(crate) fn visit_content_embeddings(
    conn: &Connection,
    model_id: &str,
    ids: &[ContentId],
    mut visit: impl FnMut(ContentId, &[f32]),
) -> Result<(), Fault> {
    let Some(dimension) = model_dimension(conn, model_id)? else {
        return Ok(());
    };
    let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let mut vector = Vec::with_capacity(dimension);
    for_each_in_model(conn, "SELECT id, embedding FROM contents WHERE model_id = ?1 AND id IN", model_id, &raw, |row| {
        let content_id: i64 = row.get(0)?;
        decode_content_embedding(blob(row, 1, "contents")?, dimension, content_id, model_id, &mut vector)?;
        visit(ContentId(content_id), &vector);
        Ok(())
    })
}

/// Calls `visit` with every region of these contents, and its embedding, where the
/// content is embedded in `model_id`'s space. Order follows the table, not `ids`.
pub(crate) fn visit_region_embeddings(
    conn: &Connection,
    model_id: &str,
    ids: &[ContentId],
    visit: impl FnMut(&RegionRow, &[f32]),
) -> Result<(), Fault> {
    let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
    visit_regions_where(conn, model_id, "c.id IN", &raw, visit)
}

/// Calls `visit` with each of these regions and its embedding, where its content is
/// embedded in `model_id`'s space. Order follows the table, not `ids`.
pub(crate) fn visit_regions_by_id(
    conn: &Connection,
    model_id: &str,
    ids: &[RegionId],
    visit: impl FnMut(&RegionRow, &[f32]),
) -> Result<(), Fault> {
    let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
    visit_regions_where(conn, model_id, "r.id IN", &raw, visit)
}

/// Visits the regions, with embeddings, whose content is embedded in `model_id`'s space
/// and whose `id_column` (`c.id` or `r.id`, followed by `IN`) is one of `ids`.
fn visit_regions_where(
    conn: &Connection,
    model_id: &str,
    id_column: &str,
    ids: &[i64],
    mut visit: impl FnMut(&RegionRow, &[f32]),
) -> Result<(), Fault> {
    let Some(dimension) = model_dimension(conn, model_id)? else {
        return Ok(());
    };
    // The columns of REGION_COLUMNS, named through the join.
    let sql = format!(
        "SELECT r.id, r.content_id, r.x0, r.y0, r.x1, r.y1, r.source, r.score, r.embedding
         FROM contents c JOIN regions r ON r.content_id = c.id WHERE c.model_id = ?1 AND {id_column}"
    );
    let mut vector = Vec::with_capacity(dimension);
    for_each_in_model(conn, &sql, model_id, ids, |row| {
        let region = region_row(row)?;
        decode_region_embedding(blob(row, 8, "regions")?, dimension, (region.id.0, region.content_id.0), model_id, &mut vector)?;
        visit(&region, &vector);
        Ok(())
    })
}

/// Runs [`for_each_in`] with `model_id` bound to `?1` ahead of the ids.
fn for_each_in_model(
    conn: &Connection,
    sql: &str,
    model_id: &str,
    ids: &[i64],
    mut visit: impl FnMut(&Row<'_>) -> Result<(), Fault>,
) -> Result<(), Fault> {
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let placeholders = vec!["?"; chunk.len()].join(", ");
        let mut statement = conn.prepare_cached(&format!("{sql} ({placeholders})"))?;
        let params = std::iter::once(rusqlite::types::Value::Text(model_id.to_string()))
            .chain(chunk.iter().map(|&id| rusqlite::types::Value::Integer(id)));
        let mut rows = statement.query(params_from_iter(params))?;
        while let Some(row) = rows.next()? {
            visit(row)?;
        }
    }
    Ok(())
}

fn region_row(row: &Row<'_>) -> Result<RegionRow, Fault> {
    let source: String = row.get(6)?;
    let Some(source) = RegionSource::parse(&source) else {
        return Err(invalid(row, "regions", "source", source));
    };
    Ok(RegionRow {
        id: RegionId(row.get(0)?),
        content_id: ContentId(row.get(1)?),
        region_box: RegionBox {
            x0: row.get::<_, f64>(2)? as f32,
            y0: row.get::<_, f64>(3)? as f32,
            x1: row.get::<_, f64>(4)? as f32,
            y1: row.get::<_, f64>(5)? as f32,
        },
        source,
        score: row.get::<_, f64>(7)? as f32,
    })
}

pub(crate) fn region_ids_of_content(conn: &Connection, content_id: ContentId) -> Result<Vec<RegionId>, Fault> {
    let mut statement = conn.prepare_cached("SELECT id FROM regions WHERE content_id = ?1 ORDER BY id")?;
    collect(&mut statement, [content_id.0], |row| Ok(RegionId(row.get(0)?)))
}

pub(crate) fn region_embeddings_for_content(
    conn: &Connection,
    content_id: ContentId,
) -> Result<Vec<RegionEmbedding>, Fault> {
    let Some(StoredModel { model_id, dimension }) = content_model(conn, content_id)? else {
        return Ok(Vec::new());
    };
    let sql = format!("SELECT {REGION_COLUMNS}, embedding FROM regions WHERE content_id = ?1 ORDER BY id");
    let mut statement = conn.prepare_cached(&sql)?;
    collect(&mut statement, [content_id.0], |row| {
        let region = region_row(row)?;
        let mut embedding = Vec::new();
        let bytes = blob(row, 8, "regions")?;
        decode_region_embedding(bytes, dimension, (region.id.0, content_id.0), &model_id, &mut embedding)?;
        Ok(RegionEmbedding { region, embedding })
    })
}

struct StoredModel {
    model_id: String,
    dimension: usize,
}

fn content_model(conn: &Connection, content_id: ContentId) -> Result<Option<StoredModel>, Fault> {
    let model_id: Option<String> = conn
        .prepare_cached("SELECT model_id FROM contents WHERE id = ?1")?
        .query_row([content_id.0], |row| row.get(0))
        .optional()?
        .flatten();
    let Some(model_id) = model_id else {
        return Ok(None);
    };
    let dimension = stored_dimension(conn, &model_id)?;
    Ok(Some(StoredModel { model_id, dimension }))
}

pub(crate) fn regions_for(conn: &Connection, ids: &[RegionId]) -> Result<Vec<RegionRow>, Fault> {
    let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let mut by_id = HashMap::new();
    for_each_in(conn, &format!("SELECT {REGION_COLUMNS} FROM regions WHERE id IN"), &raw, |row| {
        let region = region_row(row)?;
        by_id.insert(region.id, region);
        Ok(())
    })?;
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

fn photo_row(row: &Row<'_>) -> Result<PhotoRow, Fault> {
    Ok(PhotoRow {
        file_id: FileId(row.get(0)?),
        folder_id: FolderId(row.get(1)?),
        path: row.get(2)?,
        size: read_u64(row, 3, "files", "size")?,
        mtime_ns: row.get(4)?,
        content_id: ContentId(row.get(5)?),
        hash: row.get(6)?,
        metadata: read_metadata(row, 7)?,
    })
}

fn photo_select() -> String {
    format!(
        "SELECT f.id, f.folder_id, f.path, f.size, f.mtime_ns, c.id, c.hash, {METADATA_COLUMNS}
         FROM files f JOIN contents c ON c.id = f.content_id"
    )
}

pub(crate) fn photos_for_contents(conn: &Connection, ids: &[ContentId]) -> Result<Vec<PhotoRow>, Fault> {
    let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let mut by_content: HashMap<ContentId, Vec<PhotoRow>> = HashMap::new();
    let sql = format!("{} WHERE f.content_id IN", photo_select());
    for_each_in(conn, &sql, &raw, |row| {
        let photo = photo_row(row)?;
        by_content.entry(photo.content_id).or_default().push(photo);
        Ok(())
    })?;

    let mut photos = Vec::new();
    for id in ids {
        if let Some(mut rows) = by_content.remove(id) {
            rows.sort_by(|a, b| a.path.cmp(&b.path));
            photos.extend(rows);
        }
    }
    Ok(photos)
}

pub(crate) fn photos_for_files(conn: &Connection, ids: &[FileId]) -> Result<Vec<PhotoRow>, Fault> {
    let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let mut by_file: HashMap<FileId, PhotoRow> = HashMap::new();
    let sql = format!("{} WHERE f.id IN", photo_select());
    for_each_in(conn, &sql, &raw, |row| {
        let photo = photo_row(row)?;
        by_file.insert(photo.file_id, photo);
        Ok(())
    })?;
    Ok(ids.iter().filter_map(|id| by_file.remove(id)).collect())
}

pub(crate) fn for_each_photo(conn: &Connection, mut visit: impl FnMut(&PhotoRow)) -> Result<(), Fault> {
    let mut statement = conn.prepare(&format!("{} ORDER BY f.id", photo_select()))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        visit(&photo_row(row)?);
    }
    Ok(())
}

pub(crate) fn contents_needing_embedding(conn: &Connection, limit: usize) -> Result<Vec<PendingContent>, Fault> {
    let mut statement = conn.prepare_cached(
        "SELECT c.id, c.hash, (SELECT f.path FROM files f WHERE f.content_id = c.id ORDER BY f.id LIMIT 1) AS path
         FROM contents c WHERE c.model_id IS NULL AND path IS NOT NULL ORDER BY c.id LIMIT ?1",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    collect(&mut statement, [limit], |row| {
        Ok(PendingContent { content_id: ContentId(row.get(0)?), hash: row.get(1)?, path: row.get(2)? })
    })
}

fn failure_record(row: &Row<'_>) -> Result<FailureRecord, Fault> {
    let attempts: i64 = row.get(6)?;
    Ok(FailureRecord {
        path: row.get(1)?,
        size: read_u64(row, 2, "failures", "size")?,
        mtime_ns: row.get(3)?,
        reason: row.get(4)?,
        permanent: row.get(5)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_attempt_at: row.get(7)?,
    })
}

const FAILURE_COLUMNS: &str = "id, path, size, mtime_ns, reason, permanent, attempts, last_attempt_at";

pub(crate) fn failure_for(conn: &Connection, path: &str) -> Result<Option<FailureRecord>, Fault> {
    let mut statement = conn.prepare_cached(&format!("SELECT {FAILURE_COLUMNS} FROM failures WHERE path = ?1"))?;
    let mut rows = statement.query([path])?;
    rows.next()?.map(failure_record).transpose()
}

pub(crate) fn failures(conn: &Connection) -> Result<Vec<FailureRecord>, Fault> {
    let mut statement = conn.prepare_cached(&format!("SELECT {FAILURE_COLUMNS} FROM failures ORDER BY path"))?;
    collect(&mut statement, [], failure_record)
}

pub(crate) fn stats(conn: &Connection) -> Result<CatalogStats, Fault> {
    let counts: [i64; 7] = conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM folders), (SELECT count(*) FROM files), (SELECT count(*) FROM contents),
                    (SELECT count(*) FROM regions), (SELECT count(*) FROM contents WHERE model_id IS NULL),
                    (SELECT count(*) FROM failures), (SELECT count(*) FROM failures WHERE permanent != 0)",
        )?
        .query_row([], |row| {
            Ok([row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?])
        })?;
    let [folders, files, contents, regions, pending, failures, permanent_failures] = counts.map(|n| n.max(0) as u64);
    Ok(CatalogStats { folders, files, contents, regions, pending, failures, permanent_failures })
}

pub(crate) fn integrity_ok(conn: &Connection) -> Result<bool, Fault> {
    let lines = schema::check_lines(conn, "integrity_check")?;
    let foreign_keys_ok = !conn.prepare("PRAGMA foreign_key_check")?.exists([])?;
    Ok(lines.len() == 1 && lines[0] == "ok" && foreign_keys_ok)
}

/// Runs `sql` followed by a parenthesised placeholder list for each chunk of `ids`.
fn for_each_in(
    conn: &Connection,
    sql: &str,
    ids: &[i64],
    mut visit: impl FnMut(&Row<'_>) -> Result<(), Fault>,
) -> Result<(), Fault> {
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let placeholders = vec!["?"; chunk.len()].join(", ");
        let mut statement = conn.prepare_cached(&format!("{sql} ({placeholders})"))?;
        let mut rows = statement.query(params_from_iter(chunk))?;
        while let Some(row) = rows.next()? {
            visit(row)?;
        }
    }
    Ok(())
}

/// Reads an `embedding` column that must hold a BLOB; the row id is in column 0.
fn blob<'row>(row: &'row Row<'_>, index: usize, table: &'static str) -> Result<&'row [u8], Fault> {
    match row.get_ref(index)? {
        ValueRef::Blob(bytes) => Ok(bytes),
        other => Err(invalid(row, table, "embedding", format!("{:?}", other.data_type()))),
    }
}

fn collect<T>(
    statement: &mut Statement<'_>,
    params: impl Params,
    mut convert: impl FnMut(&Row<'_>) -> Result<T, Fault>,
) -> Result<Vec<T>, Fault> {
    let mut rows = statement.query(params)?;
    let mut items = Vec::new();
    while let Some(row) = rows.next()? {
        items.push(convert(row)?);
    }
    Ok(items)
}
