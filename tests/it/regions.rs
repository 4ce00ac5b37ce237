//! Region proposals: segments of a dense map, the window grid, suppression, the ONNX
//! detector layouts on handcrafted graphs, and extraction with embeddings.

use std::path::PathBuf;

use image::{Rgb, RgbImage};
use xunying::model::{DenseMap, Device, Model, ModelOptions};
use xunying::regions::{
    iou, non_max_suppression, propose_segments, window_grid, Detector, DetectorConfig, DetectorResize,
    RegionConfig, RegionError, RegionExtractor, RegionProposal, RegionSource, SnapConfig, LETTERBOX_PAD,
};

use crate::support::{repo_root, toy_bundle};

/// Deterministic xorshift generator, so maps are the same on every machine.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }

    fn symmetric(&mut self, amplitude: f32) -> f32 {
        (self.unit() * 2.0 - 1.0) * amplitude
    }
}

const ROWS: usize = 12;
const COLS: usize = 16;
const DIM: usize = 32;
const IMAGE_SIZE: (u32, u32) = (320, 240);
/// Object rectangles in patches, `[r0, c0, r1, c1)`.
const OBJECTS: [[usize; 4]; 2] = [[2, 2, 6, 7], [5, 9, 10, 14]];

/// A dense map of a background with two objects: every patch is its kind's feature plus
/// noise, at a random length, as unnormalised model features are.
fn synthetic_map() -> DenseMap {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let bases: Vec<Vec<f32>> = (0..3).map(|_| (0..DIM).map(|_| rng.symmetric(1.0)).collect()).collect();
    let mut features = Vec::with_capacity(ROWS * COLS * DIM);
    for r in 0..ROWS {
        for c in 0..COLS {
            let kind = OBJECTS
                .iter()
                .position(|&[r0, c0, r1, c1]| (r0..r1).contains(&r) && (c0..c1).contains(&c))
                .map_or(0, |i| i + 1);
            let length = 0.5 + 1.5 * rng.unit();
            features.extend(bases[kind].iter().map(|&v| (v + rng.symmetric(0.15)) * length));
        }
    }
    DenseMap { rows: ROWS, cols: COLS, dim: DIM, features, image_size: IMAGE_SIZE }
}

/// Draws the photo that `synthetic_map` stands for: each object a flat colour on a grey
/// background.
fn synthetic_image() -> RgbImage {
    let colours = [[200, 40, 40], [40, 60, 200]];
    RgbImage::from_fn(IMAGE_SIZE.0, IMAGE_SIZE.1, |x, y| {
        let inside = |b: [f32; 4]| (b[0]..b[2]).contains(&(x as f32 + 0.5)) && (b[1]..b[3]).contains(&(y as f32 + 0.5));
        match OBJECTS.iter().position(|&o| inside(object_pixel_box(o))) {
            Some(i) => Rgb(colours[i]),
            None => Rgb([180, 182, 184]),
        }
    })
}

fn object_pixel_box([r0, c0, r1, c1]: [usize; 4]) -> [f32; 4] {
    let patch = IMAGE_SIZE.0 as f32 / COLS as f32;
    [c0 as f32 * patch, r0 as f32 * patch, c1 as f32 * patch, r1 as f32 * patch]
}

fn best_iou(proposals: &[RegionProposal], target: [f32; 4]) -> f32 {
    proposals.iter().map(|p| iou(p.region_box, target)).fold(0.0, f32::max)
}

fn assert_box_inside(region_box: [f32; 4], (width, height): (u32, u32)) {
    let [x0, y0, x1, y1] = region_box;
    assert!(region_box.iter().all(|v| v.is_finite()), "{region_box:?}");
    assert!(x0 >= 0.0 && y0 >= 0.0, "{region_box:?}");
    assert!(x1 <= width as f32 && y1 <= height as f32, "{region_box:?} in {width}×{height}");
    assert!(x1 - x0 >= 1.0 && y1 - y0 >= 1.0, "degenerate {region_box:?}");
}

fn assert_close(got: f32, want: f32, tolerance: f32, what: &str) {
    assert!((got - want).abs() <= tolerance, "{what}: got {got}, expected {want}");
}

fn assert_box_close(got: [f32; 4], want: [f32; 4], what: &str) {
    for (g, w) in got.iter().zip(want) {
        assert_close(*g, w, 1.0, what);
    }
}

#[test]
fn segments_find_synthetic_objects() {
    let proposals = propose_segments(&synthetic_map()).unwrap();
    let kept = non_max_suppression(proposals, 0.6, 16);
    for object in OBJECTS {
        let target = object_pixel_box(object);
        let best = best_iou(&kept[..2], target);
        assert!(best >= 0.7, "object {target:?}: best IoU among the top two {best}; kept {kept:?}");
    }
    assert!(kept.iter().all(|p| p.source == RegionSource::Segment));
}

#[test]
fn segments_skip_background() {
    let proposals = propose_segments(&synthetic_map()).unwrap();
    let (width, height) = IMAGE_SIZE;
    let image_area = (width * height) as f32;
    for proposal in &proposals {
        let [x0, y0, x1, y1] = proposal.region_box;
        assert!((x1 - x0) * (y1 - y0) <= 0.9 * image_area, "{proposal:?}");
        assert_box_inside(proposal.region_box, IMAGE_SIZE);
    }
}

#[test]
fn window_grid_covers_image() {
    for (width, height) in [(640, 480), (101, 997), (1, 1)] {
        let windows = window_grid(width, height);
        assert!(windows.iter().any(|w| w.source == RegionSource::Whole && w.region_box == [0.0, 0.0, width as f32, height as f32]));
        for window in &windows {
            let [x0, y0, x1, y1] = window.region_box;
            assert!(x0 >= 0.0 && y0 >= 0.0 && x1 <= width as f32 && y1 <= height as f32, "{window:?}");
            assert!(x1 > x0 && y1 > y0, "{window:?}");
        }
        // Every pixel centre on a coarse lattice lies in some non-whole window.
        for fy in [0.01, 0.3, 0.5, 0.7, 0.99] {
            for fx in [0.01, 0.3, 0.5, 0.7, 0.99] {
                let (x, y) = (fx * width as f32, fy * height as f32);
                let covered = windows.iter().filter(|w| w.source == RegionSource::Grid).any(|w| {
                    let [x0, y0, x1, y1] = w.region_box;
                    x >= x0 && x <= x1 && y >= y0 && y <= y1
                });
                assert!(covered, "({x}, {y}) in {width}×{height}");
            }
        }
    }
}

#[test]
fn grid_ranks_below_segments() {
    let segments = propose_segments(&synthetic_map()).unwrap();
    let lowest_segment = segments.iter().map(|p| p.score).fold(f32::INFINITY, f32::min);
    let highest_window = window_grid(320, 240).iter().map(|p| p.score).fold(f32::NEG_INFINITY, f32::max);
    assert!(lowest_segment > highest_window, "{lowest_segment} vs {highest_window}");
}

#[test]
fn nms_across_sources() {
    let proposals = vec![
        RegionProposal { region_box: [0.0, 0.0, 100.0, 100.0], source: RegionSource::Whole, score: 0.03 },
        RegionProposal { region_box: [2.0, 2.0, 100.0, 100.0], source: RegionSource::Detector, score: 0.8 },
        RegionProposal { region_box: [200.0, 0.0, 300.0, 100.0], source: RegionSource::Segment, score: 0.5 },
        RegionProposal { region_box: [400.0, 0.0, 500.0, 100.0], source: RegionSource::Grid, score: 0.02 },
    ];
    let kept = non_max_suppression(proposals, 0.6, 16);
    let sources: Vec<RegionSource> = kept.iter().map(|p| p.source).collect();
    assert_eq!(sources, vec![RegionSource::Detector, RegionSource::Segment, RegionSource::Grid]);

    let capped = non_max_suppression(kept, 0.6, 1);
    assert_eq!(capped.len(), 1);
    assert_eq!(capped[0].source, RegionSource::Detector);
}

#[test]
fn region_source_names_round_trip() {
    for source in [RegionSource::Segment, RegionSource::Grid, RegionSource::Detector, RegionSource::Whole] {
        assert_eq!(RegionSource::parse(source.as_str()), Some(source));
        assert_eq!(serde_json::to_string(&source).unwrap(), format!("\"{}\"", source.as_str()));
    }
    assert_eq!(RegionSource::parse("box"), None);
}

// ---------------------------------------------------------------------------------------
// Detectors on the graphs written by models/fixtures/make_detector_fixtures.py
// ---------------------------------------------------------------------------------------

fn detector_fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/detectors").join(name)
}

fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

const PAD: f32 = LETTERBOX_PAD as f32 / 255.0;

#[test]
fn yolo_fixture_decodes_known_boxes() {
    let detector = Detector::load(&DetectorConfig::yolo(detector_fixture("yolo.onnx"), (64, 64)), Device::Cpu).unwrap();
    // 200×100 letterboxed into 64×64: scale 0.32, image rows 16..48 of the input.
    let red = RgbImage::from_pixel(200, 100, Rgb([255, 0, 0]));
    let detections = detector.detect(&red).unwrap();

    assert_eq!(detections.len(), 2, "{detections:?}");
    assert!(detections.iter().all(|d| d.source == RegionSource::Detector));
    // Input box [12, 24, 28, 36] with score 0.9.
    assert_box_close(detections[0].region_box, [37.5, 25.0, 87.5, 62.5], "first box");
    assert_close(detections[0].score, 0.9, 1e-6, "first score");
    // Input box [34, 32, 54, 40]; its score is the mean red of the input: half image, half padding.
    assert_box_close(detections[1].region_box, [106.25, 50.0, 168.75, 75.0], "second box");
    assert_close(detections[1].score, 0.5 + 0.5 * PAD, 1e-4, "second score (mean red)");
}

#[test]
fn yolo_threshold_and_cap_apply() {
    let mut config = DetectorConfig::yolo(detector_fixture("yolo.onnx"), (64, 64));
    config.score_threshold = 0.15;
    let red = RgbImage::from_pixel(200, 100, Rgb([255, 0, 0]));
    let detector = Detector::load(&config, Device::Cpu).unwrap();
    let detections = detector.detect(&red).unwrap();
    assert_eq!(detections.len(), 3, "the 0.2 detection passes a 0.15 threshold: {detections:?}");
    assert_close(detections[2].score, 0.2, 1e-6, "third score");

    config.max_detections = 1;
    let detector = Detector::load(&config, Device::Cpu).unwrap();
    let detections = detector.detect(&red).unwrap();
    assert_eq!(detections.len(), 1);
    assert_close(detections[0].score, 0.9, 1e-6, "best score");
}

#[test]
fn detr_fixture_decodes_stretched() {
    let detector = Detector::load(&DetectorConfig::detr(detector_fixture("detr.onnx"), (64, 48)), Device::Cpu).unwrap();
    let blue = RgbImage::from_pixel(200, 100, Rgb([0, 0, 255]));
    let detections = detector.detect(&blue).unwrap();

    assert_eq!(detections.len(), 2, "{detections:?}");
    // The blue logit is the mean of the ImageNet-normalised blue channel.
    let blue_logit = (1.0 - 0.406) / 0.225;
    assert_box_close(detections[0].region_box, [110.0, 20.0, 170.0, 40.0], "query 1 box");
    assert_close(detections[0].score, sigmoid(blue_logit), 1e-4, "query 1 score");
    assert_box_close(detections[1].region_box, [30.0, 30.0, 70.0, 70.0], "query 0 box");
    assert_close(detections[1].score, sigmoid(2.0), 1e-6, "query 0 score");
}

#[test]
fn detr_fixture_decodes_letterboxed() {
    let mut config = DetectorConfig::detr(detector_fixture("detr.onnx"), (64, 48));
    config.resize = Some(DetectorResize::Letterbox);
    let detector = Detector::load(&config, Device::Cpu).unwrap();
    // 200×100 letterboxed into 64×48: scale 0.32, image rows 8..40 of the input.
    let blue = RgbImage::from_pixel(200, 100, Rgb([0, 0, 255]));
    let detections = detector.detect(&blue).unwrap();

    assert_eq!(detections.len(), 2, "{detections:?}");
    let image_logit = (1.0 - 0.406) / 0.225;
    let pad_logit = (PAD - 0.406) / 0.225;
    let blue_logit = (2.0 * image_logit + pad_logit) / 3.0;
    // Query 0: input box [9.6, 14.4, 22.4, 33.6]. With a third of the input padded, query
    // 1's blue logit drops to about 1.82, below query 0's 2.
    assert_box_close(detections[0].region_box, [30.0, 20.0, 70.0, 80.0], "query 0 box");
    assert_close(detections[0].score, sigmoid(2.0), 1e-6, "query 0 score");
    // Query 1: input box [35.2, 9.6, 54.4, 19.2].
    assert_box_close(detections[1].region_box, [110.0, 5.0, 170.0, 35.0], "query 1 box");
    assert_close(detections[1].score, sigmoid(blue_logit), 1e-4, "query 1 score");
}

#[test]
fn detector_wrong_output_shape_is_typed() {
    let config = DetectorConfig::yolo(detector_fixture("yolo_bad_shape.onnx"), (32, 32));
    match Detector::load(&config, Device::Cpu) {
        Err(RegionError::DetectorOutput { output, shape, layout, .. }) => {
            assert_eq!(output, "output0");
            assert_eq!(shape, vec![1, 6]);
            assert_eq!(layout, "yolo");
        }
        other => panic!("expected a DetectorOutput error, got {other:?}"),
    }
}

#[test]
fn detector_wrong_layout_is_typed() {
    let config = DetectorConfig::detr(detector_fixture("yolo.onnx"), (64, 64));
    let error = Detector::load(&config, Device::Cpu).unwrap_err();
    assert!(matches!(error, RegionError::DetectorOutput { layout: "detr", .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("`boxes` or `pred_boxes`"), "{message}");
    assert!(message.contains("目标检测模型"), "{message}");
}

#[test]
fn detector_input_size_mismatch_is_typed() {
    let config = DetectorConfig::yolo(detector_fixture("yolo.onnx"), (640, 640));
    let error = Detector::load(&config, Device::Cpu).unwrap_err();
    assert!(matches!(error, RegionError::DetectorInput { .. }), "{error:?}");
    assert!(error.to_string().contains("[1, 3, 640, 640]"), "{error}");
}

#[test]
fn detector_missing_graph_is_bilingual() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("detector.onnx");
    let error = Detector::load(&DetectorConfig::yolo(&missing, (640, 640)), Device::Cpu).unwrap_err();
    assert!(matches!(&error, RegionError::DetectorNotFound { path } if *path == missing), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("Object detector graph not found"), "{message}");
    assert!(message.contains("未找到目标检测模型"), "{message}");
    assert!(message.contains(&missing.display().to_string()), "{message}");
}

#[test]
fn detector_invalid_graph_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("detector.onnx");
    std::fs::write(&garbage, b"not an onnx graph").unwrap();
    let error = Detector::load(&DetectorConfig::yolo(&garbage, (64, 64)), Device::Cpu).unwrap_err();
    assert!(matches!(error, RegionError::DetectorLoad { .. }), "{error:?}");
}

#[test]
fn detector_rejects_empty_image() {
    let detector = Detector::load(&DetectorConfig::yolo(detector_fixture("yolo.onnx"), (64, 64)), Device::Cpu).unwrap();
    let error = detector.detect(&RgbImage::new(0, 10)).unwrap_err();
    assert!(matches!(error, RegionError::EmptyImage { width: 0, height: 10 }), "{error:?}");
}

#[test]
fn detector_config_reads_from_json() {
    let config: DetectorConfig =
        serde_json::from_str(r#"{ "graph": "/models/yolo11n.onnx", "layout": "yolo", "input_size": [640, 640] }"#).unwrap();
    assert_eq!(config, DetectorConfig { intra_threads: config.intra_threads, ..DetectorConfig::yolo("/models/yolo11n.onnx", (640, 640)) });
    assert_eq!(config.effective_resize(), DetectorResize::Letterbox);
}

// ---------------------------------------------------------------------------------------
// Extraction
// ---------------------------------------------------------------------------------------

fn assert_regions_valid(regions: &[xunying::regions::Region], max_regions: usize, image_size: (u32, u32), dim: usize) {
    assert!(!regions.is_empty());
    assert!(regions.len() <= max_regions, "{} regions", regions.len());
    for region in regions {
        assert_box_inside(region.proposal.region_box, image_size);
        assert_eq!(region.embedding.len(), dim);
        assert!(region.embedding.iter().all(|v| v.is_finite()));
        let norm = region.embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert_close(norm, 1.0, 1e-4, "embedding norm");
    }
}

#[test]
fn extract_embeds_kept_regions() {
    let map = synthetic_map();
    let image = synthetic_image();
    let extractor = RegionExtractor::new(RegionConfig::default(), Device::Cpu).unwrap();
    let regions = extractor.extract(&image, &map).unwrap();

    assert_regions_valid(&regions, 16, IMAGE_SIZE, DIM);
    for object in OBJECTS {
        let target = object_pixel_box(object);
        let region = regions.iter().find(|r| iou(r.proposal.region_box, target) >= 0.7).expect("a region per object");
        assert_eq!(region.proposal.source, RegionSource::Segment);
        let [r0, c0, _, _] = object;
        let patch = map.patch_embedding(r0, c0);
        let cosine: f32 = region.embedding.iter().zip(&patch).map(|(a, b)| a * b).sum();
        assert!(cosine > 0.9, "an object's region embedding resembles its patches: {cosine}");
    }
}

#[test]
fn edgeless_segments_are_dropped() {
    // The map shows two objects and the blank photo none. Every segment would cut across
    // one flat area, so only the window grid is left. Without snapping the segments stay.
    let map = synthetic_map();
    let blank = RgbImage::new(IMAGE_SIZE.0, IMAGE_SIZE.1);
    let snapping = RegionExtractor::new(RegionConfig::default(), Device::Cpu).unwrap();
    let proposals = snapping.propose(&blank, &map).unwrap();
    assert!(proposals.iter().all(|p| p.source != RegionSource::Segment), "{proposals:?}");

    let config = RegionConfig { snap: SnapConfig { enabled: false, ..SnapConfig::default() }, ..RegionConfig::default() };
    let grid_only = RegionExtractor::new(config, Device::Cpu).unwrap();
    let proposals = grid_only.propose(&blank, &map).unwrap();
    for object in OBJECTS {
        assert!(best_iou(&proposals, object_pixel_box(object)) >= 0.99, "{proposals:?}");
    }
}

#[test]
fn extract_caps_regions() {
    let config = RegionConfig { max_regions: 3, ..RegionConfig::default() };
    let extractor = RegionExtractor::new(config, Device::Cpu).unwrap();
    let regions = extractor.extract(&synthetic_image(), &synthetic_map()).unwrap();
    assert_eq!(regions.len(), 3);
}

#[test]
fn extract_grid_only_on_uniform_map() {
    let map = DenseMap { rows: 4, cols: 4, dim: 3, features: [1.0, 0.0, 0.0].repeat(16), image_size: (64, 64) };
    let extractor = RegionExtractor::new(RegionConfig::default(), Device::Cpu).unwrap();
    let regions = extractor.extract(&RgbImage::new(64, 64), &map).unwrap();
    assert_regions_valid(&regions, 16, (64, 64), 3);
    assert!(regions.iter().all(|r| matches!(r.proposal.source, RegionSource::Grid | RegionSource::Whole)));
    assert_eq!(regions[0].proposal.source, RegionSource::Whole);
}

#[test]
fn extract_drops_small_boxes() {
    // A 40×40 image: its 3×3 windows are 20×20 = 400 px², below a 500 px² minimum.
    let map = DenseMap { rows: 2, cols: 2, dim: 2, features: [1.0, 0.0].repeat(4), image_size: (40, 40) };
    let config = RegionConfig { min_box_area_px: 500.0, ..RegionConfig::default() };
    let extractor = RegionExtractor::new(config, Device::Cpu).unwrap();
    let regions = extractor.extract(&RgbImage::new(40, 40), &map).unwrap();
    assert_eq!(regions.len(), 5, "the whole image and the 2×2 windows");
}

#[test]
fn extract_with_detector_keeps_its_boxes() {
    let config = RegionConfig {
        detector: Some(DetectorConfig::yolo(detector_fixture("yolo.onnx"), (64, 64))),
        ..RegionConfig::default()
    };
    let extractor = RegionExtractor::new(config, Device::Cpu).unwrap();
    let red = RgbImage::from_pixel(200, 100, Rgb([255, 0, 0]));
    let map = DenseMap { rows: 5, cols: 10, dim: 4, features: [0.5, 0.5, 0.0, 0.1].repeat(50), image_size: (200, 100) };
    let regions = extractor.extract(&red, &map).unwrap();

    assert_regions_valid(&regions, 16, (200, 100), 4);
    let detected: Vec<_> = regions.iter().filter(|r| r.proposal.source == RegionSource::Detector).collect();
    assert_eq!(detected.len(), 2, "{regions:?}");
    assert_eq!(regions[0].proposal.source, RegionSource::Detector, "the 0.9 detection ranks first");
}

#[test]
fn extract_rejects_size_mismatch() {
    let extractor = RegionExtractor::new(RegionConfig::default(), Device::Cpu).unwrap();
    let error = extractor.extract(&RgbImage::new(100, 100), &synthetic_map()).unwrap_err();
    assert!(matches!(error, RegionError::ImageSizeMismatch { image_width: 100, map_width: 320, .. }), "{error:?}");
    assert!(error.to_string().contains("稠密特征图"), "{error}");
}

#[test]
fn extract_rejects_inconsistent_map() {
    let mut map = synthetic_map();
    map.features.truncate(100);
    let extractor = RegionExtractor::new(RegionConfig::default(), Device::Cpu).unwrap();
    let error = extractor.extract(&RgbImage::new(IMAGE_SIZE.0, IMAGE_SIZE.1), &map).unwrap_err();
    assert!(matches!(error, RegionError::InvalidDenseMap { found: 100, .. }), "{error:?}");
}

#[test]
fn invalid_config_is_rejected() {
    let config = RegionConfig { nms_iou: 1.5, ..RegionConfig::default() };
    let error = RegionExtractor::new(config, Device::Cpu).unwrap_err();
    assert!(matches!(error, RegionError::InvalidConfig { field: "nms_iou", .. }), "{error:?}");
}

// ---------------------------------------------------------------------------------------
// The toy model
// ---------------------------------------------------------------------------------------

/// A white 256×192 scene with a red square and a blue circle, and their boxes.
fn square_and_circle() -> (RgbImage, [[f32; 4]; 2]) {
    let mut image = RgbImage::from_pixel(256, 192, Rgb([255, 255, 255]));
    let square = [32.0, 40.0, 104.0, 112.0];
    let (cx, cy, radius) = (176.0f32, 108.0f32, 42.0f32);
    for (x, y, pixel) in image.enumerate_pixels_mut() {
        let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
        if px >= square[0] && px < square[2] && py >= square[1] && py < square[3] {
            *pixel = Rgb([220, 30, 40]);
        } else if (px - cx).powi(2) + (py - cy).powi(2) <= radius * radius {
            *pixel = Rgb([40, 70, 220]);
        }
    }
    (image, [square, [cx - radius, cy - radius, cx + radius, cy + radius]])
}

#[test]
fn toy_model_segments_find_objects() {
    let bundle = toy_bundle();
    if !bundle.join("manifest.json").is_file() {
        println!("skipped: no toy bundle at {}; train and export it to run this test", bundle.display());
        return;
    }
    let options = ModelOptions { device: Device::Cpu, intra_threads: 2, ..ModelOptions::default() };
    let model = Model::load(&bundle, options).unwrap();
    let (image, objects) = square_and_circle();
    let prepared = model.prepare(&image).unwrap();
    let embedded = model.embed_images(&[prepared], true).unwrap().remove(0);
    let map = embedded.dense.expect("the dense map was requested");

    let segments = propose_segments(&map).unwrap();
    for (object, name) in objects.iter().zip(["red square", "blue circle"]) {
        let best = best_iou(&segments, *object);
        println!("{name}: best segment IoU {best:.3} over {} segments", segments.len());
        assert!(best >= 0.5, "{name} {object:?}: best IoU {best}; segments {segments:?}");
    }

    let extractor = RegionExtractor::new(RegionConfig::default(), Device::Cpu).unwrap();
    let regions = extractor.extract(&image, &map).unwrap();
    assert_regions_valid(&regions, 16, (256, 192), model.embed_dim());
    for object in objects {
        assert!(regions.iter().any(|r| iou(r.proposal.region_box, object) >= 0.5), "{object:?} among {regions:?}");
    }
}
