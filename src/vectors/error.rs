//! The vector index's error type. Every message is given in English and then in
//! Chinese, because the CLI and the app show these texts to users as they are.

use std::path::PathBuf;

/// Errors from building, changing, saving and searching a vector index.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// A vector given for a key does not have the index's dimension.
    #[error(
        "The vector for key {key} has {actual_len} values but the index expects {expected_dim}; it was not added.\n\
         键 {key} 的向量有 {actual_len} 个值，索引要求 {expected_dim} 个；未添加。"
    )]
    WrongLength {
        /// The key of the rejected vector.
        key: u64,
        /// The index's dimension.
        expected_dim: usize,
        /// The length of the vector given.
        actual_len: usize,
    },

    /// A query vector does not have the index's dimension.
    #[error(
        "The query vector has {actual_len} values but the index expects {expected_dim}. The query was embedded by another model.\n\
         查询向量有 {actual_len} 个值，索引要求 {expected_dim} 个。查询来自其他模型。"
    )]
    QueryLength {
        /// The index's dimension.
        expected_dim: usize,
        /// The length of the query given.
        actual_len: usize,
    },

    /// A vector contains NaN or an infinity.
    #[error(
        "The vector for key {key} contains NaN or infinite values; it was not added.\n\
         键 {key} 的向量含有 NaN 或无穷大；未添加。"
    )]
    NonFinite {
        /// The key of the rejected vector.
        key: u64,
    },

    /// A query vector contains NaN or an infinity.
    #[error(
        "The query vector contains NaN or infinite values.\n\
         查询向量含有 NaN 或无穷大。"
    )]
    NonFiniteQuery,

    /// The index specification cannot describe a usable index.
    #[error("Invalid vector index settings: {reason}\n向量索引设置无效：{reason}")]
    InvalidSpec {
        /// Which setting is wrong and why.
        reason: String,
    },

    /// A change was requested on an index opened as a read-only memory map.
    #[error(
        "The vector index {path} is opened read-only (memory-mapped) and cannot be changed. Open it with `VectorIndex::open` to change it.\n\
         向量索引 {path} 以只读（内存映射）方式打开，无法修改。请用 `VectorIndex::open` 打开后再修改。"
    )]
    ReadOnly {
        /// The index file.
        path: PathBuf,
    },

    /// The usearch library reported a failure.
    #[error(
        "The vector index failed while {operation}: {detail}\n\
         向量索引在{operation}时出错：{detail}"
    )]
    Usearch {
        /// What was being done, such as "saving /data/vectors/photos.usearch".
        operation: String,
        /// The library's message.
        detail: String,
    },

    /// Reading or writing an index file or its header failed.
    #[error("Failed to write {path}: {source}\n无法写入 {path}：{source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl VectorError {
    /// Wraps a usearch failure; `error` is usearch's `cxx::Exception`, taken by its
    /// `Display` so this crate needs no direct `cxx` dependency.
    pub(crate) fn usearch(operation: impl Into<String>, error: impl std::fmt::Display) -> Self {
        VectorError::Usearch { operation: operation.into(), detail: error.to_string() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        VectorError::Io { path: path.into(), source }
    }
}
