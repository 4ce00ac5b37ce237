"""Batched export modules built from the parameters of an FG-CLIP 2-shaped model.

FG-CLIP 2's own forward loops over samples in the pooling head and the short text head,
and resizes the position grid inside the graph from `spatial_shapes`. Tracing either
freezes the batch size or the spatial shape, and the antialiased resize does not export
faithfully. These modules recompute the same functions with batched tensor operations:

- position embeddings arrive as an input computed on the host;
- the key-padding mask becomes an additive `[B, 1, 1, M]` bias built in the graph, 0 for
  valid keys and the float32 minimum for padding. It is added to the attention scores of
  every vision encoder layer, the pooling head and the dense head;
- the text tower has no attention mask, pools position L-1 after the final LayerNorm, and
  applies all three heads, so one graph serves the short, box and long walks.

They read the modules by FG-CLIP 2's attribute names and never copy weights, so the
same code exports the real checkpoint and the toy model.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def padding_bias(pixel_attention_mask: torch.Tensor) -> torch.Tensor:
    """Return the additive key bias `[B, 1, 1, M]`: 0 where the mask is 1, float32 min where it is 0."""
    zero = torch.zeros((), dtype=torch.float32)
    minimum = torch.full((), torch.finfo(torch.float32).min, dtype=torch.float32)
    bias = torch.where(pixel_attention_mask == 0, minimum, zero)
    return bias[:, None, None, :]


def scaled_dot_product(queries, keys, values, bias: torch.Tensor | None) -> torch.Tensor:
    """Compute attention over `[B, H, T, d]` tensors with an optional additive bias, returning `[B, T, H*d]`."""
    scale = queries.shape[-1] ** -0.5
    scores = torch.matmul(queries, keys.transpose(-1, -2)) * scale
    if bias is not None:
        scores = scores + bias
    probabilities = torch.softmax(scores, dim=-1)
    return torch.matmul(probabilities, values).transpose(1, 2).flatten(-2)


def split_heads(values: torch.Tensor, num_heads: int) -> torch.Tensor:
    """Reshape `[B, T, D]` to `[B, H, T, D/H]`."""
    return values.unflatten(-1, (num_heads, values.shape[-1] // num_heads)).transpose(1, 2)


def run_mlp(mlp: nn.Module, hidden_states: torch.Tensor) -> torch.Tensor:
    """Apply an FG-CLIP 2 MLP (`fc1`, tanh-approximated GELU, `fc2`)."""
    return mlp.fc2(F.gelu(mlp.fc1(hidden_states), approximate="tanh"))


def run_encoder_layer(layer: nn.Module, hidden_states, bias: torch.Tensor | None, num_heads: int):
    """Apply one pre-norm encoder layer with separate q/k/v/out projections."""
    normed = layer.layer_norm1(hidden_states)
    attention = layer.self_attn
    queries = split_heads(attention.q_proj(normed), num_heads)
    keys = split_heads(attention.k_proj(normed), num_heads)
    values = split_heads(attention.v_proj(normed), num_heads)
    hidden_states = hidden_states + attention.out_proj(scaled_dot_product(queries, keys, values, bias))
    return hidden_states + run_mlp(layer.mlp, layer.layer_norm2(hidden_states))


def run_pooling_head(head: nn.Module, queries, tokens, bias: torch.Tensor, num_heads: int):
    """Apply a MAP head (`nn.MultiheadAttention` + LayerNorm + MLP) with `queries` attending over `tokens`.

    `nn.MultiheadAttention` packs the q, k and v projections into `in_proj_weight` rows
    [0, D), [D, 2D) and [2D, 3D). The MLP block adds to the attention output, not to the queries.
    """
    attention = head.attention
    weight_q, weight_k, weight_v = attention.in_proj_weight.chunk(3, dim=0)
    bias_q, bias_k, bias_v = attention.in_proj_bias.chunk(3, dim=0)
    projected_q = split_heads(F.linear(queries, weight_q, bias_q), num_heads)
    projected_k = split_heads(F.linear(tokens, weight_k, bias_k), num_heads)
    projected_v = split_heads(F.linear(tokens, weight_v, bias_v), num_heads)
    attended = attention.out_proj(scaled_dot_product(projected_q, projected_k, projected_v, bias))
    return attended + run_mlp(head.mlp, head.layernorm(attended))


class VisionGraph(nn.Module):
    """`vision.onnx`: patch embedding, encoder, post-LayerNorm and the MAP head."""

    def __init__(self, model: nn.Module, num_heads: int):
        super().__init__()
        self.vision = model.vision_model
        self.num_heads = num_heads

    def forward(self, pixel_values, pixel_attention_mask, position_embeddings):
        bias = padding_bias(pixel_attention_mask)
        hidden_states = self.vision.embeddings.patch_embedding(pixel_values) + position_embeddings
        for layer in self.vision.encoder.layers:
            hidden_states = run_encoder_layer(layer, hidden_states, bias, self.num_heads)
        last_hidden_state = self.vision.post_layernorm(hidden_states)

        head = self.vision.head
        probe = head.probe.expand(last_hidden_state.shape[0], -1, -1)
        image_embeds = run_pooling_head(head, probe, last_hidden_state, bias, self.num_heads)[:, 0]
        return image_embeds, last_hidden_state


class DenseGraph(nn.Module):
    """`dense.onnx`: the dense-feature head as masked self-attention over all tokens (its probe is unused)."""

    def __init__(self, model: nn.Module, num_heads: int):
        super().__init__()
        self.head = model.dense_feature_head
        self.num_heads = num_heads

    def forward(self, last_hidden_state, pixel_attention_mask):
        bias = padding_bias(pixel_attention_mask)
        return run_pooling_head(self.head, last_hidden_state, last_hidden_state, bias, self.num_heads)


class TextGraph(nn.Module):
    """`text.onnx`: token embedding plus host positions, unmasked encoder, final LayerNorm, three heads."""

    def __init__(self, model: nn.Module, num_heads: int):
        super().__init__()
        self.text = model.text_model
        self.boxtext_head = model.boxtext_head
        self.longtext_head = model.longtext_head
        self.num_heads = num_heads

    def forward(self, input_ids, position_embeddings):
        hidden_states = self.text.embeddings.token_embedding(input_ids) + position_embeddings
        for layer in self.text.encoder.layers:
            hidden_states = run_encoder_layer(layer, hidden_states, None, self.num_heads)
        # Pool the last position, which is padding unless the text fills the sequence.
        pooled = self.text.final_layer_norm(hidden_states)[:, -1]
        return self.text.head(pooled), self.boxtext_head(pooled), self.longtext_head(pooled)
