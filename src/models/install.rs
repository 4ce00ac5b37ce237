//! Installing a bundle from a folder, an archive, a URL or a variant name.
//!
//! Every install is atomic: the bundle is copied or unpacked into a fresh
//! `models/.staging-*` folder, loaded and checksummed there, and only then renamed to
//! its final name. The staging folder is deleted on every failure, so an install either
//! completes or leaves nothing behind except a partial download kept for resuming.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::download::{self, is_url};
use super::index::{self, ArchiveLocation};
use super::store::{self, sha256_file, Activation, STAGING_PREFIX};
use super::{archive, ModelsError};
use crate::config;
use crate::model::Bundle;

/// Environment variable with the URL or path of the model index that variant names
/// resolve through.
pub const MODEL_INDEX_ENV: &str = "XUNYING_MODEL_INDEX";

/// Variant names of the published bundles.
pub const KNOWN_VARIANTS: [&str; 4] = ["base", "large", "so400m", "toy"];

/// Staging folders older than this are left over from a crashed install and removed.
const STALE_STAGING_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// How to install.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Folder name to install under; by default `{family}-{variant}-{precision}`.
    pub name: Option<String>,
    /// Make the bundle active even when another one is. The first installed bundle
    /// becomes active regardless.
    pub activate: bool,
    /// Expected SHA-256 of an archive given by path or URL. Variant names take theirs
    /// from the index.
    pub sha256: Option<String>,
    /// URL or path of the model index, needed to install by variant name.
    pub index: Option<String>,
}

/// What an install source is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallSource {
    /// A bundle folder on this machine.
    Folder(PathBuf),
    /// A .tar, .tar.gz or .zip archive on this machine.
    Archive(PathBuf),
    /// An `http://` or `https://` URL of an archive.
    Url(String),
    /// A variant name, resolved through the model index.
    Variant(String),
}

impl InstallSource {
    /// Classifies `text`: a URL, else an existing folder or file, else a bare word
    /// (letters, digits, `-`, `_`) as a variant name. An existing path wins over a
    /// variant of the same name.
    pub fn parse(text: &str) -> Result<InstallSource, ModelsError> {
        if is_url(text) {
            return Ok(InstallSource::Url(text.to_string()));
        }
        let path = Path::new(text);
        if path.is_dir() {
            return Ok(InstallSource::Folder(path.to_path_buf()));
        }
        if path.is_file() {
            return Ok(InstallSource::Archive(path.to_path_buf()));
        }
        let bare_word = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if bare_word {
            return Ok(InstallSource::Variant(text.to_string()));
        }
        Err(ModelsError::SourceNotFound { source_text: text.to_string(), variants: KNOWN_VARIANTS.join(", ") })
    }
}

/// A step of an install, sent to the progress sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum InstallEvent {
    /// A download began or resumed.
    DownloadStarted {
        /// The archive URL.
        url: String,
        /// Bytes already in the partial file from an earlier attempt.
        resumed_from_bytes: u64,
        /// Size of the whole archive, when known.
        total_bytes: Option<u64>,
    },
    /// More of the archive arrived.
    DownloadProgress {
        /// Bytes of the archive on disk, including resumed ones.
        received_bytes: u64,
    },
    /// The archive is complete.
    DownloadFinished,
    /// Hashing the archive against its published SHA-256.
    CheckingArchive,
    /// Unpacking or copying into the staging folder.
    Unpacking,
    /// Loading the bundle and hashing its files.
    CheckingBundle,
}

/// An installed bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    /// Folder name inside the models folder.
    pub name: String,
    /// The bundle folder.
    pub dir: PathBuf,
    /// Model family.
    pub family: String,
    /// Variant.
    pub variant: String,
    /// Weight precision.
    pub precision: String,
    /// Embedding space id.
    pub model_id: String,
    /// Size of the bundle's files in bytes, as the manifest records it.
    pub size_bytes: u64,
    /// The activation, when the bundle was made active.
    pub activation: Option<Activation>,
}

/// Installs a bundle into `<data_dir>/models/` from `source`: a bundle folder, an
/// archive, an `http(s)://` URL of an archive, or a variant name looked up in
/// `options.index`. The bundle is loaded and every file hashed before it appears under
/// its name. Progress goes to `progress`.
pub fn install(
    data_dir: &Path,
    source: &str,
    options: &InstallOptions,
    progress: &mut dyn FnMut(InstallEvent),
) -> Result<Installed, ModelsError> {
    if let Some(name) = &options.name {
        store::validate_name(name)?;
    }
    let sha256 = options.sha256.as_deref().map(normalize_sha256).transpose()?;
    let parsed = InstallSource::parse(source)?;
    let models_dir = config::models_dir(data_dir);
    fs::create_dir_all(&models_dir).map_err(|e| ModelsError::io(&models_dir, e))?;
    remove_stale_staging(&models_dir);

    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(&models_dir)
        .map_err(|e| ModelsError::io(&models_dir, e))?;
    tracing::debug!(staging = %staging.path().display(), ?parsed, "staging install");

    let bundle_root = match parsed {
        InstallSource::Folder(dir) => {
            if sha256.is_some() {
                return Err(ModelsError::Sha256ForFolder { path: dir });
            }
            // Checking the source first makes an error name the user's file, not its
            // staged copy. The copy is checked again before it is renamed into place.
            progress(InstallEvent::CheckingBundle);
            Bundle::load(&dir)?.verify_checksums()?;
            progress(InstallEvent::Unpacking);
            copy_bundle_files(&dir, staging.path())?;
            staging.path().to_path_buf()
        }
        InstallSource::Archive(path) => stage_local_archive(&path, sha256.as_deref(), staging.path(), progress)?,
        InstallSource::Url(url) => stage_download(&models_dir, &url, sha256.as_deref(), None, staging.path(), progress)?,
        InstallSource::Variant(variant) => stage_variant(&models_dir, &variant, options, staging.path(), progress)?,
    };

    let installed = commit(&models_dir, &bundle_root, options.name.as_deref(), progress)?;
    drop(staging);
    let activation = activate_if_needed(data_dir, &installed.name, options.activate)?;
    Ok(Installed { activation, ..installed })
}

/// Loads and checksums the staged bundle, then renames it into place.
fn commit(
    models_dir: &Path,
    bundle_root: &Path,
    name: Option<&str>,
    progress: &mut dyn FnMut(InstallEvent),
) -> Result<Installed, ModelsError> {
    progress(InstallEvent::CheckingBundle);
    let bundle = Bundle::load(bundle_root)?;
    bundle.verify_checksums()?;

    let m = &bundle.manifest;
    let name = match name {
        Some(name) => name.to_string(),
        None => store::bundle_name(&m.family, &m.variant, &m.precision),
    };
    let target = models_dir.join(&name);
    if target.exists() {
        return Err(ModelsError::AlreadyInstalled { name, dir: target });
    }
    fs::rename(bundle_root, &target).map_err(|e| ModelsError::io(&target, e))?;
    tracing::info!(name, model_id = %m.model_id, dir = %target.display(), "installed model bundle");

    Ok(Installed {
        name,
        dir: target,
        family: m.family.clone(),
        variant: m.variant.clone(),
        precision: m.precision.clone(),
        model_id: m.model_id.clone(),
        size_bytes: bundle.total_bytes(),
        activation: None,
    })
}

fn activate_if_needed(data_dir: &Path, name: &str, requested: bool) -> Result<Option<Activation>, ModelsError> {
    if requested || store::active_name(data_dir)?.is_none() {
        Ok(Some(store::activate(data_dir, name)?))
    } else {
        Ok(None)
    }
}

fn stage_variant(
    models_dir: &Path,
    variant: &str,
    options: &InstallOptions,
    staging: &Path,
    progress: &mut dyn FnMut(InstallEvent),
) -> Result<PathBuf, ModelsError> {
    let Some(index) = options.index.as_deref().filter(|s| !s.trim().is_empty()) else {
        if !KNOWN_VARIANTS.contains(&variant) {
            return Err(ModelsError::SourceNotFound { source_text: variant.to_string(), variants: KNOWN_VARIANTS.join(", ") });
        }
        return Err(ModelsError::NoModelIndex {
            variant: variant.to_string(),
            env: MODEL_INDEX_ENV,
            archive_name: suggested_archive_name(variant),
        });
    };
    let resolved = index::resolve_variant(index, variant)?;
    let sha256 = normalize_sha256(&resolved.sha256)?;
    match resolved.location {
        ArchiveLocation::Url(url) => stage_download(models_dir, &url, Some(&sha256), resolved.bytes, staging, progress),
        ArchiveLocation::File(path) => stage_local_archive(&path, Some(&sha256), staging, progress),
    }
}

fn suggested_archive_name(variant: &str) -> String {
    if variant == "toy" {
        "xunying-toy.tar.gz".to_string()
    } else {
        format!("fg-clip2-{variant}.tar.gz")
    }
}

fn stage_local_archive(
    archive_path: &Path,
    sha256: Option<&str>,
    staging: &Path,
    progress: &mut dyn FnMut(InstallEvent),
) -> Result<PathBuf, ModelsError> {
    if let Some(expected) = sha256 {
        progress(InstallEvent::CheckingArchive);
        check_archive_sha256(archive_path, &archive_path.display().to_string(), expected)?;
    }
    unpack_into(archive_path, &archive_path.display().to_string(), staging, progress)
}

fn stage_download(
    models_dir: &Path,
    url: &str,
    sha256: Option<&str>,
    expected_bytes: Option<u64>,
    staging: &Path,
    progress: &mut dyn FnMut(InstallEvent),
) -> Result<PathBuf, ModelsError> {
    let part = download::part_path(models_dir, url);
    download::download(url, &part, expected_bytes, progress)?;
    // The archive is complete from here on: whatever happens next, keeping it would
    // only resume into a file that is already whole, so it is deleted.
    let _remove_part = RemoveOnDrop(part.clone());

    match sha256 {
        Some(expected) => {
            progress(InstallEvent::CheckingArchive);
            check_archive_sha256(&part, url, expected)?;
        }
        None => tracing::warn!(url, "no SHA-256 given for the archive; only the bundle's own checksums are checked"),
    }
    unpack_into(&part, url, staging, progress)
}

fn unpack_into(
    archive_path: &Path,
    source_text: &str,
    staging: &Path,
    progress: &mut dyn FnMut(InstallEvent),
) -> Result<PathBuf, ModelsError> {
    progress(InstallEvent::Unpacking);
    archive::unpack(archive_path, staging)?;
    find_bundle_root(staging).ok_or_else(|| ModelsError::NoBundleInArchive { source_text: source_text.to_string() })
}

/// The folder with `manifest.json`: the staging folder itself, or its single top-level
/// folder. macOS metadata (`__MACOSX`, dot files) does not count as a second entry.
fn find_bundle_root(staging: &Path) -> Option<PathBuf> {
    if staging.join("manifest.json").is_file() {
        return Some(staging.to_path_buf());
    }
    let entries: Vec<PathBuf> = fs::read_dir(staging)
        .ok()?
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.') && name != "__MACOSX"
        })
        .map(|entry| entry.path())
        .collect();
    match entries.as_slice() {
        [only] if only.is_dir() && only.join("manifest.json").is_file() => Some(only.clone()),
        _ => None,
    }
}

/// Copies `manifest.json` and every file the manifest lists, and nothing else, so
/// stray files in the source folder stay out of the install.
fn copy_bundle_files(source: &Path, staging: &Path) -> Result<(), ModelsError> {
    let bundle = Bundle::load(source)?;
    let names = std::iter::once("manifest.json").chain(bundle.manifest.files.keys().map(String::as_str));
    for name in names {
        let from = source.join(name);
        let to = staging.join(name);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|e| ModelsError::io(parent, e))?;
        }
        fs::copy(&from, &to).map_err(|e| ModelsError::io(&from, e))?;
    }
    Ok(())
}

fn check_archive_sha256(path: &Path, source_text: &str, expected: &str) -> Result<(), ModelsError> {
    let actual = sha256_file(path)?;
    if actual == expected {
        tracing::debug!(source = source_text, "archive SHA-256 matches");
        Ok(())
    } else {
        Err(ModelsError::ArchiveChecksum { source_text: source_text.to_string(), expected: expected.to_string(), actual })
    }
}

/// Lowercases a hex SHA-256 and checks that it has 64 hex digits.
fn normalize_sha256(value: &str) -> Result<String, ModelsError> {
    let trimmed = value.trim().to_ascii_lowercase();
    if trimmed.len() == 64 && trimmed.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(trimmed)
    } else {
        Err(ModelsError::InvalidSha256 { value: value.to_string() })
    }
}

/// Removes staging and removal folders that a crashed process left behind. Fresh ones
/// may belong to an install running in another process, so they stay.
fn remove_stale_staging(models_dir: &Path) {
    let Ok(entries) = fs::read_dir(models_dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(STAGING_PREFIX) || name.starts_with(".removing-")) {
            continue;
        }
        let modified = entry.metadata().and_then(|m| m.modified()).ok();
        let age = modified.and_then(|time| now.duration_since(time).ok()).unwrap_or_default();
        if age > STALE_STAGING_AGE {
            match fs::remove_dir_all(entry.path()) {
                Ok(()) => tracing::debug!(folder = %name, "removed a leftover staging folder"),
                Err(error) => tracing::warn!(folder = %name, %error, "failed to remove a leftover staging folder"),
            }
        }
    }
}

/// Deletes a file when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Err(error) = fs::remove_file(&self.0) {
            if error.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %self.0.display(), %error, "failed to delete a downloaded archive");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_classified() {
        let temp = tempfile::tempdir().unwrap();
        let archive = temp.path().join("b.tar.gz");
        fs::write(&archive, b"x").unwrap();

        assert_eq!(InstallSource::parse("https://h/b.tar.gz").unwrap(), InstallSource::Url("https://h/b.tar.gz".into()));
        assert_eq!(InstallSource::parse("HTTP://h/b").unwrap(), InstallSource::Url("HTTP://h/b".into()));
        assert_eq!(InstallSource::parse(temp.path().to_str().unwrap()).unwrap(), InstallSource::Folder(temp.path().into()));
        assert_eq!(InstallSource::parse(archive.to_str().unwrap()).unwrap(), InstallSource::Archive(archive.clone()));
        assert_eq!(InstallSource::parse("so400m").unwrap(), InstallSource::Variant("so400m".into()));
        assert!(matches!(InstallSource::parse("/no/such/file.tar.gz"), Err(ModelsError::SourceNotFound { .. })));
    }

    #[test]
    fn sha256_is_normalized() {
        let upper = "AB".repeat(32);
        assert_eq!(normalize_sha256(&upper).unwrap(), "ab".repeat(32));
        assert!(normalize_sha256("abc").is_err());
        assert!(normalize_sha256(&"zz".repeat(32)).is_err());
    }
}
