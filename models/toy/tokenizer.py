"""The toy model's bilingual word-level tokenizer and the host's id layout.

The tokenizer lowercases, splits every CJK character into its own token (BertNormalizer
with handle_chinese_chars), splits words on whitespace and punctuation (BertPreTokenizer)
and maps them through a fixed word list. It has no post-processor: like the Rust host, the
caller appends `<eos>` and pads with `<pad>` to the fixed text length.
"""

from __future__ import annotations

from typing import Sequence

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from .world import vocabulary_texts

PAD_ID = 0
EOS_ID = 1
BOS_ID = 2
UNK_ID = 3
SPECIAL_TOKENS = ("<pad>", "<eos>", "<bos>", "<unk>")


def _normalizer() -> normalizers.Normalizer:
    return normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True
    )


def build_tokenizer() -> Tokenizer:
    """Build the tokenizer with the special tokens at ids 0..3 and the caption words after them, sorted."""
    normalizer = _normalizer()
    splitter = pre_tokenizers.BertPreTokenizer()
    words = set()
    for text in vocabulary_texts():
        for word, _ in splitter.pre_tokenize_str(normalizer.normalize_str(text)):
            words.add(word)
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS)}
    for word in sorted(words):
        vocab.setdefault(word, len(vocab))

    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = splitter
    return tokenizer


def encode_fixed_length(tokenizer: Tokenizer, texts: Sequence[str], length: int) -> torch.Tensor:
    """Return `[len(texts), length]` int64 ids: the tokens cut to length-1, `<eos>`, then `<pad>` up to length.

    Texts are lowercased first, as the Rust host does.
    """
    rows = []
    for text in texts:
        ids = tokenizer.encode(text.lower(), add_special_tokens=False).ids[: length - 1]
        ids = ids + [EOS_ID] + [PAD_ID] * (length - 1 - len(ids))
        rows.append(ids)
    return torch.tensor(rows, dtype=torch.int64)
