//! Starts the built desktop app under Xvfb and drives it through WebKitWebDriver. The
//! window comes up, the UI renders, and a search finds a photo of a library indexed
//! with the toy model. The photo's folder name has spaces, `#`, `%` and Chinese
//! characters, and its path must show unchanged. The native folder picker opens and
//! cancels. The CSP and the capability must reject eval and plugin commands.
//!
//! Needs Debian's `xvfb`, `webkit2gtk-driver`, `xdotool` and `imagemagick` (`.ci/run`
//! installs them). Screenshots go to the test's temporary target folder.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};
use serde_json::{json, Value};
use xunying::library::progress::NullSink;
use xunying::library::{Library, LibraryOptions};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A child process killed when the test ends, pass or fail.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn require_tool(name: &str, package: &str) {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().is_ok_and(|o| o.status.success());
    assert!(found, "{name} is missing: install Debian's `{package}` (.ci/run does)");
}

/// Starts Xvfb on a free display and returns the guard and the display name.
fn start_xvfb() -> (Guard, String) {
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("Xvfb stdout is piped")).read_line(&mut line).expect("Xvfb prints its display");
    let display = format!(":{}", line.trim());
    assert!(line.trim().parse::<u32>().is_ok(), "Xvfb printed no display number: {line:?}");
    (Guard(child), display)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a loopback port is free").port()
}

/// A minimal WebDriver client for one session.
struct WebDriver {
    agent: ureq::Agent,
    base: String,
    session: String,
}

impl WebDriver {
    fn request(agent: &ureq::Agent, method: &str, url: &str, body: Option<&Value>) -> Value {
        let response = match (method, body) {
            ("GET", _) => agent.get(url).call(),
            ("DELETE", _) => agent.delete(url).call(),
            (_, body) => agent
                .post(url)
                .header("Content-Type", "application/json")
                .send(body.cloned().unwrap_or(json!({})).to_string()),
        };
        let mut response = response.unwrap_or_else(|error| panic!("WebDriver {method} {url} failed: {error}"));
        let status = response.status();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(status.is_success(), "WebDriver {method} {url} returned {status}: {text}");
        value["value"].clone()
    }

    fn start(port: u16, app: &Path) -> WebDriver {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(STARTUP_TIMEOUT))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "WebKitWebDriver did not answer on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "webkitgtk:browserOptions": { "binary": app, "args": [] }
        } } });
        let created = WebDriver::request(&agent, "POST", &format!("{base}/session"), Some(&capabilities));
        let session = created["sessionId"].as_str().expect("the new session has an id").to_string();
        WebDriver { agent, base, session }
    }

    fn get(&self, path: &str) -> Value {
        WebDriver::request(&self.agent, "GET", &format!("{}/session/{}{path}", self.base, self.session), None)
    }

    /// Runs `script` in the page; it receives `done` as its last argument.
    fn run_async(&self, script: &str, args: Value) -> Value {
        let body = json!({ "script": script, "args": args });
        WebDriver::request(&self.agent, "POST", &format!("{}/session/{}/execute/async", self.base, self.session), Some(&body))
    }

    /// Invokes an app command and returns `{ok}` or `{error}`.
    fn invoke(&self, command: &str, args: Value) -> Value {
        let script = "const done = arguments[arguments.length - 1];\
            window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])\
              .then(ok => done({ ok: ok === undefined ? null : ok }), error => done({ error: error }));";
        self.run_async(script, json!([command, args]))
    }

    /// Types `text` into the element that `selector` finds, key by key.
    fn type_into(&self, selector: &str, text: &str) {
        self.wait_until(selector, &format!("() => document.querySelector({selector:?}) !== null"));
        let url = format!("{}/session/{}", self.base, self.session);
        let found = WebDriver::request(&self.agent, "POST", &format!("{url}/element"), Some(&json!({ "using": "css selector", "value": selector })));
        let element = found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("the element is found").to_string();
        WebDriver::request(&self.agent, "POST", &format!("{url}/element/{element}/value"), Some(&json!({ "text": text })));
    }

    fn wait_until(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let value = self.run_async(&format!("const done = arguments[arguments.length - 1]; done(({script})());"), json!([]));
            if !value.is_null() && value != json!(false) {
                return value;
            }
            if Instant::now() >= deadline {
                let page = self.run_async("arguments[arguments.length - 1](document.body.innerText)", json!([]));
                panic!("timed out waiting for {what}; the page shows: {page}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for WebDriver {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.agent.delete(&url).call();
    }
}

/// Draws a grey photo with one large disc of `colour`; the toy model separates such
/// photos by colour.
fn disc_photo(colour: [u8; 3]) -> RgbImage {
    RgbImage::from_fn(320, 240, |x, y| {
        let (dx, dy) = (x as f32 - 160.0, y as f32 - 120.0);
        if dx * dx + dy * dy < 80.0 * 80.0 { Rgb(colour) } else { Rgb([128, 128, 128]) }
    })
}

/// Indexes a folder whose name has spaces, `#`, `%` and Chinese characters, so every
/// layer between the catalog and the webview has to keep the path intact.
fn indexed_library(root: &Path) -> (PathBuf, PathBuf) {
    let folder = root.join("照片 #1 100% 夏天");
    std::fs::create_dir_all(&folder).unwrap();
    disc_photo([220, 30, 30]).save(folder.join("红色 #a%20.png")).unwrap();
    disc_photo([30, 60, 220]).save(folder.join("blue disc.png")).unwrap();

    let data_dir = root.join("data");
    let mut options = LibraryOptions::new(&data_dir);
    options.model_dir = Some(repo_root().join("models/toy/bundle"));
    options.settle = Duration::ZERO;
    let mut library = Library::open(options).expect("the toy library opens");
    let summary = library.index(std::slice::from_ref(&folder), &NullSink, &AtomicBool::new(false)).expect("indexing succeeds");
    assert_eq!(summary.failed(), 0, "no photo fails to index: {summary:?}");
    (data_dir, folder.canonicalize().unwrap())
}

fn screenshot(display: &str, name: &str) -> RgbImage {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let status = Command::new("import")
        .args(["-display", display, "-window", "root"])
        .arg(&path)
        .status()
        .expect("ImageMagick's import runs");
    assert!(status.success(), "import failed to take a screenshot of {display}");
    image::open(&path).expect("the screenshot decodes").to_rgb8()
}

/// Waits for a top-level window whose title contains `title` and returns its X id.
fn wait_for_window(display: &str, title: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = Command::new("xdotool").args(["search", "--name", title]).env("DISPLAY", display).output().expect("xdotool runs");
        let ids = String::from_utf8_lossy(&found.stdout);
        if let Some(id) = ids.split_whitespace().next() {
            return id.to_string();
        }
        assert!(Instant::now() < deadline, "no window titled {title:?} appeared on {display}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Checks that the window below its header bar is not one flat colour, which is how
/// a webview that stopped painting looks.
fn assert_screen_shows_content(display: &str, name: &str) {
    let shot = screenshot(display, name);
    let below_header = image::imageops::crop_imm(&shot, 0, 80, shot.width(), 600).to_image();
    let colours = distinct_colours(&below_header);
    assert!(colours > 16, "{name}: the window below its header has {colours} colours, so it looks blank");
}

fn distinct_colours(image: &RgbImage) -> usize {
    let mut colours: Vec<[u8; 3]> = image.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    colours.len()
}

#[test]
fn app_window_renders_ui_and_serves_library() {
    require_tool("Xvfb", "xvfb");
    require_tool("WebKitWebDriver", "webkit2gtk-driver");
    require_tool("import", "imagemagick");
    require_tool("xdotool", "xdotool");
    let work = tempfile::tempdir().unwrap();
    let (data_dir, folder) = indexed_library(work.path());

    let (_xvfb, display) = start_xvfb();
    let port = free_port();
    let _driver = Guard(
        Command::new("WebKitWebDriver")
            .arg(format!("--port={port}"))
            .env("DISPLAY", &display)
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            // Without it, WebKitGTK 2.50 under Xvfb leaves the window showing its first
            // paint while the DOM moves on, so screenshots miss later screens.
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("XUNYING_DATA_DIR", &data_dir)
            .env("XUNYING_MODEL", repo_root().join("models/toy/bundle"))
            .env("XUNYING_LOG", "warn")
            .current_dir(repo_root())
            .stdout(Stdio::null())
            .spawn()
            .expect("WebKitWebDriver starts"),
    );
    let app = WebDriver::start(port, Path::new(env!("CARGO_BIN_EXE_xunying-app")));

    // The window is up and the UI has rendered its header.
    app.wait_until("the UI to render", "() => document.querySelector('.brand')?.textContent === '寻影 Xunying'");
    let rect = app.get("/window/rect");
    assert!(rect["width"].as_f64().unwrap_or(0.0) >= 720.0, "window rect: {rect}");

    // Typing a query shows the red photo first, with its thumbnail loaded through the
    // `photo:` scheme and its path intact in the tile's tooltip.
    let red = folder.join("红色 #a%20.png").to_string_lossy().into_owned();
    app.type_into("input.search-input", "a red circle");
    let tile = app.wait_until(
        "the first result's thumbnail",
        "() => { const tile = document.querySelector('.tile'); const img = tile?.querySelector('img');\
           return img && img.complete && img.naturalWidth > 0 && { path: tile.title, width: img.naturalWidth, src: img.src }; }",
    );
    assert_eq!(tile["path"], json!(red), "first tile: {tile}");
    assert!(tile["src"].as_str().unwrap_or("").starts_with("photo://localhost/thumb/"), "first tile: {tile}");
    assert_screen_shows_content(&display, "desktop-search.png");

    // The native folder picker opens, and closing it with Escape picks nothing.
    app.run_async("window.picking = window.__TAURI_INTERNALS__.invoke('pick_folder'); arguments[arguments.length - 1](null);", json!([]));
    let dialog = wait_for_window(&display, "Choose a photo folder");
    let closed = Command::new("xdotool")
        .args(["windowfocus", "--sync", &dialog, "key", "--clearmodifiers", "Escape"])
        .env("DISPLAY", &display)
        .status()
        .expect("xdotool runs");
    assert!(closed.success(), "xdotool failed to press Escape in the folder picker");
    let picked = app.run_async(
        "const done = arguments[arguments.length - 1]; window.picking.then(ok => done({ ok }), error => done({ error }));",
        json!([]),
    );
    assert_eq!(picked, json!({ "ok": null }), "cancelled folder picker");

    // The library screen lists the folder under its own name.
    app.run_async("const done = arguments[arguments.length - 1]; location.hash = '#/library'; done(null);", json!([]));
    let listed = app.wait_until("the library's folder list", "() => document.querySelector('.folder-list .folder-path')?.textContent");
    assert_eq!(listed, json!(folder.to_string_lossy()), "library screen");

    // Commands called directly agree with what the screens show.
    let status = app.invoke("status", json!({}));
    assert_eq!(status["ok"]["photos"], json!(2), "status: {status}");

    // Query by image sends the photo as the raw body, the query in a header.
    let example = std::fs::read(folder.join("blue disc.png")).unwrap();
    let by_image = app.run_async(
        "const done = arguments[arguments.length - 1];\
         const headers = { 'x-xunying-query': encodeURIComponent(JSON.stringify({ limit: 5 })) };\
         window.__TAURI_INTERNALS__.invoke('search_by_image', new Uint8Array(arguments[0]), { headers })\
           .then(ok => done({ ok }), error => done({ error }));",
        json!([example]),
    );
    let blue = folder.join("blue disc.png").to_string_lossy().into_owned();
    assert_eq!(by_image["ok"]["hits"][0]["path"], json!(blue), "search_by_image: {by_image}");
    let not_raw = app.invoke("search_by_image", json!({ "image": [1, 2, 3] }));
    assert_eq!(not_raw["error"]["kind"], json!("invalid_input"), "search_by_image with JSON: {not_raw}");

    // "Show in folder" for an id that is not in the library fails as not found.
    let missing = app.invoke("reveal_photo", json!({ "id": 999_999 }));
    assert_eq!(missing["error"]["kind"], json!("not_found"), "reveal_photo: {missing}");

    // The capability grants the app's commands only, and the CSP forbids eval.
    for command in ["plugin:dialog|open", "plugin:opener|open_path", "plugin:app|version"] {
        let denied = app.invoke(command, json!({}));
        assert!(denied.get("error").is_some(), "{command} should be denied: {denied}");
    }
    let eval = app.run_async(
        "const done = arguments[arguments.length - 1]; try { eval('1 + 1'); done('allowed'); } catch (e) { done(String(e.name)); }",
        json!([]),
    );
    assert_eq!(eval, json!("EvalError"), "the CSP should block eval");

    assert_screen_shows_content(&display, "desktop-library.png");
}
