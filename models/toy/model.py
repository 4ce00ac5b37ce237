"""A small dual encoder with the module layout of FG-CLIP 2's `Fgclip2Model`.

Attribute names, head structure, pooling and text walks match FG-CLIP 2, so the
exporter in `models/export` treats this model and the real checkpoint the same way:

- vision: a Linear patch embedding, a learned `side x side` position grid resized per
  image with antialiased bilinear interpolation, pre-norm encoder layers with a key-padding
  mask, `post_layernorm`, and a multi-head attention-pooling (MAP) head;
- `dense_feature_head`: a second MAP-shaped head run as self-attention over all tokens;
- text: token embeddings plus one of two position tables, no attention mask, pooled at the
  last position of the fixed-length sequence after `final_layer_norm`, then the short
  (`text_model.head`), box (`boxtext_head`) or long (`longtext_head`) projection;
- `logit_scale` and `logit_bias` for sigmoid scores.

This forward is the reference for the exporter's parity check, so it is written
independently of the batched export wrappers (per-image position resize,
`nn.MultiheadAttention` for the heads).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ToyVisionConfig:
    hidden_size: int = 128
    intermediate_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_channels: int = 3
    patch_size: int = 16
    num_patches: int = 256
    layer_norm_eps: float = 1e-6


@dataclass
class ToyTextConfig:
    vocab_size: int = 256
    hidden_size: int = 128
    intermediate_size: int = 256
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    max_position_embeddings: int = 64
    keep_len: int = 20
    longtext_len: int = 196
    layer_norm_eps: float = 1e-6
    projection_size: int = 128


@dataclass
class ToyConfig:
    vision_config: ToyVisionConfig = field(default_factory=ToyVisionConfig)
    text_config: ToyTextConfig = field(default_factory=ToyTextConfig)
    patch_budgets: tuple[int, ...] = (64, 128, 256)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ToyConfig":
        return cls(
            vision_config=ToyVisionConfig(**values["vision_config"]),
            text_config=ToyTextConfig(**values["text_config"]),
            patch_budgets=tuple(values["patch_budgets"]),
        )


def sincos_table(length: int, dim: int) -> torch.Tensor:
    """Return `[length, dim]` sine-cosine position features (half sines, half cosines), values in [-1, 1]."""
    frequencies = 1.0 / (100.0 ** (torch.arange(dim // 2, dtype=torch.float32) / (dim // 2)))
    angles = torch.arange(length, dtype=torch.float32)[:, None] * frequencies[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def sincos_grid(side: int, dim: int) -> torch.Tensor:
    """Return `[side * side, dim]` 2D position features: half the channels encode the row, half the column."""
    rows = sincos_table(side, dim // 2)
    columns = sincos_table(side, dim // 2)
    grid = torch.cat(
        [rows[:, None, :].expand(side, side, -1), columns[None, :, :].expand(side, side, -1)], dim=-1
    )
    return grid.reshape(side * side, dim)


def key_padding_bias(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Return an additive `[B, 1, 1, M]` bias: 0 for valid keys, the dtype minimum for padding."""
    bias = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    bias = bias.masked_fill(mask == 0, torch.finfo(dtype).min)
    return bias[:, None, None, :]


class ToyAttention(nn.Module):
    def __init__(self, hidden_size: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.k_proj = nn.Linear(hidden_size, hidden_size)
        self.v_proj = nn.Linear(hidden_size, hidden_size)
        self.q_proj = nn.Linear(hidden_size, hidden_size)
        self.out_proj = nn.Linear(hidden_size, hidden_size)

    def forward(self, hidden_states: torch.Tensor, attention_bias: torch.Tensor | None) -> torch.Tensor:
        def split_heads(values: torch.Tensor) -> torch.Tensor:
            return values.unflatten(-1, (self.num_heads, self.head_dim)).transpose(1, 2)

        queries = split_heads(self.q_proj(hidden_states))
        keys = split_heads(self.k_proj(hidden_states))
        values = split_heads(self.v_proj(hidden_states))
        attended = F.scaled_dot_product_attention(queries, keys, values, attn_mask=attention_bias)
        return self.out_proj(attended.transpose(1, 2).flatten(-2))


class ToyMLP(nn.Module):
    def __init__(self, hidden_size: int, intermediate_size: int):
        super().__init__()
        self.fc1 = nn.Linear(hidden_size, intermediate_size)
        self.fc2 = nn.Linear(intermediate_size, hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(hidden_states), approximate="tanh"))


class ToyEncoderLayer(nn.Module):
    def __init__(self, hidden_size: int, intermediate_size: int, num_heads: int, eps: float):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(hidden_size, eps=eps)
        self.self_attn = ToyAttention(hidden_size, num_heads)
        self.layer_norm2 = nn.LayerNorm(hidden_size, eps=eps)
        self.mlp = ToyMLP(hidden_size, intermediate_size)

    def forward(self, hidden_states: torch.Tensor, attention_bias: torch.Tensor | None) -> torch.Tensor:
        hidden_states = hidden_states + self.self_attn(self.layer_norm1(hidden_states), attention_bias)
        return hidden_states + self.mlp(self.layer_norm2(hidden_states))


class ToyEncoder(nn.Module):
    def __init__(self, config: ToyVisionConfig | ToyTextConfig):
        super().__init__()
        self.layers = nn.ModuleList(
            ToyEncoderLayer(
                config.hidden_size, config.intermediate_size, config.num_attention_heads, config.layer_norm_eps
            )
            for _ in range(config.num_hidden_layers)
        )

    def forward(self, hidden_states: torch.Tensor, attention_bias: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            hidden_states = layer(hidden_states, attention_bias)
        return hidden_states


class ToyVisionEmbeddings(nn.Module):
    def __init__(self, config: ToyVisionConfig):
        super().__init__()
        self.patch_size = config.patch_size
        self.patch_embedding = nn.Linear(config.num_channels * config.patch_size**2, config.hidden_size)
        self.position_embedding_size = int(config.num_patches**0.5)
        self.position_embedding = nn.Embedding(config.num_patches, config.hidden_size)

    def resized_positions(self, spatial_shapes: torch.Tensor, num_tokens: int) -> torch.Tensor:
        """Return `[B, num_tokens, D]` positions, each image's grid resized to its (h, w)."""
        side = self.position_embedding_size
        grid = self.position_embedding.weight.reshape(side, side, -1).permute(2, 0, 1).unsqueeze(0)
        rows = []
        for height, width in spatial_shapes.tolist():
            resized = F.interpolate(grid, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
            resized = resized.flatten(2)[0].transpose(0, 1)
            padding = resized[:1].expand(num_tokens - height * width, -1)
            rows.append(torch.cat([resized, padding]))
        return torch.stack(rows)

    def forward(self, pixel_values: torch.Tensor, spatial_shapes: torch.Tensor) -> torch.Tensor:
        positions = self.resized_positions(spatial_shapes, pixel_values.shape[1])
        return self.patch_embedding(pixel_values) + positions


class ToyAttentionPoolingHead(nn.Module):
    """Multi-head attention pooling: a learned probe attends over the tokens, then an MLP."""

    def __init__(self, config: ToyVisionConfig):
        super().__init__()
        self.probe = nn.Parameter(torch.randn(1, 1, config.hidden_size) * 0.02)
        self.attention = nn.MultiheadAttention(config.hidden_size, config.num_attention_heads, batch_first=True)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.mlp = ToyMLP(config.hidden_size, config.intermediate_size)
        self.num_heads = config.num_attention_heads

    def attend(self, queries: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attend from `queries` over `tokens`, ignore padded keys, and apply the MLP block."""
        attended = self.attention(queries, tokens, tokens, key_padding_mask=mask == 0, need_weights=False)[0]
        return attended + self.mlp(self.layernorm(attended))

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        probe = self.probe.expand(tokens.shape[0], -1, -1)
        return self.attend(probe, tokens, mask)[:, 0]


class ToyVisionTransformer(nn.Module):
    def __init__(self, config: ToyVisionConfig):
        super().__init__()
        self.embeddings = ToyVisionEmbeddings(config)
        self.encoder = ToyEncoder(config)
        self.post_layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.head = ToyAttentionPoolingHead(config)

    def forward(self, pixel_values, attention_mask, spatial_shapes) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (pooled `[B, D]`, last_hidden_state `[B, M, D]`)."""
        hidden_states = self.embeddings(pixel_values, spatial_shapes)
        bias = key_padding_bias(attention_mask, hidden_states.dtype)
        hidden_states = self.post_layernorm(self.encoder(hidden_states, bias))
        return self.head(hidden_states, attention_mask), hidden_states


class ToyTextEmbeddings(nn.Module):
    def __init__(self, config: ToyTextConfig):
        super().__init__()
        self.keep_len = config.keep_len
        self.token_embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embedding = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.position_embedding_res = nn.Embedding(config.longtext_len, config.hidden_size)
        self.position_embedding_ori = nn.Embedding(config.longtext_len, config.hidden_size)

    def forward(self, input_ids: torch.Tensor, walk_type: str) -> torch.Tensor:
        length = input_ids.shape[1]
        if walk_type == "long":
            # Positions below keep_len come from the "ori" table, the rest from "res".
            keep = torch.arange(length, device=input_ids.device)[:, None] < self.keep_len
            positions = torch.where(
                keep, self.position_embedding_ori.weight[:length], self.position_embedding_res.weight[:length]
            )
        else:
            positions = self.position_embedding.weight[:length]
        return self.token_embedding(input_ids) + positions


class ToyTextTransformer(nn.Module):
    def __init__(self, config: ToyTextConfig):
        super().__init__()
        self.embeddings = ToyTextEmbeddings(config)
        self.encoder = ToyEncoder(config)
        self.final_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.head = nn.Linear(config.hidden_size, config.projection_size)

    def pooled(self, input_ids: torch.Tensor, walk_type: str) -> torch.Tensor:
        """Return the final-LayerNorm state at the last position, which is usually padding."""
        hidden_states = self.encoder(self.embeddings(input_ids, walk_type))
        return self.final_layer_norm(hidden_states)[:, -1]


class ToyModel(nn.Module):
    """The toy dual encoder, with FG-CLIP 2's attribute names and feature methods."""

    def __init__(self, config: ToyConfig):
        super().__init__()
        self.config = config
        self.vision_model = ToyVisionTransformer(config.vision_config)
        self.text_model = ToyTextTransformer(config.text_config)
        self.dense_feature_head = ToyAttentionPoolingHead(config.vision_config)
        embed_dim = config.text_config.hidden_size
        self.longtext_head = nn.Linear(embed_dim, embed_dim)
        self.boxtext_head = nn.Linear(embed_dim, embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor([2.3]))
        self.logit_bias = nn.Parameter(torch.tensor([-10.0]))
        self._initialise_tables(config)

    @torch.no_grad()
    def _initialise_tables(self, config: ToyConfig) -> None:
        """Start the learned position tables from sine-cosine patterns.

        Trained from random tables, the model took hundreds of steps to relate neighbouring
        patches and word order, so shape recognition and colour-shape binding barely
        started within a short CPU run. The tables stay ordinary trained parameters.
        """
        vision = self.vision_model.embeddings
        side = vision.position_embedding_size
        vision.position_embedding.weight.copy_(0.4 * sincos_grid(side, config.vision_config.hidden_size))

        text = self.text_model.embeddings
        dim = config.text_config.hidden_size
        nn.init.normal_(text.token_embedding.weight, std=dim**-0.5)
        text.position_embedding.weight.copy_(dim**-0.5 * sincos_table(config.text_config.max_position_embeddings, dim))
        long_table = dim**-0.5 * sincos_table(config.text_config.longtext_len, dim)
        text.position_embedding_ori.weight.copy_(long_table)
        text.position_embedding_res.weight.copy_(long_table)

    def dense_from_hidden(self, last_hidden_state: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Run the dense head as self-attention over all tokens and return `[B, M, D]`."""
        return self.dense_feature_head.attend(last_hidden_state, last_hidden_state, mask)

    def get_image_features(self, pixel_values, pixel_attention_mask, spatial_shapes) -> torch.Tensor:
        return self.vision_model(pixel_values, pixel_attention_mask, spatial_shapes)[0]

    def get_image_dense_feature(self, pixel_values, pixel_attention_mask, spatial_shapes) -> torch.Tensor:
        hidden_states = self.vision_model(pixel_values, pixel_attention_mask, spatial_shapes)[1]
        return self.dense_from_hidden(hidden_states, pixel_attention_mask)

    def get_text_features(self, input_ids: torch.Tensor, walk_type: str = "short") -> torch.Tensor:
        pooled = self.text_model.pooled(input_ids, walk_type)
        if walk_type == "short":
            return self.text_model.head(pooled)
        if walk_type == "box":
            return self.boxtext_head(pooled)
        if walk_type == "long":
            return self.longtext_head(pooled)
        raise ValueError(f"invalid walk_type {walk_type!r}: expected 'short', 'box' or 'long'")
