"""The question-answering pipeline: one object the CLI, the app and the evaluator share."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from index.embedding import Embedder
from index.errors import InputError
from index.settings import Settings
from index.store import IndexStore
from rag.extractive import ExtractiveAnswerer, Vocabulary
from rag.lexical import BM25Index, lexical_text
from rag.models import Answer, RetrievedPassage
from rag.retrieval import HybridRetriever

MAX_QUESTION_CHARS = 2_000
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_question(question: str) -> str:
    """A question fit to search with, or InputError for one that cannot be answered.

    Undecodable bytes (a command-line argument in another encoding arrives as lone
    surrogates, which the tokenizer rejects) become U+FFFD replacement characters.
    """
    text = " ".join(_SURROGATE.sub("\ufffd", question).split())
    if not any(ch.isalnum() for ch in text):
        raise InputError("question", "is empty or has no words; ask in plain language")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError("question", f"is {len(text)} characters long; keep it under {MAX_QUESTION_CHARS}")
    return text


class Pipeline:
    """Loads an index once, then retrieves and answers many questions (thread-safe reads)."""

    def __init__(self, store: IndexStore, settings: Settings, embedder: Embedder) -> None:
        self.store = store
        self.settings = settings
        self.embedder = embedder
        self.bm25 = BM25Index([lexical_text(p) for p in store.passages])
        self.retriever = HybridRetriever(store, embedder, settings, self.bm25)
        self.vocabulary = Vocabulary([p.text for p in store.passages], self.bm25.tokenizer)
        self.answerer = ExtractiveAnswerer(store, settings, self.vocabulary, self.retriever.sources)
        self._llm = None
        if settings.answerer != "extractive":
            from rag.llm import LLMAnswerer

            self._llm = LLMAnswerer.from_settings(settings, store, embedder)

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> Pipeline:
        """Load the index named by the settings and warm the embedding model."""
        store = IndexStore.load(settings.index_dir, settings)
        return cls.from_store(store, settings, embedder or Embedder(settings))

    @classmethod
    def from_store(cls, store: IndexStore, settings: Settings, embedder: Embedder) -> Pipeline:
        """A pipeline over an index already in memory (benchmarks, tests)."""
        pipeline = cls(store, settings, embedder)
        pipeline.embedder.embed_query("warm up")
        return pipeline

    def retrieve(
        self, question: str, top_k: int | None = None, filters: Mapping[str, str] | None = None
    ) -> list[RetrievedPassage]:
        """The passages most relevant to a question, best first."""
        return self.retriever.retrieve(clean_question(question), top_k or self.settings.top_k, filters)

    def ask(self, question: str, top_k: int | None = None, filters: Mapping[str, str] | None = None) -> Answer:
        """A cited answer to a question, or an abstention listing related evidence."""
        started = time.perf_counter()
        question = clean_question(question)
        query = self.embedder.embed_query(question)
        embedded = time.perf_counter()
        hits = self.retriever.retrieve_with_query(question, query, top_k or self.settings.top_k, filters)
        retrieved = time.perf_counter()
        if self._llm is not None:
            answer = self._llm.answer(question, hits)
        else:
            answer = self.answerer.answer(question, query, hits)
        done = time.perf_counter()
        answer.timings_ms = {
            "embed": round((embedded - started) * 1000, 2),
            "retrieve": round((retrieved - embedded) * 1000, 2),
            "answer": round((done - retrieved) * 1000, 2),
            "total": round((done - started) * 1000, 2),
        }
        return answer
