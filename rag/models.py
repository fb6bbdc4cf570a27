"""Records produced by retrieval and answering (the ``icrag ask --json`` contract)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from index.models import Passage, Record, Role

#: What a question asks for, read from its wording (see rag.intent).
Intent = Literal[
    "what_works", "how_to", "comparison", "evidence_strength", "factoid", "definition", "methods", "general"
]
#: The shape of an answer: one best sentence first, realist sections, one block per side, computed strength, or one
#: block per part of a question that asks several things.
Form = Literal["direct", "realist", "comparison", "evidence_strength", "parts", "abstention"]


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
    role: Role | None = Field(None, description="What the quoted text is: finding, context, method, ...")
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


class Side(Record):
    """One side of a comparison: what the question names, and the publications that speak for it."""

    label: str = Field(description="The side as the question names it, e.g. 'Scottish' or 'Waring et al.'.")
    source_ids: list[str] = Field(
        default_factory=list, description="Publications of this side (empty: any publication may speak for it)."
    )


class QueryIntent(Record):
    """What a question asks for: its intent and, for a comparison, its sides."""

    intent: Intent = Field(description="Kind of question.")
    sides: list[Side] = Field(default_factory=list, description="Sides of a comparison, in the question's order.")
    named_sources: list[str] = Field(default_factory=list, description="Publications the question names.")


class AnswerSection(Record):
    """A heading of an answer (computed text) and the cited sentences under it."""

    heading: str = Field(description="Computed heading, e.g. 'What works' or a comparison side; not a quote.")
    sentences: list[AnswerSentence] = Field(default_factory=list, description="The cited sentences under it.")


class Gap(Record):
    """A side or part of the question on which the indexed evidence says nothing (a partial abstention)."""

    part: str = Field(description="The side or part without evidence.")
    note: str = Field(description="Computed sentence saying so; not a quote.")


class EvidenceProfile(Record):
    """How broad the evidence behind an answer is, computed from the cited publications' records."""

    publications: int = Field(description="Distinct publications cited.")
    records: int = Field(description="Coded-evidence records cited.")
    bearing: int = Field(0, description="Publications in the index with evidence bearing on the question.")
    indexed: int = Field(0, description="Publications in the index.")
    designs: dict[str, int] = Field(default_factory=dict, description="Cited publications by study design.")
    countries: list[str] = Field(default_factory=list, description="Where the cited publications are set.")
    years: list[str] = Field(default_factory=list, description="Publication years of the cited publications.")
    line: str = Field("", description="The evidence line shown with the answer (computed text).")


class Considered(Record):
    """A passage in the candidate pool the answer could draw on."""

    passage_id: str = Field(description="Passage id.")
    source_id: str = Field(description="Its publication.")


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
    intent: QueryIntent | None = Field(None, description="What the question asks for, with comparison sides.")
    form: Form | None = Field(None, description="Shape of the answer.")
    sections: list[AnswerSection] = Field(
        default_factory=list, description="The answer's blocks: a computed heading and its cited sentences."
    )
    gaps: list[Gap] = Field(default_factory=list, description="Sides or parts with no evidence.")
    evidence: EvidenceProfile | None = Field(None, description="How broad the cited evidence is.")
    considered: list[Considered] = Field(
        default_factory=list, description="The candidate pool: every passage the answer could have drawn on."
    )
