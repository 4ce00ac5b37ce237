//! File names inside the data directory. Only the catalog must survive; everything else
//! here is rebuilt from it when missing or damaged.

use std::path::{Path, PathBuf};

/// Layout of one data directory.
#[derive(Debug, Clone)]
pub struct DataPaths {
    /// The data directory.
    pub root: PathBuf,
}

impl DataPaths {
    /// Layout under `root`.
    pub fn new(root: &Path) -> Self {
        DataPaths { root: root.to_path_buf() }
    }

    /// The SQLite catalog.
    pub fn catalog(&self) -> PathBuf {
        self.root.join("catalog.sqlite")
    }

    /// The whole-photo vector index.
    pub fn photo_vectors(&self) -> PathBuf {
        self.root.join("vectors").join("photos.usearch")
    }

    /// The region vector index.
    pub fn region_vectors(&self) -> PathBuf {
        self.root.join("vectors").join("regions.usearch")
    }

    /// The keyword index folder.
    pub fn keywords(&self) -> PathBuf {
        self.root.join("keywords")
    }

    /// Thumbnail of a content hash at a long-edge size.
    pub fn thumbnail(&self, hash: &str, edge_px: u32) -> PathBuf {
        let prefix = hash.get(..2).unwrap_or("00");
        self.root.join("thumbs").join(prefix).join(format!("{hash}-{edge_px}.jpg"))
    }
}
