//! Thumbnails: antialiased downscaling and crash-safe JPEG files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use fast_image_resize::images::{Image as FirImage, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::RgbImage;

use super::ImagingError;

/// Long edge of the small thumbnail shown in grids, in pixels.
pub const THUMB_SMALL_EDGE_PX: u32 = 320;
/// Long edge of the large thumbnail shown in the viewer, in pixels.
pub const THUMB_LARGE_EDGE_PX: u32 = 1280;

/// Returns the size that fits `size` within `max_edge_px` on its long edge, keeping the
/// aspect ratio (rounded to the nearest pixel, at least 1) and never enlarging.
pub fn thumbnail_size(size: (u32, u32), max_edge_px: u32) -> (u32, u32) {
    let (width, height) = size;
    let long_edge = width.max(height);
    if long_edge <= max_edge_px || long_edge == 0 {
        return size;
    }
    let scale = f64::from(max_edge_px) / f64::from(long_edge);
    let fit = |edge: u32| ((f64::from(edge) * scale).round() as u32).clamp(1, max_edge_px);
    (fit(width), fit(height))
}

/// Downscales `rgb` so that its long edge is at most `max_edge_px`, with an antialiasing
/// Catmull-Rom filter. An image that already fits is returned as a copy, unscaled.
pub fn thumbnail(rgb: &RgbImage, max_edge_px: u32) -> RgbImage {
    let (width, height) = thumbnail_size(rgb.dimensions(), max_edge_px.max(1));
    if (width, height) == rgb.dimensions() {
        return rgb.clone();
    }

    let source = ImageRef::new(rgb.width(), rgb.height(), rgb.as_raw(), PixelType::U8x3)
        .expect("an RgbImage buffer always matches its dimensions");
    let mut target = FirImage::new(width, height, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    Resizer::new()
        .resize(&source, &mut target, &options)
        .expect("U8x3 to U8x3 resizing with non-zero sizes cannot fail");
    RgbImage::from_raw(width, height, target.into_vec()).expect("the resizer fills width × height RGB pixels")
}

/// Writes `rgb` as a JPEG at `path` so that readers see either the old file or the
/// complete new one: it is written to a temporary file beside `path`, flushed to disk,
/// then renamed over `path`. `quality` is 1–100 (clamped). On failure the temporary
/// file is removed.
pub fn write_jpeg_atomic(rgb: &RgbImage, path: &Path, quality: u8) -> Result<(), ImagingError> {
    let temp_path = temp_path_beside(path);
    let result = write_and_sync(rgb, &temp_path, quality.clamp(1, 100))
        .and_then(|()| std::fs::rename(&temp_path, path).map_err(|source| io_error(path, source)));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp_path);
        return result;
    }
    sync_parent_dir(path);
    Ok(())
}

fn write_and_sync(rgb: &RgbImage, temp_path: &Path, quality: u8) -> Result<(), ImagingError> {
    let file = File::create(temp_path).map_err(|source| io_error(temp_path, source))?;
    let mut writer = BufWriter::new(file);
    JpegEncoder::new_with_quality(&mut writer, quality).encode_image(rgb).map_err(|error| match error {
        image::ImageError::IoError(source) => io_error(temp_path, source),
        other => ImagingError::Corrupt { path: temp_path.to_path_buf(), reason: other.to_string() },
    })?;
    writer.flush().map_err(|source| io_error(temp_path, source))?;
    let file = writer.into_inner().map_err(|error| io_error(temp_path, error.into_error()))?;
    file.sync_all().map_err(|source| io_error(temp_path, source))
}

/// Returns a hidden, unique name in the target's folder, so that the rename stays on one file
/// system and concurrent writers of the same target do not collide.
fn temp_path_beside(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{unique}.tmp", std::process::id()))
}

/// Makes the rename durable on Unix by syncing the folder entry. Failure only weakens
/// durability after a power loss, so it is logged and ignored.
fn sync_parent_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Err(error) = File::open(parent).and_then(|dir| dir.sync_all()) {
            tracing::debug!(dir = %parent.display(), %error, "could not sync folder after rename");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn io_error(path: &Path, source: std::io::Error) -> ImagingError {
    ImagingError::Io { path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnail_size_keeps_aspect() {
        assert_eq!(thumbnail_size((4000, 3000), 320), (320, 240));
        assert_eq!(thumbnail_size((3000, 4000), 1280), (960, 1280));
        assert_eq!(thumbnail_size((10000, 10), 320), (320, 1));
        assert_eq!(thumbnail_size((200, 100), 320), (200, 100));
        assert_eq!(thumbnail_size((0, 0), 320), (0, 0));
    }

    #[test]
    fn thumbnail_downscales_and_never_upscales() {
        let rgb = RgbImage::from_fn(900, 600, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 7]));
        assert_eq!(thumbnail(&rgb, 320).dimensions(), (320, 213));
        assert_eq!(thumbnail(&rgb, 1280).dimensions(), (900, 600));
    }
}
