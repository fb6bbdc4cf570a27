"""What every page of the app shares: settings, the cached model and pipeline, and error display.

The app is a shell over the objects the command line uses: ``Settings()`` from the
environment, one :class:`Embedder` per model and one :class:`Pipeline` per index version, built
once per server process with ``st.cache_resource``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from pydantic import ValidationError

from app.ui_render import label_text
from eval.judge import make_judge
from eval.metrics import SupportJudge
from index.embedding import Embedder
from index.errors import IcragError, os_error_message
from index.settings import Settings
from rag.pipeline import Pipeline

logger = logging.getLogger(__name__)

#: Settings that decide which model an Embedder loads and where it caches vectors.
_EMBEDDER_FIELDS = {"embedding_model", "normalize_embeddings", "embedding_batch_size", "cache_dir"}


def settings_from_env() -> Settings:
    """The settings of this server, read from ``ICRAG_*`` variables like the command line does."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        st.error(label_text(f"Invalid setting {where}: {first['msg']}. Fix ICRAG_{where.upper()} and restart."))
        st.stop()


def error_message(exc: BaseException) -> str:
    """One line for a failure: icrag's own errors say what to fix; others name their type."""
    if isinstance(exc, IcragError):
        return str(exc)
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "input"
        return f"invalid {where}: {first['msg']}"
    if isinstance(exc, OSError):
        return os_error_message(exc)
    return f"Unexpected error ({type(exc).__name__}: {exc}). Details are in the server log."


@contextmanager
def shown_errors() -> Iterator[None]:
    """Show a failure inside the block as one ``st.error`` line and carry on rendering the page."""
    try:
        yield
    except Exception as exc:  # any failure becomes a message, never a traceback on screen
        if not isinstance(exc, IcragError | ValidationError):
            logger.exception("app error")
        st.error(label_text(error_message(exc)))


@st.cache_resource(show_spinner="Loading the embedding model…")
def _embedder(key: str, _settings: Settings) -> Embedder:
    """One Embedder (and model load) per model and cache folder, shared by every session."""
    return Embedder(_settings)


def embedder(settings: Settings) -> Embedder:
    """The shared Embedder for these settings."""
    return _embedder(settings.model_dump_json(include=_EMBEDDER_FIELDS), settings)


@st.cache_resource(show_spinner="Loading the evidence index…", max_entries=1)
def _pipeline(key: str, version: str, _settings: Settings) -> Pipeline:
    """The pipeline over one version of the index; a new version evicts the old one."""
    return Pipeline.load(_settings, embedder(_settings))


def pipeline(settings: Settings) -> Pipeline:
    """The pipeline over the current index, loaded once per index version.

    The manifest's modification time is part of the cache key, so an index changed by
    ``icrag index add`` in another process is picked up on the next rerun.
    """
    try:
        version = str((settings.index_dir / "manifest.json").stat().st_mtime_ns)
    except OSError:  # no index yet, or a writer is swapping a new version in right now
        version = "missing"
    return _pipeline(settings.model_dump_json(), version, settings)


def require_pipeline(settings: Settings) -> Pipeline:
    """The pipeline, or an error message naming the fix and the end of this page run."""
    try:
        return pipeline(settings)
    except IcragError as exc:
        st.error(label_text(str(exc)))
        st.stop()


@st.cache_resource(show_spinner="Preparing the pipeline with these settings…", max_entries=4)
def _configured(key: str, _base: Pipeline, _settings: Settings) -> Pipeline:
    """A pipeline with other retrieval or answer settings over a loaded pipeline's index and model."""
    return Pipeline.from_store(_base.store, _settings, _base.embedder)


def configured_pipeline(base: Pipeline, settings: Settings) -> Pipeline:
    """The pipeline for settings that differ from the base's only in retrieval or answering, index not reloaded.

    The key holds the loaded index's identity: a cached pipeline keeps its index alive, so the
    identity cannot be reused by another index while the entry exists.
    """
    if settings == base.settings:
        return base
    return _configured(f"{id(base.store)}:{settings.model_dump_json()}", base, settings)


@st.cache_resource(show_spinner=False)
def _judge(key: str, _settings: Settings) -> SupportJudge:
    """One judge per settings, shared by every session, so a chat model's verdict cache outlives a rerun."""
    return make_judge(_settings, embedder(_settings))


def require_judge(settings: Settings) -> SupportJudge:
    """The support judge the settings name, or an error message naming the fix and the end of this page run."""
    try:
        return _judge(settings.model_dump_json(), settings)
    except IcragError as exc:
        st.error(label_text(str(exc)))
        st.stop()


def forget_pipeline() -> None:
    """Drop the cached pipeline after the index changed, so the next page run loads the new one."""
    _pipeline.clear()


def init_state(**defaults: object) -> None:
    """Set session-state defaults once per session (an init guard for each key)."""
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value
