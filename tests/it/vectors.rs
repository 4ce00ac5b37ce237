//! The usearch vector index: changes, searches, saving, reopening and rebuilding.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use xunying::vectors::{
    header_path, IndexSpec, OpenOutcome, RebuildReason, VectorError, VectorIndex, VectorKind,
};

const MODEL: &str = "test/model/1";

/// A small deterministic generator (SplitMix64), so tests need no RNG crate.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A standard normal value (Box-Muller).
    fn normal(&mut self) -> f32 {
        let u1 = self.uniform().max(1e-7);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
    }

    fn unit_vector(&mut self, dim: usize) -> Vec<f32> {
        normalized((0..dim).map(|_| self.normal()).collect())
    }
}

fn normalized(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    vector.iter_mut().for_each(|x| *x /= norm);
    vector
}

/// `count` unit vectors around `num_clusters` random centres, keyed 0..count.
fn clustered_rows(rng: &mut Rng, count: usize, dim: usize, num_clusters: usize) -> Vec<(u64, Vec<f32>)> {
    let centres: Vec<Vec<f32>> = (0..num_clusters).map(|_| rng.unit_vector(dim)).collect();
    (0..count)
        .map(|i| {
            let centre = &centres[i % num_clusters];
            let noise = rng.unit_vector(dim);
            let vector = centre.iter().zip(&noise).map(|(c, n)| c + 0.6 * n).collect();
            (i as u64, normalized(vector))
        })
        .collect()
}

fn random_rows(rng: &mut Rng, count: usize, dim: usize) -> Vec<(u64, Vec<f32>)> {
    (0..count).map(|i| (i as u64, rng.unit_vector(dim))).collect()
}

fn as_items(rows: &[(u64, Vec<f32>)]) -> Vec<(u64, &[f32])> {
    rows.iter().map(|(key, vector)| (*key, vector.as_slice())).collect()
}

fn build(path: &Path, spec: &IndexSpec, rows: &[(u64, Vec<f32>)]) -> VectorIndex {
    let mut index = VectorIndex::create(path, spec).unwrap();
    index.add_batch(&as_items(rows)).unwrap();
    index
}

fn keys(hits: &[(u64, f32)]) -> Vec<u64> {
    hits.iter().map(|(key, _)| *key).collect()
}

fn expect_ready(outcome: OpenOutcome) -> VectorIndex {
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

/// Builds and saves a 300-vector f16 index at generation 5, returning its path.
fn saved_index(dir: &Path, spec: &IndexSpec) -> PathBuf {
    let path = dir.join("photos.usearch");
    let rows = random_rows(&mut Rng(11), 300, spec.dim);
    build(&path, spec, &rows).save(5).unwrap();
    path
}

#[test]
fn add_search_remove_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 32);
    let rows = random_rows(&mut Rng(1), 100, 32);
    let mut index = build(&dir.path().join("a.usearch"), &spec, &rows);
    assert_eq!(index.len(), 100);

    let hits = index.search(&rows[7].1, 5).unwrap();
    assert_eq!(hits.len(), 5);
    assert_eq!(hits[0].0, 7);
    assert!(hits[0].1 > 0.999, "self-similarity {}", hits[0].1);
    assert!(hits.windows(2).all(|pair| pair[0].1 >= pair[1].1), "{hits:?}");

    assert_eq!(index.remove(&[7, 1000]).unwrap(), 1);
    assert_eq!(index.len(), 99);
    assert!(!index.contains(7));
    let hits = index.search(&rows[7].1, 5).unwrap();
    assert!(!keys(&hits).contains(&7), "{hits:?}");
}

#[test]
fn add_rejects_wrong_length() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = VectorIndex::create(dir.path().join("a.usearch"), &IndexSpec::new(MODEL, 8)).unwrap();
    let good = [0.5f32; 8];
    let short = [0.5f32; 7];
    let error = index.add_batch(&[(1, &good[..]), (3, &short[..])]).unwrap_err();
    assert!(
        matches!(error, VectorError::WrongLength { key: 3, expected_dim: 8, actual_len: 7 }),
        "{error:?}"
    );
    assert!(error.to_string().contains("key 3"), "{error}");
    assert_eq!(index.len(), 0, "a rejected batch adds nothing");
}

#[test]
fn add_rejects_non_finite_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = VectorIndex::create(dir.path().join("a.usearch"), &IndexSpec::new(MODEL, 4)).unwrap();
    let error = index.add_batch(&[(9, &[0.1, f32::NAN, 0.2, 0.3][..])]).unwrap_err();
    assert!(matches!(error, VectorError::NonFinite { key: 9 }), "{error:?}");
}

#[test]
fn search_rejects_bad_queries() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 16);
    let index = build(&dir.path().join("a.usearch"), &spec, &random_rows(&mut Rng(2), 20, 16));
    let error = index.search(&[0.1; 15], 3).unwrap_err();
    assert!(matches!(error, VectorError::QueryLength { expected_dim: 16, actual_len: 15 }), "{error:?}");
    let mut query = vec![0.1; 16];
    query[3] = f32::INFINITY;
    assert!(matches!(index.search(&query, 3).unwrap_err(), VectorError::NonFiniteQuery));
}

#[test]
fn search_of_empty_index_and_large_k() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 16);
    let empty = VectorIndex::create(dir.path().join("e.usearch"), &spec).unwrap();
    assert!(empty.search(&[0.25; 16], 10).unwrap().is_empty());
    assert!(empty.exact_search(&[0.25; 16], 10).unwrap().is_empty());

    let index = build(&dir.path().join("a.usearch"), &spec, &random_rows(&mut Rng(3), 12, 16));
    assert_eq!(index.search(&[0.25; 16], 100).unwrap().len(), 12);
    assert!(index.search(&[0.25; 16], 0).unwrap().is_empty());
}

#[test]
fn add_replaces_existing_key() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 32);
    let mut rng = Rng(4);
    let first = rng.unit_vector(32);
    let second = rng.unit_vector(32);
    let mut index = VectorIndex::create(dir.path().join("a.usearch"), &spec).unwrap();
    let other = rng.unit_vector(32);
    index.add_batch(&[(1, first.as_slice()), (2, other.as_slice())]).unwrap();
    index.add_batch(&[(1, second.as_slice())]).unwrap();

    assert_eq!(index.len(), 2);
    let hits = index.exact_search(&second, 2).unwrap();
    assert_eq!(hits[0].0, 1);
    assert!(hits[0].1 > 0.999, "{hits:?}");
    let similarity_to_first = index.exact_search(&first, 2).unwrap().into_iter().find(|(key, _)| *key == 1).unwrap().1;
    assert!(similarity_to_first < 0.9, "key 1 still holds its first vector: {similarity_to_first}");
}

#[test]
fn duplicate_key_in_batch_keeps_last() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(5);
    let first = rng.unit_vector(16);
    let last = rng.unit_vector(16);
    let mut index = VectorIndex::create(dir.path().join("a.usearch"), &IndexSpec::new(MODEL, 16)).unwrap();
    index.add_batch(&[(4, first.as_slice()), (4, last.as_slice())]).unwrap();
    assert_eq!(index.len(), 1);
    assert!(index.exact_search(&last, 1).unwrap()[0].1 > 0.999);
}

#[test]
fn every_kind_finds_each_vector() {
    let dir = tempfile::tempdir().unwrap();
    let rows = clustered_rows(&mut Rng(6), 500, 64, 10);
    for kind in [VectorKind::F16, VectorKind::I8, VectorKind::F32] {
        let spec = IndexSpec::new(MODEL, 64).with_kind(kind);
        let index = build(&dir.path().join(format!("{kind}.usearch")), &spec, &rows);
        // This checks that each kind stores every vector, not the graph's recall, which
        // the query benchmark measures. A graph built on several threads differs from run
        // to run. Even a search allowed to visit every node once left 16 of these
        // clustered vectors outside their own top 3, so the check scans the stored
        // vectors instead of walking the graph.
        // Top 3 rather than top 1: after i8 or f16 rounding a near twin can tie with the
        // vector itself.
        let num_found =
            rows.iter().filter(|(key, vector)| index.exact_search(vector, 3).unwrap().iter().any(|(found, _)| found == key)).count();
        assert!(num_found >= 495, "{kind}: only {num_found} of 500 vectors are among their own 3 nearest neighbours");
    }
}

#[test]
fn i8_ranks_like_f32() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(7);
    let rows = clustered_rows(&mut rng, 1000, 256, 20);
    let full = build(&dir.path().join("f32.usearch"), &IndexSpec::new(MODEL, 256).with_kind(VectorKind::F32), &rows);
    let small = build(&dir.path().join("i8.usearch"), &IndexSpec::new(MODEL, 256).with_kind(VectorKind::I8), &rows);

    let mut num_shared = 0;
    for _ in 0..20 {
        let query = rng.unit_vector(256);
        let truth = keys(&full.exact_search(&query, 10).unwrap());
        let quantized = keys(&small.exact_search(&query, 10).unwrap());
        num_shared += quantized.iter().filter(|key| truth.contains(key)).count();
    }
    assert!(num_shared >= 180, "i8 exact top-10 shares only {num_shared} of 200 keys with f32");
}

#[test]
fn save_and_reopen_give_identical_results() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(8);
    let rows = clustered_rows(&mut rng, 400, 48, 8);
    let queries: Vec<Vec<f32>> = (0..20).map(|_| rng.unit_vector(48)).collect();
    for kind in [VectorKind::F16, VectorKind::I8] {
        let spec = IndexSpec::new(MODEL, 48).with_kind(kind);
        let path = dir.path().join(format!("{kind}.usearch"));
        let built = build(&path, &spec, &rows);
        built.save(5).unwrap();
        let reopened = expect_ready(VectorIndex::open(&path, &spec, 5));

        assert_eq!(reopened.len(), 400);
        assert_eq!(reopened.generation(), 5);
        for query in &queries {
            assert_eq!(built.search(query, 10).unwrap(), reopened.search(query, 10).unwrap(), "{kind}");
        }
    }
}

#[test]
fn view_matches_loaded_index_and_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 24);
    let path = saved_index(dir.path(), &spec);
    let loaded = expect_ready(VectorIndex::open(&path, &spec, 5));
    let mut view = expect_ready(VectorIndex::open_view(&path, &spec, 5));

    assert!(view.is_read_only());
    let query = Rng(9).unit_vector(24);
    assert_eq!(loaded.search(&query, 10).unwrap(), view.search(&query, 10).unwrap());
    assert!(matches!(view.add_batch(&[(1, query.as_slice())]), Err(VectorError::ReadOnly { .. })));
    assert!(matches!(view.remove(&[1]), Err(VectorError::ReadOnly { .. })));
    assert!(matches!(view.save(6), Err(VectorError::ReadOnly { .. })));
}

#[test]
fn reopened_index_accepts_more_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 24);
    let path = saved_index(dir.path(), &spec);
    let mut index = expect_ready(VectorIndex::open(&path, &spec, 5));
    let rows: Vec<(u64, Vec<f32>)> = random_rows(&mut Rng(10), 200, 24).into_iter().map(|(k, v)| (k + 1000, v)).collect();
    index.add_batch(&as_items(&rows)).unwrap();
    assert_eq!(index.len(), 500);
    assert_eq!(index.search(&rows[150].1, 1).unwrap()[0].0, 1150);
}

#[test]
fn missing_files_need_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 24);
    let absent = dir.path().join("absent.usearch");
    assert_eq!(expect_rebuild(VectorIndex::open(&absent, &spec, 0)), RebuildReason::Missing { path: absent });

    let path = saved_index(dir.path(), &spec);
    std::fs::remove_file(header_path(&path)).unwrap();
    let reason = expect_rebuild(VectorIndex::open(&path, &spec, 5));
    assert_eq!(reason, RebuildReason::Missing { path: header_path(&path) });
}

#[test]
fn truncated_file_needs_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 24);
    let path = saved_index(dir.path(), &spec);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let reason = expect_rebuild(VectorIndex::open(&path, &spec, 5));
    assert!(matches!(reason, RebuildReason::Unreadable { .. }), "{reason}");
}

/// Rewrites the header's `file_bytes` to the file's current size, as if the header
/// had been written for the damaged file, so the damage reaches usearch itself.
fn resize_header(path: &Path) {
    let header_file = header_path(path);
    let mut header: serde_json::Value = serde_json::from_slice(&std::fs::read(&header_file).unwrap()).unwrap();
    header["file_bytes"] = std::fs::metadata(path).unwrap().len().into();
    std::fs::write(&header_file, serde_json::to_vec(&header).unwrap()).unwrap();
}

#[test]
fn damaged_file_with_matching_size_needs_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 24);
    let path = saved_index(dir.path(), &spec);
    let bytes = std::fs::read(&path).unwrap();
    let cases: [(&str, Vec<u8>); 4] = [
        ("truncated", bytes[..bytes.len() - 100].to_vec()),
        ("cut before the usearch header", bytes[..100].to_vec()),
        ("garbage", (0..bytes.len()).map(|i| (i * 7919 % 251) as u8).collect()),
        ("empty", Vec::new()),
    ];
    for (case, damaged) in cases {
        std::fs::write(&path, &damaged).unwrap();
        resize_header(&path);
        let reason = expect_rebuild(VectorIndex::open(&path, &spec, 5));
        assert!(matches!(reason, RebuildReason::Unreadable { .. }), "{case}: {reason}");
        let reason = expect_rebuild(VectorIndex::open_view(&path, &spec, 5));
        assert!(matches!(reason, RebuildReason::Unreadable { .. }), "{case} (view): {reason}");
    }
}

#[test]
fn garbage_header_needs_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 24);
    let path = saved_index(dir.path(), &spec);
    for garbage in [&b"{ not json"[..], b"", b"{\"format\": \"something-else\"}", &[0xff, 0xfe, 0x00]] {
        std::fs::write(header_path(&path), garbage).unwrap();
        let reason = expect_rebuild(VectorIndex::open(&path, &spec, 5));
        assert!(matches!(reason, RebuildReason::Unreadable { .. }), "{reason}");
    }
}

#[test]
fn header_mismatch_needs_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 24);
    let path = saved_index(dir.path(), &spec);
    let mut other_links = spec.clone();
    other_links.hnsw.connectivity = 32;
    let cases = [
        (IndexSpec::new("test/model/2", 24), "model_id"),
        (IndexSpec::new(MODEL, 32), "dim"),
        (spec.clone().with_kind(VectorKind::I8), "kind"),
        (other_links, "connectivity"),
    ];
    for (expected, field) in cases {
        match expect_rebuild(VectorIndex::open(&path, &expected, 5)) {
            RebuildReason::Mismatch { field: found, .. } => assert_eq!(found, field),
            reason => panic!("{field}: expected a mismatch, got {reason}"),
        }
    }
    let mut faster_search = spec.clone();
    faster_search.hnsw.expansion_search = 16;
    expect_ready(VectorIndex::open(&path, &faster_search, 5));
}

#[test]
fn generation_mismatch_needs_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 24);
    let path = saved_index(dir.path(), &spec);
    let reason = expect_rebuild(VectorIndex::open(&path, &spec, 6));
    assert_eq!(reason, RebuildReason::Stale { index_generation: 5, catalog_generation: 6 });
}

#[test]
fn save_replaces_previous_file() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 24);
    let path = saved_index(dir.path(), &spec);
    let mut index = expect_ready(VectorIndex::open(&path, &spec, 5));
    index.remove(&[0, 1, 2]).unwrap();
    index.save(6).unwrap();

    let reopened = expect_ready(VectorIndex::open(&path, &spec, 6));
    assert_eq!(reopened.len(), 297);
    assert!(!reopened.contains(1));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn rebuild_matches_incremental_build() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(12);
    let spec = IndexSpec::new(MODEL, 32);
    let rows = clustered_rows(&mut rng, 2000, 32, 16);

    let mut incremental = VectorIndex::create(dir.path().join("inc.usearch"), &spec).unwrap();
    for chunk in rows.chunks(300) {
        incremental.add_batch(&as_items(chunk)).unwrap();
    }
    let replaced: Vec<(u64, Vec<f32>)> = (0..100).map(|key| (key, rng.unit_vector(32))).collect();
    incremental.add_batch(&as_items(&replaced)).unwrap();
    incremental.remove(&(1900..2000).collect::<Vec<u64>>()).unwrap();

    let mut final_rows: Vec<(u64, Vec<f32>)> = replaced.clone();
    final_rows.extend(rows[100..1900].iter().cloned());
    let calls = Cell::new(0);
    let last = Cell::new((0, None));
    let rebuilt = VectorIndex::rebuild(&dir.path().join("re.usearch"), &spec, final_rows, 3, &|done, total| {
        calls.set(calls.get() + 1);
        last.set((done, total));
    })
    .unwrap();

    assert_eq!(rebuilt.len(), incremental.len());
    assert_eq!(last.get(), (1900, Some(1900)));
    assert!(calls.get() >= 1);
    let mut num_shared = 0;
    for _ in 0..30 {
        let query = rng.unit_vector(32);
        let exact = incremental.exact_search(&query, 10).unwrap();
        assert_eq!(keys(&exact), keys(&rebuilt.exact_search(&query, 10).unwrap()));
        let approximate = keys(&rebuilt.search(&query, 10).unwrap());
        num_shared += keys(&incremental.search(&query, 10).unwrap()).iter().filter(|k| approximate.contains(k)).count();
    }
    assert!(num_shared >= 285, "HNSW top-10 of the two builds share only {num_shared} of 300 keys");
    expect_ready(VectorIndex::open(&dir.path().join("re.usearch"), &spec, 3));
}

#[test]
fn rebuild_skips_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let spec = IndexSpec::new(MODEL, 8);
    let rows = vec![(1, vec![0.5; 8]), (2, vec![0.5; 7]), (3, vec![f32::NAN; 8]), (4, vec![0.25; 8])];
    let index = VectorIndex::rebuild(&dir.path().join("a.usearch"), &spec, rows, 1, &|_, _| {}).unwrap();
    assert_eq!(index.len(), 2);
    assert!(index.contains(1) && index.contains(4));
}

#[test]
fn filtered_search_honours_predicate() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(13);
    let spec = IndexSpec::new(MODEL, 32);
    let index = build(&dir.path().join("a.usearch"), &spec, &clustered_rows(&mut rng, 1000, 32, 10));
    for _ in 0..10 {
        let query = rng.unit_vector(32);
        let hits = index.search_filtered(&query, 10, |key| key % 3 == 0).unwrap();
        assert_eq!(hits.len(), 10);
        assert!(hits.iter().all(|(key, _)| key % 3 == 0), "{hits:?}");
        let unfiltered = index.search(&query, 10).unwrap();
        assert!(unfiltered.iter().any(|(key, _)| key % 3 != 0), "the filter must matter for this test");
    }
}

#[test]
fn hnsw_recall_on_clustered_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(14);
    let spec = IndexSpec::new(MODEL, 64);
    let rows = clustered_rows(&mut rng, 5000, 64, 50);
    let index = VectorIndex::rebuild(&dir.path().join("a.usearch"), &spec, rows, 1, &|_, _| {}).unwrap();

    let mut num_found = 0;
    let num_queries = 100;
    for _ in 0..num_queries {
        let query = rng.unit_vector(64);
        let truth = keys(&index.exact_search(&query, 10).unwrap());
        let approximate = keys(&index.search(&query, 10).unwrap());
        num_found += approximate.iter().filter(|key| truth.contains(key)).count();
    }
    let recall = num_found as f64 / (num_queries * 10) as f64;
    println!("HNSW recall@10 on 5000 clustered 64-d vectors (f16): {recall:.3}");
    assert!(recall >= 0.95, "recall@10 is {recall:.3}");
}

#[test]
fn index_file_bytes_per_vector() {
    let dir = tempfile::tempdir().unwrap();
    let count = 2000;
    let dim = 768;
    let rows = random_rows(&mut Rng(15), count, dim);
    for (kind, bytes_per_component) in [(VectorKind::F16, 2), (VectorKind::I8, 1)] {
        let spec = IndexSpec::new(MODEL, dim).with_kind(kind);
        let path = dir.path().join(format!("{kind}.usearch"));
        let index = build(&path, &spec, &rows);
        index.save(1).unwrap();

        let file_bytes = std::fs::metadata(&path).unwrap().len() as usize;
        let per_vector = file_bytes as f64 / count as f64;
        println!(
            "{kind}: {file_bytes} bytes for {count} vectors of {dim} dimensions = {per_vector:.0} bytes per vector; memory_usage {} bytes",
            index.memory_usage()
        );
        assert_eq!(index.serialized_bytes(), file_bytes);
        let vector_bytes = (dim * bytes_per_component) as f64;
        assert!(per_vector >= vector_bytes, "{kind}: {per_vector}");
        assert!(per_vector <= vector_bytes + 400.0, "{kind}: graph overhead is {}", per_vector - vector_bytes);
        assert!(index.memory_usage() >= file_bytes / 2, "{kind}: memory_usage {}", index.memory_usage());
    }
}
