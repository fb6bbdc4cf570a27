"""``icrag eval run``: ask the pipeline every question of a set and measure the answers."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from eval.charts import latency_boxes, metric_bars
from eval.cited import cited_answer
from eval.metrics import (
    RANK_DEPTH,
    CitedAnswer,
    Pool,
    SupportJudge,
    abstention_scores,
    by_group,
    citation_scores,
    comparison_sides,
    facts_in_reach,
    key_fact_recall,
    latency_percentiles,
    noise,
    pool_coverage,
    retrieval_scores,
    source_coverage,
)
from eval.questions import TYPE_INTENTS, Question, gold_passage_ids
from eval.report import (
    AnswerValues,
    Declined,
    EvalReport,
    QuestionResult,
    TypeValues,
    eval_markdown,
    write_json,
)
from eval.text import fact_found
from index.models import Role
from index.store import IndexStore
from rag.intent import asked_roles
from rag.models import Answer
from rag.pipeline import Pipeline


def answer_citations(answer: Answer, store: IndexStore) -> CitedAnswer | None:
    """An icrag answer's sentences with the full texts of the passages they cite (None if abstained).

    A passage no longer in the index is cited by its quote.
    """
    if answer.abstained:
        return None
    texts: dict[int, str] = {}
    for citation in answer.citations:
        position = store.position.get(citation.passage_id)
        texts[citation.n] = store.passages[position].text if position is not None else citation.quote
    return cited_answer([(s.text, s.citations) for s in answer.sentences], texts)


def considered_pool(answer: Answer, store: IndexStore) -> Pool:
    """The publications and sentence texts of the passages an answer considered (what it could quote)."""
    sentences: list[str] = []
    for considered in answer.considered:
        position = store.position.get(considered.passage_id)
        if position is not None:
            text = store.passages[position].text
            sentences += [text[start:end] for start, end in store.sentences(position).spans]
    return Pool(sources=sorted({c.source_id for c in answer.considered}), sentences=sentences)


def ask_and_rank(pipeline: Pipeline, question: str) -> tuple[Answer, list[str], float]:
    """The answer, the ids of the top RANK_DEPTH passages (best first) and the answer's wall time in ms.

    The question is read (embedded) once; the ranking is retrieved apart from the answer because
    recall@10 needs more passages than an answer is given.
    """
    started = time.perf_counter()
    query = pipeline.query(question)
    answer = pipeline.ask(query)
    latency = (time.perf_counter() - started) * 1000
    hits = pipeline.retrieve(query, top_k=RANK_DEPTH)
    return answer, [hit.passage.passage_id for hit in hits], latency


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
        answer, ranking, latency = ask_and_rank(pipeline, question.question)
        answers.append(answer)
        rankings.append(ranking)
        latencies.append(latency)
    golds = [gold_passage_ids(q, store.passages) for q in questions]
    retrieval = retrieval_scores(rankings, [set(g) for g in golds])
    facts = [q.key_facts if q.answerable else None for q in questions]
    fact_scores = key_fact_recall([a.answer for a in answers], facts)
    citations = citation_scores([answer_citations(a, store) for a in answers], judge)
    abstained = [a.abstained for a in answers]
    abstention = abstention_scores(abstained, [q.answerable for q in questions])
    sources = [q.sources for q in questions]
    # An answerer that reports no pool at all is not measured on it; one that does is measured on every answer.
    pool_reported = any(a.considered for a in answers)
    pools = [considered_pool(a, store) if pool_reported else None for a in answers]
    pool = pool_coverage(pools, sources, facts)
    shape = {
        "source_coverage": source_coverage(answers, sources),
        "pool_source_coverage": pool.sources,
        "pool_fact_coverage": pool.facts,
        "comparison_sides": comparison_sides(answers, [q.type == "comparison" for q in questions], sources),
        "noise": noise(answers, [_asked(q) for q in questions]),
    }
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
            intent=a.intent.intent if a.intent is not None else None,
            form=a.form,
            facts_out_of_pool=_out_of_reach(facts[i], pools[i]),
            **{name: score.per_question[i] for name, score in shape.items()},
        )
        for i, (q, a) in enumerate(zip(questions, answers, strict=True))
    ]
    types = [q.type for q in questions]
    per_type = {
        "key_fact_recall": by_group(fact_scores.per_question, types),
        "declined": by_group([float(a) for a in abstained], types),
        **{name: by_group(score.per_question, types) for name, score in shape.items()},
    }
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
            **{name: score.overall for name, score in shape.items()},
        ),
        latency_ms=latency_percentiles(latencies),
        per_question=per_question,
        questions_file=questions_file,
        index_dir=str(pipeline.settings.index_dir),
        missing_gold=[q.id for q, g in zip(questions, golds, strict=True) if q.answerable and not g],
        settings=pipeline.settings.result_settings(),
        by_type={
            kind: TypeValues(n=n, **{name: values[kind] for name, values in per_type.items()})
            for kind, n in Counter(types).items()
        },
        declined=Declined.count(abstained, [q.answerable for q in questions]),
    )


def _asked(question: Question) -> frozenset[Role] | None:
    """The roles of text a question asks for: its gold type's, and those its words name ("which
    databases", "under what licence"); None for an unanswerable one."""
    intent = TYPE_INTENTS[question.type]
    return asked_roles(intent, question.question) if intent is not None else None


def _out_of_reach(facts: list[str] | None, pool: Pool | None) -> list[str]:
    """Key facts no single sentence of the pool states (none when the pool is unknown)."""
    if not facts or pool is None:
        return []
    return [f for f, found in zip(facts, facts_in_reach(facts, pool.sentences), strict=True) if not found]


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
