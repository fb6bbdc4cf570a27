"""The embedder: cached passage vectors and the light query encoder agree with sentence-transformers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from index.embedding import Embedder, resolve_model_path
from index.query_encoder import MeanPoolingEncoder
from index.settings import BUNDLED_MODEL

QUESTIONS = [
    "How many papers did Harris et al. (2022) include?",
    "What does 'working with power' mean for leaders of integrated care systems, and why does it matter?",
    "x",
]


def test_light_query_encoder_matches_sentence_transformers(embedder: Embedder) -> None:
    encoder = MeanPoolingEncoder.for_model(resolve_model_path(BUNDLED_MODEL), normalize=True)
    assert encoder is not None
    fast = encoder.encode(QUESTIONS)
    reference = embedder.encode(QUESTIONS)
    assert fast.shape == reference.shape == (3, 384)
    np.testing.assert_allclose(fast, reference, atol=1e-5)


def test_query_encoder_declines_models_that_do_not_mean_pool(tmp_path: Path) -> None:
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            ]
        )
    )
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    )
    assert MeanPoolingEncoder.for_model(str(tmp_path), normalize=True) is None
    assert MeanPoolingEncoder.for_model(str(tmp_path / "missing"), normalize=True) is None


def test_cached_vectors_equal_fresh_encoding(embedder: Embedder) -> None:
    texts = ["Leaders inspire intent to work together.", "Power is shared across organisations."]
    cached = embedder.embed(texts)
    again = embedder.embed(list(reversed(texts)))
    np.testing.assert_allclose(cached, embedder.encode(texts), atol=1e-6)
    np.testing.assert_array_equal(again, cached[::-1])
