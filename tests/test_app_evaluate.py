"""The Evaluate page, run in-process with AppTest against a tiny real index: runs kept and compared,
settings varied per run, failures that keep results, and the score drill-down.

Fixtures from ``fixtures_app``: one index per module, a copy per test, named to the app through
``ICRAG_*`` variables; the session's model does all the embedding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest
from fixtures_app import ANSWERABLE, errors, open_page
from streamlit.testing.v1 import AppTest

from app.ui_eval import SCORE_MODE
from index.settings import Settings
from index.store import IndexStore

pytest_plugins = ["fixtures_app"]  # one index per module, a copy per test
pytestmark = pytest.mark.slow  # AppTest reruns the whole app per interaction: seconds a test

EXTRA_SET = "Bundled set (extra_dev_questions.jsonl)"
CONTEXT = "Leaders of integrated care teams build a shared purpose across health and social care."


def run_evaluation(at: AppTest) -> AppTest:
    at.button(key="eval_run_go").click().run()
    assert not at.exception, at.exception
    return at


def score(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="eval_answers_file").set_value((name, data, "text/plain"))
    at.run()
    at.button(key="eval_score_go").click().run()
    assert not at.exception, at.exception
    return at


def jsonl(*rows: Mapping[str, object]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def compare_table(at: AppTest) -> pd.DataFrame:
    """The Compare runs table, indexed by row name (a dataframe's key is not kept without selections)."""
    return next(frame.value for frame in at.dataframe if "measure" in frame.value.columns).set_index("measure")


def lists(at: AppTest) -> list[str]:
    """The HTML lists of the drill-down (missed facts or claims, unsupported sentences)."""
    return [h.body for h in at.html if h.body.startswith("<ul")]


def test_runs_with_other_settings_are_compared_side_by_side(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_question = json.loads((settings.data_dir / "dev_questions.jsonl").read_text().splitlines()[0])
    (settings.data_dir / "extra_dev_questions.jsonl").write_text(json.dumps({**first_question, "id": "x1"}) + "\n")
    loads: list[Path] = []
    load = IndexStore.load

    def counted(index_dir: Path, index_settings: Settings) -> IndexStore:
        loads.append(index_dir)
        return load(index_dir, index_settings)

    monkeypatch.setattr(IndexStore, "load", counted)
    at = run_evaluation(open_page("evaluate"))
    assert "Compare runs" not in [s.value for s in at.subheader]  # one run: nothing to compare yet
    sets = ["Bundled set (dev_questions.jsonl)", EXTRA_SET, "Upload a JSONL file"]
    assert at.radio(key="eval_source").options == sets

    at.radio(key="eval_source").set_value(EXTRA_SET)
    at.number_input(key="eval_setting_top_k").set_value(2)
    at.number_input(key="eval_setting_lexical_weight").set_value(0.25)
    run_evaluation(at)
    assert not at.error, errors(at)
    first, second = at.session_state["eval_runs"]
    assert at.session_state["eval_run"] is second
    assert first.report.n_questions == 2 and second.report.n_questions == 1
    assert second.report.settings["top_k"] == 2 and second.report.settings["lexical_weight"] == 0.25
    assert first.report.settings_hash != second.report.settings_hash
    assert loads == [settings.index_dir]  # the second run's pipeline reuses the loaded index
    assert first.label.startswith("dev_questions.jsonl · top_k 5, sentences 12, dense weight 1, lexical weight 0.75")
    assert second.label.startswith("extra_dev_questions.jsonl · top_k 2, sentences 12, dense weight 1, lexical")

    table = compare_table(at)
    assert list(table.columns) == [first.label, second.label]
    rows = ["questions", "n_questions", "settings_hash", "recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"]
    rows += ["key_fact_recall", "citation_support", "citation_precision", "abstention_recall"]
    rows += [
        "false_abstention_rate",
        "source_coverage",
        "pool_source_coverage",
        "pool_fact_coverage",
        "comparison_sides",
        "noise",
        "latency p50 ms",
        "latency p95 ms",
        "setting: top_k",
        "setting: lexical_weight",
    ]
    assert list(table.index) == rows
    assert list(table.loc["n_questions"]) == ["2", "1"]
    assert list(table.loc["setting: top_k"]) == ["5", "2"]
    assert list(table.loc["questions"]) == ["dev_questions.jsonl", "extra_dev_questions.jsonl"]

    at.button(key="eval_compare_clear").click().run()
    assert at.session_state["eval_runs"] == []
    assert "Compare runs" not in [s.value for s in at.subheader]


def test_a_failed_run_keeps_the_previous_results(settings: Settings) -> None:
    at = run_evaluation(open_page("evaluate"))
    previous = at.session_state["eval_run"]
    at.radio(key="eval_source").set_value("Upload a JSONL file").run()
    at.file_uploader(key="eval_questions_file").set_value(("mine.jsonl", b"not json\n", "text/plain"))
    at.run()
    run_evaluation(at)
    assert len(errors(at)) == 1 and errors(at)[0].startswith("mine.jsonl:1: invalid JSON")
    assert at.session_state["eval_run"] is previous
    assert at.session_state["eval_runs"] == [previous]
    assert "Recall@5" in [m.label for m in at.metric]  # the previous results are still shown


def test_a_failed_scoring_keeps_the_previous_results(settings: Settings) -> None:
    at = open_page("evaluate")
    at.segmented_control(key="eval_mode").set_value(SCORE_MODE).run()
    line = {"question": ANSWERABLE, "answer": "Leaders build a shared purpose. [1]", "contexts": [CONTEXT]}
    previous = score(at, "answers.jsonl", jsonl(line)).session_state["eval_score"]
    assert previous is not None
    score(at, "bad.jsonl", b"not json\n")
    assert len(errors(at)) == 1 and errors(at)[0].startswith("bad.jsonl:1: invalid JSON")
    assert at.session_state["eval_score"] is previous


def test_scoring_works_without_an_index(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICRAG_INDEX_DIR", str(tmp_path / "nowhere"))
    at = open_page("evaluate")
    assert "icrag index build" in errors(at)[0]  # running a question set needs the index
    at.segmented_control(key="eval_mode").set_value(SCORE_MODE).run()
    assert not at.error, errors(at)
    line = {"question": ANSWERABLE, "answer": "Leaders build a shared purpose. [1]", "contexts": [CONTEXT]}
    score(at, "answers.jsonl", jsonl(line))
    assert not at.error, errors(at)
    assert at.session_state["eval_score"].report.answers.citation_support == 1.0


def test_score_drill_down_opens_every_row_even_with_repeated_ids(settings: Settings) -> None:
    rows: list[dict[str, object]] = [
        {"id": "q1", "question": ANSWERABLE, "answer": "System A: leaders build a shared purpose. [1]"},
        {"id": "q1", "question": ANSWERABLE, "answer": "System B: leaders hold joint budgets. [1]"},
        {"question": "Who plans the rotas?", "answer": "Managers plan rotas four weeks ahead. [1]"},
        {"id": "3", "question": "What did the review search?", "answer": "Four databases in 2020. [1]"},
    ]
    at = open_page("evaluate")
    at.segmented_control(key="eval_mode").set_value(SCORE_MODE).run()
    score(at, "answers.jsonl", jsonl(*({**row, "contexts": [CONTEXT]} for row in rows)))
    pick = at.selectbox(key="eval_score_pick")
    assert pick.options == [
        f"row 1 · q1 — {ANSWERABLE}",
        f"row 2 · q1 — {ANSWERABLE}",
        "row 3 · 3 — Who plans the rotas?",
        "row 4 · 3 — What did the review search?",
    ]
    for i, row in enumerate(rows):
        at.selectbox(key="eval_score_pick").set_value(i).run()
        assert not at.exception, at.exception
        shown = "".join(h.body for h in at.html)
        assert str(row["answer"]).removesuffix(" [1]") in shown
        assert all(str(other["answer"]).removesuffix(" [1]") not in shown for other in rows if other is not row)


def test_drill_down_lists_reference_claims_the_answer_misses(settings: Settings) -> None:
    claim = "The programme cost four million pounds in 2019."
    line = {
        "question": ANSWERABLE,
        "answer": "Leaders build a shared purpose across health and social care. [1]",
        "contexts": [CONTEXT],
        "reference": f"Leaders build a shared purpose across health and social care. {claim}",
    }
    at = open_page("evaluate")
    at.segmented_control(key="eval_mode").set_value(SCORE_MODE).run()
    score(at, "ragas.jsonl", jsonl(line))
    assert at.session_state["eval_score"].report.per_answer[0].key_fact_recall == 0.5
    at.selectbox(key="eval_score_pick").set_value(0).run()
    assert "**Reference claims not in the answer**" in [m.value for m in at.markdown]
    missed = lists(at)[0]
    assert claim in missed and "shared purpose" not in missed
