//! NaFlex image preprocessing, as the FG-CLIP 2 reference does it: choose a patch
//! budget from the image size, search the target size whose patch grid fits the budget,
//! resize with an antialiased bilinear filter, normalise, and cut the image into
//! row-major patches padded to the budget.
//!
//! Images arrive as decoded, upright RGB8. Orientation and decoding live elsewhere.

use fast_image_resize::{images::Image as FirImage, images::ImageRef, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

use super::ModelError;

/// Returns the patch budget (`max_num_patches`) for an image of `width × height` pixels.
///
/// The budget is the smallest allowed one that holds `floor(W/p) · floor(H/p)` patches,
/// or the largest when none does. With FG-CLIP 2's budgets 128/256/576/784/1024 this is
/// its bucket rule: 0–128 → 128, 129–256 → 256, 257–576 → 576, 577–784 → 784, more → 1024.
/// `budgets` must be ascending and non-empty.
pub fn choose_patch_budget(width: u32, height: u32, patch_size: u32, budgets: &[usize]) -> usize {
    let num_patches = (width / patch_size) as usize * (height / patch_size) as usize;
    budgets
        .iter()
        .copied()
        .find(|&budget| num_patches <= budget)
        .unwrap_or_else(|| *budgets.last().expect("patch budgets are validated as non-empty"))
}

/// Returns `(target_height, target_width)` in pixels: each side a multiple of
/// `patch_size`, as large as possible while the patch grid holds at most `max_patches`.
///
/// This is the reference's binary search over a common scale factor in (1e-6, 100),
/// 24 halvings in f64, with each side rounded up to a whole patch. Small images are
/// upscaled (a 1×1 image becomes 112×112 at budget 128), and the aspect ratio is kept
/// only approximately.
pub fn target_size(height: u32, width: u32, patch_size: u32, max_patches: usize) -> (u32, u32) {
    let patch = f64::from(patch_size);
    let side_for = |scale: f64, length: u32| -> u32 {
        let scaled = f64::from(length) * scale;
        let rounded = (scaled / patch).ceil() * patch;
        rounded.max(patch) as u32
    };

    let eps = 1e-5;
    let mut lo = eps / 10.0;
    let mut hi = 100.0;
    while (hi - lo) >= eps {
        let mid = (lo + hi) / 2.0;
        let grid_h = f64::from(side_for(mid, height)) / patch;
        let grid_w = f64::from(side_for(mid, width)) / patch;
        if grid_h * grid_w <= max_patches as f64 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (side_for(lo, height), side_for(lo, width))
}

/// Resizes an RGB8 image with an antialiased bilinear (triangle) filter whose support
/// widens with the shrink factor, as Pillow's `BILINEAR` does. Returns the input
/// unchanged when the size already matches.
pub fn resize_rgb(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    if image.width() == width && image.height() == height {
        return image.clone();
    }
    let source = ImageRef::new(image.width(), image.height(), image.as_raw(), PixelType::U8x3)
        .expect("an RgbImage buffer always matches its dimensions");
    let mut target = FirImage::new(width, height, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new()
        .resize(&source, &mut target, &options)
        .expect("U8x3 to U8x3 resizing with non-zero sizes cannot fail");
    RgbImage::from_raw(width, height, target.into_vec()).expect("the resizer fills width × height RGB pixels")
}

/// An image cut into normalised patches, ready for the vision encoder.
#[derive(Debug, Clone)]
pub struct PreparedImage {
    /// Width and height of the image as given, in pixels.
    pub source_size: (u32, u32),
    /// Width and height after resizing, in pixels (multiples of the patch size).
    pub resized_size: (u32, u32),
    /// The patch grid as `(rows, columns)`, height first, as the model's `spatial_shapes`.
    pub spatial_shape: (usize, usize),
    /// The patch budget, which is also the padded token count `M`.
    pub patch_budget: usize,
    /// `[patch_budget, 3·p·p]` values, row-major over the grid, `(dy, dx, channel)` inside
    /// a patch; rows past the valid patches are zero.
    pub pixel_values: Vec<f32>,
}

impl PreparedImage {
    /// Number of real (unpadded) patches.
    pub fn num_valid_patches(&self) -> usize {
        self.spatial_shape.0 * self.spatial_shape.1
    }

    /// Wraps patches prepared elsewhere, such as by the reference Python processor, so
    /// they run through the same encoder path as the host's own.
    ///
    /// `patches` contains the `rows · cols` valid patches, row-major, `3·p·p` values each in
    /// `(dy, dx, channel)` order, already normalised. They are padded with zeros to
    /// `patch_budget` tokens.
    pub fn from_patches(
        patches: &[f32],
        spatial_shape: (usize, usize),
        source_size: (u32, u32),
        patch_size: u32,
        patch_budget: usize,
    ) -> Result<PreparedImage, ModelError> {
        let patch_dim = 3 * (patch_size as usize).pow(2);
        let num_patches = spatial_shape.0 * spatial_shape.1;
        if num_patches == 0 || patches.len() != num_patches * patch_dim {
            return Err(ModelError::InvalidPatches {
                reason: format!(
                    "{} values given for a {}×{} grid of {patch_dim}-value patches; expected {}",
                    patches.len(),
                    spatial_shape.0,
                    spatial_shape.1,
                    num_patches * patch_dim
                ),
            });
        }
        if num_patches > patch_budget {
            return Err(ModelError::InvalidPatches {
                reason: format!("{num_patches} patches do not fit a budget of {patch_budget} tokens"),
            });
        }
        let mut pixel_values = vec![0.0f32; patch_budget * patch_dim];
        pixel_values[..patches.len()].copy_from_slice(patches);
        let resized_size = (spatial_shape.1 as u32 * patch_size, spatial_shape.0 as u32 * patch_size);
        Ok(PreparedImage { source_size, resized_size, spatial_shape, patch_budget, pixel_values })
    }

    /// Pads the patches with zero rows up to `tokens` tokens, leaving the resize and the
    /// valid patches unchanged. The encoder masks padded tokens, so the embeddings should
    /// not change, and `xunying embed --pad-to` uses this to check it.
    pub fn pad_to(&mut self, tokens: usize) -> Result<(), ModelError> {
        if tokens < self.patch_budget {
            return Err(ModelError::InvalidPatches {
                reason: format!("cannot pad {} tokens down to {tokens}", self.patch_budget),
            });
        }
        let patch_dim = self.pixel_values.len() / self.patch_budget;
        self.pixel_values.resize(tokens * patch_dim, 0.0);
        self.patch_budget = tokens;
        Ok(())
    }
}

/// Preprocessing settings taken from a bundle manifest.
#[derive(Debug, Clone)]
pub struct Preprocessor {
    /// Patch side in pixels.
    pub patch_size: u32,
    /// Allowed patch budgets, ascending.
    pub patch_budgets: Vec<usize>,
    /// Per-channel mean subtracted after scaling to [0, 1].
    pub image_mean: [f32; 3],
    /// Per-channel standard deviation divided by after the mean.
    pub image_std: [f32; 3],
}

impl Preprocessor {
    /// Prepares an image at the budget its own size calls for.
    pub fn prepare(&self, image: &RgbImage) -> Result<PreparedImage, ModelError> {
        let budget = choose_patch_budget(image.width(), image.height(), self.patch_size, &self.patch_budgets);
        self.prepare_with_budget(image, budget)
    }

    /// Prepares an image at a given patch budget.
    pub fn prepare_with_budget(&self, image: &RgbImage, patch_budget: usize) -> Result<PreparedImage, ModelError> {
        prepare_image(image, self.patch_size, patch_budget, self.image_mean, self.image_std)
    }

    /// Prepares `image`, a reduced decode of a photo whose whole upright size is
    /// `full_size`: the patch budget and the target size are those of the whole photo, so
    /// only the pixels the resize starts from differ from a full-size decode.
    /// [`PreparedImage::source_size`] is the size of `image`.
    pub fn prepare_as(&self, image: &RgbImage, full_size: (u32, u32)) -> Result<PreparedImage, ModelError> {
        if image.width() == 0 || image.height() == 0 || full_size.0 == 0 || full_size.1 == 0 {
            return Err(ModelError::EmptyImage { width: image.width(), height: image.height() });
        }
        let budget = choose_patch_budget(full_size.0, full_size.1, self.patch_size, &self.patch_budgets);
        let (target_h, target_w) = target_size(full_size.1, full_size.0, self.patch_size, budget);
        prepare_resized(image, (target_w, target_h), self.patch_size, budget, self.image_mean, self.image_std)
    }

    /// Returns the `(width, height)` that the model input of a photo of `full_size`
    /// (upright) is resized to.
    pub fn input_size(&self, full_size: (u32, u32)) -> (u32, u32) {
        let budget = choose_patch_budget(full_size.0, full_size.1, self.patch_size, &self.patch_budgets);
        let (target_h, target_w) = target_size(full_size.1.max(1), full_size.0.max(1), self.patch_size, budget);
        (target_w, target_h)
    }

    /// Returns the smallest reduced decode of a photo of `full_size` that
    /// preprocessing may start from: twice the model input on each side. The antialiased resize then still
    /// shrinks by two or more, and on 12 and 24 MP JPEGs the model input stayed within 4
    /// grey levels (0.2 on average) of the one made from a full-size decode. Starting from
    /// the input size itself differed by up to 27 levels at sharp edges.
    pub fn min_decode_size(&self, full_size: (u32, u32)) -> (u32, u32) {
        let (width, height) = self.input_size(full_size);
        (width.saturating_mul(2), height.saturating_mul(2))
    }
}

/// Resizes, normalises and patchifies `image` for a patch budget.
pub fn prepare_image(
    image: &RgbImage,
    patch_size: u32,
    patch_budget: usize,
    mean: [f32; 3],
    std: [f32; 3],
) -> Result<PreparedImage, ModelError> {
    if image.width() == 0 || image.height() == 0 {
        return Err(ModelError::EmptyImage { width: image.width(), height: image.height() });
    }
    let (target_h, target_w) = target_size(image.height(), image.width(), patch_size, patch_budget);
    prepare_resized(image, (target_w, target_h), patch_size, patch_budget, mean, std)
}

/// Resizes `image` to `(target_w, target_h)`, then normalises and patchifies it.
fn prepare_resized(
    image: &RgbImage,
    (target_w, target_h): (u32, u32),
    patch_size: u32,
    patch_budget: usize,
    mean: [f32; 3],
    std: [f32; 3],
) -> Result<PreparedImage, ModelError> {
    let resized = resize_rgb(image, target_w, target_h);
    let grid = ((target_h / patch_size) as usize, (target_w / patch_size) as usize);
    let pixel_values = patchify(&resized, patch_size as usize, grid, patch_budget, mean, std);

    Ok(PreparedImage {
        source_size: (image.width(), image.height()),
        resized_size: (target_w, target_h),
        spatial_shape: grid,
        patch_budget,
        pixel_values,
    })
}

fn patchify(
    resized: &RgbImage,
    patch: usize,
    (grid_h, grid_w): (usize, usize),
    patch_budget: usize,
    mean: [f32; 3],
    std: [f32; 3],
) -> Vec<f32> {
    let patch_dim = 3 * patch * patch;
    let mut values = vec![0.0f32; patch_budget * patch_dim];
    let row_stride = resized.width() as usize * 3;
    let raw = resized.as_raw();

    // Per channel and byte value, the reference's two steps: rescale in f64 and cast
    // to f32, then `(value - mean) / std` in f32. This reproduces its output bit for bit.
    let mut lut = [[0.0f32; 256]; 3];
    for (channel, table) in lut.iter_mut().enumerate() {
        for (byte, value) in table.iter_mut().enumerate() {
            let rescaled = (byte as f64 / 255.0) as f32;
            *value = (rescaled - mean[channel]) / std[channel];
        }
    }

    for row in 0..grid_h {
        for col in 0..grid_w {
            let token = row * grid_w + col;
            let out = &mut values[token * patch_dim..(token + 1) * patch_dim];
            for dy in 0..patch {
                let src_start = (row * patch + dy) * row_stride + col * patch * 3;
                let src = &raw[src_start..src_start + patch * 3];
                let dst = &mut out[dy * patch * 3..(dy + 1) * patch * 3];
                for (i, (d, &s)) in dst.iter_mut().zip(src).enumerate() {
                    *d = lut[i % 3][s as usize];
                }
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    const FG_CLIP2_BUDGETS: [usize; 5] = [128, 256, 576, 784, 1024];

    /// (W, H, budget or None for the bucket rule, resized W, resized H, grid h, grid w)
    const WORKED_EXAMPLES: [(u32, u32, Option<usize>, u32, u32, usize, usize); 12] = [
        (4032, 3024, None, 576, 432, 27, 36),
        (3024, 4032, None, 432, 576, 36, 27),
        (1920, 1080, None, 672, 384, 24, 42),
        (640, 480, None, 576, 432, 27, 36),
        (500, 375, None, 512, 384, 24, 32),
        (224, 224, None, 256, 256, 16, 16),
        (300, 200, None, 304, 208, 13, 19),
        (100, 100, None, 176, 176, 11, 11),
        (5000, 500, None, 1600, 160, 10, 100),
        (8000, 100, None, 4096, 64, 4, 256),
        (4032, 3024, Some(4096), 1184, 880, 55, 74),
        (2048, 2730, Some(16384), 1776, 2352, 147, 111),
    ];

    #[test]
    fn worked_examples_match_reference() {
        for (w, h, budget, rw, rh, gh, gw) in WORKED_EXAMPLES {
            let budget = budget.unwrap_or_else(|| choose_patch_budget(w, h, 16, &FG_CLIP2_BUDGETS));
            let (th, tw) = target_size(h, w, 16, budget);
            assert_eq!((tw, th), (rw, rh), "resized size of {w}x{h} at budget {budget}");
            assert_eq!(((th / 16) as usize, (tw / 16) as usize), (gh, gw), "grid of {w}x{h}");
            assert!(gh * gw <= budget, "grid of {w}x{h} exceeds budget {budget}");
        }
    }

    #[test]
    fn bucket_thresholds_are_strict() {
        let cases = [(16 * 16, 8, 128), (16 * 16, 9, 256), (16 * 16, 16, 256), (16 * 17, 16, 576), (16 * 24, 24, 576),
            (16 * 577, 1, 784), (16 * 784, 1, 784), (16 * 785, 1, 1024), (16 * 9000, 16 * 9000, 1024)];
        for (w, h_patches, expected) in cases {
            let h = h_patches * 16;
            assert_eq!(choose_patch_budget(w, h, 16, &FG_CLIP2_BUDGETS), expected, "{w}x{h}");
        }
    }

    #[test]
    fn tiny_image_is_upscaled() {
        assert_eq!(target_size(1, 1, 16, 128), (112, 112));
        assert_eq!(choose_patch_budget(1, 1, 16, &FG_CLIP2_BUDGETS), 128);
    }

    #[test]
    fn patches_are_row_major_with_channel_last() {
        // A 32×16 image: left patch red ramp, right patch blue; budget 4 gives padding.
        let mut image = RgbImage::new(32, 16);
        for (x, y, pixel) in image.enumerate_pixels_mut() {
            *pixel = if x < 16 { image::Rgb([(x * 16 + y) as u8, 0, 0]) } else { image::Rgb([0, 0, 255]) };
        }
        let prepared = prepare_image(&image, 16, 4, [0.5; 3], [0.5; 3]).unwrap();
        assert_eq!(prepared.spatial_shape, (1, 2));
        assert_eq!(prepared.resized_size, (32, 16));
        let dim = 768;
        let left = &prepared.pixel_values[..dim];
        // Element (dy=1, dx=2, channel R) holds pixel x=2, y=1.
        let k = (1 * 16 + 2) * 3;
        assert!((left[k] - ((2.0 * 16.0 + 1.0) / 127.5 - 1.0)).abs() < 1e-6);
        assert_eq!(left[k + 1], -1.0);
        let right = &prepared.pixel_values[dim..2 * dim];
        assert_eq!(right[2], 1.0);
        assert_eq!(right[0], -1.0);
        assert!(prepared.pixel_values[2 * dim..].iter().all(|&v| v == 0.0), "padding rows are zero");
    }

    #[test]
    fn from_patches_matches_own_preparation() {
        let image = RgbImage::from_fn(40, 24, |x, y| image::Rgb([(x * 6) as u8, (y * 10) as u8, 77]));
        let own = prepare_image(&image, 16, 8, [0.5; 3], [0.5; 3]).unwrap();
        let valid = &own.pixel_values[..own.num_valid_patches() * 768];
        let wrapped = PreparedImage::from_patches(valid, own.spatial_shape, (40, 24), 16, 8).unwrap();
        assert_eq!(wrapped.pixel_values, own.pixel_values);
        assert_eq!(wrapped.resized_size, own.resized_size);
        assert_eq!(wrapped.source_size, own.source_size);
    }

    #[test]
    fn from_patches_rejects_mismatched_sizes() {
        let patches = vec![0.0f32; 2 * 768];
        let wrong_grid = PreparedImage::from_patches(&patches, (1, 3), (48, 16), 16, 8);
        assert!(matches!(wrong_grid, Err(ModelError::InvalidPatches { .. })));
        let over_budget = PreparedImage::from_patches(&patches, (1, 2), (32, 16), 16, 1);
        assert!(matches!(over_budget, Err(ModelError::InvalidPatches { .. })));
    }

    #[test]
    fn pad_to_adds_zero_tokens() {
        let image = RgbImage::from_pixel(32, 16, image::Rgb([200, 10, 30]));
        let mut prepared = prepare_image(&image, 16, 4, [0.5; 3], [0.5; 3]).unwrap();
        let before = prepared.pixel_values.clone();
        prepared.pad_to(10).unwrap();
        assert_eq!(prepared.patch_budget, 10);
        assert_eq!(prepared.pixel_values.len(), 10 * 768);
        assert_eq!(&prepared.pixel_values[..before.len()], &before[..]);
        assert!(prepared.pixel_values[before.len()..].iter().all(|&v| v == 0.0));
        assert!(matches!(prepared.pad_to(3), Err(ModelError::InvalidPatches { .. })));
    }

    #[test]
    fn empty_image_is_rejected() {
        let image = RgbImage::new(0, 5);
        assert!(matches!(prepare_image(&image, 16, 128, [0.5; 3], [0.5; 3]), Err(ModelError::EmptyImage { .. })));
    }
}
