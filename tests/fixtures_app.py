"""Fixtures of the AppTest page tests: one tiny real index per module, a copy per test.

Loaded with ``pytest_plugins = ["fixtures_app"]``. The app builds ``Settings()`` from the
environment like the command line, so each test points ``ICRAG_*`` variables at its own copy of
the module's index; the session's model does all the embedding. The helpers that drive
the pages are in ``app_fixtures``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_fixtures import build_corpus_index

from index.embedding import Embedder
from index.settings import Settings


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, embedder: Embedder) -> Path:
    """The tiny evidence base and its index, built once per module; tests use copies."""
    root = tmp_path_factory.mktemp("app-corpus")
    build_corpus_index(root, cache_dir, embedder)
    return root


@pytest.fixture
def settings(
    corpus: Path, tmp_path: Path, cache_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """This test's copy of the index and data, named to the app through ICRAG_* variables."""
    root = tmp_path / "app"
    shutil.copytree(corpus, root)
    monkeypatch.setenv("ICRAG_INDEX_DIR", str(root / "index"))
    monkeypatch.setenv("ICRAG_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("ICRAG_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("ICRAG_SHOW_PROGRESS", "false")
    monkeypatch.setattr("app.ui_common.Embedder", lambda _settings: embedder)
    return Settings()
