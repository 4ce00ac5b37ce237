//! Walking photo folders: every supported file below a root with its size and
//! modification time. Symbolic links are not followed, so a link loop cannot trap the
//! walk. Hidden folders and files (names starting with `.`, such as the `._` resource
//! files macOS leaves on external drives) are skipped.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A file found by a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFile {
    /// Absolute path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct WalkResult {
    /// Supported files, sorted by path.
    pub files: Vec<FoundFile>,
    /// Folders that could not be read, with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Modification time of file metadata in nanoseconds since the Unix epoch (0 when the
/// platform does not report one).
pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

/// Whether a file modified at `mtime_ns` has been left alone for at least `settle`, so
/// that it is not still being written.
pub fn is_settled(mtime_ns: i64, settle: Duration) -> bool {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(i64::MAX);
    now.saturating_sub(mtime_ns) >= settle.as_nanos() as i64
}

/// Returns whether the file or folder name starts with `.`.
pub fn is_hidden(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name.to_string_lossy().starts_with('.'))
}

/// Walks `root` and returns the files `is_supported` accepts. Fails only when the root
/// itself cannot be read (a vanished or unmounted folder); unreadable subfolders are
/// listed in the result instead.
pub fn walk_folder(root: &Path, skip: &[PathBuf], is_supported: impl Fn(&Path) -> bool) -> std::io::Result<WalkResult> {
    let mut result = WalkResult::default();
    let mut pending = vec![root.to_path_buf()];
    std::fs::read_dir(root)?;

    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) => {
                result.unreadable.push((dir, error.to_string()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(file_type) = entry.file_type() else { continue };
            if is_hidden(&path) {
                continue;
            }
            if file_type.is_dir() {
                if !skip.iter().any(|s| s == &path) {
                    pending.push(path);
                }
            } else if file_type.is_file() && is_supported(&path) {
                if let Ok(meta) = entry.metadata() {
                    result.files.push(FoundFile { mtime_ns: mtime_ns(&meta), size: meta.len(), path });
                }
            }
        }
    }
    result.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_skips_hidden_and_unsupported() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("a/b")).unwrap();
        std::fs::create_dir_all(root.path().join(".hidden")).unwrap();
        std::fs::write(root.path().join("a/one.jpg"), b"x").unwrap();
        std::fs::write(root.path().join("a/b/two.PNG"), b"xy").unwrap();
        std::fs::write(root.path().join("a/notes.txt"), b"x").unwrap();
        std::fs::write(root.path().join(".hidden/three.jpg"), b"x").unwrap();
        std::fs::write(root.path().join("a/._one.jpg"), b"x").unwrap();
        std::fs::write(root.path().join("a/.four.png"), b"x").unwrap();
        let supported = |p: &Path| {
            p.extension().map(|e| matches!(e.to_string_lossy().to_lowercase().as_str(), "jpg" | "png")).unwrap_or(false)
        };
        let walk = walk_folder(root.path(), &[], supported).unwrap();
        let names: Vec<_> = walk.files.iter().map(|f| f.path.strip_prefix(root.path()).unwrap().to_path_buf()).collect();
        assert_eq!(names, vec![PathBuf::from("a/b/two.PNG"), PathBuf::from("a/one.jpg")]);
        assert_eq!(walk.files[0].size, 2);
    }

    #[test]
    fn missing_root_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        let gone = root.path().join("unplugged");
        assert!(walk_folder(&gone, &[], |_| true).is_err());
    }

    #[test]
    fn fresh_file_is_not_settled() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64;
        assert!(!is_settled(now, Duration::from_secs(2)));
        assert!(is_settled(now - 3_000_000_000, Duration::from_secs(2)));
    }
}
