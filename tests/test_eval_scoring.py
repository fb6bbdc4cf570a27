"""``icrag eval score``: answers from any system, in icrag's or RAGAS's field names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_fixtures import icrag, use_session_model, write_jsonl

from eval.scoring import AnswerLine, cited_answer, declined
from index.embedding import Embedder

CONTEXT_A = "Harris et al. included 36 papers in the realist synthesis."
CONTEXT_B = "Pizza dough needs flour, water, salt and yeast."
ICRAG_ROWS: list[dict[str, object]] = [
    {
        "id": "a1",
        "question": "How many papers were included?",
        "answer": "Harris et al. included 36 papers in the realist synthesis. [1] Pizza dough needs flour [1].",
        "contexts": [CONTEXT_A, CONTEXT_B],
        "key_facts": ["36 papers", "limited empirical evidence"],
    },
    {
        "id": "a2",
        "question": "When was it done?",
        "answer": "The synthesis was carried out in 2020. It drew on English-language literature.",
        "contexts": ["The synthesis was carried out in 2020. It drew on English-language literature."],
        "reference": "The synthesis was carried out in 2020.",
    },
    {"id": "a3", "question": "What did it cost?", "answer": "NOT_IN_CORPUS", "contexts": []},
]
RAGAS_NAMES = {"question": "user_input", "answer": "response", "contexts": "retrieved_contexts"}


def as_ragas(row: dict[str, object]) -> dict[str, object]:
    return {RAGAS_NAMES.get(key, key): value for key, value in row.items()}


def test_markers_map_to_contexts_and_stray_markers_cite_nothing() -> None:
    line = AnswerLine(
        id="1", question="q", answer="First claim. [1, 2] Second claim [3]. Third [1][1].", contexts=["A", "B"]
    )
    answer = cited_answer(line)
    assert [s.text for s in answer.sentences] == ["First claim.", "Second claim.", "Third."]
    assert [s.evidence for s in answer.sentences] == [["A", "B"], [""], ["A"]]
    assert answer.numbered


def test_answers_without_markers_stand_against_all_contexts() -> None:
    answer = cited_answer(AnswerLine(id="1", question="q", answer="One. Two.", contexts=["A", "B"]))
    assert not answer.numbered
    assert [s.evidence for s in answer.sentences] == [["A", "B"], ["A", "B"]]


def test_declining_is_recognised_unless_the_line_says_otherwise() -> None:
    assert declined(AnswerLine(id="1", question="q", answer="NOT_IN_CORPUS", contexts=[]))
    assert declined(AnswerLine(id="1", question="q", answer="The evidence does not cover costs.", contexts=[]))
    assert not declined(AnswerLine(id="1", question="q", answer="It cost £3m [1].", contexts=["£3m"]))
    assert not declined(AnswerLine(id="1", question="q", answer="NOT_IN_CORPUS", contexts=[], abstained=False))


@pytest.mark.parametrize("convention", ["icrag", "ragas"])
def test_eval_score_in_both_conventions(
    convention: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    use_session_model(monkeypatch, embedder)
    rows = ICRAG_ROWS if convention == "icrag" else [as_ragas(r) for r in ICRAG_ROWS]
    answers = write_jsonl(tmp_path / "answers.jsonl", rows)
    result = icrag("eval", "score", "--answers", str(answers), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert (report["n_answers"], report["judge"]) == (3, "offline")
    first, second, third = report["per_answer"]
    # a1: the quoted sentence is supported by [1]; the pizza sentence cites [1], which does not say it.
    assert (first["citation_support"], first["citation_precision"], first["key_fact_recall"]) == (0.5, 0.5, 0.5)
    # a2: no markers, so precision is undefined; the one reference sentence is in the answer.
    assert (second["numbered"], second["citation_support"], second["citation_precision"]) == (False, 1.0, None)
    assert second["key_fact_recall"] == 1.0
    assert third["abstained"] and third["citation_support"] is None
    assert report["answers"] == {
        "key_fact_recall": 0.75,
        "citation_support": 0.75,
        "citation_precision": 0.5,
        "abstained": pytest.approx(1 / 3),
    }


def test_eval_score_names_the_bad_line(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps(ICRAG_ROWS[0]) + "\n{oops\n", encoding="utf-8")
    result = icrag("eval", "score", "--answers", str(answers))
    assert result.exit_code == 2
    assert "answers.jsonl:2: invalid JSON" in result.output


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"question": "q", "contexts": []}, "missing 'answer/response'"),
        ({"question": "q", "answer": "a", "response": "b"}, "both 'answer' and 'response'"),
        ({"question": "q", "answer": "a", "contexts": "not a list"}, "contexts"),
    ],
)
def test_eval_score_refuses_malformed_lines(tmp_path: Path, row: dict[str, object], message: str) -> None:
    answers = write_jsonl(tmp_path / "answers.jsonl", [row])
    result = icrag("eval", "score", "--answers", str(answers))
    assert result.exit_code == 2
    assert "answers.jsonl:1" in result.output and message in result.output


def test_eval_score_of_deeply_nested_json_is_a_user_error(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps(ICRAG_ROWS[0]) + "\n" + "[" * 100_000 + "\n", encoding="utf-8")
    result = icrag("eval", "score", "--answers", str(answers))
    assert result.exit_code == 2
    assert "answers.jsonl:2: JSON nested too deeply" in result.output


def test_eval_score_of_a_missing_file_is_a_user_error(tmp_path: Path) -> None:
    result = icrag("eval", "score", "--answers", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert "nope.jsonl: no such file" in result.output
