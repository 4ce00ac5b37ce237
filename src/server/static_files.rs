//! The built UI served as static files. A request path is percent-decoded, every
//! segment is checked (no `..`, `.`, backslash or NUL), and the file's canonical path
//! must stay inside the UI folder, so neither encoded traversal nor a symbolic link
//! leads outside it.

use std::path::{Path, PathBuf};

use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// Shown when the UI has not been built.
const MISSING_UI_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Xunying</title>\
<p>The web UI is not built. Run <code>npm run build:ui</code> in the Xunying folder, then reload.</p>\
<p>网页界面尚未构建。请在寻影目录中运行 <code>npm run build:ui</code>，然后刷新。</p>";

/// Resolves a request path to a file inside `root`, or `None` when it is not one.
pub fn resolve(root: &Path, request_path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(request_path).decode_utf8().ok()?;
    let mut relative = PathBuf::new();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment == ".." || segment == "." || segment.contains(['\\', '\0', ':']) {
            return None;
        }
        relative.push(segment);
    }
    if relative.as_os_str().is_empty() {
        relative.push("index.html");
    }
    let root = root.canonicalize().ok()?;
    let file = root.join(&relative).canonicalize().ok()?;
    (file.starts_with(&root) && file.is_file()).then_some(file)
}

/// Sends a file of the UI folder, or 404.
pub async fn serve(root: Option<PathBuf>, uri: Uri) -> Response {
    let Some(root) = root else {
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], MISSING_UI_PAGE).into_response();
    };
    let Some(file) = resolve(&root, uri.path()) else {
        return (StatusCode::NOT_FOUND, "Not found.\n未找到。").into_response();
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let cache = if file.starts_with(root.join("assets")) { "public, max-age=31536000, immutable" } else { "no-cache" };
            ([(header::CONTENT_TYPE, content_type(&file)), (header::CACHE_CONTROL, cache)], bytes).into_response()
        }
        Err(error) => {
            tracing::warn!(file = %file.display(), %error, "failed to read a UI file");
            (StatusCode::NOT_FOUND, "Not found.\n未找到。").into_response()
        }
    }
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_stays_inside_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("dist");
        std::fs::create_dir_all(root.join("assets")).unwrap();
        std::fs::write(root.join("index.html"), "<html>").unwrap();
        std::fs::write(root.join("assets/app.js"), "x").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();

        assert_eq!(resolve(&root, "/"), Some(root.canonicalize().unwrap().join("index.html")));
        assert!(resolve(&root, "/assets/app.js").is_some());
        for path in ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/..%5csecret.txt", "/assets"] {
            assert_eq!(resolve(&root, path), None, "{path}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn resolve_rejects_symlink_escape() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("dist");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link.txt")).unwrap();
        assert_eq!(resolve(&root, "/link.txt"), None);
    }
}
