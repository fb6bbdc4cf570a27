"""A light query encoder for mean-pooling sentence-transformers models.

Importing sentence-transformers takes seconds (it pulls in scikit-learn and more), which is
most of the time to a first answer in a fresh process. A question only needs the model's
transformer and mean pooling, so for models whose folder declares exactly that pipeline
(Transformer → mean Pooling → optional Normalize) queries are encoded with ``transformers``
directly. Passages are still embedded by sentence-transformers; a test checks that both give
the same vectors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

_PIPELINES = (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"])
_OTHER_POOLING = ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")


class MeanPoolingEncoder:
    """Encodes texts as the mean of the transformer's token vectors, like sentence-transformers."""

    def __init__(self, folder: Path, max_length: int, normalize: bool) -> None:
        self.folder = folder
        self.max_length = max_length
        self.normalize = normalize
        self._parts: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_model(cls, path: str, normalize: bool) -> MeanPoolingEncoder | None:
        """An encoder for a local model folder, or None when its pipeline is not plain mean pooling."""
        folder = Path(path)
        try:
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
            kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
            if kinds not in _PIPELINES or modules[0].get("path", "") != "":
                return None
            pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
            config_path = folder / "sentence_bert_config.json"
            config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return None
        if not pooling.get("pooling_mode_mean_tokens") or any(pooling.get(key) for key in _OTHER_POOLING):
            return None
        if config.get("do_lower_case"):
            return None
        return cls(folder, int(config.get("max_seq_length") or 512), normalize or len(kinds) == 3)

    def _load(self) -> tuple[Any, Any]:
        if self._parts is None:
            with self._lock:
                if self._parts is None:
                    from transformers import AutoModel, AutoTokenizer
                    from transformers.utils import logging as transformers_logging

                    transformers_logging.disable_progress_bar()
                    tokenizer = AutoTokenizer.from_pretrained(self.folder, local_files_only=True)
                    model = AutoModel.from_pretrained(self.folder, local_files_only=True).eval()
                    self._parts = (tokenizer, model)
        return self._parts

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """float32 vectors of shape (len(texts), dimension)."""
        import torch

        tokenizer, model = self._load()
        batch = tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        with torch.inference_mode():
            tokens = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            vectors = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            if self.normalize:
                vectors = torch.nn.functional.normalize(vectors, p=2, dim=1)
        return vectors.cpu().numpy().astype(np.float32)
