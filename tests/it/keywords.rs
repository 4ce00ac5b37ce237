//! The tantivy keyword index: Chinese and English matching, dates, changes, damage.

use std::path::Path;

use xunying::keywords::{KeywordDoc, KeywordError, KeywordIndex, OpenOutcome, RebuildReason};

fn doc(photo_id: u64, path: &str) -> KeywordDoc {
    KeywordDoc { photo_id, path: path.to_string(), camera: None, taken_at: None, text: None }
}

fn library() -> Vec<KeywordDoc> {
    vec![
        doc(1, "/photos/我的猫.jpg"),
        doc(2, "/photos/2023旅行照片/IMG_0001.jpg"),
        doc(3, "/photos/2023旅行照片/猫在沙发上.jpg"),
        doc(4, "/Pictures/Beach Trip/x.png"),
        KeywordDoc { camera: Some("Canon EOS R5 RF24-105mm F4 L IS USM".to_string()), ..doc(5, "/Pictures/DSC01234.JPG") },
        KeywordDoc { taken_at: Some("2023-07-14T09:30:00".to_string()), ..doc(6, "/Pictures/misc/P1000.jpg") },
        KeywordDoc { taken_at: Some("2022:08:01 10:00:00".to_string()), ..doc(7, "/Pictures/misc/P1001.jpg") },
        doc(8, "/photos/银行/statement.png"),
        KeywordDoc { text: Some("生日派对 birthday cake".to_string()), ..doc(9, "/photos/party/IMG_0100.jpg") },
        doc(10, "/photos/dog.jpg"),
    ]
}

fn rebuilt(dir: &Path, docs: Vec<KeywordDoc>, generation: u64) -> KeywordIndex {
    KeywordIndex::rebuild(dir, docs, generation).unwrap()
}

fn ids(index: &KeywordIndex, query: &str) -> Vec<u64> {
    index.search(query, 20).unwrap().into_iter().map(|(id, _)| id).collect()
}

fn expect_ready(outcome: OpenOutcome) -> Box<KeywordIndex> {
    match outcome {
        OpenOutcome::Ready(index) => index,
        OpenOutcome::NeedsRebuild { reason } => panic!("expected a ready index, got a rebuild: {reason}"),
    }
}

fn expect_rebuild(outcome: OpenOutcome) -> RebuildReason {
    match outcome {
        OpenOutcome::Ready(index) => panic!("expected a rebuild, got a ready index: {index:?}"),
        OpenOutcome::NeedsRebuild { reason } => reason,
    }
}

#[test]
fn single_han_character_matches() {
    let dir = tempfile::tempdir().unwrap();
    let index = rebuilt(dir.path(), library(), 1);
    let found = ids(&index, "猫");
    assert!(found.contains(&1), "{found:?}");
    assert!(found.contains(&3), "{found:?}");
    assert!(!found.contains(&10), "{found:?}");
}

#[test]
fn han_word_inside_folder_name_matches() {
    let dir = tempfile::tempdir().unwrap();
    let index = rebuilt(dir.path(), library(), 1);
    let found = ids(&index, "旅行");
    assert!(found.contains(&2), "{found:?}");
    assert!(found.contains(&3), "{found:?}");
    assert!(!found.contains(&8), "银行 shares only 行 with 旅行: {found:?}");
}

#[test]
fn photo_with_both_words_ranks_first() {
    let dir = tempfile::tempdir().unwrap();
    let index = rebuilt(dir.path(), library(), 1);
    let found = ids(&index, "猫 旅行");
    assert_eq!(found.first(), Some(&3), "{found:?}");
    assert!(found.contains(&1), "{found:?}");
    assert!(found.contains(&2), "{found:?}");
}

#[test]
fn english_matches_ignore_case() {
    let dir = tempfile::tempdir().unwrap();
    let index = rebuilt(dir.path(), library(), 1);
    for query in ["beach", "BEACH", "Beach trip"] {
        assert_eq!(ids(&index, query).first(), Some(&4), "{query}");
    }
    assert_eq!(ids(&index, "dsc").first(), Some(&5), "letters of DSC01234");
}

#[test]
fn camera_matches() {
    let dir = tempfile::tempdir().unwrap();
    let index = rebuilt(dir.path(), library(), 1);
    assert_eq!(ids(&index, "canon"), [5]);
    assert_eq!(ids(&index, "eos r5").first(), Some(&5));
}

#[test]
fn loose_dates_match() {
    let dir = tempfile::tempdir().unwrap();
    let index = rebuilt(dir.path(), library(), 1);
    for query in ["2023", "2023年7月", "2023年7月14日", "July 2023", "2023-07-14", "2023/7/14", "7月"] {
        let found = ids(&index, query);
        assert!(found.contains(&6), "{query}: {found:?}");
    }
    assert_eq!(ids(&index, "2023年7月").first(), Some(&6), "a date outranks 2023 in a folder name");
    assert!(!ids(&index, "2023年8月").contains(&6));
    assert_eq!(ids(&index, "2022年8月").first(), Some(&7), "EXIF date form");
}

#[test]
fn free_text_matches() {
    let dir = tempfile::tempdir().unwrap();
    let index = rebuilt(dir.path(), library(), 1);
    assert_eq!(ids(&index, "生日").first(), Some(&9));
    assert_eq!(ids(&index, "Birthday").first(), Some(&9));
}

#[test]
fn upsert_replaces_document() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = rebuilt(dir.path(), library(), 1);
    index.upsert(&[doc(1, "/photos/我的狗.jpg")]).unwrap();
    assert!(ids(&index, "狗").is_empty(), "changes are visible only after commit");
    index.commit(2).unwrap();

    assert!(!ids(&index, "猫").contains(&1));
    assert_eq!(ids(&index, "狗"), [1]);
    assert_eq!(index.len(), 10);
    assert_eq!(index.generation(), 2);
}

#[test]
fn delete_removes_document() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = rebuilt(dir.path(), library(), 1);
    index.delete(&[1, 404]).unwrap();
    index.commit(2).unwrap();
    assert!(!ids(&index, "猫").contains(&1));
    assert_eq!(index.len(), 9);
}

#[test]
fn garbage_queries_return_ok() {
    let dir = tempfile::tempdir().unwrap();
    let index = rebuilt(dir.path(), library(), 1);
    let long = "猫a\"(".repeat(2_500);
    let queries = [
        "", " ", "\"", "(", ")", "*", "a:b", "path:猫", "a:\"(", "\"unterminated", "+-!^~", "[1 TO 2]", "\\",
        "😀🐱", "\u{0000}\u{0007}\u{001b}[31m", "\u{200b}\u{feff}", long.as_str(),
    ];
    for query in queries {
        let result = index.search(query, 10);
        assert!(result.is_ok(), "{query:?}: {result:?}");
    }
    assert!(index.search("😀🐱", 10).unwrap().is_empty());
    assert!(ids(&index, "path:猫").contains(&1), "`path:` is plain text, and 猫 still matches");
    assert!(index.search("猫", 0).unwrap().is_empty());
    assert!(index.search("猫", usize::MAX).is_ok());
}

#[test]
fn empty_index_searches() {
    let dir = tempfile::tempdir().unwrap();
    let index = rebuilt(dir.path(), Vec::new(), 1);
    assert!(index.is_empty());
    assert!(index.search("猫", 10).unwrap().is_empty());
    assert!(index.search("*", 10).unwrap().is_empty());
}

#[test]
fn commit_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = rebuilt(dir.path(), library(), 1);
    index.upsert(&[doc(11, "/photos/熊猫.jpg")]).unwrap();
    index.commit(2).unwrap();
    drop(index);

    let reopened = expect_ready(KeywordIndex::open(dir.path(), 2));
    assert_eq!(reopened.generation(), 2);
    assert!(ids(&reopened, "熊猫").contains(&11));
}

#[test]
fn uncommitted_changes_are_lost_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = rebuilt(dir.path(), library(), 1);
    index.upsert(&[doc(11, "/photos/熊猫.jpg")]).unwrap();
    drop(index);

    let reopened = expect_ready(KeywordIndex::open(dir.path(), 1));
    assert!(!ids(&reopened, "熊猫").contains(&11));
}

#[test]
fn missing_dir_needs_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("keywords");
    assert_eq!(expect_rebuild(KeywordIndex::open(&absent, 0)), RebuildReason::Missing { dir: absent.clone() });
    std::fs::create_dir(&absent).unwrap();
    assert_eq!(expect_rebuild(KeywordIndex::open(&absent, 0)), RebuildReason::Missing { dir: absent });
}

#[test]
fn corrupt_files_need_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    drop(rebuilt(dir.path(), library(), 1));
    let segment_files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "idx" || ext == "term" || ext == "store"))
        .collect();
    assert!(!segment_files.is_empty());

    for file in segment_files {
        let original = std::fs::read(&file).unwrap();
        let mut damaged = original.clone();
        let middle = damaged.len() / 2;
        damaged[middle] ^= 0xff;
        for (case, bytes) in [("flipped byte", damaged), ("truncated", original[..original.len() / 2].to_vec())] {
            std::fs::write(&file, &bytes).unwrap();
            let reason = expect_rebuild(KeywordIndex::open(dir.path(), 1));
            assert!(matches!(reason, RebuildReason::Unreadable { .. }), "{case} {}: {reason}", file.display());
        }
        std::fs::remove_file(&file).unwrap();
        let reason = expect_rebuild(KeywordIndex::open(dir.path(), 1));
        assert!(matches!(reason, RebuildReason::Unreadable { .. }), "removed {}: {reason}", file.display());
        std::fs::write(&file, &original).unwrap();
        expect_ready(KeywordIndex::open(dir.path(), 1));
    }
}

#[test]
fn garbage_meta_needs_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    drop(rebuilt(dir.path(), library(), 1));
    std::fs::write(dir.path().join("meta.json"), b"{ not json").unwrap();
    let reason = expect_rebuild(KeywordIndex::open(dir.path(), 1));
    assert!(matches!(reason, RebuildReason::Unreadable { .. }), "{reason}");
}

/// Rewrites the commit payload in `meta.json`, as another build would have written it.
fn set_payload(dir: &Path, payload: Option<&str>) {
    let meta_file = dir.join("meta.json");
    let mut meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&meta_file).unwrap()).unwrap();
    meta["payload"] = payload.map_or(serde_json::Value::Null, |text| text.into());
    std::fs::write(&meta_file, serde_json::to_vec(&meta).unwrap()).unwrap();
}

#[test]
fn schema_version_mismatch_needs_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    drop(rebuilt(dir.path(), library(), 1));
    set_payload(dir.path(), Some(r#"{"schema_version":99,"generation":1}"#));
    let reason = expect_rebuild(KeywordIndex::open(dir.path(), 1));
    assert_eq!(reason, RebuildReason::SchemaMismatch { expected: xunying::keywords::SCHEMA_VERSION, found: 99 });
}

#[test]
fn unfinished_rebuild_needs_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    drop(rebuilt(dir.path(), library(), 1));
    set_payload(dir.path(), None);
    let reason = expect_rebuild(KeywordIndex::open(dir.path(), 1));
    assert!(matches!(reason, RebuildReason::Unreadable { .. }), "{reason}");
}

#[test]
fn generation_mismatch_needs_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    drop(rebuilt(dir.path(), library(), 4));
    let reason = expect_rebuild(KeywordIndex::open(dir.path(), 5));
    assert_eq!(reason, RebuildReason::Stale { index_generation: 4, catalog_generation: 5 });
    expect_ready(KeywordIndex::open(dir.path(), 4));
}

#[test]
fn rebuild_replaces_damaged_index() {
    let dir = tempfile::tempdir().unwrap();
    drop(rebuilt(dir.path(), library(), 1));
    std::fs::write(dir.path().join("meta.json"), b"garbage").unwrap();
    let index = rebuilt(dir.path(), library(), 2);
    assert_eq!(index.len(), 10);
    expect_ready(KeywordIndex::open(dir.path(), 2));
}

#[test]
fn rebuild_refuses_folder_with_subfolders() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("thumbs")).unwrap();
    std::fs::write(dir.path().join("catalog.sqlite"), b"precious").unwrap();
    let error = KeywordIndex::rebuild(dir.path(), library(), 1).unwrap_err();
    assert!(matches!(error, KeywordError::NotIndexDir { .. }), "{error:?}");
    assert!(dir.path().join("catalog.sqlite").exists(), "nothing is deleted");
}

#[test]
fn rebuild_matches_incremental_build() {
    let dir = tempfile::tempdir().unwrap();
    let incremental_dir = dir.path().join("incremental");
    let rebuilt_dir = dir.path().join("rebuilt");
    let docs = library();

    let mut incremental = rebuilt(&incremental_dir, Vec::new(), 0);
    for (generation, chunk) in docs.chunks(3).enumerate() {
        incremental.upsert(chunk).unwrap();
        incremental.commit(generation as u64 + 1).unwrap();
    }
    let rebuilt = rebuilt(&rebuilt_dir, docs, 9);

    assert_eq!(incremental.len(), rebuilt.len());
    for query in ["猫", "旅行", "猫 旅行", "beach", "canon", "2023年7月", "jpg", "photos 银行", "生日 cake"] {
        let from_incremental = ranked(incremental.search(query, 20).unwrap());
        let from_rebuild = ranked(rebuilt.search(query, 20).unwrap());
        assert!(!from_rebuild.is_empty(), "{query}");
        assert_eq!(from_incremental, from_rebuild, "{query}");
    }
}

/// Returns hits with scores rounded to 1e-4 and ties ordered by id, because tantivy
/// orders equal scores by segment, and the two builds split documents differently.
fn ranked(hits: Vec<(u64, f32)>) -> Vec<(u64, i64)> {
    let mut rounded: Vec<(u64, i64)> = hits.into_iter().map(|(id, score)| (id, (score * 1e4).round() as i64)).collect();
    rounded.sort_by_key(|&(id, score)| (std::cmp::Reverse(score), id));
    rounded
}

#[test]
fn second_writer_is_told_another_process_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    drop(rebuilt(dir.path(), library(), 1));
    let mut first = expect_ready(KeywordIndex::open(dir.path(), 1));
    first.upsert(&[doc(20, "/photos/new.jpg")]).unwrap();

    let mut second = expect_ready(KeywordIndex::open(dir.path(), 1));
    let error = second.upsert(&[doc(21, "/photos/other.jpg")]).unwrap_err();
    assert!(matches!(error, KeywordError::Busy { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("Another Xunying process"), "{message}");
    assert!(message.contains("另一个寻影进程"), "{message}");

    first.commit(2).unwrap();
    drop(first);
    second.upsert(&[doc(21, "/photos/other.jpg")]).expect("the lock is free once the first writer is gone");
}
