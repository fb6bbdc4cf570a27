"""LangChain adapters: the retriever and the answer chain give what the pipeline gives."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import Runnable

from rag.chain import PipelineRetriever, answer_chain, to_document
from rag.models import Answer
from rag.pipeline import Pipeline

pytest_plugins = ["fixtures_llm"]  # session indexes shared with the other LLM/chain tests

NIGHT_SHIFTS = "How does night shift work affect nurses?"
UNANSWERABLE = "How much did the programme cost in 2019?"


def comparable(answer: Answer) -> dict[str, object]:
    """An answer without its timings, which differ from run to run."""
    return answer.model_dump(exclude={"timings_ms"})


def test_retriever_returns_the_pipeline_passages_as_documents(llm_pipeline: Pipeline) -> None:
    question = "How do leaders build a shared purpose?"
    hits = llm_pipeline.retrieve(question)
    documents = PipelineRetriever(pipeline=llm_pipeline).invoke(question)
    assert documents == [to_document(hit) for hit in hits]
    assert all(isinstance(d, Document) for d in documents)
    assert [d.page_content for d in documents] == [h.passage.text for h in hits]
    top = documents[0].metadata
    assert top["passage_id"] == hits[0].passage.passage_id == documents[0].id
    assert (top["source_id"], top["title"], top["authors"], top["year"], top["doi"]) == (
        "leadership",
        "Leading integrated care",
        "Smith J; Jones K",
        "2020",
        "10.1000/lead",
    )
    assert (top["section"], top["page"], top["score"]) == ("Shared purpose", None, hits[0].score)


def test_retriever_passes_top_k_and_filters_on(llm_pipeline: Pipeline) -> None:
    filters = {"source_id": "wellbeing"}
    retriever = PipelineRetriever(pipeline=llm_pipeline, top_k=1, filters=filters)
    documents = retriever.invoke(NIGHT_SHIFTS)
    assert documents == [to_document(hit) for hit in llm_pipeline.retrieve(NIGHT_SHIFTS, 1, filters)]
    assert [d.metadata["source_id"] for d in documents] == ["wellbeing"]


@pytest.mark.slow  # answers a batch of questions twice
def test_answer_chain_invokes_and_batches_like_pipeline_ask(llm_pipeline: Pipeline) -> None:
    chain = answer_chain(llm_pipeline)
    assert isinstance(chain, Runnable)
    answer = chain.invoke(NIGHT_SHIFTS)
    assert isinstance(answer, Answer) and not answer.abstained
    assert comparable(answer) == comparable(llm_pipeline.ask(NIGHT_SHIFTS))
    batch = chain.batch([NIGHT_SHIFTS, UNANSWERABLE])
    assert [comparable(a) for a in batch] == [comparable(llm_pipeline.ask(q)) for q in (NIGHT_SHIFTS, UNANSWERABLE)]
    assert batch[1].abstained
