//! The published model index: a JSON object mapping each variant name to the archive
//! that holds it, `{"base": {"url": "...", "sha256": "...", "bytes": 123}}`. The index
//! itself is a URL or a local file; an entry's `url` may be relative to it, so a copied
//! folder of index and archives works offline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::download::{fetch_text, is_url};
use super::ModelsError;

/// One variant in the index.
#[derive(Debug, Clone, Deserialize)]
pub struct IndexEntry {
    /// Archive URL, absolute path, or path relative to the index.
    pub url: String,
    /// Lowercase hex SHA-256 of the archive.
    pub sha256: String,
    /// Archive size in bytes, when the index records it.
    #[serde(default)]
    pub bytes: Option<u64>,
}

/// Where an archive is fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArchiveLocation {
    /// Downloaded over HTTP(S).
    Url(String),
    /// Read from this machine.
    File(PathBuf),
}

/// A variant resolved through the index.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedVariant {
    pub location: ArchiveLocation,
    pub sha256: String,
    pub bytes: Option<u64>,
}

/// Looks `variant` up in the index at `index` (a URL or a local path).
pub(crate) fn resolve_variant(index: &str, variant: &str) -> Result<ResolvedVariant, ModelsError> {
    let entries = read_index(index)?;
    let Some(entry) = entries.get(variant) else {
        let available = entries.keys().cloned().collect::<Vec<_>>().join(", ");
        return Err(ModelsError::UnknownVariant { variant: variant.to_string(), index: index.to_string(), available });
    };
    tracing::debug!(variant, index, url = %entry.url, "resolved variant through the model index");
    Ok(ResolvedVariant { location: resolve_location(index, &entry.url), sha256: entry.sha256.clone(), bytes: entry.bytes })
}

fn read_index(index: &str) -> Result<BTreeMap<String, IndexEntry>, ModelsError> {
    let text = if is_url(index) {
        fetch_text(index)?
    } else {
        std::fs::read_to_string(index).map_err(|e| ModelsError::InvalidIndex { index: index.to_string(), reason: e.to_string() })?
    };
    serde_json::from_str(&text).map_err(|e| ModelsError::InvalidIndex { index: index.to_string(), reason: e.to_string() })
}

/// Resolves an entry's `url` against the index location.
fn resolve_location(index: &str, entry_url: &str) -> ArchiveLocation {
    if is_url(entry_url) {
        return ArchiveLocation::Url(entry_url.to_string());
    }
    if is_url(index) {
        return ArchiveLocation::Url(join_url(index, entry_url));
    }
    let path = Path::new(entry_url);
    if path.is_absolute() {
        return ArchiveLocation::File(path.to_path_buf());
    }
    let base = Path::new(index).parent().unwrap_or(Path::new(""));
    ArchiveLocation::File(base.join(path))
}

/// Joins a relative reference to a base URL: `/x` replaces the path, anything else
/// replaces the last path segment.
fn join_url(base: &str, reference: &str) -> String {
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if let Some(absolute_path) = reference.strip_prefix('/') {
        return format!("{scheme}://{authority}/{absolute_path}");
    }
    let path = rest[authority_end..].split(['?', '#']).next().unwrap_or("");
    let folder = match path.rfind('/') {
        Some(slash) => &path[..=slash],
        None => "/",
    };
    format!("{scheme}://{authority}{folder}{reference}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_entries_follow_the_index() {
        assert_eq!(
            resolve_location("https://example.org/models/index.json", "fg-clip2-base.tar.gz"),
            ArchiveLocation::Url("https://example.org/models/fg-clip2-base.tar.gz".into())
        );
        assert_eq!(
            resolve_location("https://example.org/models/index.json?v=2", "/b/x.zip"),
            ArchiveLocation::Url("https://example.org/b/x.zip".into())
        );
        assert_eq!(resolve_location("http://h:8/index.json", "https://c.example/a.tar"), ArchiveLocation::Url("https://c.example/a.tar".into()));
        assert_eq!(resolve_location("/media/usb/index.json", "base.tar.gz"), ArchiveLocation::File("/media/usb/base.tar.gz".into()));
        assert_eq!(resolve_location("/media/usb/index.json", "/srv/base.tar.gz"), ArchiveLocation::File("/srv/base.tar.gz".into()));
    }
}
