//! Decoding with the `image` crate: the header is read and checked against the limits
//! before the pixel buffer exists, then the pixels are decoded, converted to RGB8 and
//! turned upright.

use std::io::{BufRead, Seek};
use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits};

use super::{header, DecodeLimits, DecodedImage, ExifInfo, ImageInfo, ImagingError, PhotoFormat};

/// Reads the header of an image in a format the `image` crate decodes.
pub(crate) fn probe_image<R: BufRead + Seek>(
    reader: R,
    format: PhotoFormat,
    path: &Path,
) -> Result<ImageInfo, ImagingError> {
    let mut decoder = open_decoder(reader, format, path, Limits::default())?;
    let exif_block = read_exif_block(&mut decoder);
    Ok(ImageInfo {
        format,
        stored_size: decoder.dimensions(),
        orientation: read_orientation(&mut decoder, exif_block.as_deref(), path).to_exif(),
    })
}

/// Decodes an image in a format the `image` crate decodes.
pub(crate) fn decode_image(
    bytes: &[u8],
    format: PhotoFormat,
    path: &Path,
    limits: &DecodeLimits,
) -> Result<DecodedImage, ImagingError> {
    if let Some((width, height)) = header::declared_size(bytes, format) {
        let rgb_bytes = u64::from(width) * u64::from(height) * 3;
        check_size(path, width, height, rgb_bytes, limits)?;
    }
    let mut decoder = open_decoder(std::io::Cursor::new(bytes), format, path, image_limits(limits))?;
    let (width, height) = decoder.dimensions();
    check_size(path, width, height, decoder.total_bytes(), limits)?;

    let exif_block = read_exif_block(&mut decoder);
    let orientation = read_orientation(&mut decoder, exif_block.as_deref(), path);
    let exif = match (format, exif_block) {
        // A TIFF file is itself the TIFF structure EXIF uses, with the camera tags in IFD0.
        (PhotoFormat::Tiff, _) => ExifInfo::from_raw(bytes),
        (_, Some(block)) => ExifInfo::from_raw(&block),
        (_, None) => ExifInfo::default(),
    };

    let pixels = DynamicImage::from_decoder(decoder)
        .map_err(|error| map_error(error, path, format, Some((width, height)), limits))?;
    let mut upright = DynamicImage::ImageRgb8(pixels.into_rgb8());
    upright.apply_orientation(orientation);

    let rgb = upright.into_rgb8();
    Ok(DecodedImage {
        full_size: rgb.dimensions(),
        rgb,
        stored_size: (width, height),
        orientation: orientation.to_exif(),
        format,
        exif,
    })
}

/// Rejects an image whose header declares more than `max_pixels` pixels, or whose
/// decoded buffer would exceed `max_alloc_bytes`.
pub(crate) fn check_size(
    path: &Path,
    width: u32,
    height: u32,
    decoded_bytes: u64,
    limits: &DecodeLimits,
) -> Result<(), ImagingError> {
    let num_pixels = u64::from(width) * u64::from(height);
    if num_pixels > limits.max_pixels || decoded_bytes > limits.max_alloc_bytes {
        tracing::debug!(path = %path.display(), width, height, decoded_bytes, "rejecting image over the size limits");
        return Err(ImagingError::TooLarge {
            path: path.to_path_buf(),
            width,
            height,
            limit_pixels: limits.max_pixels,
        });
    }
    Ok(())
}

fn image_limits(limits: &DecodeLimits) -> Limits {
    let mut image_limits = Limits::default();
    image_limits.max_alloc = Some(limits.max_alloc_bytes);
    image_limits
}

/// Builds the decoder, which parses the header and nothing more for every format
/// except JPEG, whose decoder also copies the compressed stream into memory.
fn open_decoder<'a, R: BufRead + Seek + 'a>(
    reader: R,
    format: PhotoFormat,
    path: &Path,
    limits: Limits,
) -> Result<impl ImageDecoder + 'a, ImagingError> {
    let Some(image_format) = format.image_format() else {
        return Err(ImagingError::Unsupported { path: path.to_path_buf(), format: format.as_str().to_string() });
    };
    let mut reader = ImageReader::with_format(reader, image_format);
    reader.limits(limits.clone());
    reader.into_decoder().map_err(|error| {
        let limits = DecodeLimits { max_pixels: u64::MAX, max_alloc_bytes: limits.max_alloc.unwrap_or(u64::MAX) };
        map_error(error, path, format, None, &limits)
    })
}

/// Returns the raw EXIF block of a JPEG, PNG or WebP file, without the `Exif\0\0`
/// prefix that some writers (older Pillow among them) put inside WebP `EXIF` chunks.
fn read_exif_block(decoder: &mut impl ImageDecoder) -> Option<Vec<u8>> {
    let block = decoder.exif_metadata().ok().flatten()?;
    match block.strip_prefix(b"Exif\0\0") {
        Some(tiff) => Some(tiff.to_vec()),
        None => Some(block),
    }
}

/// Returns the EXIF orientation from the EXIF block, or else from the decoder (TIFF
/// keeps it in its own IFD0). An unreadable orientation counts as "no transform", so a
/// damaged EXIF block never fails the decode.
fn read_orientation(decoder: &mut impl ImageDecoder, exif_block: Option<&[u8]>, path: &Path) -> Orientation {
    if let Some(orientation) = exif_block.and_then(Orientation::from_exif_chunk) {
        return orientation;
    }
    decoder.orientation().unwrap_or_else(|error| {
        tracing::debug!(path = %path.display(), %error, "ignoring unreadable orientation");
        Orientation::NoTransforms
    })
}

/// Maps an `image` error to the imaging error a caller records. `size` is the stored
/// size when the header has been read.
fn map_error(
    error: ImageError,
    path: &Path,
    format: PhotoFormat,
    size: Option<(u32, u32)>,
    limits: &DecodeLimits,
) -> ImagingError {
    let path = path.to_path_buf();
    match error {
        ImageError::Limits(limit) => match size {
            Some((width, height)) => ImagingError::TooLarge { path, width, height, limit_pixels: limits.max_pixels },
            None => ImagingError::Corrupt {
                path,
                reason: format!("{limit} (memory limit {} bytes)", limits.max_alloc_bytes),
            },
        },
        ImageError::Unsupported(unsupported) => {
            ImagingError::Unsupported { path, format: format!("{} ({unsupported})", format.as_str()) }
        }
        // Running out of data means the file is damaged. Any other I/O error came from
        // reading the file.
        ImageError::IoError(error) if is_data_error(&error) => ImagingError::Corrupt { path, reason: error.to_string() },
        ImageError::IoError(source) => ImagingError::Io { path, source },
        other => ImagingError::Corrupt { path, reason: other.to_string() },
    }
}

fn is_data_error(error: &std::io::Error) -> bool {
    matches!(error.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput)
}

/// Returns whether a JPEG stream stops before its end-of-image marker: its header
/// segments run past the end of the file, or no EOI marker follows the first scan. Bytes
/// that are not a marker where one belongs return `false` and are left to the decoder.
///
/// Inside a scan's entropy-coded data every 0xFF byte is followed by 0x00 or a restart
/// marker, so an `FF D9` pair after the first start-of-scan can only be the real EOI.
pub(crate) fn jpeg_is_cut_short(bytes: &[u8]) -> bool {
    const SOS: u8 = 0xDA;
    const EOI: u8 = 0xD9;
    let mut at = 2;
    loop {
        let (Some(&fill), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return true;
        };
        if fill != 0xFF {
            return false;
        }
        match marker {
            0xFF => at += 1,
            SOS => break,
            EOI => return false,
            // Markers without a length: TEM, the restart markers and a repeated SOI.
            0x01 | 0xD0..=0xD8 => at += 2,
            _ => {
                let Some(length) = bytes.get(at + 2..at + 4) else { return true };
                at += 2 + usize::from(u16::from_be_bytes([length[0], length[1]]));
            }
        }
    }
    !bytes[at..].windows(2).any(|pair| pair == [0xFF, EOI])
}

