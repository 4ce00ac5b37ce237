"""Train the toy model on generated scenes, on the CPU, from a fixed seed.

Training has two phases. The vision warm-up (`--warmup-steps`) trains the vision tower
alone under direct class supervision (see `Trainer.warmup_step`), starting from a patch
embedding whose first rows are oriented edge filters (`--edge-filters`). From random
weights and with only the losses below, the tower learned colours at once but did not
separate circles, squares and triangles within a CPU run.

The contrastive phase then sums three sigmoid (SigLIP) losses:

- global: the pooled image embedding against short captions (English and Chinese) through
  the short head. A caption is a positive for every image in the batch that contains all
  the objects it names, so single-object captions and two-object captions get the
  containment semantics that retrieval needs. One caption per image swaps colours or
  shapes to make a hard negative. Half of the steps draw their scenes from only two
  colours, so that many objects share a colour and only their shapes tell them apart.
- long: the pooled image embedding against a long positional caption of the same image
  through the long head. The other images of the batch are the negatives, and with
  `--long-negatives` so are captions of the same objects at wrong positions.
- region: RoIAlign (1 x 1, aligned, adaptive sampling) over the dense feature map on
  ground-truth boxes and jittered boxes against box-walk embeddings of the region
  phrases of all 18 colour-shape classes, in English and Chinese. Boxes that miss every
  object, or cut one badly, are negatives for every phrase. Among them are boxes over
  part of an object (`--part-boxes`, `--edge-parts`).

Training from scratch with only these contrastive losses stalls for hundreds of steps.
Auxiliary losses therefore give both towers direct supervision through a shared,
training-only table of 19 class prototypes (18 colour-shape classes and background). The
pooled image and the short and long text embeddings predict which classes are present
(multi-label). The box-walk phrases, the RoIAlign regions and the dense features of
single patches each predict their one class. Sharing the prototypes pulls the image and text spaces together early.
Patch labels follow each shape's outline, so the dense loss teaches shape, not only
colour. A linear probe also classifies each encoder token (before the dense head,
`--token-weight`). The prototypes and the probe are not part of the exported model.

Images are preprocessed exactly as the Rust host does (`models.export.naflex`). A batch
is padded to its longest image, and the key-padding mask makes the padding inert.

Run from the repository root (models/toy/README.md gives the commands that made the
committed bundle):
    python -m models.toy.train --out models/work/toy

To continue training a checkpoint (no warm-up then), for example with region parts:
    python -m models.toy.train --out models/work/toy-stage2 --init models/work/toy/checkpoint.pt \
        --steps 1000 --lr 5e-4 --seed 20240612 --part-boxes 1 --edge-parts 0.5
"""

from __future__ import annotations

import os

# OpenMP threads spin while they wait by default. On a machine shared with other jobs this
# made a step over seven times slower (5.9 s against 0.8 s with 2 threads, batch 16), so
# let them sleep. It must be set before torch starts its thread pool.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import dataclasses
import json
import logging
import math
import random
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import box_iou, roi_align

from models.export.naflex import pad_patches, patchify_image, select_patch_budget
from models.toy import world
from models.toy.model import ToyConfig, ToyModel
from models.toy.scenes import generate_scene, random_scene_size
from models.toy.tokenizer import build_tokenizer, encode_fixed_length

SHORT_LEN = 64
LONG_LEN = 196
log = logging.getLogger("toy.train")


def oriented_edge_filters(count: int, patch_size: int, channels: int, seed: int) -> torch.Tensor:
    """Return `[count, patch_size * patch_size * channels]` unit-norm step edges in (row, column, channel) order.

    Filter `k` is a soft step across a line at angle `k * pi / count` (plus a little
    jitter) through a random point of the patch, the same in every channel. A patch
    embedding that starts from such filters responds to edges of every orientation from
    the first step. Started from random weights, the tower learned colours at once but stayed
    at chance on shapes for hundreds of steps, even under a direct shape-classification
    loss.
    """
    generator = torch.Generator().manual_seed(seed)
    centres = torch.arange(patch_size, dtype=torch.float32) + 0.5 - patch_size / 2
    rows, columns = torch.meshgrid(centres, centres, indexing="ij")
    filters = []
    for index in range(count):
        angle = math.pi * index / count + 0.2 * torch.rand(1, generator=generator).item()
        offset = (torch.rand(1, generator=generator).item() - 0.5) * 0.8 * patch_size
        distance = columns * math.cos(angle) + rows * math.sin(angle) - offset
        edge = torch.tanh(distance / 1.5)
        edge = edge - edge.mean()
        edge = edge / edge.norm()
        filters.append(edge[:, :, None].expand(patch_size, patch_size, channels).reshape(-1) / math.sqrt(channels))
    return torch.stack(filters)


def sigmoid_loss(logits: torch.Tensor, positives: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """SigLIP loss: -log sigmoid(+logit) for positives and -log sigmoid(-logit) for negatives, averaged per row."""
    signs = positives.to(logits.dtype) * 2 - 1
    losses = -F.logsigmoid(signs * logits)
    if weights is not None:
        losses = losses * weights
    return losses.sum(dim=1).mean()


def scaled_cosine(left: torch.Tensor, right: torch.Tensor, log_scale: torch.Tensor, bias: torch.Tensor):
    return F.normalize(left, dim=-1) @ F.normalize(right, dim=-1).T * log_scale.exp() + bias


class CaptionBatch:
    """Unique token sequences of one step, with the set of object classes each one names."""

    def __init__(self):
        self.texts: list[str] = []
        self.label_sets: list[frozenset[int]] = []
        self._index: dict[str, int] = {}

    def add(self, text: str, labels: frozenset[int]) -> int:
        if text not in self._index:
            self._index[text] = len(self.texts)
            self.texts.append(text)
            self.label_sets.append(labels)
        return self._index[text]


def hard_negative_objects(objects: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """Change the colour or the shape of one object, or swap two objects' colours."""
    changed = list(objects)
    if len(changed) >= 2 and rng.random() < 0.5:
        first, second = rng.sample(range(len(changed)), 2)
        (colour_a, shape_a), (colour_b, shape_b) = changed[first], changed[second]
        if colour_a != colour_b:
            changed[first], changed[second] = (colour_b, shape_a), (colour_a, shape_b)
            return changed
    index = rng.randrange(len(changed))
    colour, shape = changed[index]
    if rng.random() < 0.3:
        colour = rng.choice([name for name in world.COLOURS if name != colour])
    else:
        shape = rng.choice([name for name in world.SHAPES if name != shape])
    changed[index] = (colour, shape)
    return changed


def displaced_scene(scene: world.Scene, rng: random.Random) -> world.Scene | None:
    """Return a copy of `scene` with objects moved: two objects in different cells trade
    places, or a lone object moves to another cell. Return None when no object can move.

    Its long caption names the same objects at wrong positions, a hard negative that
    colours and shapes alone cannot reject.
    """
    objects = list(scene.objects)
    pairs = [
        (first, second)
        for first in range(len(objects))
        for second in range(first + 1, len(objects))
        if scene.position_cell(objects[first]) != scene.position_cell(objects[second])
    ]
    if pairs:
        first, second = rng.choice(pairs)
        objects[first], objects[second] = (
            dataclasses.replace(objects[first], box=objects[second].box),
            dataclasses.replace(objects[second], box=objects[first].box),
        )
        return dataclasses.replace(scene, objects=objects)
    if len(objects) != 1:
        return None
    item = objects[0]
    cell = rng.choice([other for other in range(9) if other != scene.position_cell(item)])
    half_width, half_height = (item.box[2] - item.box[0]) / 2, (item.box[3] - item.box[1]) / 2
    centre_x = (cell % 3 + 0.5) * scene.width / 3
    centre_y = (cell // 3 + 0.5) * scene.height / 3
    box = (centre_x - half_width, centre_y - half_height, centre_x + half_width, centre_y + half_height)
    return dataclasses.replace(scene, objects=[dataclasses.replace(item, box=box)])


def short_captions(scenes: list[world.Scene], rng: random.Random) -> CaptionBatch:
    """Write two captions per image and some hard negatives.

    The first caption names one of the image's objects, the second all or some of them,
    in opposite languages picked at random.
    """
    batch = CaptionBatch()
    for scene in scenes:
        objects = [(item.colour, item.shape) for item in scene.objects]
        first_english = rng.random() < 0.5
        single = [rng.choice(objects)]
        write = world.short_caption_en if first_english else world.short_caption_zh
        batch.add(write(single, rng), frozenset(world.CLASS_INDEX[pair] for pair in single))

        if rng.random() < 0.5 or len(objects) == 1:
            subset = list(objects)
        else:
            subset = rng.sample(objects, rng.randint(1, len(objects) - 1))
        rng.shuffle(subset)
        write = world.short_caption_zh if first_english else world.short_caption_en
        batch.add(write(subset, rng), frozenset(world.CLASS_INDEX[pair] for pair in subset))
        if rng.random() < 0.75:
            negative = hard_negative_objects(objects, rng)
            write = world.short_caption_en if rng.random() < 0.5 else world.short_caption_zh
            batch.add(write(negative, rng), frozenset(world.CLASS_INDEX[pair] for pair in negative))
    return batch


def region_phrases(rng: random.Random) -> tuple[list[str], torch.Tensor]:
    """Return one phrase per class, each in a random language, and the class indices."""
    texts = []
    for colour, shape in world.CLASSES:
        write = world.region_phrase_en if rng.random() < 0.5 else world.region_phrase_zh
        texts.append(write(colour, shape, rng))
    return texts, torch.arange(len(world.CLASSES))


def part_of_box(box, rng: random.Random, edge_share: float) -> list[float]:
    """Return a box over part of `box`: a strip along one of its sides (with probability
    `edge_share`), else a piece of its inside.

    Region proposals that follow the dense map often cover such parts: the edge of an
    object, or its fill.
    """
    x1, y1, x2, y2 = box
    width, height = x2 - x1, y2 - y1
    if edge_share > 0 and rng.random() < edge_share:
        depth = rng.uniform(0.15, 0.5)
        start, end = sorted(rng.uniform(0.0, 1.0) for _ in range(2))
        start, end = min(start, 0.3), max(end, 0.7)
        side = rng.randrange(4)
        if side == 0:
            return [x1, y1 + start * height, x1 + depth * width, y1 + end * height]
        if side == 1:
            return [x2 - depth * width, y1 + start * height, x2, y1 + end * height]
        if side == 2:
            return [x1 + start * width, y1, x1 + end * width, y1 + depth * height]
        return [x1 + start * width, y2 - depth * height, x1 + end * width, y2]
    fraction_x, fraction_y = rng.uniform(0.25, 0.55), rng.uniform(0.25, 0.55)
    left = x1 + rng.uniform(0.0, 1.0 - fraction_x) * width
    top = y1 + rng.uniform(0.0, 1.0 - fraction_y) * height
    return [left, top, left + fraction_x * width, top + fraction_y * height]


def sample_region_boxes(
    scene: world.Scene, rng: random.Random, negatives: int = 4, parts: float = 0.0, edge_share: float = 0.0
):
    """Return pixel boxes `[K, 4]` and labels `[K]`: a class index, -1 for a negative, -2 to ignore.

    Besides each ground-truth box there is one jittered copy of it, random boxes, windows
    of a coarse grid (the whole image and 1/2, 1/3 or 1/4 of each side), and a box
    spanning two objects. With probability `parts` per object, a box over part of the
    object is added too (see `part_of_box`, which draws a strip along an edge with
    probability `edge_share`). Most of these miss the IoU threshold of a
    positive, so they teach the region features to prefer the whole object over a piece
    of it.
    """
    boxes = [list(item.box) for item in scene.objects]
    for item in scene.objects:
        if rng.random() < parts:
            boxes.append(part_of_box(item.box, rng, edge_share))
    for item in scene.objects:
        x1, y1, x2, y2 = item.box
        width, height = x2 - x1, y2 - y1
        spread = rng.choice((0.1, 0.3, 0.6))
        dx1, dx2 = (rng.uniform(-spread, spread) * width for _ in range(2))
        dy1, dy2 = (rng.uniform(-spread, spread) * height for _ in range(2))
        boxes.append([x1 + dx1, y1 + dy1, x2 + dx2, y2 + dy2])
    short_side = min(scene.width, scene.height)
    for _ in range(negatives):
        size_x = rng.uniform(0.1, 0.6) * short_side
        size_y = size_x * math.exp(rng.uniform(-0.5, 0.5))
        x1 = rng.uniform(0, max(1.0, scene.width - size_x))
        y1 = rng.uniform(0, max(1.0, scene.height - size_y))
        boxes.append([x1, y1, x1 + size_x, y1 + size_y])
    for _ in range(2):
        divisions = rng.choice((1, 2, 3, 4))
        window_width, window_height = scene.width / divisions, scene.height / divisions
        x1 = rng.randrange(2 * divisions - 1) * window_width / 2 if divisions > 1 else 0.0
        y1 = rng.randrange(2 * divisions - 1) * window_height / 2 if divisions > 1 else 0.0
        boxes.append([x1, y1, x1 + window_width, y1 + window_height])
    if len(scene.objects) >= 2:
        first, second = rng.sample(scene.objects, 2)
        boxes.append(
            [
                min(first.box[0], second.box[0]),
                min(first.box[1], second.box[1]),
                max(first.box[2], second.box[2]),
                max(first.box[3], second.box[3]),
            ]
        )

    boxes = torch.tensor(boxes, dtype=torch.float32)
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, scene.width)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, scene.height)
    boxes[:, 2] = torch.maximum(boxes[:, 2], boxes[:, 0] + 2)
    boxes[:, 3] = torch.maximum(boxes[:, 3], boxes[:, 1] + 2)

    truth = torch.tensor([item.box for item in scene.objects], dtype=torch.float32)
    overlaps = box_iou(boxes, truth)
    best_iou, best_object = overlaps.max(dim=1)
    object_labels = torch.tensor([item.label for item in scene.objects])
    labels = torch.full((len(boxes),), -2, dtype=torch.int64)
    labels[best_iou >= 0.65] = object_labels[best_object[best_iou >= 0.65]]
    labels[best_iou < 0.35] = -1
    return boxes, labels


def region_features(dense: torch.Tensor, spatial_shapes: torch.Tensor, pixel_boxes, image_sizes) -> torch.Tensor:
    """RoIAlign each image's boxes over its own h x w dense map; boxes are converted to patch-grid units."""
    features = []
    for index, boxes in enumerate(pixel_boxes):
        height, width = spatial_shapes[index].tolist()
        image_width, image_height = image_sizes[index]
        feature_map = dense[index, : height * width].reshape(height, width, -1).permute(2, 0, 1).unsqueeze(0)
        grid_boxes = boxes.clone()
        grid_boxes[:, 0::2] *= width / image_width
        grid_boxes[:, 1::2] *= height / image_height
        rois = torch.cat([torch.zeros(len(boxes), 1), grid_boxes], dim=1)
        pooled = roi_align(feature_map, rois, output_size=(1, 1), spatial_scale=1.0, sampling_ratio=-1, aligned=True)
        features.append(pooled.flatten(1))
    return torch.cat(features)


BACKGROUND = len(world.CLASSES)
IGNORE = -100


def patch_labels(scene: world.Scene, grid: tuple[int, int], num_tokens: int) -> torch.Tensor:
    """Label each patch with the class of the shape under its centre, else background; padding is ignored.

    Patches inside a circle's or a triangle's box but outside the shape are background, so
    the labels carry the outline of each shape and not only its colour.
    """
    height, width = grid
    rows = (torch.arange(height, dtype=torch.float32) + 0.5) / height * scene.height
    columns = (torch.arange(width, dtype=torch.float32) + 0.5) / width * scene.width
    y, x = torch.meshgrid(rows, columns, indexing="ij")
    labels = torch.full((height, width), BACKGROUND, dtype=torch.int64)
    for item in scene.objects:
        labels[item.contains(x, y)] = item.label
    padded = torch.full((num_tokens,), IGNORE, dtype=torch.int64)
    padded[: height * width] = labels.flatten()
    return padded


def multi_hot(label_sets, count: int = len(world.CLASSES)) -> torch.Tensor:
    targets = torch.zeros(len(label_sets), count)
    for row, labels in enumerate(label_sets):
        targets[row, list(labels)] = 1.0
    return targets


class Trainer:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.rng = random.Random(args.seed)
        torch.manual_seed(args.seed)
        self.tokenizer = build_tokenizer()

        self.config = ToyConfig()
        self.config.text_config.vocab_size = self.tokenizer.get_vocab_size()
        self.model = ToyModel(self.config)
        if args.edge_filters > 0:
            vision = self.config.vision_config
            with torch.no_grad():
                self.model.vision_model.embeddings.patch_embedding.weight[: args.edge_filters] = oriented_edge_filters(
                    args.edge_filters, vision.patch_size, vision.num_channels, args.seed
                )
        # Region matches get their own temperature and bias, as in FG-CLIP 2's training.
        # They are not part of the exported model.
        self.region_logit_scale = nn.Parameter(torch.tensor([math.log(10.0)]))
        self.region_logit_bias = nn.Parameter(torch.tensor([-5.0]))
        self.prototypes = nn.Parameter(torch.randn(len(world.CLASSES) + 1, self.config.vision_config.hidden_size))
        # A linear probe that classifies encoder tokens. The MAP head only averages encoder
        # tokens, so the pooled embedding can know shapes only if single tokens do.
        self.token_probe = nn.Linear(self.config.vision_config.hidden_size, len(world.CLASSES) + 1)
        if args.init is not None:
            self.load_initial_weights(args.init)

        parameters = list(self.model.parameters()) + [
            self.region_logit_scale,
            self.region_logit_bias,
            self.prototypes,
        ] + list(self.token_probe.parameters())
        self.parameters = parameters
        # Training-only classifiers of the vision warm-up phase (see `warmup_step`).
        classes = len(world.CLASSES)
        self.warmup_image_classifier = nn.Linear(self.config.vision_config.hidden_size, classes)
        self.warmup_region_classifier = nn.Linear(self.config.vision_config.hidden_size, classes)
        self.warmup_parameters = (
            list(self.model.vision_model.parameters())
            + list(self.token_probe.parameters())
            + list(self.warmup_image_classifier.parameters())
            + list(self.warmup_region_classifier.parameters())
        )
        self.warmup_optimizer = torch.optim.AdamW(self.warmup_parameters, lr=args.warmup_lr, weight_decay=0.05)
        decay = [p for p in parameters if p.ndim >= 2]
        no_decay = [p for p in parameters if p.ndim < 2]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
            lr=args.lr,
            betas=(0.9, 0.98),
        )

    @torch.no_grad()
    def load_initial_weights(self, path: Path) -> None:
        """Start from a checkpoint's model weights.

        The prototypes and region temperature come from the checkpoint when it has them.
        Otherwise the class prototypes start from the box-walk embeddings of the class
        phrases, so that the auxiliary losses do not pull a trained model towards random
        vectors.
        """
        saved = torch.load(path, map_location="cpu", weights_only=True)
        self.model.load_state_dict(saved["state_dict"])
        phrases = [f"{colour} {shape}" for colour, shape in world.CLASSES]
        embeddings = self.model.get_text_features(encode_fixed_length(self.tokenizer, phrases, SHORT_LEN), "box")
        self.prototypes[: len(phrases)] = F.normalize(embeddings, dim=-1)
        if "training_state" in saved:
            state = saved["training_state"]
            self.prototypes.copy_(state["prototypes"])
            self.region_logit_scale.copy_(state["region_logit_scale"])
            self.region_logit_bias.copy_(state["region_logit_bias"])
        log.info("initialised from %s (step %s)", path, saved.get("step"))

    def learning_rate(self, step: int) -> float:
        warmup = max(1, self.args.steps // 20)
        if step < warmup:
            return self.args.lr * (step + 1) / warmup
        progress = (step - warmup) / max(1, self.args.steps - warmup)
        return self.args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))

    def prototype_logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Cosine similarity to the 19 prototypes, times a fixed temperature of 10."""
        return 10.0 * F.normalize(embeddings, dim=-1) @ F.normalize(self.prototypes, dim=-1).T

    def auxiliary_loss(self, scenes, images, pooled, hidden, dense, short_embeds, captions, long_embeds, long_images,
                       box_embeds, phrase_labels, regions, region_labels) -> torch.Tensor:
        classes = len(world.CLASSES)
        image_loss = F.binary_cross_entropy_with_logits(
            self.prototype_logits(pooled)[:, :classes], multi_hot([scene.labels for scene in scenes])
        )
        short_loss = F.binary_cross_entropy_with_logits(
            self.prototype_logits(short_embeds)[:, :classes], multi_hot(captions.label_sets)
        )
        long_loss = F.binary_cross_entropy_with_logits(
            self.prototype_logits(long_embeds)[:, :classes], multi_hot([scenes[i].labels for i in long_images])
        )
        box_loss = F.cross_entropy(self.prototype_logits(box_embeds), phrase_labels)
        region_targets = region_labels.clone()
        region_targets[region_targets == -1] = BACKGROUND
        region_targets[region_targets == -2] = IGNORE
        region_loss = F.cross_entropy(self.prototype_logits(regions), region_targets, ignore_index=IGNORE)
        targets = torch.stack([patch_labels(s, i.grid, dense.shape[1]) for s, i in zip(scenes, images)])
        dense_loss = F.cross_entropy(
            self.prototype_logits(dense).flatten(0, 1), targets.flatten(), ignore_index=IGNORE
        )
        token_loss = F.cross_entropy(self.token_probe(hidden).flatten(0, 1), targets.flatten(), ignore_index=IGNORE)
        # Binary cross-entropy is averaged over 18 classes, so scale it to a per-sample sum.
        multi_label = classes * (image_loss + short_loss + long_loss) / 3
        return (
            multi_label + box_loss + region_loss + self.args.dense_weight * dense_loss
            + self.args.token_weight * token_loss
        )

    def make_batch(self):
        """Generate one step's scenes, all in the same patch budget so that little padding is needed."""
        rng = self.rng
        patch_size = self.config.vision_config.patch_size
        budgets = self.config.patch_budgets
        budget = rng.choices(budgets, weights=self.args.budget_weights)[0]
        # A step whose scenes share two colours contains many objects of one colour and
        # different shapes, so colour alone cannot separate its positives.
        colours = world.COLOURS
        if rng.random() < self.args.two_colour_steps:
            colours = tuple(rng.sample(world.COLOURS, 2))
        scenes, images = [], []
        while len(scenes) < self.args.batch_size:
            width, height = random_scene_size(rng)
            if select_patch_budget(width, height, patch_size, budgets) != budget:
                continue
            scene, image = generate_scene(rng, (width, height), colours)
            scenes.append(scene)
            images.append(patchify_image(image, patch_size, budgets))
        return scenes, images

    def step(self, step: int) -> dict[str, float]:
        rng = self.rng
        scenes, images = self.make_batch()
        pixel_values, mask, spatial_shapes = pad_patches(images)
        model = self.model

        pooled, hidden = model.vision_model(pixel_values, mask, spatial_shapes)
        dense = model.dense_from_hidden(hidden, mask)

        # Global loss with short captions and containment positives.
        captions = short_captions(scenes, rng)
        caption_ids = encode_fixed_length(self.tokenizer, captions.texts, SHORT_LEN)
        short_embeds = model.get_text_features(caption_ids, "short")
        positives = torch.tensor(
            [[label_set <= scene.labels for label_set in captions.label_sets] for scene in scenes]
        )
        logits = scaled_cosine(pooled, short_embeds, model.logit_scale, model.logit_bias)
        short_loss = sigmoid_loss(logits, positives)

        # Long positional captions for some of the images.
        long_count = max(1, round(len(scenes) * self.args.long_fraction))
        long_images = rng.sample(range(len(scenes)), long_count)
        long_texts = [
            world.long_caption_en(scenes[index], rng) if rng.random() < 0.5 else world.long_caption_zh(scenes[index], rng)
            for index in long_images
        ]
        for index in long_images:
            if rng.random() >= self.args.long_negatives:
                continue
            displaced = displaced_scene(scenes[index], rng)
            if displaced is not None:
                write = world.long_caption_en if rng.random() < 0.5 else world.long_caption_zh
                long_texts.append(write(displaced, rng))
        long_embeds = model.get_text_features(encode_fixed_length(self.tokenizer, long_texts, LONG_LEN), "long")
        logits = scaled_cosine(pooled, long_embeds, model.logit_scale, model.logit_bias)
        positives = torch.zeros(len(scenes), len(long_texts), dtype=torch.bool)
        positives[long_images, torch.arange(long_count)] = True
        long_loss = sigmoid_loss(logits, positives)

        # Region loss over RoIAlign features of the dense map.
        phrase_texts, phrase_labels = region_phrases(rng)
        box_embeds = model.get_text_features(encode_fixed_length(self.tokenizer, phrase_texts, SHORT_LEN), "box")
        sampled = [sample_region_boxes(scene, rng, parts=self.args.part_boxes, edge_share=self.args.edge_parts) for scene in scenes]
        region_boxes = [boxes for boxes, _ in sampled]
        region_labels = torch.cat([labels for _, labels in sampled])
        regions = region_features(dense, spatial_shapes, region_boxes, [(s.width, s.height) for s in scenes])
        keep = region_labels != -2
        logits = scaled_cosine(regions[keep], box_embeds, self.region_logit_scale, self.region_logit_bias)
        positives = region_labels[keep][:, None] == phrase_labels[None, :]
        region_loss = sigmoid_loss(logits, positives)

        auxiliary = self.auxiliary_loss(
            scenes, images, pooled, hidden, dense, short_embeds, captions, long_embeds[:long_count], long_images,
            box_embeds, phrase_labels, regions, region_labels,
        )
        loss = short_loss + 0.5 * long_loss + self.args.region_weight * region_loss + self.args.aux_weight * auxiliary
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(step)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.parameters, 1.0)
        self.optimizer.step()
        return {
            "loss": loss.item(),
            "short": short_loss.item(),
            "long": long_loss.item(),
            "region": region_loss.item(),
            "aux": auxiliary.item(),
            "tokens": int(mask.shape[1]),
        }

    def warmup_step(self, step: int) -> dict[str, float]:
        """Run one step of the vision warm-up, which trains the vision tower on the classes directly.

        Three cross-entropy losses train it, none of them with text. Every encoder token
        predicts the class under its centre (the token probe). The pooled embedding
        predicts which classes the image contains. RoIAlign over the encoder tokens on
        each object's box predicts that object's class. The contrastive phase that
        follows starts from a tower that already separates shapes, which it did not learn
        on its own within a CPU run.
        """
        scenes, images = self.make_batch()
        pixel_values, mask, spatial_shapes = pad_patches(images)
        pooled, hidden = self.model.vision_model(pixel_values, mask, spatial_shapes)
        targets = torch.stack([patch_labels(s, i.grid, hidden.shape[1]) for s, i in zip(scenes, images)])
        token_loss = F.cross_entropy(self.token_probe(hidden).flatten(0, 1), targets.flatten(), ignore_index=IGNORE)
        classes = len(world.CLASSES)
        image_loss = classes * F.binary_cross_entropy_with_logits(
            self.warmup_image_classifier(pooled), multi_hot([scene.labels for scene in scenes])
        )
        boxes = [torch.tensor([list(item.box) for item in scene.objects], dtype=torch.float32) for scene in scenes]
        regions = region_features(hidden, spatial_shapes, boxes, [(s.width, s.height) for s in scenes])
        labels = torch.tensor([item.label for scene in scenes for item in scene.objects])
        region_logits = self.warmup_region_classifier(regions)
        region_loss = F.cross_entropy(region_logits, labels)
        loss = token_loss + image_loss + region_loss

        warmup = max(1, self.args.warmup_steps // 40)
        for group in self.warmup_optimizer.param_groups:
            group["lr"] = self.args.warmup_lr * min(1.0, (step + 1) / warmup)
        self.warmup_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.warmup_parameters, 1.0)
        self.warmup_optimizer.step()
        # Classes are ordered colour by colour, three shapes each.
        predicted = region_logits.argmax(dim=1)
        shapes = len(world.SHAPES)
        return {
            "tokens": token_loss.item(),
            "image": image_loss.item(),
            "region": region_loss.item(),
            "region_shape_acc": (predicted % shapes == labels % shapes).float().mean().item(),
        }

    def save(self, path: Path, step: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "config": self.config.to_dict(),
                "state_dict": self.model.state_dict(),
                "step": step,
                "training_state": {
                    "prototypes": self.prototypes.detach(),
                    "region_logit_scale": self.region_logit_scale.detach(),
                    "region_logit_bias": self.region_logit_bias.detach(),
                },
            },
            path,
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("models/work/toy"), help="folder for the checkpoint and log")
    parser.add_argument("--steps", type=int, default=2200, help="number of optimiser steps")
    parser.add_argument("--batch-size", type=int, default=20, help="scenes per step")
    parser.add_argument(
        "--budget-weights", type=float, nargs=3, default=(0.2, 0.3, 0.5),
        help="probability of each patch budget (64, 128, 256) for a step's scenes",
    )
    parser.add_argument("--long-fraction", type=float, default=0.33, help="share of images with a long caption")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (AdamW, cosine decay)")
    parser.add_argument("--region-weight", type=float, default=1.0, help="weight of the region loss")
    parser.add_argument("--aux-weight", type=float, default=1.0, help="weight of the prototype losses")
    parser.add_argument(
        "--token-weight", type=float, default=1.0, help="weight of the encoder-token classification loss"
    )
    parser.add_argument(
        "--dense-weight", type=float, default=0.5, help="weight of the single-patch class loss on dense features"
    )
    parser.add_argument(
        "--two-colour-steps", type=float, default=0.5,
        help="share of steps whose scenes use only two colours, so shapes must tell objects apart",
    )
    parser.add_argument(
        "--part-boxes", type=float, default=0.5,
        help="probability per object of a region box over part of the object (mostly a negative)",
    )
    parser.add_argument(
        "--long-negatives", type=float, default=0.0,
        help="probability per long caption of a second caption with objects at wrong positions, as a negative",
    )
    parser.add_argument(
        "--edge-parts", type=float, default=0.0,
        help="share of those part boxes that are strips along an edge of the object rather than pieces inside",
    )
    parser.add_argument(
        "--edge-filters", type=int, default=96,
        help="rows of the patch embedding that start as oriented edge filters (at most the hidden size)",
    )
    parser.add_argument(
        "--warmup-steps", type=int,
        help="steps of the supervised vision warm-up before the contrastive phase (default: 2500, or 0 with --init)",
    )
    parser.add_argument("--warmup-lr", type=float, default=1e-3, help="learning rate of the vision warm-up")
    parser.add_argument("--init", type=Path, help="checkpoint whose model weights to start from")
    parser.add_argument("--seed", type=int, default=20240611, help="seed for scenes, captions and weights")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--save-every", type=int, default=250, help="steps between checkpoints")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.warmup_steps is None:
        args.warmup_steps = 0 if args.init is not None else 2500
    args.out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.FileHandler(args.out / "train.log"), logging.StreamHandler()],
    )
    torch.set_num_threads(args.threads)
    trainer = Trainer(args)
    # The exporter copies the tokenizer from beside the checkpoint into the bundle.
    trainer.tokenizer.save(str(args.out / "tokenizer.json"))
    parameters = sum(p.numel() for p in trainer.model.parameters())
    log.info("start: %d parameters, %s", parameters, json.dumps(vars(args), default=str))

    started = time.monotonic()
    totals: dict[str, float] = {}
    for step in range(args.warmup_steps):
        metrics = trainer.warmup_step(step)
        for name, value in metrics.items():
            totals[name] = totals.get(name, 0.0) + value
        if (step + 1) % 50 == 0:
            averages = " ".join(f"{name}={value / 50:.4f}" for name, value in totals.items())
            log.info("warm-up %d/%d %s elapsed=%.0fs", step + 1, args.warmup_steps, averages, time.monotonic() - started)
            totals = {}
    totals = {}
    for step in range(args.steps):
        metrics = trainer.step(step)
        for name, value in metrics.items():
            totals[name] = totals.get(name, 0.0) + value
        if (step + 1) % 10 == 0:
            averages = " ".join(f"{name}={value / 10:.4f}" for name, value in totals.items())
            elapsed = time.monotonic() - started
            log.info("step %d/%d %s lr=%.2e elapsed=%.0fs", step + 1, args.steps, averages,
                     trainer.learning_rate(step), elapsed)
            totals = {}
        if (step + 1) % args.save_every == 0 or step + 1 == args.steps:
            trainer.save(args.out / "checkpoint.pt", step + 1)
    log.info("done: %d steps in %.0fs", args.steps, time.monotonic() - started)


if __name__ == "__main__":
    main()
