"""LangChain at the edge: icrag's pipeline as a retriever and as an LCEL runnable.

The core never depends on LangChain's abstractions; these adapters let LangChain code
compose icrag's retrieval and checked answers like any other retriever or chain.
"""

from __future__ import annotations

from collections.abc import Mapping

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from rag.models import Answer, RetrievedPassage
from rag.pipeline import Pipeline


def to_document(hit: RetrievedPassage) -> Document:
    """A LangChain document of a retrieved passage: its text, with its citation metadata."""
    passage = hit.passage
    source = passage.source
    return Document(
        id=passage.passage_id,
        page_content=passage.text,
        metadata={
            "passage_id": passage.passage_id,
            "source_id": passage.source_id,
            "title": source.title,
            "authors": source.authors,
            "year": source.year,
            "doi": source.doi,
            "section": passage.section,
            "page": passage.page,
            "score": hit.score,
        },
    )


class PipelineRetriever(BaseRetriever):
    """A LangChain retriever over :meth:`Pipeline.retrieve` (hybrid search, filters, top k)."""

    pipeline: Pipeline
    top_k: int | None = None
    filters: dict[str, str] | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [to_document(hit) for hit in self.pipeline.retrieve(query, self.top_k, self.filters)]


def answer_chain(
    pipeline: Pipeline, top_k: int | None = None, filters: Mapping[str, str] | None = None
) -> Runnable[str, Answer]:
    """The question-to-answer chain: ``invoke`` and ``batch`` return :class:`Answer` records."""

    def ask(question: str) -> Answer:
        return pipeline.ask(question, top_k, filters)

    return RunnableLambda(ask, name="icrag_answer")
