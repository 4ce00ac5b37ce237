//! `xunying doctor`: reports the runtime, device, bundle and data directory, and gives a
//! bilingual error for each kind of failure.

use crate::support::{copy_bundle, stdout, toy_bundle, write_fake_bundle, xunying};

fn doctor_json(args: &[&str], data_dir: &std::path::Path) -> (bool, serde_json::Value) {
    let mut full = vec!["doctor", "--json"];
    full.extend_from_slice(args);
    let output = xunying(&full, data_dir);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("doctor --json prints JSON");
    (output.status.success(), report)
}

#[test]
fn doctor_reports_toy_bundle() {
    let data = tempfile::tempdir().unwrap();
    let bundle = toy_bundle();
    let (ok, report) = doctor_json(&["--model", bundle.to_str().unwrap(), "--device", "cpu"], data.path());
    assert!(ok, "{report:#}");
    assert_eq!(report["runtime"]["ok"], true);
    assert!(report["runtime"]["version"].as_str().unwrap().starts_with("1."), "{report:#}");
    assert!(report["runtime"]["available_providers"].as_array().unwrap().iter().any(|p| p == "CPUExecutionProvider"));
    assert_eq!(report["device"]["chosen"], "cpu");
    assert_eq!(report["model"]["family"], "xunying-toy");
    assert_eq!(report["data_dir"]["ok"], true);
}

#[test]
fn doctor_auto_device_falls_back_to_cpu() {
    let data = tempfile::tempdir().unwrap();
    let bundle = toy_bundle();
    let (ok, report) = doctor_json(&["--model", bundle.to_str().unwrap()], data.path());
    assert!(ok, "{report:#}");
    assert_eq!(report["device"]["requested"], "auto");
    assert_eq!(report["device"]["chosen"], "cpu");
}

#[test]
fn doctor_missing_runtime_is_bilingual() {
    let data = tempfile::tempdir().unwrap();
    let bundle = toy_bundle();
    let (ok, report) =
        doctor_json(&["--model", bundle.to_str().unwrap(), "--ort-lib", "/nonexistent/libonnxruntime.so"], data.path());
    assert!(!ok);
    assert_eq!(report["runtime"]["ok"], false);
    let error = report["runtime"]["error"].as_str().unwrap();
    assert!(error.contains("npm ci"), "{error}");
    assert!(error.contains("未找到 ONNX Runtime"), "{error}");
    assert!(error.contains("/nonexistent/libonnxruntime.so"), "{error}");
}

#[test]
fn doctor_rejects_non_runtime_library() {
    let data = tempfile::tempdir().unwrap();
    let fake_lib = data.path().join("libonnxruntime.so");
    std::fs::write(&fake_lib, b"not a library").unwrap();
    let (ok, report) = doctor_json(&["--ort-lib", fake_lib.to_str().unwrap()], data.path());
    assert!(!ok);
    let error = report["runtime"]["error"].as_str().unwrap();
    assert!(error.contains("无法") && error.contains("Failed to load"), "{error}");
}

#[test]
fn doctor_malformed_manifest_names_field() {
    let data = tempfile::tempdir().unwrap();
    let bundle = data.path().join("bundle");
    copy_bundle(&toy_bundle(), &bundle);
    let manifest_path = bundle.join("manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["vision"]["patch_budgets"] = serde_json::json!([]);
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();

    let (ok, report) = doctor_json(&["--model", bundle.to_str().unwrap()], data.path());
    assert!(!ok);
    let error = report["model"]["error"].as_str().unwrap();
    assert!(error.contains("vision.patch_budgets") && error.contains("manifest.json"), "{error}");
    assert!(error.contains("模型清单"), "{error}");
}

#[test]
fn doctor_missing_graph_is_reported() {
    let data = tempfile::tempdir().unwrap();
    let bundle = data.path().join("bundle");
    copy_bundle(&toy_bundle(), &bundle);
    std::fs::remove_file(bundle.join("dense.onnx")).unwrap();
    let (ok, report) = doctor_json(&["--model", bundle.to_str().unwrap()], data.path());
    assert!(!ok);
    let error = report["model"]["error"].as_str().unwrap();
    assert!(error.contains("dense.onnx") && error.contains("模型包缺少文件"), "{error}");
}

/// Inverts bytes near the start of a file, where an ONNX file keeps its protobuf
/// structure, and keeps its size.
pub fn damage_file(path: &std::path::Path) {
    let mut bytes = std::fs::read(path).unwrap();
    for byte in &mut bytes[8..136] {
        *byte = !*byte;
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn doctor_opens_every_graph() {
    let data = tempfile::tempdir().unwrap();
    let bundle = data.path().join("bundle");
    copy_bundle(&toy_bundle(), &bundle);
    damage_file(&bundle.join("vision.onnx"));
    let (ok, report) = doctor_json(&["--model", bundle.to_str().unwrap()], data.path());
    assert!(!ok);
    assert_eq!(report["model"]["ok"], serde_json::json!(false), "{report}");
    let error = report["model"]["error"].as_str().unwrap();
    assert!(error.contains("vision.onnx"), "{error}");
    assert!(error.contains("xunying models verify"), "{error}");
    assert!(error.contains("模型包已损坏"), "{error}");
}

#[test]
fn doctor_without_model_explains_setup() {
    let data = tempfile::tempdir().unwrap();
    let (ok, report) = doctor_json(&[], data.path());
    assert!(!ok);
    let error = report["model"]["error"].as_str().unwrap();
    assert!(error.contains("XUNYING_MODEL") && error.contains("xunying models install"), "{error}");
}

#[test]
fn doctor_text_output_is_readable() {
    let data = tempfile::tempdir().unwrap();
    let fake = data.path().join("fake");
    write_fake_bundle(&fake, 8);
    let output = xunying(&["doctor", "--model", fake.to_str().unwrap()], data.path());
    let text = stdout(&output);
    assert!(text.contains("ONNX Runtime"), "{text}");
    assert!(text.contains("Model bundle / 模型包"), "{text}");
}

#[test]
fn unknown_device_is_rejected() {
    let data = tempfile::tempdir().unwrap();
    let output = xunying(&["doctor", "--device", "tpu"], data.path());
    assert!(!output.status.success());
    let message = crate::support::stderr(&output);
    assert!(message.contains("Unknown device `tpu`") && message.contains("未知设备"), "{message}");
}

#[test]
#[cfg(not(feature = "cuda"))]
fn device_not_compiled_is_bilingual() {
    let data = tempfile::tempdir().unwrap();
    let bundle = toy_bundle();
    let (ok, report) = doctor_json(&["--device", "cuda", "--model", bundle.to_str().unwrap()], data.path());
    assert!(!ok);
    let error = report["device"]["error"].as_str().unwrap();
    assert!(error.contains("compiled without the `cuda` feature"), "{error}");
    assert!(error.contains("未启用 `cuda` 功能"), "{error}");
}

#[test]
fn cli_error_cause_not_repeated() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    std::fs::write(&data_dir, b"a file where the data folder should be").unwrap();
    let output = xunying(&["status"], &data_dir);
    assert_eq!(output.status.code(), Some(2));
    let message = crate::support::stderr(&output);
    let last_line = message.trim_end().lines().last().unwrap_or_default();
    let cause = "File exists (os error 17)";
    assert_eq!(last_line.matches(cause).count(), 1, "{message}");
}
