//! The keyword index's error type. Every message is given in English and then in
//! Chinese, because the CLI and the app show these texts to users as they are.

use std::path::PathBuf;

/// Errors from building, changing and searching the keyword index.
#[derive(Debug, thiserror::Error)]
pub enum KeywordError {
    /// Tantivy failed on the index in `dir`.
    #[error(
        "The keyword index in {dir} failed while {operation}: {source}\n\
         关键词索引 {dir} 在{operation}时出错：{source}"
    )]
    Tantivy {
        /// The index folder.
        dir: PathBuf,
        /// What was being done, such as "committing".
        operation: &'static str,
        /// Tantivy's error.
        source: tantivy::TantivyError,
    },

    /// Another process has the index's writer lock.
    #[error(
        "Another Xunying process (such as `xunying watch`, `xunying serve` or the desktop app) is updating the keyword index in {dir}. Stop it first, or leave the work to it: it indexes changes by itself.\n\
         另一个寻影进程（如 `xunying watch`、`xunying serve` 或桌面应用）正在更新 {dir} 中的关键词索引。请先停止它，或交给它处理：它会自动索引变化。"
    )]
    Busy {
        /// The index folder.
        dir: PathBuf,
    },

    /// A rebuild was asked to clear a folder that holds more than an index.
    #[error(
        "Refusing to rebuild the keyword index in {dir}: it contains the folder {entry}, and an index folder never does. Give the index a folder of its own.\n\
         拒绝在 {dir} 中重建关键词索引：其中有子文件夹 {entry}，而索引文件夹不会有子文件夹。请为索引指定单独的文件夹。"
    )]
    NotIndexDir {
        /// The folder given for the index.
        dir: PathBuf,
        /// The subfolder found in it.
        entry: PathBuf,
    },

    /// Creating or clearing the index folder failed.
    #[error("Failed to prepare the keyword index folder {path}: {source}\n无法准备关键词索引文件夹 {path}：{source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
