//! Catalog tests: schema versions and fixtures, write batches, moves and duplicates,
//! orphans, failures, damaged embeddings and kill safety.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use xunying::catalog::{
    hash_bytes, Catalog, CatalogError, CatalogOp, ContentId, ContentRef, FolderId, FolderState, NewContent,
    NewEmbedding, NewFailure, NewFile, NewRegion, PhotoMetadata, RegionBox, RegionId, RegionRow, RegionSource, SCHEMA_VERSION,
};

use crate::support::repo_root;

const MODEL: &str = "test/catalog/1";
const DIM: usize = 8;

fn hash_of(name: &str) -> String {
    hash_bytes(name.as_bytes())
}

fn vector(seed: u64, dim: usize) -> Vec<f32> {
    (0..dim).map(|i| (seed * 31 + i as u64) as f32 * 0.25 - 3.0).collect()
}

fn region(seed: u64, dim: usize) -> NewRegion {
    let x = seed as f32;
    NewRegion {
        region_box: RegionBox { x0: x, y0: x + 1.0, x1: x + 10.0, y1: x + 20.0 },
        source: RegionSource::Segment,
        score: 0.5,
        embedding: vector(seed + 1000, dim),
    }
}

fn content(name: &str, num_regions: u64) -> NewContent {
    let seed = name.bytes().map(u64::from).sum::<u64>();
    NewContent {
        hash: hash_of(name),
        metadata: PhotoMetadata {
            width: Some(640),
            height: Some(480),
            format: Some("jpeg".to_string()),
            camera_model: Some(name.to_string()),
            ..PhotoMetadata::default()
        },
        embedding: Some(NewEmbedding {
            model_id: MODEL.to_string(),
            vector: vector(seed, DIM),
            regions: (0..num_regions).map(|r| region(seed * 10 + r, DIM)).collect(),
        }),
    }
}

fn file(folder_id: FolderId, path: &str, content_name: &str) -> NewFile {
    NewFile {
        folder_id,
        path: path.to_string(),
        size: 1000,
        mtime_ns: 42,
        sample_hash: None,
        content: ContentRef::Hash(hash_of(content_name)),
    }
}

/// A catalog in a temporary directory with the test model active and one folder.
fn new_catalog() -> (tempfile::TempDir, Catalog, FolderId) {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = Catalog::open(&dir.path().join("catalog.sqlite")).unwrap();
    catalog.mark_all_for_reembedding(MODEL).unwrap();
    let folder_id = catalog.add_folder(Path::new("/photos")).unwrap();
    (dir, catalog, folder_id)
}

/// Inserts one content with its file in one batch.
fn add_photo(catalog: &mut Catalog, folder_id: FolderId, path: &str, name: &str, num_regions: u64) -> ContentId {
    let outcome = catalog
        .write_batch(&[CatalogOp::UpsertContent(content(name, num_regions)), CatalogOp::UpsertFile(file(folder_id, path, name))])
        .unwrap();
    catalog.file_by_path(path).unwrap().unwrap().content_id.max(outcome.contents_changed[0])
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn user_version(path: &Path) -> u32 {
    raw(path).pragma_query_value(None, "user_version", |row| row.get(0)).unwrap()
}

// Schema versions and fixtures.

#[test]
fn new_catalog_has_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");

    let catalog = Catalog::open(&path).unwrap();
    assert_eq!(catalog.schema_version(), SCHEMA_VERSION);
    assert_eq!(catalog.generation().unwrap(), 0);
    assert_eq!(catalog.active_model().unwrap(), None);
    drop(catalog);
    assert_eq!(user_version(&path), SCHEMA_VERSION);

    let journal_mode: String = raw(&path).pragma_query_value(None, "journal_mode", |row| row.get(0)).unwrap();
    assert_eq!(journal_mode, "wal");

    let reopened = Catalog::open(&path).unwrap();
    assert_eq!(reopened.schema_version(), SCHEMA_VERSION);
    drop(reopened);
    assert_eq!(user_version(&path), SCHEMA_VERSION);
}

#[test]
fn version_zero_database_migrates() {
    let dir = tempfile::tempdir().unwrap();
    for (name, prepare) in [("zero-bytes.sqlite", false), ("pragma-only.sqlite", true)] {
        let path = dir.path().join(name);
        std::fs::write(&path, b"").unwrap();
        if prepare {
            let conn = raw(&path);
            conn.pragma_update(None, "user_version", 0).unwrap();
            conn.pragma_update(None, "page_size", 1024).unwrap();
            conn.execute_batch("VACUUM").unwrap();
        }
        assert_eq!(user_version(&path), 0, "{name}");

        let mut catalog = Catalog::open(&path).unwrap();
        let folder_id = catalog.add_folder(Path::new("/photos")).unwrap();
        assert_eq!(catalog.folders().unwrap()[0].id, folder_id, "{name}");
        drop(catalog);

        assert_eq!(user_version(&path), SCHEMA_VERSION, "{name}");
        let application_id: i32 = raw(&path).pragma_query_value(None, "application_id", |row| row.get(0)).unwrap();
        assert_eq!(application_id, 0x5859_4e47, "{name}");
    }
}

#[test]
fn foreign_database_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let with_tables = dir.path().join("other-app.sqlite");
    raw(&with_tables).execute_batch("CREATE TABLE notes (body TEXT)").unwrap();
    let with_id = dir.path().join("other-id.sqlite");
    raw(&with_id).pragma_update(None, "application_id", 1234).unwrap();

    for path in [with_tables, with_id] {
        let error = Catalog::open(&path).err().unwrap();
        assert!(matches!(error, CatalogError::NotACatalog { .. }), "{}: {error}", path.display());
    }
}

#[test]
fn newer_schema_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    drop(Catalog::open(&path).unwrap());
    raw(&path).pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();

    let error = Catalog::open(&path).err().unwrap();
    assert!(
        matches!(error, CatalogError::SchemaTooNew { found, supported, .. } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{error}"
    );
    let error = Catalog::open_read_only(&path).err().unwrap();
    assert!(matches!(error, CatalogError::SchemaTooNew { .. }), "{error}");
}

/// Copies a committed fixture to a temporary directory, because opening it switches
/// it to WAL mode and may migrate it.
fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::copy(repo_root().join("tests/fixtures/catalog").join(name), &path).unwrap();
    (dir, path)
}

#[test]
fn v1_fixture_still_opens() {
    let (_dir, path) = fixture_copy("v1.sqlite");
    let catalog = Catalog::open(&path).unwrap();

    assert_eq!(catalog.generation().unwrap(), 3);
    assert_eq!(catalog.active_model().unwrap().as_deref(), Some("fixture/model/1"));
    assert_eq!(catalog.model_dimension("fixture/model/1").unwrap(), Some(4));

    let folders = catalog.folders().unwrap();
    assert_eq!(folders.len(), 1);
    assert_eq!(folders[0].path, PathBuf::from("/photos"));
    assert_eq!(folders[0].state, FolderState::Active);

    let files = catalog.files_in_folder(folders[0].id).unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["/photos/cat-copy.jpg", "/photos/cat.jpg", "/photos/dog.png"]);
    assert_eq!(catalog.count_files_in_folder(folders[0].id).unwrap(), 3);
    assert_eq!(files[0].content_id, files[1].content_id);
    assert_eq!(files[1].size, 2048);
    assert_eq!(files[1].mtime_ns, 1_700_000_000_123_456_789);

    let cat = catalog.content_by_hash(&hash_of("cat")).unwrap().unwrap();
    assert_eq!(cat.id, files[1].content_id);
    assert_eq!(cat.metadata.width, Some(4032));
    assert_eq!(cat.metadata.taken_at.as_deref(), Some("2024-05-01T09:30:00"));
    assert_eq!(cat.metadata.camera_model.as_deref(), Some("Pixel 8"));
    assert_eq!(cat.metadata.gps_lat, Some(31.2304));
    let embedding = catalog.content_embedding(cat.id).unwrap().unwrap();
    assert_eq!(embedding.vector, [0.5, -0.5, 0.25, 1.0]);

    let regions = catalog.region_embeddings_for_content(cat.id).unwrap();
    assert_eq!(regions.len(), 2);
    assert_eq!(regions[0].region.source, RegionSource::Segment);
    assert_eq!(regions[0].region.region_box, RegionBox { x0: 10.0, y0: 20.0, x1: 110.0, y1: 220.0 });
    assert_eq!(regions[1].region.source, RegionSource::Whole);
    assert_eq!(regions[1].embedding, [1.0, 0.0, 0.0, 0.0]);

    let dog = catalog.content_by_hash(&hash_of("dog")).unwrap().unwrap();
    assert_eq!(dog.model_id, None);
    assert_eq!(catalog.contents_needing_embedding(10).unwrap()[0].path, "/photos/dog.png");

    let failure = catalog.failure_for("/photos/broken.jpg").unwrap().unwrap();
    assert!(failure.permanent);
    assert_eq!(failure.attempts, 2);
    assert_eq!(failure.reason, "not a JPEG file");

    let stats = catalog.stats().unwrap();
    assert_eq!((stats.folders, stats.files, stats.contents, stats.regions), (1, 3, 2, 2));
    assert_eq!((stats.pending, stats.failures, stats.permanent_failures), (1, 1, 1));
    assert!(catalog.integrity_check().unwrap());
}

#[test]
fn read_only_reads_but_never_writes() {
    let (_dir, catalog, folder_id) = new_catalog();
    let path = catalog.path().to_path_buf();
    let mut writer = catalog;
    add_photo(&mut writer, folder_id, "/photos/a.jpg", "a", 1);

    let mut reader = Catalog::open_read_only(&path).unwrap();
    assert_eq!(reader.stats().unwrap().contents, 1);
    assert_eq!(reader.generation().unwrap(), writer.generation().unwrap());

    let error = reader.write_batch(&[CatalogOp::RemoveFile { path: "/photos/a.jpg".to_string() }]).unwrap_err();
    assert!(matches!(error, CatalogError::ReadOnly { .. }), "{error}");
    let error = reader.add_folder(Path::new("/more")).unwrap_err();
    assert!(matches!(error, CatalogError::ReadOnly { .. }), "{error}");

    add_photo(&mut writer, folder_id, "/photos/b.jpg", "b", 1);
    assert_eq!(reader.stats().unwrap().contents, 2, "the reader sees later commits");
}

#[test]
fn read_only_open_needs_migrated_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    raw(&path).pragma_update(None, "user_version", 0).unwrap();

    let error = Catalog::open_read_only(&path).err().unwrap();
    assert!(matches!(error, CatalogError::NeedsMigration { found: 0, .. }), "{error}");
}

// Write batches.

#[test]
fn batch_bumps_generation_once() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let before = catalog.generation().unwrap();

    let mut ops = Vec::new();
    for i in 0..32 {
        let name = format!("photo-{i}");
        ops.push(CatalogOp::UpsertContent(content(&name, i % 4)));
        ops.push(CatalogOp::UpsertFile(file(folder_id, &format!("/photos/{name}.jpg"), &name)));
    }
    ops.push(CatalogOp::RecordFailure(NewFailure {
        path: "/photos/broken.jpg".to_string(),
        size: 10,
        mtime_ns: 1,
        reason: "truncated".to_string(),
        permanent: false,
    }));
    let outcome = catalog.write_batch(&ops).unwrap();

    assert_eq!(outcome.generation, before + 1);
    assert_eq!(catalog.generation().unwrap(), before + 1);
    assert_eq!(outcome.contents_inserted.len(), 32);
    assert_eq!(outcome.contents_embedded, outcome.contents_inserted);
    assert_eq!(outcome.files_upserted.len(), 32);
    assert_eq!(outcome.regions_inserted.len(), (0..32).map(|i| i % 4).sum::<u64>() as usize);
    assert!(outcome.regions_deleted.is_empty());

    let stats = catalog.stats().unwrap();
    assert_eq!((stats.contents, stats.files, stats.pending, stats.failures), (32, 32, 0, 1));

    let empty = catalog.write_batch(&[]).unwrap();
    assert_eq!(empty.generation, before + 1, "an empty batch commits nothing");
}

#[test]
fn failed_batch_writes_nothing() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    add_photo(&mut catalog, folder_id, "/photos/kept.jpg", "kept", 2);
    let generation = catalog.generation().unwrap();
    let stats = catalog.stats().unwrap();

    let mut nan_score = content("nan", 1);
    nan_score.embedding.as_mut().unwrap().regions[0].score = f32::NAN;
    let good_ops = vec![
        CatalogOp::UpsertContent(content("new", 3)),
        CatalogOp::UpsertFile(file(folder_id, "/photos/new.jpg", "new")),
        CatalogOp::MoveFile { from: "/photos/kept.jpg".to_string(), to: "/photos/moved.jpg".to_string(), folder_id },
        CatalogOp::RecordFailure(NewFailure {
            path: "/photos/bad.jpg".to_string(),
            size: 1,
            mtime_ns: 1,
            reason: "bad".to_string(),
            permanent: true,
        }),
    ];
    let failing_ops = [
        // SQLite stores NaN as NULL, so the NOT NULL constraint on regions.score fails.
        CatalogOp::UpsertContent(nan_score),
        CatalogOp::UpsertFile(file(FolderId(999), "/elsewhere/x.jpg", "new")),
        CatalogOp::MoveFile { from: "/photos/missing.jpg".to_string(), to: "/photos/x.jpg".to_string(), folder_id },
        CatalogOp::UpsertFile(file(folder_id, "/photos/y.jpg", "never-inserted")),
    ];

    for failing in failing_ops {
        let mut ops = good_ops.clone();
        ops.push(failing.clone());
        let error = catalog.write_batch(&ops).unwrap_err();

        assert_eq!(catalog.generation().unwrap(), generation, "{error}");
        assert_eq!(catalog.stats().unwrap(), stats, "{error}");
        assert!(catalog.file_by_path("/photos/new.jpg").unwrap().is_none(), "{error}");
        assert!(catalog.file_by_path("/photos/kept.jpg").unwrap().is_some(), "{error}");
        assert!(catalog.failure_for("/photos/bad.jpg").unwrap().is_none(), "{error}");
    }
    assert!(catalog.integrity_check().unwrap());
}

#[test]
fn failed_batch_errors_are_typed() {
    let (_dir, mut catalog, folder_id) = new_catalog();

    let error = catalog.write_batch(&[CatalogOp::UpsertFile(file(FolderId(999), "/x.jpg", "x"))]).unwrap_err();
    assert!(matches!(error, CatalogError::FolderNotFound { folder_id: 999 }), "{error}");

    let error = catalog.write_batch(&[CatalogOp::UpsertFile(file(folder_id, "/photos/x.jpg", "x"))]).unwrap_err();
    assert!(matches!(error, CatalogError::ContentNotFound { .. }), "{error}");

    let move_op = CatalogOp::MoveFile { from: "/photos/gone.jpg".to_string(), to: "/photos/x.jpg".to_string(), folder_id };
    let error = catalog.write_batch(&[move_op]).unwrap_err();
    assert!(matches!(&error, CatalogError::FileNotFound { path } if path == "/photos/gone.jpg"), "{error}");

    let mut bad_hash = content("x", 0);
    bad_hash.hash = "/photos/x.jpg".to_string();
    let error = catalog.write_batch(&[CatalogOp::UpsertContent(bad_hash)]).unwrap_err();
    assert!(matches!(error, CatalogError::InvalidHash { .. }), "{error}");

    let mut bad_box = content("x", 1);
    bad_box.embedding.as_mut().unwrap().regions[0].region_box.x1 = -5.0;
    let error = catalog.write_batch(&[CatalogOp::UpsertContent(bad_box)]).unwrap_err();
    assert!(matches!(error, CatalogError::InvalidValue { table: "regions", .. }), "{error}");

    let message = error.to_string();
    assert!(message.contains('\n'), "messages are bilingual: {message}");
}

#[test]
fn embeddings_must_match_model_and_dimension() {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = Catalog::open(&dir.path().join("catalog.sqlite")).unwrap();

    let error = catalog.write_batch(&[CatalogOp::UpsertContent(content("a", 0))]).unwrap_err();
    assert!(matches!(&error, CatalogError::ModelMismatch { expected, .. } if expected == "none"), "{error}");

    catalog.mark_all_for_reembedding(MODEL).unwrap();
    catalog.write_batch(&[CatalogOp::UpsertContent(content("a", 1))]).unwrap();
    assert_eq!(catalog.model_dimension(MODEL).unwrap(), Some(DIM));

    let mut other_model = content("b", 0);
    other_model.embedding.as_mut().unwrap().model_id = "test/other/1".to_string();
    let error = catalog.write_batch(&[CatalogOp::UpsertContent(other_model)]).unwrap_err();
    assert!(matches!(&error, CatalogError::ModelMismatch { found, .. } if found == "test/other/1"), "{error}");

    let mut short = content("b", 0);
    short.embedding.as_mut().unwrap().vector.pop();
    let error = catalog.write_batch(&[CatalogOp::UpsertContent(short)]).unwrap_err();
    assert!(
        matches!(error, CatalogError::EmbeddingDimension { expected: DIM, found, .. } if found == DIM - 1),
        "{error}"
    );

    let mut short_region = content("b", 2);
    short_region.embedding.as_mut().unwrap().regions[1].embedding.push(0.0);
    let error = catalog.write_batch(&[CatalogOp::UpsertContent(short_region)]).unwrap_err();
    assert!(matches!(error, CatalogError::EmbeddingDimension { found, .. } if found == DIM + 1), "{error}");
}

#[test]
fn new_embedding_replaces_regions() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let content_id = add_photo(&mut catalog, folder_id, "/photos/a.jpg", "a", 3);
    let old_regions: Vec<_> =
        catalog.region_embeddings_for_content(content_id).unwrap().iter().map(|r| r.region.id).collect();

    let mut embedding = content("a", 0).embedding.unwrap();
    embedding.vector = vector(77, DIM);
    embedding.regions = vec![region(5, DIM), region(6, DIM)];
    let outcome = catalog
        .write_batch(&[CatalogOp::SetEmbedding { content: ContentRef::Id(content_id), embedding }])
        .unwrap();

    assert_eq!(outcome.regions_deleted, old_regions);
    assert_eq!(outcome.regions_inserted.len(), 2);
    assert!(
        outcome.regions_inserted.iter().all(|id| id > old_regions.last().unwrap()),
        "region ids are never reused"
    );
    assert_eq!(outcome.contents_embedded, [content_id]);
    assert!(outcome.contents_inserted.is_empty());
    assert_eq!(catalog.content_embedding(content_id).unwrap().unwrap().vector, vector(77, DIM));
    assert_eq!(catalog.region_embeddings_for_content(content_id).unwrap()[1].embedding, vector(1006, DIM));
    assert_eq!(catalog.stats().unwrap().regions, 2);
}

#[test]
fn upsert_without_embedding_keeps_vectors() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let content_id = add_photo(&mut catalog, folder_id, "/photos/a.jpg", "a", 2);

    let mut update = content("a", 0);
    update.embedding = None;
    update.metadata.taken_at = Some("2020-01-01T00:00:00".to_string());
    let outcome = catalog.write_batch(&[CatalogOp::UpsertContent(update)]).unwrap();

    assert_eq!(outcome.contents_changed, [content_id]);
    assert!(outcome.contents_embedded.is_empty());
    let stored = catalog.content(content_id).unwrap().unwrap();
    assert_eq!(stored.metadata.taken_at.as_deref(), Some("2020-01-01T00:00:00"));
    assert_eq!(stored.model_id.as_deref(), Some(MODEL));
    assert_eq!(catalog.region_embeddings_for_content(content_id).unwrap().len(), 2);
}

// Moves, duplicates and orphans.

#[test]
fn move_keeps_content_and_vectors() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let other_folder = catalog.add_folder(Path::new("/archive")).unwrap();
    let content_id = add_photo(&mut catalog, folder_id, "/photos/a.jpg", "a", 2);
    let file_id = catalog.file_by_path("/photos/a.jpg").unwrap().unwrap().id;
    let regions_before = catalog.region_embeddings_for_content(content_id).unwrap();
    let vector_before = catalog.content_embedding(content_id).unwrap();

    let outcome = catalog
        .write_batch(&[CatalogOp::MoveFile {
            from: "/photos/a.jpg".to_string(),
            to: "/archive/renamed.jpg".to_string(),
            folder_id: other_folder,
        }])
        .unwrap();

    assert!(outcome.contents_embedded.is_empty(), "a move needs no inference");
    assert!(outcome.regions_inserted.is_empty());
    assert_eq!(outcome.files_upserted, [file_id]);
    assert!(catalog.file_by_path("/photos/a.jpg").unwrap().is_none());
    let moved = catalog.file_by_path("/archive/renamed.jpg").unwrap().unwrap();
    assert_eq!((moved.id, moved.content_id, moved.folder_id), (file_id, content_id, other_folder));
    assert_eq!(catalog.content_embedding(content_id).unwrap(), vector_before);
    assert_eq!(catalog.region_embeddings_for_content(content_id).unwrap(), regions_before);
    assert_eq!(catalog.collect_orphans().unwrap(), (vec![], vec![]));
}

#[test]
fn new_path_reuses_known_content() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let content_id = add_photo(&mut catalog, folder_id, "/photos/a.jpg", "a", 2);

    let mut new_row = file(folder_id, "/photos/b.jpg", "a");
    new_row.content = ContentRef::Id(content_id);
    let outcome = catalog
        .write_batch(&[CatalogOp::UpsertFile(new_row), CatalogOp::RemoveFile { path: "/photos/a.jpg".to_string() }])
        .unwrap();

    assert!(outcome.contents_embedded.is_empty());
    assert!(outcome.contents_inserted.is_empty());
    assert_eq!(outcome.files_removed.len(), 1);
    assert_eq!(catalog.file_by_path("/photos/b.jpg").unwrap().unwrap().content_id, content_id);
    assert_eq!(catalog.collect_orphans().unwrap(), (vec![], vec![]));
    assert_eq!(catalog.region_embeddings_for_content(content_id).unwrap().len(), 2);
}

#[test]
fn move_onto_existing_path_replaces_it() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    add_photo(&mut catalog, folder_id, "/photos/a.jpg", "a", 0);
    add_photo(&mut catalog, folder_id, "/photos/b.jpg", "b", 0);
    let replaced = catalog.file_by_path("/photos/b.jpg").unwrap().unwrap();

    let outcome = catalog
        .write_batch(&[CatalogOp::MoveFile { from: "/photos/a.jpg".to_string(), to: "/photos/b.jpg".to_string(), folder_id }])
        .unwrap();

    assert_eq!(outcome.files_removed, [replaced.id]);
    assert_eq!(catalog.file_by_path("/photos/b.jpg").unwrap().unwrap().content_id.0, replaced.content_id.0 - 1);
    assert_eq!(catalog.collect_orphans().unwrap().0, [replaced.content_id]);
}

#[test]
fn duplicates_share_one_content() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let outcome = catalog
        .write_batch(&[
            CatalogOp::UpsertContent(content("same", 1)),
            CatalogOp::UpsertFile(file(folder_id, "/photos/one.jpg", "same")),
            CatalogOp::UpsertFile(file(folder_id, "/photos/two.jpg", "same")),
        ])
        .unwrap();

    assert_eq!(outcome.contents_inserted.len(), 1);
    let content_id = outcome.contents_inserted[0];
    let stats = catalog.stats().unwrap();
    assert_eq!((stats.contents, stats.files, stats.regions), (1, 2, 1));
    assert_eq!(catalog.files_of_content(content_id).unwrap().len(), 2);

    let photos = catalog.photos_for_contents(&[content_id]).unwrap();
    let paths: Vec<&str> = photos.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["/photos/one.jpg", "/photos/two.jpg"]);
    assert!(photos.iter().all(|p| p.metadata.camera_model.as_deref() == Some("same")));
}

#[test]
fn last_file_removal_orphans_content() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    catalog
        .write_batch(&[
            CatalogOp::UpsertContent(content("dup", 3)),
            CatalogOp::UpsertFile(file(folder_id, "/photos/one.jpg", "dup")),
            CatalogOp::UpsertFile(file(folder_id, "/photos/two.jpg", "dup")),
        ])
        .unwrap();
    let keep = add_photo(&mut catalog, folder_id, "/photos/keep.jpg", "keep", 1);
    let content_id = catalog.content_by_hash(&hash_of("dup")).unwrap().unwrap().id;
    let region_ids: Vec<_> =
        catalog.region_embeddings_for_content(content_id).unwrap().iter().map(|r| r.region.id).collect();

    catalog.write_batch(&[CatalogOp::RemoveFile { path: "/photos/one.jpg".to_string() }]).unwrap();
    assert_eq!(catalog.collect_orphans().unwrap(), (vec![], vec![]), "one file still holds the content");

    catalog.write_batch(&[CatalogOp::RemoveFile { path: "/photos/two.jpg".to_string() }]).unwrap();
    let generation = catalog.generation().unwrap();
    let (contents, regions) = catalog.collect_orphans().unwrap();

    assert_eq!(contents, [content_id]);
    assert_eq!(regions, region_ids);
    assert_eq!(catalog.generation().unwrap(), generation + 1);
    assert!(catalog.content(content_id).unwrap().is_none());
    assert!(catalog.regions_for(&region_ids).unwrap().is_empty());
    let stats = catalog.stats().unwrap();
    assert_eq!((stats.contents, stats.regions), (1, 1));
    assert!(catalog.content(keep).unwrap().is_some());

    assert_eq!(catalog.collect_orphans().unwrap(), (vec![], vec![]));
    assert_eq!(catalog.generation().unwrap(), generation + 1, "nothing collected, no new generation");
}

#[test]
fn removed_folder_loses_files_keeps_id() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let content_id = add_photo(&mut catalog, folder_id, "/photos/a.jpg", "a", 1);
    let file_id = catalog.file_by_path("/photos/a.jpg").unwrap().unwrap().id;

    let outcome = catalog.remove_folder(folder_id).unwrap();

    assert_eq!(outcome.files_removed, [file_id]);
    assert_eq!(outcome.contents_changed, [content_id]);
    assert_eq!(catalog.folders().unwrap()[0].state, FolderState::Removed);
    assert!(catalog.files_in_folder(folder_id).unwrap().is_empty());
    assert_eq!(catalog.count_files_in_folder(folder_id).unwrap(), 0);
    assert!(catalog.content(content_id).unwrap().is_some(), "contents wait for orphan collection");

    assert_eq!(catalog.add_folder(Path::new("/photos")).unwrap(), folder_id);
    assert_eq!(catalog.folders().unwrap()[0].state, FolderState::Active);
}

#[test]
fn folder_state_changes() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let generation = catalog.generation().unwrap();

    catalog.set_folder_state(folder_id, FolderState::Offline).unwrap();
    assert_eq!(catalog.folders().unwrap()[0].state, FolderState::Offline);
    assert_eq!(catalog.generation().unwrap(), generation);

    let error = catalog.set_folder_state(folder_id, FolderState::Removed).unwrap_err();
    assert!(matches!(error, CatalogError::InvalidValue { .. }), "{error}");
    let error = catalog.set_folder_state(FolderId(999), FolderState::Active).unwrap_err();
    assert!(matches!(error, CatalogError::FolderNotFound { folder_id: 999 }), "{error}");
}

// Failures.

#[test]
fn failures_count_attempts() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let failure = |mtime_ns: i64, permanent: bool| {
        CatalogOp::RecordFailure(NewFailure {
            path: "/photos/bad.jpg".to_string(),
            size: 500,
            mtime_ns,
            reason: "not a JPEG file".to_string(),
            permanent,
        })
    };

    catalog.write_batch(&[failure(7, false)]).unwrap();
    catalog.write_batch(&[failure(7, true)]).unwrap();
    let record = catalog.failure_for("/photos/bad.jpg").unwrap().unwrap();
    assert_eq!(record.attempts, 2);
    assert!(record.permanent);
    assert_eq!((record.size, record.mtime_ns), (500, 7));
    assert!(record.is_permanent_for(500, 7));
    assert!(!record.is_permanent_for(500, 8));
    assert!(!record.is_permanent_for(501, 7));
    assert_eq!(catalog.stats().unwrap().permanent_failures, 1);

    catalog.write_batch(&[failure(8, true)]).unwrap();
    assert_eq!(catalog.failure_for("/photos/bad.jpg").unwrap().unwrap().attempts, 1, "a changed file starts over");
    assert_eq!(catalog.failures().unwrap().len(), 1);

    catalog
        .write_batch(&[
            CatalogOp::UpsertContent(content("fixed", 0)),
            CatalogOp::UpsertFile(file(folder_id, "/photos/bad.jpg", "fixed")),
        ])
        .unwrap();
    assert!(catalog.failure_for("/photos/bad.jpg").unwrap().is_none(), "a catalogued file has no failure");

    catalog.write_batch(&[failure(9, false)]).unwrap();
    catalog.write_batch(&[CatalogOp::ClearFailure { path: "/photos/bad.jpg".to_string() }]).unwrap();
    assert!(catalog.failures().unwrap().is_empty());
}

// Reads for derived indexes.

#[test]
fn embeddings_iterate_by_model() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let a = add_photo(&mut catalog, folder_id, "/photos/a.jpg", "a", 2);
    let b = add_photo(&mut catalog, folder_id, "/photos/b.jpg", "b", 1);

    let mut contents = Vec::new();
    catalog.for_each_content_embedding(MODEL, |id, vector| contents.push((id, vector.to_vec()))).unwrap();
    assert_eq!(contents.len(), 2);
    assert_eq!(contents[0].0, a);
    assert_eq!(contents[1], (b, catalog.content_embedding(b).unwrap().unwrap().vector));

    let mut regions = Vec::new();
    catalog.for_each_region_embedding(MODEL, |region_id, content_id, vector| {
        regions.push((region_id, content_id, vector.len()))
    })
    .unwrap();
    let owners: Vec<_> = regions.iter().map(|r| r.1).collect();
    assert_eq!(owners, [a, a, b]);
    assert!(regions.iter().all(|r| r.2 == DIM));

    let mut other = 0;
    catalog.for_each_content_embedding("test/other/1", |_, _| other += 1).unwrap();
    assert_eq!(other, 0);
}

#[test]
fn lookups_follow_input_order() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let a = add_photo(&mut catalog, folder_id, "/photos/a.jpg", "a", 1);
    let b = add_photo(&mut catalog, folder_id, "/photos/b.jpg", "b", 1);
    let region_a = catalog.region_embeddings_for_content(a).unwrap()[0].region.clone();
    let region_b = catalog.region_embeddings_for_content(b).unwrap()[0].region.clone();

    let photos = catalog.photos_for_contents(&[b, ContentId(999), a]).unwrap();
    let order: Vec<_> = photos.iter().map(|p| p.content_id).collect();
    assert_eq!(order, [b, a]);
    assert_eq!(photos[0].path, "/photos/b.jpg");
    assert_eq!((photos[0].size, photos[0].mtime_ns), (1000, 42));

    let regions = catalog.regions_for(&[region_b.id, region_a.id]).unwrap();
    assert_eq!(regions, [region_b, region_a]);

    let all: Vec<_> = catalog.all_photos().unwrap().into_iter().map(|p| p.path).collect();
    assert_eq!(all, ["/photos/a.jpg", "/photos/b.jpg"]);
}

#[test]
fn many_ids_are_looked_up_in_chunks() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let mut ops = Vec::new();
    for i in 0..1200 {
        let name = format!("p{i}");
        ops.push(CatalogOp::UpsertContent(content(&name, 0)));
        ops.push(CatalogOp::UpsertFile(file(folder_id, &format!("/photos/{name}.jpg"), &name)));
    }
    let outcome = catalog.write_batch(&ops).unwrap();

    let mut ids = outcome.contents_inserted.clone();
    ids.reverse();
    let photos = catalog.photos_for_contents(&ids).unwrap();
    let order: Vec<_> = photos.iter().map(|p| p.content_id).collect();
    assert_eq!(order, ids);
}

#[test]
fn model_switch_clears_vectors() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let a = add_photo(&mut catalog, folder_id, "/photos/a.jpg", "a", 2);
    add_photo(&mut catalog, folder_id, "/photos/b.jpg", "b", 1);
    let generation = catalog.generation().unwrap();

    assert_eq!(catalog.mark_all_for_reembedding("test/next/1").unwrap(), 2);

    assert_eq!(catalog.generation().unwrap(), generation + 1);
    assert_eq!(catalog.active_model().unwrap().as_deref(), Some("test/next/1"));
    let stats = catalog.stats().unwrap();
    assert_eq!((stats.contents, stats.pending, stats.regions), (2, 2, 0));
    assert!(catalog.content_embedding(a).unwrap().is_none());
    let pending = catalog.contents_needing_embedding(1).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].content_id, pending[0].path.as_str()), (a, "/photos/a.jpg"));

    let error = catalog.write_batch(&[CatalogOp::UpsertContent(content("a", 1))]).unwrap_err();
    assert!(matches!(error, CatalogError::ModelMismatch { .. }), "old vectors never come back: {error}");

    let embedding = NewEmbedding { model_id: "test/next/1".to_string(), vector: vec![1.0; 3], regions: vec![] };
    catalog.write_batch(&[CatalogOp::SetEmbedding { content: ContentRef::Hash(hash_of("a")), embedding }]).unwrap();
    assert_eq!(catalog.content_embedding(a).unwrap().unwrap().vector, [1.0; 3]);
    assert_eq!(catalog.stats().unwrap().pending, 1);
}

#[test]
fn visits_the_vectors_of_a_set_of_contents() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    // More contents than one query's list of ids holds.
    let names: Vec<String> = (0..620).map(|i| format!("set{i}")).collect();
    let mut ops = Vec::new();
    for (i, name) in names.iter().enumerate() {
        ops.push(CatalogOp::UpsertContent(content(name, i as u64 % 3)));
        ops.push(CatalogOp::UpsertFile(file(folder_id, &format!("/photos/{name}.jpg"), name)));
    }
    catalog.write_batch(&ops).unwrap();
    let ids: Vec<ContentId> = names.iter().map(|n| catalog.content_by_hash(&hash_of(n)).unwrap().unwrap().id).collect();

    let mut vectors = HashMap::new();
    catalog.visit_content_embeddings(MODEL, &ids, |id, vector| assert!(vectors.insert(id, vector.to_vec()).is_none())).unwrap();
    assert_eq!(vectors.len(), ids.len());
    let mut regions: HashMap<ContentId, Vec<(RegionRow, Vec<f32>)>> = HashMap::new();
    catalog.visit_region_embeddings(MODEL, &ids, |row, vector| regions.entry(row.content_id).or_default().push((row.clone(), vector.to_vec()))).unwrap();
    for id in &ids {
        assert_eq!(vectors[id], catalog.content_embedding(*id).unwrap().unwrap().vector, "content {id:?}");
        let mut visited = regions.remove(id).unwrap_or_default();
        visited.sort_by_key(|(row, _)| row.id);
        let stored: Vec<(RegionRow, Vec<f32>)> =
            catalog.region_embeddings_for_content(*id).unwrap().into_iter().map(|r| (r.region, r.embedding)).collect();
        assert_eq!(visited, stored, "regions of {id:?}");
    }

    let mut subset = Vec::new();
    catalog.visit_region_embeddings(MODEL, &ids[1..3], |row, _| subset.push(row.content_id)).unwrap();
    assert_eq!(subset.len(), 1 + 2, "the second and third contents have 1 and 2 regions");
    assert!(subset.iter().all(|id| ids[1..3].contains(id)));

    let expected_regions: Vec<RegionRow> = ids[..40].iter().flat_map(|id| catalog.region_embeddings_for_content(*id).unwrap()).map(|r| r.region).collect();
    let mut expected_ids: Vec<RegionId> = expected_regions.iter().map(|r| r.id).collect();
    expected_ids.push(RegionId(i64::MAX));
    let mut by_id = Vec::new();
    catalog.visit_regions_by_id(MODEL, &expected_ids, |row, vector| by_id.push((row.clone(), vector.len()))).unwrap();
    by_id.sort_by_key(|(row, _)| row.id);
    assert_eq!(by_id.iter().map(|(row, _)| row.clone()).collect::<Vec<_>>(), expected_regions, "regions by id; an unknown id is skipped");
    assert!(by_id.iter().all(|(_, len)| *len == DIM));

    let mut other = 0;
    catalog.visit_regions_by_id("test/other/1", &expected_ids, |_, _| other += 1).unwrap();
    catalog.visit_content_embeddings("test/other/1", &ids, |_, _| other += 1).unwrap();
    catalog.visit_region_embeddings("test/other/1", &ids, |_, _| other += 1).unwrap();
    assert_eq!(other, 0, "an unknown model has no vectors");

    catalog.mark_all_for_reembedding("test/other/1").unwrap();
    let mut after_switch = 0;
    for model in [MODEL, "test/other/1"] {
        catalog.visit_content_embeddings(model, &ids, |_, _| after_switch += 1).unwrap();
        catalog.visit_region_embeddings(model, &ids, |_, _| after_switch += 1).unwrap();
        catalog.visit_regions_by_id(model, &expected_ids, |_, _| after_switch += 1).unwrap();
    }
    assert_eq!(after_switch, 0, "after a model switch no content has vectors until it is embedded again");
}

// Damaged embeddings.

#[test]
fn wrong_length_blob_is_typed_error() {
    let (_dir, mut catalog, folder_id) = new_catalog();
    let a = add_photo(&mut catalog, folder_id, "/photos/a.jpg", "a", 1);
    let b = add_photo(&mut catalog, folder_id, "/photos/b.jpg", "b", 2);
    let damaged_region = catalog.region_embeddings_for_content(b).unwrap()[1].region.id;
    let conn = raw(catalog.path());
    conn.execute("UPDATE contents SET embedding = x'0001020304' WHERE id = ?1", [b.0]).unwrap();
    conn.execute("UPDATE regions SET embedding = x'00010203' WHERE id = ?1", [damaged_region.0]).unwrap();

    let mut seen = Vec::new();
    let error = catalog.for_each_content_embedding(MODEL, |id, _| seen.push(id)).unwrap_err();
    assert_eq!(seen, [a], "rows before the damaged one are visited");
    assert!(
        matches!(error, CatalogError::ContentEmbeddingLength { content_id, expected_bytes, found_bytes: 5, .. }
            if content_id == b.0 && expected_bytes == DIM * 4),
        "{error}"
    );
    assert!(error.to_string().contains(&b.0.to_string()));

    let error = catalog.content_embedding(b).unwrap_err();
    assert!(matches!(error, CatalogError::ContentEmbeddingLength { .. }), "{error}");

    let error = catalog.for_each_region_embedding(MODEL, |_, _, _| {}).unwrap_err();
    assert!(
        matches!(error, CatalogError::RegionEmbeddingLength { region_id, content_id, found_bytes: 4, .. }
            if region_id == damaged_region.0 && content_id == b.0),
        "{error}"
    );
    let error = catalog.region_embeddings_for_content(b).unwrap_err();
    assert!(matches!(error, CatalogError::RegionEmbeddingLength { .. }), "{error}");
}

// Kill safety.

const KILL_DB_ENV: &str = "XUNYING_TEST_CATALOG_KILL_DB";
const KILL_READY: &str = "catalog-writer-ready";
const KILL_MODEL: &str = "test/kill/1";
const KILL_DIM: usize = 128;
const KILL_PHOTOS_PER_BATCH: u64 = 32;

fn kill_hash(batch: u64, item: u64) -> String {
    hash_of(&format!("kill {batch} {item}"))
}

fn kill_vector(batch: u64, item: u64, region: u64) -> Vec<f32> {
    (0..KILL_DIM as u64).map(|i| (batch * 1_000_000 + item * 1000 + region * 100 + i) as f32).collect()
}

fn kill_num_regions(batch: u64, item: u64) -> u64 {
    (batch + item) % 5
}

fn kill_path(batch: u64, item: u64) -> String {
    format!("/photos/{batch}-{item}.jpg")
}

/// Ops of writer batch `batch`: 32 photos with regions, a move and a removal of files
/// of batch `batch - 2`, and a failure.
fn kill_batch(batch: u64, folder_id: FolderId) -> Vec<CatalogOp> {
    let mut ops = Vec::new();
    for item in 0..KILL_PHOTOS_PER_BATCH {
        let hash = kill_hash(batch, item);
        let regions = (0..kill_num_regions(batch, item))
            .map(|r| NewRegion {
                region_box: RegionBox { x0: 0.0, y0: 0.0, x1: r as f32, y1: r as f32 },
                source: RegionSource::Grid,
                score: 1.0,
                embedding: kill_vector(batch, item, r + 1),
            })
            .collect();
        ops.push(CatalogOp::UpsertContent(NewContent {
            hash: hash.clone(),
            metadata: PhotoMetadata { camera_model: Some(format!("{batch} {item}")), ..PhotoMetadata::default() },
            embedding: Some(NewEmbedding {
                model_id: KILL_MODEL.to_string(),
                vector: kill_vector(batch, item, 0),
                regions,
            }),
        }));
        ops.push(CatalogOp::UpsertFile(NewFile {
            folder_id,
            path: kill_path(batch, item),
            size: batch * 100 + item,
            mtime_ns: 0,
            sample_hash: None,
            content: ContentRef::Hash(hash),
        }));
    }
    if batch >= 2 {
        ops.push(CatalogOp::MoveFile {
            from: kill_path(batch - 2, 0),
            to: format!("/photos/moved/{}-0.jpg", batch - 2),
            folder_id,
        });
        ops.push(CatalogOp::RemoveFile { path: kill_path(batch - 2, 1) });
    }
    ops.push(CatalogOp::RecordFailure(NewFailure {
        path: format!("/photos/broken-{batch}.jpg"),
        size: 1,
        mtime_ns: 1,
        reason: "truncated".to_string(),
        permanent: true,
    }));
    ops
}

/// Parses the `camera_model` written by [`kill_batch`] back into batch and item.
fn kill_item(catalog: &Catalog, content_id: ContentId) -> (u64, u64) {
    let record = catalog.content(content_id).unwrap().unwrap();
    let label = record.metadata.camera_model.unwrap();
    let (batch, item) = label.split_once(' ').unwrap();
    let (batch, item) = (batch.parse().unwrap(), item.parse().unwrap());
    assert_eq!(record.hash, kill_hash(batch, item));
    (batch, item)
}

/// The batch the writer continues with: one past the highest batch in the catalog.
fn next_kill_batch(catalog: &Catalog) -> u64 {
    let mut next = 0;
    catalog
        .for_each_photo(|photo| {
            let (batch, _) = photo.metadata.camera_model.as_deref().unwrap().split_once(' ').unwrap();
            next = next.max(batch.parse::<u64>().unwrap() + 1);
        })
        .unwrap();
    next
}

/// The writer process of `kill_during_writes_keeps_catalog_whole`: writes batches until
/// it is killed, or for 20 s at most.
#[test]
#[ignore = "child process of kill_during_writes_keeps_catalog_whole; runs only when spawned by it"]
fn kill_writer_child() {
    let path = PathBuf::from(std::env::var_os(KILL_DB_ENV).expect("the database path is passed by the parent test"));
    let mut catalog = Catalog::open(&path).unwrap();
    if catalog.active_model().unwrap().as_deref() != Some(KILL_MODEL) {
        catalog.mark_all_for_reembedding(KILL_MODEL).unwrap();
    }
    let folder_id = catalog.add_folder(Path::new("/photos")).unwrap();
    let mut batch = next_kill_batch(&catalog);
    println!("{KILL_READY}");

    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        catalog.write_batch(&kill_batch(batch, folder_id)).unwrap();
        if batch % 7 == 0 {
            catalog.collect_orphans().unwrap();
        }
        batch += 1;
    }
}

/// A small xorshift generator, so kill times vary without a dependency.
struct KillTimer(u64);

impl KillTimer {
    fn delay(&mut self) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(self.0 % 150)
    }
}

#[test]
fn kill_during_writes_keeps_catalog_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut timer = KillTimer(seed);
    let mut batches_seen = Vec::new();

    for round in 0..8 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "catalog::kill_writer_child", "--ignored", "--nocapture", "--test-threads=1"])
            .env(KILL_DB_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Odd rounds may kill the writer while it opens or migrates the catalog.
        if round % 2 == 0 {
            let stdout = BufReader::new(child.stdout.take().unwrap());
            let ready = stdout.lines().map_while(Result::ok).any(|line| line.contains(KILL_READY));
            assert!(ready, "round {round}: the writer never got ready (seed {seed})");
        }
        std::thread::sleep(timer.delay());
        child.kill().unwrap();
        child.wait().unwrap();

        let catalog = Catalog::open(&path).unwrap_or_else(|e| panic!("round {round}, seed {seed}: {e}"));
        let num_batches = check_kill_catalog(&catalog, round, seed);
        println!("round {round}: {num_batches} batches committed");
        batches_seen.push(num_batches);
    }
    assert!(batches_seen.last().copied().unwrap_or(0) > 0, "no batch was ever committed (seed {seed})");
}

/// Checks that every committed batch is whole; returns how many batches were committed.
fn check_kill_catalog(catalog: &Catalog, round: u32, seed: u64) -> u64 {
    let context = format!("round {round}, seed {seed}");
    assert!(catalog.integrity_check().unwrap(), "{context}");
    let num_batches = next_kill_batch(catalog);

    let mut items_per_batch = vec![0u64; num_batches as usize];
    let mut num_embeddings = 0;
    catalog
        .for_each_content_embedding(KILL_MODEL, |content_id, vector| {
            let (batch, item) = kill_item(catalog, content_id);
            assert_eq!(vector, kill_vector(batch, item, 0).as_slice(), "{context}: content {batch} {item}");
            let regions = catalog.region_embeddings_for_content(content_id).unwrap();
            assert_eq!(regions.len() as u64, kill_num_regions(batch, item), "{context}: regions of {batch} {item}");
            for (r, region) in regions.iter().enumerate() {
                assert_eq!(region.embedding, kill_vector(batch, item, r as u64 + 1), "{context}");
            }
            if item >= 2 {
                items_per_batch[batch as usize] += 1;
            }
            num_embeddings += 1;
        })
        .unwrap();

    let stats = catalog.stats().unwrap();
    assert_eq!(stats.contents, num_embeddings, "{context}: every content is embedded");
    assert_eq!(stats.pending, 0, "{context}");
    for (batch, count) in items_per_batch.iter().enumerate() {
        assert_eq!(*count, KILL_PHOTOS_PER_BATCH - 2, "{context}: batch {batch} is partial");
    }
    assert_eq!(stats.failures, num_batches, "{context}: one failure per committed batch");

    for batch in 0..num_batches {
        let moved = catalog.file_by_path(&format!("/photos/moved/{batch}-0.jpg")).unwrap().is_some();
        let in_place = catalog.file_by_path(&kill_path(batch, 0)).unwrap().is_some();
        assert!(moved != in_place, "{context}: file 0 of batch {batch} is in exactly one place");
        assert_eq!(moved, batch + 2 < num_batches, "{context}: batch {batch}");
        let removed = catalog.file_by_path(&kill_path(batch, 1)).unwrap().is_none();
        assert_eq!(removed, batch + 2 < num_batches, "{context}: batch {batch}");
    }
    num_batches
}


#[test]
fn concurrent_first_opens_all_succeed() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.sqlite");
        let barrier = std::sync::Barrier::new(6);
        let errors: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|i| {
                    let (path, barrier) = (&path, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        let opened = if i % 2 == 0 { Catalog::open(path).map(drop) } else { Catalog::open(path).and_then(|c| c.stats()).map(drop) };
                        opened.err().map(|e| e.to_string())
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().unwrap()).collect()
        });
        assert!(errors.is_empty(), "round {round}: {errors:?}");
    }
}
