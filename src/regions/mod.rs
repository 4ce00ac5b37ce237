//! Region proposals for one photo and their embeddings. Candidate boxes come from
//! segments of the dense feature map, whose edges are snapped to the photo's superpixels.
//! A fixed window grid adds more, and so does an ONNX object detector when the user
//! configures one. Non-maximum suppression keeps the best few, and each kept box is
//! embedded by RoIAlign over the same dense map, so no second pass of the vision model is
//! needed. The module neither decodes images nor stores anything.

mod boxes;
mod detector;
mod error;
mod grid;
mod segments;
mod superpixels;

use image::RgbImage;
use serde::{Deserialize, Serialize};

pub use self::boxes::{clip_box, iou, non_max_suppression};
pub use self::detector::{
    Detector, DetectorConfig, DetectorLayout, DetectorResize, ScoreActivation, LETTERBOX_PAD,
};
pub use self::error::RegionError;
pub use self::grid::{window_grid, WHOLE_SCORE};
pub use self::segments::{propose_segments, propose_segments_snapped, propose_segments_with, SegmentConfig};
pub use self::superpixels::{GridOverlap, SnapConfig, Superpixels};
use crate::model::{DenseMap, Device};

/// Settings of the region proposer.
///
/// NOTE: stored regions do not record the settings that made them. Photos indexed before
/// a change of these settings, or before a release that changed their defaults (such as
/// superpixel snapping), keep their old regions until they are embedded again, which
/// only a new model id causes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegionConfig {
    /// Most regions kept per photo.
    pub max_regions: usize,
    /// Non-maximum suppression drops a box whose IoU with a better kept box is above this.
    pub nms_iou: f32,
    /// Whether to propose segments of the dense feature map.
    pub use_segments: bool,
    /// Whether to propose the fixed window grid.
    pub use_grid: bool,
    /// Boxes smaller than this many square pixels (after clipping to the image) are dropped.
    pub min_box_area_px: f32,
    /// Settings of the segment proposer.
    pub segments: SegmentConfig,
    /// Settings of snapping segment boxes to the photo's superpixels.
    pub snap: SnapConfig,
    /// An optional ONNX object detector.
    pub detector: Option<DetectorConfig>,
}

impl Default for RegionConfig {
    fn default() -> Self {
        RegionConfig {
            max_regions: 16,
            nms_iou: 0.6,
            use_segments: true,
            use_grid: true,
            min_box_area_px: 256.0,
            segments: SegmentConfig::default(),
            snap: SnapConfig::default(),
            detector: None,
        }
    }
}

impl RegionConfig {
    /// Rejects settings that would make extraction meaningless or fail on every photo.
    pub fn validate(&self) -> Result<(), RegionError> {
        let invalid = |field, reason: &str| Err(RegionError::InvalidConfig { field, reason: reason.to_string() });
        if !(0.0..=1.0).contains(&self.nms_iou) {
            return invalid("nms_iou", "must be between 0 and 1");
        }
        if !(self.min_box_area_px.is_finite() && self.min_box_area_px >= 0.0) {
            return invalid("min_box_area_px", "must be a finite number of at least 0");
        }
        if !self.segments.min_contrast.is_finite() {
            return invalid("segments.min_contrast", "must be a finite number");
        }
        if !(self.segments.max_area_fraction > 0.0 && self.segments.max_area_fraction <= 1.0) {
            return invalid("segments.max_area_fraction", "must be above 0 and at most 1");
        }
        if !(self.snap.scale.is_finite() && self.snap.scale >= 0.0) {
            return invalid("snap.scale", "must be a finite number of at least 0");
        }
        if self.snap.max_side < 16 {
            return invalid("snap.max_side", "must be at least 16");
        }
        Ok(())
    }
}

/// Where a region box came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionSource {
    /// A segment of the dense feature map.
    Segment,
    /// A window of the fixed grid.
    Grid,
    /// The configured object detector.
    Detector,
    /// The whole image.
    Whole,
}

impl RegionSource {
    /// The stored name: `segment`, `grid`, `detector` or `whole`.
    pub fn as_str(self) -> &'static str {
        match self {
            RegionSource::Segment => "segment",
            RegionSource::Grid => "grid",
            RegionSource::Detector => "detector",
            RegionSource::Whole => "whole",
        }
    }

    /// Parses a stored name; `None` for any other text.
    pub fn parse(name: &str) -> Option<RegionSource> {
        match name {
            "segment" => Some(RegionSource::Segment),
            "grid" => Some(RegionSource::Grid),
            "detector" => Some(RegionSource::Detector),
            "whole" => Some(RegionSource::Whole),
            _ => None,
        }
    }
}

impl std::fmt::Display for RegionSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A candidate region before embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionProposal {
    /// `[x0, y0, x1, y1]` in pixels of the upright image.
    pub region_box: [f32; 4],
    /// Where the box came from.
    pub source: RegionSource,
    /// Ranking score used by suppression: a segment's contrast, a detector's confidence,
    /// or a fixed low score for grid windows.
    pub score: f32,
}

/// A kept region with its embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// The box, its source and score.
    pub proposal: RegionProposal,
    /// L2-normalised RoIAlign embedding from the photo's dense map.
    pub embedding: Vec<f32>,
}

/// Proposes, suppresses and embeds the regions of photos.
#[derive(Debug)]
pub struct RegionExtractor {
    config: RegionConfig,
    detector: Option<Detector>,
}

impl RegionExtractor {
    /// Validates the settings and loads the detector, if one is configured, on `device`.
    pub fn new(config: RegionConfig, device: Device) -> Result<RegionExtractor, RegionError> {
        config.validate()?;
        let detector = match &config.detector {
            Some(detector_config) => Some(Detector::load(detector_config, device)?),
            None => None,
        };
        Ok(RegionExtractor { config, detector })
    }

    /// The settings in effect.
    pub fn config(&self) -> &RegionConfig {
        &self.config
    }

    /// The loaded detector, if any.
    pub fn detector(&self) -> Option<&Detector> {
        self.detector.as_ref()
    }

    /// Returns the snapping settings when segment boxes are snapped to superpixels, else
    /// `None`.
    pub fn snap_config(&self) -> Option<&SnapConfig> {
        (self.config.use_segments && self.config.snap.enabled).then_some(&self.config.snap)
    }

    /// Returns all proposals of one photo, clipped to the image, with boxes that are
    /// degenerate or below the minimum area dropped, before suppression.
    pub fn propose(&self, rgb: &RgbImage, map: &DenseMap) -> Result<Vec<RegionProposal>, RegionError> {
        self.propose_with(rgb, map, None)
    }

    /// Like [`propose`](Self::propose), with the photo's superpixels computed beforehand
    /// from `rgb` with [`snap_config`](Self::snap_config). When snapping is on and they
    /// are `None` or of another size than `rgb`, they are computed here.
    pub fn propose_with(
        &self,
        rgb: &RgbImage,
        map: &DenseMap,
        superpixels: Option<&Superpixels>,
    ) -> Result<Vec<RegionProposal>, RegionError> {
        check_sizes(rgb, map)?;
        let mut proposals = Vec::new();
        if self.config.use_segments {
            let computed;
            let superpixels = match (self.snap_config(), superpixels) {
                (Some(_), Some(given)) if given.image_size() == rgb.dimensions() => Some(given),
                (Some(snap), _) => {
                    computed = Superpixels::compute(rgb, snap);
                    computed.as_ref()
                }
                (None, _) => None,
            };
            match superpixels {
                Some(superpixels) => {
                    let mut overlap = superpixels.on_grid(map.rows, map.cols);
                    proposals.extend(propose_segments_snapped(map, &self.config.segments, &mut overlap)?);
                }
                None => proposals.extend(propose_segments_with(map, &self.config.segments)?),
            }
        }
        if self.config.use_grid {
            proposals.extend(window_grid(map.image_size.0, map.image_size.1));
        }
        if let Some(detector) = &self.detector {
            proposals.extend(detector.detect(rgb)?);
        }

        let min_area = self.config.min_box_area_px;
        Ok(proposals
            .into_iter()
            .filter_map(|p| Some(RegionProposal { region_box: clip_box(p.region_box, map.image_size, min_area)?, ..p }))
            .collect())
    }

    /// Returns up to `max_regions` regions of one photo: all proposals, suppressed across
    /// sources, each embedded from `map`. `rgb` is the upright photo `map` was computed
    /// from; only the detector reads its pixels.
    pub fn extract(&self, rgb: &RgbImage, map: &DenseMap) -> Result<Vec<Region>, RegionError> {
        self.extract_with(rgb, map, None)
    }

    /// Like [`extract`](Self::extract), with superpixels computed beforehand (see
    /// [`propose_with`](Self::propose_with)).
    pub fn extract_with(
        &self,
        rgb: &RgbImage,
        map: &DenseMap,
        superpixels: Option<&Superpixels>,
    ) -> Result<Vec<Region>, RegionError> {
        let proposals = self.propose_with(rgb, map, superpixels)?;
        let num_proposals = proposals.len();
        let kept = non_max_suppression(proposals, self.config.nms_iou, self.config.max_regions);

        let mut regions = Vec::with_capacity(kept.len());
        for proposal in kept {
            match map.region_embedding(proposal.region_box) {
                Ok(embedding) if embedding.iter().all(|v| v.is_finite()) => regions.push(Region { proposal, embedding }),
                Ok(_) => tracing::debug!(region_box = ?proposal.region_box, "dropped a region whose embedding is not finite"),
                Err(error) => tracing::debug!(region_box = ?proposal.region_box, %error, "dropped a region that could not be embedded"),
            }
        }
        tracing::debug!(num_proposals, num_regions = regions.len(), "extracted regions");
        Ok(regions)
    }
}

fn check_sizes(rgb: &RgbImage, map: &DenseMap) -> Result<(), RegionError> {
    validate_dense_map(map)?;
    let (image_width, image_height) = rgb.dimensions();
    if image_width == 0 || image_height == 0 {
        return Err(RegionError::EmptyImage { width: image_width, height: image_height });
    }
    let (map_width, map_height) = map.image_size;
    if (image_width, image_height) != (map_width, map_height) {
        return Err(RegionError::ImageSizeMismatch { image_width, image_height, map_width, map_height });
    }
    Ok(())
}

/// Checks that a dense map's sizes agree, so that indexing it cannot go out of bounds.
fn validate_dense_map(map: &DenseMap) -> Result<(), RegionError> {
    let (width, height) = map.image_size;
    let expected = map.rows.checked_mul(map.cols).and_then(|n| n.checked_mul(map.dim)).unwrap_or(0);
    if expected == 0 || width == 0 || height == 0 || map.features.len() != expected {
        return Err(RegionError::InvalidDenseMap {
            rows: map.rows,
            cols: map.cols,
            dim: map.dim,
            width,
            height,
            expected,
            found: map.features.len(),
        });
    }
    Ok(())
}
