"""Report records (report.json's contract) and their Markdown rendering.

``icrag eval run`` writes an :class:`EvalReport`, ``icrag eval bench`` a :class:`BenchReport`;
both go to ``DIR/report.json`` and ``DIR/report.md`` beside the charts, and
``icrag eval compare`` reads evaluation reports back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from eval.jsonl import first_error
from eval.metrics import Latency, RetrievalValues
from index.errors import InputError
from index.models import Record


def now() -> str:
    """UTC time for a report's ``created_at``."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class AnswerValues(Record):
    """Overall answer metrics of ``icrag eval run``."""

    key_fact_recall: float | None = Field(description="Share of key facts found, over answerable questions.")
    citation_support: float | None = Field(description="Share of answer sentences supported by their citations.")
    citation_precision: float | None = Field(description="Share of citations that support their sentence.")
    abstention_recall: float | None = Field(description="Share of unanswerable questions declined.")
    false_abstention_rate: float | None = Field(description="Share of answerable questions declined.")


class QuestionResult(Record):
    """Everything measured for one question of ``icrag eval run``."""

    id: str
    type: str
    persona: str
    question: str
    answer: str = Field(description="Answer text with [n] markers.")
    abstained: bool
    answerable: bool
    gold: list[str] = Field(description="Gold passage ids found in the index.")
    retrieved: list[str] = Field(description="Top-10 retrieved passage ids, best first.")
    retrieval: RetrievalValues
    key_fact_recall: float | None
    facts_missing: list[str] = Field(description="Key facts not found in the answer.")
    citation_support: float | None
    citation_precision: float | None
    latency_ms: float = Field(description="Wall time of Pipeline.ask.")


class EvalReport(Record):
    """report.json of ``icrag eval run`` (the keys above per_question are a fixed contract)."""

    n_questions: int
    settings_hash: str
    judge: str = Field("offline", description="What judged citation support (see eval.judge).")
    retrieval: RetrievalValues
    answers: AnswerValues
    latency_ms: Latency
    per_question: list[QuestionResult]
    questions_file: str
    index_dir: str
    missing_gold: list[str] = Field(description="Answerable questions none of whose gold evidence is indexed.")
    settings: dict[str, object] | None = Field(
        None,
        description="The settings settings_hash was computed from (index, retrieval, answer, judge), so runs can "
        "be compared; None in reports that did not record them.",
    )
    created_at: str = Field(default_factory=now)


class SystemResult(RetrievalValues):
    """One retrieval system's scores on a benchmark: the retrieval numbers and its latency."""

    latency_ms: Latency


class BenchQuestionResult(Record):
    """One benchmark question: its gold units and, per system, where the first gold unit ranked."""

    id: str
    gold: list[str] = Field(description="Gold unit ids (passages, pages or documents).")
    first_gold_rank: dict[str, int | None] = Field(description="Per system: rank of the first gold unit in the top 10.")
    latency_ms: dict[str, float] = Field(description="Per system: retrieval wall time.")


class BenchReport(Record):
    """report.json of ``icrag eval bench``."""

    benchmark: str
    n_questions: int
    n_passages: int
    n_documents: int
    unit: str = Field(description="What one gold unit is: passage, page or document.")
    skipped: list[str] = Field(description="Questions left out because no gold passage could be found.")
    systems: dict[str, SystemResult]
    settings_hash: str
    data: str
    per_question: list[BenchQuestionResult]
    created_at: str = Field(default_factory=now)

    def table(self) -> dict[str, dict[str, float | None]]:
        """Metric values per system, retrieval metrics and latency together (for tables and charts)."""
        return {
            name: {**system.model_dump(exclude={"latency_ms"}), **_latency_columns(system.latency_ms)}
            for name, system in self.systems.items()
        }


def _latency_columns(latency: Latency) -> dict[str, float | None]:
    return {"latency p50 ms": latency.p50, "latency p95 ms": latency.p95}


def read_eval_report(path: Path) -> EvalReport:
    """The report of ``icrag eval run`` in a folder (its report.json) or file; InputError says why one is not."""
    file = path / "report.json" if path.is_dir() else path
    if not file.exists():
        raise InputError(path, "no report.json in this folder" if path.is_dir() else "no such file or folder")
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(file, f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputError(file, f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(data, dict) and "benchmark" in data:
        raise InputError(file, f"is a {data['benchmark']} benchmark report (icrag eval bench), not of icrag eval run")
    if isinstance(data, dict) and "answers_file" in data:
        raise InputError(file, "is a score report (icrag eval score), not of icrag eval run")
    try:
        return EvalReport.model_validate(data)
    except ValidationError as exc:
        field, message = first_error(exc)
        raise InputError(file, f"not a report of icrag eval run ({field}: {message})") from None


def write_json(report: BaseModel, out_dir: Path) -> Path:
    """Write ``report.json`` into a folder (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.json"
    path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _table(rows: dict[str, dict[str, float | None]]) -> list[str]:
    columns = list(next(iter(rows.values())).keys()) if rows else []
    lines = ["| | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(columns)]
    lines += [f"| {name} | " + " | ".join(_fmt(v.get(c)) for c in columns) + " |" for name, v in rows.items()]
    return lines


def eval_markdown(report: EvalReport) -> str:
    """A readable summary of an evaluation run."""
    overall = {
        "icrag": {
            **report.retrieval.model_dump(by_alias=True),
            **report.answers.model_dump(),
            **_latency_columns(report.latency_ms),
        }
    }
    lines = [
        f"# Evaluation of `{report.questions_file}`",
        "",
        f"{report.n_questions} questions, index `{report.index_dir}`, settings {report.settings_hash}, "
        f"{report.created_at}.",
        "",
        *_table(overall),
        "",
        "Recall@k is the share of questions with a gold passage in the top k.",
    ]
    if report.missing_gold:
        lines += ["", f"Gold evidence not in the index for: {', '.join(report.missing_gold)}."]
    lines += [
        "",
        "## Per question",
        "",
        "| id | type | recall@5 | key facts | citation support | citation precision | abstained | ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for q in report.per_question:
        lines.append(
            f"| {q.id} | {q.type} | {_fmt(q.retrieval.recall_at_5)} | {_fmt(q.key_fact_recall)} | "
            f"{_fmt(q.citation_support)} | {_fmt(q.citation_precision)} | {'yes' if q.abstained else 'no'} | "
            f"{q.latency_ms:.0f} |"
        )
    return "\n".join(lines) + "\n"


def bench_markdown(report: BenchReport) -> str:
    """A readable comparison of the systems of a benchmark."""
    lines = [
        f"# Benchmark `{report.benchmark}`",
        "",
        f"{report.n_questions} questions over {report.n_passages} passages from {report.n_documents} documents "
        f"(gold unit: {report.unit}); data `{report.data}`, settings {report.settings_hash}, {report.created_at}.",
        "",
        *_table(report.table()),
        "",
        "All systems rank the same passages. Recall@k is the share of questions with a gold unit in the "
        "top k; several passages of one unit count once.",
    ]
    if report.skipped:
        n = len(report.skipped)
        lines += ["", f"Skipped (no gold passage found): {n} question{'' if n == 1 else 's'}."]
    return "\n".join(lines) + "\n"
