"""Question sets: the corpus format, line-numbered errors, and which passages are gold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import DATA_DIR

from eval.questions import Question, gold_passage_ids, is_gold, load_questions
from index.errors import InputError
from index.models import EvidenceRecord, Passage, SourceInfo

GOOD = {
    "id": "q1",
    "question": "How many papers?",
    "answer": "36.",
    "key_facts": ["36 papers"],
    "support": ["H05"],
    "type": "factoid",
    "persona": "evaluator",
}


def write_lines(path: Path, lines: list[object]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "count"), [("dev_questions.jsonl", 30), ("extra_dev_questions.jsonl", 15)])
def test_the_bundled_question_sets_load(name: str, count: int) -> None:
    questions = load_questions(DATA_DIR / name)
    assert len(questions) == count
    unanswerable = [q for q in questions if not q.answerable]
    assert unanswerable and all(not q.support for q in unanswerable)


def test_a_bad_json_line_is_named(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "q.jsonl", [GOOD, "", "{not json"])
    with pytest.raises(InputError, match=r"q\.jsonl:3: invalid JSON"):
        load_questions(path)


def test_a_wrong_field_is_named_with_its_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "q.jsonl", [GOOD, {**GOOD, "id": "q2", "type": "riddle"}])
    with pytest.raises(InputError, match=r"q\.jsonl:2: type"):
        load_questions(path)
    path = write_lines(tmp_path / "q.jsonl", [{**GOOD, "comment": "x"}])
    with pytest.raises(InputError, match=r"q\.jsonl:1: comment"):
        load_questions(path)


def test_duplicate_ids_and_empty_or_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="duplicate question id 'q1'"):
        load_questions(write_lines(tmp_path / "dup.jsonl", [GOOD, GOOD]))
    with pytest.raises(InputError, match="no questions"):
        load_questions(write_lines(tmp_path / "empty.jsonl", [""]))
    with pytest.raises(InputError, match="no such file"):
        load_questions(tmp_path / "absent.jsonl")


def test_unanswerable_questions_must_be_consistent() -> None:
    unanswerable = {**GOOD, "type": "unanswerable", "answer": "NOT_IN_CORPUS", "support": []}
    assert not Question.model_validate(unanswerable).answerable
    with pytest.raises(ValueError, match="empty 'support'"):
        Question.model_validate({**unanswerable, "support": ["H05"]})
    with pytest.raises(ValueError, match="NOT_IN_CORPUS"):
        Question.model_validate({**GOOD, "answer": "NOT_IN_CORPUS"})


def make_passage(text: str, tags: list[str] | None = None, record_id: str | None = None) -> Passage:
    record = EvidenceRecord(record_id=record_id, component="general", source_id="harris2022") if record_id else None
    return Passage(
        passage_id=Passage.make_id("doc", 0, text),
        doc_id="doc",
        kind="evidence" if record else "markdown",
        text=text,
        start=0,
        end=len(text),
        source_id="harris2022",
        tags=tags or [],
        record=record,
        source=SourceInfo(source_id="harris2022"),
    )


def test_gold_passages_are_named_records_and_tagged_paragraphs() -> None:
    record = make_passage("row", record_id="H05")
    tagged = make_passage("para", tags=["sims2021 §Methods", "harris2022 §Abstract-Design"])
    other = make_passage("other", tags=["harris2022 §Abstract-Results"], record_id=None)
    question = Question.model_validate({**GOOD, "support": ["H05", "harris2022 §Abstract-Design"]})
    assert is_gold(record, question.support) and is_gold(tagged, question.support)
    assert not is_gold(other, question.support)
    assert gold_passage_ids(question, [other, record, tagged]) == [record.passage_id, tagged.passage_id]
