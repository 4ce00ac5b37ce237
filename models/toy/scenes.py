"""Training scene generator: 1 to 4 non-overlapping coloured shapes on a plain background.

Scenes are 96 to 640 pixels per side with an aspect ratio between 1:2 and 2:1. Each
shape's size is 12% to 45% of the short side. No two shapes in a scene share both colour
and shape, so a caption that lists a scene's objects names each one once. Colours are
drawn around several reference values per name (pure web colours among them) with a small
jitter, so that the model learns colour categories rather than single RGB values.
"""

from __future__ import annotations

import io
import math
import random

import numpy as np
from PIL import Image, ImageDraw

from .world import BACKGROUNDS, COLOURS, SHAPES, Scene, SceneObject

# Reference RGB values for each colour name.
COLOUR_REFERENCES = {
    "red": ((255, 0, 0), (220, 30, 30), (200, 20, 40), (230, 50, 50)),
    "green": ((0, 128, 0), (0, 200, 0), (40, 170, 60), (30, 140, 50), (0, 255, 0)),
    "blue": ((0, 0, 255), (40, 70, 210), (30, 60, 180), (20, 100, 230)),
    "yellow": ((255, 255, 0), (240, 210, 30), (250, 230, 60), (230, 200, 0)),
    "purple": ((128, 0, 128), (140, 50, 170), (160, 32, 240), (110, 40, 150)),
    "orange": ((255, 165, 0), (255, 140, 0), (245, 120, 20), (240, 130, 40)),
}
BACKGROUND_LEVELS = {"white": (245, 255), "light grey": (195, 225), "dark grey": (50, 95)}
MAX_PLACEMENT_TRIES = 200


def sample_colour(name: str, rng: random.Random) -> tuple[int, int, int]:
    reference = rng.choice(COLOUR_REFERENCES[name])
    return tuple(int(min(255, max(0, channel + rng.randint(-15, 15)))) for channel in reference)


def sample_background(name: str, rng: random.Random) -> tuple[int, int, int]:
    low, high = BACKGROUND_LEVELS[name]
    level = rng.randint(low, high)
    tint = rng.randint(-3, 3)
    return (level, level, min(255, max(0, level + tint)))


def _overlaps(box, boxes, margin: float) -> bool:
    for other in boxes:
        if (
            box[0] < other[2] + margin
            and other[0] < box[2] + margin
            and box[1] < other[3] + margin
            and other[1] < box[3] + margin
        ):
            return True
    return False


def place_boxes(width: int, height: int, count: int, rng: random.Random) -> list[tuple[float, float, float, float]]:
    """Place up to `count` non-overlapping square footprints; may return fewer when space runs out."""
    short_side = min(width, height)
    boxes = []
    for _ in range(count):
        for _ in range(MAX_PLACEMENT_TRIES):
            size = rng.uniform(0.12, 0.45) * short_side
            x1 = rng.uniform(0, width - size)
            y1 = rng.uniform(0, height - size)
            box = (x1, y1, x1 + size, y1 + size)
            if not _overlaps(box, boxes, margin=2.0):
                boxes.append(box)
                break
    return boxes


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, box, colour, scale: int) -> None:
    """Draw a shape filling `box` (pixels of the final image) on a canvas `scale` times larger."""
    x1, y1, x2, y2 = box
    canvas_box = [x1 * scale, y1 * scale, x2 * scale, y2 * scale]
    if shape == "circle":
        draw.ellipse(canvas_box, fill=colour)
    elif shape == "square":
        draw.rectangle(canvas_box, fill=colour)
    else:
        # Isosceles triangle with the apex at the top centre, as `world.inside_shape` assumes.
        points = [((x1 + x2) / 2, y1), (x2, y2), (x1, y2)]
        draw.polygon([(x * scale, y * scale) for x, y in points], fill=colour)


def random_scene_size(rng: random.Random) -> tuple[int, int]:
    aspect = math.exp(rng.uniform(math.log(0.5), math.log(2.0)))
    long_side = rng.randint(96, 640)
    if aspect >= 1:
        return long_side, max(96, round(long_side / aspect))
    return max(96, round(long_side * aspect)), long_side


def random_scene_layout(
    rng: random.Random, size: tuple[int, int] | None = None, colours: tuple[str, ...] = COLOURS
) -> Scene:
    """Choose the background and objects of a scene of `size` (random when None) without drawing it.

    Objects take their colours from `colours`, all six by default.
    """
    width, height = size if size is not None else random_scene_size(rng)
    count = rng.choice((1, 1, 2, 2, 3, 3, 4))
    boxes = place_boxes(width, height, count, rng)

    pairs = [(colour, shape) for colour in colours for shape in SHAPES]
    chosen = rng.sample(pairs, len(boxes))
    objects = [SceneObject(colour, shape, box) for (colour, shape), box in zip(chosen, boxes)]
    return Scene(width=width, height=height, background=rng.choice(BACKGROUNDS), objects=objects)


def render_scene(scene: Scene, rng: random.Random) -> Image.Image:
    """Draw a scene with PIL: 2x supersampling for soft edges half of the time, optional noise and JPEG."""
    scale = rng.choice((1, 2))
    image = Image.new("RGB", (scene.width * scale, scene.height * scale), sample_background(scene.background, rng))
    draw = ImageDraw.Draw(image)
    for item in scene.objects:
        draw_shape(draw, item.shape, item.box, sample_colour(item.colour, rng), scale)
    if scale != 1:
        image = image.resize((scene.width, scene.height), Image.Resampling.BOX)

    if rng.random() < 0.5:
        sigma = rng.uniform(1.0, 8.0)
        noise_rng = np.random.default_rng(rng.getrandbits(32))
        pixels = np.asarray(image, dtype=np.float32)
        pixels = pixels + noise_rng.normal(0.0, sigma, size=pixels.shape)
        image = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8))

    if rng.random() < 0.5:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=rng.randint(70, 95))
        buffer.seek(0)
        image = Image.open(buffer).convert("RGB")
    return image


def generate_scene(
    rng: random.Random, size: tuple[int, int] | None = None, colours: tuple[str, ...] = COLOURS
) -> tuple[Scene, Image.Image]:
    scene = random_scene_layout(rng, size, colours)
    return scene, render_scene(scene, rng)
