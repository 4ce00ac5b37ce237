//! The EXIF fields Xunying keeps: capture time, camera, lens and GPS position. Parsing is
//! tolerant: a damaged block or a field of the wrong type yields `None` for that field.

use exif::{In, Tag, Value};

/// Metadata read from a photo's EXIF block. Every field is `None` when absent or invalid.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifInfo {
    /// Capture time as local time without a zone, `YYYY-MM-DDTHH:MM:SS`, from
    /// `DateTimeOriginal`, else `DateTime`.
    pub taken_at: Option<String>,
    /// Camera maker (`Make`).
    pub camera_make: Option<String>,
    /// Camera model (`Model`).
    pub camera_model: Option<String>,
    /// Lens model (`LensModel`).
    pub lens_model: Option<String>,
    /// Latitude and longitude in decimal degrees, north and east positive.
    pub gps: Option<(f64, f64)>,
}

impl ExifInfo {
    /// Parses a raw EXIF block (TIFF-structured data, starting with `II` or `MM`).
    /// Never fails: unreadable parts are left out.
    pub fn from_raw(raw: &[u8]) -> ExifInfo {
        let parsed = exif::Reader::new()
            .continue_on_error(true)
            .read_raw(raw.to_vec())
            .or_else(|error| error.distill_partial_result(|_| ()));
        match parsed {
            Ok(exif) => ExifInfo::from_exif(&exif),
            Err(error) => {
                tracing::debug!(%error, "ignoring unreadable EXIF block");
                ExifInfo::default()
            }
        }
    }

    /// Returns whether no field was found.
    pub fn is_empty(&self) -> bool {
        *self == ExifInfo::default()
    }

    fn from_exif(exif: &exif::Exif) -> ExifInfo {
        ExifInfo {
            taken_at: read_datetime(exif, Tag::DateTimeOriginal).or_else(|| read_datetime(exif, Tag::DateTime)),
            camera_make: read_text(exif, Tag::Make),
            camera_model: read_text(exif, Tag::Model),
            lens_model: read_text(exif, Tag::LensModel),
            gps: read_gps(exif),
        }
    }
}

fn read_ascii(exif: &exif::Exif, tag: Tag) -> Option<&[u8]> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(values) => values.first().map(Vec::as_slice),
        _ => None,
    }
}

fn read_text(exif: &exif::Exif, tag: Tag) -> Option<String> {
    let bytes = read_ascii(exif, tag)?;
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!text.is_empty()).then(|| text.to_string())
}

/// Converts an EXIF `YYYY:MM:DD HH:MM:SS` value to ISO 8601, rejecting blank, zeroed
/// and out-of-range values that cameras with an unset clock write.
fn read_datetime(exif: &exif::Exif, tag: Tag) -> Option<String> {
    let bytes = read_ascii(exif, tag)?;
    let time = exif::DateTime::from_ascii(bytes).ok()?;
    let valid = (1..=9999).contains(&time.year)
        && (1..=12).contains(&time.month)
        && (1..=31).contains(&time.day)
        && time.hour < 24
        && time.minute < 60
        && time.second <= 60;
    valid.then(|| {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            time.year, time.month, time.day, time.hour, time.minute, time.second
        )
    })
}

fn read_gps(exif: &exif::Exif) -> Option<(f64, f64)> {
    let latitude = read_coordinate(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'N', b'S')?;
    let longitude = read_coordinate(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'E', b'W')?;
    let in_range = latitude.abs() <= 90.0 && longitude.abs() <= 180.0;
    in_range.then_some((latitude, longitude))
}

/// Reads degrees, minutes and seconds with their hemisphere reference. A missing or
/// unknown reference gives `None`, so that no position is guessed.
fn read_coordinate(exif: &exif::Exif, value_tag: Tag, ref_tag: Tag, positive: u8, negative: u8) -> Option<f64> {
    let sign = match read_ascii(exif, ref_tag)?.first()?.to_ascii_uppercase() {
        letter if letter == positive => 1.0,
        letter if letter == negative => -1.0,
        _ => return None,
    };
    let Value::Rational(parts) = &exif.get_field(value_tag, In::PRIMARY)?.value else {
        return None;
    };
    let mut degrees = 0.0;
    for (part, unit) in parts.iter().zip([1.0, 60.0, 3600.0]) {
        if part.denom == 0 {
            return None;
        }
        degrees += part.to_f64() / unit;
    }
    (!parts.is_empty() && degrees.is_finite()).then_some(sign * degrees)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One IFD entry for [`tiff_block`]: tag, type, count and the value bytes.
    pub(crate) struct Entry {
        pub tag: u16,
        pub kind: u16,
        pub count: u32,
        pub data: Vec<u8>,
    }

    pub(crate) fn ascii(tag: u16, text: &str) -> Entry {
        let mut data = text.as_bytes().to_vec();
        data.push(0);
        Entry { tag, kind: 2, count: data.len() as u32, data }
    }

    pub(crate) fn rationals(tag: u16, values: &[(u32, u32)]) -> Entry {
        let data = values.iter().flat_map(|(n, d)| [n.to_le_bytes(), d.to_le_bytes()].concat()).collect();
        Entry { tag, kind: 5, count: values.len() as u32, data }
    }

    pub(crate) fn short(tag: u16, value: u16) -> Entry {
        Entry { tag, kind: 3, count: 1, data: value.to_le_bytes().to_vec() }
    }

    /// Builds a little-endian TIFF-structured EXIF block with IFD0, an Exif IFD and a
    /// GPS IFD, each given as its entries (tags ascending).
    pub(crate) fn tiff_block(ifd0: Vec<Entry>, exif_ifd: Vec<Entry>, gps_ifd: Vec<Entry>) -> Vec<u8> {
        const EXIF_POINTER: u16 = 0x8769;
        const GPS_POINTER: u16 = 0x8825;
        let ifd_bytes = |n: usize| 2 + 12 * n + 4;
        let ifd0_len = ifd0.len() + 2;
        let exif_offset = 8 + ifd_bytes(ifd0_len);
        let gps_offset = exif_offset + ifd_bytes(exif_ifd.len());
        let mut data_offset = gps_offset + ifd_bytes(gps_ifd.len());

        let mut ifd0 = ifd0;
        ifd0.push(Entry { tag: EXIF_POINTER, kind: 4, count: 1, data: (exif_offset as u32).to_le_bytes().to_vec() });
        ifd0.push(Entry { tag: GPS_POINTER, kind: 4, count: 1, data: (gps_offset as u32).to_le_bytes().to_vec() });
        ifd0.sort_by_key(|entry| entry.tag);

        let mut head = b"II*\0\x08\0\0\0".to_vec();
        let mut tail = Vec::new();
        for ifd in [ifd0, exif_ifd, gps_ifd] {
            head.extend_from_slice(&(ifd.len() as u16).to_le_bytes());
            for entry in ifd {
                head.extend_from_slice(&entry.tag.to_le_bytes());
                head.extend_from_slice(&entry.kind.to_le_bytes());
                head.extend_from_slice(&entry.count.to_le_bytes());
                if entry.data.len() <= 4 {
                    let mut inline = entry.data.clone();
                    inline.resize(4, 0);
                    head.extend_from_slice(&inline);
                } else {
                    head.extend_from_slice(&(data_offset as u32).to_le_bytes());
                    data_offset += entry.data.len();
                    tail.extend_from_slice(&entry.data);
                }
            }
            head.extend_from_slice(&0u32.to_le_bytes());
        }
        head.extend_from_slice(&tail);
        head
    }

    pub(crate) fn camera_block() -> Vec<u8> {
        tiff_block(
            vec![ascii(0x010F, "Canon"), ascii(0x0110, "Canon EOS R5 "), short(0x0112, 6), ascii(0x0132, "2024:05:02 10:00:00")],
            vec![ascii(0x9003, "2024:05:01 08:30:15"), ascii(0xA434, "RF24-70mm F2.8 L IS USM")],
            vec![
                ascii(0x0001, "N"),
                rationals(0x0002, &[(39, 1), (54, 1), (2700, 100)]),
                ascii(0x0003, "W"),
                rationals(0x0004, &[(116, 1), (23, 1), (0, 1)]),
            ],
        )
    }

    #[test]
    fn exif_fields_from_built_block() {
        let info = ExifInfo::from_raw(&camera_block());

        assert_eq!(info.taken_at.as_deref(), Some("2024-05-01T08:30:15"));
        assert_eq!(info.camera_make.as_deref(), Some("Canon"));
        assert_eq!(info.camera_model.as_deref(), Some("Canon EOS R5"));
        assert_eq!(info.lens_model.as_deref(), Some("RF24-70mm F2.8 L IS USM"));
        let (latitude, longitude) = info.gps.expect("GPS position");
        assert!((latitude - 39.9075).abs() < 1e-9, "latitude {latitude}");
        assert!((longitude + 116.383_333_333).abs() < 1e-6, "longitude {longitude}");
    }

    #[test]
    fn exif_datetime_falls_back_to_modify_time() {
        let block = tiff_block(vec![ascii(0x0132, "2020:01:02 03:04:05")], vec![], vec![]);
        assert_eq!(ExifInfo::from_raw(&block).taken_at.as_deref(), Some("2020-01-02T03:04:05"));
    }

    #[test]
    fn exif_rejects_zeroed_datetime_and_bad_gps() {
        let block = tiff_block(
            vec![],
            vec![ascii(0x9003, "0000:00:00 00:00:00")],
            vec![rationals(0x0002, &[(39, 0), (0, 1), (0, 1)]), ascii(0x0003, "E"), rationals(0x0004, &[(1, 1)])],
        );
        let info = ExifInfo::from_raw(&block);

        assert_eq!(info.taken_at, None);
        assert_eq!(info.gps, None);
    }

    #[test]
    fn exif_garbage_gives_empty_info() {
        assert!(ExifInfo::from_raw(b"").is_empty());
        assert!(ExifInfo::from_raw(b"II*\0\xFF\xFF\xFF\xFF").is_empty());
        assert!(ExifInfo::from_raw(&[0x4D; 300]).is_empty());
    }
}
