"""The Evaluate page's work, done with eval's public functions: runs, scoring and drill-downs.

Reports and charts are written by eval into a temporary folder, exactly as ``icrag eval run``
writes them, and kept in memory for display and download.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from eval.charts import metric_bars
from eval.metrics import CitedAnswer, SupportJudge
from eval.questions import load_questions
from eval.report import EvalReport, write_json
from eval.runner import cited_answer, run_questions, write_eval_report
from eval.scoring import AnswerLine, ScoreReport, load_answer_lines, score_answers
from eval.scoring import cited_answer as cited_line
from eval.text import fact_found
from index.errors import InputError
from rag.pipeline import Pipeline
from rag.support import strip_markers

RUN_MODE = "Run a question set"
SCORE_MODE = "Score an answers file"


@dataclass(frozen=True)
class EvalRun:
    """A question set answered by the pipeline: the report and its files by name."""

    report: EvalReport
    files: dict[str, bytes]


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


def run_question_set(
    path: Path, pipeline: Pipeline, judge: SupportJudge, label: str, limit: int | None = None
) -> EvalRun:
    """Answer the questions of a JSONL set and measure them, as ``icrag eval run`` does."""
    questions = load_questions(path)[:limit]
    report = run_questions(questions, pipeline, judge, label)
    with tempfile.TemporaryDirectory(prefix="icrag-report-") as out:
        return EvalRun(report, _read_all(write_eval_report(report, Path(out))))


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
    return unsupported(cited_answer(pipeline.ask(question), pipeline.store), judge)


def line_unsupported(line: AnswerLine, judge: SupportJudge, abstained: bool) -> list[str]:
    """Unsupported sentences of one scored answer (none for an abstention)."""
    return [] if abstained else unsupported(cited_line(line), judge)


def line_missing_facts(line: AnswerLine) -> list[str]:
    """Key facts of a scored answer that its text does not contain."""
    answer = strip_markers(line.answer)
    return [fact for fact in line.key_facts or [] if not fact_found(fact, answer)]
