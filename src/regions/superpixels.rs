//! Superpixels of the photo's own pixels, used to move the edges of segment boxes from
//! the patch grid onto the edges in the image.
//!
//! A segment of the dense map is a set of patches, so its box can only start and end on
//! patch borders. At a budget of 64 patches one patch spans an eighth of the side of a
//! square photo, so an object two patches wide that straddles three comes out with an
//! IoU under 0.5.
//! Graph-based segmentation (Felzenszwalb and Huttenlocher, 2004) on a small copy of the
//! photo splits it into superpixels that follow colour edges. Each superpixel then votes:
//! it belongs to a segment when at least half of its pixels lie in the segment's patches.
//! The box of the voting superpixels is the snapped box, kept within one patch of the
//! grid box, so a poor segmentation moves an edge by one patch at most. A segment that no
//! superpixel votes for cuts across areas of even colour, like a slice of one object; the
//! segment proposer drops it.

use image::RgbImage;
use serde::{Deserialize, Serialize};

/// Superpixels thinner than this many pixels of the small copy, on average, do not vote.
const MIN_THICKNESS: f32 = 3.0;

/// Settings of superpixel snapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SnapConfig {
    /// Whether segment boxes are snapped to superpixels.
    pub enabled: bool,
    /// Maximum side length, in pixels, of the copy the superpixels are computed on.
    pub max_side: u32,
    /// Felzenszwalb's `k`: larger values give larger superpixels. In RGB distance units
    /// (0 to 255·√3) times pixels.
    pub scale: f32,
    /// Superpixels with fewer pixels than this (on the small copy) merge into a neighbour.
    pub min_size: u32,
}

impl Default for SnapConfig {
    fn default() -> Self {
        SnapConfig { enabled: true, max_side: 320, scale: 150.0, min_size: 12 }
    }
}

/// Superpixel labels of one photo, on a copy at most `max_side` pixels long.
#[derive(Debug, Clone)]
pub struct Superpixels {
    width: usize,
    height: usize,
    /// Label of each pixel of the copy, row-major, from 0 to `sizes.len() - 1`.
    labels: Vec<u32>,
    sizes: Vec<u32>,
    /// Inclusive pixel bounds `[x0, y0, x1, y1]` of each superpixel on the copy.
    bounds: Vec<[u32; 4]>,
    /// Size of the photo the superpixels were computed from.
    image_size: (u32, u32),
}

impl Superpixels {
    /// Segments `rgb` into superpixels. Returns `None` for an empty image.
    pub fn compute(rgb: &RgbImage, config: &SnapConfig) -> Option<Superpixels> {
        let (image_width, image_height) = rgb.dimensions();
        if image_width == 0 || image_height == 0 {
            return None;
        }
        let long = image_width.max(image_height);
        let max_side = config.max_side.max(16);
        let small;
        let source = if long > max_side {
            let ratio = max_side as f64 / long as f64;
            let w = ((image_width as f64 * ratio).round() as u32).max(1);
            let h = ((image_height as f64 * ratio).round() as u32).max(1);
            small = shrink(rgb, w, h);
            &small
        } else {
            rgb
        };
        let (width, height) = (source.width() as usize, source.height() as usize);
        let pixels = smooth(source);
        let edges = pixel_edges(&pixels, width, height);
        let labels = felzenszwalb(width * height, &edges, config.scale.max(0.0), config.min_size as usize);

        let (labels, count) = relabel(labels);
        let mut sizes = vec![0u32; count];
        let mut bounds = vec![[u32::MAX, u32::MAX, 0, 0]; count];
        for (i, &label) in labels.iter().enumerate() {
            let (x, y) = ((i % width) as u32, (i / width) as u32);
            let label = label as usize;
            sizes[label] += 1;
            let b = &mut bounds[label];
            *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
        }
        tracing::trace!(width, height, superpixels = count, "computed superpixels");
        Some(Superpixels { width, height, labels, sizes, bounds, image_size: (image_width, image_height) })
    }

    /// Size of the photo the superpixels were computed from.
    pub fn image_size(&self) -> (u32, u32) {
        self.image_size
    }

    /// Number of superpixels.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// Returns whether there are no superpixels, which a computed image never has.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// Returns whether a superpixel is a thin strip, under [`MIN_THICKNESS`] pixels across
    /// on average. Such a strip is the band of blended pixels along an antialiased edge.
    /// It belongs to neither side, so it must not decide a box.
    fn is_thin(&self, label: usize) -> bool {
        let [x0, y0, x1, y1] = self.bounds[label];
        let length = (x1 - x0 + 1).max(y1 - y0 + 1) as f32;
        (self.sizes[label] as f32) < MIN_THICKNESS * length
    }

    /// Counts the pixels of each superpixel in each patch of a `rows × cols` grid over the
    /// same photo.
    pub fn on_grid(&self, rows: usize, cols: usize) -> GridOverlap<'_> {
        // A grid has at least one patch; dense maps are checked for that before they get here.
        let (rows, cols) = (rows.max(1), cols.max(1));
        let mut per_patch: Vec<Vec<(u32, u32)>> = vec![Vec::new(); rows * cols];
        for (i, &label) in self.labels.iter().enumerate() {
            let (x, y) = (i % self.width, i / self.width);
            // The centre of the copy's pixel decides its patch.
            let col = (((x as f64 + 0.5) * cols as f64 / self.width as f64) as usize).min(cols - 1);
            let row = (((y as f64 + 0.5) * rows as f64 / self.height as f64) as usize).min(rows - 1);
            let cell = &mut per_patch[row * cols + col];
            match cell.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => cell.push((label, 1)),
            }
        }
        GridOverlap { superpixels: self, rows, cols, per_patch, inside: vec![0; self.len()], touched: Vec::new() }
    }
}

/// Pixel counts of every superpixel in every patch of one grid, for snapping many
/// segments of that grid.
#[derive(Debug)]
pub struct GridOverlap<'a> {
    superpixels: &'a Superpixels,
    rows: usize,
    cols: usize,
    /// `(label, pixels)` of each superpixel that reaches each patch.
    per_patch: Vec<Vec<(u32, u32)>>,
    /// Scratch: pixels of each superpixel inside the segment being snapped.
    inside: Vec<u32>,
    touched: Vec<u32>,
}

impl GridOverlap<'_> {
    /// Snaps the segment made of the patches `members` (row-major ids) whose grid box is
    /// `grid_box`, in pixels of the photo. Returns the box of the superpixels that lie at
    /// least half inside the segment (thin strips excepted), clipped to `grid_box` grown
    /// by one patch on each side. `None` when no superpixel qualifies: the segment then
    /// cuts across the photo's areas of even colour instead of following their edges,
    /// like a slice of one object.
    pub fn snap(&mut self, members: &[usize], grid_box: [f32; 4]) -> Option<[f32; 4]> {
        for &patch in members {
            for &(label, n) in self.per_patch.get(patch)? {
                if self.inside[label as usize] == 0 {
                    self.touched.push(label);
                }
                self.inside[label as usize] += n;
            }
        }
        let sp = self.superpixels;
        let mut union: Option<[u32; 4]> = None;
        for &label in &self.touched {
            let label = label as usize;
            if 2 * self.inside[label] >= sp.sizes[label] && !sp.is_thin(label) {
                let b = sp.bounds[label];
                union = Some(match union {
                    Some(u) => [u[0].min(b[0]), u[1].min(b[1]), u[2].max(b[2]), u[3].max(b[3])],
                    None => b,
                });
            }
            self.inside[label] = 0;
        }
        self.touched.clear();

        let [x0, y0, x1, y1] = union?;
        let (sx, sy) = (sp.image_size.0 as f32 / sp.width as f32, sp.image_size.1 as f32 / sp.height as f32);
        let snapped = [x0 as f32 * sx, y0 as f32 * sy, (x1 + 1) as f32 * sx, (y1 + 1) as f32 * sy];
        let (patch_w, patch_h) = (sp.image_size.0 as f32 / self.cols as f32, sp.image_size.1 as f32 / self.rows as f32);
        let clipped = [
            snapped[0].max(grid_box[0] - patch_w),
            snapped[1].max(grid_box[1] - patch_h),
            snapped[2].min(grid_box[2] + patch_w),
            snapped[3].min(grid_box[3] + patch_h),
        ];
        (clipped[2] > clipped[0] && clipped[3] > clipped[1]).then_some(clipped)
    }
}

/// Shrinks `image` to `width × height` by averaging the pixels under each target pixel,
/// which is all segmentation needs and costs less than an antialiased filter on a
/// camera-sized photo.
fn shrink(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    use fast_image_resize::{images::Image, images::ImageRef, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let resized = ImageRef::new(image.width(), image.height(), image.as_raw(), PixelType::U8x3).ok().and_then(|source| {
        let mut target = Image::new(width, height, PixelType::U8x3);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box));
        Resizer::new().resize(&source, &mut target, &options).ok()?;
        RgbImage::from_raw(width, height, target.into_vec())
    });
    // Both steps fail only on a buffer that does not match its size, which an RgbImage
    // cannot have. The antialiased resize is the fallback all the same.
    resized.unwrap_or_else(|| crate::model::resize_rgb(image, width, height))
}

/// Returns the copy as f32 RGB, smoothed by a Gaussian of σ = 0.8 so that sensor noise and
/// antialiased edges do not split flat areas.
fn smooth(image: &RgbImage) -> Vec<[f32; 3]> {
    const KERNEL: [f32; 5] = [0.0219, 0.2285, 0.4992, 0.2285, 0.0219];
    let (width, height) = (image.width() as usize, image.height() as usize);
    let raw: Vec<[f32; 3]> = image.pixels().map(|p| p.0.map(f32::from)).collect();
    let pass = |source: &[[f32; 3]], horizontal: bool| -> Vec<[f32; 3]> {
        let mut out = vec![[0.0f32; 3]; source.len()];
        for y in 0..height {
            for x in 0..width {
                let mut sum = [0.0f32; 3];
                for (k, weight) in KERNEL.iter().enumerate() {
                    let offset = k as isize - 2;
                    let (sx, sy) = if horizontal {
                        ((x as isize + offset).clamp(0, width as isize - 1) as usize, y)
                    } else {
                        (x, (y as isize + offset).clamp(0, height as isize - 1) as usize)
                    };
                    let p = source[sy * width + sx];
                    for c in 0..3 {
                        sum[c] += weight * p[c];
                    }
                }
                out[y * width + x] = sum;
            }
        }
        out
    };
    let horizontal = pass(&raw, true);
    pass(&horizontal, false)
}

/// Edge weights are RGB distances rounded to 1/64, so edges sort by counting.
const WEIGHT_STEPS: f32 = 64.0;

/// An edge between two pixels; `weight` is the RGB distance in 1/64 units.
#[derive(Debug, Clone, Copy)]
struct Edge {
    weight: u16,
    a: u32,
    b: u32,
}

/// Edges between 8-connected neighbours, weighted by RGB distance, lightest first.
fn pixel_edges(pixels: &[[f32; 3]], width: usize, height: usize) -> Vec<Edge> {
    let weight = |a: usize, b: usize| -> u16 {
        let (p, q) = (pixels[a], pixels[b]);
        let distance = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt();
        // At most 255·√3·64 ≈ 28,270, within u16.
        (distance * WEIGHT_STEPS).round() as u16
    };
    let mut edges = Vec::with_capacity(width * height * 4);
    for y in 0..height {
        for x in 0..width {
            let a = y * width + x;
            let mut link = |b: usize| edges.push(Edge { weight: weight(a, b), a: a as u32, b: b as u32 });
            if x + 1 < width {
                link(a + 1);
            }
            if y + 1 < height {
                link(a + width);
                if x + 1 < width {
                    link(a + width + 1);
                }
                if x > 0 {
                    link(a + width - 1);
                }
            }
        }
    }
    counting_sort(edges)
}

/// Sorts edges by weight in linear time; equal weights keep their order.
fn counting_sort(edges: Vec<Edge>) -> Vec<Edge> {
    let mut starts = vec![0usize; u16::MAX as usize + 2];
    for edge in &edges {
        starts[edge.weight as usize + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut sorted = vec![Edge { weight: 0, a: 0, b: 0 }; edges.len()];
    for edge in edges {
        let slot = &mut starts[edge.weight as usize];
        sorted[*slot] = edge;
        *slot += 1;
    }
    sorted
}

/// Graph-based segmentation: edges are visited from the lightest, and two components join
/// when the edge is no heavier than either one's largest internal edge plus `k / size`.
/// Components under `min_size` pixels then join a neighbour. `edges` must be sorted by
/// weight. Returns each node's root.
fn felzenszwalb(nodes: usize, edges: &[Edge], k: f32, min_size: usize) -> Vec<u32> {
    let mut sets = DisjointSets::new(nodes);
    let mut threshold = vec![k; nodes];
    for edge in edges {
        let weight = edge.weight as f32 / WEIGHT_STEPS;
        let (ra, rb) = (sets.find(edge.a as usize), sets.find(edge.b as usize));
        if ra != rb && weight <= threshold[ra] && weight <= threshold[rb] {
            let root = sets.union(ra, rb);
            threshold[root] = weight + k / sets.size[root] as f32;
        }
    }
    for edge in edges {
        let (ra, rb) = (sets.find(edge.a as usize), sets.find(edge.b as usize));
        if ra != rb && (sets.size[ra] < min_size || sets.size[rb] < min_size) {
            sets.union(ra, rb);
        }
    }
    (0..nodes).map(|i| sets.find(i) as u32).collect()
}

/// Renumbers roots densely from 0, in order of first appearance.
fn relabel(roots: Vec<u32>) -> (Vec<u32>, usize) {
    let mut dense = vec![u32::MAX; roots.len()];
    let mut count = 0u32;
    let labels = roots
        .into_iter()
        .map(|root| {
            let slot = &mut dense[root as usize];
            if *slot == u32::MAX {
                *slot = count;
                count += 1;
            }
            *slot
        })
        .collect();
    (labels, count as usize)
}

struct DisjointSets {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> Self {
        DisjointSets { parent: (0..n).collect(), size: vec![1; n] }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Joins two roots and returns the new root.
    fn union(&mut self, a: usize, b: usize) -> usize {
        let (big, small) = if self.size[a] >= self.size[b] { (a, b) } else { (b, a) };
        self.parent[small] = big;
        self.size[big] += self.size[small];
        big
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// Draws a grey image with a red disc centred at `(cx, cy)` of radius `r`.
    fn disc(width: u32, height: u32, cx: f32, cy: f32, r: f32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| {
            let inside = (x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2) <= r * r;
            if inside {
                Rgb([220, 30, 40])
            } else {
                Rgb([196, 198, 200])
            }
        })
    }

    #[test]
    fn flat_image_is_one_superpixel() {
        let image = RgbImage::from_pixel(50, 40, Rgb([10, 200, 30]));
        let superpixels = Superpixels::compute(&image, &SnapConfig::default()).unwrap();
        assert_eq!(superpixels.len(), 1);
    }

    #[test]
    fn disc_and_background_separate() {
        // The blur blends a ring of pixels at the disc's hard edge, which may form
        // superpixels of their own. None of them leaks into the background.
        let image = disc(120, 90, 47.0, 41.0, 15.0);
        let superpixels = Superpixels::compute(&image, &SnapConfig::default()).unwrap();
        let largest = (0..superpixels.len()).max_by_key(|&l| superpixels.sizes[l]).unwrap();
        assert_eq!(superpixels.bounds[largest], [0, 0, 119, 89]);
        for (label, b) in superpixels.bounds.iter().enumerate().filter(|&(l, _)| l != largest) {
            assert!(b[0] >= 30, "superpixel {label} at {b:?}");
            assert!(b[1] >= 24, "superpixel {label} at {b:?}");
            assert!(b[2] <= 64, "superpixel {label} at {b:?}");
            assert!(b[3] <= 58, "superpixel {label} at {b:?}");
        }
    }

    #[test]
    fn grid_segment_snaps_to_the_disc() {
        // On a 6 × 8 grid of 15-pixel patches the disc spans columns 2..=4 and rows 1..=3,
        // a 45-pixel box around a 30-pixel disc (IoU 0.44).
        let image = disc(120, 90, 47.0, 41.0, 15.0);
        let superpixels = Superpixels::compute(&image, &SnapConfig::default()).unwrap();
        let mut overlap = superpixels.on_grid(6, 8);
        let members: Vec<usize> = (1..=3).flat_map(|r| (2..=4).map(move |c| r * 8 + c)).collect();
        let snapped = overlap.snap(&members, [30.0, 15.0, 75.0, 60.0]).unwrap();
        for (got, want) in snapped.iter().zip([32.0, 26.0, 62.0, 56.0]) {
            assert!((got - want).abs() <= 2.5, "{snapped:?}");
        }
        // The scratch state is reset: a second segment over the background alone snaps to
        // nothing, because the background lies mostly outside it.
        assert_eq!(overlap.snap(&[0, 1], [0.0, 0.0, 30.0, 15.0]), None);
    }

    #[test]
    fn snap_stays_near_grid_box() {
        // A long bar whose segment covers only its middle.
        let image = RgbImage::from_fn(160, 40, |_, y| if (10..30).contains(&y) { Rgb([20, 20, 200]) } else { Rgb([240, 240, 240]) });
        let superpixels = Superpixels::compute(&image, &SnapConfig::default()).unwrap();
        let mut overlap = superpixels.on_grid(4, 16);
        let members: Vec<usize> = (1..=2).flat_map(|r| (2..=13).map(move |c| r * 16 + c)).collect();
        let snapped = overlap.snap(&members, [20.0, 10.0, 140.0, 30.0]).unwrap();
        assert_eq!(snapped[0], 10.0, "{snapped:?}");
        assert_eq!(snapped[2], 150.0, "{snapped:?}");
    }

    #[test]
    fn large_photos_work_on_a_small_copy() {
        let image = disc(1200, 900, 470.0, 410.0, 150.0);
        let superpixels = Superpixels::compute(&image, &SnapConfig::default()).unwrap();
        assert!(superpixels.width <= 320);
        assert!(superpixels.height <= 320);
        let mut overlap = superpixels.on_grid(6, 8);
        let members: Vec<usize> = (1..=3).flat_map(|r| (2..=4).map(move |c| r * 8 + c)).collect();
        let snapped = overlap.snap(&members, [300.0, 150.0, 750.0, 600.0]).unwrap();
        // The ring of blended pixels at the disc's hard edge is up to four pixels of the
        // 320-pixel copy, which is 15 pixels of the photo. The grid box is 20 to 60 off.
        for (got, want) in snapped.iter().zip([320.0, 260.0, 620.0, 560.0]) {
            assert!((got - want).abs() <= 15.0, "{snapped:?}");
        }
    }

    #[test]
    fn empty_image_has_no_superpixels() {
        assert!(Superpixels::compute(&RgbImage::new(0, 5), &SnapConfig::default()).is_none());
    }
}
