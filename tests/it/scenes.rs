//! A drawer of toy-world scenes for tests: 1–4 coloured circles, squares and triangles
//! on a plain or lightly noisy background. Its drawing code, shades, sizes and noise
//! differ on purpose from the generator the toy model was trained on, so the tests
//! measure generalisation rather than recall of training images.

#![allow(dead_code)]

use image::{Rgb, RgbImage};

/// Deterministic xorshift generator, so scenes are the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Colour {
    Red,
    Green,
    Blue,
    Yellow,
    Purple,
    Orange,
}

pub const COLOURS: [Colour; 6] = [Colour::Red, Colour::Green, Colour::Blue, Colour::Yellow, Colour::Purple, Colour::Orange];

impl Colour {
    pub fn english(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Green => "green",
            Colour::Blue => "blue",
            Colour::Yellow => "yellow",
            Colour::Purple => "purple",
            Colour::Orange => "orange",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Colour::Red => "红色",
            Colour::Green => "绿色",
            Colour::Blue => "蓝色",
            Colour::Yellow => "黄色",
            Colour::Purple => "紫色",
            Colour::Orange => "橙色",
        }
    }

    /// Shades a little off the pure colour, varied per object.
    fn shade(self, rng: &mut Rng) -> Rgb<u8> {
        let base: [f64; 3] = match self {
            Colour::Red => [205.0, 45.0, 50.0],
            Colour::Green => [50.0, 160.0, 70.0],
            Colour::Blue => [45.0, 85.0, 205.0],
            Colour::Yellow => [235.0, 205.0, 50.0],
            Colour::Purple => [130.0, 65.0, 175.0],
            Colour::Orange => [240.0, 130.0, 40.0],
        };
        Rgb(base.map(|c| (c + rng.range(-15.0, 15.0)).clamp(0.0, 255.0) as u8))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    Circle,
    Square,
    Triangle,
}

pub const SHAPES: [Shape; 3] = [Shape::Circle, Shape::Square, Shape::Triangle];

impl Shape {
    pub fn english(self) -> &'static str {
        match self {
            Shape::Circle => "circle",
            Shape::Square => "square",
            Shape::Triangle => "triangle",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Shape::Circle => "圆形",
            Shape::Square => "正方形",
            Shape::Triangle => "三角形",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Object {
    pub colour: Colour,
    pub shape: Shape,
    /// `[x0, y0, x1, y1]` in pixels.
    pub bbox: [f32; 4],
}

impl Object {
    pub fn english(&self) -> String {
        format!("{} {}", self.colour.english(), self.shape.english())
    }

    pub fn chinese(&self) -> String {
        format!("{}的{}", self.colour.chinese(), self.shape.chinese())
    }
}

#[derive(Debug, Clone)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    pub objects: Vec<Object>,
    pub image: RgbImage,
}

impl Scene {
    pub fn contains(&self, colour: Colour, shape: Shape) -> bool {
        self.objects.iter().any(|o| o.colour == colour && o.shape == shape)
    }
}

/// What a scene must contain; the rest is random.
#[derive(Debug, Clone, Default)]
pub struct SceneSpec {
    pub required: Vec<(Colour, Shape)>,
    pub num_objects: Option<usize>,
    /// Objects that must not appear.
    pub excluded: Vec<(Colour, Shape)>,
    pub size: Option<(u32, u32)>,
}

pub fn draw_scene(rng: &mut Rng, spec: &SceneSpec) -> Scene {
    let (width, height) = spec.size.unwrap_or_else(|| {
        let long = rng.range(110.0, 640.0);
        let aspect = rng.range(0.55, 1.8);
        if aspect >= 1.0 { (long as u32, (long / aspect).max(96.0) as u32) } else { ((long * aspect).max(96.0) as u32, long as u32) }
    });
    let count = spec.num_objects.unwrap_or_else(|| 1 + rng.below(4)).max(spec.required.len()).min(4);

    let mut kinds = spec.required.clone();
    while kinds.len() < count {
        let kind = (COLOURS[rng.below(6)], SHAPES[rng.below(3)]);
        if !kinds.contains(&kind) && !spec.excluded.contains(&kind) {
            kinds.push(kind);
        }
    }

    let backgrounds = [[250.0, 250.0, 248.0], [196.0, 198.0, 200.0], [72.0, 70.0, 74.0]];
    let background = backgrounds[rng.below(3)];
    let noise = if rng.unit() < 0.5 { rng.range(2.0, 7.0) } else { 0.0 };
    let mut image = RgbImage::from_fn(width, height, |_, _| {
        Rgb(background.map(|c| (c + (rng.unit() - 0.5) * 2.0 * noise).clamp(0.0, 255.0) as u8))
    });

    let short = width.min(height) as f64;
    let mut objects: Vec<Object> = Vec::new();
    for (colour, shape) in kinds {
        for _attempt in 0..200 {
            let side = rng.range(0.14, 0.42) * short;
            let x0 = rng.range(2.0, width as f64 - side - 2.0);
            let y0 = rng.range(2.0, height as f64 - side - 2.0);
            let bbox = [x0 as f32, y0 as f32, (x0 + side) as f32, (y0 + side) as f32];
            if objects.iter().all(|o| !overlaps(o.bbox, bbox, 4.0)) {
                let fill = colour.shade(rng);
                paint(&mut image, shape, bbox, fill);
                objects.push(Object { colour, shape, bbox });
                break;
            }
        }
    }
    Scene { width, height, objects, image }
}

fn overlaps(a: [f32; 4], b: [f32; 4], margin: f32) -> bool {
    a[0] - margin < b[2] && b[0] - margin < a[2] && a[1] - margin < b[3] && b[1] - margin < a[3]
}

/// Paints with 4×4 supersampling at the edges, so shapes are antialiased.
fn paint(image: &mut RgbImage, shape: Shape, [x0, y0, x1, y1]: [f32; 4], fill: Rgb<u8>) {
    let inside = |x: f32, y: f32| -> bool {
        let (cx, cy, half) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0, (x1 - x0) / 2.0);
        match shape {
            Shape::Square => x >= x0 && x <= x1 && y >= y0 && y <= y1,
            Shape::Circle => (x - cx).powi(2) + (y - cy).powi(2) <= half * half,
            Shape::Triangle => {
                // Apex at the top centre, base along the bottom edge.
                if y < y0 || y > y1 {
                    return false;
                }
                let t = (y - y0) / (y1 - y0);
                (x - cx).abs() <= t * half
            }
        }
    };
    for py in (y0.floor() as u32)..=(y1.ceil() as u32).min(image.height() - 1) {
        for px in (x0.floor() as u32)..=(x1.ceil() as u32).min(image.width() - 1) {
            let mut hits = 0;
            for sy in 0..4 {
                for sx in 0..4 {
                    if inside(px as f32 + (sx as f32 + 0.5) / 4.0, py as f32 + (sy as f32 + 0.5) / 4.0) {
                        hits += 1;
                    }
                }
            }
            if hits > 0 {
                let alpha = hits as f32 / 16.0;
                let pixel = image.get_pixel_mut(px, py);
                for c in 0..3 {
                    pixel.0[c] = (alpha * fill.0[c] as f32 + (1.0 - alpha) * pixel.0[c] as f32).round() as u8;
                }
            }
        }
    }
}

/// Encodes a scene as JPEG at `quality` and decodes it again, as a file on disk would be.
pub fn jpeg_round_trip(image: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(image).unwrap();
    image::load_from_memory(&bytes).unwrap().to_rgb8()
}

/// Intersection over union of two boxes.
pub fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// A multi-scale sliding window grid over an image: windows of 1/2, 1/3 and 1/4 of each
/// side at half-window strides.
pub fn window_grid(width: u32, height: u32) -> Vec<[f32; 4]> {
    let (w, h) = (width as f32, height as f32);
    let mut boxes = vec![[0.0, 0.0, w, h]];
    for parts in [2.0f32, 3.0, 4.0] {
        let (bw, bh) = (w / parts, h / parts);
        let steps = (parts * 2.0 - 1.0) as usize;
        for iy in 0..steps {
            for ix in 0..steps {
                let (x0, y0) = (ix as f32 * bw / 2.0, iy as f32 * bh / 2.0);
                boxes.push([x0, y0, (x0 + bw).min(w), (y0 + bh).min(h)]);
            }
        }
    }
    boxes
}
