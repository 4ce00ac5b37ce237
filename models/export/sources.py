"""Loading the models that the exporter accepts, and the dimensions it reads from them.

Both sources give a module with FG-CLIP 2's attribute layout and feature methods
(`get_image_features`, `get_image_dense_feature`, `get_text_features(walk_type=...)`),
plus a config with `vision_config` and `text_config` in Hugging Face naming.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

FGCLIP2_PATCH_BUDGETS = (128, 256, 576, 784, 1024)
SUPPORTED_ACTIVATIONS = ("gelu_pytorch_tanh",)


@dataclass
class ModelSource:
    """A loaded model with everything the exporter needs besides its weights."""

    model: nn.Module
    family: str
    variant: str
    tokenizer_json: Path
    patch_budgets: tuple[int, ...]
    vision_heads: int
    text_heads: int
    embed_dim: int
    patch_size: int
    position_grid_side: int
    short_len: int
    long_len: int
    keep_len: int


def _describe(model: nn.Module, family: str, variant: str, tokenizer_json: Path, budgets) -> ModelSource:
    vision = model.config.vision_config
    text = model.config.text_config
    for name, config in (("vision", vision), ("text", text)):
        activation = getattr(config, "hidden_act", "gelu_pytorch_tanh")
        if activation not in SUPPORTED_ACTIVATIONS:
            raise ValueError(f"{name} activation {activation!r} is not supported: the export wrappers use tanh GELU")
    side = int(round(vision.num_patches**0.5))
    if side * side != vision.num_patches:
        raise ValueError(f"vision num_patches={vision.num_patches} is not a square grid")
    embed_dim = vision.hidden_size
    projection = getattr(text, "projection_size", text.hidden_size)
    if projection != embed_dim or text.hidden_size != embed_dim:
        raise ValueError(
            f"vision hidden size {embed_dim}, text hidden size {text.hidden_size} and text projection "
            f"{projection} must be equal: image and text embeddings share one space"
        )
    if not tokenizer_json.is_file():
        raise FileNotFoundError(f"tokenizer file not found: {tokenizer_json}")
    return ModelSource(
        model=model.eval(),
        family=family,
        variant=variant,
        tokenizer_json=tokenizer_json,
        patch_budgets=tuple(sorted(budgets)),
        vision_heads=vision.num_attention_heads,
        text_heads=text.num_attention_heads,
        embed_dim=embed_dim,
        patch_size=vision.patch_size,
        position_grid_side=side,
        short_len=text.max_position_embeddings,
        long_len=text.longtext_len,
        keep_len=text.keep_len,
    )


def load_toy(checkpoint: Path, tokenizer_json: Path) -> ModelSource:
    """Load a checkpoint written by `models.toy.train`."""
    from models.toy.model import ToyConfig, ToyModel

    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    config = ToyConfig.from_dict(saved["config"])
    model = ToyModel(config)
    model.load_state_dict(saved["state_dict"])
    return _describe(model, "xunying-toy", "tiny", tokenizer_json, config.patch_budgets)


def _import_code_folder(code_dir: Path):
    """Import `modeling_fgclip2.py` from a folder as a package, so its relative imports resolve."""
    package_name = "fgclip2_code"
    spec = importlib.machinery.ModuleSpec(package_name, None, is_package=True)
    spec.submodule_search_locations = [str(code_dir)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[package_name] = package
    return importlib.import_module(f"{package_name}.modeling_fgclip2")


def load_fgclip2(checkpoint_dir: Path, variant: str, code_dir: Path | None, budgets) -> ModelSource:
    """Load an FG-CLIP 2 checkpoint folder (config.json, weights, tokenizer.json) in float32 with eager attention.

    Without `code_dir` the folder's own remote code is used (`trust_remote_code`). With it,
    `Fgclip2Model` is imported from `code_dir/modeling_fgclip2.py`.
    """
    if code_dir is None:
        from transformers import AutoModel

        model = AutoModel.from_pretrained(
            checkpoint_dir, trust_remote_code=True, torch_dtype=torch.float32, attn_implementation="eager"
        )
    else:
        module = _import_code_folder(code_dir)
        model = module.Fgclip2Model.from_pretrained(
            checkpoint_dir, torch_dtype=torch.float32, attn_implementation="eager"
        )
    return _describe(model, "fg-clip2", variant, checkpoint_dir / "tokenizer.json", budgets)


def special_token_ids(tokenizer_json: Path) -> tuple[int, int]:
    """Return (pad_id, eos_id) from a tokenizer file's `<pad>` and `<eos>` tokens."""
    data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    ids = {token["content"]: token["id"] for token in data.get("added_tokens", [])}
    vocab = data.get("model", {}).get("vocab", {})
    if isinstance(vocab, dict):
        for name in ("<pad>", "<eos>"):
            ids.setdefault(name, vocab.get(name))
    pad_id, eos_id = ids.get("<pad>"), ids.get("<eos>")
    if pad_id is None or eos_id is None:
        raise ValueError(f"{tokenizer_json} has no <pad> or <eos> token")
    return pad_id, eos_id
