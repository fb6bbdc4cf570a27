"""``icrag eval run``: ask the pipeline every question of a set and measure the answers."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from eval.charts import latency_boxes, metric_bars
from eval.metrics import (
    RANK_DEPTH,
    CitedAnswer,
    CitedSentence,
    SupportJudge,
    abstention_scores,
    citation_scores,
    key_fact_recall,
    latency_percentiles,
    retrieval_scores,
)
from eval.questions import Question, gold_passage_ids
from eval.report import AnswerValues, EvalReport, QuestionResult, eval_markdown, write_json
from eval.text import fact_found
from index.store import IndexStore
from rag.models import Answer
from rag.pipeline import Pipeline


def cited_answer(answer: Answer, store: IndexStore) -> CitedAnswer | None:
    """An icrag answer's sentences with the full texts of the passages they cite (None if abstained)."""
    if answer.abstained:
        return None
    by_number = {c.n: c for c in answer.citations}

    def evidence(n: int) -> str:
        citation = by_number.get(n)
        if citation is None:
            return ""  # a marker without a citation supports nothing
        position = store.position.get(citation.passage_id)
        return store.passages[position].text if position is not None else citation.quote

    return CitedAnswer(
        sentences=[CitedSentence(text=s.text, evidence=[evidence(n) for n in s.citations]) for s in answer.sentences]
    )


def run_questions(
    questions: Sequence[Question],
    pipeline: Pipeline,
    judge: SupportJudge,
    questions_file: str = "",
    progress: bool = False,
) -> EvalReport:
    """Answer and retrieve for every question, then compute every metric of the report."""
    store = pipeline.store
    answers: list[Answer] = []
    rankings: list[list[str]] = []
    latencies: list[float] = []
    for question in tqdm(questions, desc="questions", unit="q", disable=not progress):
        started = time.perf_counter()
        answers.append(pipeline.ask(question.question))
        latencies.append((time.perf_counter() - started) * 1000)
        hits = pipeline.retrieve(question.question, top_k=RANK_DEPTH)
        rankings.append([hit.passage.passage_id for hit in hits])
    golds = [gold_passage_ids(q, store.passages) for q in questions]
    retrieval = retrieval_scores(rankings, [set(g) for g in golds])
    facts = [q.key_facts if q.answerable else None for q in questions]
    fact_scores = key_fact_recall([a.answer for a in answers], facts)
    citations = citation_scores([cited_answer(a, store) for a in answers], judge)
    abstention = abstention_scores([a.abstained for a in answers], [q.answerable for q in questions])
    per_question = [
        QuestionResult(
            id=q.id,
            type=q.type,
            persona=q.persona,
            question=q.question,
            answer=a.answer,
            abstained=a.abstained,
            answerable=q.answerable,
            gold=golds[i],
            retrieved=rankings[i],
            retrieval=retrieval.of_question(i),
            key_fact_recall=fact_scores.per_question[i],
            facts_missing=[f for f in facts[i] or [] if not fact_found(f, a.answer)],
            citation_support=citations.support.per_question[i],
            citation_precision=citations.precision.per_question[i],
            latency_ms=latencies[i],
        )
        for i, (q, a) in enumerate(zip(questions, answers, strict=True))
    ]
    return EvalReport(
        n_questions=len(questions),
        settings_hash=pipeline.settings.settings_hash(),
        judge=judge.name,
        retrieval=retrieval.overall(),
        answers=AnswerValues(
            key_fact_recall=fact_scores.overall,
            citation_support=citations.support.overall,
            citation_precision=citations.precision.overall,
            abstention_recall=abstention.recall.overall,
            false_abstention_rate=abstention.false_rate.overall,
        ),
        latency_ms=latency_percentiles(latencies),
        per_question=per_question,
        questions_file=questions_file,
        index_dir=str(pipeline.settings.index_dir),
        missing_gold=[q.id for q, g in zip(questions, golds, strict=True) if q.answerable and not g],
        settings=pipeline.settings.result_settings(),
    )


def write_eval_report(report: EvalReport, out_dir: Path) -> list[Path]:
    """report.json, report.md and the charts of an evaluation run."""
    json_path = write_json(report, out_dir)
    markdown = out_dir / "report.md"
    markdown.write_text(eval_markdown(report), encoding="utf-8")
    metrics = {"icrag": {**report.retrieval.model_dump(by_alias=True), **report.answers.model_dump()}}
    return [
        json_path,
        markdown,
        metric_bars(metrics, out_dir / "metrics.png", f"icrag on {Path(report.questions_file).name}"),
        latency_boxes({"icrag": [q.latency_ms for q in report.per_question]}, out_dir / "latency.png", "ask latency"),
    ]
