"""eval.calibrate and ``icrag eval calibrate``: abstention thresholds fitted on hand-made evidence and on
the tiny real index."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner, Result

from app.cli import app
from eval.calibrate import balanced_accuracy, calibrate, read_evidence
from eval.questions import NOT_IN_CORPUS, Question
from index.embedding import Embedder
from index.settings import Settings
from rag.abstention import AbstentionEvidence, decides

if TYPE_CHECKING:
    from fixtures_rag import RagIndex

pytest_plugins = ["fixtures_rag"]  # the twelve-passage index shared with the retrieval and answer tests

Invoke = Callable[..., Result]
Found = tuple[str, Question, AbstentionEvidence]

NIGHT_SHIFTS = "How does night shift work affect nurses' fatigue?"
VETERANS = "How much did the Veterans Health Administration spend on leadership training?"
QUESTIONS = [
    {
        "id": "a1",
        "question": NIGHT_SHIFTS,
        "answer": "Night-shift nurses report more fatigue and sleep problems, most after the third night.",
        "key_facts": ["more fatigue", "third consecutive night shift"],
        "support": ["sims2019 §Results"],
        "type": "factoid",
        "persona": "researcher",
    },
    {
        "id": "u1",
        "question": VETERANS,
        "answer": NOT_IN_CORPUS,
        "key_facts": [],
        "support": [],
        "type": "unanswerable",
        "persona": "policymaker",
    },
]


def question(qid: str, answerable: bool) -> Question:
    if answerable:
        return Question(id=qid, question=f"Question {qid}?", answer="An answer.", type="factoid", persona="researcher")
    return Question(id=qid, question=f"Question {qid}?", answer=NOT_IN_CORPUS, type="unanswerable", persona="evaluator")


def evidence(best: float, margin: float = -1.0, unknown_name: bool = False, gain: float = 0.0) -> AbstentionEvidence:
    return AbstentionEvidence(
        best_score=best,
        note_margin=margin,
        unknown_name=unknown_name,
        money_missing=False,
        note_names_gap=False,
        comparison=False,
        uncovered_gain=gain,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([(True, False), (True, True), (False, True), (False, False)], 0.5),
        ([(True, False), (True, False), (False, True)], 1.0),
        ([(True, True), (False, False)], 0.0),
        ([(False, True), (False, True), (False, False), (True, False)], (2 / 3 + 1) / 2),
        ([(True, False), (True, True)], 0.5),  # only answerable questions: the share answered
        ([(False, True)], 1.0),
        ([], 0.0),
    ],
)
def test_balanced_accuracy(items: list[tuple[bool, bool]], expected: float) -> None:
    assert balanced_accuracy(items) == pytest.approx(expected)


def test_threshold_is_the_middle_between_the_groups_when_they_separate(settings: Settings) -> None:
    found: list[Found] = [
        ("dev.jsonl", question("a1", True), evidence(1.2)),
        ("dev.jsonl", question("u1", False), evidence(0.5)),
        ("dev.jsonl", question("a2", True), evidence(1.0)),
        ("extra.jsonl", question("u2", False), evidence(0.7)),
        ("extra.jsonl", question("a3", True), evidence(1.5)),
    ]
    report = calibrate(found, settings)
    assert report.abstain_threshold == pytest.approx((0.7 + 1.0) / 2)
    assert report.scope_note_margin == settings.scope_note_margin  # no note margin to fit on
    assert report.balanced_accuracy == 1.0
    assert [
        (s.set, s.unanswerable_declined, s.unanswerable, s.answerable_declined, s.answerable) for s in report.sets
    ] == [
        ("dev.jsonl", 1, 1, 0, 2),
        ("extra.jsonl", 1, 1, 0, 1),
    ]
    assert [(i.set, i.id, i.answerable, i.declined) for i in report.questions] == [
        ("dev.jsonl", "a1", True, False),
        ("dev.jsonl", "u1", False, True),
        ("dev.jsonl", "a2", True, False),
        ("extra.jsonl", "u2", False, True),
        ("extra.jsonl", "a3", True, False),
    ]
    assert [i.evidence for i in report.questions] == [e for _, _, e in found]


def test_threshold_moves_with_the_evidence(settings: Settings) -> None:
    found: list[Found] = [
        ("s.jsonl", question("u1", False), evidence(0.2)),
        ("s.jsonl", question("u2", False), evidence(0.4)),
        ("s.jsonl", question("a1", True), evidence(0.6)),
        ("s.jsonl", question("a2", True), evidence(2.0)),
    ]
    assert calibrate(found, settings).abstain_threshold == pytest.approx(0.5)


def test_scope_note_margin_is_fitted_between_the_groups(settings: Settings) -> None:
    """An unanswerable question that scores well is declined by its scope note, at a margin above every
    answerable question's."""
    found: list[Found] = [
        ("s.jsonl", question("a1", True), evidence(1.2, margin=-0.2)),
        ("s.jsonl", question("a2", True), evidence(1.3, margin=0.1)),
        ("s.jsonl", question("u1", False), evidence(0.5)),
        ("s.jsonl", question("u2", False), evidence(1.25, margin=0.3)),
    ]
    report = calibrate(found, settings)
    assert report.scope_note_margin == pytest.approx(0.2)
    assert report.abstain_threshold == pytest.approx(0.85)
    assert report.balanced_accuracy == 1.0
    assert {i.id: i.declined for i in report.questions} == {"a1": False, "a2": False, "u1": True, "u2": True}
    fitted = settings.model_copy(
        update={"abstain_threshold": report.abstain_threshold, "scope_note_margin": report.scope_note_margin}
    )
    assert [decides(e, fitted) for _, _, e in found] == [i.declined for i in report.questions]


def test_an_uncovered_subject_is_declined_above_every_answerable_questions_gain(settings: Settings) -> None:
    """Questions about something the index never mentions score well on the words they share with it; the gain
    from leaving out the words no passage uses separates them, midway between a2 (0.02) and u2 (0.08)."""
    found: list[Found] = [
        ("s.jsonl", question("a1", True), evidence(1.2)),
        ("s.jsonl", question("a2", True), evidence(1.3, gain=0.02)),
        ("s.jsonl", question("u1", False), evidence(0.5)),
        ("s.jsonl", question("u2", False), evidence(1.25, gain=0.08)),
        ("s.jsonl", question("u3", False), evidence(1.1, gain=0.2)),
    ]
    report = calibrate(found, settings)
    assert report.uncovered_gain == pytest.approx(0.05)
    assert report.balanced_accuracy == 1.0
    assert [i.id for i in report.questions if i.declined] == ["u1", "u2", "u3"]


def test_groups_that_overlap_get_the_best_cut(settings: Settings) -> None:
    found: list[Found] = [
        ("s.jsonl", question("u1", False), evidence(0.3)),
        ("s.jsonl", question("a1", True), evidence(0.8)),
        ("s.jsonl", question("u2", False), evidence(0.9)),
        ("s.jsonl", question("a2", True), evidence(1.4)),
        ("s.jsonl", question("a3", True), evidence(1.6)),
    ]
    report = calibrate(found, settings)
    # Declining both unanswerable questions at the cost of a1 (cut 1.15: 5/6) beats answering every
    # answerable one and declining only u1 (cut 0.55: 3/4).
    assert report.balanced_accuracy == pytest.approx(5 / 6)
    assert report.abstain_threshold == pytest.approx(1.15)
    assert report.sets[0].answerable_declined == 1 and report.sets[0].unanswerable_declined == 2


def test_a_tie_goes_to_the_cut_in_the_widest_gap(settings: Settings) -> None:
    found: list[Found] = [
        ("s.jsonl", question("u1", False), evidence(0.2)),
        ("s.jsonl", question("a1", True), evidence(0.5)),
        ("s.jsonl", question("u2", False), evidence(0.6)),
        ("s.jsonl", question("a2", True), evidence(1.0)),
    ]
    # Cuts 0.35 and 0.8 both reach 3/4; 0.8 is 0.2 from its nearest question, 0.35 only 0.15.
    report = calibrate(found, settings)
    assert report.balanced_accuracy == pytest.approx(0.75)
    assert report.abstain_threshold == pytest.approx(0.8)


def test_questions_another_rule_decides_do_not_place_the_cut(settings: Settings) -> None:
    """The margin is fitted midway between the questions it decides (a1 at 0.0, u1 at 0.6): not by c1, a
    comparison (whose notes give gaps, never a refusal), nor u2, declined for naming something unknown."""
    comparison = evidence(1.2, margin=0.3).model_copy(update={"comparison": True})
    found: list[Found] = [
        ("s.jsonl", question("a1", True), evidence(1.2, margin=0.0)),
        ("s.jsonl", question("c1", True), comparison),
        ("s.jsonl", question("u1", False), evidence(1.2, margin=0.6)),
        ("s.jsonl", question("u2", False), evidence(1.2, margin=0.9, unknown_name=True)),
    ]
    report = calibrate(found, settings)
    assert report.balanced_accuracy == 1.0
    assert report.scope_note_margin == pytest.approx(0.3)


def test_read_evidence_on_the_tiny_index(rag_index: RagIndex) -> None:
    questions = [Question.model_validate(q) for q in QUESTIONS]
    found = read_evidence([("tiny.jsonl", questions)], rag_index.pipeline)
    assert [(name, q.id) for name, q, _ in found] == [("tiny.jsonl", "a1"), ("tiny.jsonl", "u1")]
    answerable, unanswerable = found[0][2], found[1][2]
    assert answerable.best_score > 0 and not answerable.unknown_name and not answerable.money_missing
    assert unanswerable.unknown_name and unanswerable.money_missing  # no passage names the VHA or money
    settings = rag_index.settings
    assert decides(unanswerable, settings)
    assert not decides(answerable, settings)
    assert not rag_index.pipeline.ask(NIGHT_SHIFTS).abstained


@pytest.mark.parametrize(
    ("question", "stated"),
    [
        ("When did Sims et al. (2019) run their survey of community nurses?", True),  # "ran in 2018"
        ("How did Sims et al. (2019) run their survey of community nurses?", True),  # "survey": its methods
        ("What did Sims et al. (2019) find about fatigue after night shifts?", False),  # neither date nor method
        ("When did community nurses in six trusts answer a survey?", False),  # names no publication
        ("How did Sims et al. (2019) gather their evidence?", True),  # "The survey of 412 community nurses ..."
        ("How did Waring et al. gather their evidence?", False),  # no sentence of theirs is a method
        ("What did Waring et al. find?", True),  # asks nothing but what they found: any finding of theirs
        ("What did Waring et al. conclude?", True),
        ("What did Waring et al. conclude about night shifts?", False),  # asks about something of its own
    ],
)
def test_a_date_or_method_stated_by_the_publication_asked_about_answers_it(
    rag_index: RagIndex, question: str, stated: bool
) -> None:
    """A "When ...?" or "How did they gather their evidence?" about a named publication is answered by a
    date, or a method, its own text states, and "What did they find?" by any finding of theirs, however far
    its wording is from the question's: a low match alone does not decline it."""
    pipeline = rag_index.pipeline
    query = pipeline.query(question)
    found = pipeline.extractive.abstention_evidence(query, pipeline.pool(query))
    assert found.stated_by_named is stated
    low = found.model_copy(update={"best_score": rag_index.settings.abstain_threshold - 0.5})
    assert decides(low, rag_index.settings) is not stated


@pytest.fixture
def icrag(monkeypatch: pytest.MonkeyPatch, embedder: Embedder, rag_index: RagIndex, cache_dir: Path) -> Invoke:
    """Run ``icrag`` in-process on the test index, as tests/test_cli_answer.py does; the session's model."""
    monkeypatch.setattr("app.cli_common.Embedder", lambda settings: embedder)
    environment = {"ICRAG_CACHE_DIR": str(cache_dir), "ICRAG_SHOW_PROGRESS": "false"}

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--index", str(rag_index.index_dir)], env=environment)

    return run


def test_cli_eval_calibrate_prints_the_fitted_thresholds(icrag: Invoke, tmp_path: Path) -> None:
    questions = tmp_path / "tiny.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    out = tmp_path / "out"
    result = icrag("eval", "calibrate", "--questions", str(questions), "--out", str(out))
    assert result.exit_code == 0, result.output
    printed, _, wrote = result.stdout.rpartition("}\n")
    summary = json.loads(printed + "}")
    assert {"abstain_threshold", "scope_note_margin", "sets"} <= set(summary)
    assert "questions" not in summary  # the per-question evidence goes to calibration.json only
    assert isinstance(summary["abstain_threshold"], float) and isinstance(summary["scope_note_margin"], float)
    assert 0.0 <= summary["abstain_threshold"] <= 3.0 and 0.0 <= summary["scope_note_margin"] <= 1.0
    assert summary["sets"] == [
        {"set": "tiny.jsonl", "unanswerable_declined": 1, "unanswerable": 1, "answerable_declined": 0, "answerable": 1}
    ]
    assert summary["balanced_accuracy"] == 1.0
    assert wrote.strip() == f"wrote {out / 'calibration.json'}"
    written = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert [q["id"] for q in written["questions"]] == ["a1", "u1"]
    assert written["abstain_threshold"] == summary["abstain_threshold"]


def test_cli_eval_calibrate_reports_each_set(icrag: Invoke, tmp_path: Path) -> None:
    answerable, unanswerable = tmp_path / "answerable.jsonl", tmp_path / "unanswerable.jsonl"
    answerable.write_text(json.dumps(QUESTIONS[0]) + "\n", encoding="utf-8")
    unanswerable.write_text(json.dumps(QUESTIONS[1]) + "\n", encoding="utf-8")
    result = icrag("eval", "calibrate", "--questions", str(answerable), "--questions", str(unanswerable))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # without --out, only the JSON
    assert summary["sets"] == [
        {"set": "answerable.jsonl", "unanswerable_declined": 0, "unanswerable": 0, "answerable_declined": 0,
         "answerable": 1},
        {"set": "unanswerable.jsonl", "unanswerable_declined": 1, "unanswerable": 1, "answerable_declined": 0,
         "answerable": 0},
    ]  # fmt: skip


def test_a_cut_below_every_answerable_question_is_tried(settings: Settings) -> None:
    """The lowest-scoring question is answerable: the threshold goes under it, not between it and the next."""
    found: list[Found] = [
        ("dev.jsonl", question("a1", True), evidence(0.5)),
        ("dev.jsonl", question("u1", False), evidence(0.9, unknown_name=True)),
        ("dev.jsonl", question("a2", True), evidence(1.2)),
    ]
    report = calibrate(found, settings)
    assert report.abstain_threshold < 0.5
    assert report.balanced_accuracy == 1.0


def test_a_setting_no_unanswerable_question_hangs_on_keeps_its_value(settings: Settings) -> None:
    """Every unanswerable question is declined by another rule: the answerable ones show where the margin must not
    go (at or below their 0.1), not where it belongs, so it stays at its setting."""
    found: list[Found] = [
        ("s.jsonl", question("a1", True), evidence(1.2, margin=-0.2)),
        ("s.jsonl", question("a2", True), evidence(1.3, margin=0.1)),
        ("s.jsonl", question("u1", False), evidence(1.25, margin=0.4, unknown_name=True)),
    ]
    kept = settings.model_copy(update={"scope_note_margin": 0.287})
    assert calibrate(found, kept).scope_note_margin == pytest.approx(0.287)
    # a setting that would decline an answerable question moves to the nearest that does not
    lowered = settings.model_copy(update={"scope_note_margin": 0.05})
    assert 0.1 < calibrate(found, lowered).scope_note_margin < 0.287
