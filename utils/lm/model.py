"""A small byte-level transformer language model, in plain PyTorch (Lesson 09).

The model reads text as bytes (a vocabulary of 256) and predicts each byte from the bytes before
it. Two layers of causal self-attention of width 96 give about 286,000 weights: small enough to
train in seconds on a CPU, large enough to memorise a secret it sees a few times.

Every layer with weights is an ``nn.Linear``, ``nn.Embedding`` or ``nn.LayerNorm``, the layers
Opacus computes per-example gradients for, so the same model trains with DP-SGD
(`utils.lm.train.train_lm_dp`). No dropout: the lesson is about what a plain model remembers.

Encoding: a text becomes ``[BOS] + its UTF-8 bytes``; the model is asked for every byte after BOS.
`encode_texts` pads a batch with `PAD` and returns the mask of real targets.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["VOCAB_SIZE", "BOS", "PAD", "MAX_BYTES", "ByteTransformer", "build_lm", "encode_texts",
           "count_parameters"]

VOCAB_SIZE = 256
BOS = 2  # ASCII "start of text": never part of a record
PAD = 0  # ASCII NUL: never part of a record; masked out of every loss
MAX_BYTES = 160  # the longest record the model reads, in bytes (records are ~100)


class _Block(nn.Module):
    """Pre-norm transformer block: causal self-attention then a 4x MLP, each with a residual."""

    def __init__(self, width: int, n_heads: int):
        super().__init__()
        self.n_heads = n_heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.up = nn.Linear(width, 4 * width)
        self.down = nn.Linear(4 * width, width)

    def _heads(self, x):
        n, length, width = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(width, dim=-1)
        heads = (n, length, self.n_heads, width // self.n_heads)
        return tuple(t.view(heads).transpose(1, 2) for t in (q, k, v))

    def _finish(self, x, attended):
        n, length, width = x.shape
        x = x + self.proj(attended.transpose(1, 2).reshape(n, length, width))
        return x + self.down(F.gelu(self.up(self.norm2(x))))

    def forward(self, x):
        q, k, v = self._heads(x)
        return self._finish(x, F.scaled_dot_product_attention(q, k, v, is_causal=True))

    def forward_cached(self, x, keys, values):
        """Positions after a shared prefix: `keys`, `values` (1, heads, P, d) are the prefix's, computed once.

        Returns the block's output for `x` (n, S, width) and the prefix's keys and values (for the next
        block's call, unchanged). Each position attends to the whole prefix and to itself and the
        positions before it, exactly as in `forward` on prefix + x.
        """
        q, k, v = self._heads(x)
        n, length, prefix = x.shape[0], x.shape[1], keys.shape[2]
        k = torch.cat([keys.expand(n, -1, -1, -1), k], dim=2)
        v = torch.cat([values.expand(n, -1, -1, -1), v], dim=2)
        allowed = torch.ones(length, prefix + length, dtype=torch.bool).tril(diagonal=prefix)
        return self._finish(x, F.scaled_dot_product_attention(q, k, v, attn_mask=allowed))


class ByteTransformer(nn.Module):
    """Causal transformer over bytes: ``(n, length) int64 -> (n, length, 256)`` logits (Lesson 09).

    Parameters
    ----------
    width : int, default=96
    n_layers : int, default=2
    n_heads : int, default=4
    max_length : int, default=MAX_BYTES + 1
        Longest input (BOS included).
    """

    def __init__(self, width: int = 96, n_layers: int = 2, n_heads: int = 4, max_length: int = MAX_BYTES + 1):
        super().__init__()
        if width % n_heads:
            raise ValueError(f"width ({width}) must be a multiple of n_heads ({n_heads}).")
        self.max_length = max_length
        self.tokens = nn.Embedding(VOCAB_SIZE, width)
        self.positions = nn.Embedding(max_length, width)
        self.blocks = nn.ModuleList(_Block(width, n_heads) for _ in range(n_layers))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, VOCAB_SIZE)
        for module in self.modules():  # GPT-2's initialisation: small weights train stably with Adam
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)
        for block in self.blocks:  # scale the residual branches by depth
            nn.init.normal_(block.down.weight, std=0.02 / math.sqrt(2 * n_layers))

    def forward(self, inputs):
        length = inputs.shape[1]
        if length > self.max_length:
            raise ValueError(f"inputs have {length} positions, more than this model's max_length {self.max_length}; "
                             "shorten the texts or build the model with a larger max_length.")
        positions = torch.arange(length, device=inputs.device).expand_as(inputs)
        x = self.tokens(inputs) + self.positions(positions)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


    @torch.no_grad()
    def after_prefix(self, prefix, continuations):
        """Logits after one shared `prefix`, for many `continuations`: the prefix is computed once (Lesson 09).

        The same numbers (to float rounding) as ``self(cat(prefix, continuation))``, for the cost of
        the continuations alone: how exposure scores 1,000 candidate secrets after one canary prefix.

        Parameters
        ----------
        prefix : LongTensor, shape (P,)
            Byte codes, BOS first.
        continuations : LongTensor, shape (n, S)
            S may be 0.

        Returns
        -------
        last : Tensor, shape (256,)
            Logits after the prefix (the prediction of each continuation's first byte).
        logits : Tensor, shape (n, S, 256)
            Logits after each continuation byte.
        """
        length = len(prefix) + continuations.shape[1]
        if length > self.max_length:
            raise ValueError(f"prefix and continuation have {length} positions, more than this model's max_length "
                             f"{self.max_length}.")
        x = self.tokens(prefix[None]) + self.positions(torch.arange(len(prefix))[None])
        cache = []
        for block in self.blocks:  # the prefix alone, keeping each block's keys and values
            q, k, v = block._heads(x)
            cache.append((k, v))
            x = block._finish(x, F.scaled_dot_product_attention(q, k, v, is_causal=True))
        last = self.head(self.norm(x))[0, -1]
        n, steps = continuations.shape
        if steps == 0:
            return last, torch.empty(n, 0, last.shape[-1])
        positions = torch.arange(len(prefix), length).expand(n, steps)
        y = self.tokens(continuations) + self.positions(positions)
        for block, (k, v) in zip(self.blocks, cache):
            y = block.forward_cached(y, k, v)
        return last, self.head(self.norm(y))


def build_lm() -> ByteTransformer:
    """The lesson's model: 2 layers, width 96, 4 heads (about 286k weights)."""
    return ByteTransformer()


def count_parameters(model: nn.Module) -> int:
    """Number of trainable weights."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def encode_texts(texts, max_bytes: int = MAX_BYTES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Texts as padded byte arrays for the model (Lesson 09).

    Parameters
    ----------
    texts : sequence of str, length n_texts
    max_bytes : int, default=MAX_BYTES

    Returns
    -------
    inputs : ndarray of int64, shape (n_texts, length)
        ``BOS`` then the text's bytes but the last, padded with `PAD`; ``length`` = longest text.
    targets : ndarray of int64, shape (n_texts, length)
        The text's bytes (what each position must predict), padded with `PAD`.
    mask : ndarray of bool, shape (n_texts, length)
        True where `targets` holds a real byte.

    Raises
    ------
    ValueError
        For a text that is not a string, is empty, holds a NUL/STX byte, or is longer than `max_bytes`.
    """
    if isinstance(texts, str):
        raise ValueError("texts must be a list of strings, got one string; wrap it: [text].")
    encoded = []
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text:
            raise ValueError(f"texts[{i}] must be a non-empty string, got {text!r:.60}.")
        data = text.encode("utf-8")
        if len(data) > max_bytes:
            raise ValueError(f"texts[{i}] is {len(data)} bytes long, more than max_bytes={max_bytes}; "
                             "shorten the record or raise max_bytes (and the model's max_length).")
        if PAD in data or BOS in data:
            raise ValueError(f"texts[{i}] holds a NUL or STX byte, which the model reserves for padding and BOS.")
        encoded.append(np.frombuffer(data, dtype=np.uint8).astype(np.int64))
    if not encoded:
        raise ValueError("texts is empty; pass at least one text.")
    length = max(len(e) for e in encoded)
    targets = np.full((len(encoded), length), PAD, dtype=np.int64)
    for i, e in enumerate(encoded):
        targets[i, :len(e)] = e
    inputs = np.concatenate([np.full((len(encoded), 1), BOS, dtype=np.int64), targets[:, :-1]], axis=1)
    return inputs, targets, targets != PAD
