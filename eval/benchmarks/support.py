"""How well the offline support scorer separates supporting from unrelated evidence, on COVID-QA.

Labelled pairs come from the annotated answer spans: the sentence holding an answer is the
claim; the passage holding the answer supports it (positive); a passage from another paper
(easy negative) or another passage of the same paper (hard negative, same topic and words)
does not; nor does the holding passage support the claim with one of its numbers changed
(wrong-number negative, the hallucination a numeric check should catch). AUROC says how
often a positive outscores a negative. Positives quote their passage verbatim, so the first
two separations are easy by construction; the same-paper and wrong-number ones are the test.
"""

from __future__ import annotations

import random
import re
from bisect import bisect_right
from pathlib import Path

from pydantic import Field
from tqdm import tqdm

from eval.benchmarks import covidqa
from eval.benchmarks.common import passages_of
from eval.metrics import auroc
from eval.report import now
from index.errors import InputError
from index.models import Passage, Record
from index.sentences import sentence_spans
from index.settings import Settings
from rag.support import SupportScorer

SEED = 13
_NUMBER_RE = re.compile(r"\d+")


class SupportBenchReport(Record):
    """Result of the support-scorer benchmark."""

    benchmark: str = "support"
    n_questions: int = Field(description="Questions that gave a labelled claim.")
    auroc_other_paper: float = Field(description="AUROC, positives against passages of other papers.")
    auroc_same_paper: float = Field(description="AUROC, positives against other passages of the same paper.")
    auroc_wrong_number: float | None = Field(description="AUROC, positives against their claim with a number changed.")
    threshold: float = Field(description="The scorer's decision threshold for `supports`.")
    supported_positive: float = Field(description="Share of positives the scorer calls supported (recall).")
    supported_other_paper: float = Field(description="Share of other-paper negatives called supported.")
    supported_same_paper: float = Field(description="Share of same-paper negatives called supported.")
    supported_wrong_number: float = Field(description="Share of wrong-number claims called supported.")
    semantic: bool = Field(description="Whether the scorer used MiniLM similarity (an embedder).")
    data: str
    created_at: str = Field(default_factory=now)


def labelled_pairs(
    path: Path, settings: Settings, limit: int | None = None, docs: int | None = None
) -> list[tuple[str, Passage, Passage, Passage | None]]:
    """(claim, supporting passage, other-paper passage, same-paper passage or None) per question."""
    articles, questions = covidqa.read_covidqa(path)
    articles = articles[:docs] if docs else articles
    documents, sources = covidqa.to_documents(articles)
    passages = passages_of(documents, covidqa.bench_settings(settings), sources)
    texts = {d.doc_id: d.text for d in documents}
    by_doc: dict[str, list[Passage]] = {}
    for passage in passages:
        by_doc.setdefault(passage.doc_id, []).append(passage)
    rng = random.Random(SEED)
    pairs = []
    for question in questions:
        doc_id = covidqa.doc_id(question.document_id)
        if doc_id not in by_doc or len(by_doc) < 2:
            continue
        spans = sentence_spans(texts[doc_id])
        starts = [start for start, _ in spans]
        index = bisect_right(starts, question.start) - 1
        if index < 0:
            continue
        start, end = spans[index]
        holding = [p for p in by_doc[doc_id] if p.start <= question.start < p.end]
        if not holding or end <= question.start:
            continue
        other_doc = rng.choice([d for d in by_doc if d != doc_id])
        elsewhere = [p for p in by_doc[doc_id] if p.end <= start or p.start >= end]
        same = rng.choice(elsewhere) if elsewhere else None
        pairs.append((texts[doc_id][start:end], holding[0], rng.choice(by_doc[other_doc]), same))
        if limit and len(pairs) >= limit:
            break
    return pairs


def wrong_number(claim: str) -> str:
    """The claim with its first number changed (7 -> 8, 2019 -> 2020)."""
    return _NUMBER_RE.sub(lambda m: str(int(m.group(0)) + 1), claim, count=1)


def separation(positives: list[float], negatives: list[float]) -> float:
    """AUROC of positive against negative scores."""
    return auroc(positives + negatives, [True] * len(positives) + [False] * len(negatives))


def run_support_bench(
    path: Path,
    settings: Settings,
    scorer: SupportScorer,
    limit: int | None = None,
    docs: int | None = None,
    progress: bool = False,
) -> SupportBenchReport:
    """Score every labelled pair and summarise the separation."""
    pairs = labelled_pairs(path, settings, limit, docs)
    if not pairs:
        raise InputError(path, "no labelled pairs: the slice needs at least two papers with questions")
    positive, other, same, wrong = [], [], [], []
    for claim, holding, elsewhere, same_paper in tqdm(pairs, desc="support pairs", disable=not progress):
        positive.append(scorer.score(claim, holding.text))
        other.append(scorer.score(claim, elsewhere.text))
        if same_paper is not None:
            same.append(scorer.score(claim, same_paper.text))
        if _NUMBER_RE.search(claim):
            wrong.append(scorer.score(wrong_number(claim), holding.text))

    def share(scores: list[float]) -> float:
        return sum(s >= scorer.threshold for s in scores) / len(scores) if scores else 0.0

    return SupportBenchReport(
        n_questions=len(pairs),
        auroc_other_paper=separation(positive, other),
        auroc_same_paper=separation(positive, same),
        auroc_wrong_number=separation(positive, wrong) if wrong else None,
        threshold=scorer.threshold,
        supported_positive=share(positive),
        supported_other_paper=share(other),
        supported_same_paper=share(same),
        supported_wrong_number=share(wrong),
        semantic=scorer.embedder is not None,
        data=str(path),
    )
