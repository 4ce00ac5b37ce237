//! Decoding detector outputs into boxes in input pixels with a confidence each.

/// How raw class values become confidences, once resolved for a graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// The values are confidences already.
    Identity,
    /// Each value is an independent logit.
    Sigmoid,
    /// The values of a detection are logits of one softmax whose last class means "no
    /// object"; the confidence is the best other class.
    SoftmaxNoObject,
}

impl Activation {
    /// The confidence of one detection from its class values: the best class after the
    /// activation. `None` when there is no class to choose.
    fn confidence(self, classes: &[f32]) -> Option<f32> {
        let best = |values: &[f32]| values.iter().copied().fold(None, |best: Option<f32>, v| Some(best.map_or(v, |b| b.max(v))));
        match self {
            Activation::Identity => best(classes),
            Activation::Sigmoid => best(classes).map(|v| 1.0 / (1.0 + (-v).exp())),
            Activation::SoftmaxNoObject => {
                let (objects, _) = classes.split_at(classes.len().checked_sub(1)?);
                let max = best(classes)?;
                let total: f32 = classes.iter().map(|v| (v - max).exp()).sum();
                best(objects).map(|v| (v - max).exp() / total)
            }
        }
    }
}

/// One decoded detection in input pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// `[x0, y0, x1, y1]` in pixels of the detector input.
    pub input_box: [f32; 4],
    /// Confidence after the activation.
    pub score: f32,
}

/// A mismatch between an output and its layout: which output, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutMismatch {
    /// Index of the output among those passed to the decoder.
    pub output_index: usize,
    /// The shape expected, for display.
    pub expected: String,
}

fn corners(cx: f32, cy: f32, w: f32, h: f32) -> [f32; 4] {
    [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
}

fn keep(detections: &mut Vec<Detection>, input_box: [f32; 4], score: Option<f32>, threshold: f32) {
    if let Some(score) = score.filter(|s| *s >= threshold) {
        detections.push(Detection { input_box, score });
    }
}

/// Expected shape of a YOLO output.
pub const YOLO_EXPECTED: &str = "[1, 4 + classes, detections] with at least one class";

/// Decodes a YOLOv8-style output `[1, 4 + C, N]`: per column `cx, cy, w, h` in input
/// pixels, then `C` class values.
pub fn decode_yolo(
    shape: &[i64],
    values: &[f32],
    activation: Activation,
    threshold: f32,
) -> Result<Vec<Detection>, LayoutMismatch> {
    let mismatch = || LayoutMismatch { output_index: 0, expected: YOLO_EXPECTED.to_string() };
    let &[1, rows, count] = shape else { return Err(mismatch()) };
    let (rows, count) = (usize::try_from(rows).map_err(|_| mismatch())?, usize::try_from(count).map_err(|_| mismatch())?);
    if rows < 5 || values.len() != rows * count {
        return Err(mismatch());
    }

    let at = |row: usize, column: usize| values[row * count + column];
    let mut detections = Vec::new();
    let mut classes = vec![0.0f32; rows - 4];
    for column in 0..count {
        classes.iter_mut().enumerate().for_each(|(c, v)| *v = at(4 + c, column));
        let input_box = corners(at(0, column), at(1, column), at(2, column), at(3, column));
        keep(&mut detections, input_box, activation.confidence(&classes), threshold);
    }
    Ok(detections)
}

/// Expected shape of a DETR boxes output.
pub const DETR_BOXES_EXPECTED: &str = "[1, queries, 4]";
/// Expected shape of a DETR scores output.
pub const DETR_SCORES_EXPECTED: &str = "[1, queries, classes], with as many queries as the boxes";

/// Decodes DETR-style outputs: `boxes [1, N, 4]` as `cx, cy, w, h` normalised to the
/// input, and class values `[1, N, C]`. `input_size` is `(width, height)` in pixels.
pub fn decode_detr(
    (boxes_shape, boxes): (&[i64], &[f32]),
    (scores_shape, scores): (&[i64], &[f32]),
    input_size: (u32, u32),
    activation: Activation,
    threshold: f32,
) -> Result<Vec<Detection>, LayoutMismatch> {
    let boxes_mismatch = || LayoutMismatch { output_index: 0, expected: DETR_BOXES_EXPECTED.to_string() };
    let scores_mismatch = || LayoutMismatch { output_index: 1, expected: DETR_SCORES_EXPECTED.to_string() };
    let &[1, queries, 4] = boxes_shape else { return Err(boxes_mismatch()) };
    let queries = usize::try_from(queries).map_err(|_| boxes_mismatch())?;
    if boxes.len() != queries * 4 {
        return Err(boxes_mismatch());
    }
    let &[1, score_queries, classes] = scores_shape else { return Err(scores_mismatch()) };
    let classes = usize::try_from(classes).map_err(|_| scores_mismatch())?;
    if score_queries != queries as i64 || classes == 0 || scores.len() != queries * classes {
        return Err(scores_mismatch());
    }

    let (input_w, input_h) = (input_size.0 as f32, input_size.1 as f32);
    let mut detections = Vec::new();
    for (query, cell) in boxes.chunks_exact(4).enumerate() {
        let input_box = corners(cell[0] * input_w, cell[1] * input_h, cell[2] * input_w, cell[3] * input_h);
        let confidence = activation.confidence(&scores[query * classes..(query + 1) * classes]);
        keep(&mut detections, input_box, confidence, threshold);
    }
    Ok(detections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yolo_columns_decode() {
        // Two detections, two classes: rows cx, cy, w, h, class 0, class 1.
        let values = [10.0, 50.0, 20.0, 60.0, 4.0, 10.0, 6.0, 8.0, 0.1, 0.3, 0.7, 0.2];
        let detections = decode_yolo(&[1, 6, 2], &values, Activation::Identity, 0.25).unwrap();
        let expected = vec![
            Detection { input_box: [8.0, 17.0, 12.0, 23.0], score: 0.7 },
            Detection { input_box: [45.0, 56.0, 55.0, 64.0], score: 0.3 },
        ];
        assert_eq!(detections, expected);
    }

    #[test]
    fn yolo_threshold_filters() {
        let values = [10.0, 20.0, 4.0, 6.0, 0.1, 0.2];
        assert!(decode_yolo(&[1, 6, 1], &values, Activation::Identity, 0.25).unwrap().is_empty());
    }

    #[test]
    fn yolo_wrong_shapes_are_mismatches() {
        assert!(decode_yolo(&[1, 6], &[0.0; 6], Activation::Identity, 0.1).is_err());
        assert!(decode_yolo(&[1, 4, 2], &[0.0; 8], Activation::Identity, 0.1).is_err());
        assert!(decode_yolo(&[2, 6, 1], &[0.0; 12], Activation::Identity, 0.1).is_err());
        assert!(decode_yolo(&[1, 6, 2], &[0.0; 6], Activation::Identity, 0.1).is_err());
        assert!(decode_yolo(&[1, 6, -1], &[], Activation::Identity, 0.1).is_err());
    }

    #[test]
    fn detr_queries_decode() {
        let boxes = [0.5, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1];
        let logits = [0.0, 2.0, -5.0, -5.0];
        let detections = decode_detr((&[1, 2, 4], &boxes), (&[1, 2, 2], &logits), (100, 50), Activation::Sigmoid, 0.3).unwrap();
        assert_eq!(detections.len(), 1);
        assert_eq!(detections[0].input_box, [25.0, 12.5, 75.0, 37.5]);
        assert!((detections[0].score - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
    }

    #[test]
    fn detr_mismatched_queries_are_errors() {
        let boxes = [0.5; 8];
        let error = decode_detr((&[1, 2, 4], &boxes), (&[1, 3, 1], &[0.0; 3]), (10, 10), Activation::Identity, 0.1).unwrap_err();
        assert_eq!(error.output_index, 1);
        let error = decode_detr((&[1, 2, 5], &[0.5; 10]), (&[1, 2, 1], &[0.0; 2]), (10, 10), Activation::Identity, 0.1).unwrap_err();
        assert_eq!(error.output_index, 0);
    }

    #[test]
    fn softmax_drops_no_object_class() {
        let confidence = Activation::SoftmaxNoObject.confidence(&[1.0, 0.0, 3.0]).unwrap();
        let total = 1.0f32.exp() + 1.0 + 3.0f32.exp();
        assert!((confidence - 1.0f32.exp() / total).abs() < 1e-6);
        assert_eq!(Activation::SoftmaxNoObject.confidence(&[3.0]), None);
    }
}
