"""The question-answering pipeline: one object the CLI, the app and the evaluator share."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Protocol

from index.backend import SearchBackend
from index.embedding import Embedder
from index.settings import Settings
from index.store import IndexStore
from rag.extractive import ExtractiveAnswerer
from rag.lexical import BM25Index, lexical_text
from rag.models import Answer, Considered, RetrievedPassage
from rag.parts import joined
from rag.pool import candidate_pool
from rag.query import MAX_QUESTION_CHARS, Query, QueryReader, Vocabulary, clean_question
from rag.retrieval import CandidateRetriever, HybridRetriever

__all__ = ["MAX_QUESTION_CHARS", "Answerer", "Pipeline", "clean_question"]


class Answerer(Protocol):
    """Writes a cited answer to a query from its candidate pool: the extractive answerer or an LLM's."""

    def answer(self, query: Query, hits: list[RetrievedPassage]) -> Answer:
        """A cited answer, or an abstention listing related evidence."""
        ...


class Pipeline:
    """Loads an index once, then reads, retrieves and answers many questions (thread-safe reads)."""

    def __init__(
        self, store: IndexStore, settings: Settings, embedder: Embedder, backend: SearchBackend | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.embedder = embedder
        self.backend = backend
        self.bm25 = BM25Index([lexical_text(p) for p in store.passages])
        # Without a backend every passage is scored (the embedded FAISS index); with one, its candidates.
        self.retriever = (
            HybridRetriever(store, embedder, settings, self.bm25)
            if backend is None
            else CandidateRetriever(store, embedder, settings, self.bm25, backend)
        )
        self.vocabulary = Vocabulary([p.text for p in store.passages], self.bm25.tokenizer, self.bm25.abbreviations)
        # The retriever's matcher: a question names the publications its passages are boosted for.
        self.reader = QueryReader(store.passages, embedder, self.vocabulary, self.retriever.sources)
        self.extractive = ExtractiveAnswerer(store, settings, self.vocabulary, self.reader.vector)
        self.answerer: Answerer = self.extractive
        if settings.answerer != "extractive":
            from rag.llm import LLMAnswerer

            self.answerer = LLMAnswerer.from_settings(settings, store, embedder)

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder) -> Pipeline:
        """Load the index named by the settings and warm the embedding model.

        With ``backend=pgvector`` the index comes from PostgreSQL (psycopg is imported only then)
        and retrieval asks the database for candidates.
        """
        if settings.backend == "pgvector":
            from index.pgvector_store import PgVectorStore

            store, backend = PgVectorStore.from_settings(settings).open(settings)
            return cls.from_store(store, settings, embedder, backend)
        return cls.from_store(IndexStore.load(settings.index_dir, settings), settings, embedder)

    @classmethod
    def from_store(
        cls, store: IndexStore, settings: Settings, embedder: Embedder, backend: SearchBackend | None = None
    ) -> Pipeline:
        """A pipeline over an index already in memory (benchmarks, tests), searching a backend when given."""
        pipeline = cls(store, settings, embedder, backend)
        pipeline.embedder.embed_query("warm up")
        return pipeline

    def close(self) -> None:
        """Release the backend's connections (nothing to do for the embedded index)."""
        if self.backend is not None:
            self.backend.close()

    def query(self, question: str | Query) -> Query:
        """The question read once: cleaned, embedded, tokenised, its intent and sides found."""
        return question if isinstance(question, Query) else self.reader.read(question)

    def retrieve(
        self, question: str | Query, top_k: int | None = None, filters: Mapping[str, str] | None = None
    ) -> list[RetrievedPassage]:
        """The passages most relevant to a question, best first."""
        query = self.query(question)
        return self.retriever.retrieve_with_query(query.text, query.vector, top_k or self.settings.top_k, filters)

    def pool(self, question: str | Query, filters: Mapping[str, str] | None = None) -> list[RetrievedPassage]:
        """The candidate pool of a question: the passages its answer may draw on, best first."""
        query = self.query(question)
        scores = self.retriever.fused(query.text, query.vector, filters)
        return candidate_pool(query, scores, self.settings.top_k) if scores is not None else []

    def ask(self, question: str | Query, top_k: int | None = None, filters: Mapping[str, str] | None = None) -> Answer:
        """A cited answer to a question, or an abstention listing related evidence."""
        started = time.perf_counter()
        settings = self.settings if top_k is None else self.settings.model_copy(update={"top_k": top_k})
        query = self.query(question)
        read = time.perf_counter()
        scores = self.retriever.fused(query.text, query.vector, filters)
        hits = candidate_pool(query, scores, settings.top_k) if scores is not None else []
        retrieved = time.perf_counter()
        # An LLM reads the top_k best passages; the extractive answerer weighs the whole pool.
        answer = self.answerer.answer(query, hits if self.answerer is self.extractive else hits[: settings.top_k])
        if answer.abstained and query.parts and self.answerer is self.extractive:
            answer = self.by_parts(query, filters) or answer
        done = time.perf_counter()
        answer.intent = answer.intent or query.intent
        answer.considered = [Considered(passage_id=h.passage.passage_id, source_id=h.passage.source_id) for h in hits]
        answer.timings_ms = {
            "embed": round((read - started) * 1000, 2),
            "retrieve": round((retrieved - read) * 1000, 2),
            "answer": round((done - retrieved) * 1000, 2),
            "total": round((done - started) * 1000, 2),
        }
        return answer

    def by_parts(self, query: Query, filters: Mapping[str, str] | None = None) -> Answer | None:
        """A question asking several things, answered part by part (rag.parts); None when its first part is not
        answered: the first says what the question is about, and the others lean on it ("How many ICB chief
        executives have left since 2022, and what is driving the churn?")."""
        answered: list[tuple[str, Answer]] = []
        missing: list[str] = []
        for part in query.parts:
            asked = self.query(part.question)
            answer = self.extractive.answer(asked, self.pool(asked, filters))
            if answer.abstained and not answered:
                return None
            if answer.abstained:
                missing.append(part.asked)
            else:
                answered.append((part.asked, answer))
        return joined(query, answered, missing, self.store)
