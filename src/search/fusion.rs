//! How a photo's score is made from its own match, its best region and keyword hits.
//!
//! The rule is a weighted noisy-OR of probabilities, in which a keyword hit also
//! strengthens the match by meaning:
//!
//! ```text
//! m     = (1 − p_photo) · (1 − w_region · p_region)
//! score = 1 − m^(1 + b_keyword · k) · (1 − w_keyword · k)
//! ```
//!
//! `p_photo` is the model's calibrated probability for the whole photo,
//! `sigmoid(exp(logit_scale) · cos + logit_bias)`. `p_region` applies the same transform to
//! the best region's cosine with the box-walk text embedding; the model has no
//! calibration of its own for regions, so `w_region` below 1 keeps a region from counting
//! as much as a whole-photo match. `k` in [0, 1] is the normalised keyword score from
//! file and folder names. `m` is the chance that the photo does not match by meaning.
//!
//! The keyword acts twice. The factor `1 − w_keyword · k` lets a name alone find a photo.
//! The exponent raises a match by meaning in proportion to its strength. When several
//! photos all match by meaning with probabilities near 1, a plain noisy-OR term can no
//! longer reorder them. The exponent still puts those whose names match first, so "cat
//! 旅行" ranks the cats in a folder named 旅行 above the other cats. Each term
//! can only raise the score, the score stays in [0, 1], and a photo that matches in
//! several ways ranks above one that matches in one.

use serde::Serialize;

/// Weights of the fusion rule.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FusionWeights {
    /// Weight of the best region's probability.
    pub region: f32,
    /// Weight of the keyword score as a match of its own.
    pub keyword: f32,
    /// How much a keyword hit strengthens the match by meaning (the exponent's factor).
    pub keyword_boost: f32,
}

impl Default for FusionWeights {
    fn default() -> Self {
        FusionWeights { region: 0.6, keyword: 0.5, keyword_boost: 2.0 }
    }
}

/// Scores below this are shown as weak matches unless the user sets `--min-score`.
pub const DEFAULT_WEAK_BELOW: f32 = 0.1;

/// Returns the fused score of one photo.
pub fn fuse(photo_probability: f32, region_probability: Option<f32>, keyword_score: Option<f32>, weights: FusionWeights) -> f32 {
    let clamp = |v: f32| if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 };
    let mut miss = 1.0 - clamp(photo_probability);
    if let Some(region) = region_probability {
        miss *= 1.0 - weights.region.clamp(0.0, 1.0) * clamp(region);
    }
    if let Some(keyword) = keyword_score {
        let keyword = clamp(keyword);
        let boost = if weights.keyword_boost.is_finite() { weights.keyword_boost.max(0.0) } else { 0.0 };
        miss = miss.powf(1.0 + boost * keyword) * (1.0 - weights.keyword.clamp(0.0, 1.0) * keyword);
    }
    1.0 - miss
}

/// Maps a BM25 score to [0, 1) with `s / (s + half)`, where `half` is the score that
/// maps to one half.
pub fn normalize_keyword_score(bm25: f32, half: f32) -> f32 {
    if bm25.is_finite() && bm25 > 0.0 { bm25 / (bm25 + half.max(f32::EPSILON)) } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: FusionWeights = FusionWeights { region: 0.6, keyword: 0.5, keyword_boost: 2.0 };

    #[test]
    fn photo_alone_is_its_probability() {
        assert!((fuse(0.42, None, None, W) - 0.42).abs() < 1e-6);
    }

    #[test]
    fn each_signal_raises_the_score() {
        let base = fuse(0.3, None, None, W);
        let with_region = fuse(0.3, Some(0.8), None, W);
        let with_both = fuse(0.3, Some(0.8), Some(0.7), W);
        assert!(with_region > base);
        assert!(with_both > with_region);
        assert!(with_both <= 1.0);
    }

    #[test]
    fn region_counts_less_than_photo() {
        // The same probability as a region adds less than as a whole-photo match.
        assert!(fuse(0.0, Some(0.9), None, W) < fuse(0.9, None, None, W));
    }

    #[test]
    fn keyword_reorders_near_certain_matches() {
        // Two photos that both match by meaning: the slightly weaker one has a name match.
        let named = fuse(0.984, Some(0.14), Some(0.32), W);
        let unnamed = fuse(0.991, Some(0.74), None, W);
        assert!(named > unnamed, "{named} <= {unnamed}");
    }

    #[test]
    fn keyword_alone_finds_a_photo() {
        let score = fuse(0.0, None, Some(0.6), W);
        assert!((score - 0.3).abs() < 1e-6, "{score}");
    }

    #[test]
    fn keyword_does_not_outrank_a_much_better_match() {
        let named_weak = fuse(0.2, None, Some(0.32), W);
        let strong = fuse(0.9, None, None, W);
        assert!(named_weak < strong, "{named_weak} >= {strong}");
    }

    #[test]
    fn bad_inputs_stay_in_range() {
        let score = fuse(f32::NAN, Some(7.0), Some(-3.0), W);
        assert!((0.0..=1.0).contains(&score), "{score}");
        let boosted = fuse(0.5, None, Some(0.5), FusionWeights { keyword_boost: f32::NAN, ..W });
        assert!((0.0..=1.0).contains(&boosted), "{boosted}");
    }

    #[test]
    fn keyword_normalisation_is_monotone() {
        assert_eq!(normalize_keyword_score(0.0, 5.0), 0.0);
        assert!((normalize_keyword_score(5.0, 5.0) - 0.5).abs() < 1e-6);
        assert!(normalize_keyword_score(20.0, 5.0) > normalize_keyword_score(10.0, 5.0));
    }
}
