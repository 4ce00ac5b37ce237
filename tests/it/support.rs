//! Helpers shared by the integration tests: repository paths, the toy bundle, a fake
//! bundle writer and the CLI runner.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn toy_bundle() -> PathBuf {
    repo_root().join("models/toy/bundle")
}

pub fn corpus_dir() -> PathBuf {
    let dir = repo_root().join("../shared/corpus");
    assert!(dir.is_dir(), "the test corpus is expected at {}", dir.display());
    dir
}

/// Runs the `xunying` binary with an isolated data directory and no inherited model.
pub fn xunying(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xunying"))
        .args(args)
        .env("XUNYING_DATA_DIR", data_dir)
        .env_remove("XUNYING_MODEL")
        .env_remove("XUNYING_ORT_LIB")
        .env_remove("ORT_DYLIB_PATH")
        .current_dir(repo_root())
        .output()
        .expect("the xunying binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a structurally valid bundle without real graphs (the graph files hold
/// placeholder bytes), for manifest validation tests.
pub fn write_fake_bundle(dir: &Path, embed_dim: usize) -> serde_json::Value {
    std::fs::create_dir_all(dir).unwrap();
    let mut files = BTreeMap::new();
    let mut write = |name: &str, bytes: Vec<u8>| {
        std::fs::write(dir.join(name), &bytes).unwrap();
        files.insert(name.to_string(), serde_json::json!({ "bytes": bytes.len(), "sha256": sha256_hex(&bytes) }));
    };
    write("vision.onnx", b"not a graph".to_vec());
    write("dense.onnx", b"not a graph".to_vec());
    write("text.onnx", b"not a graph".to_vec());
    write("tokenizer.json", b"{}".to_vec());
    write("vision_position_grid.f32", vec![0u8; 4 * 4 * embed_dim * 4]);
    write("text_position_short.f32", vec![0u8; 64 * embed_dim * 4]);
    write("text_position_long.f32", vec![0u8; 196 * embed_dim * 4]);

    let manifest = serde_json::json!({
        "format": "xunying-model-bundle",
        "format_version": 1,
        "family": "test",
        "variant": "fake",
        "model_id": "test/fake/0",
        "precision": "fp32",
        "embed_dim": embed_dim,
        "logit_scale": 2.0,
        "logit_bias": -1.0,
        "vision": {
            "graph": "vision.onnx",
            "dense_graph": "dense.onnx",
            "patch_size": 16,
            "patch_budgets": [16, 64],
            "image_mean": [0.5, 0.5, 0.5],
            "image_std": [0.5, 0.5, 0.5],
            "position_grid": { "file": "vision_position_grid.f32", "side": 4 },
            "inputs": { "pixel_values": "pixel_values", "pixel_attention_mask": "pixel_attention_mask", "position_embeddings": "position_embeddings" },
            "outputs": { "image_embeds": "image_embeds", "last_hidden_state": "last_hidden_state" },
            "dense_inputs": { "last_hidden_state": "last_hidden_state", "pixel_attention_mask": "pixel_attention_mask" },
            "dense_outputs": { "dense_features": "dense_features" }
        },
        "text": {
            "graph": "text.onnx",
            "tokenizer": "tokenizer.json",
            "lowercase": true,
            "pad_id": 0,
            "eos_id": 1,
            "short_len": 64,
            "long_len": 196,
            "position_tables": { "short": "text_position_short.f32", "long": "text_position_long.f32" },
            "inputs": { "input_ids": "input_ids", "position_embeddings": "position_embeddings" },
            "outputs": { "short": "short_embeds", "box": "box_embeds", "long": "long_embeds" }
        },
        "files": files,
    });
    write_manifest(dir, &manifest);
    manifest
}

pub fn write_manifest(dir: &Path, manifest: &serde_json::Value) {
    std::fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(manifest).unwrap()).unwrap();
}

/// Copies a bundle folder (flat) into `dest`.
pub fn copy_bundle(source: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dest.join(entry.file_name())).unwrap();
        }
    }
}
