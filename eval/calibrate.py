"""``icrag eval calibrate``: fit the abstention thresholds on question sets, and show why.

Each question's abstention evidence (rag.abstention) is read once; each threshold is then
set, in turn, to the cut that best separates answerable from unanswerable questions
(balanced accuracy: the mean of the share of unanswerable ones declined and the share of
answerable ones answered), at the middle of the widest gap between the two groups' values so
the cut is not pressed against any one question. Fitting uses the bundled dev, extra dev and
policy dev sets; the public benchmarks are test sets and are never used.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import Field
from tqdm import tqdm

from eval.questions import Question
from index.models import Record
from index.settings import Settings
from rag.abstention import AbstentionEvidence, decides
from rag.pipeline import Pipeline

#: Rounds of fitting each threshold with the others held: two settle them.
ROUNDS = 2
#: How far past the lowest or highest value a cut that declines none, or all, is placed.
OUTSIDE = 0.05


class CalibrationItem(Record):
    """One question with the evidence its abstention is decided on."""

    set: str = Field(description="File name of the question set.")
    id: str = Field(description="Question id.")
    answerable: bool = Field(description="Whether the corpus holds the answer.")
    evidence: AbstentionEvidence = Field(description="What the abstention rules read.")
    declined: bool = Field(description="Whether it is declined under the fitted thresholds.")


class SetResult(Record):
    """How one question set fares under the fitted thresholds."""

    set: str
    unanswerable_declined: int
    unanswerable: int
    answerable_declined: int
    answerable: int


class CalibrationReport(Record):
    """Fitted thresholds, how each set fares under them, and every question's evidence."""

    abstain_threshold: float = Field(description="Fitted ICRAG_ABSTAIN_THRESHOLD.")
    scope_note_margin: float = Field(description="Fitted ICRAG_SCOPE_NOTE_MARGIN.")
    uncovered_gain: float = Field(description="Fitted ICRAG_UNCOVERED_GAIN.")
    balanced_accuracy: float = Field(description="Mean of unanswerable declined and answerable answered, all sets.")
    sets: list[SetResult]
    questions: list[CalibrationItem]


def read_evidence(
    question_sets: Sequence[tuple[str, Sequence[Question]]], pipeline: Pipeline, progress: bool = False
) -> list[tuple[str, Question, AbstentionEvidence]]:
    """The abstention evidence of every question, read through the pipeline's own stages."""
    found = []
    for name, questions in question_sets:
        for question in tqdm(questions, desc=name, unit="q", disable=not progress):
            query = pipeline.query(question.question)
            found.append((name, question, pipeline.extractive.abstention_evidence(query, pipeline.pool(query))))
    return found


def balanced_accuracy(items: Sequence[tuple[bool, bool]]) -> float:
    """Mean of the share of unanswerable questions declined and of answerable ones answered.

    Each item is (answerable, declined).
    """
    unanswerable = [declined for answerable, declined in items if not answerable]
    answerable = [not declined for answerable, declined in items if answerable]
    shares = [sum(group) / len(group) for group in (unanswerable, answerable) if group]
    return sum(shares) / len(shares) if shares else 0.0


def _fit(
    evidence: Sequence[tuple[bool, AbstentionEvidence]],
    settings: Settings,
    name: str,
    value: Callable[[AbstentionEvidence], float],
) -> float:
    """The threshold for one setting that best separates the questions, at the middle of its widest gap
    between the questions it decides; when those are all of one kind, its value, or the nearest that serves them."""
    every = sorted({value(e) for _, e in evidence})
    if not every:
        return float(getattr(settings, name))
    # The questions this setting decides: another rule declines the rest whatever its value, or (a
    # comparison's scope note) it never applies, so they say nothing about where its cut belongs.
    lowest = settings.model_copy(update={name: every[0] - OUTSIDE})
    highest = settings.model_copy(update={name: every[-1] + OUTSIDE})
    hanging = [(ok, e) for ok, e in evidence if decides(e, lowest) != decides(e, highest)] or list(evidence)
    decided = [e for _, e in hanging]
    values = sorted({value(e) for e in decided})
    # Between every two neighbouring values, and past both ends (so every question may fall on one side).
    cuts = [(a + b) / 2 for a, b in itertools.pairwise(values)] + [values[0] - OUTSIDE, values[-1] + OUTSIDE]
    field = Settings.model_fields[name].metadata
    low = next((m.ge for m in field if hasattr(m, "ge")), None)
    high = next((m.le for m in field if hasattr(m, "le")), None)
    cuts = [c for c in cuts if (low is None or c >= low) and (high is None or c <= high)] or [getattr(settings, name)]

    def accuracy(cut: float) -> float:
        trial = settings.model_copy(update={name: cut})
        return balanced_accuracy([(ok, decides(e, trial)) for ok, e in evidence])

    if len({ok for ok, _ in hanging}) == 1:
        # Only one kind of question hangs on this setting (the other rules decline every unanswerable one, say):
        # they show where its cut must not go, not where it belongs between the kinds. It keeps its value, or
        # moves to the nearest that serves them as well as any.
        current = float(getattr(settings, name))
        accuracies = {cut: accuracy(cut) for cut in [*cuts, current]}
        best = max(accuracies.values())
        return min((cut for cut, a in accuracies.items() if a == best), key=lambda cut: abs(cut - current))

    def score(cut: float) -> tuple[float, float]:
        gap = min((abs(value(e) - cut) for e in decided), default=0.0)
        return accuracy(cut), gap

    return max(cuts, key=score)


def calibrate(
    found: Sequence[tuple[str, Question, AbstentionEvidence]],
    settings: Settings,
    scope: Sequence[tuple[str, Question, AbstentionEvidence]] = (),
) -> CalibrationReport:
    """Fit ``abstain_threshold``, ``scope_note_margin`` and ``uncovered_gain`` and report every set under them.

    Questions on subjects the corpus never discusses (``scope``) fit only ``uncovered_gain``, the threshold of
    the rule written for them: written to probe that rule, they would otherwise move the others to wherever
    they happen to score.
    """
    evidence = [(q.answerable, e) for _, q, e in found]
    with_scope = evidence + [(q.answerable, e) for _, q, e in scope]
    fitted = settings
    for _ in range(ROUNDS):
        threshold = _fit(evidence, fitted, "abstain_threshold", lambda e: e.best_score)
        fitted = fitted.model_copy(update={"abstain_threshold": round(threshold, 3)})
        margin = _fit(evidence, fitted, "scope_note_margin", lambda e: e.note_margin)
        fitted = fitted.model_copy(update={"scope_note_margin": round(margin, 3)})
        gain = _fit(with_scope, fitted, "uncovered_gain", lambda e: e.uncovered_gain)
        fitted = fitted.model_copy(update={"uncovered_gain": round(gain, 3)})
    items = [
        CalibrationItem(set=name, id=q.id, answerable=q.answerable, evidence=e, declined=decides(e, fitted))
        for name, q, e in [*found, *scope]
    ]
    sets = []
    for name in dict.fromkeys(i.set for i in items):
        own = [i for i in items if i.set == name]
        sets.append(
            SetResult(
                set=name,
                unanswerable_declined=sum(i.declined for i in own if not i.answerable),
                unanswerable=sum(not i.answerable for i in own),
                answerable_declined=sum(i.declined for i in own if i.answerable),
                answerable=sum(i.answerable for i in own),
            )
        )
    return CalibrationReport(
        abstain_threshold=fitted.abstain_threshold,
        scope_note_margin=fitted.scope_note_margin,
        uncovered_gain=fitted.uncovered_gain,
        balanced_accuracy=balanced_accuracy([(i.answerable, i.declined) for i in items]),
        sets=sets,
        questions=items,
    )


def write_calibration(report: CalibrationReport, out_dir: Path) -> Path:
    """calibration.json in the output folder."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "calibration.json"
    path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return path
