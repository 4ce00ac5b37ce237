//! The FG-CLIP 2 encoders over ONNX Runtime: images to pooled embeddings and dense
//! feature maps, text to short, box or long embeddings, and region embeddings by
//! RoIAlign over the dense map.
//!
//! Sessions open on first use, so a search process never loads the vision graphs and
//! an ingest run never loads the text graph. Images are batched by patch budget, because
//! one batch shares one token count. Every embedding returned is L2-normalised.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use image::RgbImage;
use ort::session::Session;
use ort::value::Tensor;

use super::bundle::Bundle;
use super::position::PositionGrid;
use super::preprocess::{PreparedImage, Preprocessor};
use super::roi_align::{pixel_box_to_grid, roi_align, PixelBox};
use super::runtime::{init_runtime, Device, Runtime};
use super::tokenize::{TextTokenizer, WalkType};
use super::ModelError;

/// How to load a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOptions {
    /// Where the encoders run.
    pub device: Device,
    /// Threads ONNX Runtime uses inside one graph run.
    pub intra_threads: usize,
    /// Explicit path of the ONNX Runtime library, if any.
    pub runtime_library: Option<std::path::PathBuf>,
    /// Largest number of images or texts in one graph run.
    pub max_batch: usize,
}

impl Default for ModelOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        ModelOptions { device: Device::Auto, intra_threads: cores, runtime_library: None, max_batch: 8 }
    }
}

/// A dense feature map of one image: `[rows, cols, dim]`, unnormalised, valid patches only.
#[derive(Debug, Clone)]
pub struct DenseMap {
    /// Patch rows.
    pub rows: usize,
    /// Patch columns.
    pub cols: usize,
    /// Feature width.
    pub dim: usize,
    /// Row-major features.
    pub features: Vec<f32>,
    /// Size of the image the map was computed from, `(width, height)` in pixels.
    pub image_size: (u32, u32),
}

impl DenseMap {
    /// Returns the L2-normalised RoIAlign embedding of a box given in pixels of the image.
    pub fn region_embedding(&self, region_box: PixelBox) -> Result<Vec<f32>, ModelError> {
        let grid_box = pixel_box_to_grid(region_box, self.image_size, (self.rows, self.cols))?;
        let mut feature = roi_align(&self.features, (self.rows, self.cols), self.dim, grid_box);
        if !l2_normalize(&mut feature) {
            return Err(ModelError::InvalidBox { region_box, reason: "the box covers no features" });
        }
        Ok(feature)
    }

    /// Returns the L2-normalised feature of one patch.
    pub fn patch_embedding(&self, row: usize, col: usize) -> Vec<f32> {
        let start = (row * self.cols + col) * self.dim;
        let mut feature = self.features[start..start + self.dim].to_vec();
        l2_normalize(&mut feature);
        feature
    }
}

/// The vision encoder's result for one image.
#[derive(Debug, Clone)]
pub struct ImageEmbedding {
    /// L2-normalised pooled embedding.
    pub embedding: Vec<f32>,
    /// Dense features, when requested.
    pub dense: Option<DenseMap>,
    /// Patch budget the image ran at.
    pub patch_budget: usize,
    /// Patch grid `(rows, cols)`.
    pub spatial_shape: (usize, usize),
    /// Graph run times of the batch this image ran in.
    pub timings: VisionTimings,
}

/// Wall-clock times of one batch's graph runs, excluding session creation. Every image
/// of a batch carries the same values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VisionTimings {
    /// Number of images in the batch.
    pub batch_size: usize,
    /// The vision graph run.
    pub vision: Duration,
    /// The dense-head graph run, when dense features were requested.
    pub dense: Option<Duration>,
}

/// The text encoder's result for one text.
#[derive(Debug, Clone)]
pub struct TextEmbedding {
    /// L2-normalised embedding.
    pub embedding: Vec<f32>,
    /// The walk that produced it.
    pub walk: WalkType,
    /// Whether the text was cut to fit the walk's length.
    pub truncated: bool,
    /// Content tokens before truncation.
    pub num_content_tokens: usize,
    /// Wall-clock time of the text graph run of this text's batch, excluding session
    /// creation.
    pub graph_time: Duration,
}

/// Divides `values` by their Euclidean norm. Returns false, leaving them unchanged, when
/// the norm is zero or not finite.
pub fn l2_normalize(values: &mut [f32]) -> bool {
    let norm = values.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>().sqrt();
    if !(norm.is_finite() && norm > 0.0) {
        return false;
    }
    values.iter_mut().for_each(|v| *v = (f64::from(*v) / norm) as f32);
    true
}

/// The calibrated match probability `sigmoid(exp(logit_scale) · cos + logit_bias)`.
pub fn match_probability(cosine: f32, logit_scale: f32, logit_bias: f32) -> f32 {
    let logit = f64::from(cosine) * f64::from(logit_scale).exp() + f64::from(logit_bias);
    (1.0 / (1.0 + (-logit).exp())) as f32
}

/// Wall time spent inside each graph's runs since the model was loaded, session
/// opening excluded. Benchmarks read it to split the encoder's time by graph.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphTimes {
    /// Time in `vision.onnx` runs, output copies included.
    pub vision: Duration,
    /// Time in `dense.onnx` runs.
    pub dense: Duration,
    /// Time in `text.onnx` runs.
    pub text: Duration,
}

struct LazySession {
    graph: std::path::PathBuf,
    session: Mutex<Option<Session>>,
    device_used: Mutex<Option<Device>>,
    run_nanos: AtomicU64,
}

impl LazySession {
    fn new(graph: std::path::PathBuf) -> Self {
        LazySession { graph, session: Mutex::new(None), device_used: Mutex::new(None), run_nanos: AtomicU64::new(0) }
    }

    fn open(&self, runtime: &Runtime, options: &ModelOptions) -> Result<(), ModelError> {
        self.with(runtime, options, |_| Ok(()))
    }

    fn run_time(&self) -> Duration {
        Duration::from_nanos(self.run_nanos.load(Ordering::Relaxed))
    }

    fn with<T>(
        &self,
        runtime: &Runtime,
        options: &ModelOptions,
        work: impl FnOnce(&mut Session) -> Result<T, ModelError>,
    ) -> Result<T, ModelError> {
        let mut guard = self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            let (session, device) = runtime.open_session(&self.graph, options.device, options.intra_threads)?;
            *guard = Some(session);
            *self.device_used.lock().unwrap_or_else(|p| p.into_inner()) = Some(device);
        }
        let started = Instant::now();
        let result = work(guard.as_mut().expect("session was opened above"));
        self.run_nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        result
    }

    fn device_used(&self) -> Option<Device> {
        *self.device_used.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A loaded model bundle with its encoders.
pub struct Model {
    bundle: Bundle,
    options: ModelOptions,
    runtime: &'static Runtime,
    preprocessor: Preprocessor,
    positions: PositionGrid,
    text_position_short: Vec<f32>,
    text_position_long: Vec<f32>,
    tokenizer: TextTokenizer,
    vision: LazySession,
    dense: LazySession,
    text: LazySession,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("bundle", &self.bundle.dir).field("model_id", &self.bundle.manifest.model_id).finish()
    }
}

impl Model {
    /// Loads the bundle in `dir` and the ONNX Runtime library. Graphs open on first use.
    pub fn load(dir: &Path, options: ModelOptions) -> Result<Model, ModelError> {
        let bundle = Bundle::load(dir)?;
        let runtime = init_runtime(options.runtime_library.as_deref())?;
        let m = &bundle.manifest;
        let dim = m.embed_dim;

        let side = m.vision.position_grid.side;
        let positions = PositionGrid {
            side,
            dim,
            values: bundle.read_f32_table(&m.vision.position_grid.file, side * side * dim)?,
        };
        let text_position_short = bundle.read_f32_table(&m.text.position_tables.short, m.text.short_len * dim)?;
        let text_position_long = bundle.read_f32_table(&m.text.position_tables.long, m.text.long_len * dim)?;
        let tokenizer = TextTokenizer::from_file(
            &bundle.path_of(&m.text.tokenizer),
            m.text.lowercase,
            m.text.pad_id,
            m.text.eos_id,
            m.text.short_len,
            m.text.long_len,
        )?;
        let preprocessor = Preprocessor {
            patch_size: m.vision.patch_size,
            patch_budgets: m.vision.patch_budgets.clone(),
            image_mean: [m.vision.image_mean[0], m.vision.image_mean[1], m.vision.image_mean[2]],
            image_std: [m.vision.image_std[0], m.vision.image_std[1], m.vision.image_std[2]],
        };
        tracing::info!(bundle = %dir.display(), model_id = %m.model_id, variant = %m.variant, "loaded model bundle");

        Ok(Model {
            vision: LazySession::new(bundle.path_of(&m.vision.graph)),
            dense: LazySession::new(bundle.path_of(&m.vision.dense_graph)),
            text: LazySession::new(bundle.path_of(&m.text.graph)),
            bundle,
            options,
            runtime,
            preprocessor,
            positions,
            text_position_short,
            text_position_long,
            tokenizer,
        })
    }

    /// The bundle this model was loaded from.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// The loaded ONNX Runtime.
    pub fn runtime(&self) -> &'static Runtime {
        self.runtime
    }

    /// Embedding width.
    pub fn embed_dim(&self) -> usize {
        self.bundle.manifest.embed_dim
    }

    /// Identity of the embedding space.
    pub fn model_id(&self) -> &str {
        &self.bundle.manifest.model_id
    }

    /// The image preprocessing settings.
    pub fn preprocessor(&self) -> &Preprocessor {
        &self.preprocessor
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The device the first opened graph runs on, or `None` before any graph ran.
    pub fn device_used(&self) -> Option<Device> {
        self.vision.device_used().or(self.text.device_used()).or(self.dense.device_used())
    }

    /// Returns the time spent running each graph since the model was loaded.
    pub fn graph_times(&self) -> GraphTimes {
        GraphTimes { vision: self.vision.run_time(), dense: self.dense.run_time(), text: self.text.run_time() }
    }

    /// The calibrated probability for a cosine between an image and a short or long text.
    pub fn probability(&self, cosine: f32) -> f32 {
        match_probability(cosine, self.bundle.manifest.logit_scale, self.bundle.manifest.logit_bias)
    }

    /// Preprocesses an image at its own patch budget.
    pub fn prepare(&self, image: &RgbImage) -> Result<PreparedImage, ModelError> {
        self.preprocessor.prepare(image)
    }

    /// Preprocesses a reduced decode of a photo whose whole upright size is
    /// `full_size`, with the patch budget and target size of the whole photo.
    pub fn prepare_as(&self, image: &RgbImage, full_size: (u32, u32)) -> Result<PreparedImage, ModelError> {
        self.preprocessor.prepare_as(image, full_size)
    }

    /// Runs the vision encoder (and the dense head when `with_dense`) on prepared images.
    /// Results are in input order.
    pub fn embed_images(&self, images: &[PreparedImage], with_dense: bool) -> Result<Vec<ImageEmbedding>, ModelError> {
        let mut results: Vec<Option<ImageEmbedding>> = vec![None; images.len()];
        let mut order: Vec<usize> = (0..images.len()).collect();
        order.sort_by_key(|&i| images[i].patch_budget);

        for group in order.chunk_by(|&a, &b| images[a].patch_budget == images[b].patch_budget) {
            for batch in group.chunks(self.options.max_batch.max(1)) {
                let batch_images: Vec<&PreparedImage> = batch.iter().map(|&i| &images[i]).collect();
                let embeddings = self.run_vision_batch(&batch_images, with_dense)?;
                for (&index, embedding) in batch.iter().zip(embeddings) {
                    results[index] = Some(embedding);
                }
            }
        }
        Ok(results.into_iter().map(|r| r.expect("every image belongs to one batch")).collect())
    }

    fn run_vision_batch(&self, images: &[&PreparedImage], with_dense: bool) -> Result<Vec<ImageEmbedding>, ModelError> {
        let m = &self.bundle.manifest;
        let dim = m.embed_dim;
        let tokens = images[0].patch_budget;
        let batch = images.len();
        let patch_dim = images[0].pixel_values.len() / tokens;

        let mut pixel_values = Vec::with_capacity(batch * tokens * patch_dim);
        let mut mask = vec![0i64; batch * tokens];
        let mut positions = Vec::with_capacity(batch * tokens * dim);
        for (b, image) in images.iter().enumerate() {
            pixel_values.extend_from_slice(&image.pixel_values);
            mask[b * tokens..b * tokens + image.num_valid_patches()].fill(1);
            positions.extend(self.positions.embeddings_for(image.spatial_shape, tokens));
        }
        let shape = |last: usize| vec![batch as i64, tokens as i64, last as i64];
        let graph = &m.vision.graph;
        let tensor_error = |e: ort::Error| ModelError::ort(format!("building inputs for {graph}"), e);
        let inputs = ort::inputs![
            m.vision.inputs.pixel_values.as_str() => Tensor::from_array((shape(patch_dim), pixel_values)).map_err(tensor_error)?,
            m.vision.inputs.pixel_attention_mask.as_str() => Tensor::from_array((vec![batch as i64, tokens as i64], mask.clone())).map_err(tensor_error)?,
            m.vision.inputs.position_embeddings.as_str() => Tensor::from_array((shape(dim), positions)).map_err(tensor_error)?,
        ];

        let (pooled, hidden, vision_time) = self.vision.with(self.runtime, &self.options, |session| {
            let started = Instant::now();
            let outputs = session.run(inputs).map_err(|e| ModelError::ort(format!("running {graph}"), e))?;
            let vision_time = started.elapsed();
            let pooled = extract(&outputs, graph, &m.vision.outputs.image_embeds, &[batch, dim])?;
            let hidden = if with_dense {
                Some(extract(&outputs, graph, &m.vision.outputs.last_hidden_state, &[batch, tokens, dim])?)
            } else {
                None
            };
            Ok((pooled, hidden, vision_time))
        })?;

        let (dense, dense_time) = match hidden {
            Some(hidden) => {
                let (features, elapsed) = self.run_dense(hidden, mask, batch, tokens)?;
                (Some(features), Some(elapsed))
            }
            None => (None, None),
        };
        let timings = VisionTimings { batch_size: batch, vision: vision_time, dense: dense_time };

        Ok(images
            .iter()
            .enumerate()
            .map(|(b, image)| {
                let mut embedding = pooled[b * dim..(b + 1) * dim].to_vec();
                l2_normalize(&mut embedding);
                let dense = dense.as_ref().map(|features| {
                    let valid = image.num_valid_patches();
                    let start = b * tokens * dim;
                    DenseMap {
                        rows: image.spatial_shape.0,
                        cols: image.spatial_shape.1,
                        dim,
                        features: features[start..start + valid * dim].to_vec(),
                        image_size: image.source_size,
                    }
                });
                ImageEmbedding {
                    embedding,
                    dense,
                    patch_budget: image.patch_budget,
                    spatial_shape: image.spatial_shape,
                    timings,
                }
            })
            .collect())
    }

    fn run_dense(
        &self,
        hidden: Vec<f32>,
        mask: Vec<i64>,
        batch: usize,
        tokens: usize,
    ) -> Result<(Vec<f32>, Duration), ModelError> {
        let m = &self.bundle.manifest;
        let dim = m.embed_dim;
        let graph = &m.vision.dense_graph;
        let tensor_error = |e: ort::Error| ModelError::ort(format!("building inputs for {graph}"), e);
        let inputs = ort::inputs![
            m.vision.dense_inputs.last_hidden_state.as_str() => Tensor::from_array((vec![batch as i64, tokens as i64, dim as i64], hidden)).map_err(tensor_error)?,
            m.vision.dense_inputs.pixel_attention_mask.as_str() => Tensor::from_array((vec![batch as i64, tokens as i64], mask)).map_err(tensor_error)?,
        ];
        self.dense.with(self.runtime, &self.options, |session| {
            let started = Instant::now();
            let outputs = session.run(inputs).map_err(|e| ModelError::ort(format!("running {graph}"), e))?;
            let elapsed = started.elapsed();
            Ok((extract(&outputs, graph, &m.vision.dense_outputs.dense_features, &[batch, tokens, dim])?, elapsed))
        })
    }

    /// Embeds texts with one walk. Texts longer than the walk allows are cut, and the
    /// result marks them as truncated.
    pub fn embed_texts(&self, texts: &[&str], walk: WalkType) -> Result<Vec<TextEmbedding>, ModelError> {
        let mut results = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.options.max_batch.max(1)) {
            let tokenized = chunk.iter().map(|t| self.tokenizer.tokenize(t, walk)).collect::<Result<Vec<_>, _>>()?;
            let ids: Vec<i64> = tokenized.iter().flat_map(|t| t.ids.iter().copied()).collect();
            let (embeddings, graph_time) = self.run_text(ids, tokenized.len(), walk)?;
            for (t, embedding) in tokenized.into_iter().zip(embeddings) {
                results.push(TextEmbedding {
                    embedding,
                    walk,
                    truncated: t.truncated,
                    num_content_tokens: t.num_content_tokens,
                    graph_time,
                });
            }
        }
        Ok(results)
    }

    /// Opens the vision graph, and the dense graph when `with_dense`, without running
    /// them. Indexing calls it first, so a damaged graph fails the run instead of
    /// being recorded as a failure of every photo.
    pub fn open_image_graphs(&self, with_dense: bool) -> Result<(), ModelError> {
        self.vision.open(self.runtime, &self.options)?;
        if with_dense {
            self.dense.open(self.runtime, &self.options)?;
        }
        Ok(())
    }

    /// Opens the text graph and runs it once on a short text, so that the first real
    /// query pays neither for reading the graph nor for the runtime's first-run setup.
    /// Long-running front ends call it right after loading the model.
    pub fn warm_text_encoder(&self) -> Result<(), ModelError> {
        self.embed_texts(&["a photo"], WalkType::Short).map(|_| ())
    }

    /// Embeds one text against photos, choosing the short or long walk by its length.
    pub fn embed_query(&self, text: &str) -> Result<TextEmbedding, ModelError> {
        let walk = self.tokenizer.choose_photo_walk(text)?;
        Ok(self.embed_texts(&[text], walk)?.remove(0))
    }

    /// Runs the text graph on pre-built ids (`batch × L`, L of the walk).
    pub fn embed_token_ids(&self, ids: &[i64], walk: WalkType) -> Result<Vec<Vec<f32>>, ModelError> {
        let len = self.tokenizer.walk_len(walk);
        Ok(self.run_text(ids.to_vec(), ids.len() / len, walk)?.0)
    }

    fn run_text(&self, ids: Vec<i64>, batch: usize, walk: WalkType) -> Result<(Vec<Vec<f32>>, Duration), ModelError> {
        let m = &self.bundle.manifest;
        let dim = m.embed_dim;
        let len = self.tokenizer.walk_len(walk);
        let table = match walk {
            WalkType::Short | WalkType::Box => &self.text_position_short,
            WalkType::Long => &self.text_position_long,
        };
        let output = match walk {
            WalkType::Short => &m.text.outputs.short,
            WalkType::Box => &m.text.outputs.r#box,
            WalkType::Long => &m.text.outputs.long,
        };
        let graph = &m.text.graph;
        let tensor_error = |e: ort::Error| ModelError::ort(format!("building inputs for {graph}"), e);
        let inputs = ort::inputs![
            m.text.inputs.input_ids.as_str() => Tensor::from_array((vec![batch as i64, len as i64], ids)).map_err(tensor_error)?,
            m.text.inputs.position_embeddings.as_str() => Tensor::from_array((vec![len as i64, dim as i64], table.clone())).map_err(tensor_error)?,
        ];
        let (flat, elapsed) = self.text.with(self.runtime, &self.options, |session| {
            let started = Instant::now();
            let outputs = session.run(inputs).map_err(|e| ModelError::ort(format!("running {graph}"), e))?;
            let elapsed = started.elapsed();
            Ok((extract(&outputs, graph, output, &[batch, dim])?, elapsed))
        })?;
        let embeddings = flat
            .chunks_exact(dim)
            .map(|chunk| {
                let mut embedding = chunk.to_vec();
                l2_normalize(&mut embedding);
                embedding
            })
            .collect();
        Ok((embeddings, elapsed))
    }
}

fn extract(
    outputs: &ort::session::SessionOutputs<'_>,
    graph: &str,
    name: &str,
    expected: &[usize],
) -> Result<Vec<f32>, ModelError> {
    let value = outputs.get(name).ok_or_else(|| ModelError::OutputShape {
        graph: graph.to_string(),
        output: name.to_string(),
        shape: Vec::new(),
        expected: format!("an output named `{name}`"),
    })?;
    let (shape, data) = value
        .try_extract_tensor::<f32>()
        .map_err(|e| ModelError::ort(format!("reading `{name}` from {graph}"), e))?;
    let dims: Vec<i64> = shape.iter().copied().collect();
    let matches = dims.len() == expected.len() && dims.iter().zip(expected).all(|(&d, &e)| d == e as i64);
    if !matches {
        return Err(ModelError::OutputShape {
            graph: graph.to_string(),
            output: name.to_string(),
            shape: dims,
            expected: format!("{expected:?}"),
        });
    }
    Ok(data.to_vec())
}
