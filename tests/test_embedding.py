"""The embedder: cached passage vectors and the light query encoder agree with sentence-transformers."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from helpers import SettingsFactory

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


def test_queries_stay_on_the_light_encoder_once_pytorch_is_loaded(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that embedded passages (PyTorch loaded) still encodes queries in NumPy, the faster path."""
    reference = embedder.encode(QUESTIONS[:1])[0]
    assert embedder._model is not None

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("query encoded with sentence-transformers")

    monkeypatch.setattr(embedder, "encode", refuse)
    np.testing.assert_allclose(embedder.embed_query(QUESTIONS[0]), reference, atol=1e-5)


def copy_of_bundled_model(folder: Path) -> Path:
    """The bundled model's folder, its weights linked rather than copied."""
    source = Path(resolve_model_path(BUNDLED_MODEL))
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("model.safetensors", "*.bin", "onnx", "openvino"))
    (folder / "model.safetensors").symlink_to(source / "model.safetensors")
    return folder


def edit_json(path: Path, **changes: object) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), **changes}), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda f: edit_json(f / "1_Pooling" / "config.json", pooling_mode_mean_tokens=False), "not mean pooling"),
        (lambda f: edit_json(f / "1_Pooling" / "config.json", pooling_mode_cls_token=True), "CLS pooling too"),
        (lambda f: edit_json(f / "config.json", model_type="mpnet"), "not a BERT encoder"),
        (lambda f: edit_json(f / "config.json", hidden_act="relu"), "another activation"),
        (lambda f: (f / "tokenizer.json").unlink(), "no fast tokenizer"),
        (lambda f: (f / "model.safetensors").unlink(), "no safetensors weights"),
        (lambda f: (f / "modules.json").unlink(), "not a sentence-transformers folder"),
    ],
)
def test_query_encoder_declines_models_it_would_not_reproduce(
    tmp_path: Path, change: Callable[[Path], None], why: str
) -> None:
    folder = copy_of_bundled_model(tmp_path / "model")
    assert MeanPoolingEncoder.for_model(str(folder), normalize=True) is not None
    change(folder)
    assert MeanPoolingEncoder.for_model(str(folder), normalize=True) is None, why


def test_weights_the_light_encoder_cannot_read_fall_back_to_sentence_transformers(
    tmp_path: Path, embedder: Embedder, make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """bfloat16 weights have no NumPy type: the first query falls back, with one warning, and still embeds."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    folder = copy_of_bundled_model(tmp_path / "model")
    weights = load_file(str(folder / "model.safetensors"))
    (folder / "model.safetensors").unlink()
    save_file({name: value.to(torch.bfloat16) for name, value in weights.items()}, str(folder / "model.safetensors"))
    assert MeanPoolingEncoder.for_model(str(folder), normalize=True) is not None

    light = Embedder(make_settings(embedding_model=str(folder)))
    assert embedder.query_encoder() == "numpy"
    with caplog.at_level(logging.WARNING, logger="index.embedding"):
        vector = light.embed_query(QUESTIONS[1])
        light.embed_query(QUESTIONS[0])
    assert caplog.text.count("light query encoder failed") == 1
    assert light.query_encoder().startswith("sentence-transformers (fallback: ")
    assert light.fallback_reason in caplog.text
    np.testing.assert_allclose(vector, embedder.encode(QUESTIONS[1:2])[0], atol=2e-2)


def test_cached_vectors_equal_fresh_encoding(embedder: Embedder) -> None:
    texts = ["Leaders inspire intent to work together.", "Power is shared across organisations."]
    cached = embedder.embed(texts)
    again = embedder.embed(list(reversed(texts)))
    np.testing.assert_allclose(cached, embedder.encode(texts), atol=1e-6)
    np.testing.assert_array_equal(again, cached[::-1])
