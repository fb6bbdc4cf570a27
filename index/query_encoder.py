"""A light query encoder: BERT-family sentence-transformers models run in NumPy.

Importing PyTorch, transformers and sentence-transformers takes several seconds, which was
most of the time to a first answer in a fresh process. A question is a few dozen tokens, so
for models whose folder declares plain mean pooling (Transformer → mean Pooling → optional
Normalize) over a BERT encoder with its weights in ``model.safetensors`` and a fast tokenizer
in ``tokenizer.json``, queries are encoded here with NumPy: the same arithmetic as the
PyTorch model, loaded in a fraction of a second. Passages are still embedded by
sentence-transformers; a test checks that both give the same vectors.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

_PIPELINES = (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"])
_OTHER_POOLING = ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")


@dataclass(frozen=True)
class _BertConfig:
    """The parts of a BERT config.json the forward pass needs."""

    heads: int
    layers: int
    eps: float
    positions: int

    @classmethod
    def read(cls, path: Path) -> _BertConfig | None:
        """The config of a plain BERT encoder, or None for anything this encoder does not reproduce."""
        config = json.loads(path.read_text(encoding="utf-8"))
        plain = (
            config.get("model_type") == "bert"
            and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
        )
        if not plain:
            return None
        return cls(
            heads=int(config["num_attention_heads"]),
            layers=int(config["num_hidden_layers"]),
            eps=float(config["layer_norm_eps"]),
            positions=int(config.get("max_position_embeddings", 512)),
        )


class MeanPoolingEncoder:
    """Encodes texts as the mean of a BERT model's token vectors, like sentence-transformers."""

    def __init__(self, folder: Path, config: _BertConfig, max_length: int, normalize: bool) -> None:
        self.folder = folder
        self.config = config
        self.max_length = max_length
        self.normalize = normalize
        self._parts: tuple[Any, dict[str, np.ndarray]] | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_model(cls, path: str, normalize: bool) -> MeanPoolingEncoder | None:
        """An encoder for a local model folder, or None when it is not plain mean pooling over BERT."""
        folder = Path(path)
        try:
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
            kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
            if kinds not in _PIPELINES or modules[0].get("path", "") != "":
                return None
            pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
            config_path = folder / "sentence_bert_config.json"
            st_config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
            bert = _BertConfig.read(folder / "config.json")
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return None
        if bert is None or not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
            return None
        if not pooling.get("pooling_mode_mean_tokens") or any(pooling.get(key) for key in _OTHER_POOLING):
            return None
        if st_config.get("do_lower_case"):
            return None
        max_length = min(int(st_config.get("max_seq_length") or 512), bert.positions)
        return cls(folder, bert, max_length, normalize or len(kinds) == 3)

    def _load(self) -> tuple[Any, dict[str, np.ndarray]]:
        if self._parts is None:
            with self._lock:
                if self._parts is None:
                    from safetensors.numpy import load_file
                    from tokenizers import Tokenizer

                    tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                    tokenizer.enable_truncation(max_length=self.max_length)
                    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                    weights = load_file(str(self.folder / "model.safetensors"))
                    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
                    weights = {
                        name.removeprefix(prefix): value.astype(np.float32, copy=False)
                        for name, value in weights.items()
                    }
                    self._parts = (tokenizer, weights)
        return self._parts

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """float32 vectors of shape (len(texts), dimension)."""
        tokenizer, weights = self._load()
        encodings = tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        # A question's matrices are tiny: BLAS threads only contend with each other and with any other
        # work on the cores (0.9 s instead of 16 ms a question on a busy two-core machine).
        with threadpool_limits(limits=1, user_api="blas"):
            tokens = _bert(ids, mask, weights, self.config)
        vectors = (tokens * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        if self.normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)


def _bert(ids: np.ndarray, mask: np.ndarray, w: dict[str, np.ndarray], config: _BertConfig) -> np.ndarray:
    """The last hidden state of a BERT encoder, shape (batch, tokens, hidden)."""
    positions = np.arange(ids.shape[1])
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
    x = _layer_norm(x + w["embeddings.token_type_embeddings.weight"][0], w, "embeddings.LayerNorm", config.eps)
    padding = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
    for i in range(config.layers):
        layer = f"encoder.layer.{i}"
        attended = _linear(
            _attention(x, padding, w, f"{layer}.attention.self", config.heads), w, f"{layer}.attention.output.dense"
        )
        x = _layer_norm(x + attended, w, f"{layer}.attention.output.LayerNorm", config.eps)
        inner = _gelu(_linear(x, w, f"{layer}.intermediate.dense"))
        x = _layer_norm(x + _linear(inner, w, f"{layer}.output.dense"), w, f"{layer}.output.LayerNorm", config.eps)
    return x


def _attention(x: np.ndarray, padding: np.ndarray, w: dict[str, np.ndarray], name: str, heads: int) -> np.ndarray:
    """Multi-head self-attention; ``padding`` is added to the scores of padded tokens."""
    batch, length, hidden = x.shape
    size = hidden // heads

    def split(part: str) -> np.ndarray:
        return _linear(x, w, f"{name}.{part}").reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

    scores = split("query") @ split("key").transpose(0, 1, 3, 2) / math.sqrt(size) + padding
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    context = (scores / scores.sum(axis=-1, keepdims=True)) @ split("value")
    return context.transpose(0, 2, 1, 3).reshape(batch, length, hidden)


def _linear(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]


def _layer_norm(x: np.ndarray, w: dict[str, np.ndarray], name: str, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * w[f"{name}.weight"] + w[f"{name}.bias"]


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x·Φ(x), with erf from Abramowitz & Stegun 7.1.26 (error under 1.5e-7)."""
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    return 0.5 * x * (1.0 + erf)
