//! Library ingest end to end on the toy model: the odd-file corpus, orientation, moves
//! and duplicates without inference, crash safety under SIGKILL, derived-index rebuilds
//! and watching.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use xunying::library::progress::NullSink;
use xunying::library::{Library, LibraryOptions};
use xunying::model::{Device, ModelOptions};

use crate::scenes::{draw_scene, Rng, SceneSpec};
use crate::support::{corpus_dir, stdout, toy_bundle, xunying};

pub fn options(data_dir: &Path) -> LibraryOptions {
    let mut options = LibraryOptions::new(data_dir);
    options.model_dir = Some(toy_bundle());
    options.model_options = ModelOptions { device: Device::Cpu, ..ModelOptions::default() };
    options.settle = Duration::ZERO;
    options
}

pub fn open(data_dir: &Path) -> Library {
    Library::open(options(data_dir)).expect("library opens")
}

/// Writes `count` toy scenes as PNG files into `dir`.
pub fn write_scenes(dir: &Path, count: usize, seed: u64) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| {
            let scene = draw_scene(&mut rng, &SceneSpec::default());
            let path = dir.join(format!("scene-{seed}-{i:03}.png"));
            scene.image.save(&path).unwrap();
            path
        })
        .collect()
}

fn index(library: &mut Library, folders: &[PathBuf]) -> xunying::library::IndexSummary {
    library.index(folders, &NullSink, &AtomicBool::new(false)).expect("index succeeds")
}

fn all_paths(library: &Library) -> Vec<String> {
    let mut paths: Vec<String> = library.catalog().all_photos().unwrap().into_iter().map(|p| p.path).collect();
    paths.sort();
    paths
}

#[test]
fn corpus_is_indexed_or_failed_with_reason() {
    let data = tempfile::tempdir().unwrap();
    let corpus = corpus_dir();
    let mut library = open(data.path());
    let summary = index(&mut library, &[corpus.clone()]);

    let indexed = all_paths(&library);
    let failures = library.catalog().failures().unwrap();
    let mut on_disk = Vec::new();
    for sub in ["photos", "odd", "orientation"] {
        for entry in std::fs::read_dir(corpus.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if xunying::imaging::is_supported_extension(&path) {
                on_disk.push(path.canonicalize().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    for path in &on_disk {
        let is_indexed = indexed.contains(path);
        let failure = failures.iter().find(|f| &f.path == path);
        assert!(is_indexed || failure.is_some(), "{path} is neither indexed nor recorded as failed");
        if let Some(failure) = failure {
            assert!(!failure.reason.trim().is_empty(), "{path} failed without a reason");
        }
    }
    assert!(summary.inferences > 150, "most corpus files embed: {summary:?}");
    println!("corpus: {} indexed, {} failed", indexed.len(), failures.len());

    let odd = |name: &str| corpus.join("odd").join(name).canonicalize().unwrap().to_string_lossy().into_owned();
    for name in ["sugarshack.mpo", "frozenpond.mpo"] {
        assert!(indexed.contains(&odd(name)), "{name} is found and indexed");
    }
    let truncated = failures.iter().find(|f| f.path == odd("truncated_jpeg.jpg")).expect("a cut-off JPEG is a failure");
    assert!(truncated.reason.contains("cut short"), "{}", truncated.reason);
    assert!(truncated.reason.contains("不完整"), "{}", truncated.reason);

    let again = index(&mut library, &[corpus]);
    assert_eq!(again.inferences, 0, "a second run embeds nothing: {again:?}");
    assert_eq!(again.counts.new + again.counts.changed + again.counts.moved + again.counts.removed, 0, "{again:?}");
}

#[test]
fn orientation_gives_upright_identical_photos() {
    let data = tempfile::tempdir().unwrap();
    let folder = data.path().join("orientation");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..9 {
        let name = format!("Landscape_{i}.jpg");
        std::fs::copy(corpus_dir().join("orientation").join(&name), folder.join(&name)).unwrap();
    }
    let mut library = open(data.path());
    index(&mut library, &[folder]);

    let rows = library.catalog().all_photos().unwrap();
    assert_eq!(rows.len(), 9);
    let sizes: Vec<_> = rows.iter().map(|r| (r.metadata.width, r.metadata.height)).collect();
    assert!(sizes.iter().all(|s| *s == sizes[0]), "upright sizes differ: {sizes:?}");
    let reference = library.catalog().content_embedding(rows[0].content_id).unwrap().unwrap().vector;
    for row in &rows {
        let vector = library.catalog().content_embedding(row.content_id).unwrap().unwrap().vector;
        let cos: f32 = vector.iter().zip(&reference).map(|(a, b)| a * b).sum();
        assert!(cos > 0.98, "{} differs from the reference: cosine {cos}", row.path);
        let thumb = library.paths().thumbnail(&row.hash, 320);
        let (w, h) = image::image_dimensions(&thumb).unwrap();
        assert_eq!(w.max(h), 320, "{}", thumb.display());
        assert!(w > h, "thumbnail of {} is upright landscape", row.path);
    }
}

#[test]
fn moves_and_duplicates_cost_no_inference() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("photos");
    let scenes = write_scenes(&root.join("a"), 6, 1);
    let mut library = open(data.path());
    let first = index(&mut library, &[root.clone()]);
    assert_eq!(first.inferences, 6);

    std::fs::rename(&scenes[0], root.join("a/renamed.png")).unwrap();
    std::fs::rename(root.join("a"), root.join("b")).unwrap();
    std::fs::copy(root.join("b/renamed.png"), root.join("copy.png")).unwrap();
    let second = index(&mut library, &[root.clone()]);
    assert_eq!(second.inferences, 0, "moves and copies reuse vectors: {second:?}");
    assert_eq!(second.counts.moved, 6, "{second:?}");
    assert_eq!(second.counts.removed, 0, "{second:?}");
    assert_eq!(all_paths(&library).len(), 7);
    assert_eq!(library.catalog().stats().unwrap().contents, 6, "the copy shares its content");

    std::fs::remove_file(root.join("b/renamed.png")).unwrap();
    std::fs::remove_file(root.join("copy.png")).unwrap();
    let third = index(&mut library, &[root]);
    assert_eq!(third.counts.removed, 2, "{third:?}");
    assert_eq!(library.catalog().stats().unwrap().contents, 5, "the deleted photo's content is gone");
    let derived = library.derived(&NullSink).unwrap();
    assert_eq!(derived.photos.len(), 5, "the deleted photo left the vector index");
}

#[test]
fn sigkill_during_index_loses_nothing() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("photos");
    write_scenes(&root, 40, 7);
    let data_dir = data.path().join("data");
    let bundle = toy_bundle();
    let mut rng = Rng::new(99);

    for _round in 0..4 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xunying"))
            .args(["index", root.to_str().unwrap(), "--quiet", "--device", "cpu"])
            .env("XUNYING_DATA_DIR", &data_dir)
            .env("XUNYING_MODEL", &bundle)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300 + rng.below(2500) as u64));
        let _ = child.kill();
        let _ = child.wait();
    }

    let mut library = open(&data_dir);
    assert!(library.catalog().integrity_check().unwrap(), "catalog passes PRAGMA integrity_check");
    let summary = index(&mut library, &[root.clone()]);
    println!("after kills: {summary:?}");
    let paths = all_paths(&library);
    let mut unique = paths.clone();
    unique.dedup();
    assert_eq!(paths.len(), 40, "every photo is indexed once");
    assert_eq!(unique.len(), 40, "no photo is duplicated");
    let stats = library.catalog().stats().unwrap();
    assert_eq!(stats.pending, 0);
    let derived = library.derived(&NullSink).unwrap();
    assert_eq!(derived.photos.len() as u64, stats.contents, "photo vectors match the catalog");
    assert_eq!(derived.regions.len() as u64, stats.regions, "region vectors match the catalog");
}

/// Runs `xunying index ROOT` on the CPU with `bundle`, waiting for no file to settle.
fn index_cli(root: &Path, bundle: &Path, data_dir: &Path) -> std::process::Output {
    let args = ["index", root.to_str().unwrap(), "--quiet", "--settle-ms", "0", "--device", "cpu", "--model", bundle.to_str().unwrap()];
    xunying(&args, data_dir)
}

fn status_json(data_dir: &Path) -> serde_json::Value {
    serde_json::from_str(&stdout(&xunying(&["status", "--json"], data_dir))).unwrap()
}

#[test]
fn summary_counts_failures_apart() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("photos");
    write_scenes(&root, 3, 5);
    std::fs::write(root.join("broken.jpg"), b"not a jpeg at all").unwrap();
    let output = index_cli(&root, &toy_bundle(), &data.path().join("data"));
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains("found: new 4 ·"), "{text}");
    assert!(text.contains("indexed 3 · failed 1"), "{text}");
    assert!(text.contains("已索引 3 · 失败 1"), "{text}");
    assert!(text.contains("xunying status"), "{text}");

    let again = stdout(&index_cli(&root, &toy_bundle(), &data.path().join("data")));
    assert!(again.contains("indexed 0 · failed 0"), "{again}");
    assert!(again.contains("skipped 1 file that failed before and is unchanged"), "{again}");
}

#[test]
fn deleted_broken_file_leaves_failures() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("photos");
    write_scenes(&root, 1, 9);
    let broken = root.join("broken.jpg");
    std::fs::write(&broken, b"not a jpeg at all").unwrap();
    let mut library = open(&data.path().join("data"));
    index(&mut library, &[root.clone()]);
    assert_eq!(library.catalog().failures().unwrap().len(), 1);

    std::fs::remove_file(&broken).unwrap();
    index(&mut library, &[root]);
    assert!(library.catalog().failures().unwrap().is_empty(), "the failure of a deleted file is forgotten");
}

#[test]
fn decoder_panic_prints_nothing() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("photos");
    std::fs::create_dir_all(&root).unwrap();
    // The tiff crate (0.11) panics on this tiled, planar 16-bit file.
    let name = "tiff_tiled_planar_16bit_RGB.tiff";
    std::fs::copy(corpus_dir().join("odd").join(name), root.join(name)).unwrap();
    let output = index_cli(&root, &toy_bundle(), &data.path().join("data"));
    assert!(output.status.success(), "{output:?}");
    let errors = crate::support::stderr(&output);
    assert!(!errors.contains("panicked at"), "{errors}");
    assert!(!errors.contains("stack backtrace"), "{errors}");
    assert!(stdout(&output).contains("failed 1"), "the file is recorded as failed");
}

#[test]
fn index_without_model_adds_nothing() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("photos");
    write_scenes(&root, 1, 8);
    let data_dir = data.path().join("data");
    let output = xunying(&["index", root.to_str().unwrap(), "--quiet"], &data_dir);
    assert_eq!(output.status.code(), Some(2));
    let message = crate::support::stderr(&output);
    assert!(message.contains("No model bundle is set"), "{message}");
    assert!(message.contains("未设置模型包"), "{message}");

    let report = status_json(&data_dir);
    assert_eq!(report["folders"], serde_json::json!([]), "the folder is not added: {report}");
}

#[test]
fn damaged_graph_stops_index() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("photos");
    write_scenes(&root, 2, 6);
    let bundle = data.path().join("bundle");
    crate::support::copy_bundle(&toy_bundle(), &bundle);
    crate::doctor::damage_file(&bundle.join("vision.onnx"));
    let data_dir = data.path().join("data");
    let output = index_cli(&root, &bundle, &data_dir);
    assert!(!output.status.success(), "a damaged graph fails the run");
    let message = crate::support::stderr(&output);
    assert!(message.contains("Cannot open the model graph"), "{message}");
    assert!(message.contains("无法打开模型计算图"), "{message}");

    let report = status_json(&data_dir);
    assert_eq!(report["failures"], serde_json::json!([]), "no photo is blamed for the model: {report}");
}

#[test]
fn reopened_indexes_map_then_load() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("photos");
    write_scenes(&root, 2, 14);
    let data_dir = data.path().join("data");
    index(&mut open(&data_dir), &[root.clone()]);

    let mut library = open(&data_dir);
    let derived = library.derived(&NullSink).unwrap();
    assert!(derived.photos.is_read_only(), "a saved index opens as a view");
    assert!(derived.regions.is_read_only(), "a saved index opens as a view");
    index(&mut library, &[root.clone()]);
    assert!(library.derived(&NullSink).unwrap().photos.is_read_only(), "a run without changes keeps the view");

    write_scenes(&root.join("more"), 1, 15);
    index(&mut library, &[root.clone()]);
    assert!(!library.derived(&NullSink).unwrap().photos.is_read_only(), "the first change loads the index");
    drop(library);

    let mut reopened = open(&data_dir);
    assert_eq!(reopened.derived(&NullSink).unwrap().photos.len(), 3, "the change was saved");
}

#[test]
fn damaged_indexes_are_rebuilt() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("photos");
    write_scenes(&root, 8, 3);
    let data_dir = data.path().join("data");
    let bundle = toy_bundle();
    let run = |args: &[&str]| {
        let mut full = args.to_vec();
        full.extend(["--model", bundle.to_str().unwrap(), "--device", "cpu"]);
        xunying(&full, &data_dir)
    };
    assert!(run(&["index", root.to_str().unwrap(), "--quiet", "--settle-ms", "0"]).status.success());
    let before = stdout(&run(&["search", "a red circle", "--json", "--limit", "5"]));

    std::fs::write(data_dir.join("vectors/photos.usearch"), b"truncated").unwrap();
    std::fs::remove_file(data_dir.join("vectors/regions.usearch")).unwrap();
    std::fs::remove_dir_all(data_dir.join("keywords")).unwrap();
    let after = stdout(&run(&["search", "a red circle", "--json", "--limit", "5"]));
    let paths = |text: &str| -> Vec<String> {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        value.as_array().unwrap().iter().map(|r| r["path"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(paths(&before), paths(&after), "results are the same after the rebuild");
    assert!(data_dir.join("vectors/regions.usearch").is_file(), "the region index was rebuilt");
}

#[test]
fn watch_converges_to_a_fresh_scan() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("photos");
    let initial = write_scenes(&root.join("keep"), 4, 11);
    let data_dir = data.path().join("data");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xunying"))
        .args(["watch", root.to_str().unwrap(), "--quiet", "--device", "cpu", "--settle-ms", "300"])
        .env("XUNYING_DATA_DIR", &data_dir)
        .env("XUNYING_MODEL", toy_bundle())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_photos(&data_dir, 4, Duration::from_secs(60));

    write_scenes(&root.join("new"), 3, 12);
    std::fs::rename(&initial[0], root.join("keep/renamed.png")).unwrap();
    std::fs::rename(root.join("new"), root.join("moved")).unwrap();
    std::fs::remove_file(&initial[1]).unwrap();
    std::fs::copy(&initial[2], root.join("keep/overwritten.png")).unwrap();
    write_scenes(&root.join("keep"), 1, 13);

    let expected = {
        let fresh = tempfile::tempdir().unwrap();
        let mut library = open(fresh.path());
        index(&mut library, &[root.clone()]);
        all_paths(&library)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        seen = watched_paths(&data_dir);
        if seen == expected {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(seen, expected, "the watched catalog matches a fresh scan");
}

fn watched_paths(data_dir: &Path) -> Vec<String> {
    let output = xunying(&["status", "--json", "--paths"], data_dir);
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap_or(serde_json::Value::Null);
    let mut paths: Vec<String> =
        value["paths"].as_array().map(|a| a.iter().filter_map(|p| p.as_str().map(String::from)).collect()).unwrap_or_default();
    paths.sort();
    paths
}

fn wait_for_photos(data_dir: &Path, count: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if watched_paths(data_dir).len() >= count {
            return;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("the watcher did not index {count} photos in {timeout:?}");
}

#[test]
fn removed_folder_stays_removed() {
    let data = tempfile::tempdir().unwrap();
    let kept_folder = data.path().join("kept_folder");
    let removed_folder = data.path().join("removed_folder");
    write_scenes(&kept_folder, 2, 3);
    write_scenes(&removed_folder, 2, 4);
    let mut library = open(data.path());
    index(&mut library, &[kept_folder.clone(), removed_folder.clone()]);
    assert_eq!(all_paths(&library).len(), 4);

    assert!(library.remove_folder(&removed_folder, &NullSink).unwrap());
    let added = write_scenes(&removed_folder, 1, 5);
    index(&mut library, &[]);
    assert_eq!(all_paths(&library).len(), 2, "a removed folder is not scanned again");
    assert_eq!(library.watch_roots().unwrap(), vec![kept_folder.canonicalize().unwrap()]);
    assert!(library.folder_of(&added[0]).unwrap().is_none(), "events under a removed folder are ignored");
    let states: Vec<String> = library.status().unwrap().folders.into_iter().map(|f| f.state).collect();
    assert!(states.contains(&"removed".to_string()), "{states:?}");
}

#[test]
fn one_off_index_waits_for_files_being_written() {
    let data = tempfile::tempdir().unwrap();
    let photos = data.path().join("photos");
    let scenes = write_scenes(&photos, 2, 6);
    let bundle = toy_bundle();
    let args = ["index", photos.to_str().unwrap(), "--quiet", "--json", "--settle-ms", "2000", "--model", bundle.to_str().unwrap()];
    let output = xunying(&args, &data.path().join("data"));
    assert!(output.status.success(), "{}", crate::support::stderr(&output));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(summary["deferred"], 0, "{summary}");
    assert_eq!(summary["new"], 2, "files written just before the run are indexed by it: {summary}");
    assert_eq!(summary["inferences"], 2, "{summary}");

    // One file rewritten with the bytes already indexed, as when a backup is restored:
    // it waits like any fresh file, then counts as unchanged, and the other as unchanged.
    let bytes = std::fs::read(&scenes[0]).unwrap();
    std::fs::write(&scenes[0], &bytes).unwrap();
    let output = xunying(&args, &data.path().join("data"));
    assert!(output.status.success(), "{}", crate::support::stderr(&output));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(summary["deferred"], 0, "{summary}");
    assert_eq!(summary["unchanged"], 2, "every file is counted once: {summary}");
    assert_eq!(summary["new"], 0, "{summary}");
    assert_eq!(summary["changed"], 0, "{summary}");
    assert_eq!(summary["inferences"], 0, "{summary}");
}

#[test]
fn index_file_not_folder() {
    let data = tempfile::tempdir().unwrap();
    let scenes = write_scenes(&data.path().join("photos"), 1, 8);
    let mut library = open(data.path());
    let error = library.index(&[scenes[0].clone()], &NullSink, &AtomicBool::new(false)).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("is a file, not a folder"), "{message}");
    assert!(message.contains("是文件而不是文件夹"), "{message}");
    assert!(library.catalog().folders().unwrap().is_empty(), "nothing is added");
}

#[test]
fn reduced_jpeg_decode_keeps_full_size() {
    let data = tempfile::tempdir().unwrap();
    let photos = data.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let spec = SceneSpec { size: Some((640, 384)), num_objects: Some(2), ..SceneSpec::default() };
    let scene = draw_scene(&mut Rng::new(41), &spec);
    let large = image::imageops::resize(&scene.image, 4000, 2400, image::imageops::FilterType::Triangle);
    // The same pixels twice: a JPEG, decoded at half size (2000 × 1200 still covers the
    // 1280-pixel thumbnail), and a PNG, decoded whole.
    large.save(photos.join("large.jpg")).unwrap();
    large.save(photos.join("large.png")).unwrap();

    let mut library = open(data.path());
    index(&mut library, &[photos]);
    let rows = library.catalog().all_photos().unwrap();
    assert_eq!(rows.len(), 2);
    let mut vectors = Vec::new();
    let mut whole_boxes = Vec::new();
    for row in &rows {
        assert_eq!((row.metadata.width, row.metadata.height), (Some(4000), Some(2400)), "{}", row.path);
        let thumb = library.paths().thumbnail(&row.hash, 1280);
        assert_eq!(image::image_dimensions(&thumb).unwrap(), (1280, 768), "{}", row.path);
        vectors.push(library.catalog().content_embedding(row.content_id).unwrap().unwrap().vector);

        let regions = library.catalog().region_embeddings_for_content(row.content_id).unwrap();
        assert!(!regions.is_empty(), "{} has regions", row.path);
        for region in &regions {
            let b = region.region.region_box;
            assert!(b.x0 >= 0.0, "{}: box {b:?} leaves the photo", row.path);
            assert!(b.y0 >= 0.0, "{}: box {b:?} leaves the photo", row.path);
            assert!(b.x1 <= 4000.0, "{}: box {b:?} leaves the photo", row.path);
            assert!(b.y1 <= 2400.0, "{}: box {b:?} leaves the photo", row.path);
        }
        let right = regions.iter().map(|r| r.region.region_box.x1).fold(0.0f32, f32::max);
        let bottom = regions.iter().map(|r| r.region.region_box.y1).fold(0.0f32, f32::max);
        assert!(right > 3000.0, "{}: boxes reach only x = {right}", row.path);
        assert!(bottom > 1800.0, "{}: boxes reach only y = {bottom}", row.path);
        let mut boxes: Vec<[i32; 4]> = regions
            .iter()
            .map(|r| {
                let b = r.region.region_box;
                [b.x0, b.y0, b.x1, b.y1].map(|v| (v / 100.0).round() as i32)
            })
            .collect();
        boxes.sort();
        whole_boxes.push(boxes);
    }
    let cosine: f32 = vectors[0].iter().zip(&vectors[1]).map(|(a, b)| a * b).sum();
    assert!(cosine > 0.995, "reduced and full decodes embed alike: cosine {cosine}");
    println!("region boxes in hundreds of pixels: {:?} / {:?}", whole_boxes[0], whole_boxes[1]);
    let shared = whole_boxes[0].iter().filter(|b| whole_boxes[1].contains(b)).count();
    assert!(shared * 2 >= whole_boxes[0].len(), "most regions of the reduced decode are found in the full one: {shared} of {}", whole_boxes[0].len());
}

#[test]
fn watched_rename_counts_as_move() {
    let data = tempfile::tempdir().unwrap();
    let photos = data.path().join("photos");
    let scenes = write_scenes(&photos, 2, 12);
    let mut library = open(data.path());
    index(&mut library, std::slice::from_ref(&photos));

    // The watcher hands over both paths of a rename as separate scopes.
    let renamed = photos.join("renamed.png");
    std::fs::rename(&scenes[0], &renamed).unwrap();
    let folder = library.catalog().folders().unwrap()[0].id;
    let scopes = [(folder, scenes[0].clone()), (folder, renamed.clone())];
    let summary = library.reconcile(&scopes, &NullSink, &AtomicBool::new(false)).unwrap();
    let c = &summary.counts;
    assert_eq!((c.moved, c.new, c.removed), (1, 0, 0), "{summary:?}");
    assert_eq!(summary.inferences, 0);
    let paths = all_paths(&library);
    assert!(paths.iter().any(|p| p.ends_with("renamed.png")), "{paths:?}");
    assert_eq!(paths.len(), 2);
}

#[test]
fn parent_folder_takes_over_nested_ones() {
    let data = tempfile::tempdir().unwrap();
    let photos = tempfile::tempdir().unwrap();
    let root = photos.path().canonicalize().unwrap();
    let trip = root.join("trip");
    write_scenes(&trip, 3, 71);
    write_scenes(&root, 1, 72);
    let mut library = open(data.path());
    assert_eq!(index(&mut library, &[trip.clone()]).inferences, 3);

    let parent = index(&mut library, &[root.clone()]);
    assert_eq!(parent.inferences, 1, "the trip photos keep their vectors: {parent:?}");
    let folders: Vec<PathBuf> = library.watch_roots().unwrap();
    assert_eq!(folders, vec![root.clone()], "the parent replaces the folder inside it");

    // Later runs, and adding the inner folder again, find every file unchanged.
    for folders in [vec![], vec![trip]] {
        let again = index(&mut library, &folders);
        assert_eq!(again.counts.unchanged, 4, "{again:?}");
        assert_eq!(again.counts.new + again.counts.moved + again.counts.removed, 0, "{again:?}");
        assert_eq!(again.inferences, 0, "{again:?}");
    }
    assert_eq!(library.watch_roots().unwrap(), vec![root]);
}

#[test]
fn remove_command_drops_a_folder() {
    let data = tempfile::tempdir().unwrap();
    let (kept, removed) = (data.path().join("kept"), data.path().join("removed"));
    write_scenes(&kept, 2, 73);
    write_scenes(&removed, 2, 74);
    std::fs::write(removed.join("broken.jpg"), b"not a jpeg").unwrap();
    let data_dir = data.path().join("data");
    assert!(index_cli(&kept, &toy_bundle(), &data_dir).status.success());
    assert!(index_cli(&removed, &toy_bundle(), &data_dir).status.success());
    assert_eq!(status_json(&data_dir)["photos"], 4);
    assert_eq!(status_json(&data_dir)["failures"].as_array().unwrap().len(), 1);
    let thumbnails = || count_files(&data_dir.join("thumbs"));
    assert_eq!(thumbnails(), 8, "two sizes per photo");

    let bundle = toy_bundle();
    let output = xunying(&["remove", removed.to_str().unwrap(), "--model", bundle.to_str().unwrap()], &data_dir);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).contains("已移除"), "{}", stdout(&output));
    assert_eq!(status_json(&data_dir)["photos"], 2);
    assert_eq!(status_json(&data_dir)["failures"], serde_json::json!([]), "the folder's failures go with it");
    assert_eq!(thumbnails(), 4, "the removed photos' thumbnails go too");
    assert!(removed.join("scene-74-000.png").exists(), "files on disk stay");

    let output = xunying(&["remove", removed.to_str().unwrap()], &data_dir);
    assert_eq!(output.status.code(), Some(2));
    let message = crate::support::stderr(&output);
    assert!(message.contains("not a library folder"), "{message}");
    assert!(message.contains("不是图库中的文件夹"), "{message}");
}

#[test]
fn merge_summary_names_linked_photos() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("photos");
    write_scenes(&root.join("trip"), 2, 75);
    write_scenes(&root, 1, 76);
    let data_dir = data.path().join("data");
    assert!(index_cli(&root.join("trip"), &toy_bundle(), &data_dir).status.success());
    let bundle = toy_bundle();
    let args = ["index", root.to_str().unwrap(), "--settle-ms", "0", "--model", bundle.to_str().unwrap()];
    let output = xunying(&args, &data_dir);
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains("indexed 3"), "{text}");
    assert!(text.contains("2 of them matched photos already embedded"), "{text}");
    let status = stdout(&xunying(&["status"], &data_dir));
    assert!(status.contains("[merged]"), "{status}");
    assert!(status.contains("trip"), "{status}");
}

/// Counts the files below `dir`.
fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().map(|e| if e.path().is_dir() { count_files(&e.path()) } else { 1 }).sum()
        })
        .unwrap_or(0)
}
