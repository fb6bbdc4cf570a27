"""Records produced by retrieval and answering (the ``icrag ask --json`` contract)."""

from __future__ import annotations

from pydantic import Field

from index.models import Passage, Record


class RetrievedPassage(Record):
    """A passage with the scores that ranked it."""

    passage: Passage = Field(description="The retrieved passage.")
    score: float = Field(description="Fused relevance score (higher is better).")
    rank: int = Field(ge=1, description="1-based rank in the result list.")
    dense_score: float | None = Field(None, description="Dense similarity, if the dense retriever saw it.")
    lexical_score: float | None = Field(None, description="BM25 score, if the lexical retriever saw it.")


class Citation(Record):
    """A numbered reference from an answer sentence to an exact span of a passage."""

    n: int = Field(ge=1, description="Citation number as it appears in the answer, [n].")
    passage_id: str = Field(description="Cited passage.")
    source_id: str = Field(description="Publication of the passage.")
    title: str = Field("", description="Publication title.")
    authors: str = Field("", description="Publication authors.")
    year: str = Field("", description="Publication year.")
    doi: str = Field("", description="Publication DOI.")
    section: str = Field("", description="Section of the publication.")
    page: int | None = Field(None, description="Page of the quote, for paged documents.")
    quote: str = Field(description="The exact quoted text.")
    start: int = Field(ge=0, description="Offset of the quote in the document text.")
    end: int = Field(ge=0, description="Offset one past the quote's end in the document text.")
    score: float = Field(description="Retrieval score of the cited passage.")


class AnswerSentence(Record):
    """One sentence of an answer with the citations that support it."""

    text: str = Field(description="Sentence text without its [n] markers.")
    citations: list[int] = Field(default_factory=list, description="Citation numbers supporting it.")
    supported: bool = Field(True, description="Whether the support scorer found it in its cited passages.")
    support_score: float | None = Field(None, description="Support score against the cited passages.")


class Answer(Record):
    """A cited answer, or an abstention with related evidence."""

    question: str = Field(description="The question as asked.")
    answer: str = Field(description="Answer text with [n] citation markers.")
    sentences: list[AnswerSentence] = Field(default_factory=list, description="The answer, sentence by sentence.")
    citations: list[Citation] = Field(default_factory=list, description="Numbered citations, n = 1..k.")
    abstained: bool = Field(False, description="True when the evidence does not cover the question.")
    related: list[Citation] = Field(
        default_factory=list, description="Closest passages shown when abstaining (not cited as support)."
    )
    timings_ms: dict[str, float] = Field(default_factory=dict, description="Time per stage in milliseconds.")
    settings_hash: str = Field("", description="Hash of the settings that produced the answer.")
    answerer: str = Field(
        "extractive", description="What wrote the answer: 'extractive', or the chat model and prompt version."
    )
