//! The error type of model management. Every message is given in English and then in
//! Chinese, because the CLI and the app show these texts to users as they are.

use std::path::PathBuf;

use crate::model::ModelError;

/// Errors from installing, listing, verifying, activating and removing model bundles.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    /// A bundle name is empty, too long, hidden, reserved, or contains characters other
    /// than letters, digits, `-`, `_` and `.`.
    #[error(
        "Invalid bundle name `{name}`: use up to 100 letters, digits, `-`, `_` and `.`, not starting with `.` and not `active`.\n\
         模型包名称 `{name}` 无效：最多 100 个字符，只能使用字母、数字、`-`、`_` 和 `.`，不能以 `.` 开头，也不能是 `active`。"
    )]
    InvalidName {
        /// The rejected name.
        name: String,
    },

    /// No installed bundle has this name.
    #[error(
        "No model bundle named `{name}` is installed in {models_dir}. Run `xunying models list` to see the installed ones.\n\
         {models_dir} 中没有名为 `{name}` 的模型包。请运行 `xunying models list` 查看已安装的模型包。"
    )]
    NotInstalled {
        /// The requested name.
        name: String,
        /// The folder of installed bundles.
        models_dir: PathBuf,
    },

    /// A bundle with the target name is already installed.
    #[error(
        "A model bundle named `{name}` is already installed at {dir}. Remove it first with `xunying models remove {name}`, or install under another name with `--name`.\n\
         名为 `{name}` 的模型包已安装在 {dir}。请先运行 `xunying models remove {name}` 删除它，或用 `--name` 换一个名称安装。"
    )]
    AlreadyInstalled {
        /// The bundle name.
        name: String,
        /// The installed bundle folder.
        dir: PathBuf,
    },

    /// No bundle is active and none was named.
    #[error(
        "No model bundle is active in {models_dir}. Name one, or activate one with `xunying models use NAME`.\n\
         {models_dir} 中没有启用的模型包。请指定名称，或用 `xunying models use 名称` 启用一个。"
    )]
    NoActiveBundle {
        /// The folder of installed bundles.
        models_dir: PathBuf,
    },

    /// Removing the active bundle was requested without `force`.
    #[error(
        "Model bundle `{name}` is the active one; removing it leaves Xunying without a model. Activate another with `xunying models use NAME`, or pass `--force`.\n\
         模型包 `{name}` 正在使用中，删除后寻影将没有可用的模型。请先用 `xunying models use 名称` 启用其他模型包，或加上 `--force`。"
    )]
    ActiveBundle {
        /// The bundle name.
        name: String,
    },

    /// The install source is neither an existing path, a URL nor a variant name.
    #[error(
        "Install source `{source_text}` was not found. Give a bundle folder, a .tar, .tar.gz or .zip archive, an http(s) URL, or a variant name ({variants}).\n\
         找不到安装来源 `{source_text}`。请提供模型包文件夹、.tar、.tar.gz 或 .zip 压缩文件、http(s) 网址，或型号名称（{variants}）。"
    )]
    SourceNotFound {
        /// The source as given.
        source_text: String,
        /// The known variant names, joined for display.
        variants: String,
    },

    /// `--sha256` was given for a source that is not an archive.
    #[error(
        "`--sha256` checks an archive, but {path} is a folder. Drop `--sha256`; the bundle's own checksums are checked in any case.\n\
         `--sha256` 用于校验压缩文件，而 {path} 是文件夹。请去掉 `--sha256`；模型包自身的校验和总会被检查。"
    )]
    Sha256ForFolder {
        /// The folder.
        path: PathBuf,
    },

    /// A SHA-256 value is not 64 hexadecimal digits.
    #[error(
        "Invalid SHA-256 `{value}`: expected 64 hexadecimal digits.\n\
         SHA-256 值 `{value}` 无效：应为 64 位十六进制数字。"
    )]
    InvalidSha256 {
        /// The value as given.
        value: String,
    },

    /// A file is not a tar, gzip-compressed tar or zip archive.
    #[error(
        "{path} is not a .tar, .tar.gz or .zip archive.\n\
         {path} 不是 .tar、.tar.gz 或 .zip 压缩文件。"
    )]
    UnknownArchive {
        /// The file.
        path: PathBuf,
    },

    /// An archive could not be read.
    #[error("Failed to read archive {path}: {reason}\n无法读取压缩文件 {path}：{reason}")]
    ArchiveRead {
        /// The archive file.
        path: PathBuf,
        /// What the reader reported.
        reason: String,
    },

    /// An archive entry could write outside the staging folder or is not a plain file.
    #[error(
        "Rejected archive {path}: entry `{entry}` {}. The archive is damaged or unsafe; nothing was installed.\n\
         已拒绝压缩文件 {path}：条目 `{entry}` {}。压缩文件已损坏或不安全，未安装任何内容。",
        .kind.english(), .kind.chinese()
    )]
    UnsafeEntry {
        /// The archive file.
        path: PathBuf,
        /// The entry's path as stored in the archive.
        entry: String,
        /// Why it is rejected.
        kind: UnsafeEntryKind,
    },

    /// Neither the unpacked archive nor its single top-level folder holds a manifest.
    #[error(
        "{source_text} holds no model bundle: `manifest.json` is neither at its top level nor in a single top-level folder.\n\
         {source_text} 中没有模型包：顶层及唯一的顶层文件夹中都没有 `manifest.json`。"
    )]
    NoBundleInArchive {
        /// The archive or URL.
        source_text: String,
    },

    /// A variant name was given but no model index is configured.
    #[error(
        "Cannot install `{variant}` by name: no model index is set ({env}), so Xunying cannot look up where to download it. To install without a network: download the bundle archive on another machine, copy it here, and run `xunying models install /path/to/{archive_name}`. To install by name, set {env} to the URL or path of a model index.\n\
         无法按名称安装 `{variant}`：未设置模型索引（{env}），寻影无法查到下载地址。离线安装方法：在另一台能联网的电脑上下载模型包压缩文件，复制到本机，然后运行 `xunying models install /path/to/{archive_name}`。如需按名称安装，请将 {env} 设为模型索引的网址或路径。"
    )]
    NoModelIndex {
        /// The requested variant.
        variant: String,
        /// The environment variable that sets the index.
        env: &'static str,
        /// A typical archive file name for the variant.
        archive_name: String,
    },

    /// The model index does not list the requested variant.
    #[error(
        "The model index {index} has no variant `{variant}`. It lists: {available}.\n\
         模型索引 {index} 中没有型号 `{variant}`。可用型号：{available}。"
    )]
    UnknownVariant {
        /// The requested variant.
        variant: String,
        /// The index location.
        index: String,
        /// The variants the index lists, joined for display.
        available: String,
    },

    /// The model index could not be read or parsed.
    #[error("Invalid model index {index}: {reason}\n模型索引 {index} 无效：{reason}")]
    InvalidIndex {
        /// The index location.
        index: String,
        /// What is wrong.
        reason: String,
    },

    /// The host could not be reached: no network, DNS failure, refused connection or timeout.
    #[error(
        "Could not reach {host} to download {url}: {reason}. To install without a network: download the bundle archive on another machine, copy it here, and run `xunying models install /path/to/{archive_name}`.\n\
         无法连接 {host}，下载 {url} 失败：{reason}。离线安装方法：在另一台能联网的电脑上下载模型包压缩文件，复制到本机，然后运行 `xunying models install /path/to/{archive_name}`。"
    )]
    Unreachable {
        /// The host and port.
        host: String,
        /// The URL.
        url: String,
        /// What the HTTP client reported.
        reason: String,
        /// The archive's file name, taken from the URL.
        archive_name: String,
    },

    /// The server answered, but not with the file.
    #[error("Download of {url} failed: {reason}\n下载 {url} 失败：{reason}")]
    DownloadFailed {
        /// The URL.
        url: String,
        /// The HTTP status or protocol error.
        reason: String,
    },

    /// The connection broke before the whole file arrived; the partial file is kept.
    #[error(
        "Download of {url} stopped after {received_bytes} of {expected_bytes} bytes: {reason}. Run the same command again to resume from {part_path}.\n\
         下载 {url} 在 {received_bytes}/{expected_bytes} 字节处中断：{reason}。再次运行同一命令即可从 {part_path} 继续下载。"
    )]
    DownloadInterrupted {
        /// The URL.
        url: String,
        /// Bytes in the partial file.
        received_bytes: u64,
        /// Bytes expected in all, or `unknown`.
        expected_bytes: String,
        /// What the HTTP client reported.
        reason: String,
        /// The partial file.
        part_path: PathBuf,
    },

    /// A downloaded or given archive does not have the expected SHA-256.
    #[error(
        "Archive {source_text} has SHA-256 {actual}, but {expected} was expected; it is damaged or not the published file. It was deleted; nothing was installed.\n\
         压缩文件 {source_text} 的 SHA-256 为 {actual}，应为 {expected}；文件已损坏或不是发布的文件。已删除该文件，未安装任何内容。"
    )]
    ArchiveChecksum {
        /// The archive file or URL.
        source_text: String,
        /// The expected lowercase hex digest.
        expected: String,
        /// The actual lowercase hex digest.
        actual: String,
    },

    /// The bundle loaded, but the smoke inference gave unusable embeddings.
    #[error(
        "Model bundle `{name}` failed its test run: {reason}. Reinstall it with `xunying models install`.\n\
         模型包 `{name}` 试运行失败：{reason}。请用 `xunying models install` 重新安装。"
    )]
    SmokeTest {
        /// The bundle name.
        name: String,
        /// What was wrong with the output.
        reason: String,
    },

    /// Loading, checking or running a bundle failed.
    #[error(transparent)]
    Model(#[from] ModelError),

    /// A file system operation failed.
    #[error("Failed to access {path}: {source}\n无法访问 {path}：{source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Why an archive entry is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsafeEntryKind {
    /// The path starts at the root or a drive.
    AbsolutePath,
    /// The path contains a `..` component.
    ParentDir,
    /// A symbolic or hard link.
    Link,
    /// A device, FIFO or another kind that is not a file or folder.
    Special,
    /// A second entry with the same path.
    Duplicate,
    /// The name is not valid UTF-8 or contains a NUL byte.
    BadName,
}

impl UnsafeEntryKind {
    fn english(self) -> &'static str {
        match self {
            UnsafeEntryKind::AbsolutePath => "has an absolute path",
            UnsafeEntryKind::ParentDir => "has a `..` component that leads out of the install folder",
            UnsafeEntryKind::Link => "is a link, which a bundle never contains",
            UnsafeEntryKind::Special => "is not a regular file or folder",
            UnsafeEntryKind::Duplicate => "appears twice",
            UnsafeEntryKind::BadName => "has a name that is not valid UTF-8 text",
        }
    }

    fn chinese(self) -> &'static str {
        match self {
            UnsafeEntryKind::AbsolutePath => "使用了绝对路径",
            UnsafeEntryKind::ParentDir => "含有 `..`，会写到安装文件夹之外",
            UnsafeEntryKind::Link => "是链接，模型包中不应有链接",
            UnsafeEntryKind::Special => "不是普通文件或文件夹",
            UnsafeEntryKind::Duplicate => "重复出现",
            UnsafeEntryKind::BadName => "的名称不是有效的 UTF-8 文本",
        }
    }
}

impl ModelsError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelsError::Io { path: path.into(), source }
    }
}
