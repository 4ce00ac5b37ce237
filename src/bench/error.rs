//! Errors of the benchmarks.

use std::path::PathBuf;

use crate::imaging::ImagingError;
use crate::library::LibraryError;
use crate::model::ModelError;
use crate::vectors::VectorError;

/// The reason a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The library failed.
    #[error(transparent)]
    Library(#[from] LibraryError),
    /// The model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A vector index failed.
    #[error(transparent)]
    Vectors(#[from] VectorError),
    /// Reading or writing the benchmark's catalog failed.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    /// A photo failed to decode.
    #[error(transparent)]
    Imaging(#[from] ImagingError),
    /// A file or folder could not be read or written.
    #[error("Failed to access {path}: {source}\n无法访问 {path}：{source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A generated photo could not be encoded.
    #[error("Failed to write the generated photo {path}: {reason}\n无法写入生成的照片 {path}：{reason}")]
    Generate {
        /// The photo file.
        path: PathBuf,
        /// The encoder's message.
        reason: String,
    },
    /// The options leave nothing to measure.
    #[error("Invalid benchmark options: {en}\n基准测试参数无效：{zh}")]
    InvalidOptions {
        /// The problem, in English.
        en: String,
        /// The same in Chinese.
        zh: String,
    },
    /// The files a benchmark wrote or kept do not read back as written.
    #[error("{en}\n{zh}")]
    Inconsistent {
        /// The problem and the fix, in English.
        en: String,
        /// The same in Chinese.
        zh: String,
    },
    /// No photo could be read from the given folders.
    #[error("No readable photo was found in {0}. Pass a folder of photos with --photos or generate some with --generate.\n在 {0} 中没有找到可读取的照片。请用 --photos 指定照片文件夹，或用 --generate 生成照片。")]
    NoPhotos(String),
}

impl BenchError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BenchError::Io { path: path.into(), source }
    }

    pub(crate) fn invalid(en: impl Into<String>, zh: impl Into<String>) -> Self {
        BenchError::InvalidOptions { en: en.into(), zh: zh.into() }
    }

    pub(crate) fn inconsistent(en: impl Into<String>, zh: impl Into<String>) -> Self {
        BenchError::Inconsistent { en: en.into(), zh: zh.into() }
    }
}
