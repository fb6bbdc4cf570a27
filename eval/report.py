"""Report records (report.json's contract) and their Markdown rendering.

``icrag eval run`` writes an :class:`EvalReport`, ``icrag eval bench`` a :class:`BenchReport`;
both go to ``DIR/report.json`` and ``DIR/report.md`` beside the charts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from eval.metrics import Latency, RetrievalValues
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
