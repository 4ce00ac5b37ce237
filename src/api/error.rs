//! The API's error type. Each variant maps to a stable [`ApiErrorKind`], which the UI
//! and the HTTP status codes key on. Messages are English, then Chinese on a new line.

use std::path::PathBuf;

use super::types::{ApiErrorBody, ApiErrorKind, PhotoId};
use crate::library::LibraryError;
use crate::models::ModelsError;
use crate::search::SearchError;

/// Errors of API calls.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No photo has this id.
    #[error("Photo {0} not found.\n找不到照片 {0}。")]
    PhotoNotFound(PhotoId),
    /// The photo is in the catalog but its file cannot be served.
    #[error("The file of photo {id} is unavailable: {path}\n照片 {id} 的文件不可用：{path}")]
    PhotoUnavailable {
        /// The photo.
        id: PhotoId,
        /// Its catalogued path.
        path: String,
    },
    /// The folder is not a library folder.
    #[error("{0} is not a library folder.\n{0} 不是图库文件夹。")]
    FolderNotInLibrary(String),
    /// The folder does not exist or is not a folder.
    #[error("Folder not found: {0}\n找不到文件夹：{0}")]
    FolderNotFound(String),
    /// A folder path is not absolute.
    #[error("Give the folder as an absolute path, not `{0}`.\n请提供文件夹的绝对路径，而不是 `{0}`。")]
    RelativePath(String),
    /// The request is invalid; the text gives the reason in English and in Chinese.
    #[error("{0}")]
    InvalidInput(String),
    /// The request body is not JSON of the expected shape; the text is the parser's.
    #[error("The request body is not valid JSON for this call: {0}\n请求体不是此调用所需的有效 JSON：{0}")]
    InvalidBody(String),
    /// A model install is already running.
    #[error("A model is already being installed. Wait for it to finish.\n已有模型正在安装，请等待其完成。")]
    InstallRunning,
    /// The settings file cannot be written.
    #[error("Failed to save settings to {path}: {source}\n无法将设置保存到 {path}：{source}")]
    SaveSettings {
        /// The settings file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The uploaded example photo cannot be stored for the search.
    #[error("Failed to store the example photo in {path}: {source}\n无法将示例照片存入 {path}：{source}")]
    StoreExample {
        /// The temporary folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A thumbnail could not be read or made.
    #[error("Failed to render photo {id}: {reason}\n无法渲染照片 {id}：{reason}")]
    Render {
        /// The photo.
        id: PhotoId,
        /// Why.
        reason: String,
    },
    /// The library failed.
    #[error(transparent)]
    Library(#[from] LibraryError),
    /// A search failed.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// Model management failed.
    #[error(transparent)]
    Models(#[from] ModelsError),
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
}

impl ApiError {
    /// Returns the stable kind the UI reacts to.
    pub fn kind(&self) -> ApiErrorKind {
        match self {
            ApiError::PhotoNotFound(_) | ApiError::PhotoUnavailable { .. } | ApiError::FolderNotInLibrary(_) | ApiError::FolderNotFound(_) => {
                ApiErrorKind::NotFound
            }
            ApiError::RelativePath(_) | ApiError::InvalidInput(_) | ApiError::InvalidBody(_) => ApiErrorKind::InvalidInput,
            ApiError::InstallRunning => ApiErrorKind::Busy,
            ApiError::Library(LibraryError::NoModel) | ApiError::Search(SearchError::Library(LibraryError::NoModel)) => ApiErrorKind::NoModel,
            ApiError::Library(LibraryError::FolderNotFound(_)) => ApiErrorKind::NotFound,
            ApiError::Library(LibraryError::NotAFolder(_)) => ApiErrorKind::InvalidInput,
            ApiError::Search(SearchError::EmptyQuery
                | SearchError::BadDate(_)
                | SearchError::EmptyDateRange { .. }
                | SearchError::FolderNotInLibrary(_)
                | SearchError::BadExample { .. }
                | SearchError::ExampleMissing(_)) => ApiErrorKind::InvalidInput,
            ApiError::Models(ModelsError::NotInstalled { .. } | ModelsError::NoActiveBundle { .. }) => ApiErrorKind::NotFound,
            ApiError::Models(error) if is_user_input(error) => ApiErrorKind::InvalidInput,
            _ => ApiErrorKind::Internal,
        }
    }

    /// Converts the error to the body the UI receives.
    pub fn body(&self) -> ApiErrorBody {
        ApiErrorBody { kind: self.kind(), message: self.to_string() }
    }
}

/// Returns whether a model-management error is about the user's request rather than a
/// failure of the machine.
fn is_user_input(error: &ModelsError) -> bool {
    matches!(
        error,
        ModelsError::InvalidName { .. }
            | ModelsError::AlreadyInstalled { .. }
            | ModelsError::ActiveBundle { .. }
            | ModelsError::SourceNotFound { .. }
            | ModelsError::Sha256ForFolder { .. }
            | ModelsError::InvalidSha256 { .. }
            | ModelsError::UnknownArchive { .. }
            | ModelsError::NoModelIndex { .. }
            | ModelsError::UnknownVariant { .. }
    )
}
