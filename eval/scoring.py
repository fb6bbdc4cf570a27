"""``icrag eval score``: citation and key-fact metrics for answers written by any system.

Each JSONL line holds a question, an answer and the contexts the answer cites, under icrag's
names (question, answer, contexts, key_facts) or RAGAS's (user_input, response,
retrieved_contexts, reference). ``[n]`` markers in the answer cite ``contexts[n-1]``; a marker
group (``[1]``, ``[1, 2]``, ``[1-3]``, ``[1][2]``) after a sentence's full stop belongs to that sentence,
unless it opens a new line. An answer without markers has each sentence judged against all its contexts.
icrag's own Answers (``icrag ask --json``) are read as they are: their ``sentences`` are scored
as given, with the citation numbers each carries, and each citation's quote (not its whole
passage, as ``icrag eval run`` uses) is the context its number names.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from eval.cited import cited_answer
from eval.jsonl import first_error, read_jsonl
from eval.metrics import (
    CitedAnswer,
    Score,
    SupportJudge,
    citation_scores,
    key_fact_recall,
    reference_recall,
)
from eval.questions import NOT_IN_CORPUS
from index.errors import InputError
from index.markers import GROUP_AFTER_COLON_RE, GROUP_RE, marker_numbers, strip_markers
from index.models import Record
from index.sentences import sentence_spans
from rag.models import AnswerSentence

logger = logging.getLogger(__name__)

#: Accepted field names -> the name used here; RAGAS's names map onto icrag's.
FIELD_ALIASES = {
    "id": "id",
    "question": "question",
    "user_input": "question",
    "answer": "answer",
    "response": "answer",
    "contexts": "contexts",
    "retrieved_contexts": "contexts",
    "key_facts": "key_facts",
    "reference": "reference",
    "abstained": "abstained",
    "sentences": "sentences",
}

#: Phrases with which answerers decline; used when a line does not say whether it abstained.
_DECLINED_RE = re.compile(
    r"\b(?:not in the (?:corpus|evidence|context)|(?:does|do) not (?:contain|cover|say|mention)"
    r"|cannot (?:be )?answer|can't answer|unable to answer|i don't know|no (?:relevant )?(?:evidence|information)"
    r"|not (?:enough|sufficient) (?:evidence|information)|insufficient (?:evidence|information))\b",
    re.IGNORECASE,
)


class AnswerLine(Record):
    """One answer to score, after field names are mapped."""

    id: str = Field(description="Identifier; the line number when the file gives none.")
    question: str = Field(description="The question.")
    answer: str = Field(description="The answer text, possibly with [n] markers.")
    contexts: list[str] = Field(description="Contexts the answer cites; [n] refers to contexts[n-1].")
    key_facts: list[str] | None = Field(None, description="Facts a correct answer contains.")
    reference: str | None = Field(None, description="Reference answer, used when key_facts are absent.")
    abstained: bool | None = Field(None, description="Whether the system declined; guessed from the text if absent.")
    sentences: list[AnswerSentence] | None = Field(
        None, description="The answer sentence by sentence with the numbers each cites (icrag ask --json); as given."
    )


class ScoredAnswer(Record):
    """Scores of one answer."""

    id: str
    question: str
    abstained: bool = Field(description="Declined (as given, or recognised in the text).")
    n_sentences: int = Field(description="Sentences in the answer.")
    numbered: bool = Field(description="Whether the answer used [n] markers.")
    citation_support: float | None
    citation_precision: float | None
    key_fact_recall: float | None = Field(description="From key_facts, else from the reference answer.")


class ScoreSummary(Record):
    """Overall values of ``icrag eval score``."""

    key_fact_recall: float | None
    citation_support: float | None
    citation_precision: float | None
    abstained: float = Field(description="Share of answers that declined.")


class ScoreReport(Record):
    """report.json of ``icrag eval score``."""

    answers_file: str
    judge: str = Field("offline", description="What judged citation support (see eval.judge).")
    n_answers: int
    answers: ScoreSummary
    per_answer: list[ScoredAnswer]


#: Fields of an icrag Answer that scoring does not use; they are not reported as ignored.
_ANSWER_ONLY = frozenset({"related", "timings_ms", "settings_hash", "answerer"})


def load_answer_lines(path: Path, data: bytes | None = None) -> list[AnswerLine]:
    """Answers from a JSONL file (or its uploaded ``data``) in either naming; InputError names the bad line."""
    lines = []
    ignored: set[str] = set()
    for number, item in read_jsonl(path, data):
        lines.append(_parse_line(path, number, item, ignored))
    if ignored:
        logger.warning("%s: ignored field(s) %s", path, ", ".join(sorted(ignored)))
    if not lines:
        raise InputError(path, "no answers in the file")
    return lines


def _parse_line(path: Path, number: int, item: dict[str, Any], ignored: set[str]) -> AnswerLine:
    fields: dict[str, Any] = {"id": str(number)}
    given: dict[str, str] = {}
    if "citations" in item:
        item = {k: v for k, v in item.items() if k not in _ANSWER_ONLY}
        fields["contexts"] = _cited_quotes(f"{path}:{number}", item.pop("citations"))
        given["contexts"] = "citations"
    for key, value in item.items():
        name = FIELD_ALIASES.get(key)
        if name is None:
            ignored.add(key)
            continue
        if name in given:
            raise InputError(f"{path}:{number}", f"both '{given[name]}' and '{key}' given; keep one")
        given[name] = key
        fields[name] = str(value) if name == "id" else value
    for name, names in (("question", "question/user_input"), ("answer", "answer/response")):
        if name not in fields:
            raise InputError(f"{path}:{number}", f"missing '{names}'")
    fields.setdefault("contexts", [])
    try:
        return AnswerLine.model_validate(fields)
    except ValidationError as exc:
        field, message = first_error(exc)
        raise InputError(f"{path}:{number}", f"{given.get(field, field)}: {message}") from None


def _cited_quotes(where: str, citations: Any) -> list[str]:
    """The quotes of an icrag Answer's citations, in the order of their numbers 1..k."""
    if not isinstance(citations, list) or not all(
        isinstance(c, dict) and "quote" in c and type(c.get("n", 0)) is int for c in citations
    ):
        raise InputError(where, "citations: expected a list of objects with a 'quote' (as icrag ask --json writes)")
    numbered: dict[int, str] = {}
    for i, citation in enumerate(citations, start=1):
        n = citation.get("n", i)
        if not 1 <= n <= len(citations):
            raise InputError(where, f"citations: number {n} is outside 1..{len(citations)} (k citations are 1..k)")
        if n in numbered:
            raise InputError(where, f"citations: number {n} given twice")
        numbered[n] = str(citation["quote"])
    # [n] cites contexts[n-1]: k distinct numbers in 1..k are each of them once.
    return [numbered[n] for n in range(1, len(citations) + 1)]


def declined(line: AnswerLine) -> bool:
    """Whether an answer declines to answer."""
    if line.abstained is not None:
        return line.abstained
    text = strip_markers(line.answer).strip()
    return not text or text == NOT_IN_CORPUS or bool(_DECLINED_RE.search(text))


def marked_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """The sentences of an answer without their markers, each with the numbers its markers cite.

    A marker group the splitter puts at the start of a sentence (``Text. [1] lower-case next``)
    closes the sentence before it when both are on one line; at the start of a line it opens its
    own sentence (``[2] Claim.``). Markers inside a sentence stay with it.
    """
    sentences: list[tuple[str, list[int]]] = []
    previous_end = 0
    for start, end in _marked_spans(answer):
        raw = answer[start:end]
        lead = GROUP_RE.match(raw)
        if lead and sentences and "\n" not in answer[previous_end:start]:
            sentences[-1][1].extend(marker_numbers(lead.group()))
            raw = raw[lead.end() :]
        previous_end = end
        text = strip_markers(raw)
        if any(ch.isalnum() for ch in text):
            sentences.append((text, marker_numbers(raw)))
        elif sentences:
            sentences[-1][1].extend(marker_numbers(raw))  # markers split off after the full stop
    return sentences


def _marked_spans(answer: str) -> list[tuple[int, int]]:
    """Sentence spans, also cut after a marker group that follows a colon or semicolon on its line.

    ``The reviews differ: [1] harris2022: 36 papers. [2]``: the first marker cites the list's
    introduction, which the splitter would otherwise join to the list's first item.
    """
    cuts = [0, *(m.end() for m in GROUP_AFTER_COLON_RE.finditer(answer)), len(answer)]
    return [
        (piece_start + start, piece_start + end)
        for piece_start, piece_end in itertools.pairwise(cuts)
        for start, end in sentence_spans(answer[piece_start:piece_end])
    ]


def line_citations(line: AnswerLine) -> CitedAnswer:
    """An answer line's sentences with the contexts each cites ([n] -> contexts[n-1]).

    icrag's structured sentences are taken as given; otherwise the answer text is split.
    """
    sentences = [(s.text, s.citations) for s in line.sentences] if line.sentences else marked_sentences(line.answer)
    return cited_answer(sentences, dict(enumerate(line.contexts, start=1)))


def score_answers(lines: Sequence[AnswerLine], judge: SupportJudge, answers_file: str = "") -> ScoreReport:
    """Citation support and precision, key-fact recall and abstentions of a set of answers."""
    abstained = [declined(line) for line in lines]
    cited = [None if a else line_citations(line) for line, a in zip(lines, abstained, strict=True)]
    citations = citation_scores(cited, judge)
    texts = [strip_markers(line.answer) for line in lines]
    by_facts = key_fact_recall(texts, [line.key_facts for line in lines]).per_question
    by_reference = reference_recall(texts, [None if line.key_facts else line.reference for line in lines], judge)
    facts = Score.of([f if f is not None else r for f, r in zip(by_facts, by_reference.per_question, strict=True)])
    per_answer = []
    for i, line in enumerate(lines):
        answer = cited[i]
        per_answer.append(
            ScoredAnswer(
                id=line.id,
                question=line.question,
                abstained=abstained[i],
                n_sentences=len(answer.sentences) if answer else 0,
                numbered=answer.numbered if answer else False,
                citation_support=citations.support.per_question[i],
                citation_precision=citations.precision.per_question[i],
                key_fact_recall=facts.per_question[i],
            )
        )
    return ScoreReport(
        answers_file=answers_file,
        judge=judge.name,
        n_answers=len(lines),
        answers=ScoreSummary(
            key_fact_recall=facts.overall,
            citation_support=citations.support.overall,
            citation_precision=citations.precision.overall,
            abstained=sum(abstained) / len(lines) if lines else 0.0,
        ),
        per_answer=per_answer,
    )
