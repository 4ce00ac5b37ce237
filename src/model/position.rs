//! Vision position embeddings computed on the host: the learned `side × side × D` grid
//! is resized to each image's patch grid with antialiased bilinear interpolation
//! (`align_corners = False`), exactly as PyTorch's `interpolate(..., antialias=True)`.
//!
//! The antialiasing matters below `side` patches per axis (small images, panoramas):
//! there the triangle filter widens and three or more grid cells contribute, which plain
//! bilinear interpolation would not reproduce.

/// The learned vision position grid of a bundle.
#[derive(Debug, Clone)]
pub struct PositionGrid {
    /// Rows and columns of the square grid.
    pub side: usize,
    /// Embedding width `D`.
    pub dim: usize,
    /// `[side, side, dim]` values, row-major.
    pub values: Vec<f32>,
}

impl PositionGrid {
    /// Returns the `[max_tokens, dim]` position tensor for a `(rows, cols)` patch grid:
    /// the resized grid flattened row-major, then copies of its first row up to
    /// `max_tokens`, which is what the reference puts on padded tokens.
    pub fn embeddings_for(&self, (rows, cols): (usize, usize), max_tokens: usize) -> Vec<f32> {
        let resized = resize_grid(&self.values, self.side, self.side, self.dim, rows, cols);
        let mut out = Vec::with_capacity(max_tokens * self.dim);
        out.extend_from_slice(&resized);
        while out.len() < max_tokens * self.dim {
            out.extend_from_slice(&resized[..self.dim]);
        }
        out.truncate(max_tokens * self.dim);
        out
    }
}

/// Returns, for each of `out_len` outputs, the first input index and the normalised
/// weights of the antialiased triangle filter that maps `in_len` samples to `out_len`.
///
/// For output `i`: `scale = in/out`, `support = max(scale, 1)`, `center = (i + 0.5)·scale`;
/// inputs `j` from `trunc(center − support + 0.5)` (at least 0) to
/// `trunc(center + support + 0.5)` (at most `in_len`, exclusive) weigh
/// `max(0, 1 − |(j + 0.5 − center) / support|)`, divided by their sum. This is the rule of
/// Pillow's `BILINEAR` resize and of PyTorch's antialiased bilinear interpolation.
pub fn antialiased_weights(in_len: usize, out_len: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = in_len as f64 / out_len as f64;
    let support = scale.max(1.0);
    let inv_support = 1.0 / support;
    (0..out_len)
        .map(|i| {
            let center = (i as f64 + 0.5) * scale;
            let start = ((center - support + 0.5).trunc().max(0.0)) as usize;
            let end = ((center + support + 0.5).trunc() as usize).min(in_len);
            let mut weights: Vec<f64> = (start..end)
                .map(|j| (1.0 - ((j as f64 + 0.5 - center) * inv_support).abs()).max(0.0))
                .collect();
            let total: f64 = weights.iter().sum();
            if total > 0.0 {
                weights.iter_mut().for_each(|w| *w /= total);
            }
            (start, weights.into_iter().map(|w| w as f32).collect())
        })
        .collect()
}

/// Resizes a `[in_rows, in_cols, dim]` row-major map to `[out_rows, out_cols, dim]` with
/// the separable antialiased bilinear filter of [`antialiased_weights`].
pub fn resize_grid(
    values: &[f32],
    in_rows: usize,
    in_cols: usize,
    dim: usize,
    out_rows: usize,
    out_cols: usize,
) -> Vec<f32> {
    debug_assert_eq!(values.len(), in_rows * in_cols * dim);
    let col_weights = antialiased_weights(in_cols, out_cols);
    let row_weights = antialiased_weights(in_rows, out_rows);

    // Horizontal pass: [in_rows, out_cols, dim].
    let mut horizontal = vec![0.0f32; in_rows * out_cols * dim];
    for r in 0..in_rows {
        for (c, (start, weights)) in col_weights.iter().enumerate() {
            let out = &mut horizontal[(r * out_cols + c) * dim..(r * out_cols + c + 1) * dim];
            for (k, &w) in weights.iter().enumerate() {
                let src = &values[(r * in_cols + start + k) * dim..(r * in_cols + start + k + 1) * dim];
                out.iter_mut().zip(src).for_each(|(o, &s)| *o += w * s);
            }
        }
    }

    // Vertical pass: [out_rows, out_cols, dim].
    let mut resized = vec![0.0f32; out_rows * out_cols * dim];
    for (r, (start, weights)) in row_weights.iter().enumerate() {
        for c in 0..out_cols {
            let out = &mut resized[(r * out_cols + c) * dim..(r * out_cols + c + 1) * dim];
            for (k, &w) in weights.iter().enumerate() {
                let src = &horizontal[((start + k) * out_cols + c) * dim..((start + k) * out_cols + c + 1) * dim];
                out.iter_mut().zip(src).for_each(|(o, &s)| *o += w * s);
            }
        }
    }
    resized
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_size_keeps_values() {
        let values: Vec<f32> = (0..16 * 16 * 2).map(|v| v as f32).collect();
        assert_eq!(resize_grid(&values, 16, 16, 2, 16, 16), values);
    }

    #[test]
    fn downsampling_widens_the_filter() {
        // 16 → 11 needs more than two taps for some outputs; plain bilinear has two.
        let weights = antialiased_weights(16, 11);
        assert!(weights.iter().any(|(_, w)| w.iter().filter(|&&x| x > 0.0).count() >= 3));
        for (_, w) in &weights {
            assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn upsampling_is_half_pixel_bilinear() {
        // 2 → 4: outputs at 0.25 and 0.75 of the first cell clamp and blend as bilinear.
        let resized = resize_grid(&[0.0, 1.0], 1, 2, 1, 1, 4);
        let expected = [0.0, 0.25, 0.75, 1.0];
        for (got, want) in resized.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{resized:?}");
        }
    }

    #[test]
    fn padded_rows_repeat_first_row() {
        let grid = PositionGrid { side: 2, dim: 1, values: vec![1.0, 2.0, 3.0, 4.0] };
        let out = grid.embeddings_for((2, 2), 6);
        assert_eq!(out, vec![1.0, 2.0, 3.0, 4.0, 1.0, 1.0]);
    }
}
