"""Report records (report.json's contract) and their Markdown rendering.

``icrag eval run`` writes an :class:`EvalReport`, ``icrag eval bench`` a :class:`BenchReport`;
both go to ``DIR/report.json`` and ``DIR/report.md`` beside the charts, and
``icrag eval compare`` reads evaluation reports back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from eval.jsonl import first_error
from eval.metrics import BASELINE_PASSAGES, Latency, RetrievalValues, SentenceReach
from eval.text import SPAN_SHARE
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
    source_coverage: float | None = Field(
        None, description="Share of a question's gold publications (its sources) the answer cites."
    )
    pool_source_coverage: float | None = Field(
        None, description="Share of a question's gold publications with a passage in the candidate pool."
    )
    pool_fact_coverage: float | None = Field(
        None, description="Share of key facts stated by some single sentence of the candidate pool."
    )
    comparison_sides: float | None = Field(
        None, description="Share of comparison answers that cover every side and two gold publications."
    )
    noise: float | None = Field(
        None, description="Share of cited sentences quoting text of a role the question did not ask for."
    )


#: The answer measures of shaped answers, under report.json's names and report.md's labels (None in reports
#: written before they were measured).
SHAPE_MEASURES = {
    "source_coverage": "sources cited",
    "pool_source_coverage": "pool sources",
    "pool_fact_coverage": "pool facts",
    "comparison_sides": "sides covered",
    "noise": "noise",
}


class Declined(Record):
    """How many questions of each kind the answerer declined (abstained on)."""

    answerable: int = Field(description="Answerable questions in the set.")
    answerable_declined: int = Field(description="Answerable questions declined (false abstentions).")
    unanswerable: int = Field(description="Unanswerable questions in the set.")
    unanswerable_declined: int = Field(description="Unanswerable questions declined (correct abstentions).")

    @classmethod
    def count(cls, abstained: Sequence[bool], answerable: Sequence[bool]) -> Declined:
        """The counts from each question's abstention and answerability."""
        pairs = list(zip(abstained, answerable, strict=True))
        return cls(
            answerable=sum(ok for _, ok in pairs),
            answerable_declined=sum(a and ok for a, ok in pairs),
            unanswerable=sum(not ok for _, ok in pairs),
            unanswerable_declined=sum(a and not ok for a, ok in pairs),
        )


class TypeValues(Record):
    """The answer measures over the questions of one type (None where no question of it applies)."""

    n: int = Field(description="Questions of this type.")
    key_fact_recall: float | None = Field(description="Share of key facts found.")
    declined: float | None = Field(description="Share declined: abstention recall for 'unanswerable', else false.")
    source_coverage: float | None = Field(description="Share of gold publications cited.")
    pool_source_coverage: float | None = Field(description="Share of gold publications in the candidate pool.")
    pool_fact_coverage: float | None = Field(description="Share of key facts stated by a pooled sentence.")
    comparison_sides: float | None = Field(description="Share of comparison answers covering every side.")
    noise: float | None = Field(description="Share of cited sentences of roles not asked for.")


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
    intent: str | None = Field(None, description="The intent the answerer read from the question, if it reports one.")
    form: str | None = Field(None, description="The shape of the answer, if the answerer reports one.")
    source_coverage: float | None = Field(None, description="Share of the question's sources the answer cites.")
    pool_source_coverage: float | None = Field(None, description="Share of the question's sources in the pool.")
    pool_fact_coverage: float | None = Field(None, description="Share of key facts stated by a pooled sentence.")
    facts_out_of_pool: list[str] = Field(
        default_factory=list, description="Key facts no single sentence of the candidate pool states."
    )
    comparison_sides: float | None = Field(None, description="1 if a comparison answer covers every side, else 0.")
    noise: float | None = Field(None, description="Share of cited sentences of roles the question did not ask for.")


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
    by_type: dict[str, TypeValues] = Field(
        default_factory=dict, description="The answer measures per question type, in first-seen order."
    )
    declined: Declined | None = Field(None, description="Questions declined, answerable and unanswerable.")
    created_at: str = Field(default_factory=now)


class SystemResult(RetrievalValues):
    """One retrieval system's scores on a benchmark: the retrieval numbers and its latency."""

    latency_ms: Latency


class AnswerSystemResult(Record):
    """One answering system's figures on a benchmark with annotated answer spans."""

    contains: float | None = Field(description="Share of questions whose answer contains the annotated span.")
    first_sentence_contains: float | None = Field(
        description="Share of questions whose answer's first sentence contains the annotated span."
    )
    median_words: float | None = Field(description="Median answer length in words (answers that did not abstain).")


class BenchAnswer(Record):
    """One system's answer to a benchmark question, as the span figures saw it."""

    contains: bool = Field(description="The answer contains the annotated span.")
    first_sentence_contains: bool = Field(description="The answer's first sentence contains it.")
    words: int | None = Field(description="Answer length in words; None for an abstention.")


class BenchQuestionResult(Record):
    """One benchmark question: its gold units and, per system, where the first gold unit ranked."""

    id: str
    gold: list[str] = Field(description="Gold unit ids (passages, pages or documents).")
    first_gold_rank: dict[str, int | None] = Field(description="Per system: rank of the first gold unit in the top 10.")
    latency_ms: dict[str, float] = Field(description="Per system: retrieval wall time.")
    answer_span: str = Field("", description="The annotated answer span, where the data set has one.")
    answers: dict[str, BenchAnswer] = Field(
        default_factory=dict, description="Per answering system: its answer's span figures."
    )


class BenchReport(Record):
    """report.json of ``icrag eval bench``."""

    benchmark: str
    n_questions: int
    n_passages: int
    n_documents: int
    unit: str = Field(description="What one gold unit is: passage, page or document.")
    skipped: list[str] = Field(description="Questions left out because no gold passage could be found.")
    systems: dict[str, SystemResult]
    answers: dict[str, AnswerSystemResult] = Field(
        default_factory=dict,
        description="Per answering system (icrag, the one-sentence overlap baseline): answer-level figures, on "
        "data sets with annotated answer spans.",
    )
    sentence_reach: list[SentenceReach] = Field(
        default_factory=list,
        description="For k = 1, 2, …: the share of questions whose annotated span is in icrag's k best-scored "
        "sentences, whether or not the answer abstained: how far a better ordering of its own sentences could "
        "take the first sentence (k = 1) and an answer of k sentences.",
    )
    settings_hash: str
    backend: str = Field("faiss", description="Where icrag's candidates came from: faiss or pgvector.")
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
    answers = report.answers.model_dump()
    overall = {
        "icrag": {
            **report.retrieval.model_dump(by_alias=True),
            **{name: value for name, value in answers.items() if name not in SHAPE_MEASURES},
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
        "",
        *_table({"icrag": {label: answers[name] for name, label in SHAPE_MEASURES.items()}}),
        "",
        "Sources cited: share of a question's `sources` the answer cites. Pool sources and pool facts: share of "
        "its `sources` with a passage in the candidate pool, and of its key facts stated by one pooled sentence. "
        "Sides covered: comparison answers with cited evidence for every side and two gold publications. Noise: "
        "cited sentences quoting text of a role the question did not ask for.",
    ]
    if report.declined is not None:
        lines += ["", f"Declined: {declined_text(report.declined)}."]
    if report.missing_gold:
        lines += ["", f"Gold evidence not in the index for: {', '.join(report.missing_gold)}."]
    if report.by_type:
        lines += ["", "## Per question type", "", *_type_table(report.by_type)]
    lines += [
        "",
        "## Per question",
        "",
        "| id | type | recall@5 | key facts | pool facts | sources cited | sides | noise | citation support "
        "| citation precision | abstained | ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for q in report.per_question:
        lines.append(
            f"| {q.id} | {q.type} | {_fmt(q.retrieval.recall_at_5)} | {_fmt(q.key_fact_recall)} | "
            f"{_fmt(q.pool_fact_coverage)} | {_fmt(q.source_coverage)} | {_fmt(q.comparison_sides)} | "
            f"{_fmt(q.noise)} | {_fmt(q.citation_support)} | {_fmt(q.citation_precision)} | "
            f"{'yes' if q.abstained else 'no'} | {q.latency_ms:.0f} |"
        )
    return "\n".join(lines) + "\n"


def declined_text(declined: Declined) -> str:
    """The declined counts as a reader checks them against a target, e.g. '6 of 7 unanswerable'."""
    return (
        f"{declined.unanswerable_declined} of {declined.unanswerable} unanswerable, "
        f"{declined.answerable_declined} of {declined.answerable} answerable"
    )


def _type_table(by_type: dict[str, TypeValues]) -> list[str]:
    columns = {"key_fact_recall": "key facts", "declined": "declined", **SHAPE_MEASURES}
    lines = [
        "| type | n | " + " | ".join(columns.values()) + " |",
        "| --- | ---: |" + " ---: |" * len(columns),
    ]
    for name, values in by_type.items():
        cells = values.model_dump()
        lines.append(f"| {name} | {values.n} | " + " | ".join(_fmt(cells[c]) for c in columns) + " |")
    return lines


def bench_markdown(report: BenchReport) -> str:
    """A readable comparison of the systems of a benchmark."""
    lines = [
        f"# Benchmark `{report.benchmark}`",
        "",
        f"{report.n_questions} questions over {report.n_passages} passages from {report.n_documents} documents "
        f"(gold unit: {report.unit}); data `{report.data}`, backend {report.backend}, settings {report.settings_hash}, "
        f"{report.created_at}.",
        "",
        *_table(report.table()),
        "",
        "All systems rank the same passages. Recall@k is the share of questions with a gold unit in the "
        "top k; several passages of one unit count once.",
    ]
    if report.answers:
        lines += [
            "",
            "## Answers",
            "",
            "| | answer contains span | first sentence contains span | median words |",
            "| --- | ---: | ---: | ---: |",
            *(
                f"| {name} | {_fmt(a.contains)} | {_fmt(a.first_sentence_contains)} | "
                f"{'–' if a.median_words is None else f'{a.median_words:.0f}'} |"
                for name, a in report.answers.items()
            ),
            "",
            "An answer contains the annotated span when the normalised span is inside it or at least "
            f"{SPAN_SHARE:.0%} of the span's content words are; an abstention contains nothing. icrag answers with "
            "its pipeline; the overlap baseline answers with the one sentence of icrag's top "
            f"{BASELINE_PASSAGES} passages that shares the most content words with the question.",
        ]
    if report.sentence_reach:
        lines += [
            "",
            "## Sentence reach",
            "",
            "| icrag's best-scored sentences | " + " | ".join(str(r.k) for r in report.sentence_reach) + " |",
            "| --- |" + " ---: |" * len(report.sentence_reach),
            "| contain the span | " + " | ".join(_fmt(r.contains) for r in report.sentence_reach) + " |",
            "| median words | "
            + " | ".join("–" if r.median_words is None else f"{r.median_words:.0f}" for r in report.sentence_reach)
            + " |",
            "",
            "The share of questions whose annotated span is in the answerer's k best-scored sentences, before the "
            "answer is shaped from them: the most a better ordering of those sentences could give the first "
            "sentence (k = 1) or an answer of k sentences, at that length.",
        ]
    if report.skipped:
        n = len(report.skipped)
        lines += ["", f"Skipped (no gold passage found): {n} question{'' if n == 1 else 's'}."]
    return "\n".join(lines) + "\n"
