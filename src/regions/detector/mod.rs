//! An optional ONNX object detector that the user configures, as one more proposal
//! source. Two output layouts are decoded: YOLOv8 and later (`[1, 4 + C, N]`, boxes as
//! centre and size in input pixels) and DETR-style (`boxes [1, N, 4]` normalised to the
//! input, plus class scores or logits `[1, N, C]`).
//!
//! The detector sees the RGB image fitted to its fixed input size: letterboxed by
//! default for YOLO (aspect kept, centred, grey padding), stretched by default for DETR.
//! Boxes are mapped back through the same transform into pixels of the original image.

mod decode;
mod letterbox;

use std::path::PathBuf;
use std::sync::Mutex;

use image::RgbImage;
use ort::session::Session;
use ort::value::{Tensor, TensorElementType, ValueType};
use serde::{Deserialize, Serialize};

use self::decode::{decode_detr, decode_yolo, Activation, Detection, LayoutMismatch};
use self::letterbox::prepare_input;
pub use self::letterbox::LETTERBOX_PAD;
use super::boxes::clip_box;
use super::{RegionError, RegionProposal, RegionSource};
use crate::model::{init_runtime, Device};

/// The output layout of a detector graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectorLayout {
    /// One output `[1, 4 + C, N]`: per column `cx, cy, w, h` in input pixels, then `C`
    /// class scores (Ultralytics YOLOv8 and later, exported without NMS).
    Yolo,
    /// Two outputs: `boxes [1, N, 4]` with `cx, cy, w, h` normalised to the input, and
    /// `scores` or `logits [1, N, C]` (DETR, Deformable DETR, RT-DETR and relatives).
    Detr,
}

impl DetectorLayout {
    /// The name used in settings and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            DetectorLayout::Yolo => "yolo",
            DetectorLayout::Detr => "detr",
        }
    }
}

/// How an image is fitted to the detector's input size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectorResize {
    /// Keep the aspect ratio, centre the image and pad with grey 114.
    Letterbox,
    /// Resize width and height independently to fill the input.
    Stretch,
}

/// How the detector's class values become confidences in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreActivation {
    /// Identity for YOLO and for a DETR output named `scores`; sigmoid for a DETR output
    /// named `logits` or `pred_logits`.
    #[default]
    Auto,
    /// The values are confidences already.
    Identity,
    /// Each value is an independent logit.
    Sigmoid,
    /// Softmax over the classes, whose last class means "no object" and is never chosen,
    /// as in the original DETR.
    Softmax,
}

/// A user-configured object detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorConfig {
    /// The ONNX graph file. Its first input must be an f32 image tensor `[1, 3, H, W]`.
    pub graph: PathBuf,
    /// The output layout.
    pub layout: DetectorLayout,
    /// The input size `(width, height)` in pixels. Must match the graph where the graph
    /// fixes it.
    pub input_size: (u32, u32),
    /// Detections below this confidence are dropped.
    #[serde(default = "default_score_threshold")]
    pub score_threshold: f32,
    /// How the image is fitted to the input; by default letterbox for YOLO, stretch for DETR.
    #[serde(default)]
    pub resize: Option<DetectorResize>,
    /// Per-channel mean subtracted from RGB values in [0, 1]; by default 0 for YOLO and
    /// the ImageNet mean for DETR.
    #[serde(default)]
    pub pixel_mean: Option<[f32; 3]>,
    /// Per-channel divisor applied after the mean; by default 1 for YOLO and the ImageNet
    /// standard deviation for DETR.
    #[serde(default)]
    pub pixel_std: Option<[f32; 3]>,
    /// How class values become confidences.
    #[serde(default)]
    pub score_activation: ScoreActivation,
    /// The output holding boxes (for YOLO, boxes and scores). By default the first output
    /// for YOLO, and the output named `boxes` or `pred_boxes` for DETR.
    #[serde(default)]
    pub boxes_output: Option<String>,
    /// The DETR output holding class values. By default the output named `scores`,
    /// `logits` or `pred_logits`. Unused for YOLO.
    #[serde(default)]
    pub scores_output: Option<String>,
    /// Most detections kept per image, highest confidence first.
    #[serde(default = "default_max_detections")]
    pub max_detections: usize,
    /// Threads ONNX Runtime uses inside one run.
    #[serde(default = "default_intra_threads")]
    pub intra_threads: usize,
}

fn default_score_threshold() -> f32 {
    0.25
}

fn default_max_detections() -> usize {
    100
}

fn default_intra_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

impl DetectorConfig {
    /// A YOLO detector with the default settings of its layout.
    pub fn yolo(graph: impl Into<PathBuf>, input_size: (u32, u32)) -> Self {
        Self::with_layout(graph.into(), DetectorLayout::Yolo, input_size)
    }

    /// A DETR-style detector with the default settings of its layout.
    pub fn detr(graph: impl Into<PathBuf>, input_size: (u32, u32)) -> Self {
        Self::with_layout(graph.into(), DetectorLayout::Detr, input_size)
    }

    fn with_layout(graph: PathBuf, layout: DetectorLayout, input_size: (u32, u32)) -> Self {
        DetectorConfig {
            graph,
            layout,
            input_size,
            score_threshold: default_score_threshold(),
            resize: None,
            pixel_mean: None,
            pixel_std: None,
            score_activation: ScoreActivation::Auto,
            boxes_output: None,
            scores_output: None,
            max_detections: default_max_detections(),
            intra_threads: default_intra_threads(),
        }
    }

    /// The resize mode in effect.
    pub fn effective_resize(&self) -> DetectorResize {
        self.resize.unwrap_or(match self.layout {
            DetectorLayout::Yolo => DetectorResize::Letterbox,
            DetectorLayout::Detr => DetectorResize::Stretch,
        })
    }

    fn effective_normalisation(&self) -> ([f32; 3], [f32; 3]) {
        let (mean, std) = match self.layout {
            DetectorLayout::Yolo => ([0.0; 3], [1.0; 3]),
            DetectorLayout::Detr => (IMAGENET_MEAN, IMAGENET_STD),
        };
        (self.pixel_mean.unwrap_or(mean), self.pixel_std.unwrap_or(std))
    }

    fn validate(&self) -> Result<(), RegionError> {
        let invalid = |field, reason: &str| Err(RegionError::InvalidConfig { field, reason: reason.to_string() });
        let (width, height) = self.input_size;
        if width == 0 || height == 0 || width > 8192 || height > 8192 {
            return invalid("detector.input_size", "width and height must be between 1 and 8192 pixels");
        }
        if !self.score_threshold.is_finite() {
            return invalid("detector.score_threshold", "must be a finite number");
        }
        let (mean, std) = self.effective_normalisation();
        if mean.iter().any(|v| !v.is_finite()) {
            return invalid("detector.pixel_mean", "must be finite numbers");
        }
        if std.iter().any(|v| !v.is_finite() || *v == 0.0) {
            return invalid("detector.pixel_std", "must be finite, non-zero numbers");
        }
        if self.max_detections == 0 {
            return invalid("detector.max_detections", "must be at least 1");
        }
        Ok(())
    }
}

/// Where the decoder reads a loaded graph's results.
#[derive(Debug, Clone)]
enum Outputs {
    Yolo { output: String, activation: Activation },
    Detr { boxes: String, scores: String, activation: Activation },
}

/// A loaded object detector. `detect` may be called from several threads; runs are
/// serialised on the one session.
pub struct Detector {
    config: DetectorConfig,
    session: Mutex<Session>,
    input_name: String,
    outputs: Outputs,
    device: Device,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector").field("graph", &self.config.graph).field("layout", &self.config.layout).finish()
    }
}

impl Detector {
    /// Opens the detector graph on `device` (through the process's ONNX Runtime) and
    /// checks that its input and declared outputs fit the configured layout.
    pub fn load(config: &DetectorConfig, device: Device) -> Result<Detector, RegionError> {
        config.validate()?;
        let path = &config.graph;
        if !path.is_file() {
            return Err(RegionError::DetectorNotFound { path: path.clone() });
        }
        let load_error = |source| RegionError::DetectorLoad { path: path.clone(), source };
        let runtime = init_runtime(None).map_err(load_error)?;
        let (session, device) = runtime.open_session(path, device, config.intra_threads).map_err(load_error)?;

        let input_name = check_input(&session, config)?;
        let outputs = resolve_outputs(&session, config)?;
        tracing::info!(graph = %path.display(), layout = config.layout.as_str(), device = device.as_str(), "loaded object detector");
        Ok(Detector { config: config.clone(), session: Mutex::new(session), input_name, outputs, device })
    }

    /// The settings the detector was loaded with.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// The device the detector runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Detects objects in an upright RGB image. Returns boxes in pixels of `rgb`, clipped
    /// to it, with the detector's confidence as score, highest first and at most
    /// `max_detections`. Boxes that fall outside the image (such as in the letterbox
    /// padding) are dropped.
    pub fn detect(&self, rgb: &RgbImage) -> Result<Vec<RegionProposal>, RegionError> {
        let (width, height) = rgb.dimensions();
        if width == 0 || height == 0 {
            return Err(RegionError::EmptyImage { width, height });
        }
        let config = &self.config;
        let (mean, std) = config.effective_normalisation();
        let (values, transform) = prepare_input(rgb, config.input_size, config.effective_resize(), mean, std);

        let mut detections = self.run(values)?;
        detections.sort_by(|a, b| b.score.total_cmp(&a.score));
        let proposals: Vec<RegionProposal> = detections
            .into_iter()
            .filter_map(|d| {
                let region_box = clip_box(transform.to_image(d.input_box), (width, height), 0.0)?;
                Some(RegionProposal { region_box, source: RegionSource::Detector, score: d.score })
            })
            .take(config.max_detections)
            .collect();
        tracing::debug!(graph = %config.graph.display(), num_detections = proposals.len(), "ran object detector");
        Ok(proposals)
    }

    fn run(&self, values: Vec<f32>) -> Result<Vec<Detection>, RegionError> {
        let path = &self.config.graph;
        let run_error = |context| move |source| RegionError::DetectorRun { path: path.clone(), context, source };
        let (input_w, input_h) = self.config.input_size;
        let shape = vec![1i64, 3, input_h as i64, input_w as i64];
        let tensor = Tensor::from_array((shape, values)).map_err(run_error("building the input"))?;
        let inputs = ort::inputs![self.input_name.as_str() => tensor];

        let mut session = self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let outputs = session.run(inputs).map_err(run_error("running the graph"))?;
        let read = |name: &str| -> Result<(Vec<i64>, &[f32]), RegionError> {
            let value = outputs.get(name).ok_or_else(|| self.output_error(name, Vec::new(), "an output of this name"))?;
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(run_error("reading an output as f32"))?;
            Ok((shape.iter().copied().collect(), data))
        };

        let threshold = self.config.score_threshold;
        match &self.outputs {
            Outputs::Yolo { output, activation } => {
                let (shape, data) = read(output)?;
                decode_yolo(&shape, data, *activation, threshold).map_err(|m| self.mismatch(&[(output, &shape)], m))
            }
            Outputs::Detr { boxes, scores, activation } => {
                let (boxes_shape, boxes_data) = read(boxes)?;
                let (scores_shape, scores_data) = read(scores)?;
                let decoded = decode_detr(
                    (&boxes_shape, boxes_data),
                    (&scores_shape, scores_data),
                    self.config.input_size,
                    *activation,
                    threshold,
                );
                decoded.map_err(|m| self.mismatch(&[(boxes, &boxes_shape), (scores, &scores_shape)], m))
            }
        }
    }

    fn output_error(&self, output: &str, shape: Vec<i64>, expected: &str) -> RegionError {
        layout_error(&self.config, output, shape, expected)
    }

    fn mismatch(&self, outputs: &[(&String, &Vec<i64>)], mismatch: LayoutMismatch) -> RegionError {
        let (name, shape) = outputs[mismatch.output_index.min(outputs.len() - 1)];
        self.output_error(name, shape.clone(), &mismatch.expected)
    }
}

fn layout_error(config: &DetectorConfig, output: &str, shape: Vec<i64>, expected: &str) -> RegionError {
    RegionError::DetectorOutput {
        path: config.graph.clone(),
        output: output.to_string(),
        shape,
        layout: config.layout.as_str(),
        expected: expected.to_string(),
    }
}

/// Checks that the graph's first input is an f32 `[1, 3, H, W]` tensor whose fixed
/// sizes match the configured input size, and returns its name.
fn check_input(session: &Session, config: &DetectorConfig) -> Result<String, RegionError> {
    let reject = |reason: String| RegionError::DetectorInput { path: config.graph.clone(), reason };
    let input = session.inputs().first().ok_or_else(|| reject("the graph has no inputs".into()))?;
    let ValueType::Tensor { ty, shape, .. } = input.dtype() else {
        return Err(reject(format!("input `{}` is not a tensor", input.name())));
    };
    if *ty != TensorElementType::Float32 {
        return Err(reject(format!("input `{}` has element type {ty}, expected f32", input.name())));
    }
    let (width, height) = config.input_size;
    let expected = [1, 3, i64::from(height), i64::from(width)];
    let fits = shape.len() == 4 && shape.iter().zip(expected).all(|(&dim, want)| dim < 0 || dim == want);
    if !fits {
        return Err(reject(format!(
            "input `{}` has shape {:?}, but the settings give [1, 3, {height}, {width}] (height {height}, width {width})",
            input.name(),
            &**shape
        )));
    }
    Ok(input.name().to_string())
}

/// Picks the outputs the layout reads and checks their declared ranks and fixed sizes.
fn resolve_outputs(session: &Session, config: &DetectorConfig) -> Result<Outputs, RegionError> {
    let declared = |name: &str| -> Option<Vec<i64>> {
        let outlet = session.outputs().iter().find(|o| o.name() == name)?;
        Some(outlet.dtype().tensor_shape().map(|s| s.to_vec()).unwrap_or_default())
    };
    let find = |configured: &Option<String>, defaults: &[&str]| -> Result<(String, Vec<i64>), RegionError> {
        let names: Vec<&str> = match configured {
            Some(name) => vec![name.as_str()],
            None => defaults.to_vec(),
        };
        names
            .iter()
            .find_map(|name| declared(name).map(|shape| (name.to_string(), shape)))
            .ok_or_else(|| layout_error(config, &names.join("` or `"), Vec::new(), "an output of this name"))
    };
    // Declared dimensions may be symbolic (negative); only fixed ones are checked here,
    // and `detect` checks the shapes of every result.
    let fixed_fits = |shape: &[i64], expected: &[Option<i64>]| {
        shape.len() == expected.len() && shape.iter().zip(expected).all(|(&dim, want)| dim < 0 || want.is_none_or(|w| w == dim))
    };

    match config.layout {
        DetectorLayout::Yolo => {
            let (output, shape) = match &config.boxes_output {
                Some(_) => find(&config.boxes_output, &[])?,
                None => {
                    let first = session.outputs().first().ok_or_else(|| layout_error(config, "", Vec::new(), "at least one output"))?;
                    (first.name().to_string(), declared(first.name()).unwrap_or_default())
                }
            };
            let rows_fit = shape.get(1).is_none_or(|&rows| rows < 0 || rows >= 5);
            if !fixed_fits(&shape, &[Some(1), None, None]) || !rows_fit {
                return Err(layout_error(config, &output, shape, decode::YOLO_EXPECTED));
            }
            let activation = match config.score_activation {
                ScoreActivation::Auto | ScoreActivation::Identity => Activation::Identity,
                ScoreActivation::Sigmoid => Activation::Sigmoid,
                ScoreActivation::Softmax => Activation::SoftmaxNoObject,
            };
            Ok(Outputs::Yolo { output, activation })
        }
        DetectorLayout::Detr => {
            let (boxes, boxes_shape) = find(&config.boxes_output, &["boxes", "pred_boxes"])?;
            if !fixed_fits(&boxes_shape, &[Some(1), None, Some(4)]) {
                return Err(layout_error(config, &boxes, boxes_shape, decode::DETR_BOXES_EXPECTED));
            }
            let (scores, scores_shape) = find(&config.scores_output, &["scores", "logits", "pred_logits"])?;
            if !fixed_fits(&scores_shape, &[Some(1), None, None]) {
                return Err(layout_error(config, &scores, scores_shape, decode::DETR_SCORES_EXPECTED));
            }
            let activation = match config.score_activation {
                ScoreActivation::Auto if scores.contains("logits") => Activation::Sigmoid,
                ScoreActivation::Auto | ScoreActivation::Identity => Activation::Identity,
                ScoreActivation::Sigmoid => Activation::Sigmoid,
                ScoreActivation::Softmax => Activation::SoftmaxNoObject,
            };
            Ok(Outputs::Detr { boxes, scores, activation })
        }
    }
}

