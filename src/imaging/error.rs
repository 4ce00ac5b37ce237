//! The imaging error type. Every message is given in English and then in Chinese,
//! because the catalog records these texts as the reason a photo was skipped and the app
//! shows them as they are.

use std::path::PathBuf;

/// Errors from probing, decoding and writing photos. Each variant carries the path of
/// the file, which is `<memory>` for `decode_bytes`.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    /// Reading or writing the file failed at the operating-system level.
    #[error(
        "Failed to read or write {path}: {source}\n\
         无法读写 {path}：{source}"
    )]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// The file has zero bytes.
    #[error(
        "{path} is empty (0 bytes).\n\
         {path} 是空文件（0 字节）。"
    )]
    Empty {
        /// The file.
        path: PathBuf,
    },

    /// The content does not start with the signature of any image format.
    #[error(
        "{path} is not an image: its content matches no known image format.\n\
         {path} 不是图片：文件内容不属于任何已知的图片格式。"
    )]
    NotAnImage {
        /// The file.
        path: PathBuf,
    },

    /// The content is an image format this build cannot decode.
    #[error(
        "{path} is in a format this build cannot decode: {format}.\n\
         此版本无法解码 {path} 的格式：{format}。"
    )]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The format, with the reason it is not decoded.
        format: String,
    },

    /// The header declares more pixels than the configured limit, or decoding would
    /// allocate more than the configured number of bytes.
    #[error(
        "{path} is too large: {width} × {height} pixels exceeds the limit of {limit_pixels} pixels or its memory budget.\n\
         {path} 过大：{width} × {height} 像素，超过 {limit_pixels} 像素的上限或内存预算。"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Stored width from the header, in pixels.
        width: u32,
        /// Stored height from the header, in pixels.
        height: u32,
        /// The configured `max_pixels`.
        limit_pixels: u64,
    },

    /// A JPEG whose data stops before its end-of-image marker, as when a copy or a
    /// download was cut off. Decoders fill the missing part with grey, so it is refused.
    #[error(
        "{path} is cut short: the file ends before its image data does, so only part of the picture is there. Copy it again from the camera or a backup.\n\
         {path} 不完整：文件在图像数据结束前就中断了，只有部分画面。请从相机或备份重新复制。"
    )]
    Truncated {
        /// The file.
        path: PathBuf,
    },

    /// The file claims a supported format but its data is damaged or truncated.
    #[error(
        "{path} is damaged and cannot be decoded: {reason}\n\
         {path} 已损坏，无法解码：{reason}"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },

    /// The decoder panicked. The panic was caught, so only this photo failed.
    #[error(
        "The decoder crashed on {path}: {message}\n\
         解码器在处理 {path} 时崩溃：{message}"
    )]
    DecoderPanicked {
        /// The file.
        path: PathBuf,
        /// The panic payload, when it is a string.
        message: String,
    },
}

impl ImagingError {
    /// Returns whether retrying the same unchanged file would fail again.
    ///
    /// Every variant is permanent except `Io`: a file that is missing, locked or still
    /// being written may read fine on the next scan.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, ImagingError::Io { .. })
    }

    /// Returns a stable short name of the variant, for grouping failures in counts and
    /// logs.
    pub fn kind(&self) -> &'static str {
        match self {
            ImagingError::Io { .. } => "io",
            ImagingError::Empty { .. } => "empty",
            ImagingError::NotAnImage { .. } => "not_an_image",
            ImagingError::Unsupported { .. } => "unsupported",
            ImagingError::TooLarge { .. } => "too_large",
            ImagingError::Truncated { .. } => "truncated",
            ImagingError::Corrupt { .. } => "corrupt",
            ImagingError::DecoderPanicked { .. } => "decoder_panicked",
        }
    }
}
