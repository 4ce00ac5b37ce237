//! Crash-safe file replacement: write a temporary file in the target's folder, flush
//! it to disk, then rename it over the target.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::VectorError;

/// Replaces `path` with the file that `write` creates at the temporary path it is
/// given. After a crash, `path` holds either the old or the new content, never a
/// mix. Returns the new file's size in bytes.
pub(crate) fn replace_file(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), VectorError>,
) -> Result<u64, VectorError> {
    let folder = parent_folder(path);
    std::fs::create_dir_all(&folder).map_err(|e| VectorError::io(&folder, e))?;
    let temporary = temporary_path(path);

    let written = write(&temporary).and_then(|()| {
        let file = File::open(&temporary).map_err(|e| VectorError::io(&temporary, e))?;
        file.sync_all().map_err(|e| VectorError::io(&temporary, e))?;
        let num_bytes = file.metadata().map_err(|e| VectorError::io(&temporary, e))?.len();
        std::fs::rename(&temporary, path).map_err(|e| VectorError::io(path, e))?;
        Ok(num_bytes)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    let num_bytes = written?;

    sync_folder(&folder).map_err(|e| VectorError::io(&folder, e))?;
    Ok(num_bytes)
}

/// Removes `path` if it exists, and flushes the removal to disk.
pub(crate) fn remove_if_present(path: &Path) -> Result<(), VectorError> {
    match std::fs::remove_file(path) {
        Ok(()) => sync_folder(&parent_folder(path)).map_err(|e| VectorError::io(path, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(VectorError::io(path, e)),
    }
}

fn parent_folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Returns a hidden name beside `path`, unique per process so that two processes
/// saving the same index do not write into one temporary file.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    parent_folder(path).join(format!(".{name}.tmp-{}", std::process::id()))
}

/// Flushes a folder's entries so a rename survives a power loss. Windows has no such
/// call for folders; there the rename is as durable as the file system makes it.
fn sync_folder(folder: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(folder)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = folder;
        Ok(())
    }
}
