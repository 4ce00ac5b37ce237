//! FG-CLIP 2 on ONNX Runtime: the model bundle and its manifest, loading the runtime
//! and choosing an execution provider, NaFlex image preprocessing, tokenisation, the
//! vision, dense and text encoders, and RoIAlign region features.
//!
//! The module reads nothing from disk except its bundle and the runtime library. It
//! takes decoded RGB images and text, and returns L2-normalised embeddings.

mod bundle;
mod encoder;
mod error;
mod position;
mod preprocess;
mod roi_align;
mod runtime;
mod tokenize;

pub use bundle::{Bundle, FileEntry, Manifest, TextManifest, VisionManifest, FORMAT_NAME, FORMAT_VERSION};
pub use encoder::{
    l2_normalize, match_probability, DenseMap, GraphTimes, ImageEmbedding, Model, ModelOptions, TextEmbedding,
    VisionTimings,
};
pub use error::ModelError;
pub use position::{antialiased_weights, resize_grid, PositionGrid};
pub use preprocess::{
    choose_patch_budget, prepare_image, resize_rgb, target_size, PreparedImage, Preprocessor,
};
pub use roi_align::{pixel_box_to_grid, roi_align, PixelBox};
pub use runtime::{
    available_providers, find_runtime_library, init_runtime, runtime_version, Device, Runtime,
    RuntimeInfo, ORT_LIB_ENV,
};
pub use tokenize::{TextTokenizer, TokenizedText, UnknownWords, WalkType};
