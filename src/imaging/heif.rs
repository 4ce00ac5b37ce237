//! HEIF/HEIC and AVIF through the system libheif (built with the `heif` feature). libheif
//! applies the container's rotation and mirroring (`irot`, `imir`) while decoding, so
//! the image it returns is already upright and its EXIF orientation is not applied again.
//!
//! The module calls libheif's C API through `libheif-sys`, and a guard releases each
//! libheif object. The `libheif-rs` 0.20 wrapper frees the decoding options before it
//! passes them to `heif_decode_image`, so libheif read its options from freed memory.
//! Through that wrapper, rotated and mirrored photos mostly came out as stored and now
//! and then upright, which fits `ignore_transformations` reading whatever the allocator
//! had left there.

use std::ffi::{c_int, CStr};
use std::path::Path;
use std::ptr;
use std::sync::{Mutex, MutexGuard, OnceLock};

use libheif_sys as lh;

use super::decode::check_size;
use super::{DecodeLimits, DecodedImage, ExifInfo, ImageInfo, ImagingError, PhotoFormat};

/// Maximum size of an EXIF block that is read. A larger block is ignored as damaged.
const MAX_EXIF_BYTES: usize = 16 << 20;

/// Initialises libheif once per process, which loads its decoder plugins.
fn init_libheif() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let mut params = lh::heif_init_params { version: 0 };
        // SAFETY: `params` is a valid version-0 parameter block for the duration of the call.
        let error = unsafe { lh::heif_init(&mut params) };
        if error.code != lh::heif_error_code_heif_error_Ok {
            tracing::warn!(message = %error_message(&error), "libheif did not initialise; HEIF and AVIF files may fail");
        }
    });
}

/// Serialises every use of libheif in this process. Its authors promise safety only for
/// one context per thread. HEIF files are few in a typical library, so decoding them one
/// at a time costs little.
fn libheif_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A libheif context reading from borrowed bytes, which must outlive it.
struct Context<'a> {
    raw: *mut lh::heif_context,
    _bytes: std::marker::PhantomData<&'a [u8]>,
}

impl<'a> Context<'a> {
    fn read(bytes: &'a [u8], path: &Path, format: PhotoFormat) -> Result<Self, ImagingError> {
        // SAFETY: allocation has no preconditions; a null result is handled.
        let raw = unsafe { lh::heif_context_alloc() };
        if raw.is_null() {
            return Err(ImagingError::Corrupt { path: path.to_path_buf(), reason: "libheif could not allocate a context".into() });
        }
        let context = Context { raw, _bytes: std::marker::PhantomData };
        // SAFETY: `bytes` outlives the context (the lifetime 'a), and null reading options
        // select libheif's defaults.
        let error = unsafe { lh::heif_context_read_from_memory_without_copy(raw, bytes.as_ptr().cast(), bytes.len(), ptr::null()) };
        check(error, path, format)?;
        Ok(context)
    }

    fn primary_handle(&self, path: &Path, format: PhotoFormat) -> Result<Handle<'_>, ImagingError> {
        let mut raw = ptr::null_mut();
        // SAFETY: the context is valid, and `raw` receives a handle that `Handle` releases.
        let error = unsafe { lh::heif_context_get_primary_image_handle(self.raw, &mut raw) };
        check(error, path, format)?;
        if raw.is_null() {
            return Err(ImagingError::Corrupt { path: path.to_path_buf(), reason: "libheif returned no primary image".into() });
        }
        Ok(Handle { raw, _context: std::marker::PhantomData })
    }
}

impl Drop for Context<'_> {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `heif_context_alloc` and is freed once.
        unsafe { lh::heif_context_free(self.raw) }
    }
}

/// The primary image handle of a context.
struct Handle<'c> {
    raw: *mut lh::heif_image_handle,
    _context: std::marker::PhantomData<&'c ()>,
}

impl Handle<'_> {
    /// Returns the upright size, after the container's transformations.
    fn size(&self) -> (u32, u32) {
        // SAFETY: the handle is valid while `self` lives.
        let (width, height) = unsafe { (lh::heif_image_handle_get_width(self.raw), lh::heif_image_handle_get_height(self.raw)) };
        (width.max(0) as u32, height.max(0) as u32)
    }

    /// Reads the first EXIF block. HEIF stores it after a 4-byte big-endian offset to the
    /// TIFF header.
    fn exif(&self) -> ExifInfo {
        let mut id: lh::heif_item_id = 0;
        // SAFETY: the filter is a NUL-terminated string and `id` has room for one ID.
        let count = unsafe { lh::heif_image_handle_get_list_of_metadata_block_IDs(self.raw, c"Exif".as_ptr(), &mut id, 1) };
        if count < 1 {
            return ExifInfo::default();
        }
        // SAFETY: `id` names a metadata block of this handle.
        let size = unsafe { lh::heif_image_handle_get_metadata_size(self.raw, id) };
        if size < 4 || size > MAX_EXIF_BYTES {
            return ExifInfo::default();
        }
        let mut block = vec![0u8; size];
        // SAFETY: `block` has exactly the block's size.
        let error = unsafe { lh::heif_image_handle_get_metadata(self.raw, id, block.as_mut_ptr().cast()) };
        if error.code != lh::heif_error_code_heif_error_Ok {
            return ExifInfo::default();
        }
        let offset = u32::from_be_bytes([block[0], block[1], block[2], block[3]]) as usize;
        match block.get(4usize.saturating_add(offset)..) {
            Some(tiff) => ExifInfo::from_raw(tiff),
            None => ExifInfo::default(),
        }
    }

    /// Decodes to 8-bit interleaved RGB with the transformations applied. Images of more
    /// than 8 bits per sample are converted down.
    fn decode_rgb(&self, path: &Path, format: PhotoFormat) -> Result<image::RgbImage, ImagingError> {
        let options = Options::new(path)?;
        let mut raw = ptr::null_mut();
        // SAFETY: the handle and the options are valid for the whole call (the options are
        // freed only when `options` drops, after it), and `raw` receives an image that
        // `Image` releases.
        let error = unsafe {
            lh::heif_decode_image(
                self.raw,
                &mut raw,
                lh::heif_colorspace_heif_colorspace_RGB,
                lh::heif_chroma_heif_chroma_interleaved_RGB,
                options.raw,
            )
        };
        check(error, path, format)?;
        if raw.is_null() {
            return Err(ImagingError::Corrupt { path: path.to_path_buf(), reason: "libheif returned no image".into() });
        }
        Image { raw }.to_rgb(path)
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `heif_context_get_primary_image_handle` and is released once.
        unsafe { lh::heif_image_handle_release(self.raw) }
    }
}

/// Decoding options that stay allocated until dropped.
struct Options {
    raw: *mut lh::heif_decoding_options,
}

impl Options {
    fn new(path: &Path) -> Result<Self, ImagingError> {
        // SAFETY: allocation has no preconditions; a null result is handled.
        let raw = unsafe { lh::heif_decoding_options_alloc() };
        if raw.is_null() {
            return Err(ImagingError::Corrupt { path: path.to_path_buf(), reason: "libheif could not allocate decoding options".into() });
        }
        // SAFETY: libheif filled a struct of at least version 2, which has these fields at
        // the offsets the bindings use, because later versions only append fields.
        unsafe {
            (*raw).ignore_transformations = 0;
            (*raw).convert_hdr_to_8bit = 1;
        }
        Ok(Options { raw })
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `heif_decoding_options_alloc` and is freed once.
        unsafe { lh::heif_decoding_options_free(self.raw) }
    }
}

/// A decoded image.
struct Image {
    raw: *mut lh::heif_image,
}

impl Image {
    /// Copies the interleaved RGB plane, whose rows may be padded, into an `RgbImage`.
    fn to_rgb(&self, path: &Path) -> Result<image::RgbImage, ImagingError> {
        let corrupt = |reason: &str| ImagingError::Corrupt { path: path.to_path_buf(), reason: reason.to_string() };
        let channel = lh::heif_channel_heif_channel_interleaved;
        let mut stride: c_int = 0;
        // SAFETY: the image is valid while `self` lives, and the plane pointer is used only
        // within this function.
        let (data, bits, width, height) = unsafe {
            (
                lh::heif_image_get_plane_readonly(self.raw, channel, &mut stride),
                lh::heif_image_get_bits_per_pixel(self.raw, channel),
                lh::heif_image_get_width(self.raw, channel),
                lh::heif_image_get_height(self.raw, channel),
            )
        };

        if data.is_null() {
            return Err(corrupt("libheif returned no interleaved RGB plane"));
        }
        if bits != 24 {
            return Err(corrupt("libheif returned RGB that is not 8 bits per sample"));
        }
        let (width, height, stride) = match (usize::try_from(width), usize::try_from(height), usize::try_from(stride)) {
            (Ok(w), Ok(h), Ok(s)) if w > 0 && h > 0 && s >= w * 3 => (w, h, s),
            _ => return Err(corrupt("libheif returned a plane of invalid size")),
        };

        let row_bytes = width * 3;
        // SAFETY: libheif's plane consists of `height` rows of `stride` bytes, the last of
        // which is at least `row_bytes` long.
        let plane = unsafe { std::slice::from_raw_parts(data, stride * (height - 1) + row_bytes) };
        let mut pixels = Vec::with_capacity(row_bytes * height);
        for row in plane.chunks(stride).take(height) {
            pixels.extend_from_slice(&row[..row_bytes]);
        }
        image::RgbImage::from_raw(width as u32, height as u32, pixels).ok_or_else(|| corrupt("libheif plane size mismatch"))
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `heif_decode_image` and is released once.
        unsafe { lh::heif_image_release(self.raw) }
    }
}

/// Reads the upright size of the primary image. The orientation is always 1 because
/// libheif applies the transforms.
pub(crate) fn probe(path: &Path, format: PhotoFormat) -> Result<ImageInfo, ImagingError> {
    let bytes = std::fs::read(path).map_err(|source| ImagingError::Io { path: path.to_path_buf(), source })?;
    let _guard = libheif_lock();
    init_libheif();
    let context = Context::read(&bytes, path, format)?;
    let handle = context.primary_handle(path, format)?;
    Ok(ImageInfo { format, stored_size: handle.size(), orientation: 1 })
}

/// Decodes the primary image to 8-bit RGB, checking its size before decoding.
pub(crate) fn decode(
    bytes: &[u8],
    path: &Path,
    format: PhotoFormat,
    limits: &DecodeLimits,
) -> Result<DecodedImage, ImagingError> {
    let _guard = libheif_lock();
    init_libheif();
    let context = Context::read(bytes, path, format)?;
    let handle = context.primary_handle(path, format)?;
    let (width, height) = handle.size();
    check_size(path, width, height, u64::from(width) * u64::from(height) * 3, limits)?;

    let rgb = handle.decode_rgb(path, format)?;
    Ok(DecodedImage {
        stored_size: rgb.dimensions(),
        full_size: rgb.dimensions(),
        rgb,
        orientation: 1,
        format,
        exif: handle.exif(),
    })
}

/// Turns a libheif error into an imaging error: unsupported when the file type, a
/// feature or the decoder plugin is missing, corrupt otherwise.
fn check(error: lh::heif_error, path: &Path, format: PhotoFormat) -> Result<(), ImagingError> {
    let path = path.to_path_buf();
    match error.code {
        lh::heif_error_code_heif_error_Ok => Ok(()),
        lh::heif_error_code_heif_error_Unsupported_filetype
        | lh::heif_error_code_heif_error_Unsupported_feature
        | lh::heif_error_code_heif_error_Decoder_plugin_error => {
            Err(ImagingError::Unsupported { path, format: format!("{} (libheif: {})", format.as_str(), error_message(&error)) })
        }
        _ => Err(ImagingError::Corrupt { path, reason: format!("libheif: {}", error_message(&error)) }),
    }
}

fn error_message(error: &lh::heif_error) -> String {
    if error.message.is_null() {
        return format!("error {}.{}", error.code, error.subcode);
    }
    // SAFETY: libheif's messages are static NUL-terminated strings.
    unsafe { CStr::from_ptr(error.message) }.to_string_lossy().into_owned()
}
