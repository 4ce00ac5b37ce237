//! Model management: installing from folders, archives, URLs and variant names against a
//! local HTTP server, atomic installs, archive path checks, resumed downloads, offline
//! messages, and list, use, remove and verify.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use xunying::model::{Bundle, ModelOptions};
use xunying::models::{self, InstallEvent, InstallOptions, ModelsError, UnsafeEntryKind};

use crate::support::{repo_root, stderr, stdout, toy_bundle, write_fake_bundle, write_manifest};

// ---------------------------------------------------------------------------------------
// A local HTTP server with Range support that can cut a response short.

#[derive(Debug, Clone)]
struct RecordedRequest {
    path: String,
    range: Option<String>,
}

#[derive(Default)]
struct ServerState {
    files: HashMap<String, Vec<u8>>,
    cut_next_body_after_bytes: Option<usize>,
    requests: Vec<RecordedRequest>,
}

/// Serves in-memory files on 127.0.0.1 from a background thread, one connection at a
/// time, with `Connection: close`.
struct TestServer {
    addr: SocketAddr,
    state: Arc<Mutex<ServerState>>,
}

impl TestServer {
    fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(ServerState::default()));
        let thread_state = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if let Ok(stream) = stream {
                    handle_connection(stream, &thread_state);
                }
            }
        });
        TestServer { addr, state }
    }

    fn serve(&self, path: &str, bytes: Vec<u8>) {
        self.state.lock().unwrap().files.insert(path.to_string(), bytes);
    }

    /// Makes the next response send only `bytes` of its body and then close.
    fn cut_next_body_after(&self, bytes: usize) {
        self.state.lock().unwrap().cut_next_body_after_bytes = Some(bytes);
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().unwrap().requests.clone()
    }
}

fn handle_connection(stream: TcpStream, state: &Mutex<ServerState>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_string());
            }
        }
    }

    let (file, cut) = {
        let mut state = state.lock().unwrap();
        state.requests.push(RecordedRequest { path: path.clone(), range: range.clone() });
        (state.files.get(&path).cloned(), state.cut_next_body_after_bytes.take())
    };
    let mut stream = stream;
    let Some(file) = file else {
        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };

    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split('-').next())
        .and_then(|s| s.parse::<usize>().ok());
    let (head, body) = match start {
        Some(start) if start >= file.len() => {
            (format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\n", file.len()), &file[..0])
        }
        Some(start) => (
            format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{}\r\nContent-Length: {}\r\n",
                file.len() - 1,
                file.len(),
                file.len() - start
            ),
            &file[start..],
        ),
        None => (format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", file.len()), &file[..]),
    };
    let _ = stream.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes());
    let sent = cut.map_or(body.len(), |limit| limit.min(body.len()));
    let _ = stream.write_all(&body[..sent]);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

// ---------------------------------------------------------------------------------------
// Bundles, archives and inspection helpers.

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A fake bundle in `dir` whose manifest says `variant` and `model_id`.
fn fake_bundle(dir: &Path, variant: &str, model_id: &str) -> PathBuf {
    let mut manifest = write_fake_bundle(dir, 8);
    manifest["variant"] = serde_json::json!(variant);
    manifest["model_id"] = serde_json::json!(model_id);
    write_manifest(dir, &manifest);
    dir.to_path_buf()
}

/// A gzip-compressed tar of every file in `dir`, under `top_folder` when given.
fn tar_gz_of(dir: &Path, top_folder: Option<&str>) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    builder.append_dir_all(top_folder.unwrap_or("."), dir).unwrap();
    builder.into_inner().unwrap().finish().unwrap()
}

/// A plain tar of every file in `dir` followed by one raw entry, whose name is written
/// into the header as given, bypassing the checks of `tar::Builder`.
fn tar_with_extra_entry(dir: &Path, entry_name: &str, entry_type: tar::EntryType, link_target: Option<&str>) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.append_dir_all(".", dir).unwrap();

    let mut header = tar::Header::new_gnu();
    let name_field = &mut header.as_old_mut().name;
    name_field[..entry_name.len()].copy_from_slice(entry_name.as_bytes());
    header.set_entry_type(entry_type);
    header.set_mode(0o644);
    let data: &[u8] = if entry_type == tar::EntryType::Regular { b"pwned" } else { b"" };
    header.set_size(data.len() as u64);
    if let Some(target) = link_target {
        header.set_link_name_literal(target).unwrap();
    }
    header.set_cksum();
    builder.append(&header, data).unwrap();
    builder.into_inner().unwrap()
}

/// A zip of every file in `dir` (flat) plus, when given, one extra entry.
fn zip_of(dir: &Path, extra_entry: Option<&str>) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut names: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    for name in names {
        writer.start_file(name.to_str().unwrap(), options).unwrap();
        writer.write_all(&std::fs::read(dir.join(&name)).unwrap()).unwrap();
    }
    if let Some(extra) = extra_entry {
        writer.start_file(extra, options).unwrap();
        writer.write_all(b"pwned").unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn models_dir(data: &Path) -> PathBuf {
    data.join("models")
}

/// Names in the models folder other than `active` and the (possibly empty) downloads
/// folder: installed bundles and any leftover staging folder.
fn installed_entries(data: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(models_dir(data)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "active" && name != ".downloads")
        .collect();
    names.sort();
    names
}

fn partial_downloads(data: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(models_dir(data).join(".downloads")) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn install(data: &Path, source: &str, options: &InstallOptions) -> Result<models::Installed, ModelsError> {
    models::install(data, source, options, &mut |_| {})
}

fn install_error(data: &Path, source: &str, options: &InstallOptions) -> ModelsError {
    match install(data, source, options) {
        Ok(installed) => panic!("install of {source} succeeded as `{}`, but it should fail", installed.name),
        Err(error) => error,
    }
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs the `xunying` binary with an isolated data directory and no model settings
/// inherited from the developer's shell.
fn xunying(args: &[&str], data: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xunying"));
    command
        .args(args)
        .env("XUNYING_DATA_DIR", data)
        .env_remove("XUNYING_MODEL")
        .env_remove("XUNYING_MODEL_INDEX")
        .current_dir(repo_root());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the xunying binary runs")
}

// ---------------------------------------------------------------------------------------
// Installing.

#[test]
fn install_from_folder() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "fake", "test/fake/0");
    write_file(&source, "training-log.txt", b"not part of the bundle");
    let data = temp.path().join("data");

    let installed = install(&data, source.to_str().unwrap(), &InstallOptions::default()).unwrap();

    assert_eq!(installed.name, "test-fake-fp32");
    assert_eq!(installed.dir, models_dir(&data).join("test-fake-fp32"));
    assert_eq!(installed.model_id, "test/fake/0");
    Bundle::load(&installed.dir).unwrap().verify_checksums().unwrap();
    assert!(!installed.dir.join("training-log.txt").exists(), "only the manifest's files are copied");
    assert_eq!(installed_entries(&data), ["test-fake-fp32"]);
    let activation = installed.activation.expect("the first installed bundle becomes active");
    assert!(!activation.space_changed);
    assert_eq!(models::active_name(&data).unwrap().as_deref(), Some("test-fake-fp32"));
}

#[test]
fn install_from_tar_gz_with_top_folder() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "fake", "test/fake/0");
    let archive = write_file(temp.path(), "fake.tar.gz", &tar_gz_of(&source, Some("fg-clip2-fake")));
    let data = temp.path().join("data");

    let options = InstallOptions { name: Some("mine".into()), ..InstallOptions::default() };
    let installed = install(&data, archive.to_str().unwrap(), &options).unwrap();

    assert_eq!(installed.name, "mine");
    Bundle::load(&installed.dir).unwrap().verify_checksums().unwrap();
    assert_eq!(installed_entries(&data), ["mine"]);
}

#[test]
fn install_from_flat_zip() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "zipped", "test/zipped/0");
    let archive = write_file(temp.path(), "bundle.zip", &zip_of(&source, None));
    let data = temp.path().join("data");

    let installed = install(&data, archive.to_str().unwrap(), &InstallOptions::default()).unwrap();

    assert_eq!(installed.name, "test-zipped-fp32");
    Bundle::load(&installed.dir).unwrap().verify_checksums().unwrap();
}

#[test]
fn install_by_variant_through_http_index() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "base", "test/base/0");
    let archive = tar_gz_of(&source, Some("fg-clip2-base"));
    let server = TestServer::start();
    let index = serde_json::json!({
        "base": { "url": server.url("/files/fg-clip2-base.tar.gz"), "sha256": sha256_hex(&archive), "bytes": archive.len() },
        "large": { "url": "fg-clip2-large.tar.gz", "sha256": "00".repeat(32), "bytes": 1 },
    });
    server.serve("/files/fg-clip2-base.tar.gz", archive.clone());
    server.serve("/index.json", serde_json::to_vec(&index).unwrap());
    let data = temp.path().join("data");

    let options = InstallOptions { index: Some(server.url("/index.json")), ..InstallOptions::default() };
    let mut events = Vec::new();
    let installed = models::install(&data, "base", &options, &mut |event| events.push(event)).unwrap();

    assert_eq!(installed.name, "test-base-fp32");
    Bundle::load(&installed.dir).unwrap().verify_checksums().unwrap();
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/index.json", "/files/fg-clip2-base.tar.gz"]);
    assert!(events.contains(&InstallEvent::DownloadStarted {
        url: server.url("/files/fg-clip2-base.tar.gz"),
        resumed_from_bytes: 0,
        total_bytes: Some(archive.len() as u64),
    }));
    assert!(events.contains(&InstallEvent::DownloadProgress { received_bytes: archive.len() as u64 }));
    assert!(partial_downloads(&data).is_empty(), "the downloaded archive is deleted after the install");
}

#[test]
fn install_from_url_with_sha256() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "fake", "test/fake/0");
    let archive = tar_gz_of(&source, None);
    let server = TestServer::start();
    server.serve("/b.tar.gz", archive.clone());
    let data = temp.path().join("data");

    let options = InstallOptions { sha256: Some(sha256_hex(&archive).to_uppercase()), ..InstallOptions::default() };
    let installed = install(&data, &server.url("/b.tar.gz"), &options).unwrap();

    Bundle::load(&installed.dir).unwrap().verify_checksums().unwrap();
    assert!(partial_downloads(&data).is_empty());
}

#[test]
fn interrupted_download_resumes() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "base", "test/base/0");
    let archive = tar_gz_of(&source, Some("fg-clip2-base"));
    let cut_bytes = archive.len() / 3;
    let server = TestServer::start();
    server.serve("/fg-clip2-base.tar.gz", archive.clone());
    server.cut_next_body_after(cut_bytes);
    let url = server.url("/fg-clip2-base.tar.gz");
    let data = temp.path().join("data");
    let options = InstallOptions { sha256: Some(sha256_hex(&archive)), ..InstallOptions::default() };

    let error = install_error(&data, &url, &options);
    assert!(matches!(error, ModelsError::DownloadInterrupted { received_bytes, .. } if received_bytes == cut_bytes as u64), "{error}");
    assert!(error.to_string().contains("Run the same command again"), "{error}");
    let parts = partial_downloads(&data);
    assert_eq!(parts.len(), 1, "the partial file is kept: {parts:?}");
    assert_eq!(std::fs::read(&parts[0]).unwrap(), archive[..cut_bytes]);
    assert!(installed_entries(&data).is_empty(), "nothing is installed: {:?}", installed_entries(&data));

    let mut events = Vec::new();
    let installed = models::install(&data, &url, &options, &mut |event| events.push(event)).unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].range, None);
    assert_eq!(requests[1].range.as_deref(), Some(format!("bytes={cut_bytes}-").as_str()));
    assert!(events.iter().any(|e| matches!(e, InstallEvent::DownloadStarted { resumed_from_bytes, .. } if *resumed_from_bytes == cut_bytes as u64)));
    Bundle::load(&installed.dir).unwrap().verify_checksums().unwrap();
    for (name, entry) in Bundle::load(&installed.dir).unwrap().manifest.files {
        assert_eq!(std::fs::read(installed.dir.join(&name)).unwrap(), std::fs::read(source.join(&name)).unwrap(), "{name}");
        assert!(entry.bytes > 0);
    }
    assert!(partial_downloads(&data).is_empty());
}

#[test]
fn bad_archive_checksum_leaves_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "base", "test/base/0");
    let archive = tar_gz_of(&source, None);
    let server = TestServer::start();
    let wrong = "ab".repeat(32);
    let index = serde_json::json!({ "base": { "url": "b.tar.gz", "sha256": wrong, "bytes": archive.len() } });
    server.serve("/m/b.tar.gz", archive);
    server.serve("/m/index.json", serde_json::to_vec(&index).unwrap());
    let data = temp.path().join("data");

    let options = InstallOptions { index: Some(server.url("/m/index.json")), ..InstallOptions::default() };
    let error = install_error(&data, "base", &options);

    assert!(matches!(error, ModelsError::ArchiveChecksum { ref expected, .. } if *expected == wrong), "{error}");
    assert!(error.to_string().contains("校验") || error.to_string().contains("SHA-256"), "{error}");
    assert!(installed_entries(&data).is_empty(), "{:?}", installed_entries(&data));
    assert!(partial_downloads(&data).is_empty(), "a complete but wrong archive is deleted");
    assert!(models::active_name(&data).unwrap().is_none());
}

#[test]
fn damaged_bundle_file_leaves_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "fake", "test/fake/0");
    std::fs::write(source.join("dense.onnx"), b"not a grapH").unwrap();
    let archive = write_file(temp.path(), "b.tar.gz", &tar_gz_of(&source, Some("b")));
    let data = temp.path().join("data");

    let error = install_error(&data, archive.to_str().unwrap(), &InstallOptions::default());

    assert!(matches!(error, ModelsError::Model(xunying::model::ModelError::Checksum { ref path }) if path.ends_with("dense.onnx")), "{error}");
    assert!(installed_entries(&data).is_empty(), "{:?}", installed_entries(&data));
}

#[test]
fn damaged_folder_names_source_file() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "fake", "test/fake/0");
    std::fs::write(source.join("dense.onnx"), b"not a grapH").unwrap();
    let data = temp.path().join("data");

    let error = install_error(&data, source.to_str().unwrap(), &InstallOptions::default());

    assert!(matches!(error, ModelsError::Model(xunying::model::ModelError::Checksum { ref path }) if *path == source.join("dense.onnx")), "{error}");
    assert!(!error.to_string().contains(".staging-"), "{error}");
    assert!(installed_entries(&data).is_empty(), "{:?}", installed_entries(&data));
}

#[test]
fn existing_name_is_kept() {
    let temp = tempfile::tempdir().unwrap();
    let first = fake_bundle(&temp.path().join("a"), "fake", "test/fake/0");
    let second = fake_bundle(&temp.path().join("b"), "fake", "test/fake/1");
    let data = temp.path().join("data");
    install(&data, first.to_str().unwrap(), &InstallOptions::default()).unwrap();

    let error = install_error(&data, second.to_str().unwrap(), &InstallOptions::default());

    assert!(matches!(error, ModelsError::AlreadyInstalled { ref name, .. } if name == "test-fake-fp32"), "{error}");
    assert_eq!(installed_entries(&data), ["test-fake-fp32"]);
    let kept = Bundle::load(&models_dir(&data).join("test-fake-fp32")).unwrap();
    assert_eq!(kept.manifest.model_id, "test/fake/0");
}

// ---------------------------------------------------------------------------------------
// Unsafe archives.

fn assert_rejected_entry(error: &ModelsError, expected_entry: &str, expected_kind: UnsafeEntryKind) {
    match error {
        ModelsError::UnsafeEntry { entry, kind, .. } => {
            assert_eq!(entry, expected_entry);
            assert_eq!(*kind, expected_kind);
        }
        other => panic!("expected an unsafe entry error, got: {other}"),
    }
    let message = error.to_string();
    assert!(message.contains(expected_entry), "the message names the entry: {message}");
    assert!(message.contains("已拒绝"), "the message is bilingual: {message}");
}

#[test]
fn parent_dir_entry_is_rejected() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "fake", "test/fake/0");
    let archive = write_file(temp.path(), "evil.tar", &tar_with_extra_entry(&source, "../evil", tar::EntryType::Regular, None));
    let data = temp.path().join("data");

    let error = install_error(&data, archive.to_str().unwrap(), &InstallOptions::default());

    assert_rejected_entry(&error, "../evil", UnsafeEntryKind::ParentDir);
    assert!(!models_dir(&data).join("evil").exists());
    assert!(!data.join("evil").exists());
    assert!(installed_entries(&data).is_empty(), "{:?}", installed_entries(&data));
}

#[test]
fn parent_dir_zip_entry_is_rejected() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "fake", "test/fake/0");
    let archive = write_file(temp.path(), "evil.zip", &zip_of(&source, Some("b/../../evil")));
    let data = temp.path().join("data");

    let error = install_error(&data, archive.to_str().unwrap(), &InstallOptions::default());

    assert_rejected_entry(&error, "b/../../evil", UnsafeEntryKind::ParentDir);
    assert!(!models_dir(&data).join("evil").exists());
    assert!(installed_entries(&data).is_empty(), "{:?}", installed_entries(&data));
}

#[test]
fn absolute_entry_is_rejected() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "fake", "test/fake/0");
    let target = temp.path().join("absolute-evil");
    let target_name = target.to_str().unwrap();
    let archive = write_file(temp.path(), "evil.tar", &tar_with_extra_entry(&source, target_name, tar::EntryType::Regular, None));
    let data = temp.path().join("data");

    let error = install_error(&data, archive.to_str().unwrap(), &InstallOptions::default());

    assert_rejected_entry(&error, target_name, UnsafeEntryKind::AbsolutePath);
    assert!(!target.exists());
    assert!(installed_entries(&data).is_empty(), "{:?}", installed_entries(&data));
}

#[test]
fn link_entries_are_rejected() {
    let temp = tempfile::tempdir().unwrap();
    let source = fake_bundle(&temp.path().join("src"), "fake", "test/fake/0");
    let data = temp.path().join("data");
    for (file_name, entry_type) in [("sym.tar", tar::EntryType::Symlink), ("hard.tar", tar::EntryType::Link)] {
        let bytes = tar_with_extra_entry(&source, "escape", entry_type, Some("/etc/passwd"));
        let archive = write_file(temp.path(), file_name, &bytes);

        let error = install_error(&data, archive.to_str().unwrap(), &InstallOptions::default());

        assert_rejected_entry(&error, "escape", UnsafeEntryKind::Link);
        assert!(installed_entries(&data).is_empty(), "{:?}", installed_entries(&data));
    }
}

// ---------------------------------------------------------------------------------------
// Offline.

#[test]
fn unreachable_host_gives_offline_steps() {
    let temp = tempfile::tempdir().unwrap();
    let closed_port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{closed_port}/models/fg-clip2-base.tar.gz");
    let data = temp.path().join("data");

    let error = install_error(&data, &url, &InstallOptions::default());

    assert!(matches!(error, ModelsError::Unreachable { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains(&format!("Could not reach 127.0.0.1:{closed_port}")), "{message}");
    assert!(message.contains("xunying models install /path/to/fg-clip2-base.tar.gz"), "{message}");
    assert!(message.contains("无法连接") && message.contains("离线安装"), "{message}");
    assert!(installed_entries(&data).is_empty(), "{:?}", installed_entries(&data));
    assert!(partial_downloads(&data).is_empty());
}

#[test]
fn variant_without_index_gives_offline_steps() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");

    let error = install_error(&data, "large", &InstallOptions::default());

    assert!(matches!(error, ModelsError::NoModelIndex { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("XUNYING_MODEL_INDEX"), "{message}");
    assert!(message.contains("xunying models install /path/to/fg-clip2-large.tar.gz"), "{message}");
    assert!(message.contains("离线安装"), "{message}");
    assert!(installed_entries(&data).is_empty(), "{:?}", installed_entries(&data));
}

#[test]
fn cli_offline_install_is_bilingual() {
    let temp = tempfile::tempdir().unwrap();

    let output = xunying(&["models", "install", "base"], temp.path(), &[]);

    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("xunying models install /path/to/fg-clip2-base.tar.gz"), "{message}");
    assert!(message.contains("离线安装"), "{message}");
}

// ---------------------------------------------------------------------------------------
// list, use, remove.

#[test]
fn list_use_remove() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let base = fake_bundle(&temp.path().join("base"), "base", "fg/base/0");
    let large = fake_bundle(&temp.path().join("large"), "large", "fg/large/0");
    install(&data, base.to_str().unwrap(), &InstallOptions::default()).unwrap();
    let installed_large = install(&data, large.to_str().unwrap(), &InstallOptions::default()).unwrap();
    assert!(installed_large.activation.is_none(), "a later install does not change the active bundle");

    let listed = models::list(&data).unwrap();
    let names: Vec<&str> = listed.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["test-base-fp32", "test-large-fp32"]);
    assert!(listed[0].active && !listed[1].active);
    assert_eq!(listed[1].model_id.as_deref(), Some("fg/large/0"));
    assert_eq!(listed[1].variant.as_deref(), Some("large"));
    assert_eq!(listed[1].precision.as_deref(), Some("fp32"));
    assert!(listed[1].size_bytes > 8 * 196 * 4, "{}", listed[1].size_bytes);
    assert!(!listed[0].verified);

    models::activate(&data, "test-large-fp32").unwrap();
    assert_eq!(models::active_name(&data).unwrap().as_deref(), Some("test-large-fp32"));
    let error = models::remove(&data, "test-large-fp32", false).unwrap_err();
    assert!(matches!(error, ModelsError::ActiveBundle { .. }), "{error}");
    assert!(models_dir(&data).join("test-large-fp32").is_dir());

    let removal = models::remove(&data, "test-base-fp32", false).unwrap();
    assert!(!removal.was_active);
    let removal = models::remove(&data, "test-large-fp32", true).unwrap();
    assert!(removal.was_active);
    assert!(models::active_name(&data).unwrap().is_none());
    assert!(!models_dir(&data).join("active").exists());
    assert!(models::list(&data).unwrap().is_empty());
    assert!(installed_entries(&data).is_empty(), "{:?}", installed_entries(&data));

    let error = models::remove(&data, "test-base-fp32", false).unwrap_err();
    assert!(matches!(error, ModelsError::NotInstalled { .. }), "{error}");
    let error = models::activate(&data, "../escape").unwrap_err();
    assert!(matches!(error, ModelsError::InvalidName { .. }), "{error}");
}

#[test]
fn use_reports_space_change() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let base = fake_bundle(&temp.path().join("base"), "base", "fg/base/0");
    let large = fake_bundle(&temp.path().join("large"), "large", "fg/large/0");
    let base_copy = fake_bundle(&temp.path().join("base16"), "base", "fg/base/0");
    install(&data, base.to_str().unwrap(), &InstallOptions::default()).unwrap();
    install(&data, large.to_str().unwrap(), &InstallOptions::default()).unwrap();
    let same_space = InstallOptions { name: Some("base-copy".into()), ..InstallOptions::default() };
    install(&data, base_copy.to_str().unwrap(), &same_space).unwrap();

    let to_large = models::activate(&data, "test-large-fp32").unwrap();
    assert_eq!(to_large.previous_model_id.as_deref(), Some("fg/base/0"));
    assert_eq!(to_large.model_id, "fg/large/0");
    assert!(to_large.space_changed);

    let to_base = models::activate(&data, "test-base-fp32").unwrap();
    assert!(to_base.space_changed);
    let to_copy = models::activate(&data, "base-copy").unwrap();
    assert!(!to_copy.space_changed, "same model_id, same embedding space");
    assert_eq!(to_copy.previous_model_id.as_deref(), Some("fg/base/0"));
}

#[test]
fn cli_install_by_variant_then_use() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let source = fake_bundle(&temp.path().join("src"), "base", "fg/base/0");
    let other = fake_bundle(&temp.path().join("other"), "large", "fg/large/0");
    let archive = tar_gz_of(&source, Some("fg-clip2-base"));
    let server = TestServer::start();
    let index = serde_json::json!({ "base": { "url": "fg-clip2-base.tar.gz", "sha256": sha256_hex(&archive), "bytes": archive.len() } });
    server.serve("/fg-clip2-base.tar.gz", archive);
    server.serve("/index.json", serde_json::to_vec(&index).unwrap());
    let index_url = server.url("/index.json");

    let output = xunying(&["models", "install", "base"], &data, &[("XUNYING_MODEL_INDEX", &index_url)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("test-base-fp32"), "{}", stdout(&output));
    let output = xunying(&["models", "install", other.to_str().unwrap()], &data, &[]);
    assert!(output.status.success(), "{}", stderr(&output));

    let output = xunying(&["models", "list", "--json"], &data, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("list --json prints JSON");
    assert_eq!(listed[0]["name"], "test-base-fp32");
    assert_eq!(listed[0]["active"], true);
    assert_eq!(listed[0]["model_id"], "fg/base/0");
    assert_eq!(listed[1]["name"], "test-large-fp32");
    assert_eq!(listed[1]["active"], false);
    let output = xunying(&["models", "list"], &data, &[]);
    let printed = stdout(&output);
    assert!(printed.contains("no test inference has run yet"), "{printed}");
    assert!(printed.contains("尚未试运行推理"), "{printed}");

    let output = xunying(&["models", "use", "test-large-fp32"], &data, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(printed.contains("embedding space changed"), "{printed}");
    assert!(printed.contains("嵌入空间已改变"), "{printed}");

    let output = xunying(&["models", "remove", "test-large-fp32"], &data, &[]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--force"), "{}", stderr(&output));
}

// ---------------------------------------------------------------------------------------
// verify.

#[test]
fn verify_detects_damaged_file() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let source = fake_bundle(&temp.path().join("src"), "fake", "test/fake/0");
    let installed = install(&data, source.to_str().unwrap(), &InstallOptions::default()).unwrap();
    // A marker from an earlier successful run must not survive a failed one.
    let manifest_hash = sha256_hex(&std::fs::read(installed.dir.join("manifest.json")).unwrap());
    std::fs::write(installed.dir.join(models::VERIFIED_MARKER), &manifest_hash).unwrap();
    assert!(models::list(&data).unwrap()[0].verified);
    std::fs::write(installed.dir.join("text.onnx"), b"not a grapH").unwrap();

    let error = models::verify(&data, None, &ModelOptions::default()).unwrap_err();

    assert!(matches!(error, ModelsError::Model(xunying::model::ModelError::Checksum { ref path }) if path.ends_with("text.onnx")), "{error}");
    assert!(!installed.dir.join(models::VERIFIED_MARKER).exists());
    assert!(!models::list(&data).unwrap()[0].verified);
}

#[test]
fn verify_placeholder_graphs_fails() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let source = fake_bundle(&temp.path().join("src"), "fake", "test/fake/0");
    install(&data, source.to_str().unwrap(), &InstallOptions::default()).unwrap();

    let result = models::verify(&data, Some("test-fake-fp32"), &ModelOptions::default());

    assert!(result.is_err(), "placeholder graphs cannot pass the smoke inference");
    assert!(!models::list(&data).unwrap()[0].verified);
}

/// Runs on the trained toy bundle, `models/toy/bundle`, or the folder that
/// `XUNYING_TOY_BUNDLE` names. It fails until one of them holds the toy bundle.
#[test]
fn verify_toy_bundle_writes_marker() {
    let bundle = std::env::var_os("XUNYING_TOY_BUNDLE").map(PathBuf::from).unwrap_or_else(toy_bundle);
    assert!(bundle.join("manifest.json").is_file(), "the toy bundle is expected at {} (set XUNYING_TOY_BUNDLE to override)", bundle.display());
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let installed = install(&data, bundle.to_str().unwrap(), &InstallOptions::default()).unwrap();

    let verification = models::verify(&data, None, &ModelOptions::default()).unwrap();

    assert_eq!(verification.name, installed.name);
    assert!((verification.text_norm - 1.0).abs() < 1e-3);
    assert!((verification.image_norm - 1.0).abs() < 1e-3);
    let listed = models::list(&data).unwrap();
    assert!(listed[0].verified);
    assert_eq!(listed[0].family.as_deref(), Some("xunying-toy"));
}

#[test]
fn verify_accepts_a_bundle_folder() {
    let temp = tempfile::tempdir().unwrap();
    let copy = temp.path().join("my bundle");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(toy_bundle()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let data = temp.path().join("data");

    // By path, and through --model (as XUNYING_MODEL would name it); neither needs an install.
    for args in [vec!["models", "verify", copy.to_str().unwrap()], vec!["--model", copy.to_str().unwrap(), "models", "verify"]] {
        let output = crate::support::xunying(&args, &data);
        assert!(output.status.success(), "{args:?}: {output:?}");
        assert!(crate::support::stdout(&output).contains("已验证"), "{}", crate::support::stdout(&output));
    }
    assert!(!copy.join(".verified").exists(), "a folder outside the store gets no marker");

    std::fs::write(copy.join("text.onnx"), b"damaged").unwrap();
    let output = crate::support::xunying(&["models", "verify", copy.to_str().unwrap()], &data);
    assert_eq!(output.status.code(), Some(2), "a damaged folder fails: {output:?}");
}

// ---------------------------------------------------------------------------------------
// Switching the active model.

/// Copies the toy bundle and gives the copy another `model_id`, as a bundle of another
/// embedding space with the same shapes.
fn toy_copy_with_model_id(dir: &Path, model_id: &str) -> PathBuf {
    let copy = dir.join("toy-other");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(toy_bundle()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let manifest_path = copy.join("manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["model_id"] = serde_json::Value::String(model_id.to_string());
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    copy
}

fn status_json(data: &Path) -> serde_json::Value {
    let output = xunying(&["status", "--json"], data, &[]);
    assert!(output.status.success(), "status fails: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("status prints JSON")
}

fn index_json(data: &Path, folder: &Path) -> serde_json::Value {
    let output = xunying(&["index", folder.to_str().unwrap(), "--quiet", "--json", "--settle-ms", "0"], data, &[]);
    assert!(output.status.success(), "index fails: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("index prints JSON")
}

#[test]
fn switching_models_reembeds_every_photo() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let photos = work.path().join("photos");
    crate::library::write_scenes(&photos, 3, 77);
    let toy_id = Bundle::load(&toy_bundle()).unwrap().manifest.model_id.clone();
    let other = toy_copy_with_model_id(work.path(), "xunying-toy/tiny/another-space");

    let toy = toy_bundle();
    for (source, name) in [(toy.to_str().unwrap(), "toy-a"), (other.to_str().unwrap(), "toy-b")] {
        let output = xunying(&["models", "install", source, "--name", name], &data, &[]);
        assert!(output.status.success(), "install {name}: {}", stderr(&output));
    }

    let first = index_json(&data, &photos);
    assert_eq!(first["inferences"], 3, "{first}");
    let status = status_json(&data);
    assert_eq!(status["model_id"], toy_id.as_str(), "the first installed bundle is active: {status}");
    assert_eq!(status["pending"], 0, "{status}");

    let output = xunying(&["models", "use", "toy-b"], &data, &[]);
    assert!(output.status.success(), "use: {}", stderr(&output));
    assert!(stdout(&output).contains("3 photos will be embedded again"), "{}", stdout(&output));
    let status = status_json(&data);
    assert_eq!(status["model_id"], "xunying-toy/tiny/another-space", "{status}");
    assert_eq!(status["pending"], 3, "every photo waits for the new model: {status}");

    let second = index_json(&data, &photos);
    assert_eq!(second["inferences"], 3, "vectors are never reused across models: {second}");
    assert_eq!(status_json(&data)["pending"], 0);

    let output = xunying(&["models", "use", "toy-a"], &data, &[]);
    assert!(output.status.success(), "use: {}", stderr(&output));
    assert_eq!(status_json(&data)["pending"], 3, "switching back re-embeds again");
    assert_eq!(index_json(&data, &photos)["inferences"], 3);
    let output = xunying(&["search", "a red circle", "--json"], &data, &[]);
    assert!(output.status.success(), "search after switching back: {}", stderr(&output));
    let found: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(found.as_array().map(Vec::len), Some(3), "every photo is searchable again: {found}");
}
