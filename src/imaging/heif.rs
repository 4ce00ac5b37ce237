//! HEIF/HEIC and AVIF through the system libheif (built with the `heif` feature). libheif
//! applies the container's rotation and mirroring (`irot`, `imir`) while decoding, so
//! the image it returns is already upright and its EXIF orientation is not applied again.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock};

use libheif_rs::{ColorSpace, DecodingOptions, HeifContext, HeifError, ImageHandle, LibHeif, RgbChroma};

use super::decode::check_size;
use super::{DecodeLimits, DecodedImage, ExifInfo, ImageInfo, ImagingError, PhotoFormat};

fn libheif() -> &'static LibHeif {
    static LIBHEIF: OnceLock<LibHeif> = OnceLock::new();
    LIBHEIF.get_or_init(LibHeif::new)
}

/// Serialises every use of libheif in this process. Its authors promise safety only for
/// one context per thread. HEIF files are few in a typical library, so decoding them one
/// at a time costs little.
///
/// NOTE: even serialised, libheif 1.15 has rarely returned a rotated AVIF without its
/// rotation during the full parallel test suite. The cause is not known, and the
/// handle's size cannot detect it, because for some files it is the unrotated size.
fn libheif_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads the upright size of the primary image. The orientation is always 1 because
/// libheif applies the transforms.
pub(crate) fn probe(path: &Path, format: PhotoFormat) -> Result<ImageInfo, ImagingError> {
    let bytes = std::fs::read(path).map_err(|source| ImagingError::Io { path: path.to_path_buf(), source })?;
    let _guard = libheif_lock();
    let _ = libheif();
    let context = HeifContext::read_from_bytes(&bytes).map_err(|error| map_error(error, path, format))?;
    let handle = context.primary_image_handle().map_err(|error| map_error(error, path, format))?;
    Ok(ImageInfo { format, stored_size: (handle.width(), handle.height()), orientation: 1 })
}

/// Decodes the primary image to 8-bit RGB, checking its size before decoding.
pub(crate) fn decode(
    bytes: &[u8],
    path: &Path,
    format: PhotoFormat,
    limits: &DecodeLimits,
) -> Result<DecodedImage, ImagingError> {
    let _guard = libheif_lock();
    // libheif must be initialised before a context is read.
    let _ = libheif();
    let context = HeifContext::read_from_bytes(bytes).map_err(|error| map_error(error, path, format))?;
    let handle = context.primary_image_handle().map_err(|error| map_error(error, path, format))?;
    let (width, height) = (handle.width(), handle.height());
    check_size(path, width, height, u64::from(width) * u64::from(height) * 3, limits)?;

    let mut options = DecodingOptions::new();
    if let Some(options) = options.as_mut() {
        options.set_convert_hdr_to_8bit(true);
    }
    let image = libheif()
        .decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), options)
        .map_err(|error| map_error(error, path, format))?;
    let rgb = copy_interleaved_rgb(&image, path)?;

    Ok(DecodedImage {
        stored_size: rgb.dimensions(),
        full_size: rgb.dimensions(),
        rgb,
        orientation: 1,
        format,
        exif: read_exif(&handle),
    })
}

/// Copies libheif's interleaved RGB plane, whose rows may be padded, into an `RgbImage`.
fn copy_interleaved_rgb(image: &libheif_rs::Image, path: &Path) -> Result<image::RgbImage, ImagingError> {
    let corrupt = |reason: &str| ImagingError::Corrupt { path: path.to_path_buf(), reason: reason.to_string() };
    let planes = image.planes();
    let plane = planes.interleaved.ok_or_else(|| corrupt("libheif returned no interleaved RGB plane"))?;
    if plane.storage_bits_per_pixel != 24 {
        return Err(corrupt("libheif returned RGB that is not 8 bits per sample"));
    }

    let row_bytes = plane.width as usize * 3;
    let mut pixels = Vec::with_capacity(row_bytes * plane.height as usize);
    for row in 0..plane.height as usize {
        let start = row * plane.stride;
        let line = plane.data.get(start..start + row_bytes).ok_or_else(|| corrupt("libheif plane is shorter than its size"))?;
        pixels.extend_from_slice(line);
    }
    image::RgbImage::from_raw(plane.width, plane.height, pixels).ok_or_else(|| corrupt("libheif plane size mismatch"))
}

/// Reads the first EXIF block. HEIF stores it after a 4-byte big-endian offset to the
/// TIFF header.
fn read_exif(handle: &ImageHandle) -> ExifInfo {
    let mut ids = [0; 1];
    if handle.metadata_block_ids(&mut ids, b"Exif") == 0 {
        return ExifInfo::default();
    }
    let Ok(block) = handle.metadata(ids[0]) else {
        return ExifInfo::default();
    };
    let Some(offset_bytes) = block.get(..4) else {
        return ExifInfo::default();
    };
    let offset = u32::from_be_bytes([offset_bytes[0], offset_bytes[1], offset_bytes[2], offset_bytes[3]]) as usize;
    match block.get(4 + offset..) {
        Some(tiff) => ExifInfo::from_raw(tiff),
        None => ExifInfo::default(),
    }
}

fn map_error(error: HeifError, path: &Path, format: PhotoFormat) -> ImagingError {
    use libheif_rs::HeifErrorCode;
    let path = path.to_path_buf();
    match error.code {
        HeifErrorCode::UnsupportedFileType | HeifErrorCode::UnsupportedFeature | HeifErrorCode::DecoderPluginError => {
            ImagingError::Unsupported { path, format: format!("{} (libheif: {error})", format.as_str()) }
        }
        _ => ImagingError::Corrupt { path, reason: format!("libheif: {error}") },
    }
}
