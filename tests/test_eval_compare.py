"""``icrag eval compare`` over reports of real ``icrag eval run`` runs on a tiny index, and its user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BuilderFactory, SettingsFactory
from eval_fixtures import QUESTIONS, icrag, use_session_model, write_evidence, write_jsonl

from eval.compare import Comparison, differing_settings, unique_labels
from index.embedding import Embedder

ROWS = [
    "questions",
    "n_questions",
    "settings_hash",
    "recall@1",
    "recall@5",
    "recall@10",
    "mrr@10",
    "ndcg@10",
    "key_fact_recall",
    "citation_support",
    "citation_precision",
    "abstention_recall",
    "false_abstention_rate",
    "source_coverage",
    "pool_source_coverage",
    "pool_fact_coverage",
    "comparison_sides",
    "noise",
    "latency p50 ms",
    "latency p95 ms",
]


def write_json(path: Path, data: dict[str, object]) -> Path:
    """A JSON file, its folder created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def table(output: str) -> dict[str, list[str]]:
    """The cells of a printed Markdown table by row name (the header row under '')."""
    rows = [line.strip("|").split(" | ") for line in output.splitlines() if line.startswith("| ") and "---" not in line]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows}


@pytest.mark.slow  # whole evaluation runs
def test_compare_shows_runs_side_by_side_with_the_settings_that_differ(
    tmp_path: Path,
    make_settings: SettingsFactory,
    make_builder: BuilderFactory,
    monkeypatch: pytest.MonkeyPatch,
    embedder: Embedder,
) -> None:
    settings = make_settings(data_dir=write_evidence(tmp_path / "data"))
    make_builder(settings).build()
    use_session_model(monkeypatch, embedder)
    questions = write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    run = ["eval", "run", "--questions", str(questions), "--index", str(settings.index_dir), "--out"]
    assert icrag(*run, str(tmp_path / "a" / "run")).exit_code == 0
    monkeypatch.setenv("ICRAG_TOP_K", "2")
    monkeypatch.setenv("ICRAG_LEXICAL_WEIGHT", "0.25")
    assert icrag(*run, str(tmp_path / "b" / "run")).exit_code == 0
    second = json.loads((tmp_path / "b" / "run" / "report.json").read_text())
    assert second["settings"]["top_k"] == 2 and second["settings"]["lexical_weight"] == 0.25

    out = tmp_path / "compare"
    first, second_file = tmp_path / "a" / "run", tmp_path / "b" / "run" / "report.json"
    result = icrag("eval", "compare", str(first), str(second_file), "--out", str(out))
    assert result.exit_code == 0, result.output
    cells = table(result.output)
    assert cells[""] == ["run", "run #2"]  # the folder names, a repeated one numbered
    assert list(cells)[1:] == [*ROWS, "setting: top_k", "setting: lexical_weight"]
    assert cells["n_questions"] == ["3", "3"]
    assert cells["setting: top_k"] == ["5", "2"] and cells["setting: lexical_weight"] == ["0.75", "0.25"]
    first_hash = json.loads((first / "report.json").read_text())["settings_hash"]
    assert cells["settings_hash"] == [first_hash, second["settings_hash"]] and first_hash != second["settings_hash"]
    comparison = Comparison.model_validate_json((out / "compare.json").read_text())
    assert [r.label for r in comparison.runs] == ["run", "run #2"]
    assert comparison.differing_settings == ["top_k", "lexical_weight"]
    assert comparison.runs[1].settings == {"top_k": 2, "lexical_weight": 0.25}
    assert comparison.runs[0].metrics["recall@10"] == 1.0
    assert (out / "compare.md").read_text() in result.output
    assert (out / "compare.png").read_bytes().startswith(b"\x89PNG")

    # A report that did not record its settings is compared on its hash; one without the measures of shaped
    # answers shows none.
    del second["settings"], second["by_type"], second["declined"], second["answers"]["noise"]
    write_json(tmp_path / "old" / "report.json", second)
    result = icrag("eval", "compare", str(first), str(tmp_path / "old"))
    assert result.exit_code == 0, result.output
    cells = table(result.output)
    assert cells[""] == ["run", "old"] and "setting: top_k" not in cells
    assert cells["noise"][1] == "–"
    assert "Settings not recorded in the report of: old" in result.output

    # Report files saved under their own names are labelled by those names.
    for name, source in (("topk5.json", first / "report.json"), ("topk2.json", second_file)):
        (tmp_path / name).write_text(source.read_text())
    result = icrag("eval", "compare", str(tmp_path / "topk5.json"), str(tmp_path / "topk2.json"))
    assert table(result.output)[""] == ["topk5", "topk2"]


def test_compare_user_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    bench = write_json(tmp_path / "bench" / "report.json", {"benchmark": "covidqa", "systems": {}})
    score = write_json(tmp_path / "score.json", {"answers_file": "a.jsonl", "n_answers": 0})
    other = write_json(tmp_path / "other.json", {"n_questions": 3})
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    cases = [
        ([str(bench)], f"{bench}: only one report given; compare needs two or more"),
        ([str(tmp_path / "nowhere"), str(bench)], f"{tmp_path / 'nowhere'}: no such file or folder"),
        ([str(tmp_path / "empty"), str(bench)], f"{tmp_path / 'empty'}: no report.json in this folder"),
        ([str(bench.parent), str(score)], f"{bench}: is a covidqa benchmark report (icrag eval bench), not of icrag"),
        ([str(score), str(bench)], f"{score}: is a score report (icrag eval score), not of icrag eval run"),
        ([str(other), str(bench)], f"{other}: not a report of icrag eval run (settings_hash: Field required)"),
        ([str(broken), str(bench)], f"{broken}: invalid JSON"),
    ]
    for args, message in cases:
        result = icrag("eval", "compare", *args)
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"icrag: error: {message}") and result.output.count("\n") == 1, result.output


def test_labels_and_differing_settings() -> None:
    assert unique_labels(["run", "x", "run", "run #2"]) == ["run", "x", "run #2", "run #2 #2"]
    recorded = [{"top_k": 5, "judge": "offline"}, {"top_k": 5, "judge": "openai", "llm_model": None}]
    assert differing_settings(recorded) == ["judge", "llm_model"]  # a setting one report lacks differs too
