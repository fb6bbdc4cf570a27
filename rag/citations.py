"""Build citations for quoted spans and assemble cited answers with contiguous numbering."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.models import Role
from rag.models import Answer, AnswerSentence, Citation, RetrievedPassage

_MARKDOWN_NOISE = re.compile(
    r"\*\*|__|`|^\s*(?:[-*•]|\d+[.)])\s+"  # markdown emphasis, code and list markers
    r"|^Summary:\s*",  # the label of a coded-evidence summary line
    re.MULTILINE,
)


@dataclass(frozen=True)
class Quote:
    """A span of a retrieved passage, offsets relative to the passage text."""

    hit: RetrievedPassage
    start: int
    end: int

    @property
    def text(self) -> str:
        """The quoted text, exactly as in the passage."""
        return self.hit.passage.text[self.start : self.end]


def make_citation(n: int, quote: Quote, role: Role | None = None) -> Citation:
    """A numbered citation carrying the publication, the quote's document offsets and its role."""
    passage = quote.hit.passage
    source = passage.source
    return Citation(
        n=n,
        passage_id=passage.passage_id,
        source_id=passage.source_id,
        title=source.title,
        authors=source.authors,
        year=source.year,
        doi=source.doi,
        section=passage.section,
        page=passage.page,
        role=role,
        quote=quote.text,
        start=passage.start + quote.start,
        end=passage.start + quote.end,
        score=quote.hit.score,
    )


def passage_citation(n: int, hit: RetrievedPassage) -> Citation:
    """A citation of a whole passage (used for related evidence and LLM answers)."""
    return make_citation(n, Quote(hit, 0, len(hit.passage.text)))


def display_text(quote: str) -> str:
    """A quoted sentence as it reads in an answer: markdown and coded-evidence labels dropped."""
    return " ".join(_MARKDOWN_NOISE.sub("", quote).split())


def reference(citation: Citation) -> str:
    """One reference-list line: [n] authors (year). Title. §Section, p. N. DOI link."""
    parts = [f"[{citation.n}] {citation.authors or citation.source_id} ({citation.year or 'n.d.'})"]
    if citation.title:
        parts.append(citation.title)
    where = ", ".join(p for p in (f"§{citation.section}" if citation.section else "", _page(citation.page)) if p)
    if where:
        parts.append(where)
    if citation.doi:
        parts.append(f"https://doi.org/{citation.doi}")
    return ". ".join(parts)


def _page(page: int | None) -> str:
    return f"p. {page}" if page else ""


def cited_sentence(text: str, numbers: Sequence[int]) -> str:
    """A sentence followed by its citation markers, e.g. ``Text. [1][2]``."""
    return text + " " + "".join(f"[{n}]" for n in numbers) if numbers else text


def assemble(
    question: str,
    sentences: Sequence[tuple[str, Sequence[Citation]]],
    settings_hash: str,
) -> Answer:
    """An Answer whose citations are numbered 1..k in order of first use.

    Each item pairs a sentence with the citations supporting it; citations of the same
    passage and quote share one number.
    """
    numbering: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    answer_sentences: list[AnswerSentence] = []
    for text, cites in sentences:
        numbers = []
        for citation in cites:
            key = (citation.passage_id, citation.start, citation.end)
            if key not in numbering:
                numbering[key] = len(citations) + 1
                citations.append(citation.model_copy(update={"n": numbering[key]}))
            if numbering[key] not in numbers:
                numbers.append(numbering[key])
        answer_sentences.append(AnswerSentence(text=text, citations=numbers))
    return Answer(
        question=question,
        answer=" ".join(cited_sentence(s.text, s.citations) for s in answer_sentences),
        sentences=answer_sentences,
        citations=citations,
        settings_hash=settings_hash,
    )


def abstention(question: str, hits: Sequence[RetrievedPassage], settings_hash: str) -> Answer:
    """The plain statement that the evidence does not cover a question, with related passages.

    Nothing is cited as support; the retrieved passages are listed as related evidence.
    """
    return Answer(
        question=question,
        answer="The indexed evidence does not cover this question."
        + (" The closest passages are listed as related evidence." if hits else ""),
        abstained=True,
        related=[passage_citation(i, hit) for i, hit in enumerate(hits, start=1)],
        settings_hash=settings_hash,
    )
