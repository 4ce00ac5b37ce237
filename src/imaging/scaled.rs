//! Reduced-size JPEG decoding. A scaled inverse DCT turns each 8×8 block into 4×4, 2×2
//! or 1×1 pixels. A camera photo needed only at thumbnail or model size is therefore
//! decoded at 1/2, 1/4 or 1/8 of its size, for a fraction of the work.
//!
//! The header and EXIF are read with `jpeg-decoder`. With the `turbojpeg` feature the
//! pixels come from the system libjpeg-turbo (SIMD entropy decoding and IDCT), otherwise
//! from `jpeg-decoder`'s own scaled IDCT. Only YCbCr or greyscale JPEGs with 8-bit
//! samples take this path. Everything else (CMYK, 12-bit, or a photo that must be
//! decoded whole) returns `None`, and the caller decodes at full size as before.

use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};
use jpeg_decoder::{Decoder, PixelFormat};

use super::decode::check_size;
use super::{DecodeLimits, DecodedImage, ExifInfo, ImagingError, PhotoFormat};

/// The denominators tried, largest reduction first.
const DENOMINATORS: [u32; 3] = [8, 4, 2];

/// Decodes a JPEG at the smallest of 1/8, 1/4 and 1/2 of its size whose upright result
/// is at least `needed(upright_full_size)` on both sides. Returns `None` when no
/// reduction fits or the JPEG is of a kind this path does not handle.
pub(crate) fn decode_reduced(
    bytes: &[u8],
    path: &Path,
    limits: &DecodeLimits,
    needed: &dyn Fn((u32, u32)) -> (u32, u32),
) -> Option<Result<DecodedImage, ImagingError>> {
    let mut decoder = Decoder::new(std::io::Cursor::new(bytes));
    // Any header error falls back to the full decoder, whose messages are the ones
    // users see for damaged files.
    decoder.read_info().ok()?;
    let info = decoder.info()?;
    if !matches!(info.pixel_format, PixelFormat::RGB24 | PixelFormat::L8) {
        return None;
    }
    let stored = (u32::from(info.width), u32::from(info.height));
    if let Err(error) = check_size(path, stored.0, stored.1, u64::from(stored.0) * u64::from(stored.1) * 3, limits) {
        return Some(Err(error));
    }

    let exif_block = decoder.exif_data().map(<[u8]>::to_vec);
    let orientation = exif_block.as_deref().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    let turned = orientation.to_exif() >= 5;
    let upright_full = if turned { (stored.1, stored.0) } else { stored };
    let (need_w, need_h) = needed(upright_full);
    let need_stored = if turned { (need_h, need_w) } else { (need_w, need_h) };

    let denominator = DENOMINATORS
        .into_iter()
        .find(|&d| stored.0.div_ceil(d) >= need_stored.0 && stored.1.div_ceil(d) >= need_stored.1)?;
    let request = (stored.0.div_ceil(denominator), stored.1.div_ceil(denominator));
    let rgb = match decode_pixels(bytes, decoder, info.pixel_format, request, limits) {
        Ok(rgb) if rgb.width() >= need_stored.0 && rgb.height() >= need_stored.1 => rgb,
        Ok(_) => return None,
        Err(reason) => {
            tracing::debug!(path = %path.display(), %reason, "reduced JPEG decode failed; decoding at full size");
            return None;
        }
    };
    let (out_w, out_h) = rgb.dimensions();
    let mut upright = DynamicImage::ImageRgb8(rgb);
    upright.apply_orientation(orientation);
    tracing::trace!(path = %path.display(), denominator, width = out_w, height = out_h, "decoded JPEG at reduced size");

    Some(Ok(DecodedImage {
        rgb: upright.into_rgb8(),
        stored_size: stored,
        full_size: upright_full,
        orientation: orientation.to_exif(),
        format: PhotoFormat::Jpeg,
        exif: exif_block.as_deref().map(ExifInfo::from_raw).unwrap_or_default(),
    }))
}

/// Decodes the pixels at `request`, which is the photo's stored size divided by 1, 2,
/// 4 or 8 and rounded up, as both decoders compute it.
fn decode_pixels(
    bytes: &[u8],
    header: Decoder<std::io::Cursor<&[u8]>>,
    format: PixelFormat,
    request: (u32, u32),
    limits: &DecodeLimits,
) -> Result<RgbImage, String> {
    #[cfg(feature = "turbojpeg")]
    {
        let _ = (header, format, limits);
        decode_pixels_turbo(bytes, request)
    }
    #[cfg(not(feature = "turbojpeg"))]
    {
        let _ = bytes;
        decode_pixels_rust(header, format, request, limits)
    }
}

/// Decodes the pixels at `request` with libjpeg-turbo.
#[cfg(feature = "turbojpeg")]
fn decode_pixels_turbo(bytes: &[u8], request: (u32, u32)) -> Result<RgbImage, String> {
    let (width, height) = (request.0 as usize, request.1 as usize);
    let mut decompressor = turbojpeg::Decompressor::new().map_err(|error| error.to_string())?;
    let header = decompressor.read_header(bytes).map_err(|error| error.to_string())?;
    if !matches!(header.colorspace, turbojpeg::Colorspace::YCbCr | turbojpeg::Colorspace::Gray | turbojpeg::Colorspace::RGB) {
        return Err(format!("colour space {:?}", header.colorspace));
    }
    let mut pixels = vec![0u8; width * height * 3];
    let image = turbojpeg::Image { pixels: pixels.as_mut_slice(), width, pitch: width * 3, height, format: turbojpeg::PixelFormat::RGB };
    // TurboJPEG picks the largest scaling factor whose output fits in `width × height`,
    // which for these sizes is exactly 1/denominator.
    decompressor.decompress(bytes, image).map_err(|error| error.to_string())?;
    RgbImage::from_raw(request.0, request.1, pixels).ok_or_else(|| "buffer size".to_string())
}

/// Decodes the pixels at `request` with `jpeg-decoder`'s scaled IDCT.
#[cfg_attr(feature = "turbojpeg", allow(dead_code))]
fn decode_pixels_rust(
    mut decoder: Decoder<std::io::Cursor<&[u8]>>,
    format: PixelFormat,
    request: (u32, u32),
    limits: &DecodeLimits,
) -> Result<RgbImage, String> {
    let scale_to = (u16::try_from(request.0).map_err(|_| "width")?, u16::try_from(request.1).map_err(|_| "height")?);
    let (width, height) = decoder.scale(scale_to.0, scale_to.1).map_err(|error| error.to_string())?;
    let (width, height) = (u32::from(width), u32::from(height));
    decoder.set_max_decoding_buffer_size(usize::try_from(limits.max_alloc_bytes).unwrap_or(usize::MAX));
    let pixels = decoder.decode().map_err(|error| error.to_string())?;
    let rgb = match format {
        PixelFormat::L8 => RgbImage::from_raw(width, height, pixels.iter().flat_map(|&v| [v, v, v]).collect()),
        _ => RgbImage::from_raw(width, height, pixels),
    };
    rgb.ok_or_else(|| "buffer size".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes a 1600 × 1200 JPEG of smooth gradients and a few hard edges.
    fn sample_jpeg() -> Vec<u8> {
        let rgb = RgbImage::from_fn(1600, 1200, |x, y| {
            let edge = if (x / 200 + y / 200) % 2 == 0 { 40 } else { 0 };
            image::Rgb([(x / 7) as u8, (y / 5) as u8, (120 + edge) as u8])
        });
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&rgb).unwrap();
        jpeg
    }

    fn header_of(bytes: &[u8]) -> Decoder<std::io::Cursor<&[u8]>> {
        let mut decoder = Decoder::new(std::io::Cursor::new(bytes));
        decoder.read_info().unwrap();
        decoder
    }

    #[test]
    fn pure_rust_decode_scales_by_each_denominator() {
        let jpeg = sample_jpeg();
        for (denominator, expected) in [(2, (800, 600)), (4, (400, 300)), (8, (200, 150))] {
            let request = (1600u32.div_ceil(denominator), 1200u32.div_ceil(denominator));
            let rgb = decode_pixels_rust(header_of(&jpeg), PixelFormat::RGB24, request, &DecodeLimits::default()).unwrap();
            assert_eq!(rgb.dimensions(), expected, "1/{denominator}");
            // Red grows with x: 1/7 of the full-size column, sampled at the block centre.
            let pixel = rgb.get_pixel(expected.0 / 2, expected.1 / 2).0;
            assert!((i32::from(pixel[0]) - 800 / 7).abs() <= 4, "1/{denominator}: {pixel:?}");
        }
    }

    #[cfg(feature = "turbojpeg")]
    #[test]
    fn both_decoders_agree_at_reduced_size() {
        let jpeg = sample_jpeg();
        let turbo = decode_pixels_turbo(&jpeg, (400, 300)).unwrap();
        let rust = decode_pixels_rust(header_of(&jpeg), PixelFormat::RGB24, (400, 300), &DecodeLimits::default()).unwrap();
        assert_eq!(turbo.dimensions(), rust.dimensions());
        let total: u64 = turbo.as_raw().iter().zip(rust.as_raw()).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
        let mean = total as f64 / turbo.as_raw().len() as f64;
        assert!(mean < 1.5, "mean difference {mean:.2} grey levels");
    }
}
