"""Exporting the three wrapper modules to ONNX, and the optional fp16 conversion."""

from __future__ import annotations

import logging
from pathlib import Path

import onnx
import torch
from torch.export import Dim

from .bundle import DENSE_GRAPH, TEXT_GRAPH, VISION_GRAPH
from .sources import ModelSource
from .wrappers import DenseGraph, TextGraph, VisionGraph

log = logging.getLogger(__name__)

OPSET = 18
# Graphs whose weights exceed this many bytes keep them in "<graph>.data" beside the graph,
# well below protobuf's 2 GiB limit on one serialised message.
EXTERNAL_DATA_THRESHOLD = 1_500_000_000


def _parameter_bytes(module: torch.nn.Module) -> int:
    unique = {id(tensor): tensor for tensor in list(module.parameters()) + list(module.buffers())}
    return sum(tensor.numel() * tensor.element_size() for tensor in unique.values())


def _export(module, args, path: Path, input_names, output_names, dynamic_shapes, external_threshold: int) -> None:
    external = _parameter_bytes(module) > external_threshold
    log.info("exporting %s (%.1f MB of weights, external data: %s)", path.name, _parameter_bytes(module) / 1e6, external)
    with torch.no_grad():
        program = torch.onnx.export(
            module,
            args,
            dynamo=True,
            input_names=input_names,
            output_names=output_names,
            dynamic_shapes=dynamic_shapes,
            opset_version=OPSET,
            optimize=True,
        )
    program.save(str(path), external_data=external)


def export_graphs(source: ModelSource, out_dir: Path, external_threshold: int = EXTERNAL_DATA_THRESHOLD) -> None:
    """Write vision.onnx, dense.onnx and text.onnx (float32) with dynamic batch and sequence axes.

    A graph whose weights exceed `external_threshold` bytes stores them in "<graph>.data".
    """
    dim = source.embed_dim
    patch_dim = 3 * source.patch_size**2
    batch = Dim("batch", min=1)
    tokens = Dim("tokens", min=2)
    length = Dim("length", min=2)

    # Example inputs with distinct B, M and L so that no axis is specialised to another.
    pixel_values = torch.randn(2, 7, patch_dim)
    mask = torch.tensor([[1] * 7, [1] * 5 + [0] * 2], dtype=torch.int64)
    positions = torch.randn(2, 7, dim)
    _export(
        VisionGraph(source.model, source.vision_heads).eval(),
        (pixel_values, mask, positions),
        out_dir / VISION_GRAPH,
        ["pixel_values", "pixel_attention_mask", "position_embeddings"],
        ["image_embeds", "last_hidden_state"],
        {
            "pixel_values": {0: batch, 1: tokens},
            "pixel_attention_mask": {0: batch, 1: tokens},
            "position_embeddings": {0: batch, 1: tokens},
        },
        external_threshold,
    )
    _export(
        DenseGraph(source.model, source.vision_heads).eval(),
        (torch.randn(2, 7, dim), mask),
        out_dir / DENSE_GRAPH,
        ["last_hidden_state", "pixel_attention_mask"],
        ["dense_features"],
        {"last_hidden_state": {0: batch, 1: tokens}, "pixel_attention_mask": {0: batch, 1: tokens}},
        external_threshold,
    )
    _export(
        TextGraph(source.model, source.text_heads).eval(),
        (torch.randint(0, 4, (3, 9)), torch.randn(9, dim)),
        out_dir / TEXT_GRAPH,
        ["input_ids", "position_embeddings"],
        ["short_embeds", "box_embeds", "long_embeds"],
        {"input_ids": {0: batch, 1: length}, "position_embeddings": {0: length}},
        external_threshold,
    )


def check_dynamic_inputs(path: Path) -> dict[str, list]:
    """Return each graph input's shape, raising if a batch or sequence axis came out fixed.

    Every axis except the last (the feature axis) must be symbolic. A fixed one means that
    the trace froze a batch size or a sequence length.
    """
    model = onnx.load(str(path), load_external_data=False)
    shapes = {}
    for value in model.graph.input:
        dims = [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
        shapes[value.name] = dims
        leading = dims if value.name in ("pixel_attention_mask", "input_ids") else dims[:-1]
        fixed = [d for d in leading if isinstance(d, int)]
        if fixed:
            raise RuntimeError(f"{path.name}: input {value.name} has fixed axes {dims}; expected dynamic batch/sequence")
    return shapes


def convert_to_fp16(fp32_dir: Path, fp16_dir: Path, external_threshold: int = EXTERNAL_DATA_THRESHOLD) -> None:
    """Convert each graph's weights and arithmetic to float16, keeping float32 inputs and outputs.

    Uses the converter shipped with ONNX Runtime (`onnxruntime.transformers.float16`).
    LayerNormalization and Softmax stay in float32 for accuracy, and the converter inserts
    the casts around them.
    """
    from onnxruntime.transformers.float16 import convert_float_to_float16

    for name in (VISION_GRAPH, DENSE_GRAPH, TEXT_GRAPH):
        model = onnx.load(str(fp32_dir / name), load_external_data=True)
        converted = convert_float_to_float16(
            model, keep_io_types=True, op_block_list=["LayerNormalization", "Softmax"]
        )
        weight_bytes = sum(len(tensor.raw_data) for tensor in converted.graph.initializer)
        external = weight_bytes > external_threshold
        log.info("writing fp16 %s (external data: %s)", name, external)
        onnx.save_model(
            converted,
            str(fp16_dir / name),
            save_as_external_data=external,
            all_tensors_to_one_file=True,
            location=f"{name}.data",
        )
