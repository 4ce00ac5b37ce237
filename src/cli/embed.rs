//! `xunying embed`: embeddings of images, regions and texts as JSON, for parity checks
//! against the reference model and for debugging. Images can also be fed as patches that
//! another preprocessor produced, stored as `.npy` files.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use xunying::model::{choose_patch_budget, Model, PreparedImage, WalkType};

/// Inputs and settings of `xunying embed`.
pub struct EmbedRequest {
    /// Image files, embedded in order.
    pub images: Vec<PathBuf>,
    /// `.npy` patch files that replace the preprocessing of `images`, paired by position.
    pub pixel_values: Vec<PathBuf>,
    /// Region boxes in pixels, applied to every image.
    pub boxes: Vec<[f32; 4]>,
    /// Texts, embedded in order.
    pub texts: Vec<String>,
    /// `auto`, `short`, `box` or `long`.
    pub walk: String,
    /// Whether to include each image's dense feature map.
    pub dense: bool,
    /// A patch budget that replaces each image's own.
    pub budget: Option<usize>,
    /// A token count every image's patches are padded to after preprocessing.
    pub pad_to: Option<usize>,
}

/// The JSON document `xunying embed` prints.
#[derive(Serialize)]
pub struct EmbedReport {
    model_id: String,
    images: Vec<ImageReport>,
    texts: Vec<TextReport>,
}

#[derive(Serialize)]
struct ImageReport {
    path: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pixel_values: Option<PathBuf>,
    width: u32,
    height: u32,
    /// The token count the vision graph ran with (the budget, or `--pad-to`).
    patch_budget: usize,
    spatial_shape: (usize, usize),
    embedding: Vec<f32>,
    regions: Vec<RegionReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dense_features: Option<Vec<f32>>,
    timings_ms: ImageTimings,
}

#[derive(Serialize)]
struct RegionReport {
    #[serde(rename = "box")]
    region_box: [f32; 4],
    embedding: Vec<f32>,
}

/// Milliseconds per stage for one image. `vision` and `dense` are graph runs only,
/// without session creation; `preprocess` is zero for `--pixel-values` input, which
/// only reads a file.
#[derive(Serialize)]
struct ImageTimings {
    decode: f64,
    preprocess: f64,
    vision: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    dense: Option<f64>,
}

#[derive(Serialize)]
struct TextReport {
    text: String,
    walk: WalkType,
    truncated: bool,
    ids: Vec<i64>,
    embedding: Vec<f32>,
    timings_ms: TextTimings,
}

/// Milliseconds per stage for one text; `graph` excludes session creation.
#[derive(Serialize)]
struct TextTimings {
    tokenize: f64,
    graph: f64,
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Embeds the requested images and texts, one graph run per image and per text.
pub fn embed(model: &Model, request: &EmbedRequest) -> Result<EmbedReport> {
    if !request.pixel_values.is_empty() && request.pixel_values.len() != request.images.len() {
        bail!(
            "{} --pixel-values files were given for {} --image files; give one per image, in the same order\n\
             给出了 {} 个 --pixel-values 文件和 {} 个 --image 文件；请按相同顺序为每张图像各给一个",
            request.pixel_values.len(),
            request.images.len(),
            request.pixel_values.len(),
            request.images.len()
        );
    }
    let mut image_reports = Vec::new();
    for (index, path) in request.images.iter().enumerate() {
        let patches = request.pixel_values.get(index).map(PathBuf::as_path);
        image_reports.push(embed_image(model, request, path, patches)?);
    }

    let mut text_reports = Vec::new();
    for text in &request.texts {
        let walk = match request.walk.as_str() {
            "auto" => model.tokenizer().choose_photo_walk(text)?,
            other => other.parse::<WalkType>().map_err(anyhow::Error::msg)?,
        };
        let started = Instant::now();
        let ids = model.tokenizer().tokenize(text, walk)?;
        let tokenize_time = started.elapsed();
        let embedded = model.embed_texts(&[text.as_str()], walk)?.remove(0);
        text_reports.push(TextReport {
            text: text.clone(),
            walk,
            truncated: embedded.truncated,
            ids: ids.ids,
            embedding: embedded.embedding,
            timings_ms: TextTimings { tokenize: millis(tokenize_time), graph: millis(embedded.graph_time) },
        });
    }

    Ok(EmbedReport { model_id: model.model_id().to_string(), images: image_reports, texts: text_reports })
}

fn embed_image(model: &Model, request: &EmbedRequest, path: &Path, patches: Option<&Path>) -> Result<ImageReport> {
    let started = Instant::now();
    let decoded = image::open(path)
        .with_context(|| format!("cannot decode {}\n无法解码 {}", path.display(), path.display()))?;
    let rgb = decoded.to_rgb8();
    let decode_time = started.elapsed();

    let started = Instant::now();
    let mut prepared = match patches {
        Some(patches) => prepared_from_npy(model, request.budget, patches, (rgb.width(), rgb.height()))?,
        None => match request.budget {
            Some(budget) => model.preprocessor().prepare_with_budget(&rgb, budget)?,
            None => model.prepare(&rgb)?,
        },
    };
    let preprocess_time = if patches.is_some() { Duration::ZERO } else { started.elapsed() };
    if let Some(tokens) = request.pad_to {
        prepared.pad_to(tokens)?;
    }

    let need_dense = request.dense || !request.boxes.is_empty();
    let result = model.embed_images(std::slice::from_ref(&prepared), need_dense)?.remove(0);
    let regions = match &result.dense {
        Some(map) => request
            .boxes
            .iter()
            .map(|&b| Ok(RegionReport { region_box: b, embedding: map.region_embedding(b)? }))
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    Ok(ImageReport {
        path: path.to_path_buf(),
        pixel_values: patches.map(Path::to_path_buf),
        width: rgb.width(),
        height: rgb.height(),
        patch_budget: result.patch_budget,
        spatial_shape: result.spatial_shape,
        embedding: result.embedding,
        regions,
        dense_features: if request.dense { result.dense.map(|d| d.features) } else { None },
        timings_ms: ImageTimings {
            decode: millis(decode_time),
            preprocess: millis(preprocess_time),
            vision: millis(result.timings.vision),
            dense: result.timings.dense.map(millis),
        },
    })
}

/// Reads `[rows, cols, 3·p·p]` patches from a `.npy` file and pads them to the budget:
/// `budget` when given, else the one the source image's size calls for.
fn prepared_from_npy(model: &Model, budget: Option<usize>, path: &Path, source_size: (u32, u32)) -> Result<PreparedImage> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}\n无法读取 {}", path.display(), path.display()))?;
    let (shape, values) = parse_npy_f32(&bytes)
        .with_context(|| format!("{} is not a float32 .npy file\n{} 不是 float32 .npy 文件", path.display(), path.display()))?;
    let [rows, cols, _] = <[usize; 3]>::try_from(shape.as_slice()).map_err(|_| {
        anyhow::anyhow!(
            "{} has shape {shape:?}; expected [rows, cols, values per patch]\n{} 的形状为 {shape:?}；应为 [行, 列, 每块数值]",
            path.display(),
            path.display()
        )
    })?;
    let preprocessor = model.preprocessor();
    let budget = budget.unwrap_or_else(|| {
        choose_patch_budget(source_size.0, source_size.1, preprocessor.patch_size, &preprocessor.patch_budgets)
    });
    let prepared = PreparedImage::from_patches(&values, (rows, cols), source_size, preprocessor.patch_size, budget)
        .with_context(|| format!("patches from {}\n来自 {} 的图像块", path.display(), path.display()))?;
    Ok(prepared)
}

/// Parses a NumPy `.npy` file (format 1.0, 2.0 or 3.0) holding little-endian float32
/// in C order. Returns the shape and the values.
fn parse_npy_f32(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>)> {
    const MAGIC: &[u8] = b"\x93NUMPY";
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        bail!("missing the .npy magic bytes");
    }
    let (header_len, header_start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        version => bail!("unsupported .npy format version {version}"),
    };
    let data_start = header_start + header_len;
    let header = bytes
        .get(header_start..data_start)
        .and_then(|h| std::str::from_utf8(h).ok())
        .context("the .npy header is truncated or not text")?;

    let descr = header_value(header, "descr").context("the .npy header has no `descr`")?;
    if !descr.starts_with("'<f4'") {
        bail!("the data type is {descr}; expected '<f4' (little-endian float32)");
    }
    let fortran = header_value(header, "fortran_order").context("the .npy header has no `fortran_order`")?;
    if !fortran.starts_with("False") {
        bail!("the array is in Fortran order; expected C order");
    }
    let shape_text = header_value(header, "shape").context("the .npy header has no `shape`")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|rest| rest.split(')').next())
        .context("the .npy shape is not a tuple")?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| part.parse::<usize>().with_context(|| format!("shape entry `{part}` is not a size")))
        .collect::<Result<Vec<_>>>()?;

    let count = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).context("the .npy shape overflows")?;
    let data = &bytes[data_start..];
    if data.len() != count * 4 {
        bail!("shape {shape:?} needs {} bytes of data, found {}", count * 4, data.len());
    }
    let values = data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Ok((shape, values))
}

/// Returns the text after `'key':` in a `.npy` header dictionary.
fn header_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let quoted = format!("'{key}':");
    let start = header.find(&quoted)? + quoted.len();
    Some(header[start..].trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str, values: &[f32]) -> Vec<u8> {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let mut text = header.to_string();
        while !(10 + text.len() + 1).is_multiple_of(64) {
            text.push(' ');
        }
        text.push('\n');
        bytes.extend_from_slice(&(text.len() as u16).to_le_bytes());
        bytes.extend_from_slice(text.as_bytes());
        values.iter().for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
        bytes
    }

    #[test]
    fn npy_float32_parses_shape_and_values() {
        let values: Vec<f32> = (0..12).map(|v| v as f32 * 0.5).collect();
        let bytes = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 2), }", &values);
        let (shape, parsed) = parse_npy_f32(&bytes).unwrap();
        assert_eq!(shape, vec![2, 3, 2]);
        assert_eq!(parsed, values);
    }

    #[test]
    fn npy_other_dtype_is_rejected() {
        let bytes = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", &[0.0, 0.0]);
        assert!(parse_npy_f32(&bytes).is_err());
    }

    #[test]
    fn npy_fortran_order_is_rejected() {
        let bytes = npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1), }", &[0.0, 0.0]);
        assert!(parse_npy_f32(&bytes).is_err());
    }

    #[test]
    fn npy_short_data_is_rejected() {
        let bytes = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }", &[1.0; 8]);
        assert!(parse_npy_f32(&bytes).is_err());
    }

    #[test]
    fn npy_without_magic_is_rejected() {
        assert!(parse_npy_f32(b"not an npy file at all").is_err());
    }
}
