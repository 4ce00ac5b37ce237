//! Photo formats: recognising them from their first bytes, and the file extensions the
//! scanner looks for. Content decides the format; the extension only selects candidates.

use std::path::Path;

/// File extensions, lower case, of the formats Xunying reads.
pub const SUPPORTED_EXTENSIONS: [&str; 14] =
    ["jpg", "jpeg", "jpe", "mpo", "png", "webp", "gif", "tif", "tiff", "bmp", "avif", "heic", "heif", "hif"];

/// A photo format Xunying recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhotoFormat {
    /// JPEG, including progressive, CMYK and MPO (first image).
    Jpeg,
    /// PNG, including APNG (first frame).
    Png,
    /// WebP, lossy or lossless (first frame).
    Webp,
    /// GIF (first frame).
    Gif,
    /// TIFF and BigTIFF (first page).
    Tiff,
    /// Windows and OS/2 bitmaps.
    Bmp,
    /// AVIF: AV1 in a HEIF container.
    Avif,
    /// HEIF/HEIC: HEVC in a HEIF container.
    Heif,
}

impl PhotoFormat {
    /// Returns the lower-case name stored in the catalog: `jpeg`, `png`, `webp`, `gif`, `tiff`,
    /// `bmp`, `avif` or `heif`.
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "jpeg",
            PhotoFormat::Png => "png",
            PhotoFormat::Webp => "webp",
            PhotoFormat::Gif => "gif",
            PhotoFormat::Tiff => "tiff",
            PhotoFormat::Bmp => "bmp",
            PhotoFormat::Avif => "avif",
            PhotoFormat::Heif => "heif",
        }
    }

    /// Returns the `image` crate's format, for the formats it decodes in this build.
    pub(crate) fn image_format(self) -> Option<image::ImageFormat> {
        match self {
            PhotoFormat::Jpeg => Some(image::ImageFormat::Jpeg),
            PhotoFormat::Png => Some(image::ImageFormat::Png),
            PhotoFormat::Webp => Some(image::ImageFormat::WebP),
            PhotoFormat::Gif => Some(image::ImageFormat::Gif),
            PhotoFormat::Tiff => Some(image::ImageFormat::Tiff),
            PhotoFormat::Bmp => Some(image::ImageFormat::Bmp),
            PhotoFormat::Avif | PhotoFormat::Heif => None,
        }
    }
}

impl std::fmt::Display for PhotoFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returns whether the path's extension is one of [`SUPPORTED_EXTENSIONS`], ignoring
/// case. The scanner uses this to pick candidate files.
pub fn is_supported_extension(path: &Path) -> bool {
    let Some(extension) = path.extension().and_then(|e| e.to_str()) else {
        return false;
    };
    SUPPORTED_EXTENSIONS.iter().any(|known| extension.eq_ignore_ascii_case(known))
}

/// The format recognised from the first bytes of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sniffed {
    /// A format Xunying reads.
    Photo(PhotoFormat),
    /// A known image or container format that Xunying does not read, by name.
    Other(String),
    /// No known signature.
    Unknown,
}

/// Recognises the format from the first bytes of a file (64 are enough).
pub(crate) fn sniff(head: &[u8]) -> Sniffed {
    const SIGNATURES: [(&[u8], PhotoFormat); 9] = [
        (&[0xFF, 0xD8, 0xFF], PhotoFormat::Jpeg),
        (b"\x89PNG\r\n\x1a\n", PhotoFormat::Png),
        (b"GIF87a", PhotoFormat::Gif),
        (b"GIF89a", PhotoFormat::Gif),
        (b"II*\0", PhotoFormat::Tiff),
        (b"MM\0*", PhotoFormat::Tiff),
        (b"II+\0", PhotoFormat::Tiff),
        (b"MM\0+", PhotoFormat::Tiff),
        (b"BM", PhotoFormat::Bmp),
    ];
    if let Some((_, format)) = SIGNATURES.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Sniffed::Photo(*format);
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Sniffed::Photo(PhotoFormat::Webp);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return sniff_iso_media(head);
    }
    sniff_other(head)
}

/// Classifies an ISO base media file (`ftyp` box first) by its major and compatible
/// brands: AVIF, HEIF/HEIC, or something else such as MP4 or Canon CR3.
fn sniff_iso_media(head: &[u8]) -> Sniffed {
    let box_bytes = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = box_bytes.clamp(12, head.len());
    let major = &head[8..12];
    let compatible = head.get(16..end).unwrap_or(&[]).chunks_exact(4);
    let brands: Vec<&[u8]> = std::iter::once(major).chain(compatible).collect();

    const AVIF_BRANDS: [&[u8]; 2] = [b"avif", b"avis"];
    const HEIF_BRANDS: [&[u8]; 11] =
        [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1", b"miaf"];
    if AVIF_BRANDS.contains(&major) {
        return Sniffed::Photo(PhotoFormat::Avif);
    }
    if HEIF_BRANDS.contains(&major) {
        // `mif1` and `miaf` mean only "HEIF image". AVIF files often use them as the
        // major brand and list `avif` among the compatible brands.
        if brands.iter().any(|brand| AVIF_BRANDS.contains(brand)) {
            return Sniffed::Photo(PhotoFormat::Avif);
        }
        return Sniffed::Photo(PhotoFormat::Heif);
    }
    Sniffed::Other(format!("ISO media file, brand `{}`", String::from_utf8_lossy(major).trim()))
}

/// Names image formats that the `image` crate or common tools write but Xunying does
/// not read, so that they are reported as unsupported rather than as "not an image".
fn sniff_other(head: &[u8]) -> Sniffed {
    const OTHERS: [(&[u8], &str); 9] = [
        (&[0, 0, 1, 0], "ICO"),
        (b"DDS ", "DDS"),
        (b"#?RADIANCE", "Radiance HDR"),
        (&[0x76, 0x2F, 0x31, 0x01], "OpenEXR"),
        (b"qoif", "QOI"),
        (b"farbfeld", "farbfeld"),
        (b"8BPS", "Photoshop PSD"),
        (&[0xFF, 0x0A], "JPEG XL"),
        (b"\0\0\0\x0CJXL \r\n\x87\n", "JPEG XL"),
    ];
    if let Some((_, name)) = OTHERS.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Sniffed::Other((*name).to_string());
    }
    // Netpbm: `P1`..`P7` followed by whitespace, because a bare "P1" also starts text.
    if head.len() >= 3 && head[0] == b'P' && (b'1'..=b'7').contains(&head[1]) && head[2].is_ascii_whitespace() {
        return Sniffed::Other("Netpbm".to_string());
    }
    Sniffed::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut bytes = (size as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(major);
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            bytes.extend_from_slice(*brand);
        }
        bytes.extend_from_slice(b"\0\0\0\x08meta");
        bytes
    }

    #[test]
    fn sniff_magic_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Sniffed::Photo(PhotoFormat::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Sniffed::Photo(PhotoFormat::Png));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Sniffed::Photo(PhotoFormat::Webp));
        assert_eq!(sniff(b"II+\0\x08\0\0\0"), Sniffed::Photo(PhotoFormat::Tiff));
        assert_eq!(sniff(b"BM\x36\0"), Sniffed::Photo(PhotoFormat::Bmp));
        assert_eq!(sniff(b"GIF89a\x01\0"), Sniffed::Photo(PhotoFormat::Gif));
    }

    #[test]
    fn sniff_iso_media_brands() {
        assert_eq!(sniff(&ftyp(b"avif", &[b"mif1"])), Sniffed::Photo(PhotoFormat::Avif));
        assert_eq!(sniff(&ftyp(b"mif1", &[b"avif", b"miaf"])), Sniffed::Photo(PhotoFormat::Avif));
        assert_eq!(sniff(&ftyp(b"heic", &[b"mif1"])), Sniffed::Photo(PhotoFormat::Heif));
        assert_eq!(sniff(&ftyp(b"mif1", &[b"heic"])), Sniffed::Photo(PhotoFormat::Heif));
        assert!(matches!(sniff(&ftyp(b"isom", &[b"mp41"])), Sniffed::Other(_)));
    }

    #[test]
    fn sniff_text_is_unknown() {
        assert_eq!(sniff(b"hello, this is text"), Sniffed::Unknown);
        assert_eq!(sniff(b"P1ease read me"), Sniffed::Unknown);
        assert_eq!(sniff(b""), Sniffed::Unknown);
        assert_eq!(sniff(b"P6\n3 2\n255\n"), Sniffed::Other("Netpbm".to_string()));
    }

    #[test]
    fn extension_check_ignores_case() {
        assert!(is_supported_extension(Path::new("a/IMG_0001.JPG")));
        assert!(is_supported_extension(Path::new("b.HeIc")));
        assert!(is_supported_extension(Path::new("c.tiff")));
        assert!(!is_supported_extension(Path::new("d.txt")));
        assert!(!is_supported_extension(Path::new("jpg")));
        assert!(!is_supported_extension(Path::new("e.jpg.part")));
    }
}
