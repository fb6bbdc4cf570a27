"""``icrag eval score``: answers from any system, in icrag's or RAGAS's field names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_fixtures import icrag, use_session_model, write_jsonl

from eval.scoring import AnswerLine, declined, line_citations
from index.embedding import Embedder
from rag.models import Answer, AnswerSentence, Citation

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
    answer = line_citations(line)
    assert [s.text for s in answer.sentences] == ["First claim.", "Second claim.", "Third."]
    assert [s.evidence for s in answer.sentences] == [["A", "B"], [""], ["A"]]
    assert answer.numbered


@pytest.mark.parametrize(
    ("answer", "texts", "evidence"),
    [
        # The splitter lets "[1]" open a sentence that starts in lower case: it still closes the one before.
        (
            "Teams met weekly. [1] knight2024: six CMOCs were extracted. [2]",
            ["Teams met weekly.", "knight2024: six CMOCs were extracted."],
            [["A"], ["B"]],
        ),
        # A marker after a list's colon or an item's semicolon cites what comes before it.
        (
            "The reviews differ: [1] harris2022: 36 papers; [2] knight2024: 18 documents. [1]",
            ["The reviews differ:", "harris2022: 36 papers;", "knight2024: 18 documents."],
            [["A"], ["B"], ["A"]],
        ),
        # A marker at the start of a line opens its sentence, in a list or after a paragraph break.
        ("- [1] Claim one.\n- [2] Claim two.", None, [["A"], ["B"]]),
        ("Claim one [1].\n\n[2] Claim two.", ["Claim one.", "Claim two."], [["A"], ["B"]]),
        # Markers before a capital, a number or an abbreviation's stop do not end a sentence.
        ("Drivers were the Forward View [1] NHS Long Term Plan [2] and the Act [1].", None, [["A", "B"]]),
        ("The review included 36 papers [1] 12 were from the UK [2].", None, [["A", "B"]]),
        ("Tools help, e.g. [1] dashboards and audits. Next [2].", None, [["A"], ["B"]]),
        (
            "One. [1, 2] two. [2][1] Three [1] [2]. Four",
            ["One.", "two.", "Three.", "Four"],
            [["A", "B"], ["B", "A"], ["A", "B"], []],
        ),
        # Markers inside a sentence stay with it.
        ("Harris et al. [1] found 36 papers [2], fewer than expected. [1]", None, [["A", "B"]]),
    ],
)
def test_a_trailing_marker_group_belongs_to_the_sentence_before_it(
    answer: str, texts: list[str] | None, evidence: list[list[str]]
) -> None:
    cited = line_citations(AnswerLine(id="1", question="q", answer=answer, contexts=["A", "B"]))
    if texts is not None:
        assert [s.text for s in cited.sentences] == texts
    assert [s.evidence for s in cited.sentences] == evidence


def test_structured_sentences_are_scored_as_given() -> None:
    line = AnswerLine(
        id="1",
        question="q",
        answer="Teams met weekly. [1] knight2024: six CMOCs. [2]",
        contexts=["A", "B"],
        sentences=[
            AnswerSentence(text="Teams met weekly.", citations=[1]),
            AnswerSentence(text="knight2024: six CMOCs.", citations=[2, 9]),
            AnswerSentence(text="Uncited.", citations=[]),
        ],
    )
    cited = line_citations(line)
    assert cited.numbered
    assert [(s.text, s.evidence) for s in cited.sentences] == [
        ("Teams met weekly.", ["A"]),
        ("knight2024: six CMOCs.", ["B", ""]),
        ("Uncited.", []),
    ]


def icrag_answer(question: str, claims: list[str]) -> dict[str, object]:
    """What ``icrag ask --json`` writes for an answer quoting one claim per citation."""
    citations = [
        Citation(n=n, passage_id=f"p{n}", source_id="s", quote=claim, start=0, end=len(claim), score=1.0)
        for n, claim in enumerate(claims, start=1)
    ]
    sentences = [AnswerSentence(text=claim, citations=[n]) for n, claim in enumerate(claims, start=1)]
    text = " ".join(f"{claim} [{n}]" for n, claim in enumerate(claims, start=1))
    answer = Answer(question=question, answer=text, sentences=sentences, citations=citations)
    return answer.model_dump(mode="json")


def test_eval_score_reads_icrag_answers_sentence_by_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    use_session_model(monkeypatch, embedder)
    claims = [
        ["The four reviews report evidence bases of different sizes:", "knight2024: six CMOCs from 18 documents."],
        ["Outcome: named as one of seven leadership components", "Sims et al. found evidence for working with power."],
    ]
    answers = tmp_path / "answers.json"  # pretty-printed and appended, as `icrag ask --json >> FILE` writes
    answers.write_text("".join(json.dumps(icrag_answer("q", c), indent=2) + "\n" for c in claims), encoding="utf-8")
    result = icrag("eval", "score", "--answers", str(answers), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [a["n_sentences"] for a in report["per_answer"]] == [2, 2]
    assert (report["answers"]["citation_support"], report["answers"]["citation_precision"]) == (1.0, 1.0)


def test_answers_without_markers_stand_against_all_contexts() -> None:
    answer = line_citations(AnswerLine(id="1", question="q", answer="One. Two.", contexts=["A", "B"]))
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
        ({"question": "q", "answer": "a [2].", "citations": [{"n": 2, "quote": "x."}]}, "number 2 is outside 1..1"),
        ({"question": "q", "answer": "a [1].", "citations": [{"n": 0, "quote": "x."}]}, "number 0 is outside 1..1"),
        (
            {"question": "q", "answer": "a.", "citations": [{"n": 1, "quote": "x."}, {"n": 1, "quote": "y."}]},
            "number 1 given twice",
        ),
        ({"question": "q", "answer": "a.", "sentences": [{"text": "a.", "citations": ["x"]}]}, "sentences.0"),
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
