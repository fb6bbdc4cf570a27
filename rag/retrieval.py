"""Retrievers over an index: dense (FAISS), lexical (BM25) and their fusion.

Every retriever has one verb, ``retrieve(question, k, filters)``, and returns
:class:`RetrievedPassage` records ranked best first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from index.backend import SearchBackend, top_positions
from index.embedding import Embedder
from index.errors import InputError
from index.models import Passage
from index.settings import Settings
from index.store import IndexStore
from index.units import SENTENCE, WINDOW
from rag.lexical import BM25Index, word_windows
from rag.models import RetrievedPassage
from rag.query import SourceMatcher

logger = logging.getLogger(__name__)

#: BM25 window size and stride, in words: short windows reward question words occurring together.
WINDOW_WORDS, WINDOW_STRIDE = 32, 16

#: Seed of the fixed sample a candidate retriever measures dense statistics on (any fixed value).
SAMPLE_SEED = 0

#: Keys accepted by ``--filter KEY=VALUE`` and the app's filters.
FILTER_KEYS = ("source_id", "doc_id", "component", "kind", "year", "section")


def filter_value(passage: Passage, key: str) -> str:
    """The value a passage has for a filter key."""
    if key == "component":
        return passage.record.component if passage.record else ""
    if key == "year":
        return passage.source.year
    return str(getattr(passage, key))


def filter_mask(passages: list[Passage], filters: Mapping[str, str] | None) -> np.ndarray | None:
    """Boolean mask of passages matching every filter (case-insensitive); None when unfiltered."""
    if not filters:
        return None
    unknown = [key for key in filters if key not in FILTER_KEYS]
    if unknown:
        raise InputError(f"--filter {unknown[0]}", f"unknown filter key (use one of: {', '.join(FILTER_KEYS)})")
    mask = np.ones(len(passages), dtype=bool)
    for key, value in filters.items():
        wanted = value.strip().lower()
        mask &= np.array([filter_value(p, key).lower() == wanted for p in passages], dtype=bool)
    return mask


def _zscore(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def _standardise(values: np.ndarray, population: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``values`` z-normalised by the (weighted) mean and standard deviation of a population's values."""
    population = population.astype(np.float64)
    mean = float(np.average(population, weights=weights))
    std = float(np.sqrt(np.average((population - mean) ** 2, weights=weights)))
    return (values - mean) / std if std > 1e-9 else np.zeros(len(values))


class DenseRetriever:
    """Plain dense retrieval: the FAISS index of passage vectors, nothing else."""

    def __init__(self, store: IndexStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(self, question: str, k: int, filters: Mapping[str, str] | None = None) -> list[RetrievedPassage]:
        """Top k passages by cosine similarity of passage and question vectors."""
        query = self.embedder.embed_query(question)
        mask = filter_mask(self.store.passages, filters)
        if mask is None:
            scores, ids = self.store.search(query, k)
            pairs = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        else:
            sims = self.store.vectors @ query
            pairs = [(int(i), float(sims[i])) for i in top_positions(sims, k, mask)]
        return [
            RetrievedPassage(passage=self.store.passages[i], score=s, rank=r, dense_score=s)
            for r, (i, s) in enumerate(pairs, start=1)
        ]


class LexicalRetriever:
    """BM25 over stemmed passage words."""

    def __init__(self, store: IndexStore, bm25: BM25Index) -> None:
        self.store = store
        self.bm25 = bm25

    def retrieve(self, question: str, k: int, filters: Mapping[str, str] | None = None) -> list[RetrievedPassage]:
        """Top k passages by BM25 score (passages with no matching word are left out)."""
        scores = self.bm25.scores(question)
        mask = filter_mask(self.store.passages, filters)
        positive = scores > 0 if mask is None else mask & (scores > 0)
        return [
            RetrievedPassage(
                passage=self.store.passages[i], score=float(scores[i]), rank=r, lexical_score=float(scores[i])
            )
            for r, i in enumerate(top_positions(scores, k, positive), start=1)
        ]


class HybridRetriever:
    """icrag's default: BM25 and sentence- and window-level dense scores, fused.

    Per question every allowed passage gets four signals, each z-normalised over the passages:
    BM25 over the passage (with its publication's authors, year and title); BM25 over its
    32-word windows (max), which rewards the question's words occurring close together; the
    best cosine similarity between the question and one of its sentences; and the best one
    over its 64-word windows. One on-topic sentence is not diluted by the rest of a long
    passage, and the lexical signals keep names, numbers and rare terms that MiniLM blurs.
    Passages of a publication the question names get ``source_boost``; ``max_per_source``
    (when set) limits how many passages of one publication are returned.
    """

    def __init__(self, store: IndexStore, embedder: Embedder, settings: Settings, bm25: BM25Index) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.bm25 = bm25
        windows = [word_windows(p.text, WINDOW_WORDS, WINDOW_STRIDE) for p in store.passages]
        self.window_bm25 = BM25Index(
            [w for group in windows for w in group], k1=0.9, b=1.0, abbreviations=bm25.abbreviations
        )
        self._window_owner = np.repeat(np.arange(len(windows)), [len(group) for group in windows])
        self.sources = SourceMatcher(list(store.manifest.sources.values()) or [p.source for p in store.passages])
        self._source_ids = np.array([p.source_id for p in store.passages])
        self._sentence_rows = np.flatnonzero(store.units.kind == SENTENCE)
        self._window_rows = np.flatnonzero(store.units.kind == WINDOW)

    def dense_scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per passage: best cosine similarity to one of its sentences, and to one of its windows.

        A passage without sentence units or windows (it is shorter than a window) counts as
        its own unit.
        """
        passage_sims = self.store.vectors @ query
        unit_sims = self.store.unit_vectors @ query if len(self.store.unit_vectors) else np.zeros(0, np.float32)
        owners = self.store.units.owner
        best_sentence = _max_per_owner(unit_sims[self._sentence_rows], owners[self._sentence_rows], passage_sims)
        best_window = _max_per_owner(unit_sims[self._window_rows], owners[self._window_rows], passage_sims)
        return best_sentence, best_window

    def window_scores(self, question: str) -> np.ndarray:
        """Per passage: the best BM25 score of one of its word windows."""
        return _max_per_owner(self.window_bm25.scores(question), self._window_owner, np.zeros(len(self.store.passages)))

    def retrieve(self, question: str, k: int, filters: Mapping[str, str] | None = None) -> list[RetrievedPassage]:
        """Top k passages by fused score."""
        return self.retrieve_with_query(question, self.embedder.embed_query(question), k, filters)

    def retrieve_with_query(
        self, question: str, query: np.ndarray, k: int, filters: Mapping[str, str] | None = None
    ) -> list[RetrievedPassage]:
        """:meth:`retrieve` for a question whose vector is already known."""
        scores = self.fused(question, query, filters)
        if scores is None:
            return []
        passages = self.store.passages
        chosen: list[int] = []
        per_source: dict[str, int] = {}
        for position in scores.order.tolist():
            source = passages[position].source_id
            if self.settings.max_per_source and per_source.get(source, 0) >= self.settings.max_per_source:
                continue
            per_source[source] = per_source.get(source, 0) + 1
            chosen.append(position)
            if len(chosen) == k:
                break
        return scores.hits(chosen)

    def fused(self, question: str, query: np.ndarray, filters: Mapping[str, str] | None = None) -> FusedScores | None:
        """Fused scores of every passage the filters allow (None when they allow none)."""
        passages = self.store.passages
        mask = filter_mask(passages, filters)
        allowed = np.arange(len(passages)) if mask is None else np.flatnonzero(mask)
        if not len(allowed):
            return None
        dense, dense_window = self.dense_scores(query)
        lexical = self.bm25.scores(question)
        settings = self.settings
        fused = (
            settings.dense_weight * _zscore(dense[allowed])
            + settings.dense_window_weight * _zscore(dense_window[allowed])
            + settings.lexical_weight * _zscore(lexical[allowed])
            + settings.window_weight * _zscore(self.window_scores(question)[allowed])
        )
        return self._ranking(question, allowed, fused, dense, lexical)

    def _ranking(
        self, question: str, positions: np.ndarray, fused: np.ndarray, dense: np.ndarray, lexical: np.ndarray
    ) -> FusedScores:
        """The ranking of the scored passages, after the boost for publications the question names."""
        named = self.sources.match(question)
        if named:
            fused = fused + self.settings.source_boost * np.isin(self._source_ids[positions], list(named))
        full = np.full(len(self.store.passages), -np.inf)
        full[positions] = fused
        return FusedScores(self.store, positions[np.lexsort((positions, -fused))], full, dense, lexical)


class CandidateRetriever(HybridRetriever):
    """:class:`HybridRetriever`'s fusion, ranking only the candidates a storage backend proposes.

    The backend (PostgreSQL + pgvector) finds the nearest passages, the passages of the nearest
    sentences and windows, and the best full-text matches; passages of a publication the question
    names join them, as the source boost would lift them. Each candidate's four signals are then
    computed exactly as the exhaustive path computes them (its units' vectors against the question,
    BM25 with the whole index's statistics).

    Each signal is z-normalised as the exhaustive path does it, by its mean and spread over every
    allowed passage, not over the candidates alone (they are the top of each signal; their own
    spread would change how the signals weigh against each other, and with it answers). BM25
    scores every passage in memory anyway, so its statistics are exact; the dense ones come from
    the candidates plus a fixed sample of the other passages, weighted up to their number (exact
    when the sample holds them all). The scan that grows with the corpus stays in the database.
    """

    def __init__(
        self, store: IndexStore, embedder: Embedder, settings: Settings, bm25: BM25Index, backend: SearchBackend
    ) -> None:
        super().__init__(store, embedder, settings, bm25)
        self.backend = backend
        #: Unit rows of passage i are ``_unit_start[i]:_unit_start[i + 1]`` (units are stored in passage order).
        self._unit_start = np.searchsorted(store.units.owner, np.arange(len(store.passages) + 1))
        #: A fixed shuffle of the passages: the dense statistics' sample is its first non-candidates.
        self._shuffled = np.random.default_rng(SAMPLE_SEED).permutation(len(store.passages))

    def candidates(self, question: str, query: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
        """Sorted positions of the passages the backend proposes (among the allowed ones, when filtered)."""
        k = self.settings.pg_candidates
        allowed_list = None if allowed is None else allowed.tolist()
        found = [*self.backend.dense_candidates(query, k, allowed_list)]
        found.append(self.backend.lexical_candidates(question, k, allowed_list))
        positions = {p for candidates in found for p in candidates.positions}
        named = self.sources.match(question)
        if named:
            positions.update(np.flatnonzero(np.isin(self._source_ids, list(named))).tolist())
        chosen = np.array(sorted(positions), dtype=np.int64)
        if allowed is not None:
            chosen = chosen[np.isin(chosen, allowed)]
        return chosen

    def sample(self, excluded: np.ndarray, allowed: np.ndarray | None, size: int) -> np.ndarray:
        """Up to ``size`` allowed passages outside ``excluded``, the same ones for every question with the same sets."""
        keep = ~np.isin(self._shuffled, excluded)
        if allowed is not None:
            keep &= np.isin(self._shuffled, allowed)
        return self._shuffled[keep][:size]

    def candidate_dense_scores(self, query: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`HybridRetriever.dense_scores` of some passages only (zero elsewhere), from their units' vectors."""
        store = self.store
        passage_sims = np.zeros(len(store.passages), dtype=np.float32)
        passage_sims[positions] = store.vectors[positions] @ query
        starts, ends = self._unit_start[positions], self._unit_start[positions + 1]
        lengths = ends - starts
        offsets = np.cumsum(lengths) - lengths
        rows = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - offsets, lengths)
        unit_sims = store.unit_vectors[rows] @ query if len(rows) else np.zeros(0, np.float32)
        owners, kinds = store.units.owner[rows], store.units.kind[rows]
        sentence, window = kinds == SENTENCE, kinds == WINDOW
        best_sentence = _max_per_owner(unit_sims[sentence], owners[sentence], passage_sims)
        best_window = _max_per_owner(unit_sims[window], owners[window], passage_sims)
        return best_sentence, best_window

    def fused(self, question: str, query: np.ndarray, filters: Mapping[str, str] | None = None) -> FusedScores | None:
        """Fused scores of the candidates the filters allow (None when there are none)."""
        passages = self.store.passages
        mask = filter_mask(passages, filters)
        allowed = None if mask is None else np.flatnonzero(mask)
        if allowed is not None and not len(allowed):
            return None
        positions = self.candidates(question, query, allowed)
        if not len(positions):
            return None
        n_allowed = len(passages) if allowed is None else len(allowed)
        sample = self.sample(positions, allowed, self.settings.pg_candidates)
        measured = np.concatenate([positions, sample])
        # Each sampled passage stands for (other passages / sample size) of them in the dense statistics.
        weights = np.ones(len(measured))
        weights[len(positions) :] = (n_allowed - len(positions)) / max(1, len(sample))
        dense, dense_window = self.candidate_dense_scores(np.asarray(query, dtype=np.float32), np.sort(measured))
        lexical = self.bm25.scores(question)
        window = self.window_scores(question)
        everyone = np.arange(len(passages)) if allowed is None else allowed
        settings = self.settings
        fused = (
            settings.dense_weight * _standardise(dense[positions], dense[measured], weights)
            + settings.dense_window_weight * _standardise(dense_window[positions], dense_window[measured], weights)
            + settings.lexical_weight * _standardise(lexical[positions], lexical[everyone])
            + settings.window_weight * _standardise(window[positions], window[everyone])
        )
        return self._ranking(question, positions, fused, dense, lexical)


class FusedScores:
    """The fused ranking of one question: allowed passage positions best first, and their scores."""

    def __init__(
        self, store: IndexStore, order: np.ndarray, fused: np.ndarray, dense: np.ndarray, lexical: np.ndarray
    ) -> None:
        self.store = store
        self.order = order
        self.fused = fused
        self.dense = dense
        self.lexical = lexical

    def hits(self, positions: list[int]) -> list[RetrievedPassage]:
        """The passages at these positions as ranked hits, in the order given."""
        return [
            RetrievedPassage(
                passage=self.store.passages[i],
                score=float(self.fused[i]),
                rank=rank,
                dense_score=float(self.dense[i]),
                lexical_score=float(self.lexical[i]),
            )
            for rank, i in enumerate(positions, start=1)
        ]


def _max_per_owner(values: np.ndarray, owners: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Per passage, the largest of its values (``owners`` sorted); ``fallback`` where it has none."""
    out = np.asarray(fallback, dtype=np.float32).copy()
    if len(values):
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        out[owners[starts]] = np.maximum.reduceat(values, starts)
    return out
