//! A fixed multi-scale window grid: the whole image, then 2×2 and 3×3 windows that
//! overlap their neighbours by half a window. The grid finds nothing by itself; it
//! gives every photo some regions when the image has no distinct segments.

use super::{RegionProposal, RegionSource};

/// Score of the whole-image window. Every grid score is below the default minimum
/// segment contrast, so any segment outranks any window in suppression.
pub const WHOLE_SCORE: f32 = 0.03;
/// Scores of the windows per layout, coarser first.
const LAYOUT_SCORES: [(usize, f32); 2] = [(2, 0.02), (3, 0.01)];

/// Returns the whole image and the 2×2 and 3×3 windows of a `width × height` image, in
/// pixels. With `n` windows per side, each window spans `2/(n+1)` of the side and starts
/// every `1/(n+1)`, so neighbours overlap by half a window and the last one ends at the
/// image edge.
pub fn window_grid(width: u32, height: u32) -> Vec<RegionProposal> {
    let (w, h) = (width as f32, height as f32);
    let mut windows = vec![RegionProposal { region_box: [0.0, 0.0, w, h], source: RegionSource::Whole, score: WHOLE_SCORE }];
    for (per_side, score) in LAYOUT_SCORES {
        let step = 1.0 / (per_side + 1) as f32;
        for row in 0..per_side {
            for col in 0..per_side {
                let (fx0, fy0) = (col as f32 * step, row as f32 * step);
                let region_box = [fx0 * w, fy0 * h, ((fx0 + 2.0 * step) * w).min(w), ((fy0 + 2.0 * step) * h).min(h)];
                windows.push(RegionProposal { region_box, source: RegionSource::Grid, score });
            }
        }
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_has_whole_and_fourteen_windows() {
        let windows = window_grid(300, 200);
        assert_eq!(windows.len(), 14);
        assert_eq!(windows[0].source, RegionSource::Whole);
        assert_eq!(windows[0].region_box, [0.0, 0.0, 300.0, 200.0]);
        assert!(windows[1..].iter().all(|p| p.source == RegionSource::Grid));
    }

    #[test]
    fn two_by_two_windows_span_two_thirds() {
        let windows = window_grid(300, 90);
        let expected = [[0.0, 0.0, 200.0, 60.0], [100.0, 0.0, 300.0, 60.0], [0.0, 30.0, 200.0, 90.0], [100.0, 30.0, 300.0, 90.0]];
        for (window, expected) in windows[1..5].iter().zip(expected) {
            for (got, want) in window.region_box.iter().zip(expected) {
                assert!((got - want).abs() < 1e-3, "{:?} vs {expected:?}", window.region_box);
            }
        }
    }

    #[test]
    fn grid_scores_rank_coarse_first() {
        let windows = window_grid(64, 64);
        assert!(windows[0].score > windows[1].score);
        assert!(windows[1].score > windows[13].score);
    }
}
