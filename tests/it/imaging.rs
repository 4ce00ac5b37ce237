//! Decoding the corpus of real and odd photos: formats, orientation, size limits, typed
//! errors, EXIF and thumbnails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::RgbImage;
use xunying::imaging::{
    decode_bytes, decode_file, decode_file_bytes_reduced, is_supported_extension, probe, thumbnail, write_jpeg_atomic, DecodeLimits,
    DecodedImage, ImagingError, PhotoFormat, THUMB_LARGE_EDGE_PX, THUMB_SMALL_EDGE_PX,
};

use crate::support::corpus_dir;

/// Per-file decode time allowed in the corpus sweeps. It is generous because debug builds
/// on a shared two-core machine are slow, and a hang or an unbounded allocation takes far
/// longer.
const MAX_DECODE_TIME: Duration = Duration::from_secs(20);

fn files_in(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir().join(folder))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// Asserts that an error message is bilingual: an English line, then a Chinese line.
fn assert_bilingual(error: &ImagingError, file: &str) {
    let message = error.to_string();
    let (english, chinese) = message.split_once('\n').unwrap_or_else(|| panic!("{file}: one-line message {message:?}"));
    assert!(!english.trim().is_empty(), "{file}: empty English line");
    assert!(!has_chinese(english), "{file}: English line {english:?}");
    assert!(has_chinese(chinese), "{file}: Chinese line {chinese:?}");
}

fn decode_timed(path: &Path) -> (Result<DecodedImage, ImagingError>, Duration) {
    let start = Instant::now();
    let result = decode_file(path, &DecodeLimits::default());
    (result, start.elapsed())
}

fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    total as f64 / a.as_raw().len() as f64
}

#[test]
fn photos_corpus_decodes() {
    let mut decoded = Vec::new();
    for path in files_in("photos") {
        let file = name(&path);
        let (result, elapsed) = decode_timed(&path);
        assert!(elapsed < MAX_DECODE_TIME, "{file} took {elapsed:?}");
        match result {
            Ok(image) => {
                assert!(image.rgb.width() > 0, "{file}: zero width");
                assert!(image.rgb.height() > 0, "{file}: zero height");
                decoded.push(format!("{file} {}x{} {}", image.rgb.width(), image.rgb.height(), image.format));
            }
            // Its samples are 64-bit floats, which the TIFF decoder does not read.
            Err(error @ ImagingError::Unsupported { .. }) if file == "multipage_rgb.tif" => {
                assert_bilingual(&error, &file);
                decoded.push(format!("{file} unsupported: {}", error.to_string().lines().next().unwrap()));
            }
            Err(error) => panic!("{file} failed to decode: {error}"),
        }
    }
    println!("decoded photos:\n  {}", decoded.join("\n  "));
    assert_eq!(decoded.len(), files_in("photos").len());
}

#[test]
fn odd_corpus_decodes_or_fails_typed() {
    let mut outcomes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in files_in("odd") {
        let file = name(&path);
        let (result, elapsed) = decode_timed(&path);
        assert!(elapsed < MAX_DECODE_TIME, "{file} took {elapsed:?}");
        match result {
            Ok(image) => {
                assert!(image.rgb.width() > 0, "{file}: zero width");
                assert!(image.rgb.height() > 0, "{file}: zero height");
                assert!((1..=8).contains(&image.orientation), "{file}: orientation {}", image.orientation);
                outcomes.entry("decoded".to_string()).or_default().push(file);
            }
            Err(error) => {
                assert_bilingual(&error, &file);
                assert!(!matches!(error, ImagingError::Io { .. }), "{file}: I/O error {error}");
                let reason = error.to_string().lines().next().unwrap_or_default().replace(&path.display().to_string(), "FILE");
                outcomes.entry(error.kind().to_string()).or_default().push(format!("{file}: {reason}"));
            }
        }
    }

    println!("odd corpus outcomes:");
    for (outcome, files) in &outcomes {
        println!("  {outcome}: {}", files.len());
        for file in files {
            println!("    {file}");
        }
    }
    let total: usize = outcomes.values().map(Vec::len).sum();
    assert_eq!(total, files_in("odd").len());
    assert!(outcomes["decoded"].len() > 150, "only {} odd files decoded", outcomes["decoded"].len());
    // tiff 0.11.3 panics on the two tiled planar 16-bit files. Each panic must come back
    // as an error for that file alone.
    assert!(outcomes.get("decoder_panicked").map_or(0, Vec::len) <= 2, "{:?}", outcomes.get("decoder_panicked"));
}

#[test]
fn orientation_landscape_all_upright() {
    let dir = corpus_dir().join("orientation");
    let reference = decode_file(&dir.join("Landscape_0.jpg"), &DecodeLimits::default()).unwrap().rgb;
    assert_eq!(reference.dimensions(), (1800, 1200));

    for orientation in 1..=8u8 {
        let decoded = decode_file(&dir.join(format!("Landscape_{orientation}.jpg")), &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.orientation, orientation);
        assert_eq!(decoded.rgb.dimensions(), reference.dimensions(), "Landscape_{orientation}");
        let diff = mean_abs_diff(&decoded.rgb, &reference);
        println!("Landscape_{orientation}: mean abs diff {diff:.2}");
        assert!(diff < 6.0, "Landscape_{orientation} differs from Landscape_0 by {diff:.2}");
    }
}

#[test]
fn reduced_jpeg_upright_near_full() {
    let dir = corpus_dir().join("orientation");
    let limits = DecodeLimits::default();
    for orientation in 1..=8u8 {
        let path = dir.join(format!("Landscape_{orientation}.jpg"));
        let full = decode_file(&path, &limits).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // 1800 × 1200 upright; 400 × 250 fits in a quarter (450 × 300) but not an eighth.
        let reduced = decode_file_bytes_reduced(&bytes, &path, &limits, &|full_size| {
            assert_eq!(full_size, (1800, 1200), "Landscape_{orientation}");
            (400, 250)
        })
        .unwrap();
        assert_eq!(reduced.orientation, orientation);
        assert_eq!(reduced.full_size, (1800, 1200), "Landscape_{orientation}");
        assert_eq!(reduced.stored_size, full.stored_size, "Landscape_{orientation}");
        assert_eq!(reduced.rgb.dimensions(), (450, 300), "Landscape_{orientation}");
        assert_eq!(reduced.exif.camera_model, full.exif.camera_model);

        let shrunk = thumbnail(&full.rgb, 450);
        assert_eq!(shrunk.dimensions(), (450, 300));
        let diff = mean_abs_diff(&reduced.rgb, &shrunk);
        println!("Landscape_{orientation}: reduced decode against shrunk full decode, mean abs diff {diff:.2}");
        assert!(diff < 3.0, "Landscape_{orientation}: reduced decode differs by {diff:.2} levels");
    }
}

#[test]
fn reduced_decode_falls_back_to_full_size() {
    let limits = DecodeLimits::default();
    let landscape = corpus_dir().join("orientation/Landscape_1.jpg");
    let bytes = std::fs::read(&landscape).unwrap();
    // More than half the size is needed: no reduction fits.
    let whole = decode_file_bytes_reduced(&bytes, &landscape, &limits, &|_| (901, 10)).unwrap();
    assert_eq!((whole.rgb.dimensions(), whole.full_size), ((1800, 1200), (1800, 1200)));

    // CMYK JPEGs and other formats are always decoded whole.
    let cmyk = crate::support::repo_root().join("tests/fixtures/imaging/cmyk.jpg");
    let decoded = decode_file_bytes_reduced(&std::fs::read(&cmyk).unwrap(), &cmyk, &limits, &|_| (1, 1)).unwrap();
    assert_eq!((decoded.rgb.dimensions(), decoded.full_size), ((64, 32), (64, 32)));
    let png = corpus_dir().join("odd/hopper.png");
    let decoded = decode_file_bytes_reduced(&std::fs::read(&png).unwrap(), &png, &limits, &|_| (1, 1)).unwrap();
    assert_eq!(decoded.rgb.dimensions(), decoded.full_size);

    // The size limits hold before any pixels are decoded, and a file cut off in the
    // middle of its image data is refused.
    let small = DecodeLimits { max_pixels: 1_000_000, ..DecodeLimits::default() };
    let error = decode_file_bytes_reduced(&bytes, &landscape, &small, &|_| (1, 1)).unwrap_err();
    assert!(matches!(error, ImagingError::TooLarge { width: 1800, height: 1200, .. }), "{error:?}");
    let error = decode_file_bytes_reduced(&bytes[..bytes.len() / 3], &landscape, &limits, &|_| (1, 1)).unwrap_err();
    assert!(matches!(error, ImagingError::Truncated { .. }), "{error:?}");
}

#[test]
fn orientation_hopper_matches_reference() {
    let reference = decode_file(&corpus_dir().join("odd/hopper.png"), &DecodeLimits::default()).unwrap().rgb;
    let oriented = ["2.jpg", "4.jpg", "7.jpg", "8.jpg", "2.webp", "3.webp", "4.webp", "5.webp", "6.webp", "7.webp"];
    for suffix in oriented {
        let file = format!("hopper_orientation_{suffix}");
        let decoded = decode_file(&corpus_dir().join("odd").join(&file), &DecodeLimits::default()).unwrap();
        assert_ne!(decoded.orientation, 1, "{file}: orientation not read");
        let diff = mean_abs_diff(&decoded.rgb, &reference);
        println!("{file}: orientation {}, mean abs diff {diff:.2}", decoded.orientation);
        assert!(diff < 12.0, "{file} differs from hopper.png by {diff:.2}");
    }
}

#[test]
fn orientation_tiff_tag_applied() {
    let decoded = decode_file(&corpus_dir().join("odd/g4_orientation_3.tif"), &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.orientation, 3);
    assert_eq!(decoded.rgb.dimensions(), decoded.stored_size);
}

#[test]
fn decompression_bombs_rejected_by_header() {
    for file in ["decompression_bomb.gif", "bmp_b_reallybig.bmp"] {
        let (result, elapsed) = decode_timed(&corpus_dir().join("odd").join(file));
        assert!(elapsed < Duration::from_secs(5), "{file} took {elapsed:?}");
        match result {
            Err(error @ ImagingError::TooLarge { .. }) => {
                let message = error.to_string();
                assert!(message.contains("200000000"), "{file}: limit missing from {message:?}");
                println!("{file}: {}", message.lines().next().unwrap());
            }
            other => panic!("{file}: expected TooLarge, got {other:?}"),
        }
    }
}

#[test]
fn hostile_files_finish_quickly() {
    // The PNG's zTXt chunks would inflate to a huge text, but text is never inflated, so
    // its 1×1 image decodes. The TIFF declares 303 million samples per pixel.
    for file in ["png_decompression_dos.png", "oom-225817ca0f8c663be7ab4b9e717b02c661e66834.tif", "decompression_bomb_extents.gif"] {
        let (result, elapsed) = decode_timed(&corpus_dir().join("odd").join(file));
        assert!(elapsed < Duration::from_secs(5), "{file} took {elapsed:?}");
        println!("{file}: {:?}", result.map(|image| image.rgb.dimensions()).map_err(|error| error.kind()));
    }
    let tiff = decode_file(&corpus_dir().join("odd/oom-225817ca0f8c663be7ab4b9e717b02c661e66834.tif"), &DecodeLimits::default());
    assert!(tiff.is_err());
}

#[test]
fn pixel_limit_states_size_and_limit() {
    let limits = DecodeLimits { max_pixels: 10_000, ..DecodeLimits::default() };
    let error = decode_file(&corpus_dir().join("odd/hopper.png"), &limits).unwrap_err();
    assert!(matches!(error, ImagingError::TooLarge { width: 128, height: 128, limit_pixels: 10_000, .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("128 × 128"), "{message}");
    assert!(message.contains("10000"), "{message}");
    assert!(error.is_permanent());
}

#[test]
fn empty_text_and_truncated_files_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.jpg");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, "shopping list: milk, eggs\n").unwrap();
    let truncated = dir.path().join("truncated.jpg");
    let rocket = std::fs::read(corpus_dir().join("photos/rocket.jpg")).unwrap();
    std::fs::write(&truncated, &rocket[..200]).unwrap();
    let missing = dir.path().join("missing.jpg");

    let limits = DecodeLimits::default();
    let empty_error = decode_file(&empty, &limits).unwrap_err();
    let text_error = decode_file(&text, &limits).unwrap_err();
    let truncated_error = decode_file(&truncated, &limits).unwrap_err();
    let missing_error = decode_file(&missing, &limits).unwrap_err();

    assert!(matches!(empty_error, ImagingError::Empty { .. }), "{empty_error:?}");
    assert!(matches!(text_error, ImagingError::NotAnImage { .. }), "{text_error:?}");
    assert!(matches!(truncated_error, ImagingError::Truncated { .. }), "{truncated_error:?}");
    assert!(matches!(missing_error, ImagingError::Io { .. }), "{missing_error:?}");
    for error in [&empty_error, &text_error, &truncated_error] {
        assert!(error.is_permanent(), "{error:?}");
        assert_bilingual(error, "temp file");
    }
    assert!(!missing_error.is_permanent());
}

#[test]
fn cmyk_jpeg_converts_to_rgb() {
    // 64×32 Adobe CMYK JPEG (inverted values, as Photoshop writes them): the left half
    // contains RGB (8x, 8y, 200) as C=255-R, M=255-G, Y=255-B, K=0. The right half is
    // pure black ink K=191, which is RGB 64.
    let path = crate::support::repo_root().join("tests/fixtures/imaging/cmyk.jpg");
    let decoded = decode_file(&path, &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.rgb.dimensions(), (64, 32));

    for (x, y) in [(2u32, 3u32), (20, 10), (28, 28)] {
        let expected = [x * 8, y * 8, 200];
        let actual = decoded.rgb.get_pixel(x, y).0;
        for channel in 0..3 {
            let diff = (i64::from(actual[channel]) - i64::from(expected[channel])).abs();
            assert!(diff <= 12, "pixel ({x}, {y}) is {actual:?}, expected about {expected:?}");
        }
    }
    let black_ink = decoded.rgb.get_pixel(48, 16).0;
    assert!(black_ink.iter().all(|&v| (52..=76).contains(&v)), "K=191 decoded as {black_ink:?}");
}

#[test]
fn exif_fields_from_corpus() {
    let odd = corpus_dir().join("odd");
    let limits = DecodeLimits::default();

    for file in ["flower.jpg", "flower.webp"] {
        let exif = decode_file(&odd.join(file), &limits).unwrap().exif;
        assert_eq!(exif.camera_make.as_deref(), Some("Canon"), "{file}");
        assert_eq!(exif.camera_model.as_deref(), Some("Canon PowerShot S40"), "{file}");
        assert_eq!(exif.taken_at.as_deref(), Some("2003-12-14T12:01:44"), "{file}");
    }

    let iphone = decode_file(&odd.join("frame_size.mpo"), &limits).unwrap().exif;
    assert_eq!(iphone.camera_make.as_deref(), Some("Apple"));
    assert_eq!(iphone.lens_model.as_deref(), Some("iPhone 14 Pro Max back triple camera 6.86mm f/1.78"));

    // DateTimeOriginal (2013) wins over DateTime (2017).
    let nikon = decode_file(&odd.join("broken_exif_dpi.jpg"), &limits).unwrap().exif;
    assert_eq!(nikon.taken_at.as_deref(), Some("2013-09-11T16:45:13"));
    assert_eq!(nikon.camera_model.as_deref(), Some("NIKON D800"));

    let xiaomi = decode_file(&odd.join("empty_gps_ifd.jpg"), &limits).unwrap();
    assert_eq!(xiaomi.exif.camera_make.as_deref(), Some("Xiaomi"));
    assert_eq!(xiaomi.exif.gps, None);
    assert_eq!(xiaomi.orientation, 6);
    assert_eq!(xiaomi.rgb.dimensions(), (xiaomi.stored_size.1, xiaomi.stored_size.0));

    // "2017:08:21 15:08:70" has 70 seconds.
    let tiff = decode_file(&odd.join("tiff_16bit_RGB.tiff"), &limits).unwrap().exif;
    assert_eq!(tiff.taken_at, None);
}

#[test]
fn broken_exif_never_fails_decode() {
    let odd = corpus_dir().join("odd");
    let files = ["invalid-exif.jpg", "invalid-exif-without-x-resolution.jpg", "exif_typeerror.jpg", "exif_gps_typeerror.jpg", "broken_exif_dpi.jpg", "hopper_bad_exif.jpg", "exif-ifd-offset.jpg", "multiple_exif.jpg"];
    for file in files {
        let decoded = decode_file(&odd.join(file), &DecodeLimits::default()).unwrap_or_else(|error| panic!("{file}: {error}"));
        println!("{file}: {:?}", decoded.exif);
        assert!(decoded.rgb.width() > 0, "{file}");
    }
    let with_nul = decode_file(&odd.join("invalid-exif-without-x-resolution.jpg"), &DecodeLimits::default()).unwrap();
    assert_eq!(with_nul.exif.taken_at.as_deref(), Some("2016-12-03T11:17:43"));
}

#[test]
fn probe_reads_header_only_fields() {
    let path = corpus_dir().join("orientation/Landscape_6.jpg");
    let info = probe(&path).unwrap();
    let decoded = decode_file(&path, &DecodeLimits::default()).unwrap();

    assert_eq!(info.format, PhotoFormat::Jpeg);
    assert_eq!(info.orientation, 6);
    assert_eq!(info.stored_size, decoded.stored_size);
    assert_eq!(info.upright_size(), decoded.rgb.dimensions());

    let png = probe(&corpus_dir().join("photos/coffee.png")).unwrap();
    assert_eq!((png.format, png.orientation), (PhotoFormat::Png, 1));
    assert!(matches!(probe(&corpus_dir().join("README.md")), Err(ImagingError::NotAnImage { .. })));
}

#[cfg(not(feature = "heif"))]
#[test]
fn avif_without_heif_feature_unsupported() {
    let error = decode_file(&corpus_dir().join("odd/avif_hopper.avif"), &DecodeLimits::default()).unwrap_err();
    assert!(matches!(error, ImagingError::Unsupported { .. }), "{error:?}");
    assert!(error.to_string().contains("AVIF"), "{error}");
    assert_bilingual(&error, "avif_hopper.avif");
}

#[cfg(feature = "heif")]
#[test]
fn avif_decodes_with_libheif() {
    let reference = decode_file(&corpus_dir().join("odd/hopper.png"), &DecodeLimits::default()).unwrap().rgb;
    let decoded = decode_file(&corpus_dir().join("odd/avif_hopper.avif"), &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.format, PhotoFormat::Avif);
    assert_eq!(decoded.rgb.dimensions(), reference.dimensions());
    let diff = mean_abs_diff(&decoded.rgb, &reference);
    assert!(diff < 12.0, "avif_hopper differs from hopper.png by {diff:.2}");

    // The four files store one picture under different rotations and mirrorings, each
    // undone by its container's `irot` and `imir`, so all decode to the same upright
    // 640 × 427 picture (as Pillow renders them). Without the transformations three of
    // them come out 427 × 640, and the mirrored one comes out flipped.
    let mut upright = BTreeMap::new();
    for file in ["avif_rot0mir1.avif", "avif_rot1mir1.avif", "avif_rot3mir0.avif", "avif_rot3mir1.avif"] {
        let decoded = decode_file(&corpus_dir().join("odd").join(file), &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.orientation, 1, "{file}");
        assert_eq!(decoded.rgb.dimensions(), (640, 427), "{file}");
        upright.insert(file, decoded.rgb);
    }
    let reference = &upright["avif_rot3mir0.avif"];
    for (file, rgb) in &upright {
        let diff = mean_abs_diff(rgb, reference);
        assert!(diff < 12.0, "{file} differs from avif_rot3mir0.avif by {diff:.2}");
    }
    let flipped = image::imageops::flip_horizontal(&upright["avif_rot0mir1.avif"]);
    let diff = mean_abs_diff(&flipped, reference);
    assert!(diff > 24.0, "the mirrored file unmirrored would match too: {diff:.2}");
}

#[test]
fn thumbnails_fit_edge_and_keep_aspect() {
    let photo = decode_file(&corpus_dir().join("orientation/Landscape_1.jpg"), &DecodeLimits::default()).unwrap().rgb;
    let (width, height) = photo.dimensions();

    for edge in [THUMB_SMALL_EDGE_PX, THUMB_LARGE_EDGE_PX] {
        let thumb = thumbnail(&photo, edge);
        let (thumb_width, thumb_height) = thumb.dimensions();
        assert_eq!(thumb_width.max(thumb_height), edge);
        let expected_height = f64::from(height) * f64::from(thumb_width) / f64::from(width);
        assert!((f64::from(thumb_height) - expected_height).abs() <= 1.0, "{thumb_width}×{thumb_height} from {width}×{height}");
    }

    let small = decode_file(&corpus_dir().join("odd/hopper.png"), &DecodeLimits::default()).unwrap().rgb;
    assert_eq!(thumbnail(&small, THUMB_SMALL_EDGE_PX).dimensions(), small.dimensions());
}

#[test]
fn thumbnail_write_is_atomic() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("thumb.jpg");
    let photo = decode_file(&corpus_dir().join("odd/hopper.png"), &DecodeLimits::default()).unwrap().rgb;

    write_jpeg_atomic(&thumbnail(&photo, 64), &target, 85).unwrap();
    write_jpeg_atomic(&photo, &target, 85).unwrap();

    let names: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["thumb.jpg"]);
    let written = decode_bytes(&std::fs::read(&target).unwrap(), &DecodeLimits::default()).unwrap();
    assert_eq!((written.format, written.rgb.dimensions()), (PhotoFormat::Jpeg, (128, 128)));

    let missing_dir = dir.path().join("no/such/dir/thumb.jpg");
    assert!(matches!(write_jpeg_atomic(&photo, &missing_dir, 85), Err(ImagingError::Io { .. })));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn supported_extensions_match_scanner_list() {
    for name in ["a.jpg", "b.JPEG", "c.jpe", "d.png", "e.webp", "f.gif", "g.tif", "h.TIFF", "i.bmp", "j.avif", "k.heic", "l.HEIF"] {
        assert!(is_supported_extension(Path::new(name)), "{name}");
    }
    for name in ["a.txt", "b.mov", "c.cr2", "noextension"] {
        assert!(!is_supported_extension(Path::new(name)), "{name}");
    }
}

/// Returns the path of a 64×48 HEIC made by libheif 1.15's `heif-enc` (x265) from a
/// JPEG whose left half is red and right half blue, with EXIF Make "Xunying" and
/// DateTimeOriginal 2021-06-15.
fn heic_fixture() -> PathBuf {
    crate::support::repo_root().join("tests/fixtures/imaging/exif.heic")
}

#[cfg(not(feature = "heif"))]
#[test]
fn heic_without_heif_feature_unsupported() {
    let error = decode_file(&heic_fixture(), &DecodeLimits::default()).unwrap_err();
    assert!(matches!(error, ImagingError::Unsupported { .. }), "{error:?}");
    assert!(error.to_string().contains("HEIF"), "{error}");
}

#[cfg(feature = "heif")]
#[test]
fn heic_decodes_with_libheif() {
    let decoded = decode_file(&heic_fixture(), &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.format, PhotoFormat::Heif);
    assert_eq!(decoded.rgb.dimensions(), (64, 48));
    let left = decoded.rgb.get_pixel(10, 24).0;
    let right = decoded.rgb.get_pixel(54, 24).0;
    assert!(left[0] > 180, "left pixel {left:?}");
    assert!(left[2] < 80, "left pixel {left:?}");
    assert!(right[2] > 180, "right pixel {right:?}");
    assert!(right[0] < 80, "right pixel {right:?}");
    assert_eq!(decoded.exif.camera_make.as_deref(), Some("Xunying"));
    assert_eq!(decoded.exif.taken_at.as_deref(), Some("2021-06-15T09:10:11"));

    let info = probe(&heic_fixture()).unwrap();
    assert_eq!((info.format, info.stored_size, info.orientation), (PhotoFormat::Heif, (64, 48), 1));
}
