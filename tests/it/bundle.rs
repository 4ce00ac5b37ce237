//! Bundle manifest validation: every defect is reported with the file and the field.

use xunying::model::{Bundle, ModelError};

use crate::support::{write_fake_bundle, write_manifest};

fn load_error(dir: &std::path::Path) -> String {
    match Bundle::load(dir) {
        Ok(_) => panic!("bundle in {} loaded, but it is defective", dir.display()),
        Err(error) => error.to_string(),
    }
}

#[test]
fn fake_bundle_loads() {
    let temp = tempfile::tempdir().unwrap();
    write_fake_bundle(temp.path(), 8);
    let bundle = Bundle::load(temp.path()).expect("a well-formed bundle loads");
    assert_eq!(bundle.manifest.embed_dim, 8);
    bundle.verify_checksums().expect("fresh files match their checksums");
}

#[test]
fn missing_manifest_names_file() {
    let temp = tempfile::tempdir().unwrap();
    for dir in [temp.path().to_path_buf(), temp.path().join("no such folder")] {
        let error = Bundle::load(&dir).unwrap_err();
        assert!(matches!(error, ModelError::NotABundle { .. }), "{error:?}");
        assert!(error.to_string().contains("is not a model bundle"), "{error}");
        assert!(error.to_string().contains("manifest.json"), "{error}");
        assert!(error.to_string().contains("不是模型包"), "message is bilingual: {error}");
    }
}

#[test]
fn missing_field_names_field() {
    let temp = tempfile::tempdir().unwrap();
    let mut manifest = write_fake_bundle(temp.path(), 8);
    manifest.as_object_mut().unwrap().remove("embed_dim");
    write_manifest(temp.path(), &manifest);
    let message = load_error(temp.path());
    assert!(message.contains("manifest.json"), "{message}");
    assert!(message.contains("embed_dim"), "{message}");
}

#[test]
fn bad_values_name_their_fields() {
    let cases: [(&str, serde_json::Value, &str); 6] = [
        ("/format_version", serde_json::json!(99), "format_version"),
        ("/vision/patch_budgets", serde_json::json!([256, 128]), "vision.patch_budgets"),
        ("/vision/patch_size", serde_json::json!(0), "vision.patch_size"),
        ("/vision/image_std", serde_json::json!([0.5, 0.0, 0.5]), "vision.image_std"),
        ("/text/long_len", serde_json::json!(10), "text.long_len"),
        ("/vision/graph", serde_json::json!("other.onnx"), "vision.graph"),
    ];
    for (pointer, value, field) in cases {
        let temp = tempfile::tempdir().unwrap();
        let mut manifest = write_fake_bundle(temp.path(), 8);
        *manifest.pointer_mut(pointer).unwrap() = value;
        write_manifest(temp.path(), &manifest);
        let message = load_error(temp.path());
        assert!(message.contains(field), "defect at {pointer} should name `{field}`: {message}");
    }
}

#[test]
fn table_size_must_match_dim() {
    let temp = tempfile::tempdir().unwrap();
    let mut manifest = write_fake_bundle(temp.path(), 8);
    manifest["embed_dim"] = serde_json::json!(16);
    write_manifest(temp.path(), &manifest);
    let message = load_error(temp.path());
    assert!(message.contains("vision.position_grid"), "{message}");
}

#[test]
fn missing_graph_file_is_reported() {
    let temp = tempfile::tempdir().unwrap();
    write_fake_bundle(temp.path(), 8);
    std::fs::remove_file(temp.path().join("text.onnx")).unwrap();
    let error = Bundle::load(temp.path()).unwrap_err();
    assert!(matches!(error, ModelError::MissingFile { ref path } if path.ends_with("text.onnx")), "{error}");
}

#[test]
fn truncated_file_fails_size_check() {
    let temp = tempfile::tempdir().unwrap();
    write_fake_bundle(temp.path(), 8);
    std::fs::write(temp.path().join("vision.onnx"), b"short").unwrap();
    let error = Bundle::load(temp.path()).unwrap_err();
    assert!(matches!(error, ModelError::FileSize { .. }), "{error}");
}

#[test]
fn altered_file_fails_checksum() {
    let temp = tempfile::tempdir().unwrap();
    write_fake_bundle(temp.path(), 8);
    std::fs::write(temp.path().join("vision.onnx"), b"not a grapH").unwrap();
    let bundle = Bundle::load(temp.path()).expect("same size still loads");
    assert!(matches!(bundle.verify_checksums(), Err(ModelError::Checksum { .. })));
}

#[test]
fn invalid_json_is_reported() {
    let temp = tempfile::tempdir().unwrap();
    write_fake_bundle(temp.path(), 8);
    std::fs::write(temp.path().join("manifest.json"), b"{ not json").unwrap();
    let message = load_error(temp.path());
    assert!(message.contains("manifest.json") && message.contains("无效"), "{message}");
}
