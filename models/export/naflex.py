"""NaFlex image preprocessing and host-side position embeddings.

This is the Python twin of the Rust host's steps before it runs `vision.onnx`. It
chooses a patch budget, finds the target size and resizes with PIL bilinear. Then it
normalises to [-1, 1], cuts row-major patches, pads to M with a mask, and resizes the
learned position grid to the patch grid. The toy model trains on exactly these tensors, and
the exporter feeds them to both ONNX Runtime and PyTorch when it verifies a bundle.

The target-size search and the patch layout follow transformers 4.57.1
(`models/siglip2/image_processing_siglip2.py`), which FG-CLIP 2 uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

IMAGE_MEAN = (0.5, 0.5, 0.5)
IMAGE_STD = (0.5, 0.5, 0.5)


def select_patch_budget(width: int, height: int, patch_size: int, budgets: Sequence[int]) -> int:
    """Return the smallest budget of at least floor(W/p) * floor(H/p) patches, else the largest.

    `budgets` must be ascending. With FG-CLIP 2's budgets (128, 256, 576, 784, 1024) this is
    the README's bucket rule with strict "greater than" thresholds.
    """
    native_patches = (width // patch_size) * (height // patch_size)
    for budget in budgets:
        if native_patches <= budget:
            return budget
    return budgets[-1]


def target_size(height: int, width: int, patch_size: int, max_num_patches: int) -> tuple[int, int]:
    """Return (target_height, target_width) for a patch budget by binary search on the scale.

    Each side is rounded up to a multiple of the patch size, so small images are upscaled
    and the aspect ratio is only approximately kept. The loop runs 24 times for these
    constants, and the arithmetic is IEEE f64 in the same order as transformers, so a Rust
    port that follows it gets identical sizes.
    """
    eps = 1e-5

    def scaled_size(scale: float, size: int) -> int:
        scaled = size * scale
        scaled = math.ceil(scaled / patch_size) * patch_size
        scaled = max(patch_size, scaled)
        return int(scaled)

    scale_min, scale_max = eps / 10, 100.0
    while (scale_max - scale_min) >= eps:
        scale = (scale_min + scale_max) / 2
        target_height = scaled_size(scale, height)
        target_width = scaled_size(scale, width)
        num_patches = (target_height / patch_size) * (target_width / patch_size)
        if num_patches <= max_num_patches:
            scale_min = scale
        else:
            scale_max = scale
    return scaled_size(scale_min, height), scaled_size(scale_min, width)


@dataclass
class PatchifiedImage:
    """One image cut into patches, before padding.

    `patches` is float32 `[h*w, 3*p*p]` in row-major patch order, with (row, column,
    channel) order inside a patch. `grid` is (h, w) in patches, height first.
    `original_size` is (width, height) in pixels of the image before resizing.
    """

    patches: np.ndarray
    grid: tuple[int, int]
    original_size: tuple[int, int]
    budget: int


def patchify_image(image: Image.Image, patch_size: int, budgets: Sequence[int]) -> PatchifiedImage:
    """Resize an image to its NaFlex target size and cut it into normalised patches."""
    image = image.convert("RGB")
    width, height = image.size
    budget = select_patch_budget(width, height, patch_size, budgets)
    resized_height, resized_width = target_size(height, width, patch_size, budget)
    if (resized_width, resized_height) != (width, height):
        image = image.resize((resized_width, resized_height), Image.Resampling.BILINEAR)

    pixels = np.asarray(image, dtype=np.float32) / 255.0
    pixels = (pixels - np.asarray(IMAGE_MEAN, dtype=np.float32)) / np.asarray(IMAGE_STD, dtype=np.float32)

    grid_height = resized_height // patch_size
    grid_width = resized_width // patch_size
    patches = pixels.reshape(grid_height, patch_size, grid_width, patch_size, 3)
    patches = patches.transpose(0, 2, 1, 3, 4).reshape(grid_height * grid_width, patch_size * patch_size * 3)
    return PatchifiedImage(
        patches=np.ascontiguousarray(patches, dtype=np.float32),
        grid=(grid_height, grid_width),
        original_size=(width, height),
        budget=budget,
    )


def pad_patches(images: Sequence[PatchifiedImage], num_tokens: int | None = None):
    """Stack patchified images into a padded batch.

    Returns `pixel_values` float32 `[B, M, 3*p*p]` (zero rows for padding),
    `pixel_attention_mask` int64 `[B, M]` (1 valid, 0 padding) and `spatial_shapes`
    int64 `[B, 2]` as (h, w). M is `num_tokens`, or the largest image's patch count
    when None.
    """
    longest = max(image.patches.shape[0] for image in images)
    if num_tokens is None:
        num_tokens = longest
    if num_tokens < longest:
        raise ValueError(f"num_tokens={num_tokens} is smaller than the largest image's {longest} patches")

    patch_dim = images[0].patches.shape[1]
    pixel_values = np.zeros((len(images), num_tokens, patch_dim), dtype=np.float32)
    mask = np.zeros((len(images), num_tokens), dtype=np.int64)
    spatial_shapes = np.zeros((len(images), 2), dtype=np.int64)
    for index, image in enumerate(images):
        count = image.patches.shape[0]
        pixel_values[index, :count] = image.patches
        mask[index, :count] = 1
        spatial_shapes[index] = image.grid
    return torch.from_numpy(pixel_values), torch.from_numpy(mask), torch.from_numpy(spatial_shapes)


def resize_position_grid(grid: torch.Tensor, height: int, width: int, num_tokens: int) -> torch.Tensor:
    """Resize a `[side, side, D]` position grid to `[num_tokens, D]` for an h x w patch grid.

    Bilinear with align_corners=False and antialias=True, computed in float32, flattened
    row-major. Rows from h*w on repeat row 0: padded tokens are masked, so their value
    only matters for bit-level parity with FG-CLIP 2, which fills them the same way.
    """
    dim = grid.shape[-1]
    source = grid.to(torch.float32).permute(2, 0, 1).unsqueeze(0)
    resized = F.interpolate(source, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    resized = resized.reshape(dim, height * width).transpose(0, 1)
    result = resized[0:1].expand(num_tokens, dim).clone()
    result[: height * width] = resized
    return result


def batch_position_embeddings(grid: torch.Tensor, spatial_shapes: torch.Tensor, num_tokens: int) -> torch.Tensor:
    """Return `[B, num_tokens, D]` host-side position embeddings for a batch of patch grids."""
    rows = [
        resize_position_grid(grid, int(height), int(width), num_tokens) for height, width in spatial_shapes.tolist()
    ]
    return torch.stack(rows)
