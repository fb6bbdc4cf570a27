"""Evaluation runs side by side: ``icrag eval compare`` and the app's Compare runs.

A comparison takes the overall numbers of each run's :class:`EvalReport` and the settings that
differ between the runs, so an evaluator sees which configuration did better and what changed.
Everything here is a pure function of the reports except :func:`write_comparison`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import Field

from eval.charts import metric_bars
from eval.report import EvalReport, now
from index.models import Record

#: Rows of scores between 0 and 1 (charted), under report.json's names.
SCORE_ROWS = (
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
)
LATENCY_ROWS = ("latency p50 ms", "latency p95 ms")
NOT_RECORDED = "not recorded"


class ComparedRun(Record):
    """One column of a comparison: a run's overall numbers and its values of the settings that differ."""

    label: str = Field(description="Column name: the report's folder, or the app's description of the run.")
    questions_file: str
    n_questions: int
    settings_hash: str
    metrics: dict[str, float | None] = Field(description="Overall values by row name (SCORE_ROWS, LATENCY_ROWS).")
    settings: dict[str, object] | None = Field(
        description="Its values of the differing settings; None where the report did not record its settings."
    )


class Comparison(Record):
    """compare.json of ``icrag eval compare``."""

    runs: list[ComparedRun]
    differing_settings: list[str] = Field(description="Settings whose values differ between runs that recorded them.")
    created_at: str = Field(default_factory=now)


def unique_labels(names: Sequence[str]) -> list[str]:
    """Column names for runs: a name given more than once gets ' #2', ' #3', ... from its second use."""
    labels: list[str] = []
    for name in names:
        label, n = name, 1
        while label in labels:
            n += 1
            label = f"{name} #{n}"
        labels.append(label)
    return labels


def differing_settings(recorded: Sequence[Mapping[str, object]]) -> list[str]:
    """Names of the settings whose values (or presence) are not the same in every given settings record."""
    names = list(dict.fromkeys(name for settings in recorded for name in settings))

    def value(settings: Mapping[str, object], name: str) -> str:
        return json.dumps(settings[name], sort_keys=True, default=str) if name in settings else "\0absent"

    return [name for name in names if len({value(settings, name) for settings in recorded}) > 1]


def compare_reports(reports: Mapping[str, EvalReport]) -> Comparison:
    """The overall numbers of each labelled report and the settings that differ between them."""
    differing = differing_settings([r.settings for r in reports.values() if r.settings is not None])
    runs = [
        ComparedRun(
            label=label,
            questions_file=report.questions_file,
            n_questions=report.n_questions,
            settings_hash=report.settings_hash,
            metrics={
                **report.retrieval.model_dump(by_alias=True),
                **report.answers.model_dump(),
                LATENCY_ROWS[0]: report.latency_ms.p50,
                LATENCY_ROWS[1]: report.latency_ms.p95,
            },
            settings=None
            if report.settings is None
            else {name: report.settings[name] for name in differing if name in report.settings},
        )
        for label, report in reports.items()
    ]
    return Comparison(runs=runs, differing_settings=differing)


def _number(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _setting(run: ComparedRun, name: str) -> str:
    if run.settings is None:
        return NOT_RECORDED
    if name not in run.settings:
        return "–"
    value = run.settings[name]
    return value if isinstance(value, str) else json.dumps(value)


def comparison_table(comparison: Comparison) -> dict[str, list[str]]:
    """The table's cells by row name, one per run: run facts, metrics, latency, then differing settings."""
    runs = comparison.runs
    rows: dict[str, list[str]] = {
        "questions": [Path(run.questions_file).name for run in runs],
        "n_questions": [str(run.n_questions) for run in runs],
        "settings_hash": [run.settings_hash for run in runs],
    }
    rows.update({name: [_number(run.metrics.get(name), 3) for run in runs] for name in SCORE_ROWS})
    rows.update({name: [_number(run.metrics.get(name), 1) for run in runs] for name in LATENCY_ROWS})
    rows.update({f"setting: {name}": [_setting(run, name) for run in runs] for name in comparison.differing_settings})
    return rows


def _cell(text: str) -> str:
    """Text fit for a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def comparison_markdown(comparison: Comparison) -> str:
    """The comparison as a Markdown table, one column per run, with a note on what could not be compared."""
    labels = [run.label for run in comparison.runs]
    lines = [
        "| | " + " | ".join(_cell(label) for label in labels) + " |",
        "| --- |" + " ---: |" * len(labels),
    ]
    lines += [
        f"| {name} | " + " | ".join(_cell(c) for c in cells) + " |"
        for name, cells in comparison_table(comparison).items()
    ]
    unrecorded = [run.label for run in comparison.runs if run.settings is None]
    if unrecorded:
        lines += ["", f"Settings not recorded in the report of: {', '.join(unrecorded)}; compare settings_hash."]
    elif not comparison.differing_settings:
        lines += ["", "All runs used the same settings."]
    return "\n".join(lines) + "\n"


def write_comparison(comparison: Comparison, out_dir: Path) -> list[Path]:
    """compare.json, compare.md and a grouped bar chart of the scores (compare.png) in a folder."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "compare.json"
    json_path.write_text(comparison.model_dump_json(indent=2) + "\n", encoding="utf-8")
    markdown = out_dir / "compare.md"
    markdown.write_text(comparison_markdown(comparison), encoding="utf-8")
    scores = {run.label: {name: run.metrics.get(name) for name in SCORE_ROWS} for run in comparison.runs}
    return [json_path, markdown, metric_bars(scores, out_dir / "compare.png", "Compared runs")]
