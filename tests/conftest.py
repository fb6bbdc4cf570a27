"""Shared fixtures: one real MiniLM model and one embedding cache per session, temp folders per test.

Loading the model takes seconds and embedding is slow on small machines, so every test that
embeds shares one :class:`Embedder` and one on-disk cache; corpora stay a handful of passages.
"""

from __future__ import annotations

import os

# A question is encoded as a few tiny matrix products, which several OpenBLAS threads only slow
# down: on a busy two-core machine a query took 0.9 s instead of 16 ms. Set before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import BuilderFactory, SettingsFactory

from index.builder import IndexBuilder
from index.embedding import Embedder
from index.settings import Settings


@pytest.fixture(autouse=True)
def _no_icrag_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's ICRAG_* variables from changing what tests build."""
    for name in list(os.environ):
        if name.startswith("ICRAG_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Embedding cache shared by the session, so a text is embedded once however many tests use it."""
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def embedder(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The bundled MiniLM, loaded once for the whole session."""
    scratch = tmp_path_factory.mktemp("embedder")
    settings = Settings(index_dir=scratch / "index", data_dir=scratch, cache_dir=cache_dir, show_progress=False)
    model = Embedder(settings)
    assert model.dimension == 384
    return model


@pytest.fixture
def make_settings(tmp_path: Path, cache_dir: Path) -> SettingsFactory:
    """Settings pointing at this test's temp folders; keyword arguments override any field."""

    def factory(**overrides: object) -> Settings:
        values: dict[str, Any] = {
            "index_dir": tmp_path / "index",
            "data_dir": tmp_path / "data",
            "cache_dir": cache_dir,
            "show_progress": False,
        }
        values.update(overrides)
        return Settings(**values)

    return factory


@pytest.fixture
def make_builder(embedder: Embedder) -> BuilderFactory:
    """An IndexBuilder for some settings that reuses the session's model."""
    return lambda settings: IndexBuilder(settings, embedder=embedder)


@pytest.fixture
def shared_model(monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> Iterator[None]:
    """Make the command line's embedder (it makes one per command) the session's loaded model."""
    monkeypatch.setattr("app.cli_common.Embedder", lambda settings: embedder)
    yield
