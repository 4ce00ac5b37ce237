//! RoIAlign over a dense feature map with one output cell, as torchvision's
//! `roi_align(..., output_size=(1, 1), spatial_scale=1, sampling_ratio=-1, aligned=True)`
//! computes it: an adaptive grid of bilinear samples averaged into one vector.
//!
//! Boxes are given in pixels of the image as decoded (upright) and mapped onto the patch
//! grid by the image's own size, because the resize maps the whole image onto the whole
//! grid with no crop or letterbox.

use super::ModelError;

/// A region box `[x0, y0, x1, y1]` in pixels of the upright image.
pub type PixelBox = [f32; 4];

/// Maps a pixel box onto patch-grid units for a `(rows, cols)` grid of an image of
/// `width × height` pixels. Rejects empty, inverted and non-finite boxes.
pub fn pixel_box_to_grid(
    region_box: PixelBox,
    (width, height): (u32, u32),
    (rows, cols): (usize, usize),
) -> Result<[f32; 4], ModelError> {
    let [x0, y0, x1, y1] = region_box;
    if region_box.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::InvalidBox { region_box, reason: "a coordinate is not a finite number" });
    }
    if x1 <= x0 || y1 <= y0 {
        return Err(ModelError::InvalidBox { region_box, reason: "the box is empty or inverted" });
    }
    let sx = cols as f32 / width as f32;
    let sy = rows as f32 / height as f32;
    Ok([x0 * sx, y0 * sy, x1 * sx, y1 * sy])
}

/// Returns the RoIAlign feature of one box (in grid units) over a `[rows, cols, dim]`
/// row-major map. The result is not normalised.
pub fn roi_align(features: &[f32], (rows, cols): (usize, usize), dim: usize, grid_box: [f32; 4]) -> Vec<f32> {
    debug_assert_eq!(features.len(), rows * cols * dim);
    let [x0, y0, x1, y1] = grid_box.map(f64::from);
    let (start_x, start_y) = (x0 - 0.5, y0 - 0.5);
    let (box_w, box_h) = (x1 - x0, y1 - y0);
    let samples_y = box_h.ceil().max(0.0) as usize;
    let samples_x = box_w.ceil().max(0.0) as usize;
    let count = (samples_y * samples_x).max(1);

    let mut acc = vec![0.0f64; dim];
    for iy in 0..samples_y {
        let y = start_y + (iy as f64 + 0.5) * box_h / samples_y as f64;
        for ix in 0..samples_x {
            let x = start_x + (ix as f64 + 0.5) * box_w / samples_x as f64;
            accumulate_bilinear(features, rows, cols, dim, y, x, &mut acc);
        }
    }
    acc.into_iter().map(|v| (v / count as f64) as f32).collect()
}

fn accumulate_bilinear(features: &[f32], rows: usize, cols: usize, dim: usize, y: f64, x: f64, acc: &mut [f64]) {
    if y < -1.0 || y > rows as f64 || x < -1.0 || x > cols as f64 {
        return;
    }
    let (y0, y1, ly) = bilinear_axis(y.max(0.0), rows);
    let (x0, x1, lx) = bilinear_axis(x.max(0.0), cols);
    let (hy, hx) = (1.0 - ly, 1.0 - lx);
    let taps = [(y0, x0, hy * hx), (y0, x1, hy * lx), (y1, x0, ly * hx), (y1, x1, ly * lx)];
    for (row, col, weight) in taps {
        let cell = &features[(row * cols + col) * dim..(row * cols + col + 1) * dim];
        acc.iter_mut().zip(cell).for_each(|(a, &f)| *a += weight * f64::from(f));
    }
}

/// Returns the two neighbouring indices along one axis and the fraction towards the
/// second, clamping at the last cell as torchvision does.
fn bilinear_axis(position: f64, len: usize) -> (usize, usize, f64) {
    let low = position.floor() as usize;
    if low >= len - 1 {
        (len - 1, len - 1, 0.0)
    } else {
        (low, low + 1, position - low as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp_map(rows: usize, cols: usize, dim: usize) -> Vec<f32> {
        (0..rows * cols * dim).map(|v| (v as f32 * 0.37).sin()).collect()
    }

    #[test]
    fn whole_image_box_is_plain_mean() {
        let (rows, cols, dim) = (5, 7, 3);
        let map = ramp_map(rows, cols, dim);
        let out = roi_align(&map, (rows, cols), dim, [0.0, 0.0, cols as f32, rows as f32]);
        for d in 0..dim {
            let mean: f32 = (0..rows * cols).map(|t| map[t * dim + d]).sum::<f32>() / (rows * cols) as f32;
            assert!((out[d] - mean).abs() < 1e-5);
        }
    }

    #[test]
    fn single_patch_box_returns_that_patch() {
        let (rows, cols, dim) = (4, 6, 2);
        let map = ramp_map(rows, cols, dim);
        let out = roi_align(&map, (rows, cols), dim, [3.0, 2.0, 4.0, 3.0]);
        let token = 2 * cols + 3;
        assert!((out[0] - map[token * dim]).abs() < 1e-6);
        assert!((out[1] - map[token * dim + 1]).abs() < 1e-6);
    }

    #[test]
    fn degenerate_boxes_are_rejected() {
        assert!(pixel_box_to_grid([10.0, 10.0, 10.0, 20.0], (100, 100), (10, 10)).is_err());
        assert!(pixel_box_to_grid([10.0, 30.0, 20.0, 20.0], (100, 100), (10, 10)).is_err());
        assert!(pixel_box_to_grid([f32::NAN, 0.0, 20.0, 20.0], (100, 100), (10, 10)).is_err());
        assert_eq!(pixel_box_to_grid([0.0, 0.0, 100.0, 50.0], (100, 50), (4, 8)).unwrap(), [0.0, 0.0, 8.0, 4.0]);
    }
}
