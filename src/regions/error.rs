//! The region proposer's error type. Every message is given in English and then in
//! Chinese, because the CLI and the app show these texts to users as they are.

use std::path::PathBuf;

use crate::model::ModelError;

/// Errors from configuring the proposer, loading or running an object detector, and
/// reading a dense feature map.
#[derive(Debug, thiserror::Error)]
pub enum RegionError {
    /// A setting has a value the proposer cannot use.
    #[error(
        "Invalid region setting `{field}`: {reason}\n\
         区域设置 `{field}` 无效：{reason}"
    )]
    InvalidConfig {
        /// The setting, such as `detector.input_size`.
        field: &'static str,
        /// Why the value is rejected.
        reason: String,
    },

    /// The configured detector graph file does not exist.
    #[error(
        "Object detector graph not found: {path}. Fix the detector path in the settings or remove the detector.\n\
         未找到目标检测模型：{path}。请在设置中更正检测模型路径，或移除检测模型。"
    )]
    DetectorNotFound {
        /// The graph file.
        path: PathBuf,
    },

    /// ONNX Runtime could not be loaded or could not open the detector graph.
    #[error(
        "Failed to open the object detector {path}: {source}\n\
         无法打开目标检测模型 {path}：{source}"
    )]
    DetectorLoad {
        /// The graph file.
        path: PathBuf,
        /// What the model layer reported.
        source: ModelError,
    },

    /// The detector graph's input is not an image tensor the proposer can fill.
    #[error(
        "Object detector {path} has an unsupported input: {reason}\n\
         目标检测模型 {path} 的输入不受支持：{reason}"
    )]
    DetectorInput {
        /// The graph file.
        path: PathBuf,
        /// What is wrong with the input.
        reason: String,
    },

    /// The detector returned (or declares) an output that does not fit its layout.
    #[error(
        "Object detector {path} output `{output}` has shape {shape:?}; the {layout} layout expects {expected}.\n\
         目标检测模型 {path} 的输出 `{output}` 形状为 {shape:?}，{layout} 格式应为 {expected}。"
    )]
    DetectorOutput {
        /// The graph file.
        path: PathBuf,
        /// The output name.
        output: String,
        /// The shape found (empty when the output is missing).
        shape: Vec<i64>,
        /// The configured layout, `yolo` or `detr`.
        layout: &'static str,
        /// The shape expected, for display.
        expected: String,
    },

    /// ONNX Runtime failed while running the detector.
    #[error(
        "Object detector {path} failed while {context}: {source}\n\
         目标检测模型 {path} 在{context}时出错：{source}"
    )]
    DetectorRun {
        /// The graph file.
        path: PathBuf,
        /// What was being done.
        context: &'static str,
        /// The runtime's error.
        source: ort::Error,
    },

    /// The dense feature map's sizes do not agree with each other.
    #[error(
        "Invalid dense feature map: {rows}×{cols} patches of width {dim} for a {width}×{height} image need {expected} values, found {found}.\n\
         稠密特征图无效：{width}×{height} 图像的 {rows}×{cols} 个图块、宽度 {dim}，应有 {expected} 个数值，实际为 {found} 个。"
    )]
    InvalidDenseMap {
        /// Patch rows.
        rows: usize,
        /// Patch columns.
        cols: usize,
        /// Feature width.
        dim: usize,
        /// Image width in pixels.
        width: u32,
        /// Image height in pixels.
        height: u32,
        /// Values the sizes call for (0 when a size is zero).
        expected: usize,
        /// Values present.
        found: usize,
    },

    /// The image and the dense map describe images of different sizes.
    #[error(
        "The image is {image_width}×{image_height} but its dense feature map was computed for {map_width}×{map_height}.\n\
         图像尺寸为 {image_width}×{image_height}，但其稠密特征图对应的尺寸为 {map_width}×{map_height}。"
    )]
    ImageSizeMismatch {
        /// Image width in pixels.
        image_width: u32,
        /// Image height in pixels.
        image_height: u32,
        /// Width recorded in the map.
        map_width: u32,
        /// Height recorded in the map.
        map_height: u32,
    },

    /// The image has no pixels.
    #[error("The image has no pixels ({width}×{height}).\n图像没有像素（{width}×{height}）。")]
    EmptyImage {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
}
