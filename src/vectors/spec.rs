//! What an index file must match to be used: the embedding space, the scalar kind
//! and the HNSW parameters, and the JSON header written beside the index file.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The `format` value of every header, so a stray JSON file is not taken for one.
pub(crate) const HEADER_FORMAT: &str = "xunying-vector-index";

/// The header layout version. Bump it when a field changes meaning; an index with
/// another version is rebuilt.
pub const HEADER_FORMAT_VERSION: u32 = 1;

/// The scalar type each stored vector component is quantised to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VectorKind {
    /// IEEE half precision: 2 bytes per component, cosine error around 1e-3.
    F16,
    /// Signed 8-bit integers, each vector scaled so its largest component is ±127:
    /// 1 byte per component.
    I8,
    /// Full precision: 4 bytes per component.
    F32,
}

impl VectorKind {
    /// Returns the lower-case name used in headers and logs.
    pub fn name(self) -> &'static str {
        match self {
            VectorKind::F16 => "f16",
            VectorKind::I8 => "i8",
            VectorKind::F32 => "f32",
        }
    }

    /// Returns the bytes one component takes in the index.
    pub fn num_bytes(self) -> usize {
        match self {
            VectorKind::F16 => 2,
            VectorKind::I8 => 1,
            VectorKind::F32 => 4,
        }
    }

    pub(crate) fn scalar_kind(self) -> usearch::ScalarKind {
        match self {
            VectorKind::F16 => usearch::ScalarKind::F16,
            VectorKind::I8 => usearch::ScalarKind::I8,
            VectorKind::F32 => usearch::ScalarKind::F32,
        }
    }
}

impl fmt::Display for VectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// HNSW graph parameters. Connectivity is fixed when the graph is built; the
/// expansion factors only change speed and recall and may differ between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswParams {
    /// Neighbours kept per node on the upper levels (twice this on the base level).
    pub connectivity: usize,
    /// Candidate list size while inserting: higher builds a better graph, slower.
    pub expansion_add: usize,
    /// Candidate list size while searching: higher raises recall, slower.
    pub expansion_search: usize,
}

impl Default for HnswParams {
    /// Returns connectivity 24, expansion 128 on insert and 512 on search, chosen with
    /// `xunying bench query` on 100,000 photos and 1,000,000 regions of clustered
    /// 768-dimensional i8 vectors. Connectivity 24 instead of 16 raised the region recall@10
    /// after rescoring 200 candidates from 0.808 to 0.936 at expansion 128, for 980
    /// instead of 916 bytes per vector in the file. Search expansion 512 then raised it
    /// to 0.991 (0.955 at 128), and the whole search with its catalog reads took 12.6 ms
    /// at p99 on 2 cores (10.0 ms at 128). Only the search expansion can change without
    /// rebuilding a graph.
    fn default() -> Self {
        HnswParams { connectivity: 24, expansion_add: 128, expansion_search: 512 }
    }
}

/// What an index must have been built for: the embedding space, its dimension and
/// the stored scalar kind. An index whose header differs is rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    /// The model bundle's `model_id`; vectors of different models are never mixed.
    pub model_id: String,
    /// Components per vector.
    pub dim: usize,
    /// The stored scalar kind.
    pub kind: VectorKind,
    /// Graph parameters used when building and searching.
    pub hnsw: HnswParams,
}

impl IndexSpec {
    /// Returns a spec with f16 storage and the default HNSW parameters.
    pub fn new(model_id: impl Into<String>, dim: usize) -> Self {
        IndexSpec { model_id: model_id.into(), dim, kind: VectorKind::F16, hnsw: HnswParams::default() }
    }

    /// Returns this spec with another scalar kind.
    pub fn with_kind(mut self, kind: VectorKind) -> Self {
        self.kind = kind;
        self
    }

    /// Returns this spec with other HNSW parameters.
    pub fn with_hnsw(mut self, hnsw: HnswParams) -> Self {
        self.hnsw = hnsw;
        self
    }
}

/// The JSON header written beside an index file, recording what the file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Header {
    pub format: String,
    pub format_version: u32,
    pub model_id: String,
    pub dim: usize,
    pub kind: VectorKind,
    pub connectivity: usize,
    /// Vectors present in the index file.
    pub count: usize,
    /// The catalog generation the index reflects.
    pub generation: u64,
    /// The index file's size, so a truncated or swapped file is caught before usearch
    /// reads it.
    pub file_bytes: u64,
    /// The usearch version that wrote the file, for diagnosis only.
    pub usearch_version: String,
}

/// Returns the header path for an index file: the file name with `.json` appended,
/// such as `photos.usearch.json` for `photos.usearch`.
pub fn header_path(index_path: &Path) -> PathBuf {
    let mut name = index_path.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}
