//! Box arithmetic shared by every proposal source: intersection over union, clipping to
//! the image, and greedy non-maximum suppression.

use super::RegionProposal;

/// Intersection over union of two `[x0, y0, x1, y1]` boxes. Returns 0 when either box is
/// empty, inverted or not finite.
pub fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let area = |r: [f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let inter_w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let inter_h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = inter_w * inter_h;
    let union = area(a) + area(b) - inter;
    if union > 0.0 && union.is_finite() {
        inter / union
    } else {
        0.0
    }
}

/// Clips a box to a `width × height` image. Returns `None` when a coordinate is not
/// finite, or when the clipped box is under one pixel wide or high or its area is below
/// `min_area_px`.
pub fn clip_box(region_box: [f32; 4], (width, height): (u32, u32), min_area_px: f32) -> Option<[f32; 4]> {
    if region_box.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let (w, h) = (width as f32, height as f32);
    let [x0, y0, x1, y1] = region_box;
    let clipped = [x0.clamp(0.0, w), y0.clamp(0.0, h), x1.clamp(0.0, w), y1.clamp(0.0, h)];
    let (box_w, box_h) = (clipped[2] - clipped[0], clipped[3] - clipped[1]);
    if box_w < 1.0 || box_h < 1.0 || box_w * box_h < min_area_px {
        return None;
    }
    Some(clipped)
}

/// Greedy non-maximum suppression across all sources: proposals are visited from the
/// highest score down, and one is kept unless its IoU with an already kept proposal is
/// above `iou_threshold`. Stops after `keep` proposals. Equal scores keep their input
/// order, and a NaN score ranks below every number.
pub fn non_max_suppression(mut proposals: Vec<RegionProposal>, iou_threshold: f32, keep: usize) -> Vec<RegionProposal> {
    let rank = |score: f32| if score.is_nan() { f32::NEG_INFINITY } else { score };
    proposals.sort_by(|a, b| rank(b.score).total_cmp(&rank(a.score)));

    let mut kept: Vec<RegionProposal> = Vec::with_capacity(keep.min(proposals.len()));
    for proposal in proposals {
        if kept.len() >= keep {
            break;
        }
        if kept.iter().all(|k| iou(k.region_box, proposal.region_box) <= iou_threshold) {
            kept.push(proposal);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regions::RegionSource;

    fn proposal(region_box: [f32; 4], score: f32) -> RegionProposal {
        RegionProposal { region_box, source: RegionSource::Segment, score }
    }

    #[test]
    fn iou_of_known_boxes() {
        assert_eq!(iou([0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]), 1.0);
        assert_eq!(iou([0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]), 0.0);
        let half = iou([0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 15.0, 10.0]);
        assert!((half - 50.0 / 150.0).abs() < 1e-6, "{half}");
    }

    #[test]
    fn iou_of_degenerate_boxes_is_zero() {
        assert_eq!(iou([5.0, 5.0, 5.0, 10.0], [0.0, 0.0, 10.0, 10.0]), 0.0);
        assert_eq!(iou([5.0, 5.0, 5.0, 5.0], [5.0, 5.0, 5.0, 5.0]), 0.0);
        assert_eq!(iou([f32::NAN, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]), 0.0);
    }

    #[test]
    fn nms_keeps_higher_scoring_overlap() {
        let low = proposal([0.0, 0.0, 100.0, 100.0], 0.4);
        let high = proposal([5.0, 5.0, 100.0, 100.0], 0.9);
        let kept = non_max_suppression(vec![low, high], 0.6, 16);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].score, 0.9);
        assert_eq!(kept[0].region_box, [5.0, 5.0, 100.0, 100.0]);
    }

    #[test]
    fn nms_keeps_disjoint_boxes() {
        let boxes = vec![proposal([0.0, 0.0, 10.0, 10.0], 0.2), proposal([50.0, 50.0, 60.0, 60.0], 0.3)];
        let kept = non_max_suppression(boxes, 0.6, 16);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.3);
        assert_eq!(kept[1].score, 0.2);
    }

    #[test]
    fn nms_threshold_is_exclusive() {
        // IoU of these two is exactly 0.5.
        let a = proposal([0.0, 0.0, 30.0, 10.0], 0.9);
        let b = proposal([10.0, 0.0, 40.0, 10.0], 0.8);
        assert_eq!(non_max_suppression(vec![a.clone(), b.clone()], 0.5, 16).len(), 2);
        assert_eq!(non_max_suppression(vec![a, b], 0.49, 16).len(), 1);
    }

    #[test]
    fn nms_caps_at_keep() {
        let boxes: Vec<_> = (0..10).map(|i| proposal([i as f32 * 20.0, 0.0, i as f32 * 20.0 + 10.0, 10.0], i as f32)).collect();
        let kept = non_max_suppression(boxes, 0.6, 3);
        let scores: Vec<f32> = kept.iter().map(|p| p.score).collect();
        assert_eq!(scores, vec![9.0, 8.0, 7.0]);
    }

    #[test]
    fn nms_ranks_nan_scores_last() {
        let boxes = vec![proposal([0.0, 0.0, 10.0, 10.0], f32::NAN), proposal([0.0, 0.0, 10.0, 10.0], 0.1)];
        let kept = non_max_suppression(boxes, 0.6, 16);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].score, 0.1);
    }

    #[test]
    fn clip_box_clips_and_rejects() {
        assert_eq!(clip_box([-5.0, -5.0, 50.0, 120.0], (100, 100), 0.0), Some([0.0, 0.0, 50.0, 100.0]));
        assert_eq!(clip_box([10.0, 10.0, 10.5, 50.0], (100, 100), 0.0), None);
        assert_eq!(clip_box([10.0, 10.0, 5.0, 50.0], (100, 100), 0.0), None);
        assert_eq!(clip_box([110.0, 10.0, 150.0, 50.0], (100, 100), 0.0), None);
        assert_eq!(clip_box([0.0, 0.0, f32::INFINITY, 50.0], (100, 100), 0.0), None);
        assert_eq!(clip_box([0.0, 0.0, 10.0, 10.0], (100, 100), 100.0), Some([0.0, 0.0, 10.0, 10.0]));
        assert_eq!(clip_box([0.0, 0.0, 10.0, 9.0], (100, 100), 100.0), None);
    }
}
