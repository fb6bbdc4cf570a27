"""The Evaluate page's work, done with eval's public functions: runs, scoring and drill-downs.

Reports and charts are written by eval into a temporary folder, exactly as ``icrag eval run``
writes them, and kept in memory for display and download.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import cast

from annotated_types import Ge, Le

from eval.charts import metric_bars
from eval.compare import compare_reports, comparison_table, unique_labels
from eval.metrics import CitedAnswer, SupportJudge, reference_claims
from eval.questions import load_questions
from eval.report import EvalReport, write_json
from eval.runner import answer_citations, run_questions, write_eval_report
from eval.scoring import AnswerLine, ScoreReport, line_citations, load_answer_lines, score_answers
from eval.text import fact_found
from index.errors import InputError
from index.markers import strip_markers
from index.settings import Settings
from rag.pipeline import Pipeline

RUN_MODE = "Run a question set"
SCORE_MODE = "Score an answers file"
#: Settings an evaluator may change for one run (passages handed over, answer length, fusion weights),
#: with the short names that label them.
RUN_SETTINGS = {
    "top_k": "top_k",
    "max_answer_sentences": "sentences",
    "dense_weight": "dense weight",
    "lexical_weight": "lexical weight",
}


@dataclass(frozen=True)
class EvalRun:
    """A question set answered by the pipeline: the report, its files by name, the settings and the run's name."""

    report: EvalReport
    files: dict[str, bytes]
    settings: Settings
    label: str


@dataclass(frozen=True)
class ScoreRun:
    """An answers file scored: the report, the parsed lines (for drill-down) and the files by name."""

    report: ScoreReport
    lines: list[AnswerLine]
    files: dict[str, bytes]


@contextmanager
def staged_upload(name: str, data: bytes) -> Iterator[Path]:
    """An uploaded file on disk for eval's loaders; errors name the file, not its temporary copy."""
    base = PureWindowsPath(PurePosixPath(name).name).name
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.") or "upload.jsonl"
    with tempfile.TemporaryDirectory(prefix="icrag-eval-") as folder:
        path = Path(folder) / safe
        path.write_bytes(data)
        try:
            yield path
        except InputError as exc:
            raise InputError(exc.path.replace(f"{folder}/", ""), exc.problem) from None


def _read_all(paths: list[Path]) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in paths}


def setting_bounds(name: str) -> tuple[float, float]:
    """The lowest and highest value index/settings.py allows for a numeric setting, for the Run form."""
    metadata = Settings.model_fields[name].metadata
    low = next(m.ge for m in metadata if isinstance(m, Ge))
    high = next(m.le for m in metadata if isinstance(m, Le))
    return float(cast(float, low)), float(cast(float, high))


def run_label(questions: str, settings: Settings, when: datetime) -> str:
    """What Compare runs calls a run: its question set, its run settings and the time it finished."""
    shown = ", ".join(f"{short} {getattr(settings, name):g}" for name, short in RUN_SETTINGS.items())
    return f"{questions} · {shown} · {when:%H:%M:%S}"


def run_question_set(
    path: Path, pipeline: Pipeline, judge: SupportJudge, label: str, limit: int | None = None
) -> EvalRun:
    """Answer the questions of a JSONL set and measure them, as ``icrag eval run`` does."""
    questions = load_questions(path)[:limit]
    report = run_questions(questions, pipeline, judge, label)
    name = run_label(Path(label).name, pipeline.settings, datetime.now())
    with tempfile.TemporaryDirectory(prefix="icrag-report-") as out:
        return EvalRun(report, _read_all(write_eval_report(report, Path(out))), pipeline.settings, name)


def compare_runs(runs: Sequence[EvalRun]) -> list[dict[str, str]]:
    """The Compare runs table: the rows of ``icrag eval compare``, one column per run named by its label."""
    labels = unique_labels([run.label for run in runs])
    table = comparison_table(compare_reports(dict(zip(labels, (run.report for run in runs), strict=True))))
    return [{"measure": name, **dict(zip(labels, cells, strict=True))} for name, cells in table.items()]


def score_answer_file(path: Path, judge: SupportJudge, label: str) -> ScoreRun:
    """Score a JSONL file of answers from any system, as ``icrag eval score`` does, with a chart."""
    lines = load_answer_lines(path)
    report = score_answers(lines, judge, label)
    summary = report.answers.model_dump(exclude={"abstained"})
    with tempfile.TemporaryDirectory(prefix="icrag-report-") as out:
        folder = Path(out)
        paths = [write_json(report, folder), metric_bars({"answers": summary}, folder / "metrics.png", label)]
        return ScoreRun(report, lines, _read_all(paths))


def unsupported(cited: CitedAnswer | None, judge: SupportJudge) -> list[str]:
    """Sentences that their cited passages, together, do not support (misses of citation support)."""
    if cited is None:
        return []
    return [s.text for s in cited.sentences if not (s.evidence and judge.supports(s.text, "\n\n".join(s.evidence)))]


def question_unsupported(pipeline: Pipeline, question: str, judge: SupportJudge) -> list[str]:
    """Unsupported sentences of the pipeline's answer to a question, asked again now."""
    return unsupported(answer_citations(pipeline.ask(question), pipeline.store), judge)


def line_unsupported(line: AnswerLine, judge: SupportJudge, abstained: bool) -> list[str]:
    """Unsupported sentences of one scored answer (none for an abstention)."""
    return [] if abstained else unsupported(line_citations(line), judge)


def line_missing_facts(line: AnswerLine, judge: SupportJudge) -> list[str]:
    """Key facts a scored answer misses or, given a reference and no key facts, the reference claims it lacks."""
    answer = strip_markers(line.answer)
    if line.key_facts:
        return [fact for fact in line.key_facts if not fact_found(fact, answer)]
    claims = reference_claims(line.reference) if line.reference else []
    return [claim for claim in claims if not judge.supports(claim, answer)]
