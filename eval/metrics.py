"""Metrics as pure functions: each returns an overall value and one value per question.

Nothing here mutates its inputs or reads files; the runner and the benchmarks feed them.
A per-question value is None where a metric does not apply (retrieval metrics on a question
without gold evidence, key facts on an unanswerable question, citations on an abstention);
the overall value is the mean of the values that are not None, or None if there are none.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from functools import partial
from typing import Protocol

import numpy as np
from pydantic import ConfigDict, Field

from eval.text import fact_found, span_found
from index.markers import strip_markers
from index.models import Record, Role
from index.sentences import split_sentences
from rag.models import Answer

RANK_DEPTH = 10
#: Passages of icrag's ranking the one-sentence overlap baseline picks its sentence from (an answer's default top_k).
BASELINE_PASSAGES = 5
#: Best-scored sentences the reach figures read: about as many as a direct answer quotes.
REACH_DEPTH = 5


class Score(Record):
    """One metric over a question set."""

    overall: float | None = Field(description="Mean over the questions the metric applies to.")
    per_question: list[float | None] = Field(description="Value per question, in input order.")

    @classmethod
    def of(cls, values: Sequence[float | None]) -> Score:
        """A score from per-question values."""
        present = [v for v in values if v is not None]
        return cls(overall=float(np.mean(present)) if present else None, per_question=list(values))


class RetrievalValues(Record):
    """The five retrieval numbers of one question or one question set, under report.json's names."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    recall_at_1: float | None = Field(None, alias="recall@1", description="A gold unit in the top 1 (hit rate).")
    recall_at_5: float | None = Field(None, alias="recall@5", description="A gold unit in the top 5 (hit rate).")
    recall_at_10: float | None = Field(None, alias="recall@10", description="A gold unit in the top 10 (hit rate).")
    mrr_at_10: float | None = Field(None, alias="mrr@10", description="Reciprocal rank of the first gold unit.")
    ndcg_at_10: float | None = Field(None, alias="ndcg@10", description="nDCG of binary gold relevance.")


class RetrievalScores(Record):
    """Ranking quality of gold evidence: recall (hit rate) at 1/5/10, MRR@10 and nDCG@10."""

    recall_at_1: Score
    recall_at_5: Score
    recall_at_10: Score
    mrr_at_10: Score
    ndcg_at_10: Score

    def overall(self) -> RetrievalValues:
        """The overall values."""
        return RetrievalValues(**{name: getattr(self, name).overall for name in RetrievalValues.model_fields})

    def of_question(self, i: int) -> RetrievalValues:
        """The values of question ``i``."""
        return RetrievalValues(**{name: getattr(self, name).per_question[i] for name in RetrievalValues.model_fields})


def gold_ranks(ranked: Sequence[str], gold: Collection[str]) -> list[int]:
    """1-based ranks at which a gold unit appears for the first time.

    A unit is what counts as one piece of evidence (a passage, a page, a document); several
    retrieved passages of the same unit earn credit once, at the first of them.
    """
    seen: set[str] = set()
    ranks = []
    for rank, unit in enumerate(ranked, start=1):
        if unit in gold and unit not in seen:
            seen.add(unit)
            ranks.append(rank)
    return ranks


def recall_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """1 if a gold unit is in the top k, else 0: averaged, the share of questions whose evidence is found.

    This is how answer-passage recall is usually reported for question answering (and how the
    COVID-QA baselines were measured); nDCG@10 adds how much of a larger gold set ranks high.
    """
    return 1.0 if any(rank <= k for rank in gold_ranks(ranked, gold)) else 0.0


def mrr_at_k(ranked: Sequence[str], gold: Collection[str], k: int = RANK_DEPTH) -> float:
    """Reciprocal rank of the first gold unit in the top k, 0 if none."""
    ranks = [r for r in gold_ranks(ranked, gold) if r <= k]
    return 1.0 / ranks[0] if ranks else 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Collection[str], k: int = RANK_DEPTH) -> float:
    """Normalised discounted cumulative gain of binary relevance in the top k."""
    dcg = sum(1.0 / math.log2(r + 1) for r in gold_ranks(ranked, gold) if r <= k)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(k, len(set(gold))) + 1))
    return dcg / ideal


def retrieval_scores(rankings: Sequence[Sequence[str]], golds: Sequence[Collection[str]]) -> RetrievalScores:
    """Retrieval metrics per question from ranked unit ids and gold unit ids (None without gold)."""
    if len(rankings) != len(golds):
        raise ValueError(f"{len(rankings)} rankings but {len(golds)} gold sets")

    def each(metric: Callable[[Sequence[str], Collection[str]], float]) -> Score:
        return Score.of([metric(r, g) if g else None for r, g in zip(rankings, golds, strict=True)])

    return RetrievalScores(
        recall_at_1=each(partial(recall_at_k, k=1)),
        recall_at_5=each(partial(recall_at_k, k=5)),
        recall_at_10=each(partial(recall_at_k, k=10)),
        mrr_at_10=each(partial(mrr_at_k, k=RANK_DEPTH)),
        ndcg_at_10=each(partial(ndcg_at_k, k=RANK_DEPTH)),
    )


def key_fact_recall(answers: Sequence[str], key_facts: Sequence[Sequence[str] | None]) -> Score:
    """Share of each question's key facts found in its answer (None where no facts apply)."""
    if len(answers) != len(key_facts):
        raise ValueError(f"{len(answers)} answers but {len(key_facts)} key-fact lists")
    values: list[float | None] = []
    for answer, facts in zip(answers, key_facts, strict=True):
        values.append(sum(fact_found(f, answer) for f in facts) / len(facts) if facts else None)
    return Score.of(values)


class SupportJudge(Protocol):
    """Decides whether evidence supports a claim: rag.support.SupportScorer or eval.judge.LLMJudge."""

    #: What judged, recorded in reports ("offline", or the chat model and prompt version).
    name: str

    def supports(self, claim: str, evidence: str) -> bool:
        """Whether the evidence supports the claim."""
        ...


class CitedSentence(Record):
    """One answer sentence and the texts of the passages it cites."""

    text: str = Field(description="Sentence text without citation markers.")
    evidence: list[str] = Field(default_factory=list, description="Texts of the cited passages.")


class CitedAnswer(Record):
    """An answer as the citation metrics see it."""

    sentences: list[CitedSentence] = Field(description="The answer's sentences with their evidence.")
    numbered: bool = Field(
        True,
        description="False when the answer has no [n] markers and every sentence stands against all contexts; "
        "citation precision is then undefined.",
    )


class CitationScores(Record):
    """ALCE-style citation recall (support) and precision."""

    support: Score = Field(description="Share of sentences entailed by their cited passages together.")
    precision: Score = Field(description="Share of citations that support, or are needed to support, their sentence.")


def citation_scores(answers: Sequence[CitedAnswer | None], judge: SupportJudge) -> CitationScores:
    """Citation support and precision per answer, as in ALCE (Gao et al., 2023).

    A sentence is supported when its cited passages, joined, support it; a sentence without
    citations is unsupported. A citation is precise when its sentence is supported and the
    citation either supports it alone or is needed (the others alone do not). None marks
    abstentions and answers without sentences (or, for precision, without citations).
    """
    support: list[float | None] = []
    precision: list[float | None] = []
    for answer in answers:
        if answer is None or not answer.sentences:
            support.append(None)
            precision.append(None)
            continue
        supported = 0
        precise = 0
        n_citations = 0
        for sentence in answer.sentences:
            joint = bool(sentence.evidence) and judge.supports(sentence.text, "\n\n".join(sentence.evidence))
            supported += joint
            n_citations += len(sentence.evidence)
            if not joint:
                continue
            for i, evidence in enumerate(sentence.evidence):
                others = sentence.evidence[:i] + sentence.evidence[i + 1 :]
                alone = judge.supports(sentence.text, evidence)
                needed = not others or not judge.supports(sentence.text, "\n\n".join(others))
                precise += alone or needed
        support.append(supported / len(answer.sentences))
        precision.append(precise / n_citations if answer.numbered and n_citations else None)
    return CitationScores(support=Score.of(support), precision=Score.of(precision))


class AbstentionScores(Record):
    """How well an answerer declines: on unanswerable questions, and wrongly on answerable ones."""

    recall: Score = Field(description="Per unanswerable question: 1 if it declined, else 0.")
    false_rate: Score = Field(description="Per answerable question: 1 if it declined, else 0.")


def abstention_scores(abstained: Sequence[bool], answerable: Sequence[bool]) -> AbstentionScores:
    """Abstention recall on unanswerable questions and false abstention rate on answerable ones."""
    if len(abstained) != len(answerable):
        raise ValueError(f"{len(abstained)} answers but {len(answerable)} answerability flags")
    pairs = list(zip(abstained, answerable, strict=True))
    return AbstentionScores(
        recall=Score.of([None if ok else float(a) for a, ok in pairs]),
        false_rate=Score.of([float(a) if ok else None for a, ok in pairs]),
    )


class Latency(Record):
    """Latency percentiles in milliseconds."""

    p50: float | None = Field(description="Median.")
    p95: float | None = Field(description="95th percentile (linear interpolation).")
    p99: float | None = Field(None, description="99th percentile (linear interpolation).")


def latency_percentiles(milliseconds: Sequence[float]) -> Latency:
    """p50, p95 and p99 of a list of latencies (None for an empty list)."""
    if not milliseconds:
        return Latency(p50=None, p95=None)
    p50, p95, p99 = np.percentile(np.asarray(milliseconds, dtype=float), [50, 95, 99])
    return Latency(p50=float(p50), p95=float(p95), p99=float(p99))


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve: the chance a positive outscores a negative, ties counting half."""
    values = np.asarray(scores, dtype=float)
    truth = np.asarray(labels, dtype=bool)
    positives, negatives = values[truth], values[~truth]
    if not len(positives) or not len(negatives):
        raise ValueError("AUROC needs at least one positive and one negative")
    greater = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positives) * len(negatives)))


def reference_claims(reference: str) -> list[str]:
    """The claims of a reference answer, one per sentence: what its answer must support."""
    return split_sentences(reference)


def reference_recall(answers: Sequence[str], references: Sequence[str | None], judge: SupportJudge) -> Score:
    """Share of each reference answer's sentences that its answer supports (None without a reference).

    The stand-in for key facts when only a reference answer is given (RAGAS's ``reference``).
    """
    if len(answers) != len(references):
        raise ValueError(f"{len(answers)} answers but {len(references)} references")
    values: list[float | None] = []
    for answer, reference in zip(answers, references, strict=True):
        claims = reference_claims(reference) if reference else []
        values.append(sum(judge.supports(c, answer) for c in claims) / len(claims) if claims else None)
    return Score.of(values)


def by_group(values: Sequence[float | None], groups: Sequence[str]) -> dict[str, float | None]:
    """Mean of the present values of each group (None where none applies), groups in first-seen order."""
    if len(values) != len(groups):
        raise ValueError(f"{len(values)} values but {len(groups)} group labels")
    members: dict[str, list[float | None]] = defaultdict(list)
    for value, group in zip(values, groups, strict=True):
        members[group].append(value)
    return {group: Score.of(group_values).overall for group, group_values in members.items()}


def source_coverage(answers: Sequence[Answer], gold_sources: Sequence[Collection[str]]) -> Score:
    """Share of each question's gold publications its answer cites: how widely an answer draws on the evidence.

    None where the question names no publications or the answer abstained.
    """
    if len(answers) != len(gold_sources):
        raise ValueError(f"{len(answers)} answers but {len(gold_sources)} source lists")
    values: list[float | None] = []
    for answer, gold in zip(answers, gold_sources, strict=True):
        wanted = set(gold)
        cited = {c.source_id for c in answer.citations}
        values.append(None if answer.abstained or not wanted else len(wanted & cited) / len(wanted))
    return Score.of(values)


class Pool(Record):
    """A candidate pool as the coverage metrics see it: its publications and its sentences' texts."""

    sources: list[str] = Field(description="Publications of the pooled passages.")
    sentences: list[str] = Field(description="Texts of the sentence units of the pooled passages.")


class PoolScores(Record):
    """How much of what a question needs the candidate pool holds: the ceiling of any extractive answer."""

    sources: Score = Field(description="Share of the question's gold publications with a passage in the pool.")
    facts: Score = Field(description="Share of the question's key facts stated by some single pooled sentence.")


def pool_coverage(
    pools: Sequence[Pool | None], gold_sources: Sequence[Collection[str]], key_facts: Sequence[Sequence[str] | None]
) -> PoolScores:
    """Publications and key facts within reach of each answer's candidate pool.

    A fact is within reach when one sentence states it whole, since an extractive answer quotes
    sentences. None where the answerer reported no pool, or the question has no gold publications
    (for sources) or no key facts (for facts).
    """
    if not len(pools) == len(gold_sources) == len(key_facts):
        raise ValueError(f"{len(pools)} pools, {len(gold_sources)} source lists and {len(key_facts)} key-fact lists")
    sources: list[float | None] = []
    facts: list[float | None] = []
    for pool, gold, wanted in zip(pools, gold_sources, key_facts, strict=True):
        gold_set = set(gold)
        if pool is None or not gold_set:
            sources.append(None)
        else:
            sources.append(len(gold_set & set(pool.sources)) / len(gold_set))
        if pool is None or not wanted:
            facts.append(None)
        else:
            facts.append(sum(facts_in_reach(wanted, pool.sentences)) / len(wanted))
    return PoolScores(sources=Score.of(sources), facts=Score.of(facts))


def facts_in_reach(facts: Sequence[str], sentences: Sequence[str]) -> list[bool]:
    """Per fact, whether some single sentence states it."""
    return [any(fact_found(fact, sentence) for sentence in sentences) for fact in facts]


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def sides_covered(answer: Answer, gold_sources: Collection[str]) -> float:
    """1.0 when a comparison answer speaks for every side and draws on two gold publications, else 0.0.

    A side is covered when a section whose heading names it holds a cited sentence and no gap
    names it; an answer that found no sides has not compared. When the question has two or
    more gold publications, the answer must cite at least two of them.
    """
    sides = answer.intent.sides if answer.intent is not None else []
    cited_headings = [_key(s.heading) for s in answer.sections if any(x.citations for x in s.sentences)]
    gaps = [_key(g.part) for g in answer.gaps]

    def covered(label: str) -> bool:
        return any(label in h for h in cited_headings) and not any(label in g for g in gaps)

    gold = set(gold_sources)
    cited_gold = gold & {c.source_id for c in answer.citations}
    return float(bool(sides) and all(covered(_key(s.label)) for s in sides) and len(cited_gold) >= min(2, len(gold)))


def comparison_sides(
    answers: Sequence[Answer], comparisons: Sequence[bool], gold_sources: Sequence[Collection[str]]
) -> Score:
    """Per comparison question that did not abstain, whether its answer covers every side (see sides_covered)."""
    if not len(answers) == len(comparisons) == len(gold_sources):
        raise ValueError(f"{len(answers)} answers, {len(comparisons)} flags and {len(gold_sources)} source lists")
    return Score.of(
        [
            sides_covered(a, gold) if is_comparison and not a.abstained else None
            for a, is_comparison, gold in zip(answers, comparisons, gold_sources, strict=True)
        ]
    )


def noise(answers: Sequence[Answer], asked: Sequence[Collection[Role] | None]) -> Score:
    """Share of each answer's cited sentences that quote only text of roles its question did not ask for.

    Titles, publication details, scope notes, aims or methods quoted where findings were asked
    for crowd out the answer. None for an abstention, a question with no asked roles
    (unanswerable), or an answer whose citations carry no role (an answerer that does not tag
    roles); a citation without a role counts as not asked for.
    """
    if len(answers) != len(asked):
        raise ValueError(f"{len(answers)} answers but {len(asked)} role sets")
    values: list[float | None] = []
    for answer, roles in zip(answers, asked, strict=True):
        role_of = {c.n: c.role for c in answer.citations}
        cited = [s for s in answer.sentences if s.citations]
        if answer.abstained or roles is None or not cited or all(r is None for r in role_of.values()):
            values.append(None)
            continue
        noisy = sum(not any(role_of.get(n) in roles for n in s.citations) for s in cited)
        values.append(noisy / len(cited))
    return Score.of(values)


class SpanScores(Record):
    """Answer-level figures of a system on span-annotated questions (COVID-QA)."""

    contains: Score = Field(description="1 when the answer contains the annotated span, else 0 (0 for abstentions).")
    first_contains: Score = Field(description="The same for the answer's first sentence.")
    words: list[int | None] = Field(description="Length in words of each answer; None for an abstention.")
    median_words: float | None = Field(description="Median length in words of the answers that did not abstain.")


def span_scores(
    spans: Sequence[str], answers: Sequence[str | None], first_sentences: Sequence[str | None]
) -> SpanScores:
    """Whether each answer, and its first sentence, contains its question's annotated span (None: abstained).

    The first sentence is what a reader sees first: an answer that holds the span only in its
    seventh sentence answers less well than one that opens with it.
    """
    if not len(spans) == len(answers) == len(first_sentences):
        raise ValueError(f"{len(spans)} spans, {len(answers)} answers and {len(first_sentences)} first sentences")

    def contains(texts: Sequence[str | None]) -> Score:
        return Score.of([float(t is not None and span_found(s, t)) for s, t in zip(spans, texts, strict=True)])

    words = [None if a is None else len(strip_markers(a).split()) for a in answers]
    lengths = [n for n in words if n is not None]
    return SpanScores(
        contains=contains(answers),
        first_contains=contains(first_sentences),
        words=words,
        median_words=float(statistics.median(lengths)) if lengths else None,
    )


class SentenceReach(Record):
    """How many questions the k best-scored sentences answer, before an answer is shaped from them.

    The ceiling a better ordering of the answerer's own sentences could reach: for k = 1 the first
    sentence, for larger k an answer of k sentences, at the length those k sentences have.
    """

    k: int = Field(ge=1, description="Number of best-scored sentences read together.")
    contains: float | None = Field(description="Share of questions whose k best sentences contain the span.")
    median_words: float | None = Field(description="Median length in words of the k best sentences together.")


def sentence_reach(
    spans: Sequence[str], ranked: Sequence[Sequence[str]], depth: int = REACH_DEPTH
) -> list[SentenceReach]:
    """For k = 1 … ``depth``: whether each question's k best-scored sentences contain its annotated span."""
    if len(spans) != len(ranked):
        raise ValueError(f"{len(spans)} spans and {len(ranked)} rankings")
    reach = []
    for k in range(1, depth + 1):
        texts = [" ".join(sentences[:k]) for sentences in ranked]
        found = [float(span_found(s, t)) if t else 0.0 for s, t in zip(spans, texts, strict=True)]
        lengths = [len(t.split()) for t in texts if t]
        reach.append(
            SentenceReach(
                k=k,
                contains=float(np.mean(found)) if found else None,
                median_words=float(statistics.median(lengths)) if lengths else None,
            )
        )
    return reach
