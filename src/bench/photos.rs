//! Large JPEG photos made on the fly, so that camera-sized inputs need no committed
//! files. Each photo has smooth gradients, shapes and sensor-like noise, which gives
//! JPEG sizes and decode costs close to a real photo's (a flat image would decode
//! unrealistically fast).

use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::RgbImage;
use serde::Serialize;

use super::rng::SplitMix64;
use super::BenchError;

/// A number of photos, as `--generate COUNTxMEGAPIXELS` gives it: all of one size at 3:2,
/// or, with a range such as `400x0.05-4`, each of its own size and aspect ratio.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GeneratedSet {
    /// Photos to write.
    pub count: usize,
    /// Pixels per photo, in millions: the size of every photo, or the smallest size of a
    /// range.
    pub megapixels: f64,
    /// The largest size of a range, in millions of pixels; `None` for one size at 3:2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_megapixels: Option<f64>,
}

impl GeneratedSet {
    /// Creates a set of `count` photos of `megapixels` million pixels each, at 3:2.
    pub fn uniform(count: usize, megapixels: f64) -> Self {
        GeneratedSet { count, megapixels, max_megapixels: None }
    }

    /// Returns `(width, height)` in pixels of a one-size set: 3:2 landscape with
    /// `megapixels` million pixels, so 12 gives 4243 × 2828 and 24 gives 6000 × 4000.
    pub fn size_px(&self) -> (u32, u32) {
        size_at(self.megapixels, 1.5)
    }

    /// Returns the size of photo `index`. In a range, the size is drawn log-uniformly
    /// between both ends and the aspect ratio between 1:3 and 3:1 (portrait or
    /// landscape), from a seed of `index`, so that the photos fall in every patch budget.
    pub fn photo_size_px(&self, index: usize) -> (u32, u32) {
        let Some(max) = self.max_megapixels else {
            return self.size_px();
        };
        let mut rng = SplitMix64::new((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x51_2E5);
        let (low, high) = (self.megapixels.ln(), max.ln());
        let megapixels = (low + (high - low) * f64::from(rng.next_f32())).exp();
        let aspect = 3f64.powf(f64::from(rng.next_f32()) * 2.0 - 1.0);
        size_at(megapixels, aspect)
    }
}

/// Width and height of `megapixels` million pixels at `aspect` (width over height).
fn size_at(megapixels: f64, aspect: f64) -> (u32, u32) {
    let pixels = megapixels.max(0.0) * 1e6;
    let height = (pixels / aspect).sqrt().round().max(1.0);
    let width = (height * aspect).round().max(1.0);
    (width as u32, height as u32)
}

impl std::str::FromStr for GeneratedSet {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let (count, megapixels) = value
            .split_once(['x', 'X'])
            .ok_or_else(|| format!("`{value}` is not COUNTxMEGAPIXELS, such as 4x24 or 400x0.05-4\n`{value}` 不是“数量x百万像素”，例如 4x24 或 400x0.05-4"))?;
        let count: usize = count.trim().parse().map_err(|_| format!("`{value}`: `{count}` is not a photo count\n`{value}`：`{count}` 不是照片数量"))?;
        let number = |text: &str| -> Result<f64, String> {
            text.trim().parse().map_err(|_| format!("`{value}`: `{text}` is not a number of megapixels\n`{value}`：`{text}` 不是百万像素数"))
        };
        let (low, high) = match megapixels.split_once('-') {
            Some((low, high)) => (number(low)?, Some(number(high)?)),
            None => (number(megapixels)?, None),
        };
        if count == 0 || count > MAX_GENERATED {
            return Err(format!("`{value}`: the photo count must be 1 to {MAX_GENERATED}\n`{value}`：照片数量须在 1 到 {MAX_GENERATED} 之间"));
        }
        let valid = |mp: f64| mp > 0.0 && mp <= 200.0;
        if !valid(low) || !high.is_none_or(valid) {
            return Err(format!("`{value}`: megapixels must be above 0 and at most 200\n`{value}`：百万像素数须大于 0 且不超过 200"));
        }
        if high.is_some_and(|high| high < low) {
            return Err(format!("`{value}`: a range gives the smaller size first, such as 400x0.05-4\n`{value}`：范围须先写较小的尺寸，例如 400x0.05-4"));
        }
        Ok(GeneratedSet { count, megapixels: low, max_megapixels: high })
    }
}

/// The maximum number of photos one `--generate` set may request.
pub const MAX_GENERATED: usize = 100_000;

/// Writes every set's photos as quality-90 JPEGs into `dir` and returns their paths.
/// Photo `i` of a set is seeded with `i`, so reruns write the same files.
pub fn write_generated_photos(dir: &Path, sets: &[GeneratedSet]) -> Result<Vec<PathBuf>, BenchError> {
    std::fs::create_dir_all(dir).map_err(|source| BenchError::io(dir, source))?;
    let mut paths = Vec::new();
    for (set_number, set) in sets.iter().enumerate() {
        for index in 0..set.count {
            let (width, height) = set.photo_size_px(index);
            // The set's number keeps two sets of the same size from writing the same files.
            let path = dir.join(format!("generated_{set_number}_{width}x{height}_{index:05}.jpg"));
            let photo = paint_photo(width, height, index as u64);
            let file = std::fs::File::create(&path).map_err(|source| BenchError::io(&path, source))?;
            let mut writer = std::io::BufWriter::new(file);
            JpegEncoder::new_with_quality(&mut writer, 90)
                .encode_image(&photo)
                .map_err(|error| BenchError::Generate { path: path.clone(), reason: error.to_string() })?;
            paths.push(path);
        }
    }
    Ok(paths)
}

/// Paints a diagonal colour gradient, a few discs and rectangles, and per-pixel noise.
fn paint_photo(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut rng = SplitMix64::new(seed.wrapping_mul(0x5851_F42D_4C95_7F2D) ^ 0x00C0_FFEE);
    let base: [f32; 3] = [rng.next_f32() * 200.0, rng.next_f32() * 200.0, rng.next_f32() * 200.0];
    let shapes: Vec<(f32, f32, f32, [u8; 3], bool)> = (0..6)
        .map(|_| {
            let colour = [rng.below(256) as u8, rng.below(256) as u8, rng.below(256) as u8];
            (rng.next_f32(), rng.next_f32(), 0.05 + rng.next_f32() * 0.2, colour, rng.below(2) == 0)
        })
        .collect();
    let (w, h) = (width as f32, height as f32);
    let mut noise = SplitMix64::new(seed ^ 0x1234_5678);

    RgbImage::from_fn(width, height, |x, y| {
        let (u, v) = (x as f32 / w, y as f32 / h);
        let mut pixel = [base[0] + 55.0 * u, base[1] + 55.0 * v, base[2] + 55.0 * (1.0 - u)];
        for &(cx, cy, radius, colour, is_disc) in &shapes {
            let (dx, dy) = ((u - cx) * w / h, v - cy);
            let inside = if is_disc { dx * dx + dy * dy < radius * radius } else { dx.abs() < radius && dy.abs() < radius * 0.6 };
            if inside {
                pixel = [f32::from(colour[0]), f32::from(colour[1]), f32::from(colour[2])];
            }
        }
        let grain = (noise.next_u64() & 0x0F) as f32 - 7.5;
        image::Rgb(pixel.map(|channel| (channel + grain).clamp(0.0, 255.0) as u8))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_count_and_megapixels() {
        assert_eq!("4x24".parse::<GeneratedSet>(), Ok(GeneratedSet::uniform(4, 24.0)));
        assert_eq!("2X0.5".parse::<GeneratedSet>(), Ok(GeneratedSet::uniform(2, 0.5)));
        assert_eq!("400x0.05-4".parse::<GeneratedSet>(), Ok(GeneratedSet { count: 400, megapixels: 0.05, max_megapixels: Some(4.0) }));
        let error = "4x3-1".parse::<GeneratedSet>().unwrap_err();
        assert!(error.contains("smaller size first"), "a range runs from small to large: {error}");
        assert!(error.contains("范围须先写较小的尺寸"), "the error is bilingual: {error}");
        let error = "4x1-300".parse::<GeneratedSet>().unwrap_err();
        assert!(error.contains("at most 200"), "{error}");
        let error = format!("{}x1", MAX_GENERATED + 1).parse::<GeneratedSet>().unwrap_err();
        assert!(error.contains("photo count must be"), "{error}");
        assert!("24".parse::<GeneratedSet>().is_err());
        assert!("0x12".parse::<GeneratedSet>().is_err());
        assert!("3x-1".parse::<GeneratedSet>().is_err());
    }

    #[test]
    fn sizes_are_three_to_two() {
        assert_eq!(GeneratedSet::uniform(1, 24.0).size_px(), (6000, 4000));
        let (width, height) = GeneratedSet::uniform(1, 12.0).size_px();
        assert!((f64::from(width) * f64::from(height) / 1e6 - 12.0).abs() < 0.01);
    }

    #[test]
    fn writes_decodable_jpegs() {
        let dir = tempfile::tempdir().unwrap();
        let sets = [GeneratedSet::uniform(2, 0.06)];
        let paths = write_generated_photos(dir.path(), &sets).unwrap();
        assert_eq!(paths.len(), 2);
        let decoded = image::open(&paths[0]).unwrap();
        assert_eq!((decoded.width(), decoded.height()), sets[0].size_px());
        assert_ne!(std::fs::read(&paths[0]).unwrap(), std::fs::read(&paths[1]).unwrap(), "seeds differ");
    }

    #[test]
    fn repeated_sets_write_distinct_files() {
        let dir = tempfile::tempdir().unwrap();
        let set = GeneratedSet::uniform(2, 0.01);
        let paths = write_generated_photos(dir.path(), &[set, set]).unwrap();
        assert_eq!(paths.len(), 4);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4, "each set writes files of its own: {paths:?}");
    }

    #[test]
    fn range_varies_size_and_aspect() {
        let set: GeneratedSet = "200x0.05-4".parse().unwrap();
        let sizes: Vec<(u32, u32)> = (0..set.count).map(|i| set.photo_size_px(i)).collect();
        assert_eq!(sizes, (0..set.count).map(|i| set.photo_size_px(i)).collect::<Vec<_>>(), "sizes follow the index");
        let megapixels: Vec<f64> = sizes.iter().map(|&(w, h)| f64::from(w) * f64::from(h) / 1e6).collect();
        assert!(megapixels.iter().all(|&mp| (0.049..=4.01).contains(&mp)), "{megapixels:?}");
        assert!(megapixels.iter().any(|&mp| mp < 0.1), "small photos: {megapixels:?}");
        assert!(megapixels.iter().any(|&mp| mp > 2.0), "large photos: {megapixels:?}");
        let aspects: Vec<f64> = sizes.iter().map(|&(w, h)| f64::from(w) / f64::from(h)).collect();
        assert!(aspects.iter().all(|&a| (0.33..=3.01).contains(&a)), "{aspects:?}");
        assert!(aspects.iter().any(|&a| a < 0.5), "portrait photos: {aspects:?}");
        assert!(aspects.iter().any(|&a| a > 2.0), "landscape photos: {aspects:?}");

        let dir = tempfile::tempdir().unwrap();
        let few = GeneratedSet { count: 3, ..set };
        let paths = write_generated_photos(dir.path(), &[few]).unwrap();
        for (index, path) in paths.iter().enumerate() {
            let decoded = image::open(path).unwrap();
            assert_eq!((decoded.width(), decoded.height()), few.photo_size_px(index));
        }
    }
}
