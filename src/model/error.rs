//! The model's error type. Every message is given in English and then in Chinese,
//! because the CLI and the app show these texts to users as they are.

use std::path::PathBuf;

/// Errors from loading the runtime or a bundle, and from running the encoders.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// No ONNX Runtime shared library was found in any of the searched places.
    #[error(
        "ONNX Runtime was not found. Searched: {searched}. Run `npm ci` in the Xunying folder to install the `onnxruntime-node` package, or set {env} to the path of libonnxruntime.\n\
         未找到 ONNX Runtime。已查找：{searched}。请在寻影目录中运行 `npm ci` 安装 `onnxruntime-node`，或将 {env} 设为 libonnxruntime 的路径。"
    )]
    RuntimeNotFound {
        /// The places that were searched, joined for display.
        searched: String,
        /// The environment variable that overrides the search.
        env: &'static str,
    },

    /// The runtime library exists but could not be loaded.
    #[error(
        "Failed to load ONNX Runtime from {path}: {reason}\n\
         无法从 {path} 加载 ONNX Runtime：{reason}"
    )]
    RuntimeLoad {
        /// The library file.
        path: PathBuf,
        /// What the loader reported.
        reason: String,
    },

    /// The model bundle folder does not exist, or is not a bundle (no manifest).
    #[error(
        "{dir} is not a model bundle: it has no manifest.json, or the folder does not exist. Pass the folder that contains manifest.json, or install a model with `xunying models install`.\n\
         {dir} 不是模型包：其中没有 manifest.json，或文件夹不存在。请指定含有 manifest.json 的文件夹，或用 `xunying models install` 安装模型。"
    )]
    NotABundle {
        /// The folder given as the bundle.
        dir: PathBuf,
    },

    /// A file the manifest names is missing from the bundle folder.
    #[error(
        "Model bundle file is missing: {path}. Reinstall the model with `xunying models install`.\n\
         模型包缺少文件：{path}。请用 `xunying models install` 重新安装模型。"
    )]
    MissingFile {
        /// The missing file.
        path: PathBuf,
    },

    /// The manifest could not be read or is not valid JSON of the expected shape.
    #[error(
        "Invalid model manifest {path}: {reason}\n\
         模型清单 {path} 无效：{reason}"
    )]
    ManifestParse {
        /// The manifest file.
        path: PathBuf,
        /// The parser's message, which names the field and line.
        reason: String,
    },

    /// A manifest field has a value the host cannot use.
    #[error(
        "Invalid model manifest {path}: field `{field}` {reason}\n\
         模型清单 {path} 无效：字段 `{field}` {reason}"
    )]
    ManifestField {
        /// The manifest file.
        path: PathBuf,
        /// The dotted path of the field, such as `vision.patch_size`.
        field: String,
        /// Why the value is rejected.
        reason: String,
    },

    /// A bundle file does not have the size the manifest records.
    #[error(
        "Model bundle file {path} has {actual_bytes} bytes but the manifest records {expected_bytes}; the file is damaged or from another bundle.\n\
         模型包文件 {path} 大小为 {actual_bytes} 字节，清单记录为 {expected_bytes} 字节；文件已损坏或来自其他模型包。"
    )]
    FileSize {
        /// The file.
        path: PathBuf,
        /// Size recorded in the manifest.
        expected_bytes: u64,
        /// Size on disk.
        actual_bytes: u64,
    },

    /// A bundle file's SHA-256 does not match the manifest.
    #[error(
        "Model bundle file {path} fails its checksum; the file is damaged.\n\
         模型包文件 {path} 校验和不符，文件已损坏。"
    )]
    Checksum {
        /// The file.
        path: PathBuf,
    },

    /// Reading a bundle file failed.
    #[error("Failed to read {path}: {source}\n无法读取 {path}：{source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// The tokenizer file could not be loaded or failed on a text.
    #[error("Tokenizer failed ({path}): {reason}\n分词器出错（{path}）：{reason}")]
    Tokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// The tokenizer's message.
        reason: String,
    },

    /// The query text is empty after trimming.
    #[error("The text is empty. Type a description such as \"a red circle\".\n文本为空。请输入描述，例如“红色的圆形”。")]
    EmptyText,

    /// The image has no pixels.
    #[error("The image has no pixels ({width}×{height}).\n图像没有像素（{width}×{height}）。")]
    EmptyImage {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },

    /// Patches given in place of an image do not fit its grid, the patch size or the
    /// requested token count.
    #[error("Invalid image patches: {reason}\n图像块无效：{reason}")]
    InvalidPatches {
        /// The mismatch, with the sizes involved.
        reason: String,
    },

    /// A region box is empty, inverted or not finite.
    #[error("Invalid region box {region_box:?}: {reason}\n区域框 {region_box:?} 无效：{reason}")]
    InvalidBox {
        /// The box as given, `[x0, y0, x1, y1]`.
        region_box: [f32; 4],
        /// Why it is rejected.
        reason: &'static str,
    },

    /// An explicitly requested execution provider is not compiled into this build.
    #[error(
        "The {device} device is not available in this build of Xunying, which was compiled without the `{device}` feature. Choose `--device auto` or `--device cpu`, or build with `--features {device}`.\n\
         此版本的寻影编译时未启用 `{device}` 功能，无法使用 {device} 设备。请改用 `--device auto` 或 `--device cpu`，或用 `--features {device}` 重新编译。"
    )]
    DeviceNotCompiled {
        /// The device name, such as `cuda`.
        device: String,
    },

    /// An explicitly requested execution provider cannot be used.
    #[error(
        "The {device} device cannot be used: {reason}. Choose `--device auto` or `--device cpu`.\n\
         无法使用 {device} 设备：{reason}。请改用 `--device auto` 或 `--device cpu`。"
    )]
    DeviceUnavailable {
        /// The requested device.
        device: String,
        /// Why it cannot be used.
        reason: String,
    },

    /// An unknown device name was given.
    #[error(
        "Unknown device `{0}`. Use one of: auto, cpu, cuda, tensorrt, directml, coreml.\n\
         未知设备 `{0}`。可选：auto、cpu、cuda、tensorrt、directml、coreml。"
    )]
    UnknownDevice(String),

    /// ONNX Runtime could not open a graph file of the bundle on the CPU.
    #[error(
        "Cannot open the model graph {graph}: {source}\nThe bundle is damaged or incomplete. Run `xunying models verify` to check it, or install it again.\n\
         无法打开模型计算图 {graph}：{source}\n模型包已损坏或不完整。请运行 `xunying models verify` 检查，或重新安装。"
    )]
    GraphOpen {
        /// The graph file.
        graph: PathBuf,
        /// The runtime's error.
        source: ort::Error,
    },

    /// ONNX Runtime failed while creating a session or running a graph.
    #[error("ONNX Runtime failed while {context}: {source}\nONNX Runtime 出错（{context}）：{source}")]
    Ort {
        /// What was being done, such as "running vision.onnx".
        context: String,
        /// The runtime's error.
        source: ort::Error,
    },

    /// A graph returned an output of an unexpected shape.
    #[error(
        "Graph {graph} returned `{output}` with shape {shape:?}; expected {expected}. The bundle does not match its manifest.\n\
         计算图 {graph} 的输出 `{output}` 形状为 {shape:?}，应为 {expected}。模型包与清单不符。"
    )]
    OutputShape {
        /// The graph file.
        graph: String,
        /// The output name.
        output: String,
        /// The shape returned.
        shape: Vec<i64>,
        /// The shape expected, for display.
        expected: String,
    },
}

impl ModelError {
    pub(crate) fn ort(context: impl Into<String>, source: ort::Error) -> Self {
        ModelError::Ort { context: context.into(), source }
    }

    pub(crate) fn field(path: &std::path::Path, field: &str, reason: impl Into<String>) -> Self {
        ModelError::ManifestField {
            path: path.to_path_buf(),
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}
