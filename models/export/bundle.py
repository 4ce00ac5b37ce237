"""Writing a format-1 model bundle: side tables, tokenizer, manifest and file hashes.

The layout and the manifest fields are those of ARCHITECTURE.md, "Model bundles".
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import torch

from .sources import ModelSource, special_token_ids

FORMAT = "xunying-model-bundle"
FORMAT_VERSION = 1
VISION_GRAPH = "vision.onnx"
DENSE_GRAPH = "dense.onnx"
TEXT_GRAPH = "text.onnx"
TOKENIZER = "tokenizer.json"
POSITION_GRID = "vision_position_grid.f32"
TEXT_POSITIONS_SHORT = "text_position_short.f32"
TEXT_POSITIONS_LONG = "text_position_long.f32"
MANIFEST = "manifest.json"


def weights_digest(model: torch.nn.Module) -> str:
    """Return a SHA-256 over the model's parameters and buffers, by name, as float32 little-endian bytes.

    Casting to float32 first means the digest does not depend on the dtype the checkpoint
    was loaded in, and it is computed before any fp16 conversion of the graphs.
    """
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode("utf-8"))
        array = tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4", copy=False)
        digest.update(str(tuple(array.shape)).encode("ascii"))
        digest.update(array.tobytes())
    return digest.hexdigest()


def model_id(source: ModelSource) -> str:
    return f"{source.family}/{source.variant}/{weights_digest(source.model)[:12]}"


def position_tables(source: ModelSource) -> dict[str, np.ndarray]:
    """Return the three host-side position tables as little-endian float32 arrays."""
    side = source.position_grid_side
    vision = source.model.vision_model.embeddings.position_embedding.weight.detach().to(torch.float32)
    grid = vision.reshape(side, side, source.embed_dim)

    text = source.model.text_model.embeddings
    short = text.position_embedding.weight.detach().to(torch.float32)[: source.short_len]
    original = text.position_embedding_ori.weight.detach().to(torch.float32)[: source.long_len]
    resized = text.position_embedding_res.weight.detach().to(torch.float32)[: source.long_len]
    # Long positions below keep_len come from the "ori" table and the rest from "res".
    long = torch.cat([original[: source.keep_len], resized[source.keep_len :]])

    def to_array(tensor: torch.Tensor) -> np.ndarray:
        return np.ascontiguousarray(tensor.numpy().astype("<f4"))

    return {
        POSITION_GRID: to_array(grid),
        TEXT_POSITIONS_SHORT: to_array(short),
        TEXT_POSITIONS_LONG: to_array(long),
    }


def write_side_files(source: ModelSource, out_dir: Path) -> None:
    for name, array in position_tables(source).items():
        (out_dir / name).write_bytes(array.tobytes())
    shutil.copyfile(source.tokenizer_json, out_dir / TOKENIZER)


def read_table(path: Path, columns: int) -> torch.Tensor:
    """Read a little-endian float32 side table as `[rows, columns]`."""
    array = np.fromfile(path, dtype="<f4")
    if array.size % columns:
        raise ValueError(f"{path}: {array.size} floats is not a multiple of {columns} columns")
    return torch.from_numpy(array.reshape(-1, columns).astype(np.float32))


def file_entry(path: Path) -> dict:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def build_manifest(source: ModelSource, out_dir: Path, identifier: str, precision: str) -> dict:
    pad_id, eos_id = special_token_ids(source.tokenizer_json)
    files = {
        path.name: file_entry(path)
        for path in sorted(out_dir.iterdir())
        if path.is_file() and path.name != MANIFEST
    }
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "family": source.family,
        "variant": source.variant,
        "model_id": identifier,
        "precision": precision,
        "embed_dim": source.embed_dim,
        "logit_scale": float(source.model.logit_scale.detach().reshape(-1)[0]),
        "logit_bias": float(source.model.logit_bias.detach().reshape(-1)[0]),
        "vision": {
            "graph": VISION_GRAPH,
            "dense_graph": DENSE_GRAPH,
            "patch_size": source.patch_size,
            "patch_budgets": list(source.patch_budgets),
            "image_mean": [0.5, 0.5, 0.5],
            "image_std": [0.5, 0.5, 0.5],
            "position_grid": {"file": POSITION_GRID, "side": source.position_grid_side},
            "inputs": {
                "pixel_values": "pixel_values",
                "pixel_attention_mask": "pixel_attention_mask",
                "position_embeddings": "position_embeddings",
            },
            "outputs": {"image_embeds": "image_embeds", "last_hidden_state": "last_hidden_state"},
            "dense_inputs": {
                "last_hidden_state": "last_hidden_state",
                "pixel_attention_mask": "pixel_attention_mask",
            },
            "dense_outputs": {"dense_features": "dense_features"},
        },
        "text": {
            "graph": TEXT_GRAPH,
            "tokenizer": TOKENIZER,
            "lowercase": True,
            "pad_id": pad_id,
            "eos_id": eos_id,
            "short_len": source.short_len,
            "long_len": source.long_len,
            "position_tables": {"short": TEXT_POSITIONS_SHORT, "long": TEXT_POSITIONS_LONG},
            "inputs": {"input_ids": "input_ids", "position_embeddings": "position_embeddings"},
            "outputs": {"short": "short_embeds", "box": "box_embeds", "long": "long_embeds"},
        },
        "files": files,
    }


def write_manifest(source: ModelSource, out_dir: Path, identifier: str, precision: str) -> dict:
    manifest = build_manifest(source, out_dir, identifier, precision)
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest
