"""Question sets (the corpus README's JSONL format) and which passages count as their gold evidence."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from eval.jsonl import first_error, read_jsonl
from index.errors import InputError
from index.models import Passage, Record
from rag.models import Intent

NOT_IN_CORPUS = "NOT_IN_CORPUS"

QuestionType = Literal[
    "factoid",
    "component",
    "cmo",
    "methods",
    "comparison",
    "unanswerable",
    "what_works",
    "how_to",
    "evidence_strength",
    "definition",
]
Persona = Literal["policymaker", "researcher", "evaluator"]
#: The intent a question of each type asks with: component and context-mechanism-outcome questions ask what
#: works; an unanswerable question asks for nothing the answer could hold.
TYPE_INTENTS: dict[QuestionType, Intent | None] = {
    "factoid": "factoid",
    "component": "what_works",
    "cmo": "what_works",
    "methods": "methods",
    "comparison": "comparison",
    "unanswerable": None,
    "what_works": "what_works",
    "how_to": "how_to",
    "evidence_strength": "evidence_strength",
    "definition": "definition",
}


class Question(Record):
    """One evaluation question with its reference answer, key facts and gold evidence."""

    id: str = Field(min_length=1, description="Unique id within the set, e.g. 'dev03'.")
    question: str = Field(min_length=1, description="The question as a user would ask it.")
    answer: str = Field(description="Reference answer in plain words, or NOT_IN_CORPUS.")
    key_facts: list[str] = Field(default_factory=list, description="What a correct answer must contain.")
    support: list[str] = Field(
        default_factory=list, description="Gold evidence: coded-evidence record_ids and 'source_id §Section' tags."
    )
    sources: list[str] = Field(
        default_factory=list, description="Every publication (source_id) whose text bears on the answer, if known."
    )
    type: QuestionType = Field(description="Kind of question; 'unanswerable' expects an abstention.")
    persona: Persona = Field(description="Who would ask it.")

    @model_validator(mode="after")
    def _unanswerable_is_consistent(self) -> Question:
        """An unanswerable question has no gold evidence and the NOT_IN_CORPUS answer, and only it does."""
        unanswerable = self.type == "unanswerable"
        if unanswerable and self.support:
            raise ValueError("an unanswerable question must have an empty 'support'")
        if unanswerable != self.answer.startswith(NOT_IN_CORPUS):
            raise ValueError(f"'answer' starts with {NOT_IN_CORPUS} exactly when 'type' is 'unanswerable'")
        return self

    @property
    def answerable(self) -> bool:
        """Whether the corpus holds the answer."""
        return self.type != "unanswerable"


def load_questions(path: Path) -> list[Question]:
    """A question set from a JSONL file; InputError names the line of the first bad question."""
    questions: list[Question] = []
    seen: set[str] = set()
    for number, item in read_jsonl(path):
        try:
            question = Question.model_validate(item)
        except ValidationError as exc:
            field, message = first_error(exc)
            raise InputError(f"{path}:{number}", f"{field}: {message}") from None
        if question.id in seen:
            raise InputError(f"{path}:{number}", f"duplicate question id '{question.id}'")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise InputError(path, "no questions in the file")
    return questions


def is_gold(passage: Passage, support: Sequence[str]) -> bool:
    """Whether a passage is gold evidence: the coded row named by a record_id, or a tagged paragraph."""
    wanted = set(support)
    if passage.record is not None and passage.record.record_id in wanted:
        return True
    return any(tag in wanted for tag in passage.tags)


def gold_passage_ids(question: Question, passages: Sequence[Passage]) -> list[str]:
    """Ids of the passages of an index that are gold for a question, in index order."""
    return [p.passage_id for p in passages if is_gold(p, question.support)]
