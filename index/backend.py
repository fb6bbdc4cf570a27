"""Storage backends for candidate generation: where retrieval finds the passages worth fusing.

Fusion and answering live in rag/ and stay the same whatever the backend; a backend only
proposes *candidates*, passage positions of the loaded store with the similarity that found
them, from up to three channels:

- ``passage``: nearest passage vectors to the question vector;
- ``unit``: nearest sentence and word-window vectors (each reported as its passage);
- ``lexical``: best full-text matches of the question's words.

Two backends implement :class:`SearchBackend`. :class:`FaissBackend` works over the embedded
:class:`~index.store.IndexStore` (exhaustive scans on one machine); the default retrieval path
does not ask it for candidates at all but scores every passage, as it always has.
:class:`index.pgvector_store.PgVectorBackend` asks PostgreSQL (HNSW and a tsvector GIN index),
so the scan that grows with the corpus happens in the database, on as many replicas as needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, Protocol

import numpy as np
from pydantic import Field

from index.models import Record
from index.store import IndexStore

Channel = Literal["passage", "unit", "lexical"]


class Candidates(Record):
    """Passages one channel of a backend proposes for a question, best first."""

    channel: Channel = Field(description="What found them: passage vectors, unit vectors or full-text search.")
    positions: list[int] = Field(description="Passage positions in the loaded store, each once, best first.")
    scores: list[float] = Field(description="The channel's score of each (similarity, or text rank), same order.")


class PassageScorer(Protocol):
    """A lexical scorer of every passage, e.g. rag.lexical.BM25Index (index/ cannot import rag/)."""

    def scores(self, query: str) -> np.ndarray:
        """One score per passage, in store order; 0 where no word matches."""
        ...


class SearchBackend(Protocol):
    """Where retrieval gets candidate passages; fusion over them stays in rag.retrieval."""

    name: str

    def dense_candidates(self, query: np.ndarray, k: int, allowed: Sequence[int] | None = None) -> list[Candidates]:
        """Nearest passages and the passages of the nearest units to a question vector (about k of each).

        ``allowed``: passage positions the question's filters allow (None: all).
        """
        ...

    def lexical_candidates(self, text: str, k: int, allowed: Sequence[int] | None = None) -> Candidates:
        """The k passages whose words match the question best."""
        ...

    def close(self) -> None:
        """Release connections; the backend is not used afterwards."""
        ...


class FaissBackend:
    """Candidates from the embedded index: FAISS over passages, exhaustive scans over units and BM25."""

    name = "faiss"

    def __init__(self, store: IndexStore, lexical: PassageScorer | None = None) -> None:
        self.store = store
        self.lexical = lexical

    def dense_candidates(self, query: np.ndarray, k: int, allowed: Sequence[int] | None = None) -> list[Candidates]:
        """FAISS's nearest passages and the owners of the nearest units (exact inner products)."""
        store = self.store
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        mask = _mask(len(store.passages), allowed)
        if mask is None:
            scores, ids = store.search(query, k)
            passage = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        else:
            sims = store.vectors @ query
            passage = [(int(i), float(sims[i])) for i in top_positions(sims, k, mask)]
        unit_sims = store.unit_vectors @ query if len(store.unit_vectors) else np.zeros(0, np.float32)
        owners = store.units.owner
        unit_mask = None if mask is None else mask[owners]
        units = [(int(owners[row]), float(unit_sims[row])) for row in top_positions(unit_sims, 2 * k, unit_mask)]
        return [candidates_of("passage", passage), candidates_of("unit", units)]

    def lexical_candidates(self, text: str, k: int, allowed: Sequence[int] | None = None) -> Candidates:
        """The k best passages by the lexical scorer (those scoring 0 are left out)."""
        if self.lexical is None:
            return Candidates(channel="lexical", positions=[], scores=[])
        scores = np.asarray(self.lexical.scores(text), dtype=np.float32)
        mask = _mask(len(self.store.passages), allowed)
        positive = scores > 0 if mask is None else mask & (scores > 0)
        return candidates_of("lexical", [(int(i), float(scores[i])) for i in top_positions(scores, k, positive)])

    def close(self) -> None:
        """Nothing to release: the store stays in memory."""


def _mask(n: int, allowed: Sequence[int] | None) -> np.ndarray | None:
    if allowed is None:
        return None
    mask = np.zeros(n, dtype=bool)
    mask[np.asarray(allowed, dtype=np.int64)] = True
    return mask


def top_positions(scores: np.ndarray, k: int, mask: np.ndarray | None) -> np.ndarray:
    """Positions of the k highest scores among allowed ones, best first (ties by position)."""
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.lexsort((part, -scores[part]))]


def candidates_of(channel: Channel, pairs: Iterable[Sequence[Any]]) -> Candidates:
    """Candidates from (position, score) pairs best first, keeping each passage's first (best) score."""
    best: dict[int, float] = {}
    for position, score in pairs:
        best.setdefault(int(position), float(score))
    return Candidates(channel=channel, positions=list(best), scores=list(best.values()))
