"""Parity check of a written bundle against the PyTorch model it came from.

ONNX Runtime runs the bundle's graphs on host-style inputs built from the bundle's own
side tables and tokenizer. The reference is the model's own feature methods
(`get_image_features`, `get_image_dense_feature`, `get_text_features(walk_type=...)`)
run on each image alone, unpadded, so the check also covers padding invariance, the
batched wrappers and the host-side position tables.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F
from PIL import Image
from tokenizers import Tokenizer

from . import bundle
from .naflex import batch_position_embeddings, pad_patches, patchify_image
from .sources import ModelSource

log = logging.getLogger(__name__)

# Image sizes (width, height) that cover small grids (fewer than 16 patches per side, where
# the antialiased position resize shrinks the grid), panoramas, tall strips and large images.
VERIFY_IMAGE_SIZES = (
    (100, 100),
    (224, 224),
    (300, 200),
    (96, 240),
    (1000, 120),
    (120, 900),
    (640, 480),
    (2000, 60),
)
VERIFY_TEXTS = (
    "a red circle",
    "一个红色的圆形和一个蓝色的正方形",
    "A photo of two cats sleeping on a sofa, next to a window with the curtains drawn.",
    "左上角有一个绿色的三角形。右下角是一个紫色的正方形。",
    " ".join(["a long caption that is longer than the short walk allows"] * 20),
)


@dataclass
class Comparison:
    name: str
    min_cosine: float
    max_abs_diff: float


def smooth_random_image(width: int, height: int, rng: np.random.Generator) -> Image.Image:
    """Return a smooth random RGB image, so resizing and patches see realistic low-frequency content."""
    coarse = rng.integers(0, 256, size=(max(2, height // 24), max(2, width // 24), 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)


def _cosines(actual: torch.Tensor, expected: torch.Tensor) -> torch.Tensor:
    return F.cosine_similarity(actual.flatten(1).double(), expected.flatten(1).double(), dim=1)


def _compare(name: str, actual, expected) -> Comparison:
    actual = torch.as_tensor(np.asarray(actual)).reshape(expected.shape)
    return Comparison(
        name=name,
        min_cosine=float(_cosines(actual, expected).min()),
        max_abs_diff=float((actual.double() - expected.double()).abs().max()),
    )


def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def _last_hidden_state(model, pixel_values, mask, spatial_shapes) -> torch.Tensor:
    output = model.vision_model(pixel_values=pixel_values, attention_mask=mask, spatial_shapes=spatial_shapes)
    return output.last_hidden_state if hasattr(output, "last_hidden_state") else output[1]


def verify_vision(source: ModelSource, bundle_dir: Path, threads: int) -> list[Comparison]:
    rng = np.random.default_rng(0)
    images = [
        patchify_image(smooth_random_image(w, h, rng), source.patch_size, source.patch_budgets)
        for w, h in VERIFY_IMAGE_SIZES
    ]
    grid = bundle.read_table(bundle_dir / bundle.POSITION_GRID, source.embed_dim)
    grid = grid.reshape(source.position_grid_side, source.position_grid_side, source.embed_dim)

    # One padded batch whose M is larger than every image needs.
    num_tokens = max(source.patch_budgets) + 16
    pixel_values, mask, spatial_shapes = pad_patches(images, num_tokens)
    positions = batch_position_embeddings(grid, spatial_shapes, num_tokens)
    vision = _session(bundle_dir / bundle.VISION_GRAPH, threads)
    dense = _session(bundle_dir / bundle.DENSE_GRAPH, threads)
    image_embeds, last_hidden = vision.run(
        None,
        {
            "pixel_values": pixel_values.numpy(),
            "pixel_attention_mask": mask.numpy(),
            "position_embeddings": positions.numpy(),
        },
    )
    (dense_features,) = dense.run(None, {"last_hidden_state": last_hidden, "pixel_attention_mask": mask.numpy()})

    expected_embeds, actual_embeds = [], []
    hidden_results, dense_results = [], []
    model = source.model
    for index, image in enumerate(images):
        count = image.patches.shape[0]
        single_values, single_mask, single_shapes = pad_patches([image])
        with torch.no_grad():
            reference_embeds = model.get_image_features(
                pixel_values=single_values, pixel_attention_mask=single_mask, spatial_shapes=single_shapes
            )
            reference_hidden = _last_hidden_state(model, single_values, single_mask, single_shapes)
            reference_dense = model.get_image_dense_feature(
                pixel_values=single_values, pixel_attention_mask=single_mask, spatial_shapes=single_shapes
            )
        expected_embeds.append(reference_embeds[0])
        actual_embeds.append(torch.from_numpy(image_embeds[index]))
        hidden_results.append(_compare("hidden", last_hidden[index, :count][None], reference_hidden[:, :count]))
        dense_results.append(_compare("dense", dense_features[index, :count][None], reference_dense[:, :count]))
        log.info(
            "image %dx%d -> grid %s, budget %d: dense cosine %.7f",
            image.original_size[0], image.original_size[1], image.grid, image.budget, dense_results[-1].min_cosine,
        )

    def worst(name: str, results: list[Comparison]) -> Comparison:
        return Comparison(name, min(r.min_cosine for r in results), max(r.max_abs_diff for r in results))

    return [
        _compare("image_embeds", torch.stack(actual_embeds).numpy(), torch.stack(expected_embeds)),
        worst("last_hidden_state", hidden_results),
        worst("dense_features", dense_results),
    ]


def encode_texts(tokenizer: Tokenizer, texts, length: int, pad_id: int, eos_id: int) -> np.ndarray:
    """Encode as the host does: lowercase, no special tokens, cut to length-1, append EOS, pad."""
    rows = []
    for text in texts:
        ids = tokenizer.encode(text.lower(), add_special_tokens=False).ids[: length - 1]
        rows.append(ids + [eos_id] + [pad_id] * (length - 1 - len(ids)))
    return np.asarray(rows, dtype=np.int64)


def verify_text(source: ModelSource, bundle_dir: Path, manifest: dict, threads: int) -> list[Comparison]:
    tokenizer = Tokenizer.from_file(str(bundle_dir / bundle.TOKENIZER))
    pad_id, eos_id = manifest["text"]["pad_id"], manifest["text"]["eos_id"]
    vocab_size = source.model.text_model.embeddings.token_embedding.num_embeddings
    session = _session(bundle_dir / bundle.TEXT_GRAPH, threads)
    generator = random.Random(0)
    results = []
    for walk, length, table_name in (
        ("short", source.short_len, bundle.TEXT_POSITIONS_SHORT),
        ("box", source.short_len, bundle.TEXT_POSITIONS_SHORT),
        ("long", source.long_len, bundle.TEXT_POSITIONS_LONG),
    ):
        ids = encode_texts(tokenizer, VERIFY_TEXTS, length, pad_id, eos_id)
        # Random ids cover embedding rows that the sample texts do not reach.
        random_rows = np.asarray(
            [[generator.randrange(vocab_size) for _ in range(length)] for _ in range(2)], dtype=np.int64
        )
        ids = np.concatenate([ids, random_rows])
        positions = bundle.read_table(bundle_dir / table_name, source.embed_dim).numpy()
        if positions.shape[0] != length:
            raise ValueError(f"{table_name} has {positions.shape[0]} rows, expected {length}")
        outputs = dict(
            zip(
                ("short", "box", "long"),
                session.run(None, {"input_ids": ids, "position_embeddings": positions}),
            )
        )
        with torch.no_grad():
            expected = source.model.get_text_features(input_ids=torch.from_numpy(ids), walk_type=walk)
        results.append(_compare(f"{walk}_embeds (L={length})", outputs[walk], expected))
    return results


def verify_bundle(source: ModelSource, bundle_dir: Path, manifest: dict, min_cosine: float, threads: int) -> bool:
    """Log the min cosine and max abs difference per output, and return False if any cosine is below `min_cosine`."""
    results = verify_vision(source, bundle_dir, threads) + verify_text(source, bundle_dir, manifest, threads)
    passed = True
    for result in results:
        ok = result.min_cosine >= min_cosine
        passed &= ok
        log.info(
            "%-22s min cosine %.9f  max abs diff %.3e  %s",
            result.name, result.min_cosine, result.max_abs_diff, "ok" if ok else f"FAILED (< {min_cosine})",
        )
    return passed
