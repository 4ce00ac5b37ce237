//! Search end to end on the toy model over libraries of drawn scenes: single- and
//! two-object queries in English and Chinese, region boxes, the long walk, filters and
//! keyword blending, query by image, duplicates, bad input and the JSON contract.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use xunying::library::progress::NullSink;
use xunying::library::Library;
use xunying::model::WalkType;
use xunying::search::{search, SearchError, SearchRequest};

use crate::library::open;
use crate::scenes::{draw_scene, iou, jpeg_round_trip, Colour, Rng, Scene, SceneSpec, Shape, COLOURS, SHAPES};
use crate::support::{stdout, toy_bundle, xunying};

struct Indexed {
    _dir: tempfile::TempDir,
    library: Library,
    /// Scene and its file, by path string.
    scenes: Vec<(String, Scene)>,
}

fn index_scenes(scenes: Vec<Scene>, subfolder: impl Fn(usize) -> String) -> Indexed {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("photos");
    let mut stored = Vec::new();
    for (i, scene) in scenes.into_iter().enumerate() {
        let folder = root.join(subfolder(i));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(format!("scene-{i:03}.png"));
        scene.image.save(&path).unwrap();
        stored.push((path.canonicalize().unwrap().to_string_lossy().into_owned(), scene));
    }
    let mut library = open(&dir.path().join("data"));
    library.index(&[root], &NullSink, &AtomicBool::new(false)).unwrap();
    Indexed { _dir: dir, library, scenes: stored }
}

fn scene_of<'a>(indexed: &'a Indexed, path: &str) -> &'a Scene {
    &indexed.scenes.iter().find(|(p, _)| p == path).unwrap_or_else(|| panic!("unknown result {path}")).1
}

fn gallery_scenes(seed: u64) -> Vec<Scene> {
    let mut rng = Rng::new(seed);
    let mut scenes = Vec::new();
    for colour in COLOURS {
        for shape in SHAPES {
            scenes.push(draw_scene(&mut rng, &SceneSpec { required: vec![(colour, shape)], ..SceneSpec::default() }));
        }
    }
    for _ in 0..10 {
        scenes.push(draw_scene(&mut rng, &SceneSpec::default()));
    }
    scenes
}

/// Outcome of every single-object query of a gallery, in English and in Chinese: top-1
/// hits, region-box hits among them, and the queries whose top result missed.
struct SingleObjectRun {
    first_hits: usize,
    box_hits: usize,
    total: usize,
    misses: Vec<String>,
}

fn single_object_run() -> SingleObjectRun {
    let mut indexed = index_scenes(gallery_scenes(31), |_| String::new());
    let mut run = SingleObjectRun { first_hits: 0, box_hits: 0, total: 0, misses: Vec::new() };
    for colour in COLOURS {
        for shape in SHAPES {
            for query in [format!("a {} {}", colour.english(), shape.english()), format!("{}的{}", colour.chinese(), shape.chinese())] {
                let response = search(&mut indexed.library, &SearchRequest::text(&query, 5)).unwrap();
                let top = &response.results[0];
                let scene = scene_of(&indexed, &top.path);
                run.total += 1;
                if !scene.contains(colour, shape) {
                    run.misses.push(query);
                    continue;
                }
                run.first_hits += 1;
                let object = scene.objects.iter().find(|o| o.colour == colour && o.shape == shape).unwrap();
                if top.region.as_ref().is_some_and(|r| iou(r.region_box, object.bbox) >= 0.5) {
                    run.box_hits += 1;
                }
            }
        }
    }
    run
}

#[test]
fn single_object_queries_find_object() {
    let run = single_object_run();
    let rate = run.first_hits as f32 / run.total as f32;
    println!("top-1 {:.1}%, missed {:?}", rate * 100.0, run.misses);
    assert!(rate >= 0.95, "top-1 rate {rate:.3}; missed {:?}", run.misses);
}

#[test]
fn single_object_queries_find_box() {
    let run = single_object_run();
    let rate = run.box_hits as f32 / run.first_hits.max(1) as f32;
    println!("region IoU >= 0.5 {:.1}% of {} top hits", rate * 100.0, run.first_hits);
    assert!(rate >= 0.90, "region box rate {rate:.3}");
}

#[test]
fn two_object_query_prefers_both() {
    let mut rng = Rng::new(41);
    let pair = [(Colour::Red, Shape::Circle), (Colour::Blue, Shape::Square)];
    let mut scenes = Vec::new();
    for _ in 0..4 {
        scenes.push(draw_scene(&mut rng, &SceneSpec { required: pair.to_vec(), num_objects: Some(2), ..SceneSpec::default() }));
    }
    for (keep, drop) in [(pair[0], pair[1]), (pair[1], pair[0])] {
        for _ in 0..4 {
            scenes.push(draw_scene(
                &mut rng,
                &SceneSpec { required: vec![keep], excluded: vec![drop], num_objects: Some(2), ..SceneSpec::default() },
            ));
        }
    }
    let mut indexed = index_scenes(scenes, |_| String::new());
    for query in ["a red circle and a blue square", "红色的圆形和蓝色的正方形"] {
        let response = search(&mut indexed.library, &SearchRequest::text(query, 12)).unwrap();
        let both: Vec<f32> =
            response.results.iter().filter(|r| { let s = scene_of(&indexed, &r.path); s.contains(pair[0].0, pair[0].1) && s.contains(pair[1].0, pair[1].1) }).map(|r| r.score).collect();
        let one: Vec<f32> =
            response.results.iter().filter(|r| { let s = scene_of(&indexed, &r.path); !(s.contains(pair[0].0, pair[0].1) && s.contains(pair[1].0, pair[1].1)) }).map(|r| r.score).collect();
        let ordered_pairs = both.iter().flat_map(|b| one.iter().map(move |o| (b > o) as u32)).sum::<u32>();
        let rate = ordered_pairs as f32 / (both.len() * one.len()).max(1) as f32;
        println!("{query}: both-above-one pair rate {:.1}%", rate * 100.0);
        assert_eq!(both.len(), 4, "{query}: all scenes with both objects are returned");
        assert!(rate >= 0.9, "{query}: scenes with both objects rank above scenes with one ({rate:.3})");
    }
}

/// Describes `scene` at length: how many shapes, the list of them, then where each one
/// is. The toy vocabulary has every word, and each description runs past the 64 tokens of
/// the short walk.
fn describe_with_positions(scene: &Scene, zh: bool) -> String {
    let cells_en = ["in the top left corner", "at the top", "in the top right corner", "on the left", "in the center", "on the right", "in the bottom left corner", "at the bottom", "in the bottom right corner"];
    let cells_zh = ["左上角", "上方", "右上角", "左边", "中间", "右边", "左下角", "下方", "右下角"];
    let numbers_en = ["one", "two", "three", "four"];
    let numbers_zh = ["一", "两", "三", "四"];
    let count = scene.objects.len();
    let mut places = Vec::new();
    let mut names = Vec::new();
    for o in &scene.objects {
        let cx = ((o.bbox[0] + o.bbox[2]) / 2.0 / scene.width as f32 * 3.0).floor().clamp(0.0, 2.0) as usize;
        let cy = ((o.bbox[1] + o.bbox[3]) / 2.0 / scene.height as f32 * 3.0).floor().clamp(0.0, 2.0) as usize;
        let cell = cy * 3 + cx;
        if zh {
            names.push(format!("一个{}的{}", o.colour.chinese(), o.shape.chinese()));
            places.push(format!("{}是一个{}的{}。", cells_zh[cell], o.colour.chinese(), o.shape.chinese()));
        } else {
            names.push(format!("one {} {}", o.colour.english(), o.shape.english()));
            places.push(format!("there is a {} {} {}.", o.colour.english(), o.shape.english(), cells_en[cell]));
        }
    }
    let list = |separator: &str, last: &str| match names.split_last() {
        Some((tail, head)) if !head.is_empty() => format!("{}{last}{tail}", head.join(separator)),
        _ => names.concat(),
    };
    if zh {
        format!("图片里有{}个图形：{}。{}", numbers_zh[count - 1], list("、", "和"), places.concat())
    } else {
        let number = numbers_en[count - 1];
        format!("a picture with {number} shapes. there are {number} shapes in the picture: {}. {}", list(", ", " and "), places.join(" "))
    }
}

#[test]
fn long_description_finds_its_scene() {
    // Sixteen scenes of four shapes each, drawn from 18 kinds, so most scenes share some
    // of their shapes with the described one. Four shapes make a description longer than
    // the short walk's 64 tokens.
    let mut rng = Rng::new(53);
    let scenes: Vec<Scene> = (0..16).map(|_| draw_scene(&mut rng, &SceneSpec { num_objects: Some(4), ..SceneSpec::default() })).collect();
    let targets = 8;
    let mut indexed = index_scenes(scenes, |_| String::new());
    for zh in [false, true] {
        let mut firsts = 0;
        let mut misses = Vec::new();
        for (path, scene) in indexed.scenes[..targets].to_vec() {
            let query = describe_with_positions(&scene, zh);
            let model = indexed.library.model().unwrap();
            assert!(model.tokenizer().content_ids(&query).unwrap().len() >= 64, "the query is long enough for the long walk: {query}");
            let response = search(&mut indexed.library, &SearchRequest::text(&query, 5)).unwrap();
            assert_eq!(response.walk, Some(WalkType::Long), "{query}");
            assert!(!response.truncated, "{query}");
            assert!(response.results[0].region.is_some(), "a long query still shows the best region: {query}");
            if response.results[0].path == path {
                firsts += 1;
            } else {
                let own = response.results.iter().position(|r| r.path == path);
                misses.push(format!("{query} (its scene at {own:?} in the top 5)"));
            }
        }
        eprintln!("long descriptions, zh={zh}: {firsts} of {targets} first");
        assert!(firsts * 8 >= targets * 7, "the described scene ranks first for {firsts} of {targets} descriptions; missed: {misses:#?}");
    }
}

#[test]
#[ignore = "the toy model does not bind objects to positions: among scenes of the same objects its long walk ranks the described one first at chance (12%); see models/toy/README.md"]
fn long_positional_query_distinguishes_places() {
    let mut rng = Rng::new(51);
    let objects = [(Colour::Red, Shape::Circle), (Colour::Blue, Shape::Square), (Colour::Green, Shape::Triangle), (Colour::Yellow, Shape::Circle)];
    let mut scenes: Vec<Scene> = (0..8)
        .map(|_| draw_scene(&mut rng, &SceneSpec { required: objects.to_vec(), num_objects: Some(4), size: Some((480, 480)), ..SceneSpec::default() }))
        .collect();
    scenes.extend((0..6).map(|_| draw_scene(&mut rng, &SceneSpec::default())));
    let target = scenes[0].clone();
    let mut indexed = index_scenes(scenes, |_| String::new());
    let target_path = indexed.scenes[0].0.clone();
    for zh in [false, true] {
        let query = describe_with_positions(&target, zh);
        let response = search(&mut indexed.library, &SearchRequest::text(&query, 5)).unwrap();
        assert_eq!(response.walk, Some(WalkType::Long), "{query}");
        assert_eq!(response.results[0].path, target_path, "the described scene ranks first for {query}");
    }
}

#[test]
fn filters_and_folder_keywords() {
    let mut rng = Rng::new(61);
    let scenes: Vec<Scene> = (0..12)
        .map(|i| {
            let colour = if i % 2 == 0 { Colour::Red } else { Colour::Green };
            draw_scene(&mut rng, &SceneSpec { required: vec![(colour, Shape::Circle)], num_objects: Some(1), ..SceneSpec::default() })
        })
        .collect();
    let mut indexed = index_scenes(scenes, |i| if i < 6 { "旅行".into() } else { "home".into() });
    let travel = indexed.scenes.iter().filter(|(p, _)| p.contains("旅行")).map(|(p, _)| p.clone()).collect::<Vec<_>>();

    let mut request = SearchRequest::text("a red circle", 12);
    request.filters.folder = Some(PathBuf::from(Path::new(&travel[0]).parent().unwrap()));
    let response = search(&mut indexed.library, &request).unwrap();
    assert!(!response.results.is_empty());
    assert!(response.results.iter().all(|r| r.path.contains("旅行")), "folder filter");

    let mut request = SearchRequest::text("a red circle", 12);
    request.filters.types = vec!["jpg".into()];
    assert!(search(&mut indexed.library, &request).unwrap().results.is_empty(), "type filter excludes PNG files");

    let mut request = SearchRequest::text("a red circle", 12);
    request.filters.before = Some("2000".into());
    assert!(search(&mut indexed.library, &request).unwrap().results.is_empty(), "date filter excludes new files");
    request.filters.before = None;
    request.filters.after = Some("2000-01-01".into());
    assert_eq!(search(&mut indexed.library, &request).unwrap().results.len(), 12, "date filter keeps matching files");

    let mut request = SearchRequest::text("a red circle", 12);
    request.filters.after = Some("2030-01-01".into());
    request.filters.before = Some("2020".into());
    let error = search(&mut indexed.library, &request).unwrap_err();
    assert!(matches!(error, SearchError::EmptyDateRange { .. }), "{error}");
    assert!(error.to_string().contains("日期范围为空"), "{error}");

    let mut request = SearchRequest::text("a red circle", 12);
    request.filters.folder = Some(indexed._dir.path().join("elsewhere"));
    let error = search(&mut indexed.library, &request).unwrap_err();
    assert!(matches!(error, SearchError::FolderNotInLibrary(_)), "{error}");
    assert!(error.to_string().contains("不在图库中"), "{error}");
    request.filters.folder = Some(indexed._dir.path().to_path_buf());
    assert_eq!(search(&mut indexed.library, &request).unwrap().results.len(), 12, "a folder above the library's folder keeps its photos");

    let plain = search(&mut indexed.library, &SearchRequest::text("red circle", 12)).unwrap();
    let blended = search(&mut indexed.library, &SearchRequest::text("red circle 旅行", 12)).unwrap();
    let top_travel = blended.results.iter().take(3).filter(|r| r.path.contains("旅行")).count();
    assert_eq!(top_travel, 3, "the folder keyword lifts photos from 旅行: {:?}", blended.results.iter().map(|r| &r.path).collect::<Vec<_>>());
    let score_of = |results: &[xunying::search::SearchResult], path: &str| results.iter().find(|r| r.path == path).map(|r| r.score).unwrap_or(0.0);
    let lifted = travel.iter().filter(|p| score_of(&blended.results, p) > score_of(&plain.results, p)).count();
    assert!(lifted >= 3, "keyword matches raise scores");
}

#[test]
fn like_finds_scene_and_near_copies() {
    let mut rng = Rng::new(71);
    let mut scenes = gallery_scenes(72);
    let original = draw_scene(&mut rng, &SceneSpec { num_objects: Some(3), ..SceneSpec::default() });
    let mut reencoded = original.clone();
    reencoded.image = jpeg_round_trip(&original.image, 70);
    let mut resized = original.clone();
    resized.image = image::imageops::resize(&original.image, original.width * 3 / 4, original.height * 3 / 4, image::imageops::FilterType::Triangle);
    scenes.insert(0, original);
    scenes.insert(1, reencoded);
    scenes.insert(2, resized);
    let mut indexed = index_scenes(scenes, |_| String::new());
    let copies: Vec<String> = indexed.scenes[..3].iter().map(|(p, _)| p.clone()).collect();

    let mut request = SearchRequest::text("", 5);
    request.text = None;
    request.like = Some(PathBuf::from(&copies[0]));
    let response = search(&mut indexed.library, &request).unwrap();
    assert_eq!(response.results[0].path, copies[0], "the example itself ranks first");
    let next: Vec<&str> = response.results[1..3].iter().map(|r| r.path.as_str()).collect();
    assert!(next.contains(&copies[1].as_str()) && next.contains(&copies[2].as_str()), "near copies follow: {next:?}");

    // The toy model puts the 3/4-size copy at cosine 0.94 to its original and other scenes
    // below 0.75, so the test groups at 0.9 (the product default is 0.97).
    let groups = xunying::search::duplicates::find_duplicates(&mut indexed.library, 0.9).unwrap();
    let group = groups.iter().find(|g| g.paths.contains(&copies[0])).expect("the copies form a group");
    for copy in &copies {
        assert!(group.paths.contains(copy), "{copy} is in the duplicate group {group:?}");
    }
}

#[test]
fn bad_queries_get_clear_messages() {
    let mut indexed = index_scenes(gallery_scenes(81).into_iter().take(6).collect(), |_| String::new());
    for empty in ["", "   ", "\u{0}\u{7}\n"] {
        let error = search(&mut indexed.library, &SearchRequest::text(empty, 5)).unwrap_err();
        assert!(matches!(error, SearchError::EmptyQuery), "{empty:?}");
        assert!(error.to_string().contains("查询为空"), "{error}");
    }
    for odd in ["🙂🎉🐱", &"红色的圆形 ".repeat(2000), "a\u{1b}[31m red circle", "\"(*)\" a:b"] {
        let response = search(&mut indexed.library, &SearchRequest::text(odd, 5)).expect("odd text still searches");
        assert!(response.results.len() <= 5);
    }
    let emoji = search(&mut indexed.library, &SearchRequest::text("🙂🎉🐱", 5)).unwrap();
    assert!(emoji.results.is_empty(), "nothing matches by meaning or by name: {:?}", emoji.results);
    assert!(emoji.notices.iter().any(|n| n.contains("recognises none of the words")), "{:?}", emoji.notices);
    assert!(emoji.notices.iter().any(|n| n.contains("无法识别")), "{:?}", emoji.notices);
    let known = search(&mut indexed.library, &SearchRequest::text("a purple elephant 🙂", 5)).unwrap();
    assert!(!known.notices.iter().any(|n| n.contains("recognises none")), "one known word is enough: {:?}", known.notices);
    assert!(known.notices.iter().any(|n| n.contains("match: elephant, 🙂.")), "{:?}", known.notices);
    assert!(known.notices.iter().any(|n| n.contains("模型不认识这些词")), "{:?}", known.notices);
    let plain = search(&mut indexed.library, &SearchRequest::text("a red circle", 5)).unwrap();
    assert!(plain.notices.is_empty(), "{:?}", plain.notices);
    let long = search(&mut indexed.library, &SearchRequest::text(&"a red circle ".repeat(300), 5)).unwrap();
    assert!(long.truncated && long.notices.iter().any(|n| n.contains("shortened") || n.contains("开头")), "{:?}", long.notices);

    let not_image = indexed._dir.path().join("notes.jpg");
    std::fs::write(&not_image, b"plain text").unwrap();
    let mut request = SearchRequest::text("", 5);
    request.text = None;
    request.like = Some(not_image);
    let error = search(&mut indexed.library, &request).unwrap_err();
    assert!(matches!(error, SearchError::BadExample { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("is not an image"), "{message}");
    assert!(message.contains("不是图片"), "{message}");

    request.like = Some(indexed._dir.path().join("gone.jpg"));
    let error = search(&mut indexed.library, &request).unwrap_err();
    assert!(matches!(error, SearchError::ExampleMissing(_)), "{error}");
    let message = error.to_string();
    assert!(message.contains("There is no file at"), "{message}");
    assert!(message.contains("不存在"), "{message}");

    request.like = Some(indexed._dir.path().to_path_buf());
    let error = search(&mut indexed.library, &request).unwrap_err();
    assert!(matches!(error, SearchError::BadExample { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("It is a folder"), "{message}");
    assert!(message.contains("这是一个文件夹"), "{message}");
}

#[test]
fn copy_shown_by_matching_name() {
    let mut rng = Rng::new(63);
    let scene = draw_scene(&mut rng, &SceneSpec { required: vec![(Colour::Red, Shape::Circle)], num_objects: Some(1), ..SceneSpec::default() });
    let others = (0..4).map(|_| draw_scene(&mut rng, &SceneSpec::default()));
    let scenes: Vec<Scene> = [scene.clone(), scene].into_iter().chain(others).collect();
    // Both paths match 相册; only the copy's also matches 备份.
    let mut indexed = index_scenes(scenes, |i| if i == 1 { "相册/备份".into() } else { "相册".into() });
    let copy = indexed.scenes[1].0.clone();

    let response = search(&mut indexed.library, &SearchRequest::text("a red circle 相册 备份", 10)).unwrap();
    let copies: Vec<&str> = response.results.iter().map(|r| r.path.as_str()).filter(|p| *p == copy || *p == indexed.scenes[0].0).collect();
    assert_eq!(copies, [copy.as_str()], "the copy in 备份 stands for both files");
}

#[test]
fn empty_library_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut library = open(&dir.path().join("data"));
    let response = search(&mut library, &SearchRequest::text("a red circle", 5)).unwrap();
    assert!(response.results.is_empty());
    assert!(response.notices.iter().any(|n| n.contains("no photos yet")), "{:?}", response.notices);
    assert!(response.notices.iter().any(|n| n.contains("还没有照片")), "{:?}", response.notices);
}

#[test]
fn cli_mistakes_explained_bilingually() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = xunying(&["search", "cat", "--type", "xyz"], &data);
    assert_eq!(output.status.code(), Some(2));
    let message = crate::support::stderr(&output);
    assert!(message.contains("not a photo type"), "{message}");
    assert!(message.contains("不是寻影索引的照片类型"), "{message}");
    assert!(message.contains("heic"), "the known types are listed: {message}");

    let output = xunying(&["search", "cat", "--no-such-flag"], &data);
    assert_eq!(output.status.code(), Some(2));
    let message = crate::support::stderr(&output);
    assert!(message.contains("--no-such-flag"), "{message}");
    assert!(message.contains("命令行参数有误"), "{message}");

    let output = xunying(&["search", "cat", "--type", ".JPG", "--json"], &data);
    let message = crate::support::stderr(&output);
    assert!(!message.contains("not a photo type"), "`.JPG` is accepted as jpg: {message}");

    let output = xunying(&["search", "cat", "--limit", "-1"], &data);
    assert_eq!(output.status.code(), Some(2));
    let message = crate::support::stderr(&output);
    assert!(message.contains("not a whole number from 1 to 100000"), "{message}");
    assert!(!message.contains("-- -1"), "{message}");

    let output = xunying(&["--help"], &data);
    assert_eq!(output.status.code(), Some(0), "help is not an error");
}

#[test]
fn json_boxes_are_in_upright_pixels() {
    let mut rng = Rng::new(91);
    let scene = draw_scene(
        &mut rng,
        &SceneSpec { required: vec![(Colour::Red, Shape::Square)], num_objects: Some(1), size: Some((400, 240)), ..SceneSpec::default() },
    );
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    // Stored rotated 90° counter-clockwise with orientation 6, which displays upright.
    let stored = image::imageops::rotate270(&scene.image);
    std::fs::write(photos.join("rotated.jpg"), jpeg_with_orientation(&stored, 6)).unwrap();

    let data = dir.path().join("data");
    let bundle = toy_bundle();
    let args = ["--model", bundle.to_str().unwrap(), "--device", "cpu"];
    let mut index_args = vec!["index", photos.to_str().unwrap(), "--quiet", "--settle-ms", "0"];
    index_args.extend(args);
    assert!(xunying(&index_args, &data).status.success());
    let mut search_args = vec!["search", "a red square", "--json"];
    search_args.extend(args);
    let output = xunying(&search_args, &data);
    assert!(output.status.success());
    let results: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let first = &results[0];
    for field in ["path", "score", "photo_score", "region", "width", "height", "taken_at"] {
        assert!(first.get(field).is_some(), "result has `{field}`: {first}");
    }
    assert_eq!(first["width"], 400, "width is upright");
    assert_eq!(first["height"], 240, "height is upright");
    let b: Vec<f32> = first["region"]["box"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
    // The frame is what this test pins: the box centre must fall on the object in the
    // upright photo. (Box accuracy is measured by the quality tests.)
    let truth = scene.objects[0].bbox;
    let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
    assert!(b[2] <= 400.0 && b[3] <= 240.0, "box {b:?} lies inside the upright 400x240 photo");
    assert!(cx >= truth[0] && cx <= truth[2] && cy >= truth[1] && cy <= truth[3], "box {b:?} centres on the upright object {truth:?}");

    let mut empty_args = vec!["search", "   ", "--json"];
    empty_args.extend(args);
    let output = xunying(&empty_args, &data);
    assert!(!output.status.success());
    assert!(crate::support::stderr(&output).contains("查询为空"));
}

/// Encodes a JPEG and inserts an EXIF APP1 segment holding only an orientation tag.
fn jpeg_with_orientation(image: &image::RgbImage, orientation: u16) -> Vec<u8> {
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92).encode_image(image).unwrap();
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\x00\x2a\x00\x00\x00\x08");
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn out_of_range_options_are_refused() {
    let data = tempfile::tempdir().unwrap();
    for args in [
        vec!["search", "a red circle", "--limit", "0"],
        vec!["search", "a red circle", "--limit", "1000000000000"],
        vec!["search", "a red circle", "--min-score", "5"],
        vec!["search", "a red circle", "--min-score=-0.1"],
        vec!["duplicates", "--threshold", "2"],
    ] {
        let output = xunying(&args, data.path());
        assert_eq!(output.status.code(), Some(2), "{args:?} is refused as a usage error");
        let message = crate::support::stderr(&output);
        assert!(message.contains("不是"), "{args:?} explains itself in Chinese too: {message}");
    }
}

#[cfg(unix)]
#[test]
fn closed_output_pipe_ends_quietly() {
    // As in `xunying status | head -1`: the reader is gone before the output is written.
    let data = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xunying"))
        .arg("status")
        .env("XUNYING_DATA_DIR", data.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let message = crate::support::stderr(&output);
    assert!(!message.contains("panicked"), "{message}");
}

#[test]
fn reading_commands_need_an_existing_library() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("no-such-library");
    for args in [vec!["status"], vec!["search", "a red circle"], vec!["duplicates"]] {
        let output = xunying(&args, &typo);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = crate::support::stderr(&output);
        assert!(message.contains("no library in"), "{args:?}: {message}");
        assert!(message.contains("还没有图库"), "{args:?}: {message}");
        assert!(!typo.exists(), "{args:?} made a library in a mistyped folder");
    }
}

#[test]
fn piped_logs_have_no_colour_codes() {
    let data = tempfile::tempdir().unwrap();
    let output = xunying(&["-vv", "status"], data.path());
    assert!(output.status.success(), "{output:?}");
    let log = crate::support::stderr(&output);
    assert!(log.contains("DEBUG"), "-vv logs Xunying's own detail: {log}");
    assert!(!log.contains('\u{1b}'), "a log written to a pipe has no escape codes: {log:?}");
}
