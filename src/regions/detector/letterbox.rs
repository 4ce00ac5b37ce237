//! Fitting an image to a detector's fixed input, and mapping boxes back.

use image::RgbImage;

use super::DetectorResize;
use crate::model::resize_rgb;

/// Grey level of letterbox padding, as Ultralytics YOLO pads its inputs.
pub const LETTERBOX_PAD: u8 = 114;

/// How input pixels relate to image pixels: `input = image · scale + pad`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputTransform {
    scale_x: f32,
    scale_y: f32,
    pad_x: f32,
    pad_y: f32,
}

impl InputTransform {
    /// Maps a box in input pixels to pixels of the original image (not clipped).
    pub fn to_image(&self, [x0, y0, x1, y1]: [f32; 4]) -> [f32; 4] {
        [
            (x0 - self.pad_x) / self.scale_x,
            (y0 - self.pad_y) / self.scale_y,
            (x1 - self.pad_x) / self.scale_x,
            (y1 - self.pad_y) / self.scale_y,
        ]
    }
}

/// Where the image lands inside the input: `(left, top, width, height)` in input pixels.
/// Letterboxing keeps the aspect ratio and centres the image, rounding the padding
/// down on the left and top; stretching fills the input.
fn placement((width, height): (u32, u32), (input_w, input_h): (u32, u32), resize: DetectorResize) -> (u32, u32, u32, u32) {
    match resize {
        DetectorResize::Stretch => (0, 0, input_w, input_h),
        DetectorResize::Letterbox => {
            let scale = (input_w as f64 / width as f64).min(input_h as f64 / height as f64);
            let new_w = ((width as f64 * scale).round() as u32).clamp(1, input_w);
            let new_h = ((height as f64 * scale).round() as u32).clamp(1, input_h);
            ((input_w - new_w) / 2, (input_h - new_h) / 2, new_w, new_h)
        }
    }
}

/// Builds the `[1, 3, H, W]` input tensor values of a non-empty image: RGB, scaled to
/// [0, 1], then `(v - mean) / std` per channel. Padding is [`LETTERBOX_PAD`] grey before
/// normalisation.
pub fn prepare_input(
    rgb: &RgbImage,
    input_size: (u32, u32),
    resize: DetectorResize,
    mean: [f32; 3],
    std: [f32; 3],
) -> (Vec<f32>, InputTransform) {
    let (input_w, input_h) = (input_size.0 as usize, input_size.1 as usize);
    let (left, top, new_w, new_h) = placement(rgb.dimensions(), input_size, resize);
    let resized = resize_rgb(rgb, new_w, new_h);
    let normalise = |value: u8, channel: usize| (value as f32 / 255.0 - mean[channel]) / std[channel];

    let plane = input_w * input_h;
    let mut values = vec![0.0f32; 3 * plane];
    for channel in 0..3 {
        values[channel * plane..(channel + 1) * plane].fill(normalise(LETTERBOX_PAD, channel));
    }
    for (x, y, pixel) in resized.enumerate_pixels() {
        let offset = (top + y) as usize * input_w + (left + x) as usize;
        for channel in 0..3 {
            values[channel * plane + offset] = normalise(pixel.0[channel], channel);
        }
    }

    let transform = InputTransform {
        scale_x: new_w as f32 / rgb.width() as f32,
        scale_y: new_h as f32 / rgb.height() as f32,
        pad_x: left as f32,
        pad_y: top as f32,
    };
    (values, transform)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn letterbox_centres_wide_image() {
        assert_eq!(placement((200, 100), (64, 64), DetectorResize::Letterbox), (0, 16, 64, 32));
        assert_eq!(placement((100, 300), (64, 64), DetectorResize::Letterbox), (21, 0, 21, 64));
        assert_eq!(placement((5000, 1), (64, 64), DetectorResize::Letterbox), (0, 31, 64, 1));
    }

    #[test]
    fn letterbox_round_trips_boxes() {
        let image = RgbImage::from_pixel(200, 100, Rgb([255, 0, 0]));
        let (values, transform) = prepare_input(&image, (64, 64), DetectorResize::Letterbox, [0.0; 3], [1.0; 3]);
        assert_eq!(values.len(), 3 * 64 * 64);
        assert_eq!(transform.to_image([0.0, 16.0, 64.0, 48.0]), [0.0, 0.0, 200.0, 100.0]);

        let pad = LETTERBOX_PAD as f32 / 255.0;
        assert_eq!(values[0], pad, "top-left red is padding");
        assert_eq!(values[20 * 64], 1.0, "red inside the image");
        assert_eq!(values[64 * 64 + 20 * 64], 0.0, "green inside the image");
    }

    #[test]
    fn stretch_normalises_per_channel() {
        let image = RgbImage::from_pixel(10, 30, Rgb([0, 51, 255]));
        let (values, transform) = prepare_input(&image, (8, 4), DetectorResize::Stretch, [0.0, 0.1, 0.5], [1.0, 0.5, 0.25]);
        let whole = transform.to_image([0.0, 0.0, 8.0, 4.0]);
        assert!(whole.iter().zip([0.0, 0.0, 10.0, 30.0]).all(|(got, want)| (got - want).abs() < 1e-4), "{whole:?}");
        let plane = 8 * 4;
        assert!(values[..plane].iter().all(|&v| v == 0.0));
        assert!(values[plane..2 * plane].iter().all(|&v| (v - 0.2).abs() < 1e-6));
        assert!(values[2 * plane..].iter().all(|&v| (v - 2.0).abs() < 1e-6));
    }
}
