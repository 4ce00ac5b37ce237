//! `xunying serve` over real sockets: the access token, the Host check, traversal and
//! symbolic-link escapes, ids that do not exist, and API round trips on a library of
//! toy scenes indexed with the toy model.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::OnceLock;
use std::time::Duration;

use xunying::api::{SearchHit, SearchResults, Service};
use xunying::library::progress::NullSink;
use xunying::server::{self, ServerOptions};

use crate::library::{open, options};
use crate::scenes::{draw_scene, Colour, Rng, SceneSpec, Shape};

struct Fixture {
    _dir: tempfile::TempDir,
    address: SocketAddr,
    token: String,
    photos: PathBuf,
    outside: PathBuf,
    ui_dir: PathBuf,
}

/// Returns the server shared by this file's read-only tests, because indexing costs seconds.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(start_fixture)
}

/// Returns a server for the test that swaps a photo for a link, so the watcher's
/// reaction cannot change what the other tests see.
fn swap_fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(start_fixture)
}

fn start_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let mut rng = Rng::new(7);
    for (name, colour, shape) in [("red.png", Colour::Red, Shape::Circle), ("blue.png", Colour::Blue, Shape::Square), ("green.png", Colour::Green, Shape::Triangle)] {
        let spec = SceneSpec { required: vec![(colour, shape)], num_objects: Some(1), size: Some((256, 192)), ..SceneSpec::default() };
        draw_scene(&mut rng, &spec).image.save(photos.join(name)).unwrap();
    }
    std::fs::copy(photos.join("green.png"), dir.path().join("example-green.png")).unwrap();
    let outside = dir.path().join("secret.txt");
    std::fs::write(&outside, "not for the browser").unwrap();
    let ui_dir = dir.path().join("dist");
    std::fs::create_dir_all(&ui_dir).unwrap();
    std::fs::write(ui_dir.join("index.html"), "<!doctype html><title>ui</title>").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, ui_dir.join("escape.txt")).unwrap();

    let data = dir.path().join("data");
    open(&data).index(std::slice::from_ref(&photos), &NullSink, &AtomicBool::new(false)).unwrap();
    let service = Service::open(options(&data)).unwrap();

    let (sender, receiver) = std::sync::mpsc::channel();
    let server_options = ServerOptions { bind: "127.0.0.1".parse().unwrap(), port: 0, ui_dir: Some(ui_dir.clone()), token: None };
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime
            .block_on(server::serve(service, server_options, |info| sender.send(info.clone()).unwrap(), std::future::pending()))
            .unwrap();
    });
    let info = receiver.recv_timeout(Duration::from_secs(60)).expect("the server starts");
    Fixture { _dir: dir, address: info.address, token: info.token, photos: photos.canonicalize().unwrap(), outside, ui_dir }
}

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", self.text()))
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_string())
        })
    }
}

/// Sends one raw HTTP/1.1 request, so paths reach the server exactly as written.
fn send(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    send_to(fixture(), method, target, headers, body)
}

fn send_to(fixture: &Fixture, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(fixture.address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut request = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response");
    let headers = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = headers.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    let mut body = raw[split + 4..].to_vec();
    if headers.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Reply { status, headers, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&data[..end]).unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
    out
}

fn host() -> String {
    format!("127.0.0.1:{}", fixture().address.port())
}

/// Sends a request with the expected Host and the token in a header.
fn api(method: &str, target: &str, body: Option<serde_json::Value>) -> Reply {
    api_to(fixture(), method, target, body)
}

fn api_to(fixture: &Fixture, method: &str, target: &str, body: Option<serde_json::Value>) -> Reply {
    let bearer = format!("Bearer {}", fixture.token);
    let host = format!("127.0.0.1:{}", fixture.address.port());
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    send_to(fixture, method, target, &[("Host", &host), ("Authorization", &bearer), ("Content-Type", "application/json")], body.as_bytes())
}

fn search(text: &str) -> Vec<SearchHit> {
    search_on(fixture(), text)
}

fn search_on(fixture: &Fixture, text: &str) -> Vec<SearchHit> {
    let reply = api_to(fixture, "POST", "/api/search", Some(serde_json::json!({ "text": text, "limit": 10 })));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json::<SearchResults>().hits
}

fn file_name(path: &str) -> &str {
    Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or(path)
}

#[test]
fn server_requires_token() {
    let reply = send("GET", "/api/status", &[("Host", &host())], b"");
    assert_eq!(reply.status, 401);
    let page = send("GET", "/", &[("Host", &host())], b"");
    assert_eq!(page.status, 401);
}

#[test]
fn server_rejects_wrong_token() {
    let wrong = "0".repeat(64);
    assert_eq!(send("GET", &format!("/api/status?token={wrong}"), &[("Host", &host())], b"").status, 401);
    assert_eq!(send("GET", "/api/status", &[("Host", &host()), ("Authorization", &format!("Bearer {wrong}"))], b"").status, 401);
    let cookie = format!("xunying_token_{}={wrong}", fixture().address.port());
    assert_eq!(send("GET", "/api/status", &[("Host", &host()), ("Cookie", &cookie)], b"").status, 401);
    let prefix = &fixture().token[..32];
    assert_eq!(send("GET", "/api/status", &[("Host", &host()), ("X-Xunying-Token", prefix)], b"").status, 401);
}

#[test]
fn server_rejects_foreign_host() {
    let bearer = format!("Bearer {}", fixture().token);
    let port = fixture().address.port();
    for foreign in [format!("evil.example:{port}"), "127.0.0.1".to_string(), format!("127.0.0.1:{}", port.wrapping_add(1)), format!("localhost.evil.example:{port}")] {
        let reply = send("GET", "/api/status", &[("Host", &foreign), ("Authorization", &bearer)], b"");
        assert_eq!(reply.status, 403, "Host {foreign}");
    }
    let reply = send("GET", "/api/status", &[("Authorization", &bearer)], b"");
    assert_eq!(reply.status, 403, "a request without Host");
    let reply = send("GET", "/api/status", &[("Host", &format!("localhost:{port}")), ("Authorization", &bearer)], b"");
    assert_eq!(reply.status, 200);
}

#[test]
fn token_in_query_sets_cookie() {
    let token = &fixture().token;
    let reply = send("GET", &format!("/?token={token}"), &[("Host", &host())], b"");
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("location").as_deref(), Some("/"));
    let cookie = reply.header("set-cookie").expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();

    let page = send("GET", "/", &[("Host", &host()), ("Cookie", &pair)], b"");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<title>ui</title>"));
    assert!(page.header("content-security-policy").is_some_and(|csp| csp.contains("default-src 'self'")));
    assert_eq!(page.header("referrer-policy").as_deref(), Some("no-referrer"));
}

#[test]
fn static_traversal_is_refused() {
    let bearer = format!("Bearer {}", fixture().token);
    let headers = [("Host", host()), ("Authorization", bearer)];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let secret = fixture().outside.file_name().unwrap().to_str().unwrap().to_string();
    for target in [
        format!("/../{secret}"),
        format!("/%2e%2e/{secret}"),
        format!("/%2E%2E%2F{secret}"),
        format!("/assets/..%2f..%2f{secret}"),
        format!("/..%5c{secret}"),
        "/escape.txt".to_string(),
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd".to_string(),
    ] {
        let reply = send("GET", &target, &headers, b"");
        assert!(reply.status == 404 || reply.status == 400, "{target} gave {}", reply.status);
        assert!(!reply.text().contains("not for the browser"), "{target} leaked the file");
    }
    assert!(fixture().ui_dir.join("index.html").is_file());
}

#[test]
fn photo_routes_take_only_ids() {
    assert_eq!(api("GET", "/api/photos/999999", None).status, 404);
    assert_eq!(api("GET", "/api/photos/999999/thumb", None).status, 404);
    assert_eq!(api("GET", "/api/photos/-1/original", None).status, 404);
    assert_eq!(api("GET", "/api/photos/abc", None).status, 400);
    let secret = fixture().outside.to_string_lossy().replace('/', "%2f");
    let reply = api("GET", &format!("/api/photos/{secret}/original"), None);
    assert_eq!(reply.status, 400);
    assert_eq!(api("GET", "/api/photos/..%2f..%2fetc%2fpasswd/original", None).status, 400);
    let hit = &search("red")[0];
    assert_eq!(api("GET", &format!("/api/photos/{}/poster", hit.photo_id), None).status, 400);
}

#[test]
fn api_search_round_trip() {
    for (query, expected) in [("red", "red.png"), ("a blue square", "blue.png"), ("绿色", "green.png")] {
        let hits = search(query);
        assert_eq!(file_name(&hits[0].path), expected, "query {query}: {hits:?}");
        assert!(hits[0].score > hits.last().unwrap().score || hits.len() == 1);
    }
    let empty = api("POST", "/api/search", Some(serde_json::json!({ "text": "  " })));
    assert_eq!(empty.status, 400);
    assert_eq!(empty.json::<serde_json::Value>()["kind"], "invalid_input");
    let bad_date = api("POST", "/api/search", Some(serde_json::json!({ "text": "red", "filters": { "after": "yesterday" } })));
    assert_eq!(bad_date.status, 400);
    let malformed = api("POST", "/api/search", None);
    assert_eq!(malformed.status, 400);
}

#[test]
fn api_filters_and_more_like_this() {
    let other = fixture().photos.parent().unwrap().to_string_lossy().into_owned() + "/elsewhere";
    let filtered = api("POST", "/api/search", Some(serde_json::json!({ "text": "red", "filters": { "folder": other } })));
    assert_eq!(filtered.status, 400, "a folder outside the library: {}", filtered.text());
    assert_eq!(filtered.json::<serde_json::Value>()["kind"], "invalid_input");
    let inside = api("POST", "/api/search", Some(serde_json::json!({ "text": "red", "filters": { "folder": fixture().photos } })));
    assert_eq!(inside.status, 200);
    assert!(!inside.json::<SearchResults>().hits.is_empty());
    let png_only = api("POST", "/api/search", Some(serde_json::json!({ "text": "red", "filters": { "types": ["jpg"] } })));
    assert!(png_only.json::<SearchResults>().hits.is_empty());

    let blue = search("blue").into_iter().find(|h| file_name(&h.path) == "blue.png").unwrap();
    let like = api("POST", "/api/search", Some(serde_json::json!({ "like_photo": blue.photo_id })));
    assert_eq!(like.status, 200, "{}", like.text());
    assert_eq!(like.json::<SearchResults>().hits[0].photo_id, blue.photo_id);
    let missing = api("POST", "/api/search", Some(serde_json::json!({ "like_photo": 999999 })));
    assert_eq!(missing.status, 404);
}

#[test]
fn api_search_by_uploaded_image() {
    let green = std::fs::read(fixture().photos.parent().unwrap().join("example-green.png")).unwrap();
    let bearer = format!("Bearer {}", fixture().token);
    let reply = send("POST", "/api/search/image", &[("Host", &host()), ("Authorization", &bearer)], &green);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(file_name(&reply.json::<SearchResults>().hits[0].path), "green.png");
    let garbage = send("POST", "/api/search/image", &[("Host", &host()), ("Authorization", &bearer)], b"not an image");
    assert_eq!(garbage.status, 400);
    let message = garbage.text();
    assert!(message.contains("not an image"), "{message}");
    assert!(message.contains("不是图片"), "{message}");
    assert!(!message.contains("<memory>"), "{message}");
    assert_eq!(message.matches("not an image").count(), 1, "said once: {message}");

    let oversized = vec![0u8; xunying::server::MAX_UPLOAD_BYTES + 1];
    let reply = send("POST", "/api/search/image", &[("Host", &host()), ("Authorization", &bearer)], &oversized);
    assert_eq!(reply.status, 400);
    let message = reply.text();
    assert!(message.contains("at most 64 MiB"), "{message}");
    assert!(message.contains("最大为 64 MiB"), "{message}");
}

#[test]
fn api_bad_photo_id_is_explained() {
    let reply = api("GET", "/api/photos/abc", None);
    assert_eq!(reply.status, 400);
    let body: serde_json::Value = reply.json();
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("not valid"), "{message}");
    assert!(message.contains("地址无效"), "{message}");
}

#[test]
fn api_photo_detail_and_images() {
    let hit = search("red").remove(0);
    let detail: serde_json::Value = api("GET", &format!("/api/photos/{}", hit.photo_id), None).json();
    assert_eq!(detail["path"], hit.path);
    assert_eq!(detail["width"], 256);
    assert_eq!(detail["height"], 192);
    assert_eq!(detail["folder"], fixture().photos.to_string_lossy().as_ref());
    assert!(detail["size_bytes"].as_u64().unwrap() > 0);

    let thumb = api("GET", &format!("/api/photos/{}/thumb", hit.photo_id), None);
    assert_eq!(thumb.status, 200);
    assert_eq!(thumb.header("content-type").as_deref(), Some("image/jpeg"));
    assert_eq!(&thumb.body[..2], &[0xFF, 0xD8]);
    let original = api("GET", &format!("/api/photos/{}/original", hit.photo_id), None);
    assert_eq!(original.header("content-type").as_deref(), Some("image/png"));
    assert_eq!(original.body, std::fs::read(&hit.path).unwrap());
}

#[cfg(unix)]
#[test]
fn original_replaced_by_symlink_is_refused() {
    let fixture = swap_fixture();
    // A catalogued photo whose file is swapped for a link to a file outside the library.
    let hit = search_on(fixture, "green").remove(0);
    let linked = PathBuf::from(&hit.path);
    let backup = fixture.photos.parent().unwrap().join("green-backup.png");
    std::fs::rename(&linked, &backup).unwrap();
    std::os::unix::fs::symlink(&fixture.outside, &linked).unwrap();
    let reply = api_to(fixture, "GET", &format!("/api/photos/{}/original", hit.photo_id), None);
    std::fs::remove_file(&linked).unwrap();
    std::fs::rename(&backup, &linked).unwrap();
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert!(!reply.text().contains("not for the browser"));
}

#[test]
fn bad_json_body_is_json_error() {
    let bearer = format!("Bearer {}", fixture().token);
    let headers = [("Host", host()), ("Authorization", bearer), ("Content-Type", "application/json".to_string())];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let reply = send("POST", "/api/search", &headers, b"{ not json");
    assert_eq!(reply.status, 400);
    let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("the error body is JSON");
    assert_eq!(body["kind"], "invalid_input");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("not valid JSON"), "{message}");
    assert!(message.contains("有效 JSON"), "{message}");
}

#[test]
fn api_status_and_folders() {
    let status: serde_json::Value = api("GET", "/api/status", None).json();
    assert_eq!(status["photos"], 3);
    let folders = status["folders"].as_array().unwrap();
    assert!(folders.iter().any(|f| f["path"] == fixture().photos.to_string_lossy().as_ref()));

    assert_eq!(api("POST", "/api/folders", Some(serde_json::json!({ "path": "relative/photos" }))).status, 400);
    assert_eq!(api("POST", "/api/folders", Some(serde_json::json!({ "path": "/no/such/folder" }))).status, 404);
    assert_eq!(api("DELETE", "/api/folders", Some(serde_json::json!({ "path": "/no/such/folder" }))).status, 404);
    let photo_file = status["folders"][0]["path"].as_str().map(|folder| std::fs::read_dir(folder).unwrap().next().unwrap().unwrap().path()).unwrap();
    let not_a_folder = api("POST", "/api/folders", Some(serde_json::json!({ "path": photo_file })));
    assert_eq!(not_a_folder.status, 400, "a file given as a folder: {}", not_a_folder.text());

    let prefix = format!("{}/", fixture().photos.parent().unwrap().display());
    let suggestions: serde_json::Value = api("GET", &format!("/api/folders/suggest?prefix={}", prefix.replace('/', "%2F")), None).json();
    assert!(suggestions["folders"].as_array().unwrap().iter().any(|f| f == fixture().photos.to_string_lossy().as_ref()));
}

#[test]
fn api_settings_validate() {
    let view: serde_json::Value = api("GET", "/api/settings", None).json();
    assert_eq!(view["settings"]["device"], "auto");
    assert_eq!(view["device_in_use"], "cpu");
    let mut settings = view["settings"].clone();
    settings["device"] = "warp-drive".into();
    assert_eq!(api("PUT", "/api/settings", Some(settings.clone())).status, 400);
    settings["device"] = "auto".into();
    settings["model_bundle"] = "../../etc".into();
    assert_eq!(api("PUT", "/api/settings", Some(settings.clone())).status, 400);
    settings["model_bundle"] = serde_json::Value::Null;
    settings["language"] = "zh-CN".into();
    let saved = api("PUT", "/api/settings", Some(settings));
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert_eq!(saved.json::<serde_json::Value>()["settings"]["language"], "zh-CN");
}

#[test]
fn api_models_report_loaded_bundle() {
    let models: serde_json::Value = api("GET", "/api/models", None).json();
    assert_eq!(models["installed"], true);
    assert!(models["model_id"].as_str().is_some_and(|id| !id.is_empty()));
    let install = api("POST", "/api/models/install", Some(serde_json::json!({ "source": "/no/such/bundle", "sha256": null, "activate": false })));
    assert_eq!(install.status, 400, "{}", install.text());
}

#[test]
fn events_stream_progress() {
    let fixture = fixture();
    let mut stream = TcpStream::connect(fixture.address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let request = format!("GET /api/events HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n", host(), fixture.token);
    stream.write_all(request.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    api("POST", "/api/indexing/pause", None);
    api("POST", "/api/indexing/resume", None);
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&received).contains("\"paused\":true") {
        let read = stream.read(&mut buffer).expect("progress arrives");
        assert!(read > 0, "the stream ended: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buffer[..read]);
    }
    let text = String::from_utf8_lossy(&received);
    assert!(text.contains("text/event-stream"), "{text}");
    assert!(text.contains("event: progress"), "{text}");
}

#[test]
fn worker_warms_text_encoder() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::open(options(&dir.path().join("data"))).unwrap();
    // No folders: nothing to index, so only the warm-up can open a graph.
    assert_eq!(service.settings().device_in_use, None, "graphs open lazily");
    let _background = service.start_background();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while service.settings().device_in_use.is_none() {
        assert!(std::time::Instant::now() < deadline, "the text encoder was not opened in the background");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(service.settings().device_in_use.as_deref(), Some("cpu"));
}

/// Copies the toy bundle and gives the copy another `model_id`: another embedding space.
fn toy_in_another_space(dir: &Path) -> PathBuf {
    let copy = dir.join("toy-other");
    crate::support::copy_bundle(&crate::support::toy_bundle(), &copy);
    let manifest_path = copy.join("manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["model_id"] = "xunying-toy/tiny/another-space".into();
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    copy
}

#[test]
fn settings_switch_model_live() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    crate::library::write_scenes(&photos, 2, 17);
    let data = dir.path().join("data");
    open(&data).index(std::slice::from_ref(&photos), &NullSink, &AtomicBool::new(false)).unwrap();
    let other = toy_in_another_space(dir.path());
    let options = xunying::models::InstallOptions { name: Some("other".into()), activate: false, sha256: None, index: None };
    xunying::models::install(&data, other.to_str().unwrap(), &options, &mut |_| {}).unwrap();

    let service = Service::open(crate::library::options(&data)).unwrap();
    let first_id = service.model_status().unwrap().model_id.unwrap();
    assert_ne!(first_id, "xunying-toy/tiny/another-space");
    assert_eq!(service.status().unwrap().pending, 0);

    let mut settings = service.settings().settings;
    settings.model_bundle = Some("other".into());
    settings.device = "cpu".into();
    let view = service.update_settings(settings.clone()).unwrap();
    assert!(!view.restart_required, "the change applied at once");
    assert_eq!(service.model_status().unwrap().model_id.as_deref(), Some("xunying-toy/tiny/another-space"));
    assert_eq!(service.status().unwrap().pending, 2, "both photos wait to be embedded in the new space");

    let _background = service.start_background();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while service.status().unwrap().pending > 0 {
        assert!(std::time::Instant::now() < deadline, "the photos were not embedded again");
        std::thread::sleep(Duration::from_millis(100));
    }
    let hits = service.search(&xunying::api::SearchQuery { text: Some("red circle".into()), limit: 10, ..Default::default() }).unwrap();
    assert_eq!(hits.hits.len(), 2, "search works in the new space");

    // A bundle that cannot load changes nothing and is not stored.
    let broken = data.join("models/other/text.onnx");
    std::fs::write(&broken, b"not a graph").unwrap();
    let mut back = settings.clone();
    back.model_bundle = None;
    back.device = "auto".into();
    service.update_settings(back).unwrap();
    assert_eq!(service.model_status().unwrap().model_id.as_deref(), Some(first_id.as_str()));
    let error = service.update_settings(settings).unwrap_err();
    assert!(!error.to_string().is_empty());
    assert_eq!(service.model_status().unwrap().model_id.as_deref(), Some(first_id.as_str()), "the working model stays");
    assert_eq!(service.settings().settings.model_bundle, None, "the failed change is not stored");
}

#[test]
fn serve_refuses_ui_folder_without_page() {
    let data = tempfile::tempdir().unwrap();
    let empty_ui = data.path().join("no-ui");
    std::fs::create_dir_all(&empty_ui).unwrap();
    let data_dir = data.path().join("data");
    let missing_ui = data.path().join("missing");
    for (ui, english, chinese) in [(&empty_ui, "has no index.html", "没有 index.html"), (&missing_ui, "is not a folder", "不是文件夹")] {
        let output = crate::support::xunying(&["serve", "--port", "0", "--ui", ui.to_str().unwrap()], &data_dir);
        assert_eq!(output.status.code(), Some(2));
        let message = crate::support::stderr(&output);
        assert!(message.contains(english), "{message}");
        assert!(message.contains(chinese), "{message}");
        assert!(!data_dir.exists(), "no data folder is made for a run that cannot start");
    }
}
