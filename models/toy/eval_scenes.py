"""Evaluation scene generator, deliberately different from the training generator.

It shares only the toy world (names, classes, captions) with `scenes.py`. Shapes are
rasterised with numpy at 4x4 subsamples per pixel instead of PIL's drawing, and colours
come from other reference values and jitter. Triangles are equilateral, sizes follow a
different distribution, noise is uniform instead of Gaussian, and JPEG quality is lower.
"""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image

from .world import BACKGROUNDS, CLASSES, Scene, SceneObject

EVAL_COLOURS = {
    "red": ((255, 0, 0), (210, 40, 40), (235, 20, 60)),
    "green": ((0, 160, 0), (60, 180, 75), (20, 220, 20)),
    "blue": ((0, 0, 230), (30, 90, 220), (0, 60, 200)),
    "yellow": ((255, 240, 0), (245, 220, 50), (255, 255, 40)),
    "purple": ((120, 20, 140), (150, 60, 190), (128, 0, 128)),
    "orange": ((255, 150, 0), (250, 130, 30), (255, 165, 0)),
}
EVAL_BACKGROUNDS = {"white": (250, 255), "light grey": (200, 215), "dark grey": (60, 80)}
SUBSAMPLES = 4


def _coverage(shape: str, box, width: int, height: int) -> np.ndarray:
    """Return the fraction of each pixel covered by the shape, from 4 x 4 subsamples per pixel."""
    offsets = (np.arange(SUBSAMPLES) + 0.5) / SUBSAMPLES
    xs = (np.arange(width)[:, None] + offsets[None, :]).reshape(-1)
    ys = (np.arange(height)[:, None] + offsets[None, :]).reshape(-1)
    grid_x, grid_y = np.meshgrid(xs, ys)
    x1, y1, x2, y2 = box
    if shape == "circle":
        centre_x, centre_y, radius = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2
        inside = (grid_x - centre_x) ** 2 + (grid_y - centre_y) ** 2 <= radius**2
    elif shape == "square":
        inside = (grid_x >= x1) & (grid_x <= x2) & (grid_y >= y1) & (grid_y <= y2)
    else:
        # Upward triangle with apex at the top centre; inside when below both slanted edges.
        apex_x = (x1 + x2) / 2
        slope = (y2 - y1) / ((x2 - x1) / 2)
        inside = (grid_y <= y2) & (grid_y >= y1 + slope * np.abs(grid_x - apex_x))
    coverage = inside.reshape(height, SUBSAMPLES, width, SUBSAMPLES).mean(axis=(1, 3))
    return coverage


def _shape_box(shape: str, x: float, y: float, size: float):
    if shape == "triangle":
        return (x, y, x + size, y + size * 0.866)
    return (x, y, x + size, y + size)


def random_eval_scene(rng: random.Random, count: int | None = None, required: list[tuple[str, str]] = ()):
    """Lay out a scene; `required` (colour, shape) pairs are placed first when given."""
    width = rng.choice((112, 160, 224, 300, 360, 420, 512, 600))
    height = int(width * rng.choice((0.5, 0.625, 0.75, 1.0, 1.333, 1.6, 2.0)))
    height = min(640, max(96, height))
    if count is None:
        count = rng.choice((1, 2, 2, 3, 3, 4))
    count = max(count, len(required))
    pairs = list(required) + rng.sample([pair for pair in CLASSES if pair not in required], count - len(required))

    short_side = min(width, height)
    objects: list[SceneObject] = []
    for colour, shape in pairs:
        for _ in range(300):
            size = short_side * min(0.45, max(0.12, rng.gauss(0.27, 0.08)))
            x = rng.uniform(1, width - size - 1)
            y = rng.uniform(1, height - size - 1)
            box = _shape_box(shape, x, y, size)
            if all(
                box[2] + 3 < other.box[0]
                or other.box[2] + 3 < box[0]
                or box[3] + 3 < other.box[1]
                or other.box[3] + 3 < box[1]
                for other in objects
            ):
                objects.append(SceneObject(colour, shape, box))
                break
    return Scene(width=width, height=height, background=rng.choice(BACKGROUNDS), objects=objects)


def render_eval_scene(scene: Scene, rng: random.Random) -> Image.Image:
    low, high = EVAL_BACKGROUNDS[scene.background]
    pixels = np.full((scene.height, scene.width, 3), rng.randint(low, high), dtype=np.float32)
    for item in scene.objects:
        reference = np.asarray(rng.choice(EVAL_COLOURS[item.colour]), dtype=np.float32)
        colour = np.clip(reference + np.asarray([rng.uniform(-10, 10) for _ in range(3)]), 0, 255)
        coverage = _coverage(item.shape, item.box, scene.width, scene.height)[..., None]
        pixels = pixels * (1 - coverage) + colour * coverage
    if rng.random() < 0.5:
        amplitude = rng.uniform(3, 12)
        noise = np.random.default_rng(rng.getrandbits(32)).uniform(-amplitude, amplitude, size=pixels.shape)
        pixels = pixels + noise
    image = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))
    if rng.random() < 0.6:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=rng.randint(55, 90))
        buffer.seek(0)
        image = Image.open(buffer).convert("RGB")
    return image
