//! The catalog's error type. Every message is given in English and then in Chinese,
//! because the CLI and the app show these texts to users as they are.

use std::path::PathBuf;

/// Errors from opening, migrating, reading and writing the catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// SQLite reported an error on the catalog database.
    #[error(
        "Catalog database {path} failed: {source}\n\
         目录数据库 {path} 出错：{source}"
    )]
    Database {
        /// The catalog file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },

    /// The file is a SQLite database of another application.
    #[error(
        "{path} is not a Xunying catalog (SQLite application id {application_id:#010x}). Choose another data directory or move the file away.\n\
         {path} 不是寻影目录数据库（SQLite 应用 ID {application_id:#010x}）。请选择其他数据目录或移走该文件。"
    )]
    NotACatalog {
        /// The database file.
        path: PathBuf,
        /// The application id found in the file header.
        application_id: i32,
    },

    /// The catalog was written by a newer Xunying whose schema this build cannot read.
    #[error(
        "Catalog {path} has schema version {found}, newer than the {supported} this build supports. Update Xunying.\n\
         目录 {path} 的结构版本为 {found}，高于本程序支持的 {supported}。请更新寻影。"
    )]
    SchemaTooNew {
        /// The catalog file.
        path: PathBuf,
        /// The version recorded in the file.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },

    /// A read-only open found a catalog that still needs a migration, which only a writer can run.
    #[error(
        "Catalog {path} has schema version {found} but this build reads version {expected}. Open it once for writing (start the indexer) to migrate it.\n\
         目录 {path} 的结构版本为 {found}，本程序读取版本 {expected}。请先以可写方式打开一次（启动索引程序）以完成迁移。"
    )]
    NeedsMigration {
        /// The catalog file.
        path: PathBuf,
        /// The version recorded in the file.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },

    /// A schema migration failed; the catalog is left at the previous version.
    #[error(
        "Failed to migrate catalog {path} to schema version {version}: {source}\n\
         目录 {path} 迁移到结构版本 {version} 失败：{source}"
    )]
    Migration {
        /// The catalog file.
        path: PathBuf,
        /// The version the failed migration leads to.
        version: u32,
        /// The SQLite error.
        source: rusqlite::Error,
    },

    /// SQLite's integrity check found damage.
    #[error(
        "Catalog {path} is damaged: {detail}. Restore it from a backup, or delete it to rebuild the library from the photo folders.\n\
         目录 {path} 已损坏：{detail}。请从备份恢复，或删除该文件后从照片文件夹重建图库。"
    )]
    Corrupt {
        /// The catalog file.
        path: PathBuf,
        /// The first lines of the integrity check's report.
        detail: String,
    },

    /// A write was attempted on a catalog opened read-only.
    #[error(
        "Catalog {path} is open read-only and cannot be changed.\n\
         目录 {path} 以只读方式打开，无法修改。"
    )]
    ReadOnly {
        /// The catalog file.
        path: PathBuf,
    },

    /// A folder path is not valid UTF-8, which the catalog requires for stored paths.
    #[error(
        "Folder path {path} is not valid UTF-8 and cannot be stored in the catalog. Rename the folder.\n\
         文件夹路径 {path} 不是有效的 UTF-8，无法存入目录。请重命名该文件夹。"
    )]
    NonUtf8Path {
        /// The rejected path.
        path: PathBuf,
    },

    /// No folder has this id.
    #[error("Folder {folder_id} is not in the catalog.\n目录中没有文件夹 {folder_id}。")]
    FolderNotFound {
        /// The missing folder id.
        folder_id: i64,
    },

    /// No file row has this path.
    #[error("File {path} is not in the catalog.\n目录中没有文件 {path}。")]
    FileNotFound {
        /// The missing file path.
        path: String,
    },

    /// No content has this id or hash.
    #[error("Content {content} is not in the catalog.\n目录中没有内容 {content}。")]
    ContentNotFound {
        /// The content id or hash, as given.
        content: String,
    },

    /// A content or sample hash is not 64 lowercase hexadecimal digits.
    #[error(
        "Invalid hash {hash:?}: expected 64 lowercase hexadecimal digits (BLAKE3).\n\
         无效的哈希 {hash:?}：应为 64 位小写十六进制数字（BLAKE3）。"
    )]
    InvalidHash {
        /// The rejected value.
        hash: String,
    },

    /// An embedding belongs to another model than the catalog's active model.
    #[error(
        "Embedding of content {content} comes from model {found} but the catalog's active model is {expected}. Switch models with a full re-embedding instead of mixing them.\n\
         内容 {content} 的向量来自模型 {found}，而目录当前模型为 {expected}。请通过全部重新嵌入来切换模型，不要混用。"
    )]
    ModelMismatch {
        /// The content hash or id the embedding was written for.
        content: String,
        /// The active model, or `none` when no model is active.
        expected: String,
        /// The model of the rejected embedding.
        found: String,
    },

    /// An embedding to write has another dimension than the model's earlier embeddings.
    #[error(
        "Embedding of content {content} has {found} dimensions but model {model_id} has {expected}.\n\
         内容 {content} 的向量为 {found} 维，而模型 {model_id} 为 {expected} 维。"
    )]
    EmbeddingDimension {
        /// The content hash or id the embedding was written for.
        content: String,
        /// The embedding's model.
        model_id: String,
        /// The dimension recorded for the model.
        expected: usize,
        /// The dimension of the rejected embedding.
        found: usize,
    },

    /// A stored content embedding does not have the length its model requires.
    #[error(
        "Stored embedding of content {content_id} has {found_bytes} bytes but model {model_id} needs {expected_bytes}; the catalog is damaged. Re-embed the library.\n\
         内容 {content_id} 的已存向量为 {found_bytes} 字节，而模型 {model_id} 需要 {expected_bytes} 字节；目录已损坏。请重新嵌入图库。"
    )]
    ContentEmbeddingLength {
        /// The content whose embedding is damaged.
        content_id: i64,
        /// The embedding's model.
        model_id: String,
        /// The length the model's dimension requires.
        expected_bytes: usize,
        /// The stored length.
        found_bytes: usize,
    },

    /// A stored region embedding does not have the length its model requires.
    #[error(
        "Stored embedding of region {region_id} (content {content_id}) has {found_bytes} bytes but model {model_id} needs {expected_bytes}; the catalog is damaged. Re-embed the library.\n\
         区域 {region_id}（内容 {content_id}）的已存向量为 {found_bytes} 字节，而模型 {model_id} 需要 {expected_bytes} 字节；目录已损坏。请重新嵌入图库。"
    )]
    RegionEmbeddingLength {
        /// The region whose embedding is damaged.
        region_id: i64,
        /// The region's content.
        content_id: i64,
        /// The embedding's model.
        model_id: String,
        /// The length the model's dimension requires.
        expected_bytes: usize,
        /// The stored length.
        found_bytes: usize,
    },

    /// A stored or given value is outside what its column allows.
    #[error(
        "Invalid value {value:?} in {table}.{column} (row {row_id}).\n\
         {table}.{column}（第 {row_id} 行）中的值 {value:?} 无效。"
    )]
    InvalidValue {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The row id, or 0 for a value not yet stored.
        row_id: i64,
        /// The rejected value, for display.
        value: String,
    },
}

/// A failure inside the catalog before the catalog path is attached to SQLite errors.
#[derive(Debug)]
pub(crate) enum Fault {
    Sql(rusqlite::Error),
    Catalog(CatalogError),
}

impl Fault {
    /// Converts into the public error, naming `path` for SQLite errors.
    pub(crate) fn at(self, path: &std::path::Path) -> CatalogError {
        match self {
            Fault::Sql(source) => CatalogError::Database { path: path.to_path_buf(), source },
            Fault::Catalog(error) => error,
        }
    }
}

impl From<rusqlite::Error> for Fault {
    fn from(error: rusqlite::Error) -> Self {
        Fault::Sql(error)
    }
}

impl From<CatalogError> for Fault {
    fn from(error: CatalogError) -> Self {
        Fault::Catalog(error)
    }
}
