//! Memory of the encoder sessions: what a large batch needed goes back to the system
//! after the run, so a long ingest with varied batch shapes keeps a flat ceiling.
//!
//! Resident memory is a figure of the whole process, and the other tests of this binary
//! run on threads of the same process. So the measurement runs in a child process of
//! its own.

use std::process::Command;

use image::{Rgb, RgbImage};
use xunying::bench::resident_memory_bytes;
use xunying::model::{Device, Model, ModelOptions};

use crate::support::toy_bundle;

const CHILD_ENV: &str = "XUNYING_TEST_MEMORY_CHILD";

/// Photos in the large batch: at patch budget 256, each attention layer of the toy
/// model computes 64 × 4 × 256 × 256 scores in f32, 64 MiB.
const LARGE_BATCH: usize = 64;

/// Draws a 256 × 256 photo with a different gradient per `seed`, which the toy model
/// embeds at patch budget 256.
fn photo(seed: u8) -> RgbImage {
    RgbImage::from_fn(256, 256, |x, y| Rgb([x as u8 ^ seed, y as u8, (x as u8).wrapping_add(y as u8).wrapping_mul(seed | 1)]))
}

/// Prints the resident memory after a batch of one photo and after a batch of 64, both
/// with regions. Runs as the child process of `large_batch_memory_is_returned`.
#[test]
#[ignore = "child process of large_batch_memory_is_returned; runs only when spawned by it"]
fn large_batch_memory_child() {
    assert!(std::env::var_os(CHILD_ENV).is_some(), "runs only when spawned by large_batch_memory_is_returned");
    let options = ModelOptions { device: Device::Cpu, intra_threads: 1, max_batch: LARGE_BATCH, ..ModelOptions::default() };
    let model = Model::load(&toy_bundle(), options).unwrap();
    let prepared: Vec<_> = (0..LARGE_BATCH).map(|i| model.prepare(&photo(i as u8)).unwrap()).collect();
    assert!(prepared.iter().all(|p| p.patch_budget == 256), "every photo takes budget 256");

    model.embed_images(&prepared[..1], true).unwrap();
    let small = resident_memory_bytes().expect("resident memory is readable on Linux");
    model.embed_images(&prepared, true).unwrap();
    let large = resident_memory_bytes().unwrap();
    println!("resident after one photo: {small}");
    println!("resident after {LARGE_BATCH} photos: {large}");
}

#[test]
fn large_batch_memory_is_returned() {
    if !cfg!(target_os = "linux") {
        println!("skipped: resident memory is read from /proc");
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "model_memory::large_batch_memory_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the child failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // libtest prints the test's name and result on the lines of its output, so each
    // figure is read as the digits right after its label.
    let figure = |label: &str| -> u64 {
        let start = stdout.find(label).unwrap_or_else(|| panic!("no `{label}` in:\n{stdout}")) + label.len();
        let digits: String = stdout[start..].trim_start().chars().take_while(char::is_ascii_digit).collect();
        digits.parse().unwrap_or_else(|_| panic!("no figure after `{label}` in:\n{stdout}"))
    };
    let small = figure("resident after one photo:");
    let large = figure(&format!("resident after {LARGE_BATCH} photos:"));
    let kept_mib = large.saturating_sub(small) as f64 / (1024.0 * 1024.0);
    println!("the batch of {LARGE_BATCH} left {kept_mib:.1} MiB resident");
    // With ONNX Runtime's CPU arena the batch left 430–455 MiB behind, and without it
    // 87–94 MiB. The rest is glibc's: it keeps freed blocks below its mmap threshold,
    // which rises with the blocks freed, up to 32 MiB on 64-bit systems (mallopt(3)).
    assert!(kept_mib < 200.0, "the batch of {LARGE_BATCH} left {kept_mib:.1} MiB resident after it ended");
}
