//! Unpacking bundle archives (.tar, .tar.gz, .zip) into a staging folder. Every entry
//! is checked before anything is written: absolute paths, `..` components, links and
//! special files are rejected by name, so nothing can land outside the staging folder.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use super::error::UnsafeEntryKind;
use super::ModelsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArchiveKind {
    Tar,
    TarGz,
    Zip,
}

/// Unpacks `archive` into the empty folder `dest`. The format is recognised by its
/// first bytes, not its file name, so a URL without an extension works too.
pub(crate) fn unpack(archive: &Path, dest: &Path) -> Result<(), ModelsError> {
    let kind = sniff_kind(archive)?;
    tracing::debug!(archive = %archive.display(), ?kind, "unpacking bundle archive");
    let file = File::open(archive).map_err(|e| ModelsError::io(archive, e))?;
    match kind {
        ArchiveKind::Tar => unpack_tar(BufReader::new(file), archive, dest),
        ArchiveKind::TarGz => unpack_tar(flate2::read::GzDecoder::new(BufReader::new(file)), archive, dest),
        ArchiveKind::Zip => unpack_zip(file, archive, dest),
    }
}

fn sniff_kind(archive: &Path) -> Result<ArchiveKind, ModelsError> {
    let mut head = Vec::with_capacity(512);
    let file = File::open(archive).map_err(|e| ModelsError::io(archive, e))?;
    file.take(512).read_to_end(&mut head).map_err(|e| ModelsError::io(archive, e))?;

    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(ArchiveKind::TarGz)
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Ok(ArchiveKind::Zip)
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Ok(ArchiveKind::Tar)
    } else {
        Err(ModelsError::UnknownArchive { path: archive.to_path_buf() })
    }
}

fn unpack_tar(reader: impl Read, archive: &Path, dest: &Path) -> Result<(), ModelsError> {
    let read_error = |e: io::Error| ModelsError::ArchiveRead { path: archive.to_path_buf(), reason: e.to_string() };
    let mut tar = tar::Archive::new(reader);

    for entry in tar.entries().map_err(read_error)? {
        let mut entry = entry.map_err(read_error)?;
        let raw_name = entry.path_bytes().into_owned();
        let shown_name = String::from_utf8_lossy(&raw_name).into_owned();
        let unsafe_entry = |kind| ModelsError::UnsafeEntry { path: archive.to_path_buf(), entry: shown_name.clone(), kind };

        let kind = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Folder,
            tar::EntryType::XGlobalHeader => continue,
            tar::EntryType::Symlink | tar::EntryType::Link => return Err(unsafe_entry(UnsafeEntryKind::Link)),
            _ => return Err(unsafe_entry(UnsafeEntryKind::Special)),
        };
        let name = std::str::from_utf8(&raw_name).map_err(|_| unsafe_entry(UnsafeEntryKind::BadName))?;
        let Some(relative) = entry_path(name).map_err(unsafe_entry)? else {
            continue;
        };
        write_entry(&mut entry, kind, &relative, dest, archive, &shown_name)?;
    }
    Ok(())
}

fn unpack_zip(file: File, archive: &Path, dest: &Path) -> Result<(), ModelsError> {
    let read_error = |e: zip::result::ZipError| ModelsError::ArchiveRead { path: archive.to_path_buf(), reason: e.to_string() };
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(read_error)?;

    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).map_err(read_error)?;
        let shown_name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let unsafe_entry = |kind| ModelsError::UnsafeEntry { path: archive.to_path_buf(), entry: shown_name.clone(), kind };

        if entry.is_symlink() {
            return Err(unsafe_entry(UnsafeEntryKind::Link));
        }
        if entry.encrypted() {
            return Err(ModelsError::ArchiveRead {
                path: archive.to_path_buf(),
                reason: format!("entry `{shown_name}` is encrypted"),
            });
        }
        let kind = if entry.is_dir() { EntryKind::Folder } else { EntryKind::File };
        let name = entry.name().map_err(|_| unsafe_entry(UnsafeEntryKind::BadName))?.into_owned();
        let Some(relative) = entry_path(&name).map_err(unsafe_entry)? else {
            continue;
        };
        write_entry(&mut entry, kind, &relative, dest, archive, &shown_name)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    File,
    Folder,
}

/// Turns an entry name into a relative path, or `None` for a name that is only `.`
/// and separators. Both `/` and `\` separate components, so an archive made on
/// Windows is read the same way everywhere.
fn entry_path(name: &str) -> Result<Option<PathBuf>, UnsafeEntryKind> {
    if name.contains('\0') {
        return Err(UnsafeEntryKind::BadName);
    }
    if name.starts_with(['/', '\\']) {
        return Err(UnsafeEntryKind::AbsolutePath);
    }

    let mut path = PathBuf::new();
    for (position, component) in name.split(['/', '\\']).enumerate() {
        match component {
            "" | "." => continue,
            ".." => return Err(UnsafeEntryKind::ParentDir),
            _ if position == 0 && is_drive_prefix(component) => return Err(UnsafeEntryKind::AbsolutePath),
            _ => path.push(component),
        }
    }
    Ok(if path.as_os_str().is_empty() { None } else { Some(path) })
}

/// Whether a first component names a Windows drive, such as `C:`.
fn is_drive_prefix(component: &str) -> bool {
    let bytes = component.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

fn write_entry(
    reader: &mut impl Read,
    kind: EntryKind,
    relative: &Path,
    dest: &Path,
    archive: &Path,
    shown_name: &str,
) -> Result<(), ModelsError> {
    let target = dest.join(relative);
    // `entry_path` already rejects every escape; this check guards against a future
    // change there, since a write outside `dest` would be a security bug.
    if !target.starts_with(dest) {
        return Err(ModelsError::UnsafeEntry {
            path: archive.to_path_buf(),
            entry: shown_name.to_string(),
            kind: UnsafeEntryKind::ParentDir,
        });
    }

    if kind == EntryKind::Folder {
        return fs::create_dir_all(&target).map_err(|e| ModelsError::io(&target, e));
    }
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(|e| ModelsError::io(parent, e))?;
    }
    let mut file = match OpenOptions::new().write(true).create_new(true).open(&target) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            return Err(ModelsError::UnsafeEntry {
                path: archive.to_path_buf(),
                entry: shown_name.to_string(),
                kind: UnsafeEntryKind::Duplicate,
            })
        }
        Err(error) => return Err(ModelsError::io(&target, error)),
    };
    io::copy(reader, &mut file).map_err(|e| ModelsError::ArchiveRead {
        path: archive.to_path_buf(),
        reason: format!("entry `{shown_name}`: {e}"),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_paths_are_checked() {
        assert_eq!(entry_path("bundle/vision.onnx"), Ok(Some(PathBuf::from("bundle/vision.onnx"))));
        assert_eq!(entry_path("./manifest.json"), Ok(Some(PathBuf::from("manifest.json"))));
        assert_eq!(entry_path("a\\b"), Ok(Some(PathBuf::from("a/b"))));
        assert_eq!(entry_path("./"), Ok(None));
        assert_eq!(entry_path("../evil"), Err(UnsafeEntryKind::ParentDir));
        assert_eq!(entry_path("bundle/../../evil"), Err(UnsafeEntryKind::ParentDir));
        assert_eq!(entry_path("a\\..\\..\\evil"), Err(UnsafeEntryKind::ParentDir));
        assert_eq!(entry_path("/etc/passwd"), Err(UnsafeEntryKind::AbsolutePath));
        assert_eq!(entry_path("\\windows\\evil"), Err(UnsafeEntryKind::AbsolutePath));
        assert_eq!(entry_path("C:\\evil"), Err(UnsafeEntryKind::AbsolutePath));
        assert_eq!(entry_path("a\0b"), Err(UnsafeEntryKind::BadName));
    }
}
