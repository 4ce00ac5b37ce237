//! `xunying models verify`: hashes every bundle file, runs one text and one generated
//! image through the model on the CPU, and records the result in the verified marker.

use std::path::{Path, PathBuf};

use image::RgbImage;
use serde::Serialize;

use super::store::{self, VERIFIED_MARKER};
use super::ModelsError;
use crate::config;
use crate::model::{Bundle, Device, Model, ModelOptions};

/// The text embedded by the smoke inference.
const SMOKE_TEXT: &str = "a red circle on a white background";
/// Side of the generated smoke image in pixels.
const SMOKE_IMAGE_SIDE_PX: u32 = 64;
/// Largest accepted distance of an embedding's L2 norm from 1.
const NORM_TOLERANCE: f32 = 1e-3;

/// The result of a successful verification.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Name of the verified bundle.
    pub name: String,
    /// The bundle folder.
    pub dir: PathBuf,
    /// Embedding space id.
    pub model_id: String,
    /// Number of files whose SHA-256 matched the manifest.
    pub num_files_checked: usize,
    /// Embedding width.
    pub embed_dim: usize,
    /// L2 norm of the smoke text embedding.
    pub text_norm: f32,
    /// L2 norm of the smoke image embedding.
    pub image_norm: f32,
}

/// Verifies the bundle `name`, or the active one when `name` is `None`: checks every
/// file's SHA-256, then embeds one short text and one small generated image on the CPU
/// (whatever `options.device` says) and checks that both embeddings are finite unit
/// vectors of `embed_dim` values. On success writes the verified marker that
/// [`super::list`] reports; any earlier marker is removed first, so a failed run leaves
/// the bundle unverified.
pub fn verify(data_dir: &Path, name: Option<&str>, options: &ModelOptions) -> Result<Verification, ModelsError> {
    let name = match name {
        Some(name) => name.to_string(),
        None => store::active_name(data_dir)?
            .ok_or_else(|| ModelsError::NoActiveBundle { models_dir: config::models_dir(data_dir) })?,
    };
    let dir = store::installed_dir(data_dir, &name)?;
    remove_marker(&dir)?;
    let verification = check(name, dir, options)?;
    store::write_verified_marker(&verification.dir)?;
    tracing::info!(name = verification.name, model_id = %verification.model_id, "verified model bundle");
    Ok(verification)
}

/// Verifies a bundle folder that is not installed, such as the one `--model` or
/// `XUNYING_MODEL` names, with the same checks as [`verify`]. Writes no marker, because
/// the folder is not the store's to change.
pub fn verify_folder(dir: &Path, options: &ModelOptions) -> Result<Verification, ModelsError> {
    let verification = check(dir.display().to_string(), dir.to_path_buf(), options)?;
    tracing::info!(dir = %dir.display(), model_id = %verification.model_id, "verified model bundle folder");
    Ok(verification)
}

/// Checks the checksums of the bundle in `dir` and runs the smoke inference.
fn check(name: String, dir: PathBuf, options: &ModelOptions) -> Result<Verification, ModelsError> {
    let bundle = Bundle::load(&dir)?;
    bundle.verify_checksums()?;
    tracing::debug!(name, "checksums match; running the smoke inference");

    let cpu_options = ModelOptions { device: Device::Cpu, ..options.clone() };
    let model = Model::load(&dir, cpu_options)?;
    let embed_dim = model.embed_dim();
    let text_embedding = model.embed_query(SMOKE_TEXT)?.embedding;
    let text_norm = check_embedding(&name, "text", &text_embedding, embed_dim)?;
    let prepared = model.prepare(&smoke_image())?;
    let image_embedding = model.embed_images(std::slice::from_ref(&prepared), false)?.remove(0).embedding;
    let image_norm = check_embedding(&name, "image", &image_embedding, embed_dim)?;
    Ok(Verification {
        name,
        dir,
        model_id: bundle.manifest.model_id.clone(),
        num_files_checked: bundle.manifest.files.len(),
        embed_dim,
        text_norm,
        image_norm,
    })
}

fn remove_marker(dir: &Path) -> Result<(), ModelsError> {
    let marker = dir.join(VERIFIED_MARKER);
    match std::fs::remove_file(&marker) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(ModelsError::io(marker, error)),
    }
}

/// A red disc on a white background with a blue band, so the image has structure
/// rather than one flat colour.
fn smoke_image() -> RgbImage {
    let side = SMOKE_IMAGE_SIDE_PX as f32;
    RgbImage::from_fn(SMOKE_IMAGE_SIDE_PX, SMOKE_IMAGE_SIDE_PX, |x, y| {
        let (dx, dy) = (x as f32 - side / 2.0, y as f32 - side / 2.0);
        if dx * dx + dy * dy < (side / 4.0) * (side / 4.0) {
            image::Rgb([220, 30, 30])
        } else if y as f32 > side * 0.85 {
            image::Rgb([30, 60, 200])
        } else {
            image::Rgb([250, 250, 250])
        }
    })
}

/// Checks length, finiteness and unit norm; returns the norm.
fn check_embedding(name: &str, what: &str, values: &[f32], embed_dim: usize) -> Result<f32, ModelsError> {
    let failed = |reason: String| ModelsError::SmokeTest { name: name.to_string(), reason };
    if values.len() != embed_dim {
        return Err(failed(format!("the {what} embedding has {} values; the manifest says {embed_dim}", values.len())));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(failed(format!("the {what} embedding contains NaN or infinite values")));
    }
    let norm = values.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>().sqrt() as f32;
    if (norm - 1.0).abs() > NORM_TOLERANCE {
        return Err(failed(format!("the {what} embedding has L2 norm {norm}; expected 1")));
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_checked() {
        assert!(check_embedding("b", "text", &[0.6, 0.8], 2).is_ok());
        assert!(check_embedding("b", "text", &[0.6, 0.8], 3).is_err());
        assert!(check_embedding("b", "text", &[f32::NAN, 0.8], 2).is_err());
        assert!(check_embedding("b", "text", &[0.0, 0.0], 2).is_err());
        assert!(check_embedding("b", "text", &[1.0, 1.0], 2).is_err());
    }
}
