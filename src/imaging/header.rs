//! Image sizes read straight from the first bytes, for the formats whose `image` decoder
//! reads past the header, or rejects huge sizes with a generic error, before the size
//! can be checked against the limits.

use super::PhotoFormat;

/// Returns the canvas size a GIF or BMP header declares, or `None` for other formats and for
/// headers too short to tell.
pub(crate) fn declared_size(bytes: &[u8], format: PhotoFormat) -> Option<(u32, u32)> {
    match format {
        PhotoFormat::Gif => gif_canvas_size(bytes),
        PhotoFormat::Bmp => bmp_size(bytes),
        _ => None,
    }
}

/// Returns the logical screen of a GIF, grown to hold the first frame when that frame reaches
/// beyond it (as Pillow does), because decoders allocate the frame's own extent.
fn gif_canvas_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let le16 = |at: usize| -> Option<u32> { Some(u32::from(u16::from_le_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))) };
    let (screen_width, screen_height) = (le16(6)?, le16(8)?);
    let Some((left, top, width, height)) = first_gif_frame(bytes) else {
        return Some((screen_width, screen_height));
    };
    Some((screen_width.max(left + width), screen_height.max(top + height)))
}

/// Returns the position and size of the first image descriptor, skipping the global
/// colour table and any extension blocks before it.
fn first_gif_frame(bytes: &[u8]) -> Option<(u32, u32, u32, u32)> {
    let flags = *bytes.get(10)?;
    let mut at = 13;
    if flags & 0x80 != 0 {
        at += 3 << ((flags & 0x07) + 1);
    }
    loop {
        match *bytes.get(at)? {
            b',' => {
                let le16 = |offset: usize| -> Option<u32> {
                    let start = at + offset;
                    Some(u32::from(u16::from_le_bytes([*bytes.get(start)?, *bytes.get(start + 1)?])))
                };
                return Some((le16(1)?, le16(3)?, le16(5)?, le16(7)?));
            }
            b'!' => {
                at += 2;
                loop {
                    let block_bytes = usize::from(*bytes.get(at)?);
                    at += 1 + block_bytes;
                    if block_bytes == 0 {
                        break;
                    }
                }
            }
            _ => return None,
        }
    }
}

/// Width and height from a BMP info header: 16-bit fields in the OS/2 core header
/// (12 bytes), signed 32-bit fields otherwise (a negative height means top-down rows).
fn bmp_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let field = |at: usize, len: usize| bytes.get(at..at + len);
    let header_bytes = u32::from_le_bytes(field(14, 4)?.try_into().ok()?);
    if header_bytes == 12 {
        let width = u16::from_le_bytes(field(18, 2)?.try_into().ok()?);
        let height = u16::from_le_bytes(field(20, 2)?.try_into().ok()?);
        return Some((u32::from(width), u32::from(height)));
    }
    let width = i32::from_le_bytes(field(18, 4)?.try_into().ok()?);
    let height = i32::from_le_bytes(field(22, 4)?.try_into().ok()?);
    Some((width.unsigned_abs(), height.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gif_size_includes_first_frame_extent() {
        let mut gif = b"GIF89a\x20\x00\x20\x00\x00\x00\x00".to_vec();
        gif.extend_from_slice(b"!\xF9\x04\x00\x00\x00\x00\x00");
        gif.extend_from_slice(b",\x00\x00\x00\xFF\xFF\xFF\x29\x05\x00");
        assert_eq!(declared_size(&gif, PhotoFormat::Gif), Some((65535, 65280 + 1321)));
    }

    #[test]
    fn gif_size_without_frame_is_screen() {
        let gif = b"GIF87a\x64\x00\x32\x00\x00\x00\x00";
        assert_eq!(declared_size(gif, PhotoFormat::Gif), Some((100, 50)));
        assert_eq!(declared_size(b"GIF87a\x64", PhotoFormat::Gif), None);
    }

    #[test]
    fn bmp_size_handles_top_down_and_core_headers() {
        let mut bmp = vec![0u8; 26];
        bmp[..2].copy_from_slice(b"BM");
        bmp[14..18].copy_from_slice(&40u32.to_le_bytes());
        bmp[18..22].copy_from_slice(&3_000_000i32.to_le_bytes());
        bmp[22..26].copy_from_slice(&(-2_000_000i32).to_le_bytes());
        assert_eq!(declared_size(&bmp, PhotoFormat::Bmp), Some((3_000_000, 2_000_000)));

        bmp[14..18].copy_from_slice(&12u32.to_le_bytes());
        bmp[18..22].copy_from_slice(&[0x40, 0x01, 0xF0, 0x00]);
        assert_eq!(declared_size(&bmp, PhotoFormat::Bmp), Some((320, 240)));
    }
}
