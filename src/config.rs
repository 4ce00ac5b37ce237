//! Where Xunying keeps its data and which model bundle it uses.
//!
//! The data directory is `XUNYING_DATA_DIR` when set, else the platform's data folder
//! (`~/.local/share/xunying` on Linux, `~/Library/Application Support/Xunying` on
//! macOS, `%APPDATA%\Xunying\data` on Windows). The model bundle is the one given on
//! the command line, else `XUNYING_MODEL`, else the active bundle in the data directory.

use std::path::{Path, PathBuf};

/// Environment variable that sets the data directory.
pub const DATA_DIR_ENV: &str = "XUNYING_DATA_DIR";
/// Environment variable that sets the model bundle folder.
pub const MODEL_ENV: &str = "XUNYING_MODEL";

/// Returns the data directory: `explicit`, else `XUNYING_DATA_DIR`, else the platform
/// default. `None` only when the platform has no home folder.
pub fn data_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "Xunying").map(|dirs| dirs.data_dir().to_path_buf())
}

/// Folder of installed model bundles inside a data directory.
pub fn models_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models")
}

/// Returns the model bundle folder: `explicit`, else `XUNYING_MODEL`, else the active
/// bundle recorded in the data directory (`models/active`, a file holding the bundle's
/// folder name).
pub fn model_dir(explicit: Option<&Path>, data_dir: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(MODEL_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let models = models_dir(data_dir?);
    let active = std::fs::read_to_string(models.join("active")).ok()?;
    let name = active.trim();
    if name.is_empty() || name.contains(['/', '\\']) || name == ".." {
        return None;
    }
    Some(models.join(name))
}
