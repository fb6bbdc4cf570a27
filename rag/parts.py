"""A question that asks several things at once, answered part by part.

"What is an integrated care system, in plain terms, and why is leading one so demanding?" matches
no single sentence well, so read whole it may be declined although the evidence answers both parts.
When the whole is declined, each part is asked on its own; if the evidence answers the first (what the
question is about), the parts it answers are joined into one answer, each under its own heading, and
each part it does not answer gets a note.
"""

from __future__ import annotations

from collections.abc import Sequence

from index.store import IndexStore
from rag.forms import evidence_of, written_answer
from rag.models import Answer, AnswerSection, Citation, Gap
from rag.query import Query


def uncovered_part(part: str) -> Gap:
    """The note for a part of a question the indexed evidence does not answer (computed text, not a quote)."""
    return Gap(part=part, note=f"{part}? The indexed evidence does not cover this part of the question.")


def joined(query: Query, answered: Sequence[tuple[str, Answer]], missing: Sequence[str], store: IndexStore) -> Answer:
    """One answer from the answers to a question's parts: each part's sections under the part as heading,
    citations numbered again in order of first use, a sentence already quoted for an earlier part left out."""
    citations: list[Citation] = []
    numbering: dict[tuple[str, int, int], int] = {}
    sections: list[AnswerSection] = []
    quoted: set[str] = set()

    def number(citation: Citation) -> int:
        key = (citation.passage_id, citation.start, citation.end)
        if key not in numbering:
            numbering[key] = len(citations) + 1
            citations.append(citation.model_copy(update={"n": numbering[key]}))
        return numbering[key]

    for part, answer in answered:
        cited = {citation.n: citation for citation in answer.citations}
        for section in answer.sections:
            sentences = [
                sentence.model_copy(update={"citations": [number(cited[n]) for n in sentence.citations]})
                for sentence in section.sentences
                if sentence.text not in quoted
            ]
            quoted.update(sentence.text for sentence in sentences)
            if sentences:
                heading = f"{part} — {section.heading}" if section.heading else part
                sections.append(AnswerSection(heading=heading, sentences=sentences))
    gaps = [uncovered_part(part) for part in missing]
    evidence = evidence_of(store, citations)
    return Answer(
        question=query.as_asked,
        intent=query.intent,
        answer=written_answer(sections, gaps, evidence.line),
        sentences=[sentence for section in sections for sentence in section.sentences],
        citations=citations,
        form="parts",
        sections=sections,
        gaps=gaps,
        evidence=evidence,
    )
