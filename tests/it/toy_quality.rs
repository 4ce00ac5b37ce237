//! Quality of the committed toy model through the Rust pipeline, on scenes drawn by the
//! test's own drawer (other code, shades, sizes and noise than the training
//! generator): single-object queries in English and Chinese, and best-region accuracy.

use std::sync::OnceLock;

use xunying::model::{ImageEmbedding, Model, ModelOptions, Device, WalkType};

use crate::scenes::{draw_scene, iou, jpeg_round_trip, window_grid, Colour, Rng, Scene, SceneSpec, Shape, COLOURS, SHAPES};
use crate::support::toy_bundle;

pub fn toy_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let options = ModelOptions { device: Device::Cpu, ..ModelOptions::default() };
        Model::load(&toy_bundle(), options).expect("the toy bundle loads")
    })
}

pub struct Gallery {
    pub scenes: Vec<Scene>,
    pub embeddings: Vec<ImageEmbedding>,
}

/// Two scenes per colour-shape pair plus random ones, half of them stored as JPEG.
pub fn gallery(seed: u64) -> Gallery {
    let mut rng = Rng::new(seed);
    let mut scenes = Vec::new();
    for colour in COLOURS {
        for shape in SHAPES {
            for _ in 0..2 {
                scenes.push(draw_scene(&mut rng, &SceneSpec { required: vec![(colour, shape)], ..SceneSpec::default() }));
            }
        }
    }
    for _ in 0..12 {
        scenes.push(draw_scene(&mut rng, &SceneSpec::default()));
    }
    for scene in &mut scenes {
        if rng.unit() < 0.5 {
            scene.image = jpeg_round_trip(&scene.image, 60 + rng.below(36) as u8);
        }
    }
    let embeddings = embed_scenes(&scenes);
    Gallery { scenes, embeddings }
}

pub fn embed_scenes(scenes: &[Scene]) -> Vec<ImageEmbedding> {
    let model = toy_model();
    let prepared: Vec<_> = scenes.iter().map(|s| model.prepare(&s.image).unwrap()).collect();
    model.embed_images(&prepared, true).unwrap()
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn top_scene(gallery: &Gallery, query: &[f32]) -> usize {
    let scores: Vec<f32> = gallery.embeddings.iter().map(|e| dot(&e.embedding, query)).collect();
    (0..scores.len()).max_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap()
}

fn single_object_rate(query_for: impl Fn(Colour, Shape) -> String) -> (f32, Vec<String>) {
    let model = toy_model();
    let (mut hits, mut total, mut misses) = (0, 0, Vec::new());
    for seed in [11, 12] {
        let gallery = gallery(seed);
        for colour in COLOURS {
            for shape in SHAPES {
                let query = query_for(colour, shape);
                let embedding = model.embed_texts(&[query.as_str()], WalkType::Short).unwrap().remove(0).embedding;
                let best = top_scene(&gallery, &embedding);
                total += 1;
                if gallery.scenes[best].contains(colour, shape) {
                    hits += 1;
                } else {
                    misses.push(query);
                }
            }
        }
    }
    (hits as f32 / total as f32, misses)
}

#[test]
fn toy_single_object_english() {
    let (rate, misses) = single_object_rate(|c, s| format!("a {} {}", c.english(), s.english()));
    println!("English single-object top-1: {:.1}% (missed: {misses:?})", rate * 100.0);
    assert!(rate >= 0.95, "English top-1 rate {rate:.3} is below 0.95; missed {misses:?}");
}

#[test]
fn toy_single_object_chinese() {
    let (rate, misses) = single_object_rate(|c, s| format!("一个{}的{}", c.chinese(), s.chinese()));
    println!("Chinese single-object top-1: {:.1}% (missed: {misses:?})", rate * 100.0);
    assert!(rate >= 0.95, "Chinese top-1 rate {rate:.3} is below 0.95; missed {misses:?}");
}

#[test]
fn toy_best_region_overlaps_object() {
    let model = toy_model();
    let gallery = gallery(21);
    let (mut hits, mut total) = (0, 0);
    for (scene, embedded) in gallery.scenes.iter().zip(&gallery.embeddings) {
        let map = embedded.dense.as_ref().expect("dense features were requested");
        let mut candidates = window_grid(scene.width, scene.height);
        candidates.extend(scene.objects.iter().map(|o| o.bbox));
        let region_embeddings: Vec<Vec<f32>> = candidates.iter().map(|&b| map.region_embedding(b).unwrap()).collect();
        for object in &scene.objects {
            for phrase in [object.english(), object.chinese()] {
                let query = model.embed_texts(&[phrase.as_str()], WalkType::Box).unwrap().remove(0).embedding;
                let best = (0..candidates.len())
                    .max_by(|&a, &b| dot(&region_embeddings[a], &query).total_cmp(&dot(&region_embeddings[b], &query)))
                    .unwrap();
                total += 1;
                if iou(candidates[best], object.bbox) >= 0.5 {
                    hits += 1;
                }
            }
        }
    }
    let rate = hits as f32 / total as f32;
    println!("best region IoU >= 0.5: {:.1}% of {total}", rate * 100.0);
    assert!(rate >= 0.90, "best-region rate {rate:.3} is below 0.90");
}
