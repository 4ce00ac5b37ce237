//! Decoding photos: every supported format becomes an upright RGB8 image with its EXIF
//! metadata, after the header has been checked against size limits. Also thumbnails and
//! their crash-safe JPEG files.
//!
//! A bad file costs one typed error, never the process: decoder panics are caught. The
//! module does not use the catalog or the model.

mod decode;
mod error;
mod exif;
mod format;
mod header;
#[cfg(feature = "heif")]
mod heif;
mod scaled;
mod thumbnail;

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

pub use error::ImagingError;
pub use exif::ExifInfo;
pub use format::{is_supported_extension, PhotoFormat, SUPPORTED_EXTENSIONS};
pub use thumbnail::{thumbnail, thumbnail_size, write_jpeg_atomic, THUMB_LARGE_EDGE_PX, THUMB_SMALL_EDGE_PX};

use format::Sniffed;

/// Default [`DecodeLimits::max_pixels`]: 200 megapixels, above the largest camera
/// sensors and most stitched panoramas.
pub const DEFAULT_MAX_PIXELS: u64 = 200_000_000;
/// Default [`DecodeLimits::max_alloc_bytes`]: 2 GiB, enough for a decoded buffer of
/// [`DEFAULT_MAX_PIXELS`] pixels at 16-bit RGBA (8 bytes a pixel).
pub const DEFAULT_MAX_ALLOC_BYTES: u64 = 2 << 30;

/// The largest images a decode may accept. Both are checked against the header before
/// any pixel buffer is allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest `width × height` of the stored image, in pixels.
    pub max_pixels: u64,
    /// Largest buffer the decoder may allocate for the decoded image, in bytes. Decoders
    /// of the `image` crate also bound their working memory with it.
    pub max_alloc_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits { max_pixels: DEFAULT_MAX_PIXELS, max_alloc_bytes: DEFAULT_MAX_ALLOC_BYTES }
    }
}

/// The fields of a photo's header, read without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// The format, recognised from the content.
    pub format: PhotoFormat,
    /// Width and height as stored, before orientation is applied, in pixels.
    pub stored_size: (u32, u32),
    /// EXIF orientation, 1–8 (1 when absent or unreadable).
    pub orientation: u8,
}

impl ImageInfo {
    /// Width and height once orientation is applied: orientations 5–8 swap them.
    pub fn upright_size(&self) -> (u32, u32) {
        let (width, height) = self.stored_size;
        if self.orientation >= 5 {
            (height, width)
        } else {
            (width, height)
        }
    }
}

/// A decoded photo.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    /// The pixels, upright (orientation applied once), 8-bit RGB. Alpha is dropped
    /// without compositing and 16-bit samples are scaled to 8 bits.
    pub rgb: image::RgbImage,
    /// Width and height as stored, before orientation is applied, in pixels.
    pub stored_size: (u32, u32),
    /// Width and height of the whole upright photo, in pixels. It equals the size of
    /// `rgb` unless a reduced decode ([`decode_file_bytes_reduced`]) made `rgb` smaller.
    pub full_size: (u32, u32),
    /// The EXIF orientation that was applied, 1–8.
    pub orientation: u8,
    /// The format, recognised from the content.
    pub format: PhotoFormat,
    /// Metadata from the EXIF block, empty when there is none or it is unreadable.
    pub exif: ExifInfo,
}

/// Reads the format, stored size and orientation of the photo at `path` from its header.
/// The JPEG decoder reads the whole file, but other formats read only the header.
pub fn probe(path: &Path) -> Result<ImageInfo, ImagingError> {
    let mut file = std::fs::File::open(path).map_err(|source| io_error(path, source))?;
    let mut head = Vec::with_capacity(64);
    (&mut file).take(64).read_to_end(&mut head).map_err(|source| io_error(path, source))?;
    file.seek(SeekFrom::Start(0)).map_err(|source| io_error(path, source))?;

    let format = recognise(&head, path)?;
    contain_panics(path, || match format {
        PhotoFormat::Avif | PhotoFormat::Heif => probe_heif(path, format),
        _ => decode::probe_image(BufReader::new(file), format, path),
    })
}

/// Decodes the photo at `path` into an upright RGB8 image.
///
/// The file is read into memory whole, then decoded as by [`decode_bytes`]. Errors carry
/// `path`.
pub fn decode_file(path: &Path, limits: &DecodeLimits) -> Result<DecodedImage, ImagingError> {
    let bytes = std::fs::read(path).map_err(|source| io_error(path, source))?;
    decode_source(&bytes, path, limits, None)
}

/// Decodes the bytes already read from the file at `path`, as [`decode_file`] does.
/// Errors carry `path`. Callers that time reading apart from decoding use it.
pub fn decode_file_bytes(bytes: &[u8], path: &Path, limits: &DecodeLimits) -> Result<DecodedImage, ImagingError> {
    decode_source(bytes, path, limits, None)
}

/// Decodes the bytes of the file at `path` for a caller that needs the photo at no
/// more than a given size. `needed` receives the upright size of the whole photo and
/// returns the smallest upright size the caller can use.
///
/// A large JPEG is then decoded at 1/2, 1/4 or 1/8 of its size (a scaled inverse DCT,
/// several times cheaper than a full decode) when the result still covers `needed` on
/// both sides; [`DecodedImage::full_size`] keeps the photo's own size. Other formats,
/// CMYK JPEGs and photos too small to reduce are decoded whole, as by
/// [`decode_file_bytes`].
pub fn decode_file_bytes_reduced(
    bytes: &[u8],
    path: &Path,
    limits: &DecodeLimits,
    needed: &dyn Fn((u32, u32)) -> (u32, u32),
) -> Result<DecodedImage, ImagingError> {
    decode_source(bytes, path, limits, Some(needed))
}

/// Decodes a photo held in memory into an upright RGB8 image. Errors carry the path
/// `<memory>`.
pub fn decode_bytes(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, ImagingError> {
    decode_source(bytes, Path::new("<memory>"), limits, None)
}

fn decode_source(
    bytes: &[u8],
    path: &Path,
    limits: &DecodeLimits,
    needed: Option<&dyn Fn((u32, u32)) -> (u32, u32)>,
) -> Result<DecodedImage, ImagingError> {
    let format = recognise(bytes, path)?;
    if format == PhotoFormat::Jpeg && decode::jpeg_is_cut_short(bytes) {
        return Err(ImagingError::Truncated { path: path.to_path_buf() });
    }
    contain_panics(path, || match (format, needed) {
        (PhotoFormat::Avif | PhotoFormat::Heif, _) => decode_heif(bytes, path, format, limits),
        (PhotoFormat::Jpeg, Some(needed)) => scaled::decode_reduced(bytes, path, limits, needed)
            .unwrap_or_else(|| decode::decode_image(bytes, format, path, limits)),
        _ => decode::decode_image(bytes, format, path, limits),
    })
}

/// Recognises the format from the first bytes, with distinct errors for an empty file,
/// a file that is no image, and an image format Xunying does not read.
fn recognise(head: &[u8], path: &Path) -> Result<PhotoFormat, ImagingError> {
    if head.is_empty() {
        return Err(ImagingError::Empty { path: path.to_path_buf() });
    }
    match format::sniff(head) {
        Sniffed::Photo(format) => Ok(format),
        Sniffed::Other(name) => Err(ImagingError::Unsupported { path: path.to_path_buf(), format: name }),
        Sniffed::Unknown => Err(ImagingError::NotAnImage { path: path.to_path_buf() }),
    }
}

thread_local! {
    /// Whether this thread is running decoder work under [`contain_panics`].
    static CONTAINING_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Wraps the process's panic hook once, so that a panic caught by [`contain_panics`]
/// prints nothing, because it is logged and recorded as the file's failure instead.
/// Panics anywhere else still reach the previous hook.
fn quiet_contained_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINING_PANICS.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs decoder work so that a panic inside it becomes a `DecoderPanicked` error for
/// this one file, logged at warn level and not printed by the panic hook.
fn contain_panics<T>(path: &Path, work: impl FnOnce() -> Result<T, ImagingError>) -> Result<T, ImagingError> {
    quiet_contained_panics();
    let was_containing = CONTAINING_PANICS.with(|flag| flag.replace(true));
    let result = catch_unwind(AssertUnwindSafe(work));
    CONTAINING_PANICS.with(|flag| flag.set(was_containing));
    result.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic with a non-text payload".to_string());
        tracing::warn!(path = %path.display(), %message, "image decoder panicked; skipping the file");
        Err(ImagingError::DecoderPanicked { path: path.to_path_buf(), message })
    })
}

#[cfg(feature = "heif")]
fn probe_heif(path: &Path, format: PhotoFormat) -> Result<ImageInfo, ImagingError> {
    heif::probe(path, format)
}

#[cfg(feature = "heif")]
fn decode_heif(bytes: &[u8], path: &Path, format: PhotoFormat, limits: &DecodeLimits) -> Result<DecodedImage, ImagingError> {
    heif::decode(bytes, path, format, limits)
}

#[cfg(not(feature = "heif"))]
fn probe_heif(path: &Path, format: PhotoFormat) -> Result<ImageInfo, ImagingError> {
    Err(heif_unsupported(path, format))
}

#[cfg(not(feature = "heif"))]
fn decode_heif(_: &[u8], path: &Path, format: PhotoFormat, _: &DecodeLimits) -> Result<DecodedImage, ImagingError> {
    Err(heif_unsupported(path, format))
}

#[cfg(not(feature = "heif"))]
fn heif_unsupported(path: &Path, format: PhotoFormat) -> ImagingError {
    let reason = match format {
        PhotoFormat::Avif => "AVIF: this build has no AV1 decoder; build with the `heif` feature and libheif",
        _ => "HEIF/HEIC: this build has no HEVC decoder; build with the `heif` feature and libheif",
    };
    ImagingError::Unsupported { path: path.to_path_buf(), format: reason.to_string() }
}

fn io_error(path: &Path, source: std::io::Error) -> ImagingError {
    ImagingError::Io { path: PathBuf::from(path), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes a small JPEG and inserts an APP1 EXIF segment right after SOI.
    fn jpeg_with_exif(width: u32, height: u32, exif_block: &[u8]) -> Vec<u8> {
        let rgb = image::RgbImage::from_fn(width, height, |x, _| if x < width / 2 { image::Rgb([250, 10, 10]) } else { image::Rgb([10, 10, 250]) });
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95).encode_image(&rgb).unwrap();

        let mut segment = vec![0xFF, 0xE1];
        segment.extend_from_slice(&((2 + 6 + exif_block.len()) as u16).to_be_bytes());
        segment.extend_from_slice(b"Exif\0\0");
        segment.extend_from_slice(exif_block);
        [&jpeg[..2], &segment[..], &jpeg[2..]].concat()
    }

    #[test]
    fn decode_jpeg_applies_exif_and_orientation() {
        let jpeg = jpeg_with_exif(40, 20, &exif::tests::camera_block());
        let decoded = decode_bytes(&jpeg, &DecodeLimits::default()).unwrap();

        assert_eq!(decoded.format, PhotoFormat::Jpeg);
        assert_eq!(decoded.stored_size, (40, 20));
        assert_eq!(decoded.orientation, 6);
        assert_eq!(decoded.rgb.dimensions(), (20, 40));
        // Orientation 6 turns the stored image 90° clockwise, so its red left half
        // becomes the top half.
        assert!(decoded.rgb.get_pixel(10, 5)[0] > 200, "top pixel {:?}", decoded.rgb.get_pixel(10, 5));
        assert!(decoded.rgb.get_pixel(10, 35)[2] > 200, "bottom pixel {:?}", decoded.rgb.get_pixel(10, 35));
        assert_eq!(decoded.exif.camera_model.as_deref(), Some("Canon EOS R5"));
        assert_eq!(decoded.exif.taken_at.as_deref(), Some("2024-05-01T08:30:15"));
        assert!(decoded.exif.gps.is_some());
    }

    #[test]
    fn decode_bytes_errors_are_distinct() {
        let limits = DecodeLimits::default();
        assert!(matches!(decode_bytes(b"", &limits), Err(ImagingError::Empty { .. })));
        assert!(matches!(decode_bytes(b"just some text\n", &limits), Err(ImagingError::NotAnImage { .. })));
        assert!(matches!(decode_bytes(b"qoif\0\0\0\x01", &limits), Err(ImagingError::Unsupported { .. })));
        let truncated = &jpeg_with_exif(40, 20, &[])[..30];
        assert!(matches!(decode_bytes(truncated, &limits), Err(ImagingError::Truncated { .. })));
    }

    #[test]
    fn cut_short_jpegs_are_recognised() {
        let jpeg = jpeg_with_exif(40, 20, &[]);
        assert!(!decode::jpeg_is_cut_short(&jpeg));
        let mut trailer = jpeg.clone();
        trailer.extend_from_slice(b"trailing bytes after the image");
        assert!(!decode::jpeg_is_cut_short(&trailer));
        assert!(decode::jpeg_is_cut_short(&jpeg[..jpeg.len() - 2]), "cut inside the scan");
        assert!(decode::jpeg_is_cut_short(&jpeg[..12]), "cut inside the header");
        assert!(!decode::jpeg_is_cut_short(b"\xFF\xD8not a marker"), "left to the decoder");

        // An EOI inside a header segment, as in an EXIF thumbnail, does not count.
        let mut with_thumbnail = jpeg[..2].to_vec();
        with_thumbnail.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD9, 0xFF, 0xD9]);
        with_thumbnail.extend_from_slice(&jpeg[2..jpeg.len() - 2]);
        assert!(decode::jpeg_is_cut_short(&with_thumbnail));
        let error = decode_bytes(&jpeg[..jpeg.len() - 40], &DecodeLimits::default()).unwrap_err();
        assert_eq!(error.kind(), "truncated");
    }

    #[test]
    fn decode_rejects_over_pixel_limit() {
        let jpeg = jpeg_with_exif(40, 20, &[]);
        let limits = DecodeLimits { max_pixels: 799, ..DecodeLimits::default() };
        match decode_bytes(&jpeg, &limits) {
            Err(ImagingError::TooLarge { width, height, limit_pixels, .. }) => {
                assert_eq!((width, height, limit_pixels), (40, 20, 799));
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        let limits = DecodeLimits { max_pixels: 800, ..DecodeLimits::default() };
        assert!(decode_bytes(&jpeg, &limits).is_ok());
    }

    #[test]
    fn contain_panics_returns_error() {
        let result: Result<(), _> = contain_panics(Path::new("x.tif"), || panic!("index out of bounds"));
        match result {
            Err(error @ ImagingError::DecoderPanicked { .. }) => {
                assert!(error.to_string().contains("index out of bounds"));
                assert!(error.is_permanent());
            }
            other => panic!("expected DecoderPanicked, got {other:?}"),
        }
    }

    #[test]
    fn upright_size_swaps_for_rotations() {
        let info = |orientation| ImageInfo { format: PhotoFormat::Jpeg, stored_size: (40, 20), orientation };
        assert_eq!(info(1).upright_size(), (40, 20));
        assert_eq!(info(4).upright_size(), (40, 20));
        assert_eq!(info(5).upright_size(), (20, 40));
        assert_eq!(info(8).upright_size(), (20, 40));
    }
}
