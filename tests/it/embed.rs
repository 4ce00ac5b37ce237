//! `xunying embed` on the toy bundle: patches fed from `.npy` files, padding to a larger
//! token count, and the stage timings in the JSON report.

use std::path::{Path, PathBuf};

use image::RgbImage;
use serde_json::Value;
use xunying::model::prepare_image;

use crate::support::{corpus_dir, stderr, stdout, toy_bundle, xunying};

const PHOTO: &str = "photos/horse.png";

fn embed(args: &[&str], data_dir: &Path) -> Value {
    let bundle = toy_bundle();
    let mut full = vec!["--model", bundle.to_str().unwrap(), "--device", "cpu", "embed", "--json"];
    full.extend_from_slice(args);
    let output = xunying(&full, data_dir);
    assert!(output.status.success(), "embed failed: {}", stderr(&output));
    serde_json::from_str(&stdout(&output)).expect("embed prints JSON")
}

fn vector(value: &Value) -> Vec<f32> {
    value.as_array().expect("an array").iter().map(|v| v.as_f64().expect("a number") as f32).collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

/// Writes `values` as a float32 `.npy` file (format 1.0) of the given shape.
fn write_npy(path: &Path, shape: &[usize], values: &[f32]) {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}", dims.join(", "));
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    values.iter().for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
    std::fs::write(path, bytes).unwrap();
}

fn photo() -> (PathBuf, RgbImage) {
    let path = corpus_dir().join(PHOTO);
    let rgb = image::open(&path).unwrap().to_rgb8();
    (path, rgb)
}

fn toy_patch_budget(report: &Value) -> usize {
    report["images"][0]["patch_budget"].as_u64().unwrap() as usize
}

#[test]
fn pixel_values_replace_preprocessing() {
    let data = tempfile::tempdir().unwrap();
    let (path, rgb) = photo();
    let path_arg = path.to_str().unwrap();
    let own = embed(&["--image", path_arg, "--box", "10,10,120,90"], data.path());
    let budget = toy_patch_budget(&own);

    // The host's own patches, written out and fed back, must give the same embeddings.
    let prepared = prepare_image(&rgb, 16, budget, [0.5; 3], [0.5; 3]).unwrap();
    let (rows, cols) = prepared.spatial_shape;
    let valid = &prepared.pixel_values[..rows * cols * 768];
    let npy = data.path().join("patches.npy");
    write_npy(&npy, &[rows, cols, 768], valid);
    let fed = embed(&["--image", path_arg, "--pixel-values", npy.to_str().unwrap(), "--box", "10,10,120,90"], data.path());
    let (own_image, fed_image) = (&own["images"][0], &fed["images"][0]);
    assert_eq!(fed_image["spatial_shape"], own_image["spatial_shape"]);
    assert_eq!(fed_image["patch_budget"], own_image["patch_budget"]);
    assert!(cosine(&vector(&fed_image["embedding"]), &vector(&own_image["embedding"])) > 0.999_999);
    let (fed_region, own_region) = (&fed_image["regions"][0]["embedding"], &own_image["regions"][0]["embedding"]);
    assert!(cosine(&vector(fed_region), &vector(own_region)) > 0.999_999);
    assert_eq!(fed_image["timings_ms"]["preprocess"].as_f64(), Some(0.0));

    // Other patches of the same grid must change the embedding, so the file is used.
    let inverted: Vec<f32> = valid.iter().map(|v| -v).collect();
    write_npy(&npy, &[rows, cols, 768], &inverted);
    let changed = embed(&["--image", path_arg, "--pixel-values", npy.to_str().unwrap()], data.path());
    assert!(cosine(&vector(&changed["images"][0]["embedding"]), &vector(&own_image["embedding"])) < 0.999);
}

#[test]
fn pixel_values_count_must_match_images() {
    let data = tempfile::tempdir().unwrap();
    let (path, _) = photo();
    let npy = data.path().join("patches.npy");
    write_npy(&npy, &[1, 1, 768], &[0.0; 768]);
    let bundle = toy_bundle();
    let path_arg = path.to_str().unwrap();
    let args = ["--model", bundle.to_str().unwrap(), "embed", "--json", "--image", path_arg, "--image", path_arg];
    let output = xunying(&[&args[..], &["--pixel-values", npy.to_str().unwrap()]].concat(), data.path());
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--pixel-values"), "{}", stderr(&output));
}

#[test]
fn pixel_values_wrong_width_is_rejected() {
    let data = tempfile::tempdir().unwrap();
    let (path, _) = photo();
    let npy = data.path().join("patches.npy");
    write_npy(&npy, &[2, 2, 10], &[0.0; 40]);
    let bundle = toy_bundle();
    let args = ["--model", bundle.to_str().unwrap(), "embed", "--json", "--image", path.to_str().unwrap()];
    let output = xunying(&[&args[..], &["--pixel-values", npy.to_str().unwrap()]].concat(), data.path());
    assert!(!output.status.success());
    assert!(stderr(&output).contains("Invalid image patches"), "{}", stderr(&output));
}

/// Writes a 200×150 gradient, which the toy bundle runs at budget 128 of 64/128/256.
fn small_photo(dir: &Path) -> PathBuf {
    let path = dir.join("gradient.png");
    RgbImage::from_fn(200, 150, |x, y| image::Rgb([x as u8, (y * 2) as u8, ((x + y) % 256) as u8])).save(&path).unwrap();
    path
}

#[test]
fn pad_to_keeps_embeddings() {
    let data = tempfile::tempdir().unwrap();
    let path = small_photo(data.path());
    let path_arg = path.to_str().unwrap();
    let own = embed(&["--image", path_arg, "--box", "0,0,100,100"], data.path());
    assert!(toy_patch_budget(&own) < 256, "the photo should need less than the toy's largest budget");
    let padded = embed(&["--image", path_arg, "--box", "0,0,100,100", "--pad-to", "300"], data.path());
    let (own_image, padded_image) = (&own["images"][0], &padded["images"][0]);
    assert_eq!(toy_patch_budget(&padded), 300);
    assert_eq!(padded_image["spatial_shape"], own_image["spatial_shape"]);
    assert!(cosine(&vector(&padded_image["embedding"]), &vector(&own_image["embedding"])) > 0.999_99);
    let (padded_region, own_region) = (&padded_image["regions"][0]["embedding"], &own_image["regions"][0]["embedding"]);
    assert!(cosine(&vector(padded_region), &vector(own_region)) > 0.999_99);
}

#[test]
fn pad_to_below_budget_is_rejected() {
    let data = tempfile::tempdir().unwrap();
    let path = small_photo(data.path());
    let bundle = toy_bundle();
    let args = ["--model", bundle.to_str().unwrap(), "embed", "--json", "--image", path.to_str().unwrap(), "--pad-to", "1"];
    let output = xunying(&args, data.path());
    assert!(!output.status.success());
    assert!(stderr(&output).contains("cannot pad"), "{}", stderr(&output));
}

#[test]
fn report_has_stage_timings() {
    let data = tempfile::tempdir().unwrap();
    let (path, _) = photo();
    let report = embed(&["--image", path.to_str().unwrap(), "--dense", "--text", "a red circle"], data.path());
    let image_timings = &report["images"][0]["timings_ms"];
    for stage in ["decode", "preprocess", "vision", "dense"] {
        assert!(image_timings[stage].as_f64().is_some_and(|ms| ms >= 0.0), "image stage {stage}: {image_timings}");
    }
    assert!(image_timings["vision"].as_f64().unwrap() > 0.0);
    let text_timings = &report["texts"][0]["timings_ms"];
    assert!(text_timings["graph"].as_f64().is_some_and(|ms| ms > 0.0), "{text_timings}");
    assert!(text_timings["tokenize"].as_f64().is_some(), "{text_timings}");
}
