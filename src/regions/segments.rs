//! Segments of the dense feature map: neighbouring patches whose features agree are
//! grouped into objects, without a second model pass.
//!
//! Patches start as one region each. The two adjacent regions (4-connected) whose mean
//! features have the highest cosine similarity merge first, and merging continues until
//! one region covers the image, as in selective search's hierarchical grouping. Every
//! region formed on the way is a candidate, so the hierarchy holds every scale and no
//! similarity threshold has to be tuned to one model's feature statistics. A candidate
//! is scored by contrast: how well its patches agree with its own mean, minus how well
//! the patches around it agree with that mean. Whole-image background and parts of a
//! uniform area score near zero and are dropped.

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};

use serde::{Deserialize, Serialize};

use super::superpixels::GridOverlap;
use super::{validate_dense_map, RegionError, RegionProposal, RegionSource};
use crate::model::DenseMap;

/// Grids with fewer patches than this also propose single-patch segments, because one
/// patch there is a sizeable part of the image.
const SMALL_GRID_PATCHES: usize = 64;

/// Settings of the segment proposer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SegmentConfig {
    /// Smallest contrast a segment needs to be proposed, in cosine units (0 to 2).
    pub min_contrast: f32,
    /// Segments whose bounding box covers more than this fraction of the image are
    /// background and are dropped.
    pub max_area_fraction: f32,
    /// Fewest patches in a segment, on grids of 64 patches or more. Smaller grids allow
    /// single patches.
    pub min_patches: usize,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        SegmentConfig { min_contrast: 0.05, max_area_fraction: 0.9, min_patches: 2 }
    }
}

/// Proposes segments of a dense map with the default settings.
pub fn propose_segments(map: &DenseMap) -> Result<Vec<RegionProposal>, RegionError> {
    propose_segments_with(map, &SegmentConfig::default())
}

/// Proposes segments of a dense map. Boxes are in pixels of the map's image; the score is
/// the segment's contrast, capped at 1. Proposals come highest score first and may
/// overlap, because a segment and the larger segments containing it are all proposed.
pub fn propose_segments_with(map: &DenseMap, config: &SegmentConfig) -> Result<Vec<RegionProposal>, RegionError> {
    propose(map, config, None)
}

/// Proposes segments of a dense map like [`propose_segments_with`], with each box snapped
/// to the superpixels of the photo (see [`GridOverlap::snap`]). `overlap` must be for the
/// map's grid; a segment no superpixel votes for is dropped.
pub fn propose_segments_snapped(
    map: &DenseMap,
    config: &SegmentConfig,
    overlap: &mut GridOverlap<'_>,
) -> Result<Vec<RegionProposal>, RegionError> {
    propose(map, config, Some(overlap))
}

fn propose(map: &DenseMap, config: &SegmentConfig, mut overlap: Option<&mut GridOverlap<'_>>) -> Result<Vec<RegionProposal>, RegionError> {
    validate_dense_map(map)?;
    let num_patches = map.rows * map.cols;
    let min_patches = if num_patches < SMALL_GRID_PATCHES { 1 } else { config.min_patches.max(1) };
    let max_patch_area = (config.max_area_fraction * num_patches as f32).floor() as usize;

    let mut hierarchy = Hierarchy::new(map);
    let mut proposals = Vec::new();
    let mut consider = |hierarchy: &mut Hierarchy, id: usize| {
        let region = &hierarchy.regions[id];
        let [r0, c0, r1, c1] = region.bounds;
        let box_patches = (r1 - r0 + 1) * (c1 - c0 + 1);
        if region.count < min_patches || box_patches > max_patch_area {
            return;
        }
        let Some(contrast) = hierarchy.contrast(id) else { return };
        if contrast >= config.min_contrast {
            let region = &hierarchy.regions[id];
            let grid_box = grid_to_pixels(region.bounds, map);
            let region_box = match overlap.as_deref_mut() {
                Some(overlap) => overlap.snap(&region.members, grid_box),
                None => Some(grid_box),
            };
            let Some(region_box) = region_box else { return };
            proposals.push(RegionProposal { region_box, source: RegionSource::Segment, score: contrast.min(1.0) });
        }
    };

    for id in 0..num_patches {
        consider(&mut hierarchy, id);
    }
    while let Some(merged) = hierarchy.merge_most_similar() {
        consider(&mut hierarchy, merged);
    }

    proposals.sort_by(|a, b| b.score.total_cmp(&a.score));
    tracing::debug!(rows = map.rows, cols = map.cols, num_segments = proposals.len(), "proposed dense-feature segments");
    Ok(proposals)
}

/// Maps inclusive patch bounds `[r0, c0, r1, c1]` to a pixel box: patch `(r, c)` covers
/// `x ∈ [c·W/cols, (c+1)·W/cols]` and likewise in `y`.
fn grid_to_pixels([r0, c0, r1, c1]: [usize; 4], map: &DenseMap) -> [f32; 4] {
    let patch_w = map.image_size.0 as f32 / map.cols as f32;
    let patch_h = map.image_size.1 as f32 / map.rows as f32;
    [c0 as f32 * patch_w, r0 as f32 * patch_h, (c1 + 1) as f32 * patch_w, (r1 + 1) as f32 * patch_h]
}

struct Region {
    /// Sum of the member patches' unit features; emptied once the region is merged.
    sum: Vec<f32>,
    sum_norm: f32,
    count: usize,
    /// Inclusive patch bounds `[r0, c0, r1, c1]`.
    bounds: [usize; 4],
    members: Vec<usize>,
    neighbours: BTreeSet<usize>,
    alive: bool,
}

/// A candidate merge. Ordered by similarity, then towards lower ids, so the merge order
/// does not depend on heap internals.
#[derive(PartialEq)]
struct Pair {
    similarity: f32,
    a: usize,
    b: usize,
}

impl Eq for Pair {}

impl Ord for Pair {
    fn cmp(&self, other: &Self) -> Ordering {
        self.similarity
            .total_cmp(&other.similarity)
            .then_with(|| other.a.cmp(&self.a))
            .then_with(|| other.b.cmp(&self.b))
    }
}

impl PartialOrd for Pair {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

struct Hierarchy {
    rows: usize,
    cols: usize,
    dim: usize,
    /// Unit patch features, row-major; all zeros where a patch's norm is zero.
    patches: Vec<f32>,
    regions: Vec<Region>,
    /// Live region of each patch.
    label: Vec<usize>,
    /// Marks patches already counted in the ring being measured: `ring_mark[p] == id + 1`.
    ring_mark: Vec<usize>,
    pairs: BinaryHeap<Pair>,
}

impl Hierarchy {
    fn new(map: &DenseMap) -> Self {
        let (rows, cols, dim) = (map.rows, map.cols, map.dim);
        let mut patches = map.features.clone();
        patches.chunks_exact_mut(dim).for_each(|patch| {
            if !crate::model::l2_normalize(patch) {
                patch.fill(0.0);
            }
        });

        let regions = (0..rows * cols)
            .map(|p| {
                let (r, c) = (p / cols, p % cols);
                let sum = patches[p * dim..(p + 1) * dim].to_vec();
                let neighbours = grid_neighbours(p, rows, cols).collect();
                Region { sum_norm: norm(&sum), sum, count: 1, bounds: [r, c, r, c], members: vec![p], neighbours, alive: true }
            })
            .collect();
        let mut hierarchy = Hierarchy {
            rows,
            cols,
            dim,
            patches,
            regions,
            label: (0..rows * cols).collect(),
            ring_mark: vec![0; rows * cols],
            pairs: BinaryHeap::new(),
        };
        for p in 0..rows * cols {
            for q in grid_neighbours(p, rows, cols).filter(|&q| q > p) {
                let similarity = hierarchy.similarity(p, q);
                hierarchy.pairs.push(Pair { similarity, a: p, b: q });
            }
        }
        hierarchy
    }

    /// Cosine similarity of two regions' mean features; 0 when either mean is zero.
    fn similarity(&self, a: usize, b: usize) -> f32 {
        let (ra, rb) = (&self.regions[a], &self.regions[b]);
        let denominator = ra.sum_norm * rb.sum_norm;
        if denominator > 0.0 {
            dot(&ra.sum, &rb.sum) / denominator
        } else {
            0.0
        }
    }

    /// Merges the most similar adjacent pair of live regions into a new region and returns
    /// its id, or `None` when no adjacent pair is left.
    fn merge_most_similar(&mut self) -> Option<usize> {
        let (a, b) = loop {
            let pair = self.pairs.pop()?;
            if self.regions[pair.a].alive && self.regions[pair.b].alive {
                break (pair.a, pair.b);
            }
        };
        let id = self.regions.len();
        let (first, second) = (self.take(a), self.take(b));

        let mut sum = first.sum;
        sum.iter_mut().zip(&second.sum).for_each(|(s, v)| *s += v);
        let bounds = [
            first.bounds[0].min(second.bounds[0]),
            first.bounds[1].min(second.bounds[1]),
            first.bounds[2].max(second.bounds[2]),
            first.bounds[3].max(second.bounds[3]),
        ];
        let mut members = first.members;
        members.extend(second.members);
        for &p in &members {
            self.label[p] = id;
        }
        let mut neighbours = first.neighbours;
        neighbours.extend(second.neighbours);
        neighbours.remove(&a);
        neighbours.remove(&b);

        for &n in &neighbours {
            let links = &mut self.regions[n].neighbours;
            links.remove(&a);
            links.remove(&b);
            links.insert(id);
        }
        let count = first.count + second.count;
        self.regions.push(Region { sum_norm: norm(&sum), sum, count, bounds, members, neighbours, alive: true });
        for n in self.regions[id].neighbours.clone() {
            let similarity = self.similarity(id, n);
            self.pairs.push(Pair { similarity, a: n.min(id), b: n.max(id) });
        }
        Some(id)
    }

    fn take(&mut self, id: usize) -> Region {
        let region = &mut self.regions[id];
        region.alive = false;
        Region {
            sum: std::mem::take(&mut region.sum),
            sum_norm: region.sum_norm,
            count: region.count,
            bounds: region.bounds,
            members: std::mem::take(&mut region.members),
            neighbours: std::mem::take(&mut region.neighbours),
            alive: false,
        }
    }

    /// The contrast of a live region: the mean cosine of its patches to its mean feature
    /// (its cohesion) minus the mean cosine of the patches bordering it (4-connected) to
    /// that feature. `None` when nothing borders it or its mean feature is zero.
    fn contrast(&mut self, id: usize) -> Option<f32> {
        let region = &self.regions[id];
        if region.sum_norm <= 0.0 {
            return None;
        }
        let cohesion = region.sum_norm / region.count as f32;

        let mut ring_count = 0usize;
        let mut ring_dot = 0.0f32;
        for &p in &region.members {
            for q in grid_neighbours(p, self.rows, self.cols) {
                if self.label[q] == id || self.ring_mark[q] == id + 1 {
                    continue;
                }
                self.ring_mark[q] = id + 1;
                ring_count += 1;
                ring_dot += dot(&self.patches[q * self.dim..(q + 1) * self.dim], &region.sum);
            }
        }
        if ring_count == 0 {
            return None;
        }
        let surround = ring_dot / (region.sum_norm * ring_count as f32);
        Some(cohesion - surround)
    }
}

/// The 4-connected neighbours of patch `p` on a `rows × cols` grid.
fn grid_neighbours(p: usize, rows: usize, cols: usize) -> impl Iterator<Item = usize> {
    let (r, c) = (p / cols, p % cols);
    let up = (r > 0).then(|| p - cols);
    let down = (r + 1 < rows).then(|| p + cols);
    let left = (c > 0).then(|| p - 1);
    let right = (c + 1 < cols).then(|| p + 1);
    [up, left, right, down].into_iter().flatten()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(values: &[f32]) -> f32 {
    dot(values, values).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map whose patches are `background` except inside `objects`, each a patch
    /// rectangle `[r0, c0, r1, c1)` with its own one-hot feature.
    fn blocky_map(rows: usize, cols: usize, objects: &[[usize; 4]]) -> DenseMap {
        let dim = 8;
        let mut features = vec![0.0; rows * cols * dim];
        for p in 0..rows * cols {
            let (r, c) = (p / cols, p % cols);
            let kind = objects
                .iter()
                .position(|&[r0, c0, r1, c1]| (r0..r1).contains(&r) && (c0..c1).contains(&c))
                .map_or(0, |i| i + 1);
            features[p * dim + kind] = 1.0;
        }
        DenseMap { rows, cols, dim, features, image_size: ((cols * 10) as u32, (rows * 10) as u32) }
    }

    #[test]
    fn blocks_are_found_exactly() {
        let map = blocky_map(10, 12, &[[1, 1, 4, 5], [5, 7, 9, 11]]);
        let proposals = propose_segments(&map).unwrap();
        assert!(proposals.len() >= 2, "{proposals:?}");
        let top: Vec<[f32; 4]> = proposals[..2].iter().map(|p| p.region_box).collect();
        assert!(top.contains(&[10.0, 10.0, 50.0, 40.0]), "{proposals:?}");
        assert!(top.contains(&[70.0, 50.0, 110.0, 90.0]), "{proposals:?}");
        assert!(proposals[..2].iter().all(|p| p.score == 1.0));
    }

    #[test]
    fn snapping_drops_object_slices() {
        // The features split one blue rectangle into a left and a right half. The pixels
        // show a single object, so only the whole of it is proposed.
        let map = blocky_map(6, 8, &[[1, 1, 4, 3], [1, 3, 4, 5]]);
        let image = image::RgbImage::from_fn(80, 60, |x, y| {
            if (10..50).contains(&x) && (10..40).contains(&y) {
                image::Rgb([30, 60, 200])
            } else {
                image::Rgb([245, 245, 240])
            }
        });
        let halves = [[10.0, 10.0, 30.0, 40.0], [30.0, 10.0, 50.0, 40.0]];
        let unsnapped = propose_segments(&map).unwrap();
        assert!(halves.iter().all(|half| unsnapped.iter().any(|p| p.region_box == *half)), "{unsnapped:?}");

        let superpixels = crate::regions::Superpixels::compute(&image, &crate::regions::SnapConfig::default()).unwrap();
        let snapped = propose_segments_snapped(&map, &SegmentConfig::default(), &mut superpixels.on_grid(6, 8)).unwrap();
        assert!(snapped.iter().all(|p| !halves.contains(&p.region_box)), "{snapped:?}");
        let whole = snapped.iter().find(|p| crate::regions::iou(p.region_box, [10.0, 10.0, 50.0, 40.0]) > 0.9);
        assert!(whole.is_some(), "{snapped:?}");
    }

    #[test]
    fn uniform_map_has_no_segments() {
        let map = blocky_map(8, 8, &[]);
        assert!(propose_segments(&map).unwrap().is_empty());
    }

    #[test]
    fn single_patch_only_on_small_grids() {
        let small = blocky_map(6, 6, &[[2, 2, 3, 3]]);
        let proposals = propose_segments(&small).unwrap();
        assert_eq!(proposals[0].region_box, [20.0, 20.0, 30.0, 30.0]);

        let large = blocky_map(10, 10, &[[2, 2, 3, 3]]);
        let proposals = propose_segments(&large).unwrap();
        assert!(proposals.iter().all(|p| p.region_box != [20.0, 20.0, 30.0, 30.0]), "{proposals:?}");
    }

    #[test]
    fn object_covering_the_image_is_background() {
        // The object's box covers 95% of the image; the strip beside it is proposed.
        let map = blocky_map(20, 20, &[[0, 0, 20, 19]]);
        let proposals = propose_segments(&map).unwrap();
        assert!(proposals.iter().all(|p| p.region_box != [0.0, 0.0, 190.0, 200.0]), "{proposals:?}");
        assert_eq!(proposals[0].region_box, [190.0, 0.0, 200.0, 200.0]);
    }

    #[test]
    fn zero_features_do_not_panic() {
        let mut map = blocky_map(4, 4, &[[1, 1, 3, 3]]);
        map.features.fill(0.0);
        assert!(propose_segments(&map).unwrap().is_empty());
    }

    #[test]
    fn one_patch_grid_has_no_segments() {
        let map = blocky_map(1, 1, &[]);
        assert!(propose_segments(&map).unwrap().is_empty());
    }

    #[test]
    fn inconsistent_map_is_an_error() {
        let mut map = blocky_map(4, 4, &[]);
        map.features.pop();
        assert!(matches!(propose_segments(&map), Err(RegionError::InvalidDenseMap { found: 127, expected: 128, .. })));
    }
}
