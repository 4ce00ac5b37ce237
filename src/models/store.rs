//! The folder of installed bundles: names, the `active` file, the verified marker,
//! listing, activation and removal.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ModelsError;
use crate::config;
use crate::model::Bundle;

/// File in the models folder that contains the active bundle's folder name.
pub const ACTIVE_FILE: &str = "active";
/// File in a bundle folder that contains the SHA-256 of the manifest that passed
/// `xunying models verify`.
pub const VERIFIED_MARKER: &str = ".verified";
/// Folder in the models folder that keeps partial downloads between attempts.
pub(crate) const DOWNLOADS_DIR: &str = ".downloads";
/// Prefix of the temporary folders that installs unpack into.
pub(crate) const STAGING_PREFIX: &str = ".staging-";

/// One installed bundle as `xunying models list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct InstalledBundle {
    /// Folder name inside the models folder.
    pub name: String,
    /// The bundle folder.
    pub dir: PathBuf,
    /// Model family, such as `fg-clip2`; `None` when the manifest does not load.
    pub family: Option<String>,
    /// Variant, such as `base`.
    pub variant: Option<String>,
    /// Weight precision, such as `fp16`.
    pub precision: Option<String>,
    /// Embedding space id.
    pub model_id: Option<String>,
    /// Embedding width.
    pub embed_dim: Option<usize>,
    /// Size of every file in the folder, in bytes.
    pub size_bytes: u64,
    /// Whether `xunying models verify` passed on this exact manifest.
    pub verified: bool,
    /// Whether this is the active bundle.
    pub active: bool,
    /// Why the bundle does not load, when it does not.
    pub error: Option<String>,
}

/// The result of making a bundle the active one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activation {
    /// Name of the bundle that is now active.
    pub name: String,
    /// Embedding space of the bundle that was active before, if one was and it loaded.
    pub previous_model_id: Option<String>,
    /// Embedding space of the bundle that is now active.
    pub model_id: String,
    /// Whether the embedding space changed, so every photo must be embedded again.
    /// `false` when no bundle was active before: the catalog then compares its own
    /// recorded model id.
    pub space_changed: bool,
}

/// The result of removing a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removal {
    /// Name of the removed bundle.
    pub name: String,
    /// Whether it was the active one, so no bundle is active now.
    pub was_active: bool,
}

/// Checks that `name` can be a bundle folder name: letters, digits, `-`, `_` and `.`,
/// not starting with `.` (those folders are internal), and not `active`.
pub fn validate_name(name: &str) -> Result<(), ModelsError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let valid = !name.is_empty() && name.len() <= 100 && !name.starts_with('.') && name != ACTIVE_FILE && name.chars().all(allowed);
    if valid {
        Ok(())
    } else {
        Err(ModelsError::InvalidName { name: name.to_string() })
    }
}

/// Derives a folder name from a manifest: `{family}-{variant}-{precision}`, lowercased,
/// with every character outside `[a-z0-9._-]` replaced by `-`.
pub fn bundle_name(family: &str, variant: &str, precision: &str) -> String {
    let raw = format!("{family}-{variant}-{precision}").to_ascii_lowercase();
    let cleaned: String = raw.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_') { c } else { '-' }).collect();
    let trimmed = cleaned.trim_start_matches(['.', '-']);
    if trimmed.is_empty() {
        "bundle".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Returns the active bundle's folder name, or `None` when the `active` file is
/// missing, empty or names no installed folder.
pub fn active_name(data_dir: &Path) -> Result<Option<String>, ModelsError> {
    let models_dir = config::models_dir(data_dir);
    let path = models_dir.join(ACTIVE_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(ModelsError::io(path, error)),
    };
    let name = text.trim();
    if validate_name(name).is_err() || !models_dir.join(name).is_dir() {
        tracing::debug!(name, "the active file names no installed bundle");
        return Ok(None);
    }
    Ok(Some(name.to_string()))
}

/// Lists the installed bundles, sorted by name. Internal folders (starting with `.`)
/// are skipped; a folder whose manifest does not load is listed with its error.
pub fn list(data_dir: &Path) -> Result<Vec<InstalledBundle>, ModelsError> {
    let models_dir = config::models_dir(data_dir);
    let entries = match fs::read_dir(&models_dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(ModelsError::io(models_dir, error)),
    };
    let active = active_name(data_dir)?;

    let mut bundles = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ModelsError::io(&models_dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if validate_name(&name).is_err() || !entry.path().is_dir() {
            continue;
        }
        let is_active = active.as_deref() == Some(name.as_str());
        bundles.push(describe(&entry.path(), name, is_active));
    }
    bundles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(bundles)
}

fn describe(dir: &Path, name: String, active: bool) -> InstalledBundle {
    let mut described = InstalledBundle {
        name,
        dir: dir.to_path_buf(),
        family: None,
        variant: None,
        precision: None,
        model_id: None,
        embed_dim: None,
        size_bytes: folder_size_bytes(dir),
        verified: is_verified(dir),
        active,
        error: None,
    };
    match Bundle::load(dir) {
        Ok(bundle) => {
            let m = bundle.manifest;
            described.family = Some(m.family);
            described.variant = Some(m.variant);
            described.precision = Some(m.precision);
            described.model_id = Some(m.model_id);
            described.embed_dim = Some(m.embed_dim);
        }
        Err(error) => described.error = Some(error.to_string()),
    }
    described
}

/// Makes an installed bundle the active one and reports whether the embedding space
/// changed. The bundle must load; its checksums are not hashed here.
pub fn activate(data_dir: &Path, name: &str) -> Result<Activation, ModelsError> {
    let bundle = load_installed(data_dir, name)?;
    let models_dir = config::models_dir(data_dir);

    let previous_model_id = match active_name(data_dir)? {
        Some(previous) => match Bundle::load(&models_dir.join(&previous)) {
            Ok(previous_bundle) => Some(previous_bundle.manifest.model_id),
            Err(error) => {
                tracing::warn!(%previous, %error, "the previously active bundle does not load; treating it as absent");
                None
            }
        },
        None => None,
    };
    write_active(&models_dir, name)?;

    let model_id = bundle.manifest.model_id;
    let space_changed = previous_model_id.as_ref().is_some_and(|previous| *previous != model_id);
    tracing::info!(name, %model_id, space_changed, "activated model bundle");
    Ok(Activation { name: name.to_string(), previous_model_id, model_id, space_changed })
}

/// Deletes an installed bundle. The active bundle is removed only with `force`, and
/// then no bundle is active afterwards.
pub fn remove(data_dir: &Path, name: &str, force: bool) -> Result<Removal, ModelsError> {
    let dir = installed_dir(data_dir, name)?;
    let models_dir = config::models_dir(data_dir);
    let was_active = active_name(data_dir)?.as_deref() == Some(name);
    if was_active && !force {
        return Err(ModelsError::ActiveBundle { name: name.to_string() });
    }

    // Renaming first takes the bundle out of use at once, so a crash during the
    // deletion leaves a hidden folder rather than a half-deleted bundle under its name.
    let doomed = models_dir.join(format!(".removing-{name}-{}", std::process::id()));
    fs::rename(&dir, &doomed).map_err(|e| ModelsError::io(&dir, e))?;
    if was_active {
        let active_path = models_dir.join(ACTIVE_FILE);
        fs::remove_file(&active_path).map_err(|e| ModelsError::io(active_path, e))?;
    }
    fs::remove_dir_all(&doomed).map_err(|e| ModelsError::io(&doomed, e))?;

    tracing::info!(name, was_active, "removed model bundle");
    Ok(Removal { name: name.to_string(), was_active })
}

/// Returns the folder of an installed bundle, checking the name first.
pub(crate) fn installed_dir(data_dir: &Path, name: &str) -> Result<PathBuf, ModelsError> {
    validate_name(name)?;
    let models_dir = config::models_dir(data_dir);
    let dir = models_dir.join(name);
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(ModelsError::NotInstalled { name: name.to_string(), models_dir })
    }
}

fn load_installed(data_dir: &Path, name: &str) -> Result<Bundle, ModelsError> {
    let dir = installed_dir(data_dir, name)?;
    Ok(Bundle::load(&dir)?)
}

/// Writes the `active` file through a temporary file and a rename, so a reader never
/// sees it half-written.
fn write_active(models_dir: &Path, name: &str) -> Result<(), ModelsError> {
    let path = models_dir.join(ACTIVE_FILE);
    let temporary = models_dir.join(format!(".{ACTIVE_FILE}.{}", std::process::id()));
    fs::write(&temporary, format!("{name}\n")).map_err(|e| ModelsError::io(&temporary, e))?;
    fs::rename(&temporary, &path).map_err(|e| ModelsError::io(path, e))
}

/// Whether the verified marker in `dir` matches the current manifest.
fn is_verified(dir: &Path) -> bool {
    let Ok(recorded) = fs::read_to_string(dir.join(VERIFIED_MARKER)) else {
        return false;
    };
    match sha256_file(&dir.join("manifest.json")) {
        Ok(digest) => digest == recorded.trim(),
        Err(_) => false,
    }
}

/// Returns the lowercase hex SHA-256 of a file.
// NOTE: `crate::model` has the same function but does not export it; this copy can go
// once it does.
pub(crate) fn sha256_file(path: &Path) -> Result<String, ModelsError> {
    let mut file = fs::File::open(path).map_err(|e| ModelsError::io(path, e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| ModelsError::io(path, e))?;
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Records that the bundle in `dir` passed verification, keyed by its manifest hash.
pub(crate) fn write_verified_marker(dir: &Path) -> Result<(), ModelsError> {
    let digest = sha256_file(&dir.join("manifest.json"))?;
    let path = dir.join(VERIFIED_MARKER);
    fs::write(&path, format!("{digest}\n")).map_err(|e| ModelsError::io(path, e))
}

/// Total size of the regular files under `dir`, in bytes. Unreadable entries count as 0.
fn folder_size_bytes(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.flatten() {
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => total += folder_size_bytes(&entry.path()),
            Ok(kind) if kind.is_file() => total += entry.metadata().map(|m| m.len()).unwrap_or(0),
            _ => {}
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["fg-clip2-base-fp16", "toy", "a.b_c-1"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".staging-1", "active", "a/b", "..", "a b", "模型"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bundle_name_is_safe() {
        assert_eq!(bundle_name("fg-clip2", "base", "fp16"), "fg-clip2-base-fp16");
        assert_eq!(bundle_name("Xunying Toy", "v1/2", "fp32"), "xunying-toy-v1-2-fp32");
        assert_eq!(bundle_name("..", "..", ".."), "bundle");
        assert!(validate_name(&bundle_name("../..", "/", "")).is_ok());
    }
}
